//! The floor goes to whoever speaks, by the audio levels in their packets (RFC 6464): the louder
//! of two, the one who takes up the conversation, never a short noise; silence leaves it where
//! it is, and muting or leaving gives it up.

mod common;

use std::time::Duration;

use common::Meeting;
use sfu::ParticipantId;

/// Speech after a browser's gain control, a quieter voice, and a quiet room (no voice activity).
const VOICE: i8 = -25;
const QUIET_VOICE: i8 = -42;
const ROOM: i8 = -80;
/// What a browser sends for a muted microphone.
const MUTED: i8 = -127;

fn meeting_of(names: &[&str]) -> Meeting {
    let mut m = Meeting::new();
    for name in names {
        let idx = m.join(name);
        m.set_audio_level(idx, ROOM, false);
    }
    m.run(Duration::from_secs(2));
    m
}

fn id(m: &Meeting, idx: usize) -> Option<ParticipantId> {
    Some(m.clients[idx].participant.clone())
}

#[test]
fn the_louder_participant_becomes_the_speaker() {
    let mut m = meeting_of(&["booth", "officer", "interpreter"]);
    assert_eq!(m.speakers, [], "nobody has spoken yet");
    m.set_audio_level(0, QUIET_VOICE, true);
    m.set_audio_level(1, VOICE, true);
    m.run(Duration::from_secs(3));
    assert_eq!(
        m.speakers,
        [id(&m, 1)],
        "the officer, louder, has the floor"
    );

    // The booth takes up the conversation when the officer stops.
    m.set_audio_level(1, ROOM, false);
    m.run(Duration::from_secs(3));
    assert_eq!(m.speakers, [id(&m, 1), id(&m, 0)]);
}

#[test]
fn someone_slightly_louder_does_not_take_the_floor_from_a_speaker() {
    let mut m = meeting_of(&["booth", "officer"]);
    m.set_audio_level(0, VOICE, true);
    m.run(Duration::from_secs(3));
    assert_eq!(m.speakers, [id(&m, 0)]);
    // Both talk at once, the officer a little louder: the booth keeps the floor.
    m.set_audio_level(1, VOICE + 3, true);
    m.run(Duration::from_secs(5));
    assert_eq!(m.speakers, [id(&m, 0)]);
}

#[test]
fn brief_noise_does_not_switch_the_speaker() {
    let mut m = meeting_of(&["booth", "officer"]);
    m.set_audio_level(0, VOICE, true);
    m.run(Duration::from_secs(3));
    assert_eq!(m.speakers, [id(&m, 0)]);

    // A door slams at the officer's desk, while the booth talks and again in a pause.
    for booth_level in [VOICE, ROOM] {
        m.set_audio_level(0, booth_level, booth_level == VOICE);
        m.set_audio_level(1, -3, true);
        m.run(Duration::from_millis(300));
        m.set_audio_level(1, ROOM, false);
        m.run(Duration::from_secs(3));
    }
    assert_eq!(m.speakers, [id(&m, 0)], "the noise never took the floor");
}

#[test]
fn silence_keeps_the_last_speaker() {
    let mut m = meeting_of(&["booth", "officer"]);
    m.set_audio_level(1, VOICE, true);
    m.run(Duration::from_secs(3));
    m.set_audio_level(1, ROOM, false);
    m.run(Duration::from_secs(20));
    assert_eq!(
        m.speakers,
        [id(&m, 1)],
        "the officer keeps the floor in silence"
    );
}

#[test]
fn a_speaker_who_mutes_or_leaves_loses_the_floor() {
    let mut m = meeting_of(&["booth", "officer", "interpreter"]);
    m.set_audio_level(1, VOICE, true);
    m.run(Duration::from_secs(3));
    m.set_audio_level(1, MUTED, false);
    m.run(Duration::from_secs(2));
    assert_eq!(m.speakers, [id(&m, 1), None], "muting gives up the floor");

    m.set_audio_level(2, VOICE, true);
    m.run(Duration::from_secs(3));
    m.set_audio_level(2, ROOM, false);
    m.leave(2);
    m.run(Duration::from_secs(1));
    assert_eq!(m.speakers, [id(&m, 1), None, id(&m, 2), None]);
}

#[test]
fn a_publisher_without_audio_levels_never_has_the_floor() {
    let mut m = Meeting::new();
    m.join("booth");
    m.join("officer");
    m.run(Duration::from_secs(5));
    assert_eq!(m.speakers, []);
}
