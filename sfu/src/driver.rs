//! The thin I/O shell around [`Room`]: one tokio task owns the UDP socket, the ICE-TCP listener
//! and every room.
//!
//! Signalling talks to the task through [`Sfu`] and [`PeerHandle`] (commands on a channel, used
//! only for joins and negotiation). Media never crosses a lock: a datagram is read, routed to its
//! room by source address (or, for a new address, by which peer's ICE credentials accept it) and
//! forwarded within the same task. A packet over ICE-TCP crosses one channel, from its
//! connection's reader ([`crate::tcp`]), and is then routed the same way.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use str0m::Input;
use str0m::crypto::CryptoProvider;
use str0m::net::{Protocol, Receive, Transmit};
use tokio::sync::{mpsc, oneshot};

use crate::SfuError;
use crate::config::SfuConfig;
use crate::ids::{ParticipantId, RoomId};
use crate::metrics::SfuMetrics;
use crate::quality::Quality;
use crate::room::{Room, RoomEvent, peer_rtc, tcp_candidates};
use crate::room_table::{RoomIndex, RoomTable};
use crate::socket::{BATCH, MediaSocket, RecvBatch};
use crate::tcp::{InboundFrame, TcpMedia};

/// What the SFU tells signalling about one participant.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerEvent {
    /// Send this offer to the client; pass its answer to [`PeerHandle::answer`].
    Offer(String),
    /// Media is flowing: ICE and DTLS are up.
    Connected,
    /// An ICE candidate of the SFU to pass on to the client (the TCP fallback, offered when UDP
    /// has not connected soon after the offer).
    Candidate(String),
    /// `publisher`'s video is paused for this participant because its link cannot carry even the
    /// lowest layer (audio goes on), or resumes.
    VideoPaused {
        publisher: ParticipantId,
        paused: bool,
    },
    /// The media connection died (ICE consent lost, DTLS closed). The participant is out of the room.
    Closed,
    /// The room's floor passed to this participant (perhaps the receiver itself), or to nobody.
    ActiveSpeaker(Option<ParticipantId>),
    /// This participant's connection quality, every two seconds.
    Quality(Quality),
}

enum Command {
    Join {
        room: RoomId,
        participant: ParticipantId,
        events: mpsc::UnboundedSender<PeerEvent>,
        reply: oneshot::Sender<Result<(), SfuError>>,
    },
    Offer {
        room: RoomId,
        participant: ParticipantId,
        sdp: String,
        reply: oneshot::Sender<Result<String, SfuError>>,
    },
    Answer {
        room: RoomId,
        participant: ParticipantId,
        sdp: String,
        reply: oneshot::Sender<Result<(), SfuError>>,
    },
    Candidate {
        room: RoomId,
        participant: ParticipantId,
        candidate: String,
    },
    VideoSize {
        room: RoomId,
        participant: ParticipantId,
        mid: String,
        height: u32,
    },
    Leave {
        room: RoomId,
        participant: ParticipantId,
    },
}

/// Handle to the running SFU. Cheap to clone.
#[derive(Clone)]
pub struct Sfu {
    commands: mpsc::UnboundedSender<Command>,
    udp_addr: SocketAddr,
    metrics: Arc<SfuMetrics>,
}

