//! A WebSocket that drops mid-meeting does not end the meeting: media goes on, and the client
//! resumes the same session on a new connection with its resume credential (never the spent
//! join token). A credential works once; a participant who never comes back leaves after the
//! grace period.

use std::time::Duration;

use narvaro_tests::app::TestApp;
use narvaro_tests::peer::meeting_of_two;
use narvaro_tests::ws::{SignalClient, SignalError};
use signalling::protocol::{ClientMessage, ErrorCode, MediaKind, ServerMessage};

const EVENT_TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread")]
async fn media_goes_on_while_the_websocket_is_down_and_the_session_resumes() {
    let app = TestApp::start().await;
    let (officer, citizen, meeting) = meeting_of_two(app.http_addr()).await;
    let spent_credential = citizen.resume_token();
    // What the officer has been told so far (the citizen joining) is not what this test watches.
    while officer.next_event(Duration::from_millis(200)).await.is_ok() {}

    citizen.drop_signalling();
    let (audio_before, video_before) = officer.packets_received_from(&citizen);
    let (back_audio_before, back_video_before) = citizen.packets_received_from(&officer);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (audio, video) = officer.packets_received_from(&citizen);
    let (back_audio, back_video) = citizen.packets_received_from(&officer);
    assert!(
        audio > audio_before + 50 && video > video_before + 20,
        "the officer kept receiving the citizen: audio {audio_before} -> {audio}, video {video_before} -> {video}"
    );
    assert!(
        back_audio > back_audio_before + 50 && back_video > back_video_before + 20,
        "the citizen kept receiving the officer: audio {back_audio_before} -> {back_audio}, video {back_video_before} -> {back_video}"
    );

    let resumed = citizen.resume().await.unwrap();
    assert_eq!(
        &resumed.participant_id,
        citizen.participant_id(),
        "the same participant"
    );
    assert_eq!(
        resumed
            .participants
            .iter()
            .map(|p| &p.participant_id)
            .collect::<Vec<_>>(),
        vec![officer.participant_id()],
        "the room as it is now"
    );
    assert_ne!(
        resumed.resume_token, spent_credential,
        "a fresh credential for the next time"
    );

    // The resumed connection carries the session: a mute reaches the officer.
    citizen
        .send(ClientMessage::Mute {
            kind: MediaKind::Audio,
            muted: true,
        })
        .unwrap();
    let updated = officer
        .wait_for_event(EVENT_TIMEOUT, |m| match m {
            ServerMessage::ParticipantUpdated { participant } => Some(participant.clone()),
            ServerMessage::ParticipantLeft { .. } | ServerMessage::ParticipantJoined { .. } => {
                panic!("the officer saw the citizen leave or join: {m:?}")
            }
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(&updated.participant_id, citizen.participant_id());
    assert!(updated.audio_muted);

    // The spent credential opens nothing.
    let mut other = SignalClient::connect(app.http_addr()).await.unwrap();
    match other.resume(&meeting.room_id, &spent_credential).await {
        Err(SignalError::Refused { code, fatal, .. }) => {
            assert_eq!(code, ErrorCode::ResumeRefused);
            assert!(fatal);
        }
        other => panic!("a used resume credential was accepted: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_participant_who_does_not_resume_leaves_after_the_grace_period() {
    let app = TestApp::start_with(|c| c.signalling.resume_grace_secs = 1).await;
    let (officer, citizen, meeting) = meeting_of_two(app.http_addr()).await;
    let credential = citizen.resume_token();
    citizen.drop_signalling();

    let left = officer
        .wait_for_event(EVENT_TIMEOUT, |m| match m {
            ServerMessage::ParticipantLeft { participant_id } => Some(participant_id.clone()),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(&left, citizen.participant_id());

    let mut late = SignalClient::connect(app.http_addr()).await.unwrap();
    match late.resume(&meeting.room_id, &credential).await {
        Err(SignalError::Refused { code, .. }) => assert_eq!(code, ErrorCode::ResumeRefused),
        other => panic!("resumed after the grace period: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resume_credential_for_another_room_is_refused() {
    let app = TestApp::start().await;
    let (_officer, citizen, _meeting) = meeting_of_two(app.http_addr()).await;
    let credential = citizen.resume_token();
    citizen.drop_signalling();

    let mut wrong = SignalClient::connect(app.http_addr()).await.unwrap();
    let other_room = signalling::ids::RoomId::from("some-other-room");
    match wrong.resume(&other_room, &credential).await {
        Err(SignalError::Refused { code, .. }) => assert_eq!(code, ErrorCode::ResumeRefused),
        other => panic!("resumed into another room: {other:?}"),
    }
    // The rightful client still can.
    citizen.resume().await.unwrap();
}

/// A client whose network changed resumes on a new connection before the server has noticed
/// that the old one is dead: the new connection takes the session over.
#[tokio::test(flavor = "multi_thread")]
async fn a_resume_takes_over_from_a_connection_the_server_still_thinks_is_open() {
    let app = TestApp::start().await;
    let (officer, citizen, _meeting) = meeting_of_two(app.http_addr()).await;
    while officer.next_event(Duration::from_millis(200)).await.is_ok() {}

    // No drop first: the old connection is still open as far as the server knows.
    let resumed = citizen.resume().await.unwrap();
    assert_eq!(&resumed.participant_id, citizen.participant_id());
    citizen
        .send(ClientMessage::Mute {
            kind: MediaKind::Video,
            muted: true,
        })
        .unwrap();
    let updated = officer
        .wait_for_event(EVENT_TIMEOUT, |m| match m {
            ServerMessage::ParticipantUpdated { participant } => Some(participant.clone()),
            ServerMessage::ParticipantLeft { .. } => panic!("the citizen left: {m:?}"),
            _ => None,
        })
        .await
        .unwrap();
    assert!(updated.video_muted);
    let (audio_before, _) = officer.packets_received_from(&citizen);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        officer.packets_received_from(&citizen).0 > audio_before + 20,
        "media goes on"
    );
}
