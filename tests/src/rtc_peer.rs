//! A WebRTC endpoint for tests, on the `webrtc` crate: publishes synthetic Opus and VP8 and
//! records every RTP packet it receives. It knows nothing of signalling; [`crate::peer`] drives it
//! over the Närvaro protocol, and its own tests drive two of them against each other.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use rtc::interceptor::{Attribute, Interceptor, Packet, Registry, Slot, StreamInfo, TaggedPacket};
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters,
    RTCRtpEncodingParameters, RtpCodecKind,
};
use rtc::sansio::Protocol;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceConnectionState, RTCIceGatheringState, RTCPeerConnectionState,
    RTCSessionDescription, SettingEngineBuilder, StatsSelector,
};
use webrtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit, RtpSender};

use crate::media::{
    Kind, MediaProfile, OPUS_FRAME_MS, OpusSource, ReceivedPacket, TrackLog, VIDEO_FPS, Vp8Source,
};
use crate::sdp::{self, MediaSection};

/// How long to wait for ICE gathering or a connection before failing the test.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// How often the peer's ICE agent runs a round of connectivity checks while connecting: RFC 8445's
/// pacing `Ta` default (50 ms, §14.2). webrtc-rs's own default is 200 ms, and a capture of a join
/// shows what that costs: it nominates the pair one round after its first check succeeded and
/// sends its first DTLS flight one round after that, so a join waited about 400 ms on the
/// client's own timer while the SFU answered each step within a millisecond
/// (docs/benchmarks.md, "SFU", join latency).
pub const ICE_CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// Checks per candidate pair before it is given up: as many as webrtc-rs's default (7 rounds
/// of 200 ms) allow in the same 1.4 s, so a slow answer on a busy machine fails no sooner.
const ICE_MAX_BINDING_REQUESTS: u16 = 28;

pub type Result<T, E = PeerError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("webrtc: {0}")]
    Webrtc(#[from] webrtc::error::Error),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("{0}")]
    Other(String),
}

/// Opus as browsers offer it.
pub const OPUS_PAYLOAD_TYPE: u8 = 111;
/// VP8 as browsers usually number it.
pub const VP8_PAYLOAD_TYPE: u8 = 96;

fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

fn vp8_codec() -> RTCRtpCodec {
    let fb = |typ: &str, parameter: &str| RTCPFeedback {
        typ: typ.to_owned(),
        parameter: parameter.to_owned(),
    };
    RTCRtpCodec {
        mime_type: MIME_TYPE_VP8.to_owned(),
        clock_rate: 90_000,
        channels: 0,
        sdp_fmtp_line: String::new(),
        rtcp_feedback: vec![
            fb("goog-remb", ""),
            fb("ccm", "fir"),
            fb("nack", ""),
            fb("nack", "pli"),
        ],
    }
}

/// How a peer numbers its codecs in its own offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerOptions {
    pub opus_payload_type: u8,
    pub vp8_payload_type: u8,
}

impl Default for PeerOptions {
    fn default() -> Self {
        Self {
            opus_payload_type: OPUS_PAYLOAD_TYPE,
            vp8_payload_type: VP8_PAYLOAD_TYPE,
        }
    }
}

/// Opus and VP8 only: what a test peer sends, and so all it needs to receive.
fn media_engine(options: PeerOptions) -> Result<MediaEngine> {
    let mut engine = MediaEngine::default();
    engine.register_codec(
        RTCRtpCodecParameters {
            rtp_codec: opus_codec(),
            payload_type: options.opus_payload_type,
        },
        RtpCodecKind::Audio,
    )?;
    engine.register_codec(
        RTCRtpCodecParameters {
            rtp_codec: vp8_codec(),
            payload_type: options.vp8_payload_type,
        },
        RtpCodecKind::Video,
    )?;
    Ok(engine)
}

/// Hands keyframe requests (PLI, FIR) for our tracks to the application, as a browser's encoder
/// sees them; every other inbound RTCP stays with the interceptors. Placed last in the chain so
/// the others have seen everything first (the `webrtc` crate's `rtcp-processing` example).
struct KeyframeRequestsToApplication {
    read: VecDeque<TaggedPacket>,
    write: VecDeque<TaggedPacket>,
}

