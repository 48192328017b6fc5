//! An in-process meeting: a [`Room`] and str0m client peers on an emulated network with a fake
//! clock. No sockets, no tokio, no wall clock: every run is the same.

#![allow(dead_code)] // each test file uses a different part of the harness

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sfu::room::{Room, RoomEvent, peer_rtc};
use sfu::{ParticipantId, RoomId};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::crypto::CryptoProvider;
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, Mid, Pt};
use str0m::net::{Protocol, Receive, Transmit};
use str0m::rtp::RtpWrite;
use str0m::{Candidate, Event, Input, Output, Rtc};

pub const SERVER: &str = "10.0.0.1:50000";

pub struct Client {
    pub participant: ParticipantId,
    pub addr: SocketAddr,
    pub rtc: Rtc,
    pub audio: Option<Mid>,
    pub video: Option<Mid>,
    seq_audio: u64,
    seq_video: u64,
    /// Received RTP per SSRC: (sequence number, payload type), in arrival order.
    pub received: HashMap<u32, Vec<(u16, u8)>>,
    /// The payload of the first packet received on each SSRC.
    pub first_payload: HashMap<u32, Vec<u8>>,
    /// Which media kind each received SSRC carries.
    pub received_kind: HashMap<u32, MediaKind>,
    pub keyframe_requests: usize,
    /// A keyframe was asked for: the next video frame is one, as a real encoder would do.
    keyframe_due: bool,
    /// False: an encoder that ignores keyframe requests and only sends its periodic keyframes.
    pub answers_keyframe_requests: bool,
    pub offers_received: usize,
    pub stopped_media: usize,
}

impl Client {
    fn pt(&self, codec: Codec) -> Pt {
        self.rtc
            .codec_config()
            .find(|p| p.spec().codec == codec)
            .expect("codec configured")
            .pt()
    }

    pub fn packets_of(&self, kind: MediaKind) -> Vec<&Vec<(u16, u8)>> {
        self.received
            .iter()
            .filter(|(ssrc, _)| self.received_kind.get(ssrc) == Some(&kind))
            .map(|(_, v)| v)
            .collect()
    }
}

/// Sequence-number gaps in arrival order (wrapping at 65 536).
pub fn gaps(packets: &[(u16, u8)]) -> usize {
    packets
        .windows(2)
        .filter(|w| w[1].0 != w[0].0.wrapping_add(1))
        .count()
}

pub struct Meeting {
    pub now: Instant,
    pub room: Room,
    pub clients: Vec<Client>,
    crypto: Arc<CryptoProvider>,
    server: SocketAddr,
    /// Datagrams the server sent, by destination, and their count.
    pub server_sources: HashMap<SocketAddr, usize>,
    /// Datagrams the clients sent, not yet delivered to the server.
    to_server: VecDeque<Transmit>,
    /// Share of SRTP/SRTCP datagrams lost on a client's link, per direction.
    loss: HashMap<(SocketAddr, Link), f64>,
    /// Deterministic random numbers for loss (xorshift), so a failing run can be replayed.
    rng: u64,
    /// Media datagrams dropped by the emulated network.
    pub dropped: usize,
}

/// A direction on a client's link to the SFU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Link {
    Up,
    Down,
}

impl Meeting {
    pub fn new() -> Self {
        Self {
            now: Instant::now(),
            room: Room::new(RoomId::from("room-1")),
            clients: Vec::new(),
            crypto: Arc::new(str0m::crypto::from_feature_flags()),
            server: SERVER.parse().unwrap(),
            server_sources: HashMap::new(),
            to_server: VecDeque::new(),
            loss: HashMap::new(),
            rng: 0x9e37_79b9_7f4a_7c15,
            dropped: 0,
        }
    }

