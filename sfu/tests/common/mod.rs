//! An in-process meeting: a [`Room`] and str0m client peers on an emulated network with a fake
//! clock. No sockets, no tokio, no wall clock: every run is the same.

#![allow(dead_code)] // each test file uses a different part of the harness

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sfu::quality::Quality;
use sfu::room::{Room, RoomEvent, peer_rtc};
use sfu::{ParticipantId, RoomId};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::crypto::CryptoProvider;
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, Mid, Pt, Rid, Simulcast, SimulcastLayer};
use str0m::net::{Protocol, Receive, Transmit};
use str0m::rtp::{ExtensionValues, RtpWrite};
use str0m::{Candidate, Event, Input, Output, Rtc};

pub const SERVER: &str = "10.0.0.1:50000";

/// One simulcast encoding a test client sends: each ~30 fps frame is `packets_per_frame` packets
/// of `packet_bytes` (which is also how a receiver tells the layers apart), and its keyframes
/// announce `height`.
#[derive(Debug, Clone, Copy)]
pub struct LayerSpec {
    pub rid: &'static str,
    pub packets_per_frame: usize,
    pub packet_bytes: usize,
    pub height: u16,
}

/// An officer's desk: three layers, ~90 kbit/s, ~470 kbit/s and ~1.1 Mbit/s with overhead.
pub const THREE_LAYERS: [LayerSpec; 3] = [
    LayerSpec {
        rid: "q",
        packets_per_frame: 1,
        packet_bytes: 300,
        height: 180,
    },
    LayerSpec {
        rid: "h",
        packets_per_frame: 2,
        packet_bytes: 900,
        height: 360,
    },
    LayerSpec {
        rid: "f",
        packets_per_frame: 4,
        packet_bytes: 1100,
        height: 720,
    },
];

/// A received video packet, as a decoder would see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReceivedVideo {
    pub seq: u16,
    pub ts: u32,
    pub len: usize,
    pub picture_id: Option<u16>,
    pub keyframe: bool,
    pub at: Instant,
}

/// State of one simulcast layer a client sends.
struct SendLayer {
    spec: LayerSpec,
    seq: u64,
    frames: u64,
    picture_id: u16,
    keyframe_due: bool,
}

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
    /// Which m-line each received SSRC arrives on.
    pub received_mid: HashMap<u32, Mid>,
    pub keyframe_requests: usize,
    /// A keyframe was asked for: the next video frame is one, as a real encoder would do.
    keyframe_due: bool,
    /// False: an encoder that ignores keyframe requests and only sends its periodic keyframes.
    pub answers_keyframe_requests: bool,
    pub offers_received: usize,
    pub stopped_media: usize,
    /// Simulcast layers this client sends (empty: one plain VP8 stream).
    layers: Vec<SendLayer>,
    /// Every video packet received, per SSRC, in arrival order.
    pub video_log: HashMap<u32, Vec<ReceivedVideo>>,
    /// `video_paused` notices from the SFU, in order: (publisher, paused).
    pub video_paused: Vec<(ParticipantId, bool)>,
    /// The audio level (dBov, 0 to -127) and voice activity flag every audio packet carries
    /// (RFC 6464); `None` sends no level, as the harness's clients do unless a test asks.
    pub audio_level: Option<(i8, bool)>,
    /// Quality reports from the SFU, in order.
    pub quality: Vec<Quality>,
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
    /// A client's downlink capacity, bits per second, when capped.
    downlink_rate: HashMap<SocketAddr, u64>,
    /// Datagrams queued on a capped downlink: when the link has finished sending each.
    downlink_queue: BTreeMap<(Instant, u64), Transmit>,
    /// When each capped downlink is free again.
    downlink_free_at: HashMap<SocketAddr, Instant>,
    queued: u64,
    /// Every change of the room's active speaker, in order (`None`: nobody).
    pub speakers: Vec<Option<ParticipantId>>,
}

/// The emulation's time step.
const TICK: Duration = Duration::from_millis(1);

/// A capped link queues up to this much delay, then drops (a router's tail drop).
const MAX_QUEUE_DELAY: Duration = Duration::from_millis(250);

/// A direction on a client's link to the SFU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Link {
    Up,
    Down,
}

