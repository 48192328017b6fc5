//! Passive ICE-TCP (RFC 6544) for clients whose network blocks UDP: one TCP listener shared by
//! every peer, each connection carrying ICE, DTLS, RTP and RTCP packets in RFC 4571 frames (a
//! 16-bit big-endian length, then the packet).
//!
//! The media task owns the listener and the table of connections, so a TCP packet is routed to
//! its room exactly as a UDP datagram is. Each accepted connection gets its own task that splits
//! the byte stream into frames for the media task (one bounded channel shared by all connections)
//! and writes the frames the media task queues for it. The media task never waits for a
//! connection: when a connection's queue is full the packet is dropped, as a congested UDP socket
//! would drop it, and congestion control and retransmission deal with it.
//!
//! Anyone can open a TCP connection, so a connection must earn its place: it is closed when a
//! frame is too large to be a media packet, when its first packets are not a valid ICE check for
//! some peer, when it has not passed ICE within [`HANDSHAKE_TIMEOUT`], and when nothing it sends
//! has reached a peer for [`IDLE_TIMEOUT`] (its peer has left). A closed connection is forgotten.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use str0m::net::Transmit;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use crate::metrics::SfuMetrics;

/// The largest frame accepted. WebRTC stacks keep every packet below the path MTU (str0m and
/// browsers aim at about 1200 bytes), so a larger frame is not media: the connection is closed
/// rather than buffering whatever a stranger sends.
const MAX_FRAME_LEN: usize = 1500;

/// How long a new connection has to pass ICE (send a connectivity check with some peer's
/// credentials). A browser sends its first check right after connecting.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection stays open while nothing it sends reaches a peer. Clients send ICE
/// consent checks every few seconds even when muted; after this the peer has gone.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Most connections open at once. Far more than one media node's meetings use; it bounds the file
/// descriptors a flood of connections can take.
const MAX_CONNECTIONS: usize = 512;

/// Packets queued for one connection's writer. At video rates about a tenth of a second: enough
/// to ride out a short stall, not so much that media arrives late.
const OUTBOUND_QUEUE: usize = 128;

/// Frames from all connections waiting for the media task. When it is full the connection tasks
/// wait, and TCP flow control slows the senders down.
const INBOUND_QUEUE: usize = 1024;

/// How many bytes the writer hands the kernel at once when packets have queued up.
const WRITE_BATCH: usize = 16 * 1024;

/// How often the media task closes connections whose time is up.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// After a failed accept (typically out of file descriptors) the listener rests this long rather
/// than failing again at once in a busy loop.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// One accepted connection, for logs (never its address) and to tell a closed connection's late
/// messages from those of a new connection from the same address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionId(u64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tcp-{}", self.0)
    }
}

/// A frame received on a connection, for the media task to route.
#[derive(Debug)]
pub struct InboundFrame {
    pub connection: ConnectionId,
    pub remote: SocketAddr,
    /// The local address the client connected to: which of the SFU's candidates it used.
    pub local: SocketAddr,
    pub data: Vec<u8>,
}

/// What a connection task tells the media task.
#[derive(Debug)]
enum ConnectionMessage {
    Frame {
        connection: ConnectionId,
        remote: SocketAddr,
        data: Vec<u8>,
    },
    Closed {
        connection: ConnectionId,
        remote: SocketAddr,
    },
}

/// The listener and every open connection. Owned by the media task.
pub struct TcpMedia {
    listener: TcpListener,
    connections: Connections,
    inbound: mpsc::Receiver<ConnectionMessage>,
    /// Cloned into each connection task.
    inbound_sender: mpsc::Sender<ConnectionMessage>,
    accept_paused_until: Option<Instant>,
    next_sweep: Instant,
    metrics: Arc<SfuMetrics>,
}

