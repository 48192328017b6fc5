//! Choosing which simulcast layer of a video track a subscriber receives.
//!
//! A publisher sends a track as one to three layers (simulcast encodings, lowest first). For
//! each subscriber the SFU picks the best layer that fits the subscriber's share of its
//! estimated downlink and is no bigger than the size the subscriber shows the video at. Going
//! down happens at once (a congested link must be relieved before it drops audio); going up waits
//! until the higher layer has fitted with headroom for a while, so a subscriber near a boundary
//! does not flap between layers. When not even the lowest layer fits, video pauses and audio keeps
//! the whole link.

use std::time::{Duration, Instant};

/// How long an upgrade (or a resume after a pause) must keep fitting before it happens.
pub const UPGRADE_HOLD: Duration = Duration::from_secs(2);

/// An upgrade must fit this many times over: estimates are noisy and a layer's rate varies.
pub const UPGRADE_HEADROOM: f64 = 1.25;

/// A paused video comes back at its lowest layer with less headroom: the lowest layer is the
/// floor, and on a link just wide enough for it (300 kbit/s for audio and 180p) an estimate that
/// can hardly exceed the link would otherwise keep the video paused for good.
pub const RESUME_HEADROOM: f64 = 1.1;

/// A layer that sent nothing for this long is off (the publisher's encoder dropped it).
pub const LAYER_IDLE: Duration = Duration::from_millis(1000);

/// Packet overhead the meters add to each payload: RTP header with extensions, SRTP tag, UDP and
/// IPv4. Bandwidth estimates count whole datagrams; payload alone would undercount audio by half.
pub const PACKET_OVERHEAD_BYTES: u64 = 70;

/// What a video layer costs before its rate has been measured.
pub const UNMEASURED_VIDEO_BPS: u64 = 100_000;

/// Measures a stream's bitrate over windows of about half a second.
#[derive(Debug, Clone)]
pub struct RateMeter {
    window_start: Option<Instant>,
    window_bytes: u64,
    bps: u64,
    last_packet: Option<Instant>,
}

const METER_WINDOW: Duration = Duration::from_millis(500);

impl Default for RateMeter {
    fn default() -> Self {
        Self::new()
    }
}

impl RateMeter {
    pub const fn new() -> Self {
        Self {
            window_start: None,
            window_bytes: 0,
            bps: 0,
            last_packet: None,
        }
    }

    pub fn record(&mut self, payload_len: usize, now: Instant) {
        let start = *self.window_start.get_or_insert(now);
        let elapsed = now.saturating_duration_since(start);
        if elapsed >= METER_WINDOW {
            self.bps = (self.window_bytes * 8 * 1000) / (elapsed.as_millis() as u64).max(1);
            self.window_start = Some(now);
            self.window_bytes = 0;
        }
        self.window_bytes += payload_len as u64 + PACKET_OVERHEAD_BYTES;
        self.last_packet = Some(now);
    }

    /// The last full window's rate, bits per second; zero once the stream has gone idle.
    pub fn bps(&self, now: Instant) -> u64 {
        if self.is_active(now) { self.bps } else { 0 }
    }

    pub fn is_active(&self, now: Instant) -> bool {
        self.last_packet
            .is_some_and(|at| now.saturating_duration_since(at) < LAYER_IDLE)
    }
}

/// A layer as the chooser sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerView {
    pub active: bool,
    /// Measured rate; zero when not yet measured.
    pub bps: u64,
    /// Frame height from the layer's last keyframe, when known.
    pub height: Option<u16>,
}

impl LayerView {
    /// What forwarding this layer costs.
    pub fn need_bps(&self) -> u64 {
        if self.bps == 0 {
            UNMEASURED_VIDEO_BPS
        } else {
            self.bps
        }
    }
}

