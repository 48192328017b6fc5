//! Counters the SFU keeps for `/metrics`. Plain atomics with relaxed ordering: the media task
//! increments them on the packet path and readers only need eventually consistent totals. Each
//! participant's connection quality is a snapshot the media task replaces once a second, behind a
//! lock that the packet path never takes.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use crate::ids::{ParticipantId, RoomId};
use crate::quality::{Quality, QualityLevel};

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
    pub quality: QualityBoard,
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
        self.quality.render(out);
    }
}

/// The latest quality snapshot of every participant, by room. Participants are labelled by their
/// pseudonymous ids only; a room's entry is replaced whole, so whoever left is gone with it.
#[derive(Debug, Default)]
pub struct QualityBoard {
    rooms: Mutex<BTreeMap<RoomId, Vec<(ParticipantId, Quality)>>>,
}

/// One participant's sample of a gauge: its extra label (name, value), if any, and the value.
type Sample<'a> = (Option<(&'static str, &'a str)>, f64);

/// A gauge: name, help, and its samples from one participant's snapshot.
type Gauge = (&'static str, &'static str, fn(&Quality) -> Vec<Sample<'_>>);

impl QualityBoard {
    /// Replaces a room's snapshots; an empty list removes the room.
    pub fn publish(&self, room: &RoomId, participants: Vec<(ParticipantId, Quality)>) {
        let mut rooms = self.rooms();
        if participants.is_empty() {
            rooms.remove(room);
        } else {
            rooms.insert(room.clone(), participants);
        }
    }

    fn rooms(&self) -> std::sync::MutexGuard<'_, BTreeMap<RoomId, Vec<(ParticipantId, Quality)>>> {
        // Every update is one insert or remove, so a holder that panicked left the map whole.
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn render(&self, out: &mut String) {
        let rooms = self.rooms();
        let gauges: [Gauge; 6] = [
            (
                "narvaro_sfu_participant_rtt_seconds",
                "Round-trip time between the SFU and the participant.",
                |q| q.rtt.map(|d| (None, d.as_secs_f64())).into_iter().collect(),
            ),
            (
                "narvaro_sfu_participant_loss_ratio",
                "Share of packets lost: up is participant to SFU, down is SFU to participant.",
                |q| {
                    [("up", q.loss_up), ("down", q.loss_down)]
                        .into_iter()
                        // Four decimals: an f32 share widened to f64 would print float noise.
                        .filter_map(|(d, loss)| {
                            Some((direction(d), (f64::from(loss?) * 1e4).round() / 1e4))
                        })
                        .collect()
                },
            ),
            (
                "narvaro_sfu_participant_jitter_seconds",
                "Interarrival jitter of audio: up at the SFU, down as the participant reports it.",
                |q| {
                    [("up", q.jitter_up), ("down", q.jitter_down)]
                        .into_iter()
                        .filter_map(|(d, jitter)| Some((direction(d), jitter?.as_secs_f64())))
                        .collect()
                },
            ),
            (
                "narvaro_sfu_participant_bitrate_bits_per_second",
                "Media rate: up is what the SFU receives from the participant, down what it forwards.",
                |q| {
                    vec![
                        (direction("up"), q.bitrate_up as f64),
                        (direction("down"), q.bitrate_down as f64),
                    ]
                },
            ),
            (
                "narvaro_sfu_participant_video_layer",
                "Simulcast layer of each video the participant receives (0 lowest; -1 none).",
                |q| {
                    q.videos
                        .iter()
                        .map(|v| {
                            let layer = v.layer.map_or(-1.0, |l| l as f64);
                            (Some(("publisher_id", v.publisher.as_str())), layer)
                        })
                        .collect()
                },
            ),
            (
                "narvaro_sfu_participant_quality_level",
                "Connection quality as the participant is told: 0 good, 1 fair, 2 poor.",
                |q| {
                    let level = match q.level {
                        QualityLevel::Good => 0.0,
                        QualityLevel::Fair => 1.0,
                        QualityLevel::Poor => 2.0,
                    };
                    vec![(None, level)]
                },
            ),
        ];
        for (name, help, samples) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for (room, participants) in rooms.iter() {
                for (participant, quality) in participants {
                    for (extra, value) in samples(quality) {
                        let extra = extra
                            .map(|(k, v)| format!(",{k}=\"{}\"", escape(v)))
                            .unwrap_or_default();
                        let _ = writeln!(
                            out,
                            "{name}{{room_id=\"{}\",participant_id=\"{}\"{extra}}} {value}",
                            escape(room.as_str()),
                            escape(participant.as_str()),
                        );
                    }
                }
            }
        }
    }
}

fn direction(d: &'static str) -> Option<(&'static str, &'static str)> {
    Some(("direction", d))
}

/// A label value in the Prometheus text format: backslash, double quote and newline escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::quality::ReceivedVideo;

    #[test]
    fn quality_gauges_are_labelled_by_room_and_participant_and_go_with_the_room() {
        let metrics = SfuMetrics::default();
        let room = RoomId::from("bk-1");
        let quality = Quality {
            rtt: Some(Duration::from_millis(42)),
            loss_up: Some(0.1),
            loss_down: None,
            bitrate_up: 300_000,
            videos: vec![ReceivedVideo {
                publisher: ParticipantId::from("p-2"),
                layer: None,
                paused: true,
            }],
            level: QualityLevel::Poor,
            ..Quality::default()
        };
        metrics
            .quality
            .publish(&room, vec![(ParticipantId::from("p-1"), quality)]);
        let mut out = String::new();
        metrics.render(&mut out);
        let labels = r#"room_id="bk-1",participant_id="p-1""#;
        for line in [
            format!("narvaro_sfu_participant_rtt_seconds{{{labels}}} 0.042"),
            format!(r#"narvaro_sfu_participant_loss_ratio{{{labels},direction="up"}} 0.1"#),
            format!(
                r#"narvaro_sfu_participant_bitrate_bits_per_second{{{labels},direction="up"}} 300000"#
            ),
            format!(r#"narvaro_sfu_participant_video_layer{{{labels},publisher_id="p-2"}} -1"#),
            format!("narvaro_sfu_participant_quality_level{{{labels}}} 2"),
        ] {
            assert!(out.lines().any(|l| l == line), "{line} missing from\n{out}");
        }
        let down_loss = |l: &&str| {
            l.starts_with("narvaro_sfu_participant_loss_ratio") && l.contains(r#""down""#)
        };
        assert!(
            !out.lines().any(|l| down_loss(&l)),
            "unknown loss is left out"
        );

        metrics.quality.publish(&room, Vec::new());
        let mut out = String::new();
        metrics.render(&mut out);
        assert!(!out.contains("bk-1"), "{out}");
        assert!(out.contains("# TYPE narvaro_sfu_participant_rtt_seconds gauge"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), r#"a\"b\\c\nd"#);
    }
}
