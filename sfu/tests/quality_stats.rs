//! Each participant's quality snapshot tells how its connection is doing: loss on a lossy link,
//! in the direction that loses, the simulcast layer of each video it receives, and a poor level
//! when a link loses packets or cannot carry the video.

mod common;

use std::time::Duration;

use common::{Link, Meeting, THREE_LAYERS};
use sfu::quality::{QualityLevel, ReceivedVideo};

fn meeting() -> (Meeting, usize, usize) {
    let mut m = Meeting::new();
    let booth = m.join("booth");
    let officer = m.join_with_layers("officer", &THREE_LAYERS);
    m.run(Duration::from_secs(5));
    for idx in [booth, officer] {
        let q = m.quality(idx);
        assert_eq!(q.level, QualityLevel::Good, "{q:?}");
        assert_eq!((q.loss_up, q.loss_down), (Some(0.0), Some(0.0)), "{q:?}");
        assert!(q.rtt.is_some(), "{q:?}");
        assert!(q.bitrate_up > 0 && q.bitrate_down > 0, "{q:?}");
    }
    (m, booth, officer)
}

/// 10 % loss, as one second of TWCC feedback measures it.
fn about_ten_percent(loss: Option<f32>) -> bool {
    loss.is_some_and(|l| (0.04..0.2).contains(&l))
}

#[test]
fn a_lossy_uplink_shows_as_loss_up_and_a_poor_connection() {
    let (mut m, booth, officer) = meeting();
    let reports_before = m.clients[booth].quality.len();
    m.set_loss(booth, Link::Up, 0.10);
    m.run(Duration::from_secs(5));

    let q = m.quality(booth);
    assert!(about_ten_percent(q.loss_up), "{q:?}");
    assert!(q.loss_down.is_some_and(|l| l < 0.02), "{q:?}");
    assert_eq!(q.level, QualityLevel::Poor);
    let reports = &m.clients[booth].quality[reports_before..];
    assert!(
        reports.len() >= 2,
        "a report every two seconds: {reports:?}"
    );
    assert_eq!(reports.last().map(|r| r.level), Some(QualityLevel::Poor));

    // What the booth's uplink lost the SFU repaired: the officer's own link is clean.
    let q = m.quality(officer);
    assert_eq!((q.loss_up, q.loss_down), (Some(0.0), Some(0.0)), "{q:?}");
    assert_eq!(q.level, QualityLevel::Good);
}

#[test]
fn a_lossy_downlink_shows_as_loss_down() {
    let (mut m, booth, _) = meeting();
    m.set_loss(booth, Link::Down, 0.10);
    m.run(Duration::from_secs(5));
    let q = m.quality(booth);
    assert!(about_ten_percent(q.loss_down), "{q:?}");
    assert_eq!(q.loss_up, Some(0.0), "{q:?}");
    assert_eq!(q.level, QualityLevel::Poor);
}

#[test]
fn the_layer_each_video_arrives_in_is_reported_and_a_paused_video_is_poor() {
    let (mut m, booth, officer) = meeting();
    let officer_id = m.clients[officer].participant.clone();
    let videos = m.quality(booth).videos;
    let [
        ReceivedVideo {
            publisher,
            layer: Some(layer),
            paused: false,
        },
    ] = videos.as_slice()
    else {
        panic!("one video, forwarded: {videos:?}");
    };
    assert_eq!(publisher, &officer_id);
    // The test publisher's layers differ in packet size: what arrived since the snapshot (taken
    // within the last second, perhaps just before a switch) tells which layers were forwarded.
    let since = m.now - Duration::from_secs(1);
    let arrived: Vec<usize> = m.clients[booth]
        .video_log
        .values()
        .flatten()
        .filter(|v| v.at >= since)
        .map(|v| v.len)
        .collect();
    assert!(
        arrived.contains(&THREE_LAYERS[*layer].packet_bytes),
        "layer {layer} reported; packet sizes that arrived: {arrived:?}"
    );
    // The booth publishes one layer, which the officer gets.
    assert_eq!(m.quality(officer).videos[0].layer, Some(0));

    // A link too poor for even the lowest layer: the video pauses and the booth is told.
    m.set_downlink_rate(booth, Some(120_000));
    m.run(Duration::from_secs(8));
    let q = m.quality(booth);
    assert_eq!(
        q.videos,
        [ReceivedVideo {
            publisher: officer_id,
            layer: None,
            paused: true,
        }]
    );
    assert_eq!(q.level, QualityLevel::Poor);
    assert_eq!(
        m.clients[booth].quality.last().map(|r| r.level),
        Some(QualityLevel::Poor)
    );
}
