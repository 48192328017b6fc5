//! A live meeting whose booking is cancelled, or ended with an outcome, ends for everyone in it:
//! each participant is told why and its connection closes, a participant whose WebSocket had
//! dropped cannot resume into it, and nobody joins it again.

use std::time::Duration;

use hyper::Method;
use narvaro_tests::app::TestApp;
use narvaro_tests::peer::{TestPeer, meeting_of_two};
use narvaro_tests::ws::{SignalClient, SignalError};
use serde_json::json;
use signalling::protocol::{EndReason, ErrorCode, ServerMessage};

const EVENT_TIMEOUT: Duration = Duration::from_secs(10);

async fn told_meeting_ended(peer: &TestPeer) -> EndReason {
    let reason = peer
        .wait_for_event(EVENT_TIMEOUT, |m| match m {
            ServerMessage::MeetingEnded { reason } => Some(*reason),
            _ => None,
        })
        .await
        .unwrap_or_else(|e| panic!("{} was not told the meeting ended: {e}", peer.label()));
    // The connection closes after the notice: nothing else comes.
    let rest = peer.next_event(EVENT_TIMEOUT).await;
    assert!(
        rest.is_err(),
        "{}'s connection closes after meeting_ended: {rest:?}",
        peer.label()
    );
    reason
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_a_live_meeting_ends_it_for_everyone_and_nobody_gets_back_in() {
    let app = TestApp::start().await;
    let (officer, citizen, mut meeting) = meeting_of_two(app.http_addr()).await;
    let citizen_credential = citizen.resume_token();
    // A fresh join token, issued before the cancellation, must not open the meeting again.
    let late_grant = meeting.citizen_token().await.unwrap();

    let cancelled = meeting
        .officer
        .call(
            Method::POST,
            &format!("/api/v1/bookings/{}/cancel", meeting.booking_id),
            Some(&json!({ "reason": "technical_problem" })),
        )
        .await
        .unwrap();
    assert_eq!(cancelled["state"], "cancelled", "{cancelled}");

    assert_eq!(told_meeting_ended(&officer).await, EndReason::Cancelled);
    assert_eq!(told_meeting_ended(&citizen).await, EndReason::Cancelled);

    let mut again = SignalClient::connect(app.http_addr()).await.unwrap();
    match again.resume(&meeting.room_id, &citizen_credential).await {
        Err(SignalError::Refused { code, fatal, .. }) => {
            assert_eq!(code, ErrorCode::MeetingEnded);
            assert!(fatal);
        }
        other => panic!("resumed into a cancelled meeting: {other:?}"),
    }
    let mut late = SignalClient::connect(app.http_addr()).await.unwrap();
    match late.join(&meeting.room_id, &late_grant.token).await {
        Err(SignalError::Refused { code, .. }) => assert_eq!(code, ErrorCode::MeetingEnded),
        other => panic!("joined a cancelled meeting: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ending_a_meeting_with_an_outcome_ends_it_for_a_participant_waiting_to_resume_too() {
    let app = TestApp::start().await;
    let (officer, citizen, mut meeting) = meeting_of_two(app.http_addr()).await;
    let citizen_credential = citizen.resume_token();
    // The citizen's WebSocket drops: its session waits for a resume.
    citizen.drop_signalling();
    tokio::time::sleep(Duration::from_millis(300)).await;

    meeting
        .officer
        .call(
            Method::POST,
            &format!("/api/v1/bookings/{}/end", meeting.booking_id),
            Some(&json!({ "outcome": "resolved" })),
        )
        .await
        .unwrap();
    assert_eq!(told_meeting_ended(&officer).await, EndReason::Ended);

    let mut back = SignalClient::connect(app.http_addr()).await.unwrap();
    match back.resume(&meeting.room_id, &citizen_credential).await {
        Err(SignalError::Refused { code, .. }) => assert_eq!(code, ErrorCode::MeetingEnded),
        other => panic!("resumed into an ended meeting: {other:?}"),
    }
}