impl Meeting {
    pub fn new() -> Self {
        // RUST_LOG=str0m=debug shows what the media engine decided, for a failing test.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
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
            downlink_rate: HashMap::new(),
            downlink_queue: BTreeMap::new(),
            downlink_free_at: HashMap::new(),
            queued: 0,
            speakers: Vec::new(),
        }
    }

    /// A participant joins and offers to publish audio and video (as a browser does).
    pub fn join(&mut self, name: &str) -> usize {
        self.join_with_layers(name, &[])
    }

    /// Joins publishing video as these simulcast layers (lowest first), as a browser with
    /// `sendEncodings` does.
    pub fn join_with_layers(&mut self, name: &str, layers: &[LayerSpec]) -> usize {
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
        let simulcast = (!layers.is_empty()).then(|| {
            let mut s = Simulcast::new();
            s.send = layers.iter().map(|l| SimulcastLayer::new(l.rid)).collect();
            s
        });
        let video = api.add_media(
            MediaKind::Video,
            Direction::SendOnly,
            Some(name.into()),
            None,
            simulcast,
        );
        let (offer, pending) = api.apply().expect("an offer");

        let participant = ParticipantId::from(name);
        self.room
            .add_peer(
                participant.clone(),
                peer_rtc(&[self.server], self.crypto.clone(), self.now),
                Vec::new(),
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
            received_mid: HashMap::new(),
            first_payload: HashMap::new(),
            keyframe_requests: 0,
            keyframe_due: false,
            answers_keyframe_requests: true,
            offers_received: 0,
            stopped_media: 0,
            layers: layers
                .iter()
                .enumerate()
                .map(|(i, spec)| SendLayer {
                    spec: *spec,
                    seq: 0,
                    frames: 0,
                    // Layers number their pictures independently, as an encoder does.
                    picture_id: 1_000 + 9_000 * i as u16,
                    keyframe_due: false,
                })
                .collect(),
            video_log: HashMap::new(),
            video_paused: Vec::new(),
            audio_level: None,
            quality: Vec::new(),
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

    /// From now on the client's audio packets carry this level (dBov) and voice activity flag.
    pub fn set_audio_level(&mut self, idx: usize, dbov: i8, voice: bool) {
        self.clients[idx].audio_level = Some((dbov, voice));
    }

    /// The room's latest quality snapshot of a client.
    pub fn quality(&self, idx: usize) -> Quality {
        let participant = &self.clients[idx].participant;
        self.room
            .quality()
            .find(|(p, _)| *p == participant)
            .map(|(_, q)| q.clone())
            .expect("the client is in the room")
    }

    /// Caps a client's downlink (SFU to client) to `bps`; `None` lifts the cap.
    pub fn set_downlink_rate(&mut self, idx: usize, bps: Option<u64>) {
        let addr = self.clients[idx].addr;
        match bps {
            Some(bps) => {
                self.downlink_rate.insert(addr, bps);
            }
            None => {
                self.downlink_rate.remove(&addr);
            }
        }
    }

    /// Sends `packets` video packets from a client as fast as the emulation goes (no one need
    /// be subscribed), e.g. to take its sequence numbers past 65 536.
    pub fn send_video_burst(&mut self, idx: usize, packets: usize) {
        let mut left = packets;
        while left > 0 {
            let now = self.now;
            for _ in 0..left.min(200) {
                send_media(&mut self.clients[idx], MediaKind::Video, now);
                left -= 1;
            }
            self.step(TICK, 0);
        }
    }

    /// The mid of the first video m-line a client receives on.
    pub fn received_video_mid(&self, idx: usize) -> String {
        let c = &self.clients[idx];
        let ssrc = c
            .received_kind
            .iter()
            .find(|(_, k)| **k == MediaKind::Video)
            .map(|(s, _)| *s)
            .expect("some video received");
        c.received_mid[&ssrc].to_string()
    }

    /// The client reports the height it shows the video on `mid` at.
    pub fn set_video_size(&mut self, idx: usize, mid: &str, height: u32) {
        let participant = self.clients[idx].participant.clone();
        let mut out = Vec::new();
        self.room
            .set_video_size(&participant, mid, height, self.now, &mut |t| out.push(t))
            .unwrap();
        self.deliver_to_clients(out);
        self.settle();
    }

    pub fn leave(&mut self, idx: usize) {
        let participant = self.clients[idx].participant.clone();
        let mut out = Vec::new();
        self.room
            .remove_peer(&participant, self.now, &mut |t| out.push(t));
        self.deliver_to_clients(out);
        self.settle();
    }

    /// Runs the meeting for `duration` in 1 ms steps (fine enough for the SFU's pacer and
    /// congestion-control probes to keep their timing); every connected client sends 20 ms Opus
    /// packets and ~30 fps VP8 (one packet per frame, a keyframe every 50 frames).
    pub fn run(&mut self, duration: Duration) {
        let end = self.now + duration;
        let mut tick = 0u64;
        while self.now < end {
            tick += 1;
            self.step(TICK, tick);
        }
    }

    /// Advances time by `dt`; with `tick > 0` clients send media due on that tick.
    fn step(&mut self, dt: Duration, tick: u64) {
        self.now += dt;
        for c in &mut self.clients {
            if !c.rtc.is_connected() || tick == 0 {
                continue;
            }
            if tick.is_multiple_of(20) {
                send_media(c, MediaKind::Audio, self.now);
            }
            if tick.is_multiple_of(33) {
                send_media(c, MediaKind::Video, self.now);
            }
        }
        self.deliver_queued();
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
                match event {
                    RoomEvent::VideoPaused {
                        participant,
                        publisher,
                        paused,
                    } => {
                        if let Some(c) = client_mut(&mut self.clients, &participant) {
                            c.video_paused.push((publisher, paused));
                        }
                    }
                    RoomEvent::Quality {
                        participant,
                        quality,
                    } => {
                        if let Some(c) = client_mut(&mut self.clients, &participant) {
                            c.quality.push(quality);
                        }
                    }
                    RoomEvent::ActiveSpeaker { participant } => self.speakers.push(participant),
                    // The harness clients reach the SFU over UDP only: no TCP fallback.
                    RoomEvent::Connected { .. }
                    | RoomEvent::Closed { .. }
                    | RoomEvent::Candidate { .. } => {}
                    RoomEvent::Offer { participant, sdp } => {
                        negotiated = true;
                        let c = client_mut(&mut self.clients, &participant).unwrap();
                        c.offers_received += 1;
                        let answer = c
                            .rtc
                            .sdp_api()
                            .accept_offer(SdpOffer::from_sdp_string(&sdp).unwrap())
                            .unwrap();
                        self.room
                            .accept_answer(
                                &participant,
                                &answer.to_sdp_string(),
                                self.now,
                                &mut |t| to_clients.push(t),
                            )
                            .unwrap();
                    }
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
            if self.clients.iter().all(|c| c.addr != t.destination) {
                continue;
            }
            if self.lost(t.destination, Link::Down, &t.contents) {
                continue;
            }
            if let Some(&bps) = self.downlink_rate.get(&t.destination) {
                // Serialised onto the capped link behind what is already queued.
                let free = self
                    .downlink_free_at
                    .get(&t.destination)
                    .copied()
                    .unwrap_or(self.now);
                let start = free.max(self.now);
                if start.saturating_duration_since(self.now) > MAX_QUEUE_DELAY {
                    self.dropped += 1;
                    continue;
                }
                let bits = (t.contents.len() as u64 + 28) * 8;
                let done = start + Duration::from_micros(bits * 1_000_000 / bps);
                self.downlink_free_at.insert(t.destination, done);
                self.queued += 1;
                self.downlink_queue.insert((done, self.queued), t);
                continue;
            }
            self.receive_at_client(t);
        }
    }

    /// Hands capped-link datagrams whose time has come to their clients.
    fn deliver_queued(&mut self) {
        while let Some(entry) = self.downlink_queue.first_entry() {
            if entry.key().0 > self.now {
                break;
            }
            let t = entry.remove();
            self.receive_at_client(t);
        }
    }

    fn receive_at_client(&mut self, t: Transmit) {
        let Some(i) = self.clients.iter().position(|c| c.addr == t.destination) else {
            return;
        };
        let receive = Receive::new(Protocol::Udp, t.source, t.destination, &t.contents).unwrap();
        self.clients[i]
            .rtc
            .handle_input(Input::Receive(self.now, receive))
            .unwrap();
        self.poll_client(i);
    }
}

fn client_mut<'a>(
    clients: &'a mut [Client],
    participant: &ParticipantId,
) -> Option<&'a mut Client> {
    clients.iter_mut().find(|c| &c.participant == participant)
}

