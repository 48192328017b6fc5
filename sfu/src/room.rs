//! One meeting's media, sans-IO: packets and time in, transmits and events out.
//!
//! A room holds one `str0m::Rtc` per participant (a [`Peer`]). Every audio or video source a peer
//! publishes becomes a [`Track`]; every other peer gets a [`Downtrack`] of it, an m-line the SFU
//! offers to that peer, along which the track's RTP is forwarded with rewritten sequence numbers,
//! timestamps and payload types. A video track may arrive as several simulcast layers; each
//! subscriber gets the one [`layers`](crate::layers) chooses from its bandwidth estimate and the
//! size it shows the video at, switched only at a keyframe. The room also follows who is speaking
//! ([`speaker`](crate::speaker)) and how each participant's connection is doing
//! ([`quality`](crate::quality)). Nothing here reads a clock or touches a socket: the driver
//! passes `now` in and carries [`Transmit`]s out, so the whole room can run in a test.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::bwe::{Bitrate, BweKind};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::crypto::CryptoProvider;
use str0m::format::{Codec, PayloadParams};
use str0m::media::{Direction, KeyframeRequestKind, MediaKind, Mid, Pt, Rid};
use str0m::net::Transmit;
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};

use crate::SfuError;
use crate::forward::{Rewriter, Vp8Renumber};
use crate::ids::{ParticipantId, RoomId};
use crate::keyframe;
use crate::layers::{LayerChoice, LayerView, RateMeter, best_fit};
use crate::quality::{LinkStats, Quality, ReceivedVideo};
use crate::speaker::{DominantSpeaker, Speech, SpeechMeter};
use crate::vp8::Vp8Descriptor;

/// Keyframe requests towards one publisher's track are merged within this window: a room where
/// several subscribers lose a frame at once should cause one keyframe, not one each.
const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(300);

/// Each subscriber's bandwidth estimate starts here, until the first congestion-control
/// feedback: enough for a middle layer, so a meeting on a good link looks good at once and one
/// on a poor link has not much to shed.
pub const INITIAL_ESTIMATE: Bitrate = Bitrate::kbps(800);

/// How often layer choices are revisited. Switches happen at keyframes anyway; this is how fast
/// the SFU reacts to a changed estimate.
const ALLOCATION_INTERVAL: Duration = Duration::from_millis(200);

/// A subscriber's link is taken as congested when its estimate falls this far below what the SFU
/// sends it. An estimate that merely lags a rising rate stays above this; one cut by loss or
/// queueing delay (to about 0.85 of what arrived, which on a saturated link is far below what was
/// sent) falls under it.
const CONGESTED_RATIO: f64 = 0.75;

/// Loss above this share backs a low estimate as congestion.
const LOSS_NOTICED: f32 = 0.02;

/// Loss above this share of what the SFU sends a subscriber (smoothed over a few seconds) is
/// congestion, whatever the estimate says: random loss on a radio link, 10 % on a bad one, stays
/// below it; a saturated link loses far more.
const CONGESTION_LOSS: f32 = 0.25;

/// A round trip this much longer than the link's lowest lately is time spent in a queue that
/// stands: the link is sent more than it carries. A trial for a better layer ends there, and none
/// starts: a congestion controller whose estimate sits above a link with a deep buffer (a router
/// queueing 200 ms before it drops) sees no rising delay once the buffer is full, only the tail
/// drops, and the packets dropped are the lowest layer's and the audio's.
const STANDING_QUEUE: Duration = Duration::from_millis(80);

/// The lowest round trip is looked for over this long (and the window before): long enough that
/// a trial's queue has drained in it, short enough to follow a path that got longer.
const RTT_FLOOR_WINDOW: Duration = Duration::from_secs(30);

/// A probe for a better layer pads the link up to that layer's rate for this long, unless the
/// estimate has risen to carry it by then.
const PROBE_TRIAL: Duration = Duration::from_secs(5);

/// A trial whose estimate carries the next layer, but not with the headroom the switch asks
/// for, runs on at most this long: the switch would have come by then (it waits
/// [`crate::layers::UPGRADE_HOLD`] once it fits), and an estimate that stays put is held.
const PROBE_TRIAL_MAX: Duration = Duration::from_secs(10);

/// After a failed probe the next waits this long, doubling up to [`PROBE_BACKOFF_MAX`]: a link
/// that is really this poor should not be pushed into loss over and over.
const PROBE_BACKOFF_MIN: Duration = Duration::from_secs(2);
const PROBE_BACKOFF_MAX: Duration = Duration::from_secs(4);

/// A trial whose estimate moved less than this share from start to end never ran the
/// estimator at all: see [`ProbeState::plan`].
const HELD_ESTIMATE_SPREAD: f64 = 0.001;

/// A held estimator is restarted at most this often per subscriber: a restart begins with
/// str0m's start-up probes, bursts that a link near its limit should not get every trial.
const ESTIMATOR_RESTART_INTERVAL: Duration = Duration::from_secs(20);

/// A peer whose ICE connectivity was lost has this long to come back with an ICE restart (its
/// network changed, a 4G handover) before it is taken out of the room.
const ICE_RESTART_GRACE: Duration = Duration::from_secs(20);

/// How often the room re-decides who has the floor; well below the speaker's takeover hold.
const SPEAKER_INTERVAL: Duration = Duration::from_millis(100);

/// How often each participant's quality snapshot is refreshed: as often as str0m's stats come.
const QUALITY_INTERVAL: Duration = Duration::from_secs(1);

/// How often each participant is told its quality: often enough for an indicator, rarely enough
/// not to add traffic or screen-reader chatter.
const QUALITY_REPORT_INTERVAL: Duration = Duration::from_secs(2);

/// TCP candidates are offered only when UDP has not connected this long after the client's
/// offer. Offered at once, a browser on a fast network may settle on TCP although UDP works
/// (both checks succeed at nearly the same moment), and media over TCP suffers more from loss.
pub const TCP_FALLBACK_DELAY: Duration = Duration::from_secs(1);

/// How long a rate a subscriber received without loss counts as its link's capacity.
const PROVEN_FOR: Duration = Duration::from_secs(60);

/// str0m's default resend buffer, set again (emptied) after an ICE restart.
const RTX_CACHE_PACKETS: usize = 1024;
const RTX_CACHE_AGE: Duration = Duration::from_secs(3);
const RTX_RATIO_CAP: f32 = 0.15;

/// How long after an ICE restart loss reports are not taken as congestion: they cover the outage.
const OUTAGE_REPORTS: Duration = Duration::from_secs(3);

/// How long after video was cut for congestion loss reports are not taken as congestion: the
/// link's queue drains meanwhile, and the reports cover the time before the cut.
const CUT_SETTLES: Duration = Duration::from_secs(2);

/// Video is forwarded with this RTP clock (VP8, VP9, AV1 and H.264 all use 90 kHz).
const VIDEO_CLOCK_RATE: u32 = 90_000;

