//! Per-subscriber rewriting of forwarded RTP.
//!
//! Each subscriber sees a forwarded track as its own stream: its own SSRC (chosen by the
//! subscriber's `Rtc`), sequence numbers that start below 65 536 (so the SRTP rollover counter a
//! fresh receiver assumes, zero, is right however long the publisher has been sending) and
//! continue without gaps the publisher did not cause, and RTP timestamps shifted by a random
//! offset, as RFC 3550 asks of a new stream.

/// Rewrites one forwarded stream's sequence numbers and timestamps for one subscriber.
#[derive(Debug, Clone)]
pub struct Rewriter {
    started: Option<Started>,
    out_seq_start: u64,
    out_ts_start: u32,
}

#[derive(Debug, Clone, Copy)]
struct Started {
    in_seq_base: u64,
    ts_offset: u32,
}

impl Rewriter {
    /// `out_seq_start` must be below 32 768 so there is room before the first wrap; `out_ts_start`
    /// is any value (random in production).
    pub fn new(out_seq_start: u16, out_ts_start: u32) -> Self {
        Self {
            started: None,
            out_seq_start: u64::from(out_seq_start & 0x7fff),
            out_ts_start,
        }
    }

    pub fn random() -> Self {
        Self::new(rand::random::<u16>(), rand::random::<u32>())
    }

    /// Maps an incoming packet (extended sequence number, RTP timestamp) to the outgoing one.
    /// Returns `None` for a packet older than the first one forwarded to this subscriber (a late
    /// retransmission from before it subscribed): it has no place in this subscriber's stream.
    pub fn rewrite(&mut self, in_seq: u64, in_ts: u32) -> Option<(u64, u32)> {
        let started = *self.started.get_or_insert(Started {
            in_seq_base: in_seq,
            ts_offset: self.out_ts_start.wrapping_sub(in_ts),
        });
        let delta = in_seq.checked_sub(started.in_seq_base)?;
        Some((
            self.out_seq_start + delta,
            in_ts.wrapping_add(started.ts_offset),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_continues_without_gaps_from_a_low_start() {
        let mut r = Rewriter::new(1000, 5);
        let out: Vec<_> = (70_000u64..70_010)
            .map(|s| r.rewrite(s, 0).unwrap().0)
            .collect();
        assert_eq!(out, (1000u64..1010).collect::<Vec<_>>());
    }

    #[test]
    fn a_publisher_past_65536_packets_still_starts_the_subscriber_below_the_first_wrap() {
        let mut r = Rewriter::new(u16::MAX, 0);
        let (seq, _) = r.rewrite(3 * 65_536 + 17, 0).unwrap();
        assert!(seq < 65_536, "first forwarded seq {seq} must have ROC 0");
    }

    #[test]
    fn publisher_loss_stays_visible_so_the_subscriber_can_nack() {
        let mut r = Rewriter::new(10, 0);
        assert_eq!(r.rewrite(100, 0).unwrap().0, 10);
        assert_eq!(r.rewrite(103, 0).unwrap().0, 13);
        // A retransmission of the missing packet fills the hole.
        assert_eq!(r.rewrite(101, 0).unwrap().0, 11);
    }

    #[test]
    fn packets_from_before_the_subscription_are_dropped() {
        let mut r = Rewriter::new(10, 0);
        r.rewrite(500, 0);
        assert_eq!(r.rewrite(499, 0), None);
    }

    #[test]
    fn timestamps_keep_their_spacing_and_wrap() {
        let mut r = Rewriter::new(0, u32::MAX - 10);
        assert_eq!(r.rewrite(1, 90_000).unwrap().1, u32::MAX - 10);
        assert_eq!(r.rewrite(2, 93_000).unwrap().1, 2_989);
    }
}
