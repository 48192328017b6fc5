//! Per-subscriber rewriting of forwarded RTP.
//!
//! Each subscriber sees a forwarded track as its own stream: its own SSRC (chosen by the
//! subscriber's `Rtc`), sequence numbers that start below 65 536 (so the SRTP rollover counter a
//! fresh receiver assumes, zero, is right however long the publisher has been sending) and
//! continue without gaps the publisher did not cause, and RTP timestamps shifted by a random
//! offset, as RFC 3550 asks of a new stream.
//!
//! A subscriber may be moved between a publisher's simulcast layers, which are separate streams
//! with their own sequence numbers, timestamps and VP8 picture IDs. The subscriber must not see
//! the seam: at a switch the new layer is mapped so that its first packet directly follows the
//! last one forwarded, and its timestamps continue by the time that really passed.

use std::time::Instant;

/// Rewrites one forwarded stream's sequence numbers and timestamps for one subscriber.
#[derive(Debug, Clone)]
pub struct Rewriter {
    source: Option<Mapping>,
    out_seq_start: u64,
    out_ts_start: u32,
    /// The newest packet written: a switch continues from it.
    newest: Option<Newest>,
}

/// How the current source's numbers map onto the subscriber's.
#[derive(Debug, Clone, Copy)]
struct Mapping {
    in_seq_base: u64,
    out_seq_base: u64,
    ts_offset: u32,
}

#[derive(Debug, Clone, Copy)]
struct Newest {
    seq: u64,
    ts: u32,
    arrived: Instant,
}

/// A rewritten packet: the outgoing sequence number and timestamp, and whether it is the newest
/// packet so far (false for a retransmission filling an earlier hole).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rewritten {
    pub seq: u64,
    pub ts: u32,
    pub newest: bool,
}

impl Rewriter {
    /// `out_seq_start` must be below 32 768 so there is room before the first wrap; `out_ts_start`
    /// is any value (random in production).
    pub fn new(out_seq_start: u16, out_ts_start: u32) -> Self {
        Self {
            source: None,
            out_seq_start: u64::from(out_seq_start & 0x7fff),
            out_ts_start,
            newest: None,
        }
    }

    pub fn random() -> Self {
        Self::new(rand::random::<u16>(), rand::random::<u32>())
    }

    /// Maps an incoming packet (extended sequence number, RTP timestamp, arrival time) of the
    /// current source to the outgoing one. Returns `None` for a packet older than the first one
    /// forwarded from this source (a late retransmission from before the subscription or the
    /// switch): it has no place in this subscriber's stream.
    pub fn rewrite(&mut self, in_seq: u64, in_ts: u32, arrived: Instant) -> Option<Rewritten> {
        let mapping = *self.source.get_or_insert(Mapping {
            in_seq_base: in_seq,
            out_seq_base: self.out_seq_start,
            ts_offset: self.out_ts_start.wrapping_sub(in_ts),
        });
        let delta = in_seq.checked_sub(mapping.in_seq_base)?;
        let seq = mapping.out_seq_base + delta;
        let ts = in_ts.wrapping_add(mapping.ts_offset);
        let newest = self.newest.is_none_or(|n| seq > n.seq);
        if newest {
            self.newest = Some(Newest { seq, ts, arrived });
        }
        Some(Rewritten { seq, ts, newest })
    }

    /// Continues the stream from another source (another simulcast layer), starting with this
    /// packet, which the caller forwards next with [`Rewriter::rewrite`]. Its sequence number
    /// follows the newest one written; its timestamp advances by the time since the newest
    /// packet arrived (at least one tick, so the receiver sees a new frame).
    pub fn switch_source(&mut self, in_seq: u64, in_ts: u32, arrived: Instant, clock_rate: u32) {
        let Some(newest) = self.newest else {
            // Nothing forwarded yet: the first packet starts the stream as usual.
            self.source = None;
            return;
        };
        let elapsed = arrived.saturating_duration_since(newest.arrived);
        let ticks = (elapsed.as_secs_f64() * f64::from(clock_rate)).round() as u32;
        let out_ts = newest.ts.wrapping_add(ticks.max(1));
        self.source = Some(Mapping {
            in_seq_base: in_seq,
            out_seq_base: newest.seq + 1,
            ts_offset: out_ts.wrapping_sub(in_ts),
        });
    }
}

/// Rewrites VP8 picture IDs and TL0PICIDX for one subscriber so they run on across layer
/// switches: a decoder that sees a picture ID jump backwards takes the new frames for old ones.
#[derive(Debug, Clone, Default)]
pub struct Vp8Renumber {
    picture_id_offset: u16,
    tl0_offset: u8,
    /// Picture ID and TL0PICIDX of the newest packet written.
    newest: Option<(u16, u8)>,
}

impl Vp8Renumber {
    /// Call with the first packet of a new source (a keyframe): its picture ID will follow the
    /// newest one written.
    pub fn switch_source(&mut self, picture_id: Option<u16>, tl0_pic_idx: Option<u8>) {
        let Some((newest_pid, newest_tl0)) = self.newest else {
            return;
        };
        if let Some(pid) = picture_id {
            self.picture_id_offset = newest_pid.wrapping_add(1).wrapping_sub(pid);
        }
        if let Some(tl0) = tl0_pic_idx {
            self.tl0_offset = newest_tl0.wrapping_add(1).wrapping_sub(tl0);
        }
    }

