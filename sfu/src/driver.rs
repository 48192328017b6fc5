//! The thin I/O shell around [`Room`]: one tokio task owns the UDP socket, the ICE-TCP listener
//! and every room.
//!
//! Signalling talks to the task through [`Sfu`] and [`PeerHandle`] (commands on a channel, used
//! only for joins and negotiation). Media never crosses a lock: a datagram is read, routed to its
//! room by source address (or, for a new address, by which peer's ICE credentials accept it) and
//! forwarded within the same task. A packet over ICE-TCP crosses one channel, from its
//! connection's reader ([`crate::tcp`]), and is then routed the same way.

use std::collections::HashMap;
use std::io;
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
use crate::socket::MediaSocket;
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
            rooms: HashMap::new(),
            peers_events: HashMap::new(),
            by_source: HashMap::new(),
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
    rooms: HashMap<RoomId, Room>,
    peers_events: HashMap<(RoomId, ParticipantId), mpsc::UnboundedSender<PeerEvent>>,
    /// Which room a remote address belongs to, learned when a peer's ICE first accepted it. UDP
    /// and TCP addresses are apart: the same address and port may be one client's UDP socket and
    /// another's TCP connection.
    by_source: HashMap<(Protocol, SocketAddr), RoomId>,
    metrics: Arc<SfuMetrics>,
}

/// How long the task sleeps when no peer has asked for a timeout.
const IDLE_WAKE: Duration = Duration::from_secs(1);

