//! A subscriber's video starts at a keyframe: whatever came before it could not be decoded.

mod common;

use std::time::Duration;

use common::Meeting;
use sfu::keyframe::starts_keyframe;
use str0m::format::Codec;
use str0m::media::MediaKind;

#[test]
fn every_subscribers_video_begins_with_a_keyframe_even_for_a_late_joiner() {
    let mut m = Meeting::new();
    m.join("booth");
    m.join("officer");
    // Encoders that only send a keyframe every 50 frames: the SFU has to wait for one.
    for c in &mut m.clients {
        c.answers_keyframe_requests = false;
    }
    m.run(Duration::from_secs(2));
    // Joins mid-stream, between the publishers' periodic keyframes.
    m.join("interpreter");
    m.run(Duration::from_secs(3));

    let mut video_streams = 0;
    for c in &m.clients {
        for (ssrc, kind) in &c.received_kind {
            if *kind != MediaKind::Video {
                continue;
            }
            video_streams += 1;
            let first = &c.first_payload[ssrc];
            assert!(
                starts_keyframe(Codec::Vp8, first),
                "{}: first video payload {:02x?} does not start a keyframe",
                c.participant,
                &first[..2]
            );
        }
    }
    assert_eq!(
        video_streams, 6,
        "three participants, each receiving two videos"
    );
}
