//! A bad moment on a good link is not a verdict on the link: once random loss or congestion is
//! over, the subscriber's estimate climbs again and it gets the top layer back.
//!
//! str0m's loss-based estimator (libwebrtc's loss-based BWE v2) holds its estimate after each
//! loss-limited stretch, for longer each time it enters one (up to a minute), and allows no
//! probe meanwhile; the estimate cannot rise above 1.5 × what is sent either. Congestion that
//! comes and goes is what makes those stretches; these tests make it, and random loss, and watch
//! for the top layer. (The room's own unit tests cover the restart of an estimator found holding
//! through a whole trial, which this emulation does not produce.)

mod common;

use std::time::Duration;

use common::{Link, Meeting, THREE_LAYERS, recent_layer, time_to_top_layer};

#[test]
fn the_top_layer_returns_after_a_moment_of_loss_on_a_good_link() {
    for loss in [0.05, 0.15, 0.3] {
        let mut m = Meeting::new();
        let booth = m.join("booth");
        m.join_with_layers("officer", &THREE_LAYERS);
        m.run(Duration::from_secs(10));
        assert_eq!(
            recent_layer(&m, booth, Duration::from_secs(2)),
            Some(2),
            "an unconstrained booth climbs to the top layer"
        );

        m.set_loss(booth, Link::Down, loss);
        m.run(Duration::from_millis(1_500));
        m.set_loss(booth, Link::Down, 0.0);
        let back = time_to_top_layer(&mut m, booth, Duration::from_secs(15));
        println!(
            "{:.0} % loss for 1.5 s: top layer again after {back:?}",
            loss * 100.0
        );
        assert!(
            back.is_some(),
            "after 1.5 s of {:.0} % loss the clean link gets the top layer back within 15 s",
            loss * 100.0
        );
    }
}

#[test]
fn the_top_layer_returns_after_congestion_that_came_and_went_several_times() {
    // (cap, capped for, free for, times): congestion below and near the top layer's rate.
    for (cap, on_ms, off_ms, times) in [
        (700_000, 1_000, 1_000, 6),
        (900_000, 700, 1_500, 6),
        (1_000_000, 1_500, 500, 6),
        (800_000, 400, 400, 6),
    ] {
        let mut m = Meeting::new();
        let booth = m.join("booth");
        m.join_with_layers("officer", &THREE_LAYERS);
        m.run(Duration::from_secs(10));
        for _ in 0..times {
            m.set_downlink_rate(booth, Some(cap));
            m.run(Duration::from_millis(on_ms));
            m.set_downlink_rate(booth, None);
            m.run(Duration::from_millis(off_ms));
        }
        let back = time_to_top_layer(&mut m, booth, Duration::from_secs(15));
        println!(
            "{times} × {cap} bit/s for {on_ms} ms, free {off_ms} ms: top layer again after {back:?}"
        );
        assert!(
            back.is_some(),
            "{times} × {cap} bit/s for {on_ms} ms: the top layer returns within 15 s"
        );
    }
}

#[test]
fn a_moment_of_loss_while_climbing_does_not_stop_the_climb() {
    for (at_ms, loss) in [(1_500, 0.1), (3_000, 0.2), (5_000, 0.1)] {
        let mut m = Meeting::new();
        let booth = m.join("booth");
        m.join_with_layers("officer", &THREE_LAYERS);
        m.run(Duration::from_millis(at_ms));
        m.set_loss(booth, Link::Down, loss);
        m.run(Duration::from_millis(800));
        m.set_loss(booth, Link::Down, 0.0);
        let back = time_to_top_layer(&mut m, booth, Duration::from_secs(15));
        println!(
            "{:.0} % loss for 0.8 s at {at_ms} ms: top layer after {back:?}",
            loss * 100.0
        );
        assert!(
            back.is_some(),
            "{:.0} % loss at {at_ms} ms: the booth still reaches the top layer within 15 s",
            loss * 100.0
        );
    }
}
