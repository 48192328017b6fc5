//! How each participant's connection is doing, from what str0m measures once a second and what
//! the SFU itself sends and receives.
//!
//! "Up" is what the participant sends the SFU, "down" what the SFU sends the participant. Loss is
//! taken from transport-wide congestion control feedback (TWCC: every packet, all streams) over
//! the last [`LOSS_WINDOW`] (one second of a booth's hundred-odd packets is too few to tell 2 %
//! from 5 %) and, where a direction has none, from the RTCP receiver reports of its streams. Round-trip time comes from the participant's receiver reports (RFC 3550), else from
//! TWCC feedback. Jitter is measured on audio only: video packets of one frame share a timestamp
//! and leave in a burst, so their interarrival jitter measures pacing, not the network.
//!
//! The [`QualityLevel`] is what a person sees: **poor** when loss in either direction is over
//! 5 %, the round trip over 400 ms, jitter over 50 ms, or a video the participant receives is
//! paused because their link cannot carry it; **fair** when loss is over 2 %, the round trip over
//! 250 ms or jitter over 30 ms; **good** otherwise. A worse level shows at once; a better one only
//! after it has held for [`RECOVERY_HOLD`], so the indicator does not flicker on a link near a
//! threshold.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use str0m::media::{Mid, Rid};
use str0m::stats::{MediaEgressStats, MediaIngressStats, PeerStats};

use crate::ids::ParticipantId;

/// Opus, the only audio codec the SFU negotiates, timestamps at 48 kHz (RED shares its clock).
const AUDIO_CLOCK_RATE: f64 = 48_000.0;

/// Loss is the mean of str0m's per-second figures over this long.
pub const LOSS_WINDOW: Duration = Duration::from_secs(3);

/// A stream whose stats have not come for this long has stopped (its track went away).
const STREAM_STALE: Duration = Duration::from_secs(3);

const POOR_LOSS: f32 = 0.05;
const FAIR_LOSS: f32 = 0.02;
const POOR_RTT: Duration = Duration::from_millis(400);
const FAIR_RTT: Duration = Duration::from_millis(250);
const POOR_JITTER: Duration = Duration::from_millis(50);
const FAIR_JITTER: Duration = Duration::from_millis(30);

/// How long a better level must hold before it is shown.
pub const RECOVERY_HOLD: Duration = Duration::from_secs(4);

/// What a person is told about their connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum QualityLevel {
    #[default]
    Good,
    Fair,
    Poor,
}

/// One participant's connection, as of the last refresh.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quality {
    pub rtt: Option<Duration>,
    /// Share of the participant's packets lost on the way to the SFU (0 to 1).
    pub loss_up: Option<f32>,
    /// Share of the SFU's packets lost on the way to the participant (0 to 1).
    pub loss_down: Option<f32>,
    /// Interarrival jitter of the participant's audio at the SFU.
    pub jitter_up: Option<Duration>,
    /// Interarrival jitter of the audio the participant receives, as it reports.
    pub jitter_down: Option<Duration>,
    /// What the SFU receives from the participant, bits per second.
    pub bitrate_up: u64,
    /// What the SFU forwards to the participant, bits per second.
    pub bitrate_down: u64,
    /// Every video the participant receives and the simulcast layer it gets.
    pub videos: Vec<ReceivedVideo>,
    pub level: QualityLevel,
}

/// A video one participant receives.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedVideo {
    pub publisher: ParticipantId,
    /// The simulcast layer forwarded (0 is the lowest); `None` while nothing is: paused, hidden,
    /// or waiting for the first keyframe.
    pub layer: Option<usize>,
    /// Paused because the participant's link cannot carry even the lowest layer.
    pub paused: bool,
}