fn send_media(c: &mut Client, kind: MediaKind, now: Instant) {
    if kind == MediaKind::Video && !c.layers.is_empty() {
        send_simulcast_frame(c, now);
        return;
    }
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
    let level = c.audio_level.filter(|_| kind == MediaKind::Audio);
    let ext_vals = ExtensionValues {
        audio_level: level.map(|(dbov, _)| dbov),
        voice_activity: level.map(|(_, voice)| voice),
        ..Default::default()
    };
    let mut api = c.rtc.direct_api();
    let tx = api
        .stream_tx_by_mid(mid, None)
        .expect("negotiated send stream");
    tx.write_rtp(
        RtpWrite::new(pt, seq.into(), ts, now, payload)
            .marker(kind == MediaKind::Video)
            .nackable(true)
            .ext_vals(ext_vals),
    );
}

/// One frame on every simulcast layer: VP8 with a 15-bit picture ID, keyframes every 100 frames
/// or when asked for that layer, the keyframe header carrying the layer's size.
fn send_simulcast_frame(c: &mut Client, now: Instant) {
    let mid = c.video.unwrap();
    let pt = c.pt(Codec::Vp8);
    for layer in &mut c.layers {
        layer.frames += 1;
        layer.picture_id = (layer.picture_id + 1) & 0x7fff;
        let keyframe = layer.frames % 100 == 1 || std::mem::take(&mut layer.keyframe_due);
        let ts = (layer.frames * 3_000) as u32;
        for i in 0..layer.spec.packets_per_frame {
            let first = i == 0;
            let [pid_hi, pid_lo] = layer.picture_id.to_be_bytes();
            // X=1, S on the first packet; I=1 with a 15-bit picture ID.
            let mut p = vec![
                0x80 | if first { 0x10 } else { 0 },
                0x80,
                0x80 | pid_hi,
                pid_lo,
            ];
            if first {
                let h = layer.spec.height.to_le_bytes();
                let w = (layer.spec.height * 16 / 9).to_le_bytes();
                p.extend([if keyframe { 0x00 } else { 0x01 }, 0, 0, 0x9d, 0x01, 0x2a]);
                p.extend([w[0], w[1], h[0], h[1]]);
            }
            p.resize(layer.spec.packet_bytes, 0xab);
            layer.seq += 1;
            let mut api = c.rtc.direct_api();
            let tx = api
                .stream_tx_by_mid(mid, Some(Rid::from(layer.spec.rid)))
                .expect("negotiated simulcast send stream");
            tx.write_rtp(
                RtpWrite::new(pt, layer.seq.into(), ts, now, p)
                    .marker(i + 1 == layer.spec.packets_per_frame)
                    .nackable(true),
            );
        }
    }
}