fn is_keyframe_request(packet: &dyn rtc::rtcp::Packet) -> bool {
    let any = packet.as_any();
    any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>()
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for KeyframeRequestsToApplication {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = webrtc::error::Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            let requests: Vec<Box<dyn rtc::rtcp::Packet>> = packets
                .iter()
                .filter(|p| is_keyframe_request(p.as_ref()))
                .cloned()
                .collect();
            if requests.is_empty() {
                return Ok(());
            }
            msg.message.packet = Packet::Rtcp(requests);
            msg.message.add(Attribute::DeliverToApplication);
        }
        self.read.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.read.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.write.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.write.pop_front()
    }
}

impl Interceptor for KeyframeRequestsToApplication {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}

/// Called with every RTP packet a peer receives, on the task that reads the track: the load
/// generator's latency and continuity counters. Keep it cheap.
pub type PacketObserver = Arc<dyn Fn(Kind, &rtc::rtp::Packet) + Send + Sync>;

/// When a connection reached each stage, for join-time measurements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Milestones {
    /// ICE found a working candidate pair.
    pub ice_connected: Option<Instant>,
    /// DTLS finished too: the peer connection is `connected`.
    pub dtls_connected: Option<Instant>,
    /// The first RTP packet of any remote track arrived.
    pub first_rtp: Option<Instant>,
}

/// State the connection's event handler shares with the [`MediaPeer`].
struct Shared {
    label: String,
    connection: watch::Sender<RTCPeerConnectionState>,
    gathering: watch::Sender<RTCIceGatheringState>,
    /// One log per remote track, in the order tracks opened.
    received: Mutex<Vec<TrackLog>>,
    /// Bumped on every received packet so waiters can wake.
    progress: watch::Sender<u64>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    milestones: Mutex<Milestones>,
    observer: OnceLock<PacketObserver>,
}

impl Shared {
    fn milestone(&self, set: impl FnOnce(&mut Milestones)) {
        set(&mut self.milestones.lock().unwrap_or_else(|p| p.into_inner()));
    }

    fn lock_received(&self) -> std::sync::MutexGuard<'_, Vec<TrackLog>> {
        // A poisoned lock means a recording task panicked; the logs are still worth reading.
        self.received.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct Handler(Weak<Shared>);

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if let Some(shared) = self.0.upgrade() {
            shared.gathering.send_replace(state);
        }
    }

    async fn on_ice_connection_state_change(&self, state: RTCIceConnectionState) {
        if let Some(shared) = self.0.upgrade()
            && state == RTCIceConnectionState::Connected
        {
            let now = Instant::now();
            shared.milestone(|m| {
                m.ice_connected.get_or_insert(now);
            });
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        if let Some(shared) = self.0.upgrade() {
            tracing::debug!(peer = %shared.label, %state, "connection state");
            if state == RTCPeerConnectionState::Connected {
                let now = Instant::now();
                shared.milestone(|m| {
                    m.dtls_connected.get_or_insert(now);
                });
            }
            shared.connection.send_replace(state);
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let Some(shared) = self.0.upgrade() else {
            return;
        };
        // This callback runs on the connection's driver: a packet loop here would stall it.
        let weak = Arc::downgrade(&shared);
        let task = tokio::spawn(record_track(weak, track));
        shared
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(task);
    }
}

async fn record_track(shared: Weak<Shared>, track: Arc<dyn TrackRemote>) {
    let kind = match track.kind().await {
        RtpCodecKind::Audio => Kind::Audio,
        _ => Kind::Video,
    };
    let stream_id = track.stream_id().await.to_string();
    let track_id = track.track_id().await.to_string();
    let index = {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        tracing::debug!(peer = %shared.label, %kind, %stream_id, %track_id, "remote track");
        let mut received = shared.lock_received();
        received.push(TrackLog::new(stream_id, track_id, kind));
        received.len() - 1
    };
    let mut pli_sent = false;
    while let Some(event) = track.poll().await {
        let TrackRemoteEvent::OnRtpPacket(packet) = event else {
            continue;
        };
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if let Some(observe) = shared.observer.get() {
            observe(kind, &packet);
        }
        if kind == Kind::Video && !pli_sent {
            // Ask for a key frame once, as a decoder starting mid-stream would.
            pli_sent = true;
            let pli = PictureLossIndication {
                sender_ssrc: 0,
                media_ssrc: packet.header.ssrc,
            };
            let _ = track.write_rtcp(vec![Box::new(pli)]).await;
        }
        if shared.lock_received()[index].packets.is_empty() {
            let now = Instant::now();
            shared.milestone(|m| {
                m.first_rtp.get_or_insert(now);
            });
        }
        shared.lock_received()[index]
            .packets
            .push(ReceivedPacket::from_rtp(&packet, kind));
        shared.progress.send_modify(|n| *n += 1);
    }
}

/// One local track being published.
struct LocalTrack {
    kind: Kind,
    ssrc: u32,
    track: Arc<TrackLocalStaticRTP>,
    sender: Arc<dyn RtpSender>,
    sent: Arc<AtomicU64>,
    keyframe_requests: Arc<AtomicU64>,
}

/// What a publisher sent, for comparing with what others received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentTrack {
    pub kind: Kind,
    pub ssrc: u32,
    pub payload_type: u8,
    pub packets: u64,
    /// PLIs and FIRs that reached this track (each answered with a key frame, for video).
    pub keyframe_requests: u64,
}