    /// A participant joins and offers to publish audio and video (as a browser does).
    pub fn join(&mut self, name: &str) -> usize {
        let idx = self.clients.len();
        let addr: SocketAddr = format!("10.0.1.{}:4000", idx + 1).parse().unwrap();
        let mut rtc = Rtc::builder()
            .set_rtp_mode(true)
            .set_crypto_provider(self.crypto.clone())
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .build(self.now);
        rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
        let mut api = rtc.sdp_api();
        let audio = api.add_media(
            MediaKind::Audio,
            Direction::SendOnly,
            Some(name.into()),
            None,
            None,
        );
        let video = api.add_media(
            MediaKind::Video,
            Direction::SendOnly,
            Some(name.into()),
            None,
            None,
        );
        let (offer, pending) = api.apply().expect("an offer");

        let participant = ParticipantId::from(name);
        self.room
            .add_peer(
                participant.clone(),
                peer_rtc(&[self.server], &[], self.crypto.clone(), self.now),
                self.now,
            )
            .unwrap();
        let mut out = Vec::new();
        let answer = self
            .room
            .accept_offer(&participant, &offer.to_sdp_string(), self.now, &mut |t| {
                out.push(t)
            })
            .unwrap();
        rtc.sdp_api()
            .accept_answer(pending, SdpAnswer::from_sdp_string(&answer).unwrap())
            .unwrap();
        self.clients.push(Client {
            participant,
            addr,
            rtc,
            audio: Some(audio),
            video: Some(video),
            seq_audio: 0,
            seq_video: 0,
            received: HashMap::new(),
            received_kind: HashMap::new(),
            first_payload: HashMap::new(),
            keyframe_requests: 0,
            keyframe_due: false,
            answers_keyframe_requests: true,
            offers_received: 0,
            stopped_media: 0,
        });
        self.deliver_to_clients(out);
        idx
    }

    /// Loses this share of the media (SRTP and SRTCP) datagrams on one direction of a client's
    /// link. ICE and DTLS pass, so the loss tests media repair, not connection set-up.
    pub fn set_loss(&mut self, idx: usize, link: Link, share: f64) {
        self.loss.insert((self.clients[idx].addr, link), share);
    }

    fn lost(&mut self, client: SocketAddr, link: Link, datagram: &[u8]) -> bool {
        let share = self.loss.get(&(client, link)).copied().unwrap_or(0.0);
        // RTP and RTCP have version 2 in the top bits of the first byte; STUN and DTLS do not.
        if share == 0.0 || datagram.first().is_none_or(|b| b >> 6 != 2) {
            return false;
        }
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let lost = (self.rng % 10_000) as f64 / 10_000.0 < share;
        self.dropped += usize::from(lost);
        lost
    }

    pub fn leave(&mut self, idx: usize) {
        let participant = self.clients[idx].participant.clone();
        let mut out = Vec::new();
        self.room
            .remove_peer(&participant, self.now, &mut |t| out.push(t));
        self.deliver_to_clients(out);
        self.settle();
    }

    /// Runs the meeting for `duration` in 5 ms steps; every connected client sends 20 ms Opus
    /// packets and ~30 fps VP8 (one packet per frame, a keyframe every 50 frames).
    pub fn run(&mut self, duration: Duration) {
        let end = self.now + duration;
        let mut tick = 0u64;
        while self.now < end {
            self.now += Duration::from_millis(5);
            tick += 1;
            for c in &mut self.clients {
                if !c.rtc.is_connected() {
                    continue;
                }
                if tick.is_multiple_of(4) {
                    send_media(c, MediaKind::Audio, self.now);
                }
                if tick.is_multiple_of(7) {
                    send_media(c, MediaKind::Video, self.now);
                }
            }
            for i in 0..self.clients.len() {
                self.clients[i]
                    .rtc
                    .handle_input(Input::Timeout(self.now))
                    .unwrap();
                self.poll_client(i);
            }
            let mut out = Vec::new();
            self.room.handle_timeout(self.now, &mut |t| out.push(t));
            self.deliver_to_clients(out);
            self.settle();
        }
    }

