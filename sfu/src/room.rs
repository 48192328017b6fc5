//! One meeting's media, sans-IO: packets and time in, transmits and events out.
//!
//! A room holds one `str0m::Rtc` per participant (a [`Peer`]). Every audio or video source a peer
//! publishes becomes a [`Track`]; every other peer gets a [`Downtrack`] of it, an m-line the SFU
//! offers to that peer, along which the track's RTP is forwarded with rewritten sequence numbers,
//! timestamps and payload types. Nothing here reads a clock or touches a socket: the driver
//! passes `now` in and carries [`Transmit`]s out, so the whole room can run in a test.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::crypto::CryptoProvider;
use str0m::format::PayloadParams;
use str0m::media::{Direction, KeyframeRequestKind, MediaKind, Mid};
use str0m::net::Transmit;
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};

use crate::SfuError;
use crate::forward::Rewriter;
use crate::ids::{ParticipantId, RoomId};
use crate::keyframe;

/// Keyframe requests towards one publisher's track are merged within this window: a room where
/// several subscribers lose a frame at once should cause one keyframe, not one each.
const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(300);

/// Builds the SFU side of one participant's connection: ICE-lite (the SFU has public addresses
/// and lets the client run the checks), RTP mode (packets are forwarded, never reassembled into
/// frames), the codecs the SFU forwards, and host candidates: one per advertised UDP address and
/// a passive TCP one (RFC 6544: the client connects) per advertised TCP address.
pub fn peer_rtc(
    udp_candidates: &[SocketAddr],
    tcp_candidates: &[SocketAddr],
    crypto: Arc<CryptoProvider>,
    now: Instant,
) -> Rtc {
    let mut rtc = Rtc::builder()
        .set_ice_lite(true)
        .set_rtp_mode(true)
        .set_crypto_provider(crypto)
        .clear_codecs()
        // RED comes with the media-resilience work; plain Opus for now.
        .enable_opus(true, false)
        .enable_vp8(true)
        .enable_h264(true)
        .build(now);
    for addr in udp_candidates {
        match Candidate::host(*addr, "udp") {
            Ok(c) => {
                rtc.add_local_candidate(c);
            }
            // The error would name the address: kept out of the log like every address.
            Err(_) => tracing::warn!("an advertised address cannot be a UDP host candidate"),
        }
    }
    // str0m gives a TCP host candidate a lower type preference than a UDP one (90 against 126,
    // as libwebrtc does), so a client that can reach both uses UDP and TCP is only the fallback.
    for addr in tcp_candidates {
        let candidate = Candidate::builder()
            .tcp()
            .host(*addr)
            .tcptype(str0m::net::TcpType::Passive)
            .build();
        match candidate {
            Ok(c) => {
                rtc.add_local_candidate(c);
            }
            Err(_) => tracing::warn!("an advertised address cannot be a TCP host candidate"),
        }
    }
    rtc
}

/// How many already-due timeouts one poll of a peer feeds before leaving the rest to the driver's
/// timer: str0m normally asks for a future time after one, but a bug must not spin the media task.
const MAX_IMMEDIATE_TIMEOUTS: u32 = 4;

/// What a room tells its driver besides packets to send.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomEvent {
    /// The SFU has new media for this participant: send it this offer and return its answer.
    Offer {
        participant: ParticipantId,
        sdp: String,
    },
    /// ICE and DTLS are up for this participant.
    Connected { participant: ParticipantId },
    /// The participant's connection is gone (ICE timed out or DTLS closed); it has left the room.
    Closed { participant: ParticipantId },
}

/// A source one peer publishes.
#[derive(Debug)]
struct Track {
    id: u64,
    publisher: ParticipantId,
    /// The m-line on the publisher's connection.
    mid: Mid,
    kind: MediaKind,
    last_keyframe_request: Option<Instant>,
}

/// A track as forwarded to one subscriber.
#[derive(Debug)]
struct Downtrack {
    track: u64,
    /// The m-line on the subscriber's connection.
    mid: Mid,
    /// False until the subscriber has answered the offer that created the m-line.
    active: bool,
    rewriter: Rewriter,
    /// Publisher PT -> subscriber PT, learned on first use. Usually one or two entries.
    pt_map: Vec<(str0m::media::Pt, Option<str0m::media::Pt>)>,
    /// Video is held back until a keyframe starts: before it the subscriber could decode nothing.
    awaiting_keyframe: bool,
}

