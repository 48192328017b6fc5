//! What signalling refuses, each with its numbered error code (signalling/src/protocol.rs), and
//! that a refusal harms nobody else: not the refused connection once joined, not another room.

use std::time::Duration;

use base64::Engine;
use booking::TokenIssuer;
use narvaro_tests::app::TestApp;
use narvaro_tests::peer::TestPeer;
use narvaro_tests::tokens::{now, unsigned_token};
use narvaro_tests::ws::{SignalClient, SignalError};
use signalling::ids::RoomId;
use signalling::protocol::{ClientMessage, ErrorCode, MAX_MESSAGE_BYTES};
use signalling::token::Role;

const MEDIA_TIMEOUT: Duration = Duration::from_secs(30);

fn room() -> RoomId {
    RoomId::from("bk-rejections")
}

/// Joins `room` with `token` on a fresh connection and returns the refusal's number.
async fn join_refusal(app: &TestApp, room: &RoomId, token: &str) -> u16 {
    let mut client = SignalClient::connect(app.http_addr()).await.unwrap();
    match client.join(room, token).await {
        Err(SignalError::Refused { code, .. }) => code.number(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A connection that has joined `room()`.
async fn joined_client(app: &TestApp) -> SignalClient {
    let mut client = SignalClient::connect(app.http_addr()).await.unwrap();
    client
        .join(&room(), &app.join_token(&room(), Role::Citizen))
        .await
        .unwrap();
    client
}

/// Sends `frame` on a joined connection and returns the refusal's number. A non-fatal refusal
/// must leave the connection working (ping is answered); a fatal one must close it.
async fn refusal_on_joined_connection(app: &TestApp, frame: String) -> u16 {
    let mut client = joined_client(app).await;
    client.send_text(frame).await.unwrap();
    let (code, fatal) = client.expect_error().await.unwrap();
    if fatal {
        client.expect_closed().await.unwrap();
    } else {
        client.ping().await.unwrap();
    }
    code.number()
}

#[tokio::test(flavor = "multi_thread")]
async fn join_without_a_token_is_refused_with_4010() {
    let app = TestApp::start().await;
    assert_eq!(join_refusal(&app, &room(), "").await, 4010);
}

#[tokio::test(flavor = "multi_thread")]
async fn join_with_an_expired_token_is_refused_with_4012() {
    let app = TestApp::start().await;
    let mut claims = app.claims(&room(), Role::Citizen);
    let issued = now() - 300;
    (claims.iat, claims.nbf, claims.exp) = (issued, issued, issued + 60);
    assert_eq!(join_refusal(&app, &room(), &app.sign(&claims)).await, 4012);
}

#[tokio::test(flavor = "multi_thread")]
async fn join_with_a_token_for_another_room_is_refused_with_4013() {
    let app = TestApp::start().await;
    let token = app.join_token(&RoomId::from("bk-some-other-room"), Role::Citizen);
    assert_eq!(join_refusal(&app, &room(), &token).await, 4013);
}

#[tokio::test(flavor = "multi_thread")]
async fn join_with_a_token_used_before_is_refused_with_4014() {
    let app = TestApp::start().await;
    let token = app.join_token(&room(), Role::Citizen);
    let mut first = SignalClient::connect(app.http_addr()).await.unwrap();
    first.join(&room(), &token).await.unwrap();
    assert_eq!(join_refusal(&app, &room(), &token).await, 4014);
    // The first holder is not thrown out by someone replaying its token.
    first.ping().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn join_with_a_token_signed_by_an_unknown_key_is_refused_with_4011() {
    let app = TestApp::start().await;
    let stranger = TokenIssuer::generate(app.booking().token_issuer().issuer());
    let claims = app.claims(&room(), Role::Officer);
    assert_eq!(
        join_refusal(&app, &room(), &stranger.sign(&claims)).await,
        4011
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn join_with_an_unsigned_alg_none_token_is_refused_with_4011() {
    let app = TestApp::start().await;
    let claims = app.claims(&room(), Role::Officer);
    let token = unsigned_token(&claims, &app.booking().token_issuer().kid());
    assert_eq!(join_refusal(&app, &room(), &token).await, 4011);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_json_is_refused_with_4000() {
    let app = TestApp::start().await;
    assert_eq!(
        refusal_on_joined_connection(&app, "{\"type\":\"ping\",".into()).await,
        4000
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_message_type_is_refused_with_4001() {
    let app = TestApp::start().await;
    assert_eq!(
        refusal_on_joined_connection(&app, r#"{"type":"dance"}"#.into()).await,
        4001
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_over_64_kib_is_refused_with_4002() {
    let app = TestApp::start().await;
    let frame = format!(
        r#"{{"type":"offer","sdp":"{}"}}"#,
        "a".repeat(MAX_MESSAGE_BYTES)
    );
    assert!(frame.len() > 64 * 1024);
    assert_eq!(refusal_on_joined_connection(&app, frame).await, 4002);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_joined_connection_survives_a_rejected_message_and_still_answers_ping() {
    let app = TestApp::start().await;
    let mut client = joined_client(&app).await;
    for (frame, expected) in [
        ("not json at all", ErrorCode::MalformedMessage),
        (r#"{"type":"dance"}"#, ErrorCode::UnknownMessageType),
    ] {
        client.send_text(frame).await.unwrap();
        assert_eq!(
            client.expect_error().await.unwrap(),
            (expected, false),
            "after {frame:?}"
        );
        client.ping().await.unwrap();
    }
    client.send(&ClientMessage::Ping).await.unwrap();
    client.ping().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_meeting_in_another_room_keeps_working_while_joins_and_messages_are_refused() {
    let app = TestApp::start().await;
    let meeting_room = RoomId::from("bk-undisturbed");
    let officer = TestPeer::join(
        app.http_addr(),
        &meeting_room,
        &app.join_token(&meeting_room, Role::Officer),
        "officer",
    )
    .await
    .unwrap();
    let citizen = TestPeer::join(
        app.http_addr(),
        &meeting_room,
        &app.join_token(&meeting_room, Role::Citizen),
        "citizen",
    )
    .await
    .unwrap();
    officer.start_publishing().await.unwrap();
    citizen.start_publishing().await.unwrap();
    let (before, _) = citizen
        .wait_for_media_from(officer.participant_id(), 25, 25, MEDIA_TIMEOUT)
        .await
        .unwrap();

    // Every kind of refusal, in the room next door, while media flows.
    let reused = app.join_token(&room(), Role::Citizen);
    let mut holder = SignalClient::connect(app.http_addr()).await.unwrap();
    holder.join(&room(), &reused).await.unwrap();
    let mut expired = app.claims(&room(), Role::Citizen);
    (expired.iat, expired.nbf, expired.exp) = (now() - 300, now() - 300, now() - 240);
    let stranger = TokenIssuer::generate(app.booking().token_issuer().issuer());
    for (token, code) in [
        (String::new(), 4010),
        (app.sign(&expired), 4012),
        (app.join_token(&meeting_room, Role::Citizen), 4013),
        (reused, 4014),
        (stranger.sign(&app.claims(&room(), Role::Citizen)), 4011),
        (
            unsigned_token(
                &app.claims(&room(), Role::Citizen),
                &app.booking().token_issuer().kid(),
            ),
            4011,
        ),
    ] {
        assert_eq!(join_refusal(&app, &room(), &token).await, code);
    }
    for (frame, code) in [
        ("{".to_owned(), 4000),
        (r#"{"type":"dance"}"#.to_owned(), 4001),
        (
            format!(
                r#"{{"type":"offer","sdp":"{}"}}"#,
                "a".repeat(MAX_MESSAGE_BYTES)
            ),
            4002,
        ),
    ] {
        assert_eq!(refusal_on_joined_connection(&app, frame).await, code);
    }

    officer.ping(MEDIA_TIMEOUT).await.unwrap();
    citizen.ping(MEDIA_TIMEOUT).await.unwrap();
    let want = before.len() + 100;
    for (me, publisher) in [(&officer, &citizen), (&citizen, &officer)] {
        let (audio, video) = me
            .wait_for_media_from(publisher.participant_id(), want, want, MEDIA_TIMEOUT)
            .await
            .unwrap();
        me.assert_forwarded_cleanly(&audio).await;
        me.assert_forwarded_cleanly(&video).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn join_with_a_token_living_longer_than_the_maximum_is_refused_with_4016() {
    let app = TestApp::start().await;
    let mut claims = app.claims(&room(), Role::Citizen);
    claims.exp = claims.iat + signalling::token::MAX_JOIN_TOKEN_LIFETIME_SECS + 1;
    assert_eq!(join_refusal(&app, &room(), &app.sign(&claims)).await, 4016);
}

/// The classic confusion: an HS256 token whose HMAC key is the issuer's public key, under the
/// issuer's own `kid`. The key's algorithm decides, not the token's header.
#[tokio::test(flavor = "multi_thread")]
async fn join_with_an_hs256_token_keyed_with_the_public_key_is_refused_with_4011() {
    use signalling::token::KeySource;
    let app = TestApp::start().await;
    let issuer = app.booking().token_issuer();
    let jwks = serde_json::to_value(issuer.jwks()).unwrap();
    let x = jwks["keys"][0]["x"].as_str().unwrap().to_owned();
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&x)
        .unwrap();
    let claims = app.claims(&room(), Role::Officer);
    for secret in [x.as_bytes(), raw.as_slice()] {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(issuer.kid().to_owned());
        header.typ = Some(signalling::token::JOIN_TOKEN_TYP.to_owned());
        let token = jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .unwrap();
        assert_eq!(join_refusal(&app, &room(), &token).await, 4011);
    }
}

/// A token signed with the attacker's own key, naming it by an unknown `kid` and pointing `jku`
/// at the attacker's key set: refused, and the key set is never fetched.
#[tokio::test(flavor = "multi_thread")]
async fn join_with_an_attackers_kid_and_jku_is_refused_with_4011_and_fetches_nothing() {
    let app = TestApp::start().await;
    let attacker = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some("attacker-key".into());
    header.typ = Some(signalling::token::JOIN_TOKEN_TYP.to_owned());
    header.jku = Some(format!(
        "http://{}/jwks.json",
        attacker.local_addr().unwrap()
    ));
    let claims = app.claims(&room(), Role::Officer);
    let token = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ed_der(&key.serialize_der()),
    )
    .unwrap();
    assert_eq!(join_refusal(&app, &room(), &token).await, 4011);
    // The refusal came after verification; had it fetched `jku`, the connection would be queued.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), attacker.accept())
            .await
            .is_err(),
        "signalling fetched the token's jku"
    );
}

/// Two connections racing to join with one token: exactly one gets in.
#[tokio::test(flavor = "multi_thread")]
async fn one_token_used_on_two_connections_at_once_lets_exactly_one_in() {
    let app = TestApp::start().await;
    let token = app.join_token(&room(), Role::Citizen);
    let join = |token: String| {
        let addr = app.http_addr();
        tokio::spawn(async move {
            let mut client = SignalClient::connect(addr).await.unwrap();
            let result = client.join(&room(), &token).await;
            (result.map(|_| ()), client)
        })
    };
    let (a, b) = tokio::join!(join(token.clone()), join(token));
    let results = [a.unwrap().0, b.unwrap().0];
    let joined = results.iter().filter(|r| r.is_ok()).count();
    let reused = results
        .iter()
        .filter(|r| matches!(r, Err(SignalError::Refused { code, .. }) if code.number() == 4014))
        .count();
    assert_eq!((joined, reused), (1, 1), "{results:?}");
}

/// Tokens made for something else: an ID-token-shaped JWT signed with booking's own key but not
/// typed as a join token (4015), and a staff member's session cookie (not a JWT at all, 4011).
#[tokio::test(flavor = "multi_thread")]
async fn an_id_token_or_a_staff_session_offered_as_a_join_token_is_refused() {
    let app = TestApp::start().await;
    let claims = app.claims(&room(), Role::Officer);
    let id_token = app.booking().token_issuer().sign_with_typ(&claims, "JWT");
    assert_eq!(join_refusal(&app, &room(), &id_token).await, 4015);
    let mut api = app.api();
    api.sign_in(booking::demo::OFFICER_ANNA).await.unwrap();
    let session = api.session_secret().unwrap().to_owned();
    assert_eq!(join_refusal(&app, &room(), &session).await, 4011);
}

/// A page of another origin may not open signalling; the server's own origin and clients that
/// send no `Origin` (not browsers) may.
#[tokio::test(flavor = "multi_thread")]
async fn a_websocket_from_another_origin_is_refused() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app = TestApp::start().await;
    let open = |origin: Option<String>| {
        let mut request = narvaro_tests::ws::signal_url(app.http_addr())
            .into_client_request()
            .unwrap();
        if let Some(o) = origin {
            request.headers_mut().insert("origin", o.parse().unwrap());
        }
        tokio_tungstenite::connect_async(request)
    };
    match open(Some("https://evil.example".into())).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!(
            "a cross-origin WebSocket was not refused: {:?}",
            other.map(|(_, r)| r.status())
        ),
    }
    assert!(
        open(Some(format!("http://{}", app.http_addr())))
            .await
            .is_ok(),
        "same origin"
    );
    assert!(open(None).await.is_ok(), "no Origin: not a browser");
}

/// A joined connection that floods signalling is told 4029 and closed.
#[tokio::test(flavor = "multi_thread")]
async fn a_message_flood_is_refused_with_4029_and_closes_the_connection() {
    let app = TestApp::start().await;
    let mut client = joined_client(&app).await;
    for _ in 0..(signalling::protocol::MESSAGE_BURST as usize + 50) {
        if client.send(&ClientMessage::Ping).await.is_err() {
            break;
        }
    }
    let (code, _) = client
        .recv_until(|m| match m {
            signalling::protocol::ServerMessage::Error { code, fatal, .. } => Some((*code, *fatal)),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(code, (ErrorCode::TooManyMessages, true));
    client.expect_closed().await.unwrap();
    // A well-behaved neighbour is untouched.
    let mut other = joined_client(&app).await;
    other.ping().await.unwrap();
}