/// A WebRTC peer connection with send-only Opus and VP8 tracks and a recorder for remote tracks.
pub struct MediaPeer {
    pc: Arc<dyn PeerConnection>,
    shared: Arc<Shared>,
    local: Vec<LocalTrack>,
    payload_types: Mutex<HashMap<Kind, u8>>,
}

impl MediaPeer {
    /// A peer connection bound to one UDP socket on 127.0.0.1, so its only host candidate is
    /// reachable by a server on the same machine.
    pub async fn new(label: &str) -> Result<Self> {
        Self::with_options(label, PeerOptions::default()).await
    }

    pub async fn with_options(label: &str, options: PeerOptions) -> Result<Self> {
        Self::bound_to(label, options, IpAddr::V4(Ipv4Addr::LOCALHOST)).await
    }

    /// As [`Self::with_options`], its one UDP socket on `ip` instead of 127.0.0.1: for servers
    /// that will not gather loopback candidates (Janus), the machine's own address.
    pub async fn bound_to(label: &str, options: PeerOptions, ip: IpAddr) -> Result<Self> {
        let shared = Arc::new(Shared {
            label: label.to_owned(),
            connection: watch::channel(RTCPeerConnectionState::New).0,
            gathering: watch::channel(RTCIceGatheringState::New).0,
            received: Mutex::new(Vec::new()),
            progress: watch::channel(0).0,
            tasks: Mutex::new(Vec::new()),
            milestones: Mutex::new(Milestones::default()),
            observer: OnceLock::new(),
        });
        let mut engine = media_engine(options)?;
        let registry = register_default_interceptors(Registry::new(), &mut engine)?.with(
            Slot::from(14_000),
            KeyframeRequestsToApplication {
                read: VecDeque::new(),
                write: VecDeque::new(),
            },
        );
        let settings = SettingEngineBuilder::new()
            .with_ice_connection_attempts(Some(ICE_CHECK_INTERVAL), Some(ICE_MAX_BINDING_REQUESTS))
            .build();
        let pc = PeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_setting_engine(settings)
            .with_media_engine(engine)
            .with_interceptor_registry(registry)
            .with_handler(Arc::new(Handler(Arc::downgrade(&shared))))
            .with_udp_addrs(vec![SocketAddr::new(ip, 0).to_string()])
            .build()
            .await?;
        Ok(Self {
            pc: Arc::new(pc),
            shared,
            local: Vec::new(),
            payload_types: Mutex::new(HashMap::new()),
        })
    }

    pub fn label(&self) -> &str {
        &self.shared.label
    }

    pub fn connection(&self) -> &Arc<dyn PeerConnection> {
        &self.pc
    }