impl Sfu {
    /// Binds the UDP port (and, with ICE-TCP, the TCP port) and starts the media task on the
    /// current tokio runtime.
    pub async fn start(config: &SfuConfig, metrics: Arc<SfuMetrics>) -> Result<Sfu, SfuError> {
        let socket = MediaSocket::bind(SocketAddr::new(config.bind_ip, config.udp_port))?;
        let udp_addr = socket.local_addr()?;
        let tcp = if config.ice_tcp {
            let addr = SocketAddr::new(config.bind_ip, config.tcp_port);
            Some(TcpMedia::bind(addr, metrics.clone()).await?)
        } else {
            None
        };
        let tcp_port = tcp
            .as_ref()
            .map(TcpMedia::local_addr)
            .transpose()?
            .map(|a| a.port());
        let ips = if config.public_ips.is_empty() {
            interface_ips()?
        } else {
            config.public_ips.clone()
        };
        if ips.is_empty() {
            return Err(SfuError::NoAddress);
        }
        let udp_candidates: Vec<SocketAddr> = ips
            .iter()
            .map(|ip| SocketAddr::new(*ip, udp_addr.port()))
            .collect();
        let tcp_candidates: Vec<SocketAddr> = match tcp_port {
            Some(port) => ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect(),
            None => Vec::new(),
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let media = MediaLoop {
            socket,
            tcp,
            udp_candidates: udp_candidates.clone(),
            tcp_candidates,
            crypto: Arc::new(str0m::crypto::from_feature_flags()),
            max_participants: config.max_participants_per_room,
            rooms: RoomTable::default(),
            peers_events: HashMap::new(),
            by_source: HashMap::new(),
            outbox: Outbox::default(),
            due: Vec::new(),
            metrics: metrics.clone(),
        };
        tokio::spawn(media.run(rx));
        tracing::info!(
            port = udp_addr.port(),
            tcp_port,
            candidates = udp_candidates.len(),
            "SFU listening for media"
        );
        Ok(Sfu {
            commands: tx,
            udp_addr,
            metrics,
        })
    }

    /// The bound UDP socket (its port is the one every peer shares).
    pub fn udp_addr(&self) -> SocketAddr {
        self.udp_addr
    }

    pub fn metrics(&self) -> &Arc<SfuMetrics> {
        &self.metrics
    }

    /// Enters a participant into a room (created on first join). Dropping the handle leaves.
    pub async fn join(
        &self,
        room: RoomId,
        participant: ParticipantId,
    ) -> Result<PeerHandle, SfuError> {
        let (events_tx, events) = mpsc::unbounded_channel();
        let (reply, answer) = oneshot::channel();
        self.send(Command::Join {
            room: room.clone(),
            participant: participant.clone(),
            events: events_tx,
            reply,
        })?;
        answer.await.map_err(|_| SfuError::Stopped)??;
        Ok(PeerHandle {
            room,
            participant,
            commands: self.commands.clone(),
            events,
        })
    }

    fn send(&self, command: Command) -> Result<(), SfuError> {
        self.commands.send(command).map_err(|_| SfuError::Stopped)
    }
}

/// One participant's place in a room on the SFU.
pub struct PeerHandle {
    room: RoomId,
    participant: ParticipantId,
    commands: mpsc::UnboundedSender<Command>,
    events: mpsc::UnboundedReceiver<PeerEvent>,
}

impl PeerHandle {
    /// The client's offer; returns the SFU's answer.
    pub async fn offer(&self, sdp: String) -> Result<String, SfuError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Offer {
            room: self.room.clone(),
            participant: self.participant.clone(),
            sdp,
            reply,
        })?;
        answer.await.map_err(|_| SfuError::Stopped)?
    }

    /// The client's answer to the last [`PeerEvent::Offer`].
    pub async fn answer(&self, sdp: String) -> Result<(), SfuError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Answer {
            room: self.room.clone(),
            participant: self.participant.clone(),
            sdp,
            reply,
        })?;
        answer.await.map_err(|_| SfuError::Stopped)?
    }

    pub fn candidate(&self, candidate: String) -> Result<(), SfuError> {
        self.send(Command::Candidate {
            room: self.room.clone(),
            participant: self.participant.clone(),
            candidate,
        })
    }

    /// The client shows the video it receives on m-line `mid` this many pixels high (0: hidden).
    pub fn video_size(&self, mid: String, height: u32) -> Result<(), SfuError> {
        self.send(Command::VideoSize {
            room: self.room.clone(),
            participant: self.participant.clone(),
            mid,
            height,
        })
    }

    /// The next event for this participant; `None` once the SFU has stopped.
    pub async fn next_event(&mut self) -> Option<PeerEvent> {
        self.events.recv().await
    }

    fn send(&self, command: Command) -> Result<(), SfuError> {
        self.commands.send(command).map_err(|_| SfuError::Stopped)
    }
}

impl Drop for PeerHandle {
    fn drop(&mut self) {
        // If the media task has stopped there is nothing left to leave.
        let _ = self.commands.send(Command::Leave {
            room: self.room.clone(),
            participant: self.participant.clone(),
        });
    }
}