pub struct Peer {
    participant: ParticipantId,
    rtc: Rtc,
    /// The peer's own offer has been answered; from then on the SFU may send it offers.
    negotiated: bool,
    pending_offer: Option<SdpPendingOffer>,
    /// Tracks to offer in the next negotiation.
    to_add: Vec<u64>,
    /// Downtracks whose track went away, to stop in the next negotiation.
    to_stop: Vec<Mid>,
    downtracks: Vec<Downtrack>,
    next_timeout: Instant,
    connected: bool,
}

impl Peer {
    /// Whether this peer's ICE agent would take the datagram (a STUN check with its credentials,
    /// or traffic from its nominated address).
    pub fn accepts(&self, input: &Input) -> bool {
        self.rtc.accepts(input)
    }
}

pub struct Room {
    id: RoomId,
    peers: Vec<Peer>,
    tracks: Vec<Track>,
    next_track_id: u64,
    events: VecDeque<RoomEvent>,
    /// Counters the driver adds to its metrics after each call.
    pub forwarded_packets: u64,
    pub forwarded_bytes: u64,
    pub keyframe_requests: u64,
}

impl Room {
    pub fn new(id: RoomId) -> Self {
        Self {
            id,
            peers: Vec::new(),
            tracks: Vec::new(),
            next_track_id: 0,
            events: VecDeque::new(),
            forwarded_packets: 0,
            forwarded_bytes: 0,
            keyframe_requests: 0,
        }
    }

    pub fn id(&self) -> &RoomId {
        &self.id
    }

    pub fn peers(&self) -> &[Peer] {
        &self.peers
    }

    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    pub fn poll_event(&mut self) -> Option<RoomEvent> {
        self.events.pop_front()
    }

    fn peer_index(&self, participant: &ParticipantId) -> Result<usize, SfuError> {
        self.peers
            .iter()
            .position(|p| &p.participant == participant)
            .ok_or(SfuError::UnknownParticipant)
    }

    /// Adds a participant whose `Rtc` the driver has built (ICE-lite, RTP mode, host candidates).
    pub fn add_peer(
        &mut self,
        participant: ParticipantId,
        rtc: Rtc,
        now: Instant,
    ) -> Result<(), SfuError> {
        if self.peer_index(&participant).is_ok() {
            return Err(SfuError::AlreadyInRoom);
        }
        self.peers.push(Peer {
            participant,
            rtc,
            negotiated: false,
            pending_offer: None,
            to_add: Vec::new(),
            to_stop: Vec::new(),
            downtracks: Vec::new(),
            next_timeout: now,
            connected: false,
        });
        Ok(())
    }

