//! Counters the SFU keeps for `/metrics`. Plain atomics with relaxed ordering: the media task
//! increments them on the packet path and readers only need eventually consistent totals.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

#[derive(Debug, Default)]
pub struct SfuMetrics {
    pub rooms: AtomicI64,
    pub peers: AtomicI64,
    pub peers_connected: AtomicI64,
    pub packets_received: AtomicU64,
    pub bytes_received: AtomicU64,
    pub packets_sent: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub rtp_packets_forwarded: AtomicU64,
    pub rtp_bytes_forwarded: AtomicU64,
    pub keyframe_requests_forwarded: AtomicU64,
    pub datagrams_unroutable: AtomicU64,
    pub tcp_connections: AtomicI64,
    pub tcp_connections_accepted: AtomicU64,
    pub tcp_connections_refused: AtomicU64,
    pub tcp_frames_received: AtomicU64,
    pub tcp_bytes_received: AtomicU64,
    pub tcp_frames_sent: AtomicU64,
    pub tcp_bytes_sent: AtomicU64,
    pub tcp_frames_dropped: AtomicU64,
    pub tcp_frames_unroutable: AtomicU64,
}

impl SfuMetrics {
    /// Appends the counters in Prometheus text exposition format.
    pub fn render(&self, out: &mut String) {
        let gauges = [
            (
                "narvaro_sfu_rooms",
                "Rooms open on this media node.",
                self.rooms.load(Relaxed),
            ),
            (
                "narvaro_sfu_peers",
                "Peer connections in rooms.",
                self.peers.load(Relaxed),
            ),
            (
                "narvaro_sfu_peers_connected",
                "Peers with ICE and DTLS up.",
                self.peers_connected.load(Relaxed),
            ),
            (
                "narvaro_sfu_tcp_connections",
                "Open ICE-TCP connections.",
                self.tcp_connections.load(Relaxed),
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        let counters = [
            (
                "narvaro_sfu_udp_packets_received_total",
                "UDP datagrams received.",
                &self.packets_received,
            ),
            (
                "narvaro_sfu_udp_bytes_received_total",
                "UDP bytes received.",
                &self.bytes_received,
            ),
            (
                "narvaro_sfu_udp_packets_sent_total",
                "UDP datagrams sent.",
                &self.packets_sent,
            ),
            (
                "narvaro_sfu_udp_bytes_sent_total",
                "UDP bytes sent.",
                &self.bytes_sent,
            ),
            (
                "narvaro_sfu_rtp_packets_forwarded_total",
                "RTP packets forwarded to subscribers.",
                &self.rtp_packets_forwarded,
            ),
            (
                "narvaro_sfu_rtp_bytes_forwarded_total",
                "RTP payload bytes forwarded to subscribers.",
                &self.rtp_bytes_forwarded,
            ),
            (
                "narvaro_sfu_keyframe_requests_forwarded_total",
                "Keyframe requests sent to publishers.",
                &self.keyframe_requests_forwarded,
            ),
            (
                "narvaro_sfu_udp_datagrams_unroutable_total",
                "Datagrams from addresses no peer accepted.",
                &self.datagrams_unroutable,
            ),
            (
                "narvaro_sfu_tcp_connections_accepted_total",
                "ICE-TCP connections accepted.",
                &self.tcp_connections_accepted,
            ),
            (
                "narvaro_sfu_tcp_connections_refused_total",
                "ICE-TCP connections refused: too many open, or one already from that address.",
                &self.tcp_connections_refused,
            ),
            (
                "narvaro_sfu_tcp_frames_received_total",
                "RFC 4571 frames received over ICE-TCP.",
                &self.tcp_frames_received,
            ),
            (
                "narvaro_sfu_tcp_bytes_received_total",
                "Bytes received over ICE-TCP, in frames (length prefixes not counted).",
                &self.tcp_bytes_received,
            ),
            (
                "narvaro_sfu_tcp_frames_sent_total",
                "RFC 4571 frames sent over ICE-TCP.",
                &self.tcp_frames_sent,
            ),
            (
                "narvaro_sfu_tcp_bytes_sent_total",
                "Bytes sent over ICE-TCP, in frames (length prefixes not counted).",
                &self.tcp_bytes_sent,
            ),
            (
                "narvaro_sfu_tcp_frames_dropped_total",
                "Packets for ICE-TCP dropped: the connection's queue was full or it had closed.",
                &self.tcp_frames_dropped,
            ),
            (
                "narvaro_sfu_tcp_frames_unroutable_total",
                "ICE-TCP frames no peer accepted.",
                &self.tcp_frames_unroutable,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Relaxed)
            );
        }
    }
}