impl Quality {
    /// The level these figures alone call for.
    fn measured_level(&self) -> QualityLevel {
        let loss = self
            .loss_up
            .into_iter()
            .chain(self.loss_down)
            .fold(0.0, f32::max);
        let jitter = self.jitter_up.max(self.jitter_down).unwrap_or_default();
        let rtt = self.rtt.unwrap_or_default();
        if loss > POOR_LOSS
            || rtt > POOR_RTT
            || jitter > POOR_JITTER
            || self.videos.iter().any(|v| v.paused)
        {
            QualityLevel::Poor
        } else if loss > FAIR_LOSS || rtt > FAIR_RTT || jitter > FAIR_JITTER {
            QualityLevel::Fair
        } else {
            QualityLevel::Good
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Direction {
    Up,
    Down,
}

/// The last stats of one RTP stream (an m-line, or one simulcast layer of it).
#[derive(Debug)]
struct StreamStats {
    direction: Direction,
    mid: Mid,
    rid: Option<Rid>,
    audio: bool,
    /// Packets sent or received on the stream so far.
    packets: u64,
    /// Of those, the ones since the report before: they weigh this stream's loss against the
    /// others'.
    new_packets: u64,
    loss: Option<f32>,
    jitter: Option<Duration>,
    rtt: Option<Duration>,
    at: Instant,
}

/// What str0m has reported about one participant's connection, kept between its stats events.
#[derive(Debug, Default)]
pub struct LinkStats {
    twcc_rtt: Option<Duration>,
    twcc_loss_up: RecentLoss,
    twcc_loss_down: RecentLoss,
    streams: Vec<StreamStats>,
    shown: QualityLevel,
    /// Since when the measured level has been better than the one shown.
    better_since: Option<Instant>,
}

impl LinkStats {
    pub fn on_peer_stats(&mut self, stats: &PeerStats) {
        self.twcc_rtt = stats.rtt;
        self.twcc_loss_up
            .record(stats.ingress_loss_fraction, stats.timestamp);
        self.twcc_loss_down
            .record(stats.egress_loss_fraction, stats.timestamp);
    }

    /// Stats of a stream the participant sends (`audio` when it is on an audio m-line).
    pub fn on_ingress(&mut self, stats: &MediaIngressStats, audio: bool) {
        self.update(StreamStats {
            direction: Direction::Up,
            mid: stats.mid,
            rid: stats.rid,
            audio,
            packets: stats.packets,
            new_packets: 0,
            loss: stats.loss,
            jitter: audio.then(|| rtp_duration(stats.jitter)),
            rtt: stats.rtt,
            at: stats.timestamp,
        });
    }

    /// Stats of a stream the SFU sends the participant, with what its receiver reports say.
    pub fn on_egress(&mut self, stats: &MediaEgressStats, audio: bool) {
        self.update(StreamStats {
            direction: Direction::Down,
            mid: stats.mid,
            rid: stats.rid,
            audio,
            packets: stats.packets,
            new_packets: 0,
            loss: stats.loss,
            jitter: stats
                .remote
                .as_ref()
                .filter(|_| audio)
                .map(|r| rtp_duration(r.jitter)),
            rtt: stats.rtt,
            at: stats.timestamp,
        });
    }

    /// Replaces a stream's last stats with `report` (whose `new_packets` is worked out here).
    fn update(&mut self, report: StreamStats) {
        let previous = self.streams.iter_mut().find(|s| {
            s.direction == report.direction && s.mid == report.mid && s.rid == report.rid
        });
        match previous {
            Some(s) => {
                let new_packets = report.packets.saturating_sub(s.packets);
                *s = StreamStats {
                    new_packets,
                    ..report
                };
            }
            None => self.streams.push(StreamStats {
                new_packets: report.packets,
                ..report
            }),
        }
    }

    /// The quality as of `now`, with the rates and videos only the room knows.
    pub fn snapshot(
        &mut self,
        now: Instant,
        bitrate_up: u64,
        bitrate_down: u64,
        videos: Vec<ReceivedVideo>,
    ) -> Quality {
        self.streams
            .retain(|s| now.saturating_duration_since(s.at) < STREAM_STALE);
        let egress_rtts: Vec<Duration> = self
            .streams
            .iter()
            .filter(|s| s.direction == Direction::Down)
            .filter_map(|s| s.rtt)
            .collect();
        let rtt = if egress_rtts.is_empty() {
            self.twcc_rtt
        } else {
            Some(egress_rtts.iter().sum::<Duration>() / egress_rtts.len() as u32)
        };
        let mut quality = Quality {
            rtt,
            loss_up: self
                .twcc_loss_up
                .mean(now)
                .or_else(|| self.reported_loss(Direction::Up)),
            loss_down: self
                .twcc_loss_down
                .mean(now)
                .or_else(|| self.reported_loss(Direction::Down)),
            jitter_up: self.audio_jitter(Direction::Up),
            jitter_down: self.audio_jitter(Direction::Down),
            bitrate_up,
            bitrate_down,
            videos,
            level: QualityLevel::Good,
        };
        let measured = quality.measured_level();
        if measured >= self.shown {
            self.shown = measured;
            self.better_since = None;
        } else {
            let since = *self.better_since.get_or_insert(now);
            if now.saturating_duration_since(since) >= RECOVERY_HOLD {
                self.shown = measured;
                self.better_since = None;
            }
        }
        quality.level = self.shown;
        quality
    }

    /// Loss from receiver reports, each stream weighted by the packets it carried since its last
    /// report.
    fn reported_loss(&self, direction: Direction) -> Option<f32> {
        let (lost, packets) = self
            .streams
            .iter()
            .filter(|s| s.direction == direction)
            .filter_map(|s| Some((s.loss?, s.new_packets)))
            .fold((0.0, 0u64), |(lost, packets), (loss, n)| {
                (lost + loss * n as f32, packets + n)
            });
        (packets > 0).then(|| lost / packets as f32)
    }

    fn audio_jitter(&self, direction: Direction) -> Option<Duration> {
        self.streams
            .iter()
            .filter(|s| s.direction == direction && s.audio)
            .filter_map(|s| s.jitter)
            .max()
    }
}

/// The per-second loss figures of one direction over the last [`LOSS_WINDOW`].
#[derive(Debug, Default)]
struct RecentLoss {
    samples: VecDeque<(Instant, f32)>,
}

impl RecentLoss {
    /// A second's figure; `None` (nothing sent that second) adds nothing.
    fn record(&mut self, loss: Option<f32>, at: Instant) {
        if let Some(loss) = loss {
            self.samples.push_back((at, loss));
        }
    }

    fn mean(&mut self, now: Instant) -> Option<f32> {
        while self
            .samples
            .front()
            .is_some_and(|(at, _)| now.saturating_duration_since(*at) >= LOSS_WINDOW)
        {
            self.samples.pop_front();
        }
        let sum: f32 = self.samples.iter().map(|(_, loss)| loss).sum();
        (!self.samples.is_empty()).then(|| sum / self.samples.len() as f32)
    }
}

/// An interarrival jitter in RTP timestamp units of the audio clock, as a duration.
fn rtp_duration(units: u32) -> Duration {
    Duration::from_secs_f64(f64::from(units) / AUDIO_CLOCK_RATE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_loss(at: Instant, loss_up: f32) -> PeerStats {
        PeerStats {
            peer_bytes_rx: 0,
            peer_bytes_tx: 0,
            bytes_rx: 0,
            bytes_tx: 0,
            timestamp: at,
            bwe_tx: None,
            egress_loss_fraction: Some(0.0),
            ingress_loss_fraction: Some(loss_up),
            rtt: Some(Duration::from_millis(40)),
            selected_candidate_pair: None,
        }
    }

    #[test]
    fn loss_is_the_mean_over_the_window() {
        let t0 = Instant::now();
        let mut link = LinkStats::default();
        for (second, loss) in [0.5, 0.0, 0.1, 0.2].into_iter().enumerate() {
            link.on_peer_stats(&with_loss(t0 + Duration::from_secs(second as u64), loss));
        }
        let q = link.snapshot(t0 + Duration::from_secs(3), 0, 0, vec![]);
        assert!(q.loss_up.is_some_and(|l| (l - 0.1).abs() < 1e-6), "{q:?}");
        assert_eq!(q.loss_down, Some(0.0));
    }

    #[test]
    fn the_level_drops_at_once_and_recovers_after_the_hold() {
        let t0 = Instant::now();
        let mut link = LinkStats::default();
        link.on_peer_stats(&with_loss(t0, 0.0));
        assert_eq!(link.snapshot(t0, 0, 0, vec![]).level, QualityLevel::Good);
        let t1 = t0 + LOSS_WINDOW;
        link.on_peer_stats(&with_loss(t1, 0.08));
        assert_eq!(link.snapshot(t1, 0, 0, vec![]).level, QualityLevel::Poor);
        let t2 = t1 + LOSS_WINDOW;
        link.on_peer_stats(&with_loss(t2, 0.03));
        let q = link.snapshot(t2, 0, 0, vec![]);
        assert_eq!((q.level, q.loss_up), (QualityLevel::Poor, Some(0.03)));
        let t3 = t2 + RECOVERY_HOLD;
        link.on_peer_stats(&with_loss(t3, 0.03));
        assert_eq!(link.snapshot(t3, 0, 0, vec![]).level, QualityLevel::Fair);
    }

    #[test]
    fn a_video_paused_for_bandwidth_is_poor() {
        let mut link = LinkStats::default();
        let paused = ReceivedVideo {
            publisher: ParticipantId::from("officer"),
            layer: None,
            paused: true,
        };
        let q = link.snapshot(Instant::now(), 0, 0, vec![paused]);
        assert_eq!(q.level, QualityLevel::Poor);
    }

    #[test]
    fn audio_jitter_is_in_the_audio_clock() {
        assert_eq!(rtp_duration(480), Duration::from_millis(10));
    }
}
