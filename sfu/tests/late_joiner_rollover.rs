//! A subscriber who joins after the publisher has sent more than 65 536 packets (its sequence
//! numbers have wrapped, so SRTP's rollover counter is past zero) still gets decodable video:
//! its stream starts below the first wrap, at a keyframe, without gaps.

mod common;

use std::time::Duration;

use common::Meeting;
use str0m::media::MediaKind;

#[test]
fn a_subscriber_joining_after_65536_publisher_packets_receives_decodable_video() {
    let mut m = Meeting::new();
    let officer = m.join("officer");
    m.run(Duration::from_millis(500));
    m.send_video_burst(officer, 70_000);
    m.run(Duration::from_millis(500));

    let booth = m.join("booth");
    m.run(Duration::from_secs(3));

    let video = m.clients[booth].packets_of(MediaKind::Video);
    assert_eq!(video.len(), 1, "the officer's video arrives");
    let stream = video[0];
    assert!(
        stream.len() > 50,
        "{} packets decrypted and received",
        stream.len()
    );
    assert!(
        stream[0].0 < 32_768,
        "starts below the first wrap: {}",
        stream[0].0
    );
    assert_eq!(common::gaps(stream), 0);
    let log = m.clients[booth].video_log.values().next().unwrap();
    assert!(log[0].keyframe, "the stream starts at a keyframe");
}