impl TcpMedia {
    pub async fn bind(addr: SocketAddr, metrics: Arc<SfuMetrics>) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let (inbound_sender, inbound) = mpsc::channel(INBOUND_QUEUE);
        Ok(Self {
            listener,
            connections: Connections::new(MAX_CONNECTIONS),
            inbound,
            inbound_sender,
            accept_paused_until: None,
            next_sweep: Instant::now() + SWEEP_INTERVAL,
            metrics,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The next frame from any connection. Accepting connections and forgetting closed ones
    /// happens in here, so the media task only sees packets. Cancel-safe: every await is.
    pub async fn next_frame(&mut self) -> InboundFrame {
        loop {
            let listener = &self.listener;
            let paused_until = self.accept_paused_until;
            let accept = async move {
                if let Some(at) = paused_until {
                    tokio::time::sleep_until(at.into()).await;
                }
                listener.accept().await
            };
            let message = tokio::select! {
                accepted = accept => {
                    self.accept_paused_until = None;
                    match accepted {
                        Ok((stream, remote)) => self.open(stream, remote),
                        Err(e) => {
                            tracing::warn!(error = %e, "TCP accept failed");
                            self.accept_paused_until = Some(Instant::now() + ACCEPT_BACKOFF);
                        }
                    }
                    continue;
                }
                // Never `None`: this struct holds a sender itself.
                Some(message) = self.inbound.recv() => message,
            };
            match message {
                ConnectionMessage::Frame {
                    connection,
                    remote,
                    data,
                } => match self.connections.admit(connection, remote, &data) {
                    Admission::Route { local } => {
                        return InboundFrame {
                            connection,
                            remote,
                            local,
                            data,
                        };
                    }
                    // A closed connection's last frames are not routed.
                    Admission::Stale => {}
                    Admission::Refused => {
                        self.metrics.tcp_frames_unroutable.fetch_add(1, Relaxed);
                        self.note_closed(connection, "not an ICE check");
                    }
                },
                ConnectionMessage::Closed { connection, remote } => {
                    self.connections.remove(connection, remote);
                    self.update_gauge();
                }
            }
        }
    }

    fn open(&mut self, stream: TcpStream, remote: SocketAddr) {
        let local = match stream.local_addr() {
            Ok(local) => local,
            Err(e) => {
                tracing::debug!(error = %e, "accepted TCP connection already gone");
                return;
            }
        };
        // Media packets are small and late ones are useless: never hold one back to fill a
        // segment.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        let (outbound_sender, outbound) = mpsc::channel(OUTBOUND_QUEUE);
        let (hang_up, hung_up) = oneshot::channel();
        let opened =
            self.connections
                .insert(remote, local, outbound_sender, hang_up, Instant::now());
        let Some(connection) = opened else {
            // Dropping the stream closes it.
            self.metrics.tcp_connections_refused.fetch_add(1, Relaxed);
            tracing::debug!(
                "TCP connection refused: too many open, or one already from its address"
            );
            return;
        };
        self.metrics.tcp_connections_accepted.fetch_add(1, Relaxed);
        self.update_gauge();
        tracing::debug!(connection = %connection, "TCP connection opened");
        tokio::spawn(serve_connection(
            connection,
            remote,
            stream,
            outbound,
            hung_up,
            self.inbound_sender.clone(),
            self.metrics.clone(),
        ));
    }

    /// The media task routed a frame (`reached_peer`: some peer's ICE accepted it) or could not.
    pub fn note_routed(&mut self, frame: &InboundFrame, reached_peer: bool, now: Instant) {
        if !reached_peer {
            self.metrics.tcp_frames_unroutable.fetch_add(1, Relaxed);
        }
        if self
            .connections
            .note_frame(frame.connection, frame.remote, reached_peer, now)
            == Verdict::Close
        {
            self.note_closed(frame.connection, "no peer's ICE check");
        }
    }

    fn note_closed(&self, connection: ConnectionId, reason: &str) {
        tracing::debug!(connection = %connection, reason, "TCP connection closed");
        self.update_gauge();
    }

    /// Queues a packet str0m wants sent over TCP. Never waits: a full queue drops the packet.
    pub fn send(&self, transmit: Transmit) {
        let Some(outbound) = self.connections.outbound(transmit.destination) else {
            // The connection closed; the peer's ICE will notice.
            self.metrics.tcp_frames_dropped.fetch_add(1, Relaxed);
            return;
        };
        let packet: Vec<u8> = transmit.contents.into();
        if packet.len() > usize::from(u16::MAX) {
            // Cannot be framed; str0m keeps packets far below this.
            self.metrics.tcp_frames_dropped.fetch_add(1, Relaxed);
            return;
        }
        if outbound.try_send(packet).is_err() {
            self.metrics.tcp_frames_dropped.fetch_add(1, Relaxed);
        }
    }

    /// When the media task should call [`TcpMedia::sweep`].
    pub fn next_sweep(&self) -> Instant {
        self.next_sweep
    }

    /// Closes connections whose handshake or idle time is up.
    pub fn sweep(&mut self, now: Instant) {
        if now < self.next_sweep {
            return;
        }
        self.next_sweep = now + SWEEP_INTERVAL;
        let closed = self.connections.expire(now);
        if closed > 0 {
            tracing::debug!(closed, "TCP connections timed out");
            self.update_gauge();
        }
    }

    fn update_gauge(&self) {
        self.metrics
            .tcp_connections
            .store(self.connections.len() as i64, Relaxed);
    }
}

/// The media task's side of one connection. Dropping it closes the connection.
#[derive(Debug)]
struct Connection {
    id: ConnectionId,
    local: SocketAddr,
    outbound: mpsc::Sender<Vec<u8>>,
    /// Never sent on: dropping it tells the connection task to stop, even mid-write to a client
    /// that has stopped reading.
    _hang_up: oneshot::Sender<()>,
    /// Some frame of it has reached a peer: it passed ICE.
    verified: bool,
    /// When it is closed unless a frame reaches a peer before.
    deadline: Instant,
}

/// What happens to a connection after a frame.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Keep,
    Close,
}

/// Whether a frame goes on to be routed.
#[derive(Debug, PartialEq, Eq)]
enum Admission {
    /// To the media task; `local` is the address the client connected to.
    Route { local: SocketAddr },
    /// Its connection has closed.
    Stale,
    /// Not allowed before ICE: the connection has been closed.
    Refused,
}

/// STUN messages start with two zero bits (RFC 7983), unlike DTLS, RTP and RTCP.
fn is_stun(frame: &[u8]) -> bool {
    frame.first().is_some_and(|b| *b < 4)
}

/// The open connections, by remote address (str0m addresses packets by destination only).
/// Sans-IO: time comes in as `now`.
#[derive(Debug)]
struct Connections {
    by_remote: HashMap<SocketAddr, Connection>,
    limit: usize,
    next_id: u64,
}

impl Connections {
    fn new(limit: usize) -> Self {
        Self {
            by_remote: HashMap::new(),
            limit,
            next_id: 0,
        }
    }