struct MediaLoop {
    socket: MediaSocket,
    /// The ICE-TCP listener and its connections; `None` when ICE-TCP is off.
    tcp: Option<TcpMedia>,
    udp_candidates: Vec<SocketAddr>,
    /// Empty when ICE-TCP is off.
    tcp_candidates: Vec<SocketAddr>,
    crypto: Arc<CryptoProvider>,
    max_participants: usize,
    rooms: RoomTable,
    peers_events: HashMap<(RoomId, ParticipantId), mpsc::UnboundedSender<PeerEvent>>,
    /// Which room a remote address belongs to, learned when a peer's ICE first accepted it. UDP
    /// and TCP addresses are apart: the same address and port may be one client's UDP socket and
    /// another's TCP connection.
    by_source: HashMap<(Protocol, SocketAddr), RoomIndex>,
    /// UDP datagrams the rooms produced since the last [`Outbox::flush`].
    outbox: Outbox,
    /// Rooms due at this wake-up (kept to reuse its allocation).
    due: Vec<RoomIndex>,
    metrics: Arc<SfuMetrics>,
}

/// How long the task sleeps when no peer has asked for a timeout.
const IDLE_WAKE: Duration = Duration::from_secs(1);

/// UDP output waiting for one `sendmmsg`. Everything a wake-up's input produced goes out at the
/// end of that wake-up (or as soon as a batch is full), before the task waits again: batching
/// saves system calls without holding a packet past the work that made it.
#[derive(Default)]
struct Outbox {
    pending: Vec<Transmit>,
}

impl Outbox {
    fn push(&mut self, socket: &MediaSocket, metrics: &SfuMetrics, t: Transmit) {
        self.pending.push(t);
        if self.pending.len() >= BATCH {
            self.flush(socket, metrics);
        }
    }

    fn flush(&mut self, socket: &MediaSocket, metrics: &SfuMetrics) {
        if self.pending.is_empty() {
            return;
        }
        let sent = socket.send_batch(&self.pending);
        metrics.packets_sent.fetch_add(sent.packets, Relaxed);
        metrics.bytes_sent.fetch_add(sent.bytes, Relaxed);
        self.pending.clear();
    }
}