    /// The outgoing picture ID (masked to the field's width) and TL0PICIDX.
    pub fn rewrite(
        &mut self,
        picture_id: Option<(u16, bool)>,
        tl0_pic_idx: Option<u8>,
        newest: bool,
    ) -> (Option<u16>, Option<u8>) {
        let pid = picture_id.map(|(pid, fifteen_bits)| {
            let mask = if fifteen_bits { 0x7fff } else { 0x7f };
            pid.wrapping_add(self.picture_id_offset) & mask
        });
        let tl0 = tl0_pic_idx.map(|t| t.wrapping_add(self.tl0_offset));
        if newest {
            let (old_pid, old_tl0) = self.newest.unwrap_or_default();
            self.newest = Some((pid.unwrap_or(old_pid), tl0.unwrap_or(old_tl0)));
        }
        (pid, tl0)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn seqs(r: &mut Rewriter, range: std::ops::Range<u64>, at: Instant) -> Vec<u64> {
        range.map(|s| r.rewrite(s, 0, at).unwrap().seq).collect()
    }

    #[test]
    fn sequence_continues_without_gaps_from_a_low_start() {
        let mut r = Rewriter::new(1000, 5);
        let out = seqs(&mut r, 70_000..70_010, Instant::now());
        assert_eq!(out, (1000u64..1010).collect::<Vec<_>>());
    }

    #[test]
    fn a_publisher_past_65536_packets_still_starts_the_subscriber_below_the_first_wrap() {
        let mut r = Rewriter::new(u16::MAX, 0);
        let seq = r.rewrite(3 * 65_536 + 17, 0, Instant::now()).unwrap().seq;
        assert!(seq < 65_536, "first forwarded seq {seq} must have ROC 0");
    }

    #[test]
    fn publisher_loss_stays_visible_so_the_subscriber_can_nack() {
        let mut r = Rewriter::new(10, 0);
        let now = Instant::now();
        assert_eq!(r.rewrite(100, 0, now).unwrap().seq, 10);
        assert_eq!(r.rewrite(103, 0, now).unwrap().seq, 13);
        // A retransmission of the missing packet fills the hole, and is not the newest.
        let filled = r.rewrite(101, 0, now).unwrap();
        assert_eq!((filled.seq, filled.newest), (11, false));
    }

    #[test]
    fn packets_from_before_the_subscription_are_dropped() {
        let mut r = Rewriter::new(10, 0);
        r.rewrite(500, 0, Instant::now());
        assert_eq!(r.rewrite(499, 0, Instant::now()), None);
    }

    #[test]
    fn timestamps_keep_their_spacing_and_wrap() {
        let mut r = Rewriter::new(0, u32::MAX - 10);
        let now = Instant::now();
        assert_eq!(r.rewrite(1, 90_000, now).unwrap().ts, u32::MAX - 10);
        assert_eq!(r.rewrite(2, 93_000, now).unwrap().ts, 2_989);
    }

    #[test]
    fn a_switch_continues_sequence_and_timestamps_from_the_newest_packet() {
        let start = Instant::now();
        let mut r = Rewriter::new(100, 1_000);
        // Layer A: seq 5000.., ts 0 then 3000 (one frame at 30 fps).
        assert_eq!(r.rewrite(5_000, 0, start).unwrap().seq, 100);
        let a = r
            .rewrite(5_001, 3_000, start + Duration::from_millis(33))
            .unwrap();
        assert_eq!((a.seq, a.ts), (101, 4_000));
        // Layer B, an unrelated numbering, 40 ms later.
        let at = start + Duration::from_millis(73);
        r.switch_source(70_000, 123_456, at, 90_000);
        let b = r.rewrite(70_000, 123_456, at).unwrap();
        assert_eq!(b.seq, 102, "no gap at the switch");
        assert_eq!(b.ts, 4_000 + 3_600, "40 ms at 90 kHz after the newest");
        assert_eq!(r.rewrite(70_001, 126_456, at).unwrap().seq, 103);
        // A late packet of layer B from before the switch has no place.
        assert_eq!(r.rewrite(69_999, 0, at), None);
    }

    #[test]
    fn a_switch_at_the_same_instant_still_advances_the_timestamp() {
        let now = Instant::now();
        let mut r = Rewriter::new(0, 0);
        let a = r.rewrite(1, 500, now).unwrap();
        r.switch_source(9, 77, now, 90_000);
        let b = r.rewrite(9, 77, now).unwrap();
        assert_eq!(b.ts, a.ts + 1);
    }

    #[test]
    fn vp8_picture_ids_run_on_across_a_switch() {
        let mut v = Vp8Renumber::default();
        assert_eq!(
            v.rewrite(Some((0x7ffe, true)), Some(3), true),
            (Some(0x7ffe), Some(3))
        );
        assert_eq!(
            v.rewrite(Some((0x7fff, true)), Some(4), true),
            (Some(0x7fff), Some(4))
        );
        v.switch_source(Some(42), Some(200));
        // Wraps at 15 bits; TL0PICIDX at 8.
        assert_eq!(
            v.rewrite(Some((42, true)), Some(200), true),
            (Some(0), Some(5))
        );
        assert_eq!(
            v.rewrite(Some((43, true)), Some(200), true),
            (Some(1), Some(5))
        );
    }
}