    fn len(&self) -> usize {
        self.by_remote.len()
    }

    /// Adds a connection, which has until `now` + [`HANDSHAKE_TIMEOUT`] to pass ICE, and gives
    /// it an id. `None` (and the connection is closed) when the table is full or a connection
    /// from that address is open already.
    fn insert(
        &mut self,
        remote: SocketAddr,
        local: SocketAddr,
        outbound: mpsc::Sender<Vec<u8>>,
        hang_up: oneshot::Sender<()>,
        now: Instant,
    ) -> Option<ConnectionId> {
        if self.by_remote.len() >= self.limit || self.by_remote.contains_key(&remote) {
            return None;
        }
        let id = ConnectionId(self.next_id);
        self.next_id += 1;
        self.by_remote.insert(
            remote,
            Connection {
                id,
                local,
                outbound,
                _hang_up: hang_up,
                verified: false,
                deadline: now + HANDSHAKE_TIMEOUT,
            },
        );
        Some(id)
    }

    fn get(&self, id: ConnectionId, remote: SocketAddr) -> Option<&Connection> {
        self.by_remote.get(&remote).filter(|c| c.id == id)
    }

    /// Whether a frame is routed. Until its connection has passed ICE only STUN is: anything
    /// else could reach a peer by address alone, were the connection from the address of one that
    /// had passed and closed, so it closes the connection instead.
    fn admit(&mut self, id: ConnectionId, remote: SocketAddr, frame: &[u8]) -> Admission {
        match self.get(id, remote) {
            None => Admission::Stale,
            Some(c) if !c.verified && !is_stun(frame) => {
                self.by_remote.remove(&remote);
                Admission::Refused
            }
            Some(c) => Admission::Route { local: c.local },
        }
    }

    fn outbound(&self, remote: SocketAddr) -> Option<&mpsc::Sender<Vec<u8>>> {
        self.by_remote.get(&remote).map(|c| &c.outbound)
    }

    fn remove(&mut self, id: ConnectionId, remote: SocketAddr) {
        if self.get(id, remote).is_some() {
            self.by_remote.remove(&remote);
        }
    }