impl MediaLoop {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut batch = RecvBatch::default();
        // One timer, moved only when the deadline moves: a new timer per wake-up costs a
        // registration in tokio's timer wheel each time.
        let mut armed = Instant::now() + IDLE_WAKE;
        let sleep = tokio::time::sleep_until(armed.into());
        tokio::pin!(sleep);
        loop {
            let deadline = self
                .rooms
                .next_deadline()
                .unwrap_or_else(|| Instant::now() + IDLE_WAKE);
            let deadline = match &self.tcp {
                Some(tcp) => deadline.min(tcp.next_sweep()),
                None => deadline,
            };
            if deadline != armed || sleep.is_elapsed() {
                sleep.as_mut().reset(deadline.into());
                armed = deadline;
            }
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    None => break,
                },
                received = self.socket.recv_batch(&mut batch) => match received {
                    Ok(_) => self.on_datagrams(&batch),
                    Err(e) => tracing::warn!(error = %e, "UDP receive failed"),
                },
                frame = next_tcp_frame(self.tcp.as_mut()) => self.on_tcp_frame(frame),
                _ = &mut sleep => self.on_timeout(),
            }
            self.outbox.flush(&self.socket, &self.metrics);
        }
        tracing::info!("SFU media task stopped");
    }

    fn on_command(&mut self, command: Command) {
        let now = Instant::now();
        match command {
            Command::Join {
                room,
                participant,
                events,
                reply,
            } => {
                let rtc = peer_rtc(&self.udp_candidates, self.crypto.clone(), now);
                let tcp_fallback = tcp_candidates(&self.tcp_candidates);
                let (idx, made) = self
                    .rooms
                    .get_or_insert_with(&room, || Room::new(room.clone()));
                if made {
                    self.metrics.rooms.fetch_add(1, Relaxed);
                }
                // `get_or_insert_with` has just found or made the room at `idx`.
                let entry = self.rooms.get_mut(idx).expect("room just found or made");
                let result = if entry.peers().len() >= self.max_participants {
                    Err(SfuError::RoomFull)
                } else {
                    entry.add_peer(participant.clone(), rtc, tcp_fallback, now)
                };
                let emptied = entry.is_empty();
                if result.is_ok() {
                    self.metrics.peers.fetch_add(1, Relaxed);
                    self.peers_events
                        .insert((room.clone(), participant), events);
                    self.settle(idx);
                } else if emptied {
                    self.close_room(idx);
                }
                let _ = reply.send(result);
            }
            Command::Offer {
                room,
                participant,
                sdp,
                reply,
            } => {
                let result = self.with_room(&room, |r, mut send| {
                    r.accept_offer(&participant, &sdp, now, &mut send)
                });
                let _ = reply.send(result.unwrap_or(Err(SfuError::UnknownParticipant)));
            }
            Command::Answer {
                room,
                participant,
                sdp,
                reply,
            } => {
                let result = self.with_room(&room, |r, mut send| {
                    r.accept_answer(&participant, &sdp, now, &mut send)
                });
                let _ = reply.send(result.unwrap_or(Err(SfuError::UnknownParticipant)));
            }
            Command::Candidate {
                room,
                participant,
                candidate,
            } => {
                if let Some(Err(e)) = self.with_room(&room, |r, _| {
                    r.add_remote_candidate(&participant, &candidate)
                }) {
                    tracing::debug!(room_id = %room, participant_id = %participant, error = %e, "candidate ignored");
                }
            }
            Command::VideoSize {
                room,
                participant,
                mid,
                height,
            } => {
                if let Some(Err(e)) = self.with_room(&room, |r, mut send| {
                    r.set_video_size(&participant, &mid, height, now, &mut send)
                }) {
                    tracing::debug!(room_id = %room, participant_id = %participant, error = %e, "video size ignored");
                }
            }
            Command::Leave { room, participant } => {
                let left = self.with_room(&room, |r, mut send| {
                    r.remove_peer(&participant, now, &mut send);
                    r.is_empty()
                });
                if let Some(idx) = self.rooms.index(&room)
                    && let Some(r) = self.rooms.get_mut(idx)
                {
                    Self::publish_quality(&self.metrics, r);
                }
                if self
                    .peers_events
                    .remove(&(room.clone(), participant))
                    .is_some()
                {
                    self.metrics.peers.fetch_sub(1, Relaxed);
                }
                if left == Some(true)
                    && let Some(idx) = self.rooms.index(&room)
                {
                    self.close_room(idx);
                }
            }
        }
    }

    /// Runs `f` on the room with its UDP output going to the outbox, then settles the room.
    /// `None` when there is no such room.
    fn with_room<R>(
        &mut self,
        room: &RoomId,
        f: impl FnOnce(&mut Room, &mut dyn FnMut(Transmit)) -> R,
    ) -> Option<R> {
        let idx = self.rooms.index(room)?;
        let Self {
            socket,
            tcp,
            rooms,
            metrics,
            outbox,
            ..
        } = self;
        let r = rooms.get_mut(idx)?;
        let mut send = |t: Transmit| transmit(socket, tcp.as_ref(), metrics, outbox, t);
        let result = f(r, &mut send);
        self.settle(idx);
        Some(result)
    }

    fn on_datagrams(&mut self, batch: &RecvBatch) {
        let now = Instant::now();
        let (mut packets, mut bytes, mut unroutable) = (0, 0, 0);
        for (data, source, destination) in batch.datagrams() {
            packets += 1;
            bytes += data.len() as u64;
            let destination = advertised_for(&self.udp_candidates, destination);
            if !self.route(Protocol::Udp, data, source, destination, now) {
                unroutable += 1;
            }
        }
        // Counted once a batch: an atomic add per packet is a locked instruction per packet.
        self.metrics.packets_received.fetch_add(packets, Relaxed);
        self.metrics.bytes_received.fetch_add(bytes, Relaxed);
        if unroutable > 0 {
            self.metrics
                .datagrams_unroutable
                .fetch_add(unroutable, Relaxed);
        }
    }

    fn on_tcp_frame(&mut self, frame: InboundFrame) {
        let now = Instant::now();
        let destination = advertised_for(&self.tcp_candidates, frame.local.ip());
        let reached_peer = self.route(Protocol::Tcp, &frame.data, frame.remote, destination, now);
        if let Some(tcp) = &mut self.tcp {
            tcp.note_routed(&frame, reached_peer, now);
        }
    }

    /// Hands a packet to the peer whose ICE accepts it. Returns false when no peer does.
    fn route(
        &mut self,
        proto: Protocol,
        data: &[u8],
        source: SocketAddr,
        destination: SocketAddr,
        now: Instant,
    ) -> bool {
        let Ok(receive) = Receive::new(proto, source, destination, data) else {
            return false;
        };
        let input = Input::Receive(now, receive);
        let Self {
            socket,
            tcp,
            rooms,
            metrics,
            by_source,
            outbox,
            ..
        } = self;
        let mut send = |t: Transmit| transmit(socket, tcp.as_ref(), metrics, outbox, t);

        // Known address: straight to its room.
        let known = by_source.get(&(proto, source)).copied();
        if let Some(idx) = known
            && let Some(room) = rooms.get_mut(idx)
            && let Some(peer) = room.peers().iter().position(|p| p.accepts(&input))
        {
            room.handle_input(peer, now, input, &mut send);
            self.settle(idx);
            return true;
        }
        // New address: only a STUN check carrying a peer's ICE credentials is accepted. This scan
        // happens once per new remote address, not per packet.
        let mut found = None;
        for (idx, room) in rooms.iter_mut() {
            if let Some(peer) = room.peers().iter().position(|p| p.accepts(&input)) {
                by_source.insert((proto, source), idx);
                room.handle_input(peer, now, input, &mut send);
                found = Some(idx);
                break;
            }
        }
        match found {
            Some(idx) => {
                self.settle(idx);
                true
            }
            None => false,
        }
    }

    fn on_timeout(&mut self) {
        let now = Instant::now();
        if let Some(tcp) = self.tcp.as_mut() {
            tcp.sweep(now);
        }
        let mut due = std::mem::take(&mut self.due);
        self.rooms.take_due(now, &mut due);
        for &idx in &due {
            let Self {
                socket,
                tcp,
                rooms,
                metrics,
                outbox,
                ..
            } = self;
            let Some(room) = rooms.get_mut(idx) else {
                continue;
            };
            let mut send = |t: Transmit| transmit(socket, tcp.as_ref(), metrics, outbox, t);
            room.handle_timeout(now, &mut send);
            Self::publish_quality(metrics, room);
            self.settle(idx);
        }
        due.clear();
        self.due = due;
    }

    /// After a room was given input, time or a command: its counters to the metrics, its events
    /// to signalling, and its next deadline into the order. Only this room is looked at.
    fn settle(&mut self, idx: RoomIndex) {
        let Some(room) = self.rooms.get_mut(idx) else {
            return;
        };
        Self::note_forwarded(&self.metrics, room);
        if self.dispatch_events(idx) {
            // The room emptied (a peer closed); leaves close rooms directly.
            self.close_room(idx);
        } else {
            self.rooms.reschedule(idx);
        }
    }

    fn note_forwarded(metrics: &SfuMetrics, room: &mut Room) {
        metrics
            .rtp_packets_forwarded
            .fetch_add(std::mem::take(&mut room.forwarded_packets), Relaxed);
        metrics
            .rtp_bytes_forwarded
            .fetch_add(std::mem::take(&mut room.forwarded_bytes), Relaxed);
        metrics
            .keyframe_requests_forwarded
            .fetch_add(std::mem::take(&mut room.keyframe_requests), Relaxed);
    }

    /// Copies the room's quality snapshots to `/metrics` when they have changed (once a second,
    /// and when someone leaves).
    fn publish_quality(metrics: &SfuMetrics, room: &mut Room) {
        if room.take_quality_changed() {
            let snapshots = room.quality().map(|(p, q)| (p.clone(), q.clone()));
            metrics.quality.publish(room.id(), snapshots.collect());
        }
    }

    /// Hands the room's events to the signalling connections they concern. Returns true when
    /// events left the room empty.
    fn dispatch_events(&mut self, idx: RoomIndex) -> bool {
        let Some(room) = self.rooms.get_mut(idx) else {
            return false;
        };
        let mut had_events = false;
        while let Some(event) = room.poll_event() {
            had_events = true;
            let (participant, event) = match event {
                RoomEvent::Offer { participant, sdp } => (participant, PeerEvent::Offer(sdp)),
                RoomEvent::Connected { participant } => (participant, PeerEvent::Connected),
                RoomEvent::Candidate {
                    participant,
                    candidate,
                } => (participant, PeerEvent::Candidate(candidate)),
                RoomEvent::VideoPaused {
                    participant,
                    publisher,
                    paused,
                } => (participant, PeerEvent::VideoPaused { publisher, paused }),
                RoomEvent::Closed { participant } => (participant, PeerEvent::Closed),
                RoomEvent::Quality {
                    participant,
                    quality,
                } => (participant, PeerEvent::Quality(quality)),
                RoomEvent::ActiveSpeaker { participant } => {
                    for peer in room.peers() {
                        let key = (room.id().clone(), peer.participant().clone());
                        if let Some(events) = self.peers_events.get(&key) {
                            let _ = events.send(PeerEvent::ActiveSpeaker(participant.clone()));
                        }
                    }
                    continue;
                }
            };
            let key = (room.id().clone(), participant);
            if let Some(events) = self.peers_events.get(&key) {
                let _ = events.send(event.clone());
            }
            if event == PeerEvent::Closed && self.peers_events.remove(&key).is_some() {
                self.metrics.peers.fetch_sub(1, Relaxed);
            }
        }
        if !had_events {
            return false;
        }
        let emptied = room.is_empty();
        // Recounted only when a peer connected or closed, not on every packet.
        let connected: usize = self.rooms.iter().map(Room::connected_peers).sum();
        self.metrics
            .peers_connected
            .store(connected as i64, Relaxed);
        emptied
    }

    fn close_room(&mut self, idx: RoomIndex) {
        if let Some(room) = self.rooms.remove(idx) {
            self.metrics.rooms.fetch_sub(1, Relaxed);
            self.metrics.quality.publish(room.id(), Vec::new());
            self.by_source.retain(|_, r| *r != idx);
            tracing::debug!(room_id = %room.id(), "room closed");
        }
    }
}