fn on_client_event(c: &mut Client, event: Event) {
    match event {
        Event::RtpPacket(p) => {
            let ssrc = *p.header.ssrc;
            let mid = c
                .rtc
                .direct_api()
                .stream_rx(&p.header.ssrc)
                .map(|s| s.mid());
            if let Some(mid) = mid {
                c.received_mid.insert(ssrc, mid);
                if let Some(kind) = c.rtc.media(mid).map(|m| m.kind()) {
                    c.received_kind.insert(ssrc, kind);
                }
            }
            c.first_payload
                .entry(ssrc)
                .or_insert_with(|| p.payload.to_vec());
            if c.received_kind.get(&ssrc) == Some(&MediaKind::Video) {
                let d = sfu::vp8::Vp8Descriptor::parse(&p.payload);
                c.video_log.entry(ssrc).or_default().push(ReceivedVideo {
                    seq: p.header.sequence_number,
                    ts: p.header.timestamp,
                    len: p.payload.len(),
                    picture_id: d.and_then(|d| d.picture_id).map(|p| p.0),
                    keyframe: d.is_some_and(|d| d.starts_keyframe(&p.payload)),
                    at: p.timestamp,
                });
            }
            c.received
                .entry(ssrc)
                .or_default()
                .push((p.header.sequence_number, *p.header.payload_type));
        }
        Event::KeyframeRequest(req) => {
            c.keyframe_requests += 1;
            if c.answers_keyframe_requests {
                match c
                    .layers
                    .iter_mut()
                    .find(|l| Some(Rid::from(l.spec.rid)) == req.rid)
                {
                    Some(layer) => layer.keyframe_due = true,
                    None => c.keyframe_due = true,
                }
            }
        }
        Event::MediaChanged(m) if m.direction == Direction::Inactive => c.stopped_media += 1,
        _ => {}
    }
}

/// Which of [`THREE_LAYERS`] most frames a client received on its first video stream came from
/// during the last `window` (bigger layers send more packets per frame, so frames are compared).
pub fn recent_layer(m: &Meeting, idx: usize, window: Duration) -> Option<usize> {
    let log = m.clients[idx].video_log.values().next()?;
    let since = m.now - window;
    let mut frames = [0usize; 3];
    for p in log.iter().filter(|p| p.at >= since) {
        if let Some(l) = THREE_LAYERS.iter().position(|l| l.packet_bytes == p.len) {
            frames[l] += 1;
        }
    }
    for (f, l) in frames.iter_mut().zip(THREE_LAYERS) {
        *f /= l.packets_per_frame;
    }
    (0..3).filter(|&l| frames[l] > 0).max_by_key(|&l| frames[l])
}

/// Runs the meeting until client `idx` gets the top of [`THREE_LAYERS`] (judged each half
/// second), at most `limit`; how long that took.
pub fn time_to_top_layer(m: &mut Meeting, idx: usize, limit: Duration) -> Option<Duration> {
    let start = m.now;
    while m.now - start < limit {
        m.run(Duration::from_millis(500));
        if recent_layer(m, idx, Duration::from_millis(500)) == Some(2) {
            return Some(m.now - start);
        }
    }
    None
}