    /// Adds a send-only Opus track and a send-only VP8 track in one media stream `stream_id`.
    pub async fn add_local_tracks(&mut self, stream_id: &str) -> Result<()> {
        for (kind, codec) in [(Kind::Audio, opus_codec()), (Kind::Video, vp8_codec())] {
            let ssrc = rand::random::<u32>();
            let rtc_kind = if kind == Kind::Audio {
                RtpCodecKind::Audio
            } else {
                RtpCodecKind::Video
            };
            let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
                stream_id.to_owned(),
                format!("{}-{kind}", self.shared.label),
                format!("{} {kind}", self.shared.label),
                rtc_kind,
                vec![RTCRtpEncodingParameters {
                    rtp_coding_parameters: RTCRtpCodingParameters {
                        ssrc: Some(ssrc),
                        ..Default::default()
                    },
                    codec,
                    ..Default::default()
                }],
            )));
            let init = RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Sendonly,
                streams: vec![],
                send_encodings: vec![],
            };
            let transceiver = self
                .pc
                .add_transceiver_from_track(Arc::clone(&track) as Arc<dyn TrackLocal>, Some(init))
                .await?;
            let sender = transceiver
                .sender()
                .await?
                .ok_or_else(|| PeerError::Other("transceiver has no sender".into()))?;
            self.local.push(LocalTrack {
                kind,
                ssrc,
                track,
                sender,
                sent: Arc::new(AtomicU64::new(0)),
                keyframe_requests: Arc::new(AtomicU64::new(0)),
            });
        }
        Ok(())
    }

    /// Creates an offer, applies it, waits for ICE gathering and returns the complete SDP.
    pub async fn create_offer(&self) -> Result<String> {
        let offer = self.pc.create_offer(None).await?;
        self.pc.set_local_description(offer).await?;
        self.local_sdp_after_gathering().await
    }

    /// Applies the remote answer to our offer.
    pub async fn apply_answer(&self, sdp: &str) -> Result<()> {
        self.pc
            .set_remote_description(RTCSessionDescription::answer(sdp.to_owned())?)
            .await?;
        Ok(())
    }

    /// Applies a remote offer and returns our complete answer SDP.
    pub async fn answer(&self, offer_sdp: &str) -> Result<String> {
        self.pc
            .set_remote_description(RTCSessionDescription::offer(offer_sdp.to_owned())?)
            .await?;
        let answer = self.pc.create_answer(None).await?;
        self.pc.set_local_description(answer).await?;
        self.local_sdp_after_gathering().await
    }

    async fn local_sdp_after_gathering(&self) -> Result<String> {
        let mut gathering = self.shared.gathering.subscribe();
        tokio::time::timeout(
            CONNECT_TIMEOUT,
            gathering.wait_for(|s| *s == RTCIceGatheringState::Complete),
        )
        .await
        .map_err(|_| PeerError::Timeout(format!("{}: ICE gathering", self.label())))?
        .map_err(|_| PeerError::Other("handler gone".into()))?;
        let desc = self
            .pc
            .local_description()
            .await
            .ok_or_else(|| PeerError::Other("no local description".into()))?;
        Ok(desc.sdp)
    }

    /// Adds a trickled remote candidate (`candidate:...` line).
    pub async fn add_remote_candidate(&self, candidate: &str) -> Result<()> {
        let init = webrtc::peer_connection::RTCIceCandidateInit {
            candidate: candidate.to_owned(),
            ..Default::default()
        };
        self.pc.add_ice_candidate(init).await?;
        Ok(())
    }

    pub fn connection_state(&self) -> RTCPeerConnectionState {
        *self.shared.connection.borrow()
    }

    /// Waits until the peer connection is connected; fails early if it fails or closes.
    pub async fn wait_connected(&self) -> Result<()> {
        let mut state = self.shared.connection.subscribe();
        let wait = state.wait_for(|s| {
            matches!(
                s,
                RTCPeerConnectionState::Connected
                    | RTCPeerConnectionState::Failed
                    | RTCPeerConnectionState::Closed
            )
        });
        let reached = tokio::time::timeout(CONNECT_TIMEOUT, wait)
            .await
            .map_err(|_| {
                PeerError::Timeout(format!(
                    "{}: connection (state {})",
                    self.label(),
                    self.connection_state()
                ))
            })?
            .map(|s| *s)
            .map_err(|_| PeerError::Other("handler gone".into()))?;
        match reached {
            RTCPeerConnectionState::Connected => Ok(()),
            other => Err(PeerError::Other(format!(
                "{}: connection {other}",
                self.label()
            ))),
        }
    }

    /// The payload type negotiated for our sender of `kind`.
    pub async fn negotiated_send_payload_type(&self, kind: Kind) -> Result<u8> {
        let track = self.local_track(kind)?;
        let mime = if kind == Kind::Audio {
            MIME_TYPE_OPUS
        } else {
            MIME_TYPE_VP8
        };
        let params = track.sender.get_parameters().await?;
        params
            .rtp_parameters
            .codecs
            .iter()
            .find(|c| c.rtp_codec.mime_type.eq_ignore_ascii_case(mime))
            .map(|c| c.payload_type)
            .ok_or_else(|| {
                PeerError::Other(format!(
                    "{}: no {mime} negotiated for sending",
                    self.label()
                ))
            })
    }

    fn local_track(&self, kind: Kind) -> Result<&LocalTrack> {
        self.local
            .iter()
            .find(|t| t.kind == kind)
            .ok_or_else(|| PeerError::Other(format!("{}: no local {kind} track", self.label())))
    }

    /// Hands every RTP packet this peer receives from now on to `observer` too. Once per peer;
    /// a second call is refused.
    pub fn set_packet_observer(&self, observer: PacketObserver) -> Result<()> {
        self.shared
            .observer
            .set(observer)
            .map_err(|_| PeerError::Other(format!("{}: observer already set", self.label())))
    }

    /// When this connection reached ICE connected, DTLS connected and its first RTP packet.
    pub fn milestones(&self) -> Milestones {
        *self
            .shared
            .milestones
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// The SRTP protection profile DTLS negotiated (e.g. `SRTP_AEAD_AES_128_GCM`), once connected.
    pub async fn srtp_profile(&self) -> Option<String> {
        let report = self.pc.get_stats(Instant::now(), StatsSelector::None).await;
        report
            .transport()
            .map(|t| t.srtp_cipher.clone())
            .filter(|c| !c.is_empty())
    }

    /// Starts sending: an Opus packet every 20 ms and a VP8 frame every 1/30 s, until the peer
    /// is dropped. Call once connected (a track cannot be written before it is negotiated).
    pub async fn start_publishing(&self) -> Result<()> {
        self.start_publishing_with(MediaProfile::default()).await
    }

    /// As [`Self::start_publishing`], with frames shaped by `profile`.
    pub async fn start_publishing_with(&self, profile: MediaProfile) -> Result<()> {
        for local in &self.local {
            let payload_type = self.negotiated_send_payload_type(local.kind).await?;
            self.payload_types
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(local.kind, payload_type);
            let track = Arc::clone(&local.track);
            let sent = Arc::clone(&local.sent);
            let keyframe_requests = Arc::clone(&local.keyframe_requests);
            let label = self.shared.label.clone();
            let (kind, ssrc) = (local.kind, local.ssrc);
            let task = tokio::spawn(async move {
                let period = match kind {
                    Kind::Audio => Duration::from_millis(OPUS_FRAME_MS),
                    Kind::Video => Duration::from_secs(1) / VIDEO_FPS,
                };
                let mut ticker = tokio::time::interval(period);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let mut opus = OpusSource::with_profile(ssrc, payload_type, profile);
                let mut vp8 = Vp8Source::with_profile(ssrc, payload_type, profile);
                // Keyframe requests arrive on the track's event stream; it ends with the track.
                let mut feedback_open = true;
                loop {
                    tokio::select! {
                        _ = ticker.tick() => {}
                        event = track.poll(), if feedback_open => {
                            match event {
                                Some(TrackLocalEvent::OnRtcpPacket(packets)) => {
                                    let n = packets.iter().filter(|p| is_keyframe_request(p.as_ref())).count();
                                    keyframe_requests.fetch_add(n as u64, Ordering::Relaxed);
                                    if n > 0 {
                                        vp8.request_keyframe();
                                    }
                                }
                                Some(_) => {}
                                None => feedback_open = false,
                            }
                            continue;
                        }
                    }
                    let packets = match kind {
                        Kind::Audio => vec![opus.next_packet()],
                        Kind::Video => vp8.next_frame(),
                    };
                    for packet in packets {
                        if let Err(e) = track.write_rtp(packet).await {
                            tracing::debug!(peer = %label, %kind, "publishing stopped: {e}");
                            return;
                        }
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
            self.shared
                .tasks
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(task);
        }
        Ok(())
    }

    /// What this peer has sent so far, per local track.
    pub fn sent(&self) -> Vec<SentTrack> {
        let pts = self.payload_types.lock().unwrap_or_else(|p| p.into_inner());
        self.local
            .iter()
            .map(|t| SentTrack {
                kind: t.kind,
                ssrc: t.ssrc,
                payload_type: pts.get(&t.kind).copied().unwrap_or(0),
                packets: t.sent.load(Ordering::Relaxed),
                keyframe_requests: t.keyframe_requests.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Waits until our video track has had at least `min` keyframe requests (PLI or FIR).
    pub async fn wait_for_keyframe_requests(&self, min: u64, timeout: Duration) -> Result<u64> {
        let track = self.local_track(Kind::Video)?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let n = track.keyframe_requests.load(Ordering::Relaxed);
            if n >= min {
                return Ok(n);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(PeerError::Timeout(format!(
                    "{}: {n} keyframe requests, wanted {min}",
                    self.label()
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A copy of every remote track's log so far.
    pub fn received(&self) -> Vec<TrackLog> {
        self.shared.lock_received().clone()
    }

    /// Waits until `done` holds for the received logs; returns them. Fails after `timeout`,
    /// with the logs' packet counts in the message.
    pub async fn wait_for_received(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&[TrackLog]) -> bool,
    ) -> Result<Vec<TrackLog>> {
        let mut progress = self.shared.progress.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let logs = self.received();
            if done(&logs) {
                return Ok(logs);
            }
            if tokio::time::timeout_at(deadline, progress.changed())
                .await
                .is_err()
            {
                let summary: Vec<String> = logs
                    .iter()
                    .map(|l| {
                        format!(
                            "{} {} from {}: {}",
                            l.kind,
                            l.track_id,
                            l.stream_id,
                            l.len()
                        )
                    })
                    .collect();
                return Err(PeerError::Timeout(format!(
                    "{}: media; received {summary:?}",
                    self.label()
                )));
            }
        }
    }

    /// The media sections of the current local and remote descriptions.
    pub async fn negotiated_sections(&self) -> (Vec<MediaSection>, Vec<MediaSection>) {
        let local = self
            .pc
            .current_local_description()
            .await
            .map(|d| sdp::media_sections(&d.sdp))
            .unwrap_or_default();
        let remote = self
            .pc
            .current_remote_description()
            .await
            .map(|d| sdp::media_sections(&d.sdp))
            .unwrap_or_default();
        (local, remote)
    }

    /// The payload type this peer negotiated for receiving `log`'s track: the remote section
    /// that announced the track's msid, then our answer's mapping for its codec on that mid.
    pub async fn negotiated_receive_payload_type(&self, log: &TrackLog) -> Result<u8> {
        let (local, remote) = self.negotiated_sections().await;
        let codec = if log.kind == Kind::Audio {
            "opus"
        } else {
            "VP8"
        };
        let mid = remote
            .iter()
            .find(|s| {
                s.msid.as_ref().is_some_and(|(stream, track)| {
                    *stream == log.stream_id && *track == log.track_id
                })
            })
            .and_then(|s| s.mid.clone())
            .ok_or_else(|| {
                PeerError::Other(format!(
                    "no remote m-line with msid {} {}",
                    log.stream_id, log.track_id
                ))
            })?;
        local
            .iter()
            .find(|s| s.mid.as_deref() == Some(mid.as_str()))
            .and_then(|s| s.payload_type_of(codec))
            .ok_or_else(|| PeerError::Other(format!("no {codec} in our answer for mid {mid}")))
    }

    /// The local and remote address of the ICE candidate pair in use.
    pub async fn selected_candidate_pair(&self) -> Result<(SocketAddr, SocketAddr)> {
        let sender = &self
            .local
            .first()
            .ok_or_else(|| PeerError::Other("no local track".into()))?
            .sender;
        let dtls = sender
            .transport()
            .await?
            .ok_or_else(|| PeerError::Other("sender has no transport yet".into()))?;
        let pair = dtls
            .ice_transport()
            .get_selected_candidate_pair()
            .await?
            .ok_or_else(|| PeerError::Other("no selected candidate pair".into()))?;
        let addr = |c: &webrtc::peer_connection::RTCIceCandidate| -> Result<SocketAddr> {
            format!("{}:{}", c.address, c.port).parse().map_err(|e| {
                PeerError::Other(format!("candidate address {}:{}: {e}", c.address, c.port))
            })
        };
        Ok((addr(pair.local())?, addr(pair.remote())?))
    }

    pub async fn close(&self) {
        self.stop_tasks();
        let _ = self.pc.close().await;
    }

    fn stop_tasks(&self) {
        for task in self
            .shared
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            task.abort();
        }
    }
}

impl Drop for MediaPeer {
    fn drop(&mut self) {
        // The connection's own Drop stops its driver; the publishing and recording tasks are ours.
        self.stop_tasks();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Alice offers her tracks and Bob answers; then Bob offers his, as the SFU offers forwarded
    /// tracks, and Alice answers that renegotiation.
    async fn connected_pair() -> (MediaPeer, MediaPeer) {
        let mut alice = MediaPeer::new("alice").await.unwrap();
        let mut bob = MediaPeer::new("bob").await.unwrap();
        alice.add_local_tracks("alice-stream").await.unwrap();
        let offer = alice.create_offer().await.unwrap();
        let answer = bob.answer(&offer).await.unwrap();
        alice.apply_answer(&answer).await.unwrap();
        alice.wait_connected().await.unwrap();
        bob.wait_connected().await.unwrap();

        bob.add_local_tracks("bob-stream").await.unwrap();
        let offer = bob.create_offer().await.unwrap();
        let answer = alice.answer(&offer).await.unwrap();
        bob.apply_answer(&answer).await.unwrap();
        (alice, bob)
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn two_peers_exchange_synthetic_audio_and_video_without_gaps() {
        crate::init_tracing();
        let (alice, bob) = connected_pair().await;
        alice.start_publishing().await.unwrap();
        bob.start_publishing().await.unwrap();

        for (me, other) in [(&alice, &bob), (&bob, &alice)] {
            let enough = |logs: &[TrackLog]| {
                [Kind::Audio, Kind::Video]
                    .iter()
                    .all(|k| logs.iter().any(|l| l.kind == *k && l.len() >= 120))
            };
            let logs = me
                .wait_for_received(Duration::from_secs(30), enough)
                .await
                .unwrap();
            let sent = other.sent();
            for log in &logs {
                assert_eq!(
                    log.stream_id,
                    format!("{}-stream", other.label()),
                    "{log:?}"
                );
                assert_eq!(log.gaps(), vec![], "{} {}", me.label(), log.kind);
                let pt = me.negotiated_receive_payload_type(log).await.unwrap();
                assert_eq!(
                    log.payload_types(),
                    [pt].into(),
                    "{} {}",
                    me.label(),
                    log.kind
                );
                // Peer to peer, nothing rewrites: the SSRC is the publisher's.
                let published = sent.iter().find(|s| s.kind == log.kind).unwrap();
                assert_eq!(log.ssrcs(), [published.ssrc].into());
                if log.kind == Kind::Video {
                    assert!(log.keyframes() >= 1, "the first frame is a key frame");
                }
            }
        }
        // Each side asked for a key frame when the other's video started.
        alice
            .wait_for_keyframe_requests(1, Duration::from_secs(10))
            .await
            .unwrap();
        bob.wait_for_keyframe_requests(1, Duration::from_secs(10))
            .await
            .unwrap();
        let (local, remote) = alice.selected_candidate_pair().await.unwrap();
        assert!(
            local.ip().is_loopback() && remote.ip().is_loopback(),
            "{local} {remote}"
        );
        alice.close().await;
        bob.close().await;
    }
}