    /// Moves packets and negotiation messages until nobody has anything more to say.
    fn settle(&mut self) {
        for i in 0..self.clients.len() {
            self.poll_client(i);
        }
        loop {
            let mut to_clients = Vec::new();
            let moved = !self.to_server.is_empty();
            while let Some(t) = self.to_server.pop_front() {
                if self.lost(t.source, Link::Up, &t.contents) {
                    continue;
                }
                let receive =
                    Receive::new(Protocol::Udp, t.source, t.destination, &t.contents).unwrap();
                let input = Input::Receive(self.now, receive);
                if let Some(idx) = self.room.peers().iter().position(|p| p.accepts(&input)) {
                    self.room
                        .handle_input(idx, self.now, input, &mut |t| to_clients.push(t));
                }
            }
            let mut negotiated = false;
            while let Some(event) = self.room.poll_event() {
                if let RoomEvent::Offer { participant, sdp } = event {
                    negotiated = true;
                    let c = self
                        .clients
                        .iter_mut()
                        .find(|c| c.participant == participant)
                        .unwrap();
                    c.offers_received += 1;
                    let answer = c
                        .rtc
                        .sdp_api()
                        .accept_offer(SdpOffer::from_sdp_string(&sdp).unwrap())
                        .unwrap();
                    self.room
                        .accept_answer(&participant, &answer.to_sdp_string(), self.now, &mut |t| {
                            to_clients.push(t)
                        })
                        .unwrap();
                }
            }
            let delivered = !to_clients.is_empty();
            self.deliver_to_clients(to_clients);
            if !moved && !delivered && !negotiated {
                break;
            }
        }
    }

    /// str0m's contract: after every input, drain the output until it asks for time.
    fn poll_client(&mut self, i: usize) {
        let c = &mut self.clients[i];
        loop {
            match c.rtc.poll_output().unwrap() {
                Output::Transmit(t) => self.to_server.push_back(t),
                Output::Timeout(_) => break,
                Output::Event(e) => on_client_event(c, e),
            }
        }
    }

    fn deliver_to_clients(&mut self, transmits: Vec<Transmit>) {
        for t in transmits {
            *self.server_sources.entry(t.source).or_default() += 1;
            let Some(i) = self.clients.iter().position(|c| c.addr == t.destination) else {
                continue;
            };
            if self.lost(t.destination, Link::Down, &t.contents) {
                continue;
            }
            let receive =
                Receive::new(Protocol::Udp, t.source, t.destination, &t.contents).unwrap();
            self.clients[i]
                .rtc
                .handle_input(Input::Receive(self.now, receive))
                .unwrap();
            self.poll_client(i);
        }
    }
}

fn send_media(c: &mut Client, kind: MediaKind, now: Instant) {
    let (mid, pt, payload, clock): (Mid, Pt, Vec<u8>, u64) = match kind {
        MediaKind::Audio => (c.audio.unwrap(), c.pt(Codec::Opus), vec![0xfc; 60], 48_000),
        MediaKind::Video => {
            let keyframe = c.seq_video.is_multiple_of(50) || std::mem::take(&mut c.keyframe_due);
            // VP8 payload descriptor (start of partition) + a payload header whose P bit marks
            // a keyframe when clear.
            let mut p = vec![0x10, if keyframe { 0x00 } else { 0x01 }];
            p.extend(std::iter::repeat_n(0xab, 600));
            (c.video.unwrap(), c.pt(Codec::Vp8), p, 90_000)
        }
    };
    let counter = if kind == MediaKind::Audio {
        &mut c.seq_audio
    } else {
        &mut c.seq_video
    };
    *counter += 1;
    let seq = *counter;
    let ts = (seq * clock / 50) as u32;
    let mut api = c.rtc.direct_api();
    let tx = api
        .stream_tx_by_mid(mid, None)
        .expect("negotiated send stream");
    tx.write_rtp(
        RtpWrite::new(pt, seq.into(), ts, now, payload)
            .marker(kind == MediaKind::Video)
            .nackable(true),
    );
}

fn on_client_event(c: &mut Client, event: Event) {
    match event {
        Event::RtpPacket(p) => {
            let ssrc = *p.header.ssrc;
            if let Some(kind) = c
                .rtc
                .direct_api()
                .stream_rx(&p.header.ssrc)
                .map(|s| s.mid())
                .and_then(|mid| c.rtc.media(mid).map(|m| m.kind()))
            {
                c.received_kind.insert(ssrc, kind);
            }
            c.first_payload
                .entry(ssrc)
                .or_insert_with(|| p.payload.to_vec());
            c.received
                .entry(ssrc)
                .or_default()
                .push((p.header.sequence_number, *p.header.payload_type));
        }
        Event::KeyframeRequest(_) => {
            c.keyframe_requests += 1;
            c.keyframe_due = c.answers_keyframe_requests;
        }
        Event::MediaChanged(m) if m.direction == Direction::Inactive => c.stopped_media += 1,
        _ => {}
    }
}