/// The highest active layer that fits `budget_bps / headroom` and the rendered height. Layers
/// are ordered lowest first. When heights are known, layers taller than the smallest one that
/// covers `max_height` are not useful to the subscriber and are left out. A layer whose rate is
/// not yet measured is only a candidate when it is the lowest: a new track starts low and climbs.
pub fn best_fit(
    layers: &[LayerView],
    budget_bps: u64,
    max_height: Option<u32>,
    headroom: f64,
) -> Option<usize> {
    let size_cap = max_height.and_then(|h| {
        layers
            .iter()
            .position(|l| l.active && l.height.is_some_and(|lh| u32::from(lh) >= h))
    });
    let lowest_active = layers.iter().position(|l| l.active);
    layers
        .iter()
        .enumerate()
        .filter(|(i, l)| l.active && size_cap.is_none_or(|cap| *i <= cap))
        .filter(|(i, l)| l.bps > 0 || Some(*i) == lowest_active)
        .filter(|(_, l)| (l.need_bps() as f64) * headroom <= budget_bps as f64)
        .map(|(i, _)| i)
        .next_back()
}

/// A subscriber's layer choice for one track, with the hysteresis that keeps it steady.
#[derive(Debug, Clone, Default)]
pub struct LayerChoice {
    /// The layer the subscriber should get; `None` is paused (or nothing to send yet).
    pub target: Option<usize>,
    /// No layer fits the budget although the publisher sends some: video is paused to leave the
    /// link to audio. (A track with no active layer is not paused, just silent.)
    paused: bool,
    /// An upgrade that fits, and since when it has.
    pending_upgrade: Option<(Option<usize>, Instant)>,
}

impl LayerChoice {
    /// Re-decides the target. Returns true when it changed.
    pub fn update(
        &mut self,
        layers: &[LayerView],
        budget_bps: u64,
        max_height: Option<u32>,
        now: Instant,
    ) -> bool {
        let fits = best_fit(layers, budget_bps, max_height, 1.0);
        let headroom = if self.paused {
            RESUME_HEADROOM
        } else {
            UPGRADE_HEADROOM
        };
        let fits_with_headroom = best_fit(layers, budget_bps, max_height, headroom);
        // A pause is a state to recover from like a low layer; no target yet, or a layer that
        // stopped, is not: the first usable layer is taken at once.
        let settled = match self.target {
            Some(t) => layers.get(t).is_some_and(|l| l.active),
            None => self.paused,
        };
        let next = if !settled || fits < self.target {
            // Down (or the current layer stopped): at once.
            self.pending_upgrade = None;
            fits
        } else if fits_with_headroom > self.target {
            match self.pending_upgrade {
                Some((to, since))
                    if to == fits_with_headroom
                        && now.saturating_duration_since(since) >= UPGRADE_HOLD =>
                {
                    self.pending_upgrade = None;
                    fits_with_headroom
                }
                Some((to, _)) if to == fits_with_headroom => self.target,
                _ => {
                    self.pending_upgrade = Some((fits_with_headroom, now));
                    self.target
                }
            }
        } else {
            self.pending_upgrade = None;
            self.target
        };
        let changed = next != self.target;
        self.target = next;
        self.paused = next.is_none() && layers.iter().any(|l| l.active);
        changed
    }