impl MediaLoop {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut buf = vec![0u8; 2048];
        loop {
            let deadline = self.rooms.values().filter_map(Room::next_timeout).min();
            let deadline = deadline.unwrap_or_else(|| Instant::now() + IDLE_WAKE);
            let deadline = match &self.tcp {
                Some(tcp) => deadline.min(tcp.next_sweep()),
                None => deadline,
            };
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    None => break,
                },
                received = self.socket.recv(&mut buf) => match received {
                    Ok((len, source, destination)) => self.on_datagram(&buf[..len], source, destination),
                    Err(e) => tracing::warn!(error = %e, "UDP receive failed"),
                },
                frame = next_tcp_frame(self.tcp.as_mut()) => self.on_tcp_frame(frame),
                _ = tokio::time::sleep_until(deadline.into()) => self.on_timeout(),
            }
            self.dispatch_events();
        }
        tracing::info!("SFU media task stopped");
    }

    fn on_command(&mut self, command: Command) {
        let now = Instant::now();
        let Self {
            socket,
            tcp,
            rooms,
            metrics,
            ..
        } = self;
        let mut send = |t: Transmit| transmit(socket, tcp.as_ref(), metrics, t);
        match command {
            Command::Join {
                room,
                participant,
                events,
                reply,
            } => {
                let rtc = peer_rtc(&self.udp_candidates, self.crypto.clone(), now);
                let tcp_fallback = tcp_candidates(&self.tcp_candidates);
                let entry = self.rooms.entry(room.clone()).or_insert_with(|| {
                    self.metrics.rooms.fetch_add(1, Relaxed);
                    Room::new(room.clone())
                });
                let result = if entry.peers().len() >= self.max_participants {
                    Err(SfuError::RoomFull)
                } else {
                    entry.add_peer(participant.clone(), rtc, tcp_fallback, now)
                };
                if result.is_ok() {
                    self.metrics.peers.fetch_add(1, Relaxed);
                    self.peers_events
                        .insert((room.clone(), participant), events);
                } else if entry.is_empty() {
                    self.close_room(&room);
                }
                let _ = reply.send(result);
            }
            Command::Offer {
                room,
                participant,
                sdp,
                reply,
            } => {
                let result = match rooms.get_mut(&room) {
                    Some(r) => r.accept_offer(&participant, &sdp, now, &mut send),
                    None => Err(SfuError::UnknownParticipant),
                };
                let _ = reply.send(result);
            }
            Command::Answer {
                room,
                participant,
                sdp,
                reply,
            } => {
                let result = match rooms.get_mut(&room) {
                    Some(r) => r.accept_answer(&participant, &sdp, now, &mut send),
                    None => Err(SfuError::UnknownParticipant),
                };
                let _ = reply.send(result);
            }
            Command::Candidate {
                room,
                participant,
                candidate,
            } => {
                if let Some(r) = rooms.get_mut(&room)
                    && let Err(e) = r.add_remote_candidate(&participant, &candidate)
                {
                    tracing::debug!(room_id = %room, participant_id = %participant, error = %e, "candidate ignored");
                }
            }
            Command::VideoSize {
                room,
                participant,
                mid,
                height,
            } => {
                if let Some(r) = rooms.get_mut(&room)
                    && let Err(e) = r.set_video_size(&participant, &mid, height, now, &mut send)
                {
                    tracing::debug!(room_id = %room, participant_id = %participant, error = %e, "video size ignored");
                }
            }
            Command::Leave { room, participant } => {
                if let Some(r) = rooms.get_mut(&room) {
                    r.remove_peer(&participant, now, &mut send);
                    Self::publish_quality(metrics, r);
                }
                if self
                    .peers_events
                    .remove(&(room.clone(), participant))
                    .is_some()
                {
                    self.metrics.peers.fetch_sub(1, Relaxed);
                }
                if self.rooms.get(&room).is_some_and(Room::is_empty) {
                    self.close_room(&room);
                }
            }
        }
    }

    fn on_datagram(&mut self, data: &[u8], source: SocketAddr, destination: IpAddr) {
        let now = Instant::now();
        self.metrics.packets_received.fetch_add(1, Relaxed);
        self.metrics
            .bytes_received
            .fetch_add(data.len() as u64, Relaxed);
        let destination = advertised_for(&self.udp_candidates, destination);
        if !self.route(Protocol::Udp, data, source, destination, now) {
            self.metrics.datagrams_unroutable.fetch_add(1, Relaxed);
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
            ..
        } = self;
        let mut send = |t: Transmit| transmit(socket, tcp.as_ref(), metrics, t);

        // Known address: straight to its room.
        if let Some(room) = by_source
            .get(&(proto, source))
            .and_then(|id| rooms.get_mut(id))
            && let Some(idx) = room.peers().iter().position(|p| p.accepts(&input))
        {
            room.handle_input(idx, now, input, &mut send);
            Self::note_forwarded(metrics, room);
            return true;
        }
        // New address: only a STUN check carrying a peer's ICE credentials is accepted. This scan
        // happens once per new remote address, not per packet.
        for (id, room) in rooms.iter_mut() {
            if let Some(idx) = room.peers().iter().position(|p| p.accepts(&input)) {
                by_source.insert((proto, source), id.clone());
                room.handle_input(idx, now, input, &mut send);
                Self::note_forwarded(metrics, room);
                return true;
            }
        }
        false
    }

    fn on_timeout(&mut self) {
        let now = Instant::now();
        let Self {
            socket,
            tcp,
            rooms,
            metrics,
            ..
        } = self;
        if let Some(tcp) = tcp.as_mut() {
            tcp.sweep(now);
        }
        let mut send = |t: Transmit| transmit(socket, tcp.as_ref(), metrics, t);
        for room in rooms.values_mut() {
            if room.next_timeout().is_some_and(|t| t <= now) {
                room.handle_timeout(now, &mut send);
                Self::note_forwarded(metrics, room);
                Self::publish_quality(metrics, room);
            }
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

    /// Hands room events to the signalling connections they concern.
    fn dispatch_events(&mut self) {
        let mut emptied = Vec::new();
        let mut any = false;
        for room in self.rooms.values_mut() {
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
            // Only events (a peer closing) can empty a room here; leaves close rooms directly.
            if had_events && room.is_empty() {
                emptied.push(room.id().clone());
            }
            any |= had_events;
        }
        for id in emptied {
            self.close_room(&id);
        }
        // Recounted only when a peer connected or closed, not on every packet.
        if any {
            let connected: usize = self.rooms.values().map(Room::connected_peers).sum();
            self.metrics
                .peers_connected
                .store(connected as i64, Relaxed);
        }
    }

    fn close_room(&mut self, id: &RoomId) {
        if self.rooms.remove(id).is_some() {
            self.metrics.rooms.fetch_sub(1, Relaxed);
            self.metrics.quality.publish(id, Vec::new());
            self.by_source.retain(|_, room| room != id);
            tracing::debug!(room_id = %id, "room closed");
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

fn transmit(socket: &MediaSocket, tcp: Option<&TcpMedia>, metrics: &SfuMetrics, t: Transmit) {
    if t.proto == Protocol::Tcp {
        // Only peers with TCP candidates (ICE-TCP on) can ask for TCP.
        if let Some(tcp) = tcp {
            tcp.send(t);
        }
        return;
    }
    match socket.try_send_to(&t.contents, t.destination) {
        Ok(n) => {
            metrics.packets_sent.fetch_add(1, Relaxed);
            metrics.bytes_sent.fetch_add(n as u64, Relaxed);
        }
        // A full send buffer drops the datagram, as a congested network would; congestion
        // control and retransmission deal with it.
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => tracing::debug!(error = %e, "UDP send failed"),
    }
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