/// The next ICE-TCP frame; never, when ICE-TCP is off.
async fn next_tcp_frame(tcp: Option<&mut TcpMedia>) -> InboundFrame {
    match tcp {
        Some(tcp) => tcp.next_frame().await,
        None => std::future::pending().await,
    }
}

/// The candidate address a packet was sent to. With several candidates the kernel tells the
/// destination IP; behind 1:1 NAT the one advertised (public) address is what the peer used.
fn advertised_for(candidates: &[SocketAddr], destination: IpAddr) -> SocketAddr {
    candidates
        .iter()
        .find(|c| c.ip() == destination)
        .or_else(|| candidates.first())
        .copied()
        // `start` refuses to run without an address, so each transport in use has a candidate.
        .expect("at least one candidate")
}

fn transmit(
    socket: &MediaSocket,
    tcp: Option<&TcpMedia>,
    metrics: &SfuMetrics,
    outbox: &mut Outbox,
    t: Transmit,
) {
    if t.proto == Protocol::Tcp {
        // Only peers with TCP candidates (ICE-TCP on) can ask for TCP.
        if let Some(tcp) = tcp {
            tcp.send(t);
        }
        return;
    }
    outbox.push(socket, metrics, t);
}

/// Every IPv4 address of this machine's interfaces, loopback included (tests and a browser on
/// the same machine use it).
fn interface_ips() -> Result<Vec<IpAddr>, SfuError> {
    let mut ips: Vec<IpAddr> = if_addrs::get_if_addrs()?
        .into_iter()
        .map(|i| i.ip())
        .filter(IpAddr::is_ipv4)
        .collect();
    ips.sort();
    ips.dedup();
    Ok(ips)
}