/// Builds the SFU side of one participant's connection: ICE-lite (the SFU has public addresses
/// and lets the client run the checks), RTP mode (packets are forwarded, never reassembled into
/// frames), the codecs the SFU forwards, and a host candidate per advertised UDP address. TCP
/// candidates ([`tcp_candidates`]) are given to [`Room::add_peer`] and offered later, only if UDP
/// does not connect.
pub fn peer_rtc(udp_candidates: &[SocketAddr], crypto: Arc<CryptoProvider>, now: Instant) -> Rtc {
    let mut rtc = Rtc::builder()
        .set_ice_lite(true)
        .set_rtp_mode(true)
        .set_crypto_provider(crypto)
        .clear_codecs()
        // Opus with in-band FEC, and RED (RFC 2198) where the browser offers it: both let a
        // receiver rebuild a lost audio packet from the next one, which retransmission, too slow
        // for audio, cannot.
        .enable_opus(true, true)
        .enable_vp8(true)
        .enable_vp9(true)
        .enable_av1(true)
        .enable_h264(true)
        // Congestion control on everything the SFU sends (transport-wide CC feedback from the
        // subscriber): its estimate drives each subscriber's layer choice.
        .enable_bwe(Some(INITIAL_ESTIMATE))
        // Loss and round-trip figures once a second: for congestion, and for quality reports.
        .set_stats_interval(Some(Duration::from_secs(1)))
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
    rtc
}

/// A passive TCP host candidate (RFC 6544: the client connects) per advertised TCP address.
pub fn tcp_candidates(addrs: &[SocketAddr]) -> Vec<Candidate> {
    addrs
        .iter()
        .filter_map(|addr| {
            let candidate = Candidate::builder()
                .tcp()
                .host(*addr)
                .tcptype(str0m::net::TcpType::Passive)
                .build();
            if candidate.is_err() {
                tracing::warn!("an advertised address cannot be a TCP host candidate");
            }
            candidate.ok()
        })
        .collect()
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
    /// The participant's link is too poor for even the lowest layer of `publisher`'s video, which
    /// is paused for it (audio goes on); or it has recovered and the video resumes.
    VideoPaused {
        participant: ParticipantId,
        publisher: ParticipantId,
        paused: bool,
    },
    /// Send the client this ICE candidate (`candidate:…` line): the TCP fallback, offered once UDP
    /// has not connected within [`TCP_FALLBACK_DELAY`].
    Candidate {
        participant: ParticipantId,
        candidate: String,
    },
    /// The participant's connection is gone (ICE timed out or DTLS closed); it has left the room.
    Closed { participant: ParticipantId },
    /// For everyone in the room: the floor passed to `participant`, or to nobody (the speaker
    /// left, muted or stopped sending). Sent again when someone connects, so they know too.
    ActiveSpeaker { participant: Option<ParticipantId> },
    /// For `participant`, every two seconds once connected: how its connection is doing.
    Quality {
        participant: ParticipantId,
        quality: Quality,
    },
}

/// A source one peer publishes.
#[derive(Debug)]
struct Track {
    id: u64,
    publisher: ParticipantId,
    /// The m-line on the publisher's connection.
    mid: Mid,
    kind: MediaKind,
    /// Simulcast layers, lowest first as the publisher listed them; one layer without a rid
    /// when it does not simulcast.
    layers: Vec<Layer>,
    /// Audio only: the speech its packets' audio levels tell of.
    speech: SpeechMeter,
    /// The publisher's payload types (RED ones included) and their codec parameters, learned on
    /// first use so the packet path does not search the codec list for every packet.
    payload_params: Vec<(Pt, Option<PayloadParams>)>,
}

/// One encoding of a track.
#[derive(Debug)]
struct Layer {
    rid: Option<Rid>,
    meter: RateMeter,
    /// Frame height from the layer's last keyframe (VP8), to match it to a rendered size.
    height: Option<u16>,
    last_keyframe_request: Option<Instant>,
}

impl Layer {
    fn new(rid: Option<Rid>) -> Self {
        Self {
            rid,
            meter: RateMeter::new(),
            height: None,
            last_keyframe_request: None,
        }
    }
}

impl Track {
    fn layer_views(&self, now: Instant) -> Vec<LayerView> {
        self.layers
            .iter()
            .map(|l| LayerView {
                active: l.meter.is_active(now),
                bps: l.meter.bps(now),
                height: l.height,
            })
            .collect()
    }

    /// What this track costs a subscriber at its usual rate (audio), in bits per second.
    fn audio_bps(&self, now: Instant) -> u64 {
        self.layers.iter().map(|l| l.meter.bps(now)).sum()
    }
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
    vp8: Vp8Renumber,
    /// Publisher PT -> subscriber PT, learned on first use. Usually one or two entries.
    pt_map: Vec<(Pt, Option<Pt>)>,
    /// The layer being forwarded. Video starts (and moves to another layer) only at a keyframe
    /// of the chosen layer: before it the subscriber could decode nothing.
    current: Option<usize>,
    choice: LayerChoice,
    /// The height the subscriber shows this video at; `None` until it says, `Some(0)` hidden.
    render_height: Option<u32>,
    /// Whether the subscriber was last told this video is paused for bandwidth.
    told_paused: bool,
    /// The receiver's report at the last egress stats: highest sequence number and packets
    /// lost in all.
    last_report: Option<(u64, u64)>,
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
    /// The congestion controller's estimate of this peer's downlink.
    estimate: Bitrate,
    /// When ICE lost this peer, until it is back (an ICE restart) or given up.
    ice_lost_at: Option<Instant>,
    /// TCP candidates kept back until UDP has had its chance, and when that is over.
    tcp_fallback: Vec<Candidate>,
    tcp_fallback_at: Option<Instant>,
    /// What the SFU forwards to this peer.
    egress: RateMeter,
    /// Share of what the SFU sent this peer that was lost, smoothed over the last few seconds.
    egress_loss: f32,
    /// Loss the peer's receiver reports gave since the last stats round.
    reported_loss: ReportedLoss,
    /// Share of what the SFU sent this peer in the last second that transport-wide feedback
    /// says was lost: the timeliest sign that a link is full (receiver reports may cover
    /// several seconds).
    transport_loss: f32,
    /// After an ICE restart, reports still covering the outage are not loss on the new path.
    loss_ignored_until: Option<Instant>,
    /// The highest rate this peer lately received without loss, and when.
    proven: Option<(u64, Instant)>,
    /// Round trips to this peer, for the delay its link queues.
    round_trips: RoundTrips,
    probe: ProbeState,
    /// What str0m's stats said about this peer's connection.
    link: LinkStats,
    /// The last snapshot made from `link` and the room's own meters.
    quality: Quality,
}

/// Loss from the receiver's reports, summed over a peer's streams between two stats rounds:
/// packets lost of packets expected. A stream that carried a handful (a paused video's last
/// keyframe) weighs a handful; its report's fraction alone would speak for the whole link.
#[derive(Debug, Clone, Copy, Default)]
struct ReportedLoss {
    lost: u64,
    expected: u64,
}

impl ReportedLoss {
    fn fraction(&self) -> f32 {
        if self.expected == 0 {
            0.0
        } else {
            (self.lost as f64 / self.expected as f64).min(1.0) as f32
        }
    }
}