    /// A frame of the connection was routed. Before it has passed ICE a frame that reaches no
    /// peer closes it: only a connectivity check with a peer's credentials may open the way.
    fn note_frame(
        &mut self,
        id: ConnectionId,
        remote: SocketAddr,
        reached_peer: bool,
        now: Instant,
    ) -> Verdict {
        let Some(connection) = self.by_remote.get_mut(&remote).filter(|c| c.id == id) else {
            return Verdict::Keep;
        };
        if reached_peer {
            connection.verified = true;
            connection.deadline = now + IDLE_TIMEOUT;
            Verdict::Keep
        } else if connection.verified {
            Verdict::Keep
        } else {
            self.by_remote.remove(&remote);
            Verdict::Close
        }
    }

    /// Closes every connection past its deadline; returns how many.
    fn expire(&mut self, now: Instant) -> usize {
        let before = self.by_remote.len();
        self.by_remote.retain(|_, c| c.deadline > now);
        before - self.by_remote.len()
    }
}

/// Why a connection task ended, for the debug log.
enum ConnectionEnd {
    ClientClosed,
    ClosedBySfu,
    FrameTooLarge(usize),
    MediaTaskStopped,
    Io(io::Error),
}

impl fmt::Display for ConnectionEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ClientClosed => f.write_str("closed by the client"),
            Self::ClosedBySfu => f.write_str("closed by the SFU"),
            Self::FrameTooLarge(len) => write!(f, "a frame of {len} bytes is not media"),
            Self::MediaTaskStopped => f.write_str("the media task has stopped"),
            Self::Io(e) => write!(f, "{e}"),
        }
    }
}

/// Reads and writes one connection until either side ends it, then tells the media task.
async fn serve_connection(
    connection: ConnectionId,
    remote: SocketAddr,
    stream: TcpStream,
    outbound: mpsc::Receiver<Vec<u8>>,
    hung_up: oneshot::Receiver<()>,
    inbound: mpsc::Sender<ConnectionMessage>,
    metrics: Arc<SfuMetrics>,
) {
    let (reader, writer) = stream.into_split();
    // Whichever ends first drops the other: the stream closes when both halves are gone.
    let end = tokio::select! {
        end = read_frames(reader, connection, remote, &inbound, &metrics) => end,
        end = write_frames(writer, outbound, &metrics) => end,
        _ = hung_up => ConnectionEnd::ClosedBySfu,
    };
    tracing::debug!(connection = %connection, end = %end, "TCP connection closed");
    // The media task may have stopped; then there is nobody left to tell.
    let _ = inbound
        .send(ConnectionMessage::Closed { connection, remote })
        .await;
}

async fn read_frames(
    mut reader: OwnedReadHalf,
    connection: ConnectionId,
    remote: SocketAddr,
    inbound: &mpsc::Sender<ConnectionMessage>,
    metrics: &SfuMetrics,
) -> ConnectionEnd {
    let mut decoder = FrameDecoder::default();
    let mut buf = [0u8; 4096];
    loop {
        let read = match reader.read(&mut buf).await {
            Ok(0) => return ConnectionEnd::ClientClosed,
            Ok(n) => n,
            Err(e) => return ConnectionEnd::Io(e),
        };
        decoder.extend(&buf[..read]);
        loop {
            let data = match decoder.next_frame() {
                Ok(Some(data)) => data,
                Ok(None) => break,
                Err(FrameTooLarge(len)) => return ConnectionEnd::FrameTooLarge(len),
            };
            metrics.tcp_frames_received.fetch_add(1, Relaxed);
            metrics
                .tcp_bytes_received
                .fetch_add(data.len() as u64, Relaxed);
            let message = ConnectionMessage::Frame {
                connection,
                remote,
                data,
            };
            if inbound.send(message).await.is_err() {
                return ConnectionEnd::MediaTaskStopped;
            }
        }
    }
}

