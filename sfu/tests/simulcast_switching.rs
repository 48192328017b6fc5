//! Simulcast: each subscriber receives the layer its link and its screen can take, and moves
//! between layers without a seam — sequence numbers, timestamps and VP8 picture IDs run on.

mod common;

use std::time::Duration;

use common::{Meeting, ReceivedVideo, THREE_LAYERS, recent_layer, time_to_top_layer};

/// Which of the officer's layers a packet belongs to (the layers differ in packet size).
fn layer_of(p: &ReceivedVideo) -> usize {
    THREE_LAYERS
        .iter()
        .position(|l| l.packet_bytes == p.len)
        .expect("a packet of a known layer")
}

/// Every move between layers happens at a keyframe and continues the numbering exactly. Looks
/// at the stream in sequence order (retransmissions fill holes late); returns how many switches
/// it saw with both sides received.
fn assert_seamless_switches(log: &[ReceivedVideo]) -> usize {
    let mut by_seq: Vec<(u64, ReceivedVideo)> = Vec::new();
    let mut last_ext: Option<u64> = None;
    for p in log {
        // Extend the 16-bit sequence number relative to the previous packet.
        let ext = match last_ext {
            None => u64::from(p.seq),
            Some(prev) => {
                let diff = p.seq.wrapping_sub(prev as u16) as i16;
                (prev as i64 + i64::from(diff)) as u64
            }
        };
        last_ext = Some(ext.max(last_ext.unwrap_or(0)));
        by_seq.push((ext, *p));
    }
    by_seq.sort_by_key(|(s, _)| *s);
    by_seq.dedup_by_key(|(s, _)| *s);
    let mut switches = 0;
    for pair in by_seq.windows(2) {
        let ((s0, prev), (s1, p)) = (pair[0], pair[1]);
        if s1 != s0 + 1 || layer_of(&p) == layer_of(&prev) {
            continue;
        }
        switches += 1;
        assert!(
            p.keyframe,
            "switch to layer {} at seq {s1} not at a keyframe",
            layer_of(&p)
        );
        assert_eq!(
            p.picture_id,
            prev.picture_id.map(|id| (id + 1) & 0x7fff),
            "picture ID runs on across the switch at seq {s1}"
        );
        let step = p.ts.wrapping_sub(prev.ts);
        assert!(
            (1..=90_000).contains(&step),
            "timestamp moves forward by under a second at a switch, moved {step}"
        );
    }
    switches
}

#[test]
fn a_subscriber_follows_its_bandwidth_down_to_the_lowest_layer_and_back_up() {
    let mut m = Meeting::new();
    let booth = m.join("booth");
    m.join_with_layers("officer", &THREE_LAYERS);

    m.run(Duration::from_secs(10));
    assert_eq!(
        recent_layer(&m, booth, Duration::from_secs(2)),
        Some(2),
        "an unconstrained booth climbs to the top layer"
    );

    // A rural link: 300 kbit/s towards the booth. The lowest layer (~90 kbit/s) and audio fit.
    m.set_downlink_rate(booth, Some(300_000));
    m.run(Duration::from_secs(10));
    assert_eq!(
        recent_layer(&m, booth, Duration::from_secs(3)),
        Some(0),
        "a 300 kbit/s link gets the lowest layer"
    );

    m.set_downlink_rate(booth, None);
    let back_at = time_to_top_layer(&mut m, booth, Duration::from_secs(15))
        .expect("the top layer returns within 15 s of the cap being lifted");
    println!("top layer again {back_at:?} after the cap was lifted");

    m.run(Duration::from_secs(3));
    let log = m.clients[booth].video_log.values().next().unwrap();
    assert_eq!(
        m.clients[booth].video_log.len(),
        1,
        "one stream, whatever the layer"
    );
    let switches = assert_seamless_switches(log);
    assert!(switches >= 3, "up, down and up again: {switches} switches");
    // On the free link again, the stream is whole.
    let recent: Vec<ReceivedVideo> = log
        .iter()
        .filter(|p| p.at >= m.now - Duration::from_secs(2))
        .copied()
        .collect();
    assert_eq!(
        common::gaps(&recent.iter().map(|p| (p.seq, 0)).collect::<Vec<_>>()),
        0
    );
}

#[test]
fn a_subscriber_showing_the_video_small_gets_the_small_layer() {
    let mut m = Meeting::new();
    let booth = m.join("booth");
    m.join_with_layers("officer", &THREE_LAYERS);
    m.run(Duration::from_secs(8));
    assert_eq!(recent_layer(&m, booth, Duration::from_secs(2)), Some(2));

    // The booth shows the officer in a 180-pixel-high tile.
    let mid = m.received_video_mid(booth);
    m.set_video_size(booth, &mid, 180);
    m.run(Duration::from_secs(2));
    assert_eq!(recent_layer(&m, booth, Duration::from_secs(1)), Some(0));

    // 300 pixels high: the 360 layer covers it, the 720 one is not needed.
    m.set_video_size(booth, &mid, 300);
    m.run(Duration::from_secs(5));
    assert_eq!(recent_layer(&m, booth, Duration::from_secs(1)), Some(1));

    // Hidden: nothing is sent.
    m.set_video_size(booth, &mid, 0);
    m.run(Duration::from_secs(1));
    assert_eq!(recent_layer(&m, booth, Duration::from_millis(500)), None);
    assert!(
        m.clients[booth].video_paused.is_empty(),
        "a hidden video is not a poor connection"
    );
}
