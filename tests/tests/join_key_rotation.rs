//! Booking rotates its join-token key in the middle of a meeting while signalling reads booking's
//! keys over HTTP, as a media node apart from booking does (`signalling.jwks_url`, here pointed at
//! this very app's `/.well-known/jwks.json`). A token of the new key joins (signalling fetches the
//! keys once on meeting its `kid`), the participants already in the meeting notice nothing but
//! the newcomer, and tokens naming made-up keys are refused without making signalling hammer
//! booking: requests to the JWKS are counted from the app's own `/metrics`.

use std::time::Duration;

use booking::TokenIssuer;
use narvaro_tests::app::TestApp;
use narvaro_tests::peer::meeting_of_two;
use narvaro_tests::ws::{SignalClient, SignalError};
use signalling::ids::RoomId;
use signalling::protocol::{ErrorCode, ServerMessage};
use signalling::token::Role;

const EVENT_TIMEOUT: Duration = Duration::from_secs(10);
const MEDIA_TIMEOUT: Duration = Duration::from_secs(30);
const JWKS_ROUTE: &str = "/.well-known/jwks.json";

/// Requests the app has answered on the JWKS route so far, whatever their status.
async fn jwks_requests(app: &TestApp) -> u64 {
    let (status, text) = app.api().get_text("/metrics").await.unwrap();
    assert_eq!(status, 200);
    let label = format!("route=\"{JWKS_ROUTE}\"");
    text.lines()
        .filter(|l| l.starts_with("narvaro_http_requests_total{") && l.contains(&label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Waits until signalling's fetch at start has reached booking, so that what the test counts
/// afterwards is caused by the test alone.
async fn wait_for_first_fetch(app: &TestApp) -> u64 {
    let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT;
    loop {
        let n = jwks_requests(app).await;
        if n > 0 {
            return n;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "signalling never fetched the JWKS at start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Joins `room` with `token` on a fresh connection; the refusal's code.
async fn refusal(app: &TestApp, room: &RoomId, token: &str) -> ErrorCode {
    let mut client = SignalClient::connect(app.http_addr()).await.unwrap();
    match client.join(room, token).await {
        Err(SignalError::Refused { code, fatal, .. }) => {
            assert!(fatal, "token errors are fatal");
            code
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .unwrap()
        .kid
        .expect("join tokens name their key")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_rotated_in_mid_meeting_is_fetched_once_and_made_up_keys_cost_at_most_one_fetch() {
    // Refreshing once a day: within this test signalling fetches only at start and when a token
    // names a key it lacks. The refetch interval is the default, 10 s.
    let app = TestApp::start_knowing_addr(|config, addr| {
        config.signalling.jwks_url = format!("http://{addr}{JWKS_ROUTE}");
        config.signalling.jwks_refresh_secs = 86_400;
    })
    .await;
    wait_for_first_fetch(&app).await;

    let (officer, citizen, mut meeting) = meeting_of_two(app.http_addr()).await;
    while officer.next_event(Duration::from_millis(200)).await.is_ok() {}
    while citizen.next_event(Duration::from_millis(200)).await.is_ok() {}

    // Mid-meeting, booking rotates.
    let issuer = app.booking().token_issuer();
    let old_kid = issuer.kid();
    let fetches_before = jwks_requests(&app).await;
    issuer.rotate();
    let new_kid = issuer.kid();
    assert_ne!(new_kid, old_kid);

    // The officer joins from a second device with a token from the booking API, signed by the
    // new key, which signalling has not fetched yet.
    let grant = meeting.officer_token().await.unwrap();
    assert_eq!(kid_of(&grant.token), new_kid);
    let mut second_device = SignalClient::connect(app.http_addr()).await.unwrap();
    let joined = second_device
        .join(&meeting.room_id, &grant.token)
        .await
        .expect("a token of the rotated-in key joins");
    let mut present: Vec<_> = joined
        .participants
        .iter()
        .map(|p| p.participant_id.clone())
        .collect();
    present.sort();
    let mut expected = vec![
        officer.participant_id().clone(),
        citizen.participant_id().clone(),
    ];
    expected.sort();
    assert_eq!(present, expected, "it joins the meeting as it is");
    let after_rotation = jwks_requests(&app).await;
    assert_eq!(
        after_rotation,
        fetches_before + 1,
        "signalling fetched the keys once for the new kid"
    );

    // Those already in the meeting see the newcomer arrive and nobody leave.
    for peer in [&officer, &citizen] {
        let arrived = peer
            .wait_for_event(EVENT_TIMEOUT, |m| match m {
                ServerMessage::ParticipantJoined { participant } => {
                    Some(participant.participant_id.clone())
                }
                ServerMessage::ParticipantLeft { .. } => {
                    panic!("{} saw someone leave: {m:?}", peer.label())
                }
                _ => None,
            })
            .await
            .unwrap();
        assert_eq!(arrived, joined.participant_id);
    }

    // Tokens naming keys nobody published (each from a key of its own, so each kid is random)
    // are refused as invalid: one alone, then a burst at once.
    let claims = || app.claims(&meeting.room_id, Role::Officer);
    let stranger = || TokenIssuer::generate(issuer.issuer());
    let lone = stranger();
    assert_eq!(
        refusal(&app, &meeting.room_id, &lone.sign(&claims())).await,
        ErrorCode::TokenInvalid
    );
    let burst: Vec<String> = (0..20)
        .map(|_| {
            let s = stranger();
            s.sign(&claims())
        })
        .collect();
    let codes = futures_util::future::join_all(
        burst
            .iter()
            .map(|token| refusal(&app, &meeting.room_id, token)),
    )
    .await;
    assert!(
        codes.iter().all(|c| *c == ErrorCode::TokenInvalid),
        "{codes:?}"
    );
    let after_burst = jwks_requests(&app).await;
    assert!(
        after_burst <= after_rotation + 1,
        "21 made-up kids made signalling fetch {} times",
        after_burst - after_rotation
    );

    // The two from before the rotation are still in the meeting, signalling answering and media
    // flowing both ways.
    officer.ping(EVENT_TIMEOUT).await.unwrap();
    citizen.ping(EVENT_TIMEOUT).await.unwrap();
    second_device.ping().await.unwrap();
    for (me, publisher) in [(&officer, &citizen), (&citizen, &officer)] {
        let (audio, video) = me.packets_received_from(publisher);
        me.wait_for_media_from(
            publisher.participant_id(),
            audio + 50,
            video + 20,
            MEDIA_TIMEOUT,
        )
        .await
        .unwrap_or_else(|e| panic!("{} still receives {}: {e}", me.label(), publisher.label()));
    }
}