/// A probe under way: since when, the rate of the layers chosen then, and the lowest and
/// highest estimate seen since.
#[derive(Debug, Clone, Copy)]
struct Trial {
    started: Instant,
    chosen: u64,
    estimates: (u64, u64),
}

impl Trial {
    fn new(now: Instant, chosen: u64, estimate: u64) -> Self {
        Self {
            started: now,
            chosen,
            estimates: (estimate, estimate),
        }
    }
}

/// Finding out whether a subscriber's link can take a better layer (see [`Room::allocate`]).
#[derive(Debug, Clone)]
struct ProbeState {
    trial: Option<Trial>,
    next_trial_at: Option<Instant>,
    backoff: Duration,
    /// When the congestion controller was last restarted for holding its estimate.
    estimator_restarted_at: Option<Instant>,
}

/// What a subscriber's congestion controller is told after a layer decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ProbePlan {
    /// The rate to keep up with media and padding.
    sustain: u64,
    /// The rate to probe for.
    desired: u64,
    /// The estimator held its estimate through a whole clean trial: start it again from there.
    restart_estimator: bool,
}

impl Peer {
    pub fn participant(&self) -> &ParticipantId {
        &self.participant
    }

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
    next_allocation: Instant,
    floor: DominantSpeaker,
    /// `None`: at the next timeout.
    next_speaker_check: Option<Instant>,
    next_quality_refresh: Option<Instant>,
    next_quality_report: Option<Instant>,
    /// The quality snapshots changed (refreshed, or someone left) since the driver last looked.
    quality_changed: bool,
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
            next_allocation: Instant::now(),
            floor: DominantSpeaker::default(),
            next_speaker_check: None,
            next_quality_refresh: None,
            next_quality_report: None,
            quality_changed: false,
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
        tcp_fallback: Vec<Candidate>,
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
            estimate: INITIAL_ESTIMATE,
            ice_lost_at: None,
            tcp_fallback,
            tcp_fallback_at: None,
            egress: RateMeter::new(),
            egress_loss: 0.0,
            reported_loss: ReportedLoss::default(),
            transport_loss: 0.0,
            loss_ignored_until: None,
            proven: None,
            round_trips: RoundTrips::default(),
            probe: ProbeState {
                trial: None,
                next_trial_at: None,
                backoff: PROBE_BACKOFF_MIN,
                estimator_restarted_at: None,
            },
            link: LinkStats::default(),
            quality: Quality::default(),
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
        if first && !peer.tcp_fallback.is_empty() {
            peer.tcp_fallback_at = Some(now + TCP_FALLBACK_DELAY);
        }
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
        // Opus DTX: a quiet participant sends a packet every 400 ms instead of 50 a second,
        // which leaves the booth's poor uplink to video. str0m cannot say it together with RED, so
        // the answer's Opus parameters are extended here; str0m itself does not read them.
        Ok(with_opus_dtx(&answer.to_sdp_string()))
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
        for dt in peer.downtracks.iter_mut().filter(|d| !d.active) {
            dt.active = true;
        }
        // A new subscriber needs a layer and a keyframe of it to show anything: choose now and
        // ask the publisher rather than wait for the next round or the subscriber's decoder.
        self.allocate(now);
        self.drive(now, send);
        Ok(())
    }

    /// The subscriber shows the video on its m-line `mid` at this size (0 x 0: not shown). Layers
    /// bigger than needed are not sent; a hidden video is not sent at all.
    pub fn set_video_size<T: FnMut(Transmit)>(
        &mut self,
        participant: &ParticipantId,
        mid: &str,
        height: u32,
        now: Instant,
        send: &mut T,
    ) -> Result<(), SfuError> {
        let idx = self.peer_index(participant)?;
        let mid = Mid::from(mid);
        let dt = self.peers[idx]
            .downtracks
            .iter_mut()
            .find(|d| d.mid == mid)
            .ok_or(SfuError::UnknownTrack)?;
        dt.render_height = Some(height);
        self.allocate(now);
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
        self.quality_changed = true;
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
        if now >= self.next_allocation {
            self.allocate(now);
        }
        if self.next_speaker_check.is_none_or(|at| now >= at) {
            self.choose_speaker(now);
        }
        if self.next_quality_refresh.is_none_or(|at| now >= at) {
            self.refresh_quality(now);
        }
        for peer in &mut self.peers {
            if peer.tcp_fallback_at.is_some_and(|at| at <= now) {
                peer.tcp_fallback_at = None;
                let candidates = std::mem::take(&mut peer.tcp_fallback);
                if !peer.connected {
                    for candidate in candidates {
                        if let Some(added) = peer.rtc.add_local_candidate(candidate) {
                            self.events.push_back(RoomEvent::Candidate {
                                participant: peer.participant.clone(),
                                candidate: added.to_sdp_string(),
                            });
                        }
                    }
                }
            }
            if peer
                .ice_lost_at
                .is_some_and(|at| now.saturating_duration_since(at) >= ICE_RESTART_GRACE)
            {
                tracing::info!(room_id = %self.id, participant_id = %peer.participant, "media path not restored; leaving");
                peer.rtc.disconnect();
            }
        }
        for peer in &mut self.peers {
            if peer.next_timeout <= now
                && let Err(e) = peer.rtc.handle_input(Input::Timeout(now))
            {
                tracing::debug!(room_id = %self.id, participant_id = %peer.participant, error = %e, "timeout refused");
            }
        }
        self.drive(now, send);
    }

    /// The earliest time a peer, the next round of layer choices, the next look at who speaks or
    /// the next quality refresh wants to be woken.
    pub fn next_timeout(&self) -> Option<Instant> {
        let peers = self
            .peers
            .iter()
            .map(|p| {
                p.next_timeout
                    .min(p.tcp_fallback_at.unwrap_or(p.next_timeout))
            })
            .min()?;
        let rounds = [self.next_speaker_check, self.next_quality_refresh];
        Some(
            rounds
                .into_iter()
                .flatten()
                .fold(peers.min(self.next_allocation), Instant::min),
        )
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
                // A browser's send encodings appear as the layers the SFU receives.
                let layers: Vec<Layer> = match &added.simulcast {
                    Some(s) if !s.recv.is_empty() => {
                        s.recv.iter().map(|l| Layer::new(Some(l.rid))).collect()
                    }
                    _ => vec![Layer::new(None)],
                };
                tracing::debug!(room_id = %self.id, participant_id = %publisher, mid = %added.mid, kind = ?added.kind, layers = layers.len(), "track published");
                self.tracks.push(Track {
                    id,
                    publisher: publisher.clone(),
                    mid: added.mid,
                    kind: added.kind,
                    layers,
                    speech: SpeechMeter::default(),
                    payload_params: Vec::new(),
                });
                for other in self.peers.iter_mut().filter(|p| p.participant != publisher) {
                    other.to_add.push(id);
                }
                true
            }
            Event::KeyframeRequest(req) => {
                tracing::debug!(room_id = %self.id, participant_id = %self.peers[idx].participant, kind = ?req.kind, "subscriber asks for a keyframe");
                let wanted = self.peers[idx]
                    .downtracks
                    .iter()
                    .find(|d| d.mid == req.mid)
                    .and_then(|d| Some((d.track, d.current.or(d.choice.target)?)));
                if let Some((track, layer)) = wanted {
                    self.request_keyframe(track, layer, req.kind, now);
                }
                true
            }
            Event::PeerStats(stats) => {
                let peer = &mut self.peers[idx];
                peer.link.on_peer_stats(&stats);
                if let Some(rtt) = stats.rtt {
                    peer.round_trips.record(rtt, now);
                }
                // The worse of what transport-wide feedback and the receiver's reports say (the
                // feedback can miss a link that drops nearly everything), smoothed: one bad
                // second of random loss is not yet a saturated link.
                peer.transport_loss = stats.egress_loss_fraction.unwrap_or(0.0);
                let latest = peer
                    .transport_loss
                    .max(std::mem::take(&mut peer.reported_loss).fraction());
                if peer.loss_ignored_until.is_none_or(|until| now >= until) {
                    peer.egress_loss = 0.5 * peer.egress_loss + 0.5 * latest;
                }
                // str0m stops emitting estimate events while it cannot probe; the stats carry
                // the current estimate regardless.
                if let Some(estimate) = stats.bwe_tx {
                    peer.estimate = estimate;
                }
                false
            }
            Event::MediaIngressStats(stats) => {
                let peer = &mut self.peers[idx];
                let audio = is_audio(&peer.rtc, stats.mid);
                peer.link.on_ingress(&stats, audio);
                false
            }
            Event::MediaEgressStats(stats) => {
                let peer = &mut self.peers[idx];
                let downtrack = peer.downtracks.iter_mut().find(|d| d.mid == stats.mid);
                if let (Some(dt), Some(remote)) = (downtrack, &stats.remote) {
                    let report = (*remote.maximum_sequence_number, remote.packets_lost);
                    if let Some((seq, lost)) = dt.last_report.replace(report) {
                        peer.reported_loss.expected += report.0.saturating_sub(seq);
                        peer.reported_loss.lost += report.1.saturating_sub(lost);
                    }
                }
                let audio = is_audio(&peer.rtc, stats.mid);
                peer.link.on_egress(&stats, audio);
                false
            }
            Event::EgressBitrateEstimate(BweKind::Twcc { estimate, .. }) => {
                self.peers[idx].estimate = estimate;
                false
            }
            Event::Connected => {
                self.peers[idx].connected = true;
                self.events.push_back(RoomEvent::Connected {
                    participant: self.peers[idx].participant.clone(),
                });
                if let Some(speaker) = self.floor.holder() {
                    self.events.push_back(RoomEvent::ActiveSpeaker {
                        participant: Some(speaker.clone()),
                    });
                }
                false
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                // The client's consent checks have stopped: its network changed or went away.
                // ICE-lite cannot look for a new path itself; the client may, with an ICE
                // restart, so the peer is only given up after a grace period.
                self.peers[idx].ice_lost_at.get_or_insert(now);
                false
            }
            Event::IceConnectionStateChange(IceConnectionState::Checking)
                if self.peers[idx].connected =>
            {
                // An ICE restart: the client is moving to a new path; the old one may already
                // be gone. Same grace as a lost connection, and the outage is not congestion.
                self.peers[idx].ice_lost_at.get_or_insert(now);
                false
            }
            Event::IceConnectionStateChange(
                IceConnectionState::Connected | IceConnectionState::Completed,
            ) => {
                let peer = &mut self.peers[idx];
                if peer.ice_lost_at.take().is_some() {
                    // Back on a new path: what was lost during the outage says nothing about it,
                    // nor does the estimate that sank while nothing arrived (its pacer would hold
                    // video back to it). Start again from what the link carried before.
                    peer.egress_loss = 0.0;
                    peer.reported_loss = ReportedLoss::default();
                    peer.transport_loss = 0.0;
                    peer.round_trips = RoundTrips::default();
                    peer.loss_ignored_until = Some(now + OUTAGE_REPORTS);
                    let before = peer.proven.map_or(0, |(bps, _)| bps);
                    let restart_at = Bitrate::bps(before.max(INITIAL_ESTIMATE.as_u64()));
                    peer.rtc.bwe().reset(restart_at);
                    peer.estimate = restart_at;
                    // What was lost in the outage is not worth resending (a burst of old video
                    // would hold the new back): drop the resend buffers and start each video
                    // again from a fresh keyframe.
                    let mut fresh = Vec::new();
                    for dt in peer.downtracks.iter().filter(|d| d.active) {
                        // Audio tracks are skipped by `request_keyframe`.
                        if let Some(layer) = dt.current {
                            fresh.push((dt.track, layer));
                        }
                        if let Some(tx) = peer.rtc.direct_api().stream_tx_by_mid(dt.mid, None) {
                            tx.set_rtx_cache(RTX_CACHE_PACKETS, RTX_CACHE_AGE, Some(RTX_RATIO_CAP));
                        }
                    }
                    for (track, layer) in fresh {
                        self.request_keyframe(track, layer, KeyframeRequestKind::Pli, now);
                    }
                }
                false
            }
            _ => false,
        }
    }

    fn forward(&mut self, from: usize, packet: RtpPacket, now: Instant) -> bool {
        let Some((mid, rid)) = self.peers[from]
            .rtc
            .direct_api()
            .stream_rx(&packet.header.ssrc)
            .map(|s| (s.mid(), s.rid()))
        else {
            return false;
        };
        let publisher = &self.peers[from].participant;
        let Some(track_idx) = self
            .tracks
            .iter()
            .position(|t| t.mid == mid && &t.publisher == publisher)
        else {
            return false;
        };
        let track = &mut self.tracks[track_idx];
        let Some(layer) = track
            .layers
            .iter()
            .position(|l| l.rid == rid)
            .or_else(|| (track.layers.len() == 1).then_some(0))
        else {
            return false;
        };
        let (track_id, kind) = (track.id, track.kind);
        track.layers[layer].meter.record(packet.payload.len(), now);
        if kind == MediaKind::Audio
            && let Some(level) = packet.header.ext_vals.audio_level
        {
            track
                .speech
                .record(level, packet.header.ext_vals.voice_activity, now);
        }

        let in_pt = packet.header.payload_type;
        let in_params = match track.payload_params.iter().find(|(pt, _)| *pt == in_pt) {
            Some((_, params)) => *params,
            None => {
                let params = self.peers[from]
                    .rtc
                    .codec_config()
                    .find(|p| p.pt() == in_pt || p.red() == Some(in_pt))
                    .cloned();
                track.payload_params.push((in_pt, params));
                params
            }
        };
        let codec = in_params.map(|p| p.spec().codec);
        let vp8 = (codec == Some(Codec::Vp8))
            .then(|| Vp8Descriptor::parse(&packet.payload))
            .flatten();
        let starts_keyframe = kind == MediaKind::Video
            && match (codec, &vp8) {
                (Some(Codec::Vp8), Some(d)) => d.starts_keyframe(&packet.payload),
                (Some(Codec::Vp8), None) => false,
                (Some(c), _) => keyframe::starts_keyframe(c, &packet.payload),
                (None, _) => false,
            };
        if let Some(height) = vp8
            .and_then(|d| d.keyframe_size(&packet.payload))
            .map(|s| s.1)
        {
            self.tracks[track_idx].layers[layer].height = Some(height);
        }

        let ext = &packet.header.ext_vals;
        let ext_vals = ExtensionValues {
            audio_level: ext.audio_level,
            voice_activity: ext.voice_activity,
            video_orientation: ext.video_orientation,
            video_content_type: ext.video_content_type,
            ..Default::default()
        };
        let mut wrote = false;
        let mut keyframe_wanted = false;
        for to in 0..self.peers.len() {
            if to == from {
                continue;
            }
            let peer = &mut self.peers[to];
            let Some(dt) = peer
                .downtracks
                .iter_mut()
                .find(|d| d.track == track_id && d.active)
            else {
                continue;
            };
            if kind == MediaKind::Video && dt.current != Some(layer) {
                if dt.choice.target != Some(layer) {
                    continue;
                }
                if !starts_keyframe {
                    keyframe_wanted = true;
                    continue;
                }
                // The chosen layer starts a keyframe: the subscriber moves to it here.
                dt.rewriter.switch_source(
                    *packet.seq_no,
                    packet.header.timestamp,
                    now,
                    VIDEO_CLOCK_RATE,
                );
                if let Some(d) = &vp8 {
                    dt.vp8
                        .switch_source(d.picture_id.map(|p| p.0), d.tl0_pic_idx);
                }
                dt.current = Some(layer);
            }
            let out_pt = match dt.pt_map.iter().find(|(i, _)| *i == in_pt) {
                Some((_, out)) => *out,
                None => {
                    let out = in_params.and_then(|p| {
                        let matched = peer.rtc.codec_config().match_params(p)?;
                        // RED travels as RED where both ends speak it; else it is not sent.
                        if p.red() == Some(in_pt) {
                            matched.red()
                        } else {
                            Some(matched.pt())
                        }
                    });
                    dt.pt_map.push((in_pt, out));
                    out
                }
            };
            let Some(out_pt) = out_pt else { continue };
            let Some(out) = dt
                .rewriter
                .rewrite(*packet.seq_no, packet.header.timestamp, now)
            else {
                continue;
            };
            let mut write = RtpWrite::new(
                out_pt,
                out.seq.into(),
                out.ts,
                packet.timestamp,
                packet.payload.clone(),
            )
            .marker(packet.header.marker)
            .ext_vals(ext_vals.clone())
            // Audio is not retransmitted: a late audio packet is worse than a lost one.
            .nackable(kind == MediaKind::Video);
            if let Some(d) = &vp8 {
                let (pid, tl0) = dt.vp8.rewrite(d.picture_id, d.tl0_pic_idx, out.newest);
                if let Some(patch) = vp8_patch(&packet.payload, pid, tl0) {
                    write = write.vp8_patch(patch);
                }
            }
            let mid = dt.mid;
            let mut api = peer.rtc.direct_api();
            let Some(tx) = api.stream_tx_by_mid(mid, None) else {
                continue;
            };
            tx.write_rtp(write);
            peer.egress.record(packet.payload.len(), now);
            self.forwarded_packets += 1;
            self.forwarded_bytes += packet.payload.len() as u64;
            wrote = true;
        }
        if keyframe_wanted {
            // Throttled per layer: subscribers waiting for it share one request every 300 ms.
            self.request_keyframe(track_id, layer, KeyframeRequestKind::Pli, now);
        }
        wrote
    }

    fn request_keyframe(
        &mut self,
        track_id: u64,
        layer: usize,
        kind: KeyframeRequestKind,
        now: Instant,
    ) {
        let Some(track) = self.tracks.iter_mut().find(|t| t.id == track_id) else {
            return;
        };
        if track.kind != MediaKind::Video {
            return;
        }
        let Some(layer) = track.layers.get_mut(layer) else {
            return;
        };
        // Logged at debug level (requests come a few a second at most, not per packet) so that a
        // frozen video can be traced from the subscriber's request to the publisher's keyframe.
        if layer
            .last_keyframe_request
            .is_some_and(|at| now.saturating_duration_since(at) < KEYFRAME_REQUEST_INTERVAL)
        {
            tracing::debug!(room_id = %self.id, publisher = %track.publisher, rid = ?layer.rid, "keyframe request merged with the last");
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
        if let Some(rx) = api.stream_rx_by_mid(track.mid, layer.rid) {
            rx.request_keyframe(kind);
            layer.last_keyframe_request = Some(now);
            self.keyframe_requests += 1;
            tracing::debug!(room_id = %self.id, publisher = %track.publisher, rid = ?layer.rid, ?kind, "keyframe requested");
        }
    }

    /// Revisits every subscriber's layer choices against its bandwidth estimate and rendered
    /// sizes, asks publishers for keyframes of newly chosen layers, tells subscribers when video
    /// pauses or resumes for bandwidth, and tells each subscriber's congestion controller what
    /// rate to sustain and what to probe for.
    fn allocate(&mut self, now: Instant) {
        self.next_allocation = now + ALLOCATION_INTERVAL;
        let mut keyframes = Vec::new();
        for peer in &mut self.peers {
            let tracks = &self.tracks;
            let track_of = |dt: &Downtrack| tracks.iter().find(|t| t.id == dt.track);
            let mut audio_bps = 0;
            let mut shown_video = 0u64;
            for dt in peer.downtracks.iter().filter(|d| d.active) {
                match track_of(dt) {
                    Some(t) if t.kind == MediaKind::Audio => audio_bps += t.audio_bps(now),
                    Some(_) if dt.render_height != Some(0) => shown_video += 1,
                    _ => {}
                }
            }
            // Audio first; the rest is shared evenly between the videos on screen. A congestion
            // controller never estimates far above what is sent, so an estimate is only taken
            // as a limit when it has fallen below what the SFU sends: that is congestion. Until
            // then every video keeps at least its current (or lowest) layer.
            let sent = peer.egress.bps(now) as f64;
            let lossy = peer.egress_loss > CONGESTION_LOSS;
            // Under heavy loss the estimate may not have caught up yet; what arrives is the
            // better measure of the link, less a margin to drain the queue.
            let estimate = if lossy {
                let arriving = sent * f64::from(1.0 - peer.egress_loss) * 0.85;
                peer.estimate.as_u64().min(arriving as u64)
            } else {
                peer.estimate.as_u64()
            };
            // An estimate far below what is sent counts only with some loss to back it: a
            // receiver whose feedback leaves out some streams makes the estimate low for no
            // reason, and a full link drops packets soon enough.
            let congested = lossy
                || ((estimate as f64) < CONGESTED_RATIO * sent && peer.egress_loss > LOSS_NOTICED);
            // What this link has carried cleanly lately counts as capacity too: an estimate that
            // sank while there was little to send (a publisher's top layer was off for a while)
            // says nothing about the link, and a layer that comes back should not have to earn
            // its way up again. Congestion forgets it.
            if congested {
                peer.proven = None;
            } else if peer.egress_loss < LOSS_NOTICED
                && peer.loss_ignored_until.is_none_or(|until| now >= until)
            {
                let keep = peer.proven.filter(|(bps, at)| {
                    *bps as f64 >= sent && now.saturating_duration_since(*at) < PROVEN_FOR
                });
                if keep.is_none() {
                    peer.proven = Some((sent as u64, now));
                }
            }
            let capacity = match peer.proven {
                Some((bps, at)) if !congested && now.saturating_duration_since(at) < PROVEN_FOR => {
                    estimate.max(bps)
                }
                _ => estimate,
            };
            let share = capacity.saturating_sub(audio_bps) / shown_video.max(1);
            // What the chosen layers need (padding fills in while media is below it, e.g. while
            // waiting for a keyframe), what the next layer up would need, and the best wanted.
            let (mut chosen, mut next, mut best_bps) = (audio_bps, audio_bps, audio_bps);
            let mut upgrade_wanted = false;
            let mut cut_for_congestion = false;
            for dt in peer.downtracks.iter_mut().filter(|d| d.active) {
                let Some(track) = track_of(dt) else { continue };
                if track.kind != MediaKind::Video {
                    continue;
                }
                let views = track.layer_views(now);
                let need_of = |layer: Option<usize>| layer.map_or(0, |l| views[l].need_bps());
                let lowest = views.iter().position(|l| l.active);
                // Without congestion every video keeps at least its current layer. Congestion
                // can take it down to the lowest layer; only heavy loss pauses it: random loss
                // on a radio link (which also lowers the estimate) is for retransmission and
                // RED to mend, not a reason to stop the video.
                let budget = if lossy {
                    share
                } else if congested {
                    share.max(need_of(lowest))
                } else {
                    share.max(need_of(dt.choice.target.or(lowest)))
                };
                let before = dt.choice.target;
                let changed = if dt.render_height == Some(0) {
                    let changed = dt.choice.target.is_some();
                    dt.choice = LayerChoice::default();
                    changed
                } else {
                    dt.choice.update(&views, budget, dt.render_height, now)
                };
                if changed {
                    tracing::debug!(
                        room_id = %self.id,
                        participant_id = %peer.participant,
                        publisher = %track.publisher,
                        layer = ?dt.choice.target,
                        budget,
                        estimate,
                        sent = sent as u64,
                        loss = peer.egress_loss,
                        "video layer chosen"
                    );
                    cut_for_congestion |= congested && dt.choice.target < before;
                    match dt.choice.target {
                        Some(layer) => keyframes.push((track.id, layer)),
                        // Paused or hidden: stop at once, the link needs the room.
                        None => dt.current = None,
                    }
                }
                let best = if dt.render_height == Some(0) {
                    None
                } else {
                    best_fit(&views, u64::MAX, dt.render_height, 1.0)
                };
                let next_up = match (dt.choice.target, best) {
                    (Some(t), Some(b)) if b > t => Some(t + 1),
                    (None, Some(_)) => views.iter().position(|l| l.active),
                    (t, _) => t,
                };
                upgrade_wanted |= next_up != dt.choice.target;
                chosen += dt.choice.target.map_or(0, |l| views[l].need_bps());
                next += next_up.map_or(0, |l| views[l].need_bps());
                best_bps += best.map_or(0, |l| views[l].need_bps());
                let paused = dt.choice.paused_for_bandwidth();
                if paused != dt.told_paused {
                    dt.told_paused = paused;
                    self.events.push_back(RoomEvent::VideoPaused {
                        participant: peer.participant.clone(),
                        publisher: track.publisher.clone(),
                        paused,
                    });
                }
            }
            if cut_for_congestion {
                // The loss that made the cut is being dealt with, but the link's queue drains
                // for a moment yet and the reports in the next seconds still cover the time
                // before: taken at once they would cut again, or pause, a link that now carries
                // what it is sent. Loss is left where it would not pause video and not updated
                // until the cut has settled; loss that goes on after that pauses it soon.
                peer.egress_loss = peer.egress_loss.min(CONGESTION_LOSS);
                peer.reported_loss = ReportedLoss::default();
                peer.loss_ignored_until = Some(now + CUT_SETTLES);
                peer.probe.back_off(now);
            }
            if peer.connected {
                let was_trial = peer.probe.trial.is_some();
                let queue_delay = peer.round_trips.queue_delay();
                let plan = peer.probe.plan(
                    now,
                    estimate,
                    congested || peer.transport_loss > LOSS_NOTICED || queue_delay > STANDING_QUEUE,
                    upgrade_wanted,
                    chosen,
                    next,
                    best_bps,
                );
                if was_trial != peer.probe.trial.is_some() || plan.restart_estimator {
                    tracing::debug!(
                        room_id = %self.id,
                        participant_id = %peer.participant,
                        trial = peer.probe.trial.is_some(),
                        restart_estimator = plan.restart_estimator,
                        estimate,
                        sent = sent as u64,
                        loss = peer.egress_loss,
                        congested,
                        queue_delay_ms = queue_delay.as_millis() as u64,
                        chosen,
                        next,
                        "bandwidth trial"
                    );
                }
                let mut bwe = peer.rtc.bwe();
                if plan.restart_estimator {
                    bwe.reset(Bitrate::bps(estimate));
                }
                bwe.set_bitrate(Bitrate::bps(plan.sustain), Bitrate::bps(plan.desired));
            }
        }
        for (track, layer) in keyframes {
            self.request_keyframe(track, layer, KeyframeRequestKind::Pli, now);
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
                    vp8: Vp8Renumber::default(),
                    pt_map: Vec::new(),
                    // Audio has one layer and no keyframes: it flows from the first packet.
                    current: (track.kind == MediaKind::Audio).then_some(0),
                    choice: LayerChoice::default(),
                    render_height: None,
                    told_paused: false,
                    last_report: None,
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
        self.quality_changed = true;
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

    /// Re-decides who has the floor from every audio track's speech; tells the room when the
    /// floor moves.
    fn choose_speaker(&mut self, now: Instant) {
        self.next_speaker_check = Some(now + SPEAKER_INTERVAL);
        let mut speech: Vec<(ParticipantId, Speech)> = Vec::new();
        for track in self.tracks.iter().filter(|t| t.kind == MediaKind::Audio) {
            let heard = track.speech.speech(now);
            // A participant with two microphones speaks with the louder.
            match speech.iter_mut().find(|(p, _)| *p == track.publisher) {
                Some((_, s)) if s.loudness >= heard.loudness => {}
                Some((_, s)) => *s = heard,
                None => speech.push((track.publisher.clone(), heard)),
            }
        }
        if self.floor.update(&speech, now) {
            self.events.push_back(RoomEvent::ActiveSpeaker {
                participant: self.floor.holder().cloned(),
            });
        }
    }

    /// Refreshes every peer's quality snapshot and, every [`QUALITY_REPORT_INTERVAL`], tells
    /// each connected peer its own.
    fn refresh_quality(&mut self, now: Instant) {
        self.next_quality_refresh = Some(now + QUALITY_INTERVAL);
        let report = self.next_quality_report.is_none_or(|at| now >= at);
        if report {
            self.next_quality_report = Some(now + QUALITY_REPORT_INTERVAL);
        }
        let tracks = &self.tracks;
        for peer in &mut self.peers {
            let bitrate_up = tracks
                .iter()
                .filter(|t| t.publisher == peer.participant)
                .flat_map(|t| &t.layers)
                .map(|l| l.meter.bps(now))
                .sum();
            let videos = peer
                .downtracks
                .iter()
                .filter(|d| d.active)
                .filter_map(|d| {
                    let track = tracks.iter().find(|t| t.id == d.track)?;
                    (track.kind == MediaKind::Video).then(|| ReceivedVideo {
                        publisher: track.publisher.clone(),
                        layer: d.current,
                        paused: d.told_paused,
                    })
                })
                .collect();
            peer.quality = peer
                .link
                .snapshot(now, bitrate_up, peer.egress.bps(now), videos);
            if report && peer.connected {
                self.events.push_back(RoomEvent::Quality {
                    participant: peer.participant.clone(),
                    quality: peer.quality.clone(),
                });
            }
        }
        self.quality_changed = true;
    }

    /// Every participant's quality as of the last refresh (once a second).
    pub fn quality(&self) -> impl Iterator<Item = (&ParticipantId, &Quality)> {
        self.peers.iter().map(|p| (&p.participant, &p.quality))
    }

    /// Whether [`Self::quality`] changed since the last call: refreshed, or someone left.
    pub fn take_quality_changed(&mut self) -> bool {
        std::mem::take(&mut self.quality_changed)
    }
}

fn is_audio(rtc: &Rtc, mid: Mid) -> bool {
    rtc.media(mid).is_some_and(|m| m.kind() == MediaKind::Audio)
}

/// A peer's round trips (from transport-wide feedback): the latest, and the lowest in the last
/// one or two [`RTT_FLOOR_WINDOW`]s, which is the path's own delay with an empty queue.
#[derive(Debug, Default)]
struct RoundTrips {
    latest: Option<Duration>,
    lowest: Option<Duration>,
    lowest_before: Option<Duration>,
    window_started: Option<Instant>,
}

impl RoundTrips {
    fn record(&mut self, rtt: Duration, now: Instant) {
        let started = *self.window_started.get_or_insert(now);
        if now.saturating_duration_since(started) >= RTT_FLOOR_WINDOW {
            self.lowest_before = self.lowest.take();
            self.window_started = Some(now);
        }
        self.lowest = Some(self.lowest.map_or(rtt, |l| l.min(rtt)));
        self.latest = Some(rtt);
    }

    /// How much longer the latest round trip took than the path's lowest: time in a queue.
    fn queue_delay(&self) -> Duration {
        let floor = self.lowest.into_iter().chain(self.lowest_before).min();
        match (self.latest, floor) {
            (Some(latest), Some(floor)) => latest.saturating_sub(floor),
            _ => Duration::ZERO,
        }
    }
}

impl ProbeState {
    /// The link could not take more: no trial for a while, a longer while each time.
    fn back_off(&mut self, now: Instant) {
        self.trial = None;
        self.next_trial_at = Some(now + self.backoff);
        self.backoff = (self.backoff * 2).min(PROBE_BACKOFF_MAX);
    }

    /// What the congestion controller should sustain and probe for. A congestion controller never
    /// estimates much above what is actually sent (GCC caps increases at 1.5 times the observed
    /// rate), so a better layer cannot be earned by waiting: the SFU pads the link up to the next
    /// layer's rate for a trial, during which the estimate either rises to allow the switch or
    /// falls (the link is full). A failed trial backs off before the next, so a poor link is not
    /// pushed into loss again and again; outside trials only the chosen layers are sustained.
    ///
    /// `strained`: the link is congested, losing packets or queueing ([`STANDING_QUEUE`]). No
    /// trial starts on such a link (a link that already drops some of what it carries drops more
    /// of what is added), and one under way ends: every extra packet there costs the audio its
    /// share.
    ///
    /// A trial that ran its whole time without strain while the estimate did not move at all
    /// found an estimator that is holding, not measuring: str0m's loss-based estimator keeps its
    /// estimate for up to a minute after a loss ("hold") and allows no probe meanwhile, and its
    /// probe controller can miss the end of that state when the estimate it hands back does not
    /// change. A link that carried the padded rate cleanly for five seconds has room; the
    /// estimator is restarted from its estimate (at most every
    /// [`ESTIMATOR_RESTART_INTERVAL`]) and the trial goes on.
    #[allow(clippy::too_many_arguments)]
    fn plan(
        &mut self,
        now: Instant,
        estimate: u64,
        strained: bool,
        upgrade_wanted: bool,
        chosen: u64,
        next: u64,
        best: u64,
    ) -> ProbePlan {
        let mut restart_estimator = false;
        if let Some(trial) = self.trial.as_mut() {
            trial.estimates = (
                trial.estimates.0.min(estimate),
                trial.estimates.1.max(estimate),
            );
            let trial = *trial;
            // A link that cannot carry even the chosen layers any more is full. (The estimate
            // at the trial's start is no yardstick: it may have been a passing peak.)
            let failed = strained || estimate < chosen;
            // (The chosen rate moves with the audio's; a layer up is a step of half again.)
            if !upgrade_wanted || chosen > trial.chosen + trial.chosen / 4 {
                // A layer up was taken: the link carried it. Go on probing for the next one
                // straight away, if one is wanted.
                self.trial = upgrade_wanted.then(|| Trial::new(now, chosen, estimate));
                self.backoff = PROBE_BACKOFF_MIN;
            } else if failed {
                self.back_off(now);
            } else if now.saturating_duration_since(trial.started) >= PROBE_TRIAL
                // A trial whose estimate already carries the next layer runs on until the
                // switch has waited out its hold.
                && (estimate < next
                    || now.saturating_duration_since(trial.started) >= PROBE_TRIAL_MAX)
            {
                let (low, high) = trial.estimates;
                let held = (high - low) as f64 <= high as f64 * HELD_ESTIMATE_SPREAD;
                let may_restart = self.estimator_restarted_at.is_none_or(|at| {
                    now.saturating_duration_since(at) >= ESTIMATOR_RESTART_INTERVAL
                });
                if held && may_restart {
                    restart_estimator = true;
                    self.estimator_restarted_at = Some(now);
                    self.trial = Some(Trial::new(now, chosen, estimate));
                } else {
                    self.back_off(now);
                }
            }
        } else if upgrade_wanted
            && !strained
            && estimate >= chosen
            && self.next_trial_at.is_none_or(|at| now >= at)
        {
            self.trial = Some(Trial::new(now, chosen, estimate));
        }
        // During a trial str0m's probes look for the best layers' rate, so a good link climbs
        // to them at once. After a failed trial, or congestion, only for what the next layer
        // needs with room for the switch: a probe is a burst, and a burst far above a slow
        // link's rate overflows its buffer and takes audio packets with it.
        let careful = self.backoff > PROBE_BACKOFF_MIN;
        let (sustain, desired) = match self.trial {
            Some(_) if careful => (next, next + next / 2),
            Some(_) => (next, best + best / 4),
            None => (chosen, chosen),
        };
        ProbePlan {
            sustain,
            desired,
            restart_estimator,
        }
    }
}

/// Adds `usedtx=1` to the Opus format parameters of an SDP (the receiver's wish that the sender
/// use discontinuous transmission).
fn with_opus_dtx(sdp: &str) -> String {
    let opus_pts: Vec<&str> = sdp
        .lines()
        .filter_map(|l| l.strip_prefix("a=rtpmap:"))
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, codec)| codec.to_ascii_lowercase().starts_with("opus/"))
        .map(|(pt, _)| pt)
        .collect();
    let mut out = String::with_capacity(sdp.len() + 16 * opus_pts.len());
    for line in sdp.split_inclusive('\n') {
        let body = line.trim_end_matches(['\r', '\n']);
        let is_opus_fmtp = body
            .strip_prefix("a=fmtp:")
            .and_then(|l| l.split_once(' '))
            .is_some_and(|(pt, params)| opus_pts.contains(&pt) && !params.contains("usedtx"));
        if is_opus_fmtp {
            out.push_str(body);
            out.push_str(";usedtx=1");
            out.push_str(&line[body.len()..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// The VP8 descriptor patch that writes the subscriber's picture ID and TL0PICIDX, when there is
/// something to write.
fn vp8_patch(
    payload: &[u8],
    picture_id: Option<u16>,
    tl0_pic_idx: Option<u8>,
) -> Option<str0m::rtp::Vp8Patch> {
    if picture_id.is_none() && tl0_pic_idx.is_none() {
        return None;
    }
    let parsed = str0m::rtp::Vp8Descriptor::parse(payload).ok()?;
    let mut patch = parsed.patch();
    if let Some(pid) = picture_id {
        patch = patch.picture_id(pid);
    }
    if let Some(tl0) = tl0_pic_idx {
        patch = patch.tl0_pic_idx(tl0);
    }
    patch.build().ok()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{
        ESTIMATOR_RESTART_INTERVAL, PROBE_BACKOFF_MIN, PROBE_TRIAL, PROBE_TRIAL_MAX, ProbeState,
        RTT_FLOOR_WINDOW, RoundTrips, with_opus_dtx,
    };

    fn idle_probe() -> ProbeState {
        ProbeState {
            trial: None,
            next_trial_at: None,
            backoff: PROBE_BACKOFF_MIN,
            estimator_restarted_at: None,
        }
    }

    /// Runs a clean trial for a better layer (chosen 600 kbit/s, next 1 Mbit/s) for `PROBE_TRIAL`
    /// with the estimates given, one per 200 ms allocation round, the last repeated. Returns
    /// whether a round asked for the estimator to be restarted.
    fn clean_trial(probe: &mut ProbeState, start: Instant, estimates: &[u64]) -> bool {
        let rounds = PROBE_TRIAL.as_millis() / 200 + 1;
        let mut restarted = false;
        for round in 0..rounds {
            let now = start + Duration::from_millis(200 * round as u64);
            let estimate = estimates[(round as usize).min(estimates.len() - 1)];
            let plan = probe.plan(now, estimate, false, true, 600_000, 1_000_000, 1_000_000);
            restarted |= plan.restart_estimator;
        }
        restarted
    }

    #[test]
    fn a_clean_trial_whose_estimate_never_moved_restarts_the_estimator_and_goes_on() {
        let t0 = Instant::now();
        let mut probe = idle_probe();
        assert!(clean_trial(&mut probe, t0, &[877_011]));
        assert!(probe.trial.is_some(), "the trial goes on after the restart");
        assert!(probe.next_trial_at.is_none(), "no back-off");
    }

    /// Seen in the downlink browser test on a clean link: the estimate held at exactly 512 183
    /// bit/s, above the next layer's 479 564 but short of the switch's headroom, and the trial
    /// padded on for 22 s without the switch or a restart.
    #[test]
    fn a_trial_held_just_above_the_next_layer_restarts_the_estimator_after_its_longest_time() {
        let t0 = Instant::now();
        let mut probe = idle_probe();
        let mut restarted_at = None;
        for round in 0..=(PROBE_TRIAL_MAX.as_millis() / 200) as u64 {
            let now = t0 + Duration::from_millis(200 * round);
            let plan = probe.plan(now, 512_183, false, true, 243_778, 479_564, 1_200_000);
            if plan.restart_estimator {
                restarted_at.get_or_insert(now - t0);
            }
        }
        assert_eq!(
            restarted_at,
            Some(PROBE_TRIAL_MAX),
            "restarted once the trial ran its longest"
        );
        assert!(probe.trial.is_some(), "and the trial goes on");
    }

    #[test]
    fn a_trial_whose_estimate_moved_backs_off_as_before() {
        let t0 = Instant::now();
        let mut probe = idle_probe();
        assert!(!clean_trial(&mut probe, t0, &[850_000, 870_000, 880_000]));
        assert!(probe.trial.is_none());
        assert!(probe.next_trial_at.is_some(), "backed off");
    }

    #[test]
    fn a_held_estimator_is_restarted_at_most_every_interval() {
        let t0 = Instant::now();
        let mut probe = idle_probe();
        assert!(clean_trial(&mut probe, t0, &[877_011]));
        let second = t0 + PROBE_TRIAL + Duration::from_millis(200);
        assert!(
            !clean_trial(&mut probe, second, &[877_011]),
            "too soon for a second restart"
        );
        assert!(probe.trial.is_none(), "backed off instead");
        let later = t0 + ESTIMATOR_RESTART_INTERVAL + PROBE_TRIAL;
        assert!(clean_trial(&mut probe, later, &[877_011]));
    }

    #[test]
    fn opus_gets_dtx_and_nothing_else_changes() {
        let sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 63\r\na=rtpmap:111 opus/48000/2\r\n\
                   a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:63 red/48000/2\r\n\
                   a=fmtp:63 111/111\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=fmtp:96 x=1\r\n";
        let out = with_opus_dtx(sdp);
        assert!(
            out.contains("a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1\r\n"),
            "{out}"
        );
        assert!(out.contains("a=fmtp:63 111/111\r\n"));
        assert!(out.contains("a=fmtp:96 x=1\r\n"));
        assert_eq!(with_opus_dtx(&out), out, "added once");
    }

    #[test]
    fn queue_delay_is_the_latest_round_trip_above_the_lowest_of_the_last_windows() {
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        let mut rtts = RoundTrips::default();
        assert_eq!(rtts.queue_delay(), Duration::ZERO, "nothing known yet");
        rtts.record(ms(30), t0);
        rtts.record(ms(25), t0 + ms(1000));
        rtts.record(ms(220), t0 + ms(2000));
        assert_eq!(rtts.queue_delay(), ms(195), "a full 200 ms buffer");
        rtts.record(ms(40), t0 + ms(3000));
        assert_eq!(rtts.queue_delay(), ms(15), "drained");

        // The path got longer (another route): its new lowest counts once the old one has aged
        // out of both windows.
        let mut at = t0 + ms(3000) + RTT_FLOOR_WINDOW;
        rtts.record(ms(120), at);
        assert_eq!(
            rtts.queue_delay(),
            ms(95),
            "the old lowest is one window back"
        );
        at += RTT_FLOOR_WINDOW;
        rtts.record(ms(120), at);
        assert_eq!(rtts.queue_delay(), Duration::ZERO, "the path's new lowest");
    }
}
