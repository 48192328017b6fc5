//! Forwarding between participants: everyone receives everyone else's audio and video, without
//! gaps the publisher did not cause, through the one server address.

mod common;

use std::time::Duration;

use common::{Meeting, SERVER, gaps};
use str0m::media::MediaKind;

#[test]
fn two_participants_receive_each_others_audio_and_video_without_gaps() {
    let mut m = Meeting::new();
    m.join("booth");
    m.join("officer");
    m.run(Duration::from_secs(5));

    for c in &m.clients {
        let audio = c.packets_of(MediaKind::Audio);
        let video = c.packets_of(MediaKind::Video);
        assert_eq!(
            audio.len(),
            1,
            "{}: one audio stream from the other",
            c.participant
        );
        assert_eq!(
            video.len(),
            1,
            "{}: one video stream from the other",
            c.participant
        );
        assert!(
            audio[0].len() >= 150,
            "{}: {} audio packets",
            c.participant,
            audio[0].len()
        );
        assert!(
            video[0].len() >= 100,
            "{}: {} video packets",
            c.participant,
            video[0].len()
        );
        assert_eq!(gaps(audio[0]), 0, "{}: audio gaps", c.participant);
        assert_eq!(
            gaps(video[0]),
            0,
            "{}: video gaps {:?}",
            c.participant,
            &video[0][..60]
        );
    }
}

#[test]
fn a_late_joiner_gets_everything_already_published_and_a_keyframe_is_asked_for() {
    let mut m = Meeting::new();
    m.join("booth");
    m.join("officer");
    m.run(Duration::from_secs(2));
    let before = m.clients[0].keyframe_requests + m.clients[1].keyframe_requests;

    let interpreter = m.join("interpreter");
    m.run(Duration::from_secs(3));

    let c = &m.clients[interpreter];
    assert_eq!(
        c.packets_of(MediaKind::Audio).len(),
        2,
        "audio from both others"
    );
    assert_eq!(
        c.packets_of(MediaKind::Video).len(),
        2,
        "video from both others"
    );
    for stream in c.packets_of(MediaKind::Video) {
        assert!(stream.len() > 50);
        assert_eq!(gaps(stream), 0);
    }
    let after = m.clients[0].keyframe_requests + m.clients[1].keyframe_requests;
    assert!(
        after > before,
        "the publishers were asked for a keyframe for the newcomer"
    );
    // The earlier participants were offered the newcomer's tracks too.
    assert_eq!(m.clients[0].packets_of(MediaKind::Video).len(), 2);
}

#[test]
fn every_participant_is_served_from_the_one_server_address() {
    let mut m = Meeting::new();
    for name in ["booth", "officer", "interpreter"] {
        m.join(name);
    }
    m.run(Duration::from_secs(2));
    assert_eq!(
        m.server_sources
            .keys()
            .map(|a| a.to_string())
            .collect::<Vec<_>>(),
        vec![SERVER.to_string()]
    );
    assert!(m.room.peers().len() == 3 && m.room.connected_peers() == 3);
}

#[test]
fn a_participant_who_leaves_stops_being_forwarded() {
    let mut m = Meeting::new();
    m.join("booth");
    m.join("officer");
    m.join("interpreter");
    m.run(Duration::from_secs(2));
    m.leave(2);
    let offers_before = m.clients[0].offers_received;
    let count = |m: &Meeting| {
        m.clients[0]
            .packets_of(MediaKind::Video)
            .iter()
            .map(|s| s.len())
            .sum::<usize>()
    };
    m.run(Duration::from_millis(200));
    let mid = count(&m);
    m.run(Duration::from_secs(1));
    // Only the officer's ~30 fps video still arrives at the booth.
    let per_second = count(&m) - mid;
    assert!(
        (20..=40).contains(&per_second),
        "{per_second} video packets/s after the interpreter left"
    );
    assert!(
        m.clients[0].offers_received >= offers_before,
        "renegotiated to stop the departed tracks"
    );
}