    /// The participant's offer of what it publishes. Returns the SFU's answer. Offers of the
    /// tracks others publish follow as [`RoomEvent::Offer`] once the answer is out.
    pub fn accept_offer<T: FnMut(Transmit)>(
        &mut self,
        participant: &ParticipantId,
        sdp: &str,
        now: Instant,
        send: &mut T,
    ) -> Result<String, SfuError> {
        let idx = self.peer_index(participant)?;
        let peer = &mut self.peers[idx];
        if peer.pending_offer.is_some() {
            // The SFU's own offer is outstanding; the client must answer it first.
            return Err(SfuError::NegotiationInProgress);
        }
        let offer =
            SdpOffer::from_sdp_string(sdp).map_err(|e| SfuError::InvalidSdp(e.to_string()))?;
        let answer = peer
            .rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| SfuError::InvalidSdp(e.to_string()))?;
        let first = !peer.negotiated;
        peer.negotiated = true;
        if first {
            // Everything already published in the room is offered to the newcomer.
            let existing: Vec<u64> = self
                .tracks
                .iter()
                .filter(|t| &t.publisher != participant)
                .map(|t| t.id)
                .collect();
            self.peers[idx].to_add.extend(existing);
        }
        self.drive(now, send);
        Ok(answer.to_sdp_string())
    }

    /// The participant's answer to the SFU's last offer.
    pub fn accept_answer<T: FnMut(Transmit)>(
        &mut self,
        participant: &ParticipantId,
        sdp: &str,
        now: Instant,
        send: &mut T,
    ) -> Result<(), SfuError> {
        let idx = self.peer_index(participant)?;
        let peer = &mut self.peers[idx];
        let pending = peer.pending_offer.take().ok_or(SfuError::NoOfferPending)?;
        let answer =
            SdpAnswer::from_sdp_string(sdp).map_err(|e| SfuError::InvalidSdp(e.to_string()))?;
        peer.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .map_err(|e| SfuError::InvalidSdp(e.to_string()))?;
        let mut newly_active = Vec::new();
        for dt in peer.downtracks.iter_mut().filter(|d| !d.active) {
            dt.active = true;
            newly_active.push(dt.track);
        }
        // A new subscriber needs a keyframe to show anything: ask the publishers now rather than
        // waiting for the subscriber's decoder to complain.
        for track in newly_active {
            self.request_keyframe(track, KeyframeRequestKind::Fir, now);
        }
        self.drive(now, send);
        Ok(())
    }

    /// A trickled remote candidate. The SFU is ICE-lite and learns addresses from the peer's
    /// connectivity checks, so this only helps str0m validate them.
    pub fn add_remote_candidate(
        &mut self,
        participant: &ParticipantId,
        candidate: &str,
    ) -> Result<(), SfuError> {
        let idx = self.peer_index(participant)?;
        let candidate =
            Candidate::from_sdp_string(candidate).map_err(|_| SfuError::InvalidCandidate)?;
        self.peers[idx].rtc.add_remote_candidate(candidate);
        Ok(())
    }

    /// Removes a participant and stops forwarding its tracks to everyone else.
    pub fn remove_peer<T: FnMut(Transmit)>(
        &mut self,
        participant: &ParticipantId,
        now: Instant,
        send: &mut T,
    ) {
        let Ok(idx) = self.peer_index(participant) else {
            return;
        };
        let mut peer = self.peers.remove(idx);
        peer.rtc.disconnect();
        self.unpublish(participant);
        self.drive(now, send);
    }

    /// Forgets the tracks a departed participant published and stops their downtracks.
    fn unpublish(&mut self, publisher: &ParticipantId) {
        let gone: Vec<u64> = self
            .tracks
            .iter()
            .filter(|t| &t.publisher == publisher)
            .map(|t| t.id)
            .collect();
        self.tracks.retain(|t| &t.publisher != publisher);
        for other in &mut self.peers {
            other.to_add.retain(|t| !gone.contains(t));
            let (stop, keep): (Vec<_>, Vec<_>) = other
                .downtracks
                .drain(..)
                .partition(|d| gone.contains(&d.track));
            other.downtracks = keep;
            other.to_stop.extend(stop.into_iter().map(|d| d.mid));
        }
    }

    /// A datagram for the peer at `idx` (found by the driver through [`Peer::accepts`] or its
    /// address map).
    pub fn handle_input<T: FnMut(Transmit)>(
        &mut self,
        idx: usize,
        now: Instant,
        input: Input,
        send: &mut T,
    ) {
        if let Some(peer) = self.peers.get_mut(idx)
            && let Err(e) = peer.rtc.handle_input(input)
        {
            tracing::debug!(room_id = %self.id, participant_id = %peer.participant, error = %e, "input refused");
        }
        self.drive(now, send);
    }

    /// Time passes: feeds timeouts to the peers that are due.
    pub fn handle_timeout<T: FnMut(Transmit)>(&mut self, now: Instant, send: &mut T) {
        for peer in &mut self.peers {
            if peer.next_timeout <= now
                && let Err(e) = peer.rtc.handle_input(Input::Timeout(now))
            {
                tracing::debug!(room_id = %self.id, participant_id = %peer.participant, error = %e, "timeout refused");
            }
        }
        self.drive(now, send);
    }

    /// The earliest time a peer wants to be woken.
    pub fn next_timeout(&self) -> Option<Instant> {
        self.peers.iter().map(|p| p.next_timeout).min()
    }

    /// Polls every peer until each waits for time or input. A peer's output can be input for
    /// another (a forwarded packet), so the loop runs until a whole pass produced nothing.
    fn drive<T: FnMut(Transmit)>(&mut self, now: Instant, send: &mut T) {
        loop {
            let mut progressed = false;
            let mut i = 0;
            while i < self.peers.len() {
                let mut immediate_timeouts = 0;
                loop {
                    let output = match self.peers[i].rtc.poll_output() {
                        Ok(o) => o,
                        Err(e) => {
                            tracing::warn!(room_id = %self.id, participant_id = %self.peers[i].participant, error = %e, "peer failed");
                            self.peers[i].rtc.disconnect();
                            break;
                        }
                    };
                    match output {
                        Output::Transmit(t) => send(t),
                        // A timeout already due (str0m asks for one when new media is queued,
                        // so its pacer takes a fresh snapshot) is fed at once: leaving it to the
                        // driver's timer would hold forwarded packets back.
                        Output::Timeout(t)
                            if t <= now && immediate_timeouts < MAX_IMMEDIATE_TIMEOUTS =>
                        {
                            immediate_timeouts += 1;
                            if let Err(e) = self.peers[i].rtc.handle_input(Input::Timeout(now)) {
                                tracing::debug!(room_id = %self.id, participant_id = %self.peers[i].participant, error = %e, "timeout refused");
                                self.peers[i].next_timeout = now + Duration::from_millis(1);
                                break;
                            }
                        }
                        Output::Timeout(t) => {
                            self.peers[i].next_timeout = t;
                            break;
                        }
                        Output::Event(e) => {
                            progressed |= self.on_event(i, e, now);
                        }
                    }
                }
                i += 1;
            }
            progressed |= self.negotiate();
            progressed |= self.reap();
            if !progressed {
                break;
            }
        }
    }

    /// Returns true when the event wrote into another peer (which then needs polling).
    fn on_event(&mut self, idx: usize, event: Event, now: Instant) -> bool {
        match event {
            Event::RtpPacket(packet) => self.forward(idx, packet, now),
            Event::MediaAdded(added) if added.direction.is_receiving() => {
                let publisher = self.peers[idx].participant.clone();
                let id = self.next_track_id;
                self.next_track_id += 1;
                self.tracks.push(Track {
                    id,
                    publisher: publisher.clone(),
                    mid: added.mid,
                    kind: added.kind,
                    last_keyframe_request: None,
                });
                tracing::debug!(room_id = %self.id, participant_id = %publisher, mid = %added.mid, kind = ?added.kind, "track published");
                for other in self.peers.iter_mut().filter(|p| p.participant != publisher) {
                    other.to_add.push(id);
                }
                true
            }
            Event::KeyframeRequest(req) => {
                let track = self.peers[idx]
                    .downtracks
                    .iter()
                    .find(|d| d.mid == req.mid)
                    .map(|d| d.track);
                if let Some(track) = track {
                    self.request_keyframe(track, req.kind, now);
                }
                true
            }
            Event::Connected => {
                self.peers[idx].connected = true;
                self.events.push_back(RoomEvent::Connected {
                    participant: self.peers[idx].participant.clone(),
                });
                false
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                // ICE-lite cannot restart checks itself; the client's consent checks have stopped.
                self.peers[idx].rtc.disconnect();
                false
            }
            _ => false,
        }
    }

    fn forward(&mut self, from: usize, packet: RtpPacket, now: Instant) -> bool {
        let Some(mid) = self.peers[from]
            .rtc
            .direct_api()
            .stream_rx(&packet.header.ssrc)
            .map(|s| s.mid())
        else {
            return false;
        };
        let publisher = &self.peers[from].participant;
        let Some(track) = self
            .tracks
            .iter()
            .find(|t| t.mid == mid && &t.publisher == publisher)
        else {
            return false;
        };
        let (track_id, kind) = (track.id, track.kind);
        let in_pt = packet.header.payload_type;
        // Looked up once per packet at most, and only when a subscriber meets a new PT.
        let mut in_params: Option<PayloadParams> = None;
        let ext = &packet.header.ext_vals;
        let ext_vals = ExtensionValues {
            audio_level: ext.audio_level,
            voice_activity: ext.voice_activity,
            video_orientation: ext.video_orientation,
            video_content_type: ext.video_content_type,
            ..Default::default()
        };
        let mut wrote = false;
        // Whether this packet begins a keyframe, worked out only while some subscriber waits.
        let mut starts_keyframe: Option<bool> = None;
        let mut keyframe_wanted = false;
        for to in 0..self.peers.len() {
            if to == from {
                continue;
            }
            let Some(dt_idx) = self.peers[to]
                .downtracks
                .iter()
                .position(|d| d.track == track_id && d.active)
            else {
                continue;
            };
            let out_pt = match self.peers[to].downtracks[dt_idx]
                .pt_map
                .iter()
                .find(|(i, _)| *i == in_pt)
            {
                Some((_, out)) => *out,
                None => {
                    if in_params.is_none() {
                        in_params = self.peers[from]
                            .rtc
                            .codec_config()
                            .find(|p| p.pt() == in_pt)
                            .cloned();
                    }
                    let out = in_params.and_then(|p| {
                        self.peers[to]
                            .rtc
                            .codec_config()
                            .match_params(p)
                            .map(|m| m.pt())
                    });
                    self.peers[to].downtracks[dt_idx].pt_map.push((in_pt, out));
                    out
                }
            };
            let Some(out_pt) = out_pt else { continue };
            if self.peers[to].downtracks[dt_idx].awaiting_keyframe {
                let starts = *starts_keyframe.get_or_insert_with(|| {
                    let codec = self.peers[from]
                        .rtc
                        .codec_config()
                        .find(|p| p.pt() == in_pt)
                        .map(|p| p.spec().codec);
                    codec.is_none_or(|c| keyframe::starts_keyframe(c, &packet.payload))
                });
                if !starts {
                    keyframe_wanted = true;
                    continue;
                }
                self.peers[to].downtracks[dt_idx].awaiting_keyframe = false;
            }
            let peer = &mut self.peers[to];
            let dt = &mut peer.downtracks[dt_idx];
            let Some((seq, ts)) = dt.rewriter.rewrite(*packet.seq_no, packet.header.timestamp)
            else {
                continue;
            };
            let mid = dt.mid;
            let mut api = peer.rtc.direct_api();
            let Some(tx) = api.stream_tx_by_mid(mid, None) else {
                continue;
            };
            tx.write_rtp(
                RtpWrite::new(
                    out_pt,
                    seq.into(),
                    ts,
                    packet.timestamp,
                    packet.payload.clone(),
                )
                .marker(packet.header.marker)
                .ext_vals(ext_vals.clone())
                // Audio is not retransmitted: a late audio packet is worse than a lost one.
                .nackable(kind == MediaKind::Video),
            );
            self.forwarded_packets += 1;
            self.forwarded_bytes += packet.payload.len() as u64;
            wrote = true;
        }
        if keyframe_wanted {
            // Throttled per track: a waiting subscriber asks again at most every 300 ms.
            self.request_keyframe(track_id, KeyframeRequestKind::Pli, now);
        }
        wrote
    }

    fn request_keyframe(&mut self, track_id: u64, kind: KeyframeRequestKind, now: Instant) {
        let Some(track) = self.tracks.iter_mut().find(|t| t.id == track_id) else {
            return;
        };
        if track.kind != MediaKind::Video {
            return;
        }
        if track
            .last_keyframe_request
            .is_some_and(|at| now.saturating_duration_since(at) < KEYFRAME_REQUEST_INTERVAL)
        {
            return;
        }
        let Some(publisher) = self
            .peers
            .iter_mut()
            .find(|p| p.participant == track.publisher)
        else {
            return;
        };
        let mut api = publisher.rtc.direct_api();
        if let Some(rx) = api.stream_rx_by_mid(track.mid, None) {
            rx.request_keyframe(kind);
            track.last_keyframe_request = Some(now);
            self.keyframe_requests += 1;
        }
    }

    /// Starts an offer for every peer that has tracks to add or stop and no offer outstanding.
    fn negotiate(&mut self) -> bool {
        let mut offered = false;
        for peer in &mut self.peers {
            if !peer.negotiated
                || peer.pending_offer.is_some()
                || (peer.to_add.is_empty() && peer.to_stop.is_empty())
            {
                continue;
            }
            let mut api = peer.rtc.sdp_api();
            for mid in peer.to_stop.drain(..) {
                api.stop_media(mid);
            }
            for track_id in peer.to_add.drain(..) {
                let Some(track) = self.tracks.iter().find(|t| t.id == track_id) else {
                    continue;
                };
                // The msid stream id is the publisher's participant id: that is how the client
                // knows whose video a track is.
                let mid = api.add_media(
                    track.kind,
                    Direction::SendOnly,
                    Some(track.publisher.to_string()),
                    Some(format!("{}-{}", track.publisher, track.mid)),
                    None,
                );
                peer.downtracks.push(Downtrack {
                    track: track_id,
                    mid,
                    active: false,
                    rewriter: Rewriter::random(),
                    awaiting_keyframe: track.kind == MediaKind::Video,
                    pt_map: Vec::new(),
                });
            }
            if let Some((offer, pending)) = api.apply() {
                peer.pending_offer = Some(pending);
                self.events.push_back(RoomEvent::Offer {
                    participant: peer.participant.clone(),
                    sdp: offer.to_sdp_string(),
                });
                offered = true;
            }
        }
        offered
    }

    /// Removes peers whose connection has died. Returns true if any was removed.
    fn reap(&mut self) -> bool {
        let dead: Vec<ParticipantId> = self
            .peers
            .iter()
            .filter(|p| !p.rtc.is_alive())
            .map(|p| p.participant.clone())
            .collect();
        if dead.is_empty() {
            return false;
        }
        for participant in dead {
            self.peers.retain(|p| p.participant != participant);
            self.unpublish(&participant);
            self.events.push_back(RoomEvent::Closed { participant });
        }
        true
    }

    pub fn connected_peers(&self) -> usize {
        self.peers.iter().filter(|p| p.connected).count()
    }
}