async fn write_frames(
    mut writer: OwnedWriteHalf,
    mut outbound: mpsc::Receiver<Vec<u8>>,
    metrics: &SfuMetrics,
) -> ConnectionEnd {
    let mut batch = Vec::with_capacity(WRITE_BATCH + MAX_FRAME_LEN);
    while let Some(packet) = outbound.recv().await {
        batch.clear();
        let mut packets = 1;
        let mut bytes = packet.len();
        encode_frame(&packet, &mut batch);
        // Packets that queued up while the last write was under way go out in one write.
        while batch.len() < WRITE_BATCH
            && let Ok(packet) = outbound.try_recv()
        {
            packets += 1;
            bytes += packet.len();
            encode_frame(&packet, &mut batch);
        }
        if let Err(e) = writer.write_all(&batch).await {
            return ConnectionEnd::Io(e);
        }
        metrics.tcp_frames_sent.fetch_add(packets, Relaxed);
        metrics.tcp_bytes_sent.fetch_add(bytes as u64, Relaxed);
    }
    // The media task dropped the connection; `hung_up` fires too, whichever is seen first.
    ConnectionEnd::ClosedBySfu
}

/// Appends `packet` as one RFC 4571 frame. The caller has checked that its length fits 16 bits.
fn encode_frame(packet: &[u8], out: &mut Vec<u8>) {
    let len = u16::try_from(packet.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(packet);
}

/// A frame longer than [`MAX_FRAME_LEN`]: not a media packet.
#[derive(Debug, PartialEq, Eq)]
struct FrameTooLarge(usize);

/// Splits a byte stream into RFC 4571 frames, whatever the pieces it arrives in.
#[derive(Debug, Default)]
struct FrameDecoder {
    pending: Vec<u8>,
}

impl FrameDecoder {
    fn extend(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// The next complete frame, `None` until more bytes arrive. The length is checked as soon as
    /// it is known, so at most one frame and one read are ever buffered.
    fn next_frame(&mut self) -> Result<Option<Vec<u8>>, FrameTooLarge> {
        let Some(header) = self.pending.first_chunk::<2>() else {
            return Ok(None);
        };
        let len = usize::from(u16::from_be_bytes(*header));
        if len > MAX_FRAME_LEN {
            return Err(FrameTooLarge(len));
        }
        if self.pending.len() < 2 + len {
            return Ok(None);
        }
        let frame = self.pending[2..2 + len].to_vec();
        self.pending.drain(..2 + len);
        Ok(Some(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(packet: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_frame(packet, &mut out);
        out
    }

    fn frames_of(decoder: &mut FrameDecoder) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| decoder.next_frame().unwrap()).collect()
    }

    #[test]
    fn a_frame_split_across_reads_comes_out_whole_once_complete() {
        let packet: Vec<u8> = (0..200u8).collect();
        let bytes = frame(&packet);
        let mut decoder = FrameDecoder::default();
        // The length prefix itself split, then the packet in uneven pieces.
        for piece in [&bytes[..1], &bytes[1..2], &bytes[2..50], &bytes[50..201]] {
            decoder.extend(piece);
            assert_eq!(decoder.next_frame(), Ok(None));
        }
        decoder.extend(&bytes[201..]);
        assert_eq!(decoder.next_frame(), Ok(Some(packet)));
        assert_eq!(decoder.next_frame(), Ok(None));
    }

    #[test]
    fn several_frames_in_one_read_come_out_in_order() {
        let packets = [vec![1u8; 20], vec![2u8; 1], vec![3u8; MAX_FRAME_LEN]];
        let mut bytes: Vec<u8> = packets.iter().flat_map(|p| frame(p)).collect();
        // And the start of one more, to be finished by the next read.
        let last = frame(&[4u8; 30]);
        bytes.extend_from_slice(&last[..10]);
        let mut decoder = FrameDecoder::default();
        decoder.extend(&bytes);
        assert_eq!(frames_of(&mut decoder), packets);
        decoder.extend(&last[10..]);
        assert_eq!(frames_of(&mut decoder), [vec![4u8; 30]]);
    }

    #[test]
    fn an_oversized_frame_is_refused_as_soon_as_its_length_is_known() {
        let mut decoder = FrameDecoder::default();
        decoder.extend(&frame(&[7u8; 10]));
        decoder.extend(&((MAX_FRAME_LEN + 1) as u16).to_be_bytes());
        assert_eq!(decoder.next_frame(), Ok(Some(vec![7u8; 10])));
        assert_eq!(decoder.next_frame(), Err(FrameTooLarge(MAX_FRAME_LEN + 1)));
    }

    /// A connection task on a real loopback connection, and the client's end of it.
    async fn served_connection() -> (
        TcpStream,
        mpsc::Sender<Vec<u8>>,
        mpsc::Receiver<ConnectionMessage>,
        oneshot::Sender<()>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (stream, remote) = listener.accept().await.unwrap();
        let (outbound_sender, outbound) = mpsc::channel(OUTBOUND_QUEUE);
        let (inbound_sender, inbound) = mpsc::channel(INBOUND_QUEUE);
        let (hang_up, hung_up) = oneshot::channel();
        tokio::spawn(serve_connection(
            ConnectionId(1),
            remote,
            stream,
            outbound,
            hung_up,
            inbound_sender,
            Arc::default(),
        ));
        (client, outbound_sender, inbound, hang_up)
    }

    fn frame_data(message: Option<ConnectionMessage>) -> Vec<u8> {
        match message {
            Some(ConnectionMessage::Frame { data, .. }) => data,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    /// Reads until the SFU closes the connection; a reset counts as closed too.
    async fn read_to_close(client: &mut TcpStream) {
        let mut rest = Vec::new();
        let _ = client.read_to_end(&mut rest).await;
        assert!(rest.is_empty(), "nothing is sent on a refused connection");
    }

    #[tokio::test]
    async fn frames_written_in_pieces_reach_the_media_task_whole() {
        let (mut client, _outbound, mut inbound, _hang_up) = served_connection().await;
        let bytes: Vec<u8> = [frame(&[1; 100]), frame(&[2; 300])].concat();
        for piece in bytes.chunks(7) {
            client.write_all(piece).await.unwrap();
            client.flush().await.unwrap();
        }
        assert_eq!(frame_data(inbound.recv().await), vec![1; 100]);
        assert_eq!(frame_data(inbound.recv().await), vec![2; 300]);
    }

    #[tokio::test]
    async fn an_oversized_frame_closes_the_connection() {
        let (mut client, _outbound, mut inbound, _hang_up) = served_connection().await;
        client.write_all(&frame(&[1; 40])).await.unwrap();
        client.write_all(&u16::MAX.to_be_bytes()).await.unwrap();
        client.write_all(&[0; 100]).await.unwrap();
        assert_eq!(frame_data(inbound.recv().await), vec![1; 40]);
        assert!(matches!(
            inbound.recv().await,
            Some(ConnectionMessage::Closed { .. })
        ));
        read_to_close(&mut client).await;
    }

    #[tokio::test]
    async fn queued_packets_go_out_framed_and_hanging_up_closes_the_connection() {
        let (mut client, outbound, mut inbound, hang_up) = served_connection().await;
        outbound.send(vec![5; 10]).await.unwrap();
        outbound.send(vec![6; 1200]).await.unwrap();
        for expected in [vec![5; 10], vec![6; 1200]] {
            let len = client.read_u16().await.unwrap();
            let mut packet = vec![0; usize::from(len)];
            client.read_exact(&mut packet).await.unwrap();
            assert_eq!(packet, expected);
        }
        drop(hang_up);
        assert!(matches!(
            inbound.recv().await,
            Some(ConnectionMessage::Closed { .. })
        ));
        read_to_close(&mut client).await;
    }

    /// The media task's half of a connection, and what the connection task would watch.
    fn channels() -> (
        mpsc::Sender<Vec<u8>>,
        oneshot::Sender<()>,
        oneshot::Receiver<()>,
    ) {
        let (outbound, _) = mpsc::channel(1);
        let (hang_up, hung_up) = oneshot::channel();
        (outbound, hang_up, hung_up)
    }

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([192, 0, 2, 1], port))
    }

    const LOCAL: SocketAddr =
        SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 50000);

    /// First bytes of a STUN binding request and of an RTP packet.
    const STUN: [u8; 4] = [0x00, 0x01, 0x00, 0x00];
    const RTP: [u8; 4] = [0x80, 0x6f, 0x00, 0x01];

    fn is_hung_up(hung_up: &mut oneshot::Receiver<()>) -> bool {
        hung_up.try_recv() == Err(oneshot::error::TryRecvError::Closed)
    }

    #[test]
    fn a_connection_that_never_passes_ice_is_closed_at_the_handshake_deadline() {
        let t0 = Instant::now();
        let mut table = Connections::new(8);
        let (outbound, hang_up, mut hung_up) = channels();
        table.insert(addr(1), LOCAL, outbound, hang_up, t0).unwrap();
        assert_eq!(
            table.expire(t0 + HANDSHAKE_TIMEOUT - Duration::from_millis(1)),
            0
        );
        assert!(!is_hung_up(&mut hung_up));
        assert_eq!(table.expire(t0 + HANDSHAKE_TIMEOUT), 1);
        assert!(is_hung_up(&mut hung_up));
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn before_ice_only_stun_is_routed_and_anything_else_closes_the_connection() {
        let t0 = Instant::now();
        let mut table = Connections::new(8);
        let (outbound, hang_up, mut hung_up) = channels();
        let id = table.insert(addr(1), LOCAL, outbound, hang_up, t0).unwrap();
        assert_eq!(
            table.admit(id, addr(1), &STUN),
            Admission::Route { local: LOCAL }
        );
        assert_eq!(table.admit(id, addr(1), &RTP), Admission::Refused);
        assert!(is_hung_up(&mut hung_up));
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn after_ice_every_packet_is_routed() {
        let t0 = Instant::now();
        let mut table = Connections::new(8);
        let (outbound, hang_up, _) = channels();
        let id = table.insert(addr(1), LOCAL, outbound, hang_up, t0).unwrap();
        assert_eq!(table.note_frame(id, addr(1), true, t0), Verdict::Keep);
        assert_eq!(
            table.admit(id, addr(1), &RTP),
            Admission::Route { local: LOCAL }
        );
    }

    #[test]
    fn a_first_frame_no_peer_accepts_closes_the_connection_at_once() {
        let t0 = Instant::now();
        let mut table = Connections::new(8);
        let (outbound, hang_up, mut hung_up) = channels();
        let id = table.insert(addr(1), LOCAL, outbound, hang_up, t0).unwrap();
        assert_eq!(table.note_frame(id, addr(1), false, t0), Verdict::Close);
        assert!(is_hung_up(&mut hung_up));
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn a_connection_that_passed_ice_stays_while_its_packets_reach_a_peer() {
        let t0 = Instant::now();
        let mut table = Connections::new(8);
        let (outbound, hang_up, mut hung_up) = channels();
        let id = table.insert(addr(1), LOCAL, outbound, hang_up, t0).unwrap();
        let checked = t0 + Duration::from_secs(1);
        assert_eq!(table.note_frame(id, addr(1), true, checked), Verdict::Keep);
        assert_eq!(table.expire(t0 + HANDSHAKE_TIMEOUT), 0);
        // Once past ICE a packet no peer takes (its peer has just left, say) does not close the
        // connection: the idle timeout does.
        assert_eq!(table.note_frame(id, addr(1), false, checked), Verdict::Keep);
        let last = t0 + Duration::from_secs(20);
        assert_eq!(table.note_frame(id, addr(1), true, last), Verdict::Keep);
        assert_eq!(
            table.expire(last + IDLE_TIMEOUT - Duration::from_millis(1)),
            0
        );
        assert!(!is_hung_up(&mut hung_up));
        assert_eq!(table.expire(last + IDLE_TIMEOUT), 1);
        assert!(is_hung_up(&mut hung_up));
    }

    #[test]
    fn connections_beyond_the_limit_or_from_an_open_address_are_refused() {
        let t0 = Instant::now();
        let mut table = Connections::new(2);
        let open = |table: &mut Connections, port| {
            let (outbound, hang_up, _) = channels();
            table.insert(addr(port), LOCAL, outbound, hang_up, t0)
        };
        assert!(open(&mut table, 1).is_some());
        assert!(open(&mut table, 1).is_none(), "same address");
        assert!(open(&mut table, 2).is_some());
        assert!(open(&mut table, 3).is_none(), "over the limit");
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn a_closed_connections_late_messages_do_not_touch_a_new_one_from_the_same_address() {
        let t0 = Instant::now();
        let mut table = Connections::new(8);
        let (outbound, hang_up, _) = channels();
        let old = table.insert(addr(1), LOCAL, outbound, hang_up, t0).unwrap();
        table.remove(old, addr(1));
        let (outbound, hang_up, mut hung_up) = channels();
        let new = table.insert(addr(1), LOCAL, outbound, hang_up, t0).unwrap();
        assert_eq!(table.admit(old, addr(1), &RTP), Admission::Stale);
        assert_eq!(table.note_frame(old, addr(1), false, t0), Verdict::Keep);
        table.remove(old, addr(1));
        assert_eq!(
            table.admit(new, addr(1), &STUN),
            Admission::Route { local: LOCAL }
        );
        assert!(!is_hung_up(&mut hung_up));
    }
}