    pub fn paused_for_bandwidth(&self) -> bool {
        self.paused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layers(rates: &[u64]) -> Vec<LayerView> {
        rates
            .iter()
            .map(|&bps| LayerView {
                active: true,
                bps,
                height: None,
            })
            .collect()
    }

    #[test]
    fn the_best_layer_that_fits_is_chosen() {
        let l = layers(&[150_000, 500_000, 1_500_000]);
        assert_eq!(best_fit(&l, 2_000_000, None, 1.0), Some(2));
        assert_eq!(best_fit(&l, 600_000, None, 1.0), Some(1));
        assert_eq!(best_fit(&l, 600_000, None, UPGRADE_HEADROOM), Some(0));
        assert_eq!(best_fit(&l, 100_000, None, 1.0), None);
    }

    #[test]
    fn an_unmeasured_layer_above_the_lowest_waits_for_its_rate() {
        let mut l = layers(&[0, 0, 0]);
        assert_eq!(best_fit(&l, 5_000_000, None, 1.0), Some(0));
        l[1].bps = 400_000;
        assert_eq!(best_fit(&l, 5_000_000, None, 1.0), Some(1));
    }

    #[test]
    fn an_inactive_layer_is_never_chosen() {
        let mut l = layers(&[150_000, 500_000, 1_500_000]);
        l[2].active = false;
        assert_eq!(best_fit(&l, 5_000_000, None, 1.0), Some(1));
    }

    #[test]
    fn a_small_rendering_gets_the_smallest_layer_that_covers_it() {
        let mut l = layers(&[150_000, 500_000, 1_500_000]);
        for (layer, h) in l.iter_mut().zip([180, 360, 720]) {
            layer.height = Some(h);
        }
        assert_eq!(best_fit(&l, 5_000_000, Some(200), 1.0), Some(1));
        assert_eq!(best_fit(&l, 5_000_000, Some(180), 1.0), Some(0));
        assert_eq!(best_fit(&l, 5_000_000, Some(1080), 1.0), Some(2));
    }

    #[test]
    fn down_is_immediate_up_waits_for_the_hold_time() {
        let l = layers(&[150_000, 500_000, 1_500_000]);
        let t0 = Instant::now();
        let mut c = LayerChoice::default();
        assert!(
            c.update(&l, 3_000_000, None, t0),
            "first choice is immediate"
        );
        assert_eq!(c.target, Some(2));
        assert!(c.update(&l, 400_000, None, t0));
        assert_eq!(c.target, Some(0), "down at once");
        assert!(!c.update(&l, 3_000_000, None, t0 + Duration::from_millis(100)));
        assert!(!c.update(&l, 3_000_000, None, t0 + Duration::from_millis(1_500)));
        assert!(c.update(&l, 3_000_000, None, t0 + Duration::from_millis(2_200)));
        assert_eq!(c.target, Some(2));
    }

    #[test]
    fn a_dip_resets_the_upgrade_wait() {
        let l = layers(&[150_000, 500_000]);
        let t0 = Instant::now();
        let mut c = LayerChoice::default();
        c.update(&l, 200_000, None, t0);
        assert_eq!(c.target, Some(0));
        c.update(&l, 1_000_000, None, t0);
        c.update(&l, 300_000, None, t0 + Duration::from_millis(1_000));
        c.update(&l, 1_000_000, None, t0 + Duration::from_millis(1_100));
        c.update(&l, 1_000_000, None, t0 + Duration::from_millis(2_500));
        assert_eq!(c.target, Some(0), "the wait started again at the dip");
        c.update(&l, 1_000_000, None, t0 + Duration::from_millis(3_200));
        assert_eq!(c.target, Some(1));
    }

    #[test]
    fn video_pauses_below_the_lowest_layer_and_resumes_after_the_hold() {
        let l = layers(&[150_000, 500_000]);
        let t0 = Instant::now();
        let mut c = LayerChoice::default();
        c.update(&l, 1_000_000, None, t0);
        c.update(&l, 100_000, None, t0);
        assert_eq!(c.target, None, "paused");
        assert!(c.paused_for_bandwidth());
        c.update(&l, 250_000, None, t0 + Duration::from_millis(10));
        c.update(&l, 250_000, None, t0 + Duration::from_millis(2_100));
        assert_eq!(c.target, Some(0), "resumed on the lowest layer");
        assert!(!c.paused_for_bandwidth());
    }

    #[test]
    fn a_layer_that_stops_is_left_at_once() {
        let mut l = layers(&[150_000, 500_000]);
        let t0 = Instant::now();
        let mut c = LayerChoice::default();
        c.update(&l, 1_000_000, None, t0);
        assert_eq!(c.target, Some(1));
        l[1].active = false;
        assert!(c.update(&l, 1_000_000, None, t0));
        assert_eq!(c.target, Some(0));
    }

    #[test]
    fn the_meter_measures_and_goes_idle() {
        let t0 = Instant::now();
        let mut m = RateMeter::new();
        for i in 0..=50 {
            // 50 packets of 430 bytes (500 with overhead) per second = 200 kbit/s.
            m.record(430, t0 + Duration::from_millis(20 * i));
        }
        let now = t0 + Duration::from_millis(1_000);
        assert!((190_000..=210_000).contains(&m.bps(now)), "{}", m.bps(now));
        assert_eq!(m.bps(now + LAYER_IDLE), 0);
    }
}
