//! The load generator's side of a measurement: what the subscribers received (packets, latency
//! from the send stamps in the payloads, gaps), the shape of the load, and the direct
//! peer-to-peer baseline the SFU's added latency is measured against.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use narvaro_tests::media::{Kind, MediaProfile, TrackLog, send_stamp, stamp_now_micros};
use narvaro_tests::rtc_peer::{MediaPeer, PacketObserver, PeerError};
use serde::Serialize;

/// The load: how many rooms, how they are added, how long to measure.
#[derive(Debug, Clone, Serialize)]
pub struct LoadShape {
    /// Rooms added at each step; memory is sampled after each step.
    pub rooms_per_step: usize,
    /// Steps; the steady-state window runs at the last (full) load.
    pub steps: usize,
    /// Participants in every room, each publishing audio and video and receiving the others.
    pub participants_per_room: usize,
    pub video_bits_per_second: u32,
    pub keyframe_every_secs: f64,
    /// Pause after each step before memory is sampled, and before the window.
    pub settle_secs: f64,
    /// The steady-state window in which CPU, packets and latency are measured.
    pub window_secs: f64,
}

impl LoadShape {
    pub fn media_profile(&self) -> MediaProfile {
        MediaProfile::load(
            self.video_bits_per_second,
            Duration::from_secs_f64(self.keyframe_every_secs),
        )
    }

    pub fn rooms(&self) -> usize {
        self.rooms_per_step * self.steps
    }

    pub fn participants(&self) -> usize {
        self.rooms() * self.participants_per_room
    }

    /// RTP packets a second the SFU should send to all subscribers at full load.
    pub fn expected_egress_packets_per_second(&self) -> f64 {
        let per_publisher = 50.0 + self.media_profile().video_packets_per_second() as f64;
        let streams_per_room = self.participants_per_room * (self.participants_per_room - 1);
        per_publisher * (streams_per_room * self.rooms()) as f64
    }
}

/// What every subscriber of one run received, shared by their packet observers: stamped RTP
/// packets (the publishers' media, not an SFU's padding) and their latency.
#[derive(Default)]
pub struct Received {
    packets: AtomicU64,
    recording: AtomicBool,
    /// One-way latencies in microseconds, recorded only inside the window.
    latencies_micros: Mutex<Vec<u32>>,
}

impl Received {
    pub fn new() -> Arc<Received> {
        Arc::default()
    }

    /// The observer to give each subscribing peer.
    pub fn observer(self: &Arc<Self>) -> PacketObserver {
        let me = Arc::clone(self);
        Arc::new(move |_kind: Kind, packet: &rtc::rtp::Packet| {
            // Only the publishers' media counts: padding and probes an SFU adds carry no stamp.
            let Some(sent) = send_stamp(&packet.payload) else {
                return;
            };
            me.packets.fetch_add(1, Ordering::Relaxed);
            if me.recording.load(Ordering::Relaxed) {
                let latency = stamp_now_micros().saturating_sub(sent);
                me.latencies_micros
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(latency.min(u32::MAX as u64) as u32);
            }
        })
    }

    pub fn packets(&self) -> u64 {
        self.packets.load(Ordering::Relaxed)
    }

    /// Starts keeping latencies (the window opens).
    pub fn start_recording(&self) {
        self.latencies_micros
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.recording.store(true, Ordering::Relaxed);
    }

    /// Stops keeping latencies and returns those of the window, sorted.
    pub fn stop_recording(&self) -> Vec<u32> {
        self.recording.store(false, Ordering::Relaxed);
        let mut l = std::mem::take(
            &mut *self
                .latencies_micros
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        l.sort_unstable();
        l
    }
}

/// The `q` quantile (0..=1) of sorted values, nearest rank; `None` when empty.
pub fn quantile<T: Copy>(sorted: &[T], q: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// The median of some values (mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// Least-squares slope of y over x; `None` with fewer than two distinct x.
pub fn slope(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    Some(sxy / sxx)
}

/// Packets missing inside received streams over packets expected: the continuity check.
pub fn loss_ratio(logs: &[TrackLog]) -> f64 {
    let mut missing = 0u64;
    let mut received = 0u64;
    for log in logs {
        missing += log.gaps().iter().map(|g| g.missing()).sum::<u64>();
        received += log.len() as u64;
    }
    if missing + received == 0 {
        0.0
    } else {
        missing as f64 / (missing + received) as f64
    }
}

/// Latency between two webrtc-rs peers connected directly on loopback, with the same media and
/// the same receive path: what the SFU's added latency is measured against.
#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    pub samples: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

pub async fn direct_baseline(
    profile: MediaProfile,
    window: Duration,
) -> Result<Baseline, PeerError> {
    let mut sender = MediaPeer::new("baseline-sender").await?;
    let receiver = MediaPeer::new("baseline-receiver").await?;
    sender.add_local_tracks("baseline").await?;
    let offer = sender.create_offer().await?;
    let answer = receiver.answer(&offer).await?;
    sender.apply_answer(&answer).await?;
    sender.wait_connected().await?;
    receiver.wait_connected().await?;
    let received = Received::new();
    receiver.set_packet_observer(received.observer())?;
    sender.start_publishing_with(profile).await?;
    // Let the first key frame and any start-up retransmissions pass.
    tokio::time::sleep(Duration::from_secs(1)).await;
    received.start_recording();
    tokio::time::sleep(window).await;
    let latencies = received.stop_recording();
    sender.close().await;
    receiver.close().await;
    let ms = |q| quantile(&latencies, q).map_or(f64::NAN, |us| us as f64 / 1000.0);
    Ok(Baseline {
        samples: latencies.len(),
        p50_ms: ms(0.5),
        p99_ms: ms(0.99),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(quantile(&v, 0.5), Some(50));
        assert_eq!(quantile(&v, 0.99), Some(99));
        assert_eq!(quantile(&v, 1.0), Some(100));
        assert_eq!(quantile::<u32>(&[], 0.5), None);
    }

    #[test]
    fn median_of_three_runs_ignores_order() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn slope_of_memory_over_participants() {
        let points = [(2.0, 10.0), (4.0, 14.0), (6.0, 18.0)];
        assert_eq!(slope(&points), Some(2.0));
        assert_eq!(slope(&[(1.0, 1.0)]), None);
    }

    #[test]
    fn expected_egress_counts_every_subscriber_of_every_publisher() {
        let shape = LoadShape {
            rooms_per_step: 2,
            steps: 1,
            participants_per_room: 2,
            video_bits_per_second: 1_500_000,
            keyframe_every_secs: 3.0,
            settle_secs: 0.0,
            window_secs: 1.0,
        };
        let video = shape.media_profile().video_packets_per_second() as f64;
        assert_eq!(
            shape.expected_egress_packets_per_second(),
            4.0 * (50.0 + video)
        );
    }
}
