//! BankID identification through the HTTP API against the RP API simulator, which the
//! development profile serves over mutual TLS on a loopback port: start at a booth, the animated
//! QR code, the phone's scan, every hintCode's message, completion into a citizen session with
//! evidence kept, the order bound to its browser, and the refusals.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{StatusCode, header};
use booking::bankid::{messages, qr, rp, simulator};
use booking::crypto::DataKey;
use booking::{Booking, BookingConfig, Clock, Environment, ManualClock, demo};
use common::*;
use serde_json::{Value, json};

struct Kiosk {
    booking: Booking,
    app: Router,
    clock: Arc<ManualClock>,
    key: DataKey,
}

/// Booking with a known data key (to read an order's QR secret the way the server does) and a
/// client address on every request, as the real server gives.
async fn kiosk(db: &TestDb) -> Kiosk {
    let secret = DataKey::generate_secret().unwrap();
    let config = BookingConfig {
        data_key: Some(secret.clone()),
        ..db.config.clone()
    };
    let clock = Arc::new(ManualClock::new(T0));
    let booking = Booking::open_with_clock(&config, Environment::Development, clock.clone())
        .await
        .unwrap();
    let app = booking.router().layer(MockConnectInfo(SocketAddr::from((
        [198, 51, 100, 7],
        40000,
    ))));
    Kiosk {
        booking,
        app,
        clock,
        key: DataKey::from_secret(&secret).unwrap(),
    }
}

struct Started {
    order_ref: String,
    /// The browser's binding cookie, `name=value`.
    cookie: String,
    body: Value,
}

async fn start(k: &Kiosk, body: Value) -> Started {
    let a = post(&k.app, "/api/v1/bankid/start", None, Some(body)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let set = a
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set.contains("HttpOnly")
            && set.contains("SameSite=Strict")
            && set.contains("Path=/api/v1/bankid"),
        "{set}"
    );
    assert!(
        !a.text.contains("qrStartSecret") && !a.text.to_lowercase().contains("secret"),
        "{}",
        a.text
    );
    Started {
        order_ref: a.body["order_ref"].as_str().unwrap().to_owned(),
        cookie: set.split(';').next().unwrap().to_owned(),
        body: a.body,
    }
}

/// What the booth's QR code says now, computed as the server does from the stored order.
async fn qr_now(k: &Kiosk, order_ref: &str) -> (String, String) {
    let order = k
        .booking
        .store()
        .bankid_order(order_ref)
        .await
        .unwrap()
        .unwrap();
    let secret = String::from_utf8(
        k.key
            .decrypt(&order.qr_start_secret_enc, order_ref.as_bytes())
            .unwrap(),
    )
    .unwrap();
    let seconds = (k.clock.now() - order.started_at) as u64;
    (
        qr::content(&order.qr_start_token, &secret, seconds),
        order.qr_start_token,
    )
}

async fn collect(k: &Kiosk, s: &Started, cookie: Option<&str>) -> Answer {
    post(
        &k.app,
        "/api/v1/bankid/collect",
        cookie,
        Some(json!({"order_ref": s.order_ref})),
    )
    .await
}

async fn phone(k: &Kiosk, what: &str, body: Value) -> Answer {
    post(
        &k.app,
        &format!("/dev/bankid-phone/{what}"),
        None,
        Some(body),
    )
    .await
}

async fn a_citizen_identifies_at_the_booth_by_scanning_the_live_qr_code(db: &TestDb) {
    let k = kiosk(db).await;
    let booking_id = book_citizen_1(&k.app, 600).await;
    let s = start(&k, json!({"booth_id": demo::BOOTH_1})).await;
    // The order is for the booth's next meeting, and says so.
    assert_eq!(
        s.body["meeting"]["agency"], "Försäkringskassan",
        "{}",
        s.body
    );
    assert_eq!(s.body["message"]["code"], "RFA1");
    assert_eq!(s.body["collect_every_ms"], 2000);

    // The QR code is a picture that changes every second.
    let qr_uri = s.body["qr_url"].as_str().unwrap().to_owned();
    let first = get(&k.app, &qr_uri, Some(&s.cookie)).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.headers[header::CONTENT_TYPE], "image/svg+xml");
    assert_eq!(first.headers[header::CACHE_CONTROL], "no-store");
    assert!(
        first.text.starts_with("<?xml") || first.text.starts_with("<svg"),
        "{}",
        &first.text[..60]
    );
    k.clock.advance(1);
    let second = get(&k.app, &qr_uri, Some(&s.cookie)).await;
    assert_ne!(
        first.text, second.text,
        "the QR code must change every second"
    );
    // Another browser sees no QR code.
    assert_eq!(
        get(&k.app, &qr_uri, None).await.code(),
        "bankid_order_not_found"
    );

    // An old code (a photo taken a while ago) and a made-up one are refused by the phone.
    let (now_qr, token) = qr_now(&k, &s.order_ref).await;
    k.clock.advance(5);
    let stale = phone(&k, "scan", json!({"qr": now_qr})).await;
    assert_eq!(
        (stale.status, stale.code()),
        (StatusCode::BAD_REQUEST, "stale_qr"),
        "{}",
        stale.text
    );
    let forged = format!("bankid.{token}.6.{}", qr::auth_code("not-the-secret", 6));
    assert_eq!(
        phone(&k, "scan", json!({"qr": forged})).await.code(),
        "forged_qr"
    );
    let pending = collect(&k, &s, Some(&s.cookie)).await;
    assert_eq!(
        (
            pending.body["hint_code"].as_str(),
            pending.body["show_qr"].as_bool()
        ),
        (Some("outstandingTransaction"), Some(true))
    );

    // The live code scans; the app asks for the security code.
    let (live, _) = qr_now(&k, &s.order_ref).await;
    let scan = phone(&k, "scan", json!({"qr": live})).await;
    assert_eq!(scan.status, StatusCode::OK, "{}", scan.text);
    let a = collect(&k, &s, Some(&s.cookie)).await;
    assert_eq!(a.body["status"], "pending");
    assert_eq!(a.body["hint_code"], "userSign");
    assert_eq!(a.body["message"]["code"], "RFA9");
    assert_eq!(a.body["message"]["sv"], messages::RFA9.sv);
    assert_eq!(a.body["show_qr"], false);

    // The order requires the booked citizen: someone else's app cannot take it.
    let who = |pnr: &str| json!({"qr_start_token": token, "personal_number": pnr, "given_name": "Test", "surname": "Person"});
    let other = phone(&k, "identify", who(&personnummer(42))).await;
    assert_eq!(
        (other.status, other.code()),
        (StatusCode::CONFLICT, "wrong_person"),
        "{}",
        other.text
    );

    // Another browser cannot collect the order, knowing its orderRef or not.
    let intruder = collect(&k, &s, Some("narvaro_bankid=someone-elses")).await;
    assert_eq!(
        (intruder.status, intruder.code()),
        (StatusCode::NOT_FOUND, "bankid_order_not_found")
    );
    let unknown = post(
        &k.app,
        "/api/v1/bankid/collect",
        Some(&s.cookie),
        Some(json!({"order_ref": "x"})),
    )
    .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::NOT_FOUND, "bankid_order_not_found")
    );

    assert_eq!(
        phone(&k, "identify", who(demo::CITIZEN_1_PERSONNUMMER))
            .await
            .status,
        StatusCode::OK
    );
    let done = collect(&k, &s, Some(&s.cookie)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body["status"], "complete");
    assert_eq!(done.body["identity"]["method"], "bank_id");
    assert!(
        !done.text.contains("121212-1212") || done.text.contains("191212121212"),
        "no personnummer in the answer: {}",
        done.text
    );
    let cookies: Vec<&str> = done
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("narvaro_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("narvaro_bankid=;") && c.contains("Max-Age=0")),
        "{cookies:?}"
    );

    // Signed in as the booked citizen, identified with BankID, with the evidence kept.
    let me = get(&k.app, "/api/v1/session", Some(session)).await;
    assert_eq!(
        (me.body["kind"].as_str(), me.body["method"].as_str()),
        (Some("citizen"), Some("bank_id"))
    );
    let citizen: booking::ids::CitizenId = me.body["person_id"].as_str().unwrap().parse().unwrap();
    let evidence = k.booking.store().identifications_of(citizen).await.unwrap();
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0].order_ref, s.order_ref);
    assert_eq!(evidence[0].booking_id.unwrap().to_string(), booking_id);
    let signature = k
        .key
        .decrypt(&evidence[0].signature_enc, evidence[0].id.as_bytes())
        .unwrap();
    assert!(String::from_utf8(signature).unwrap().contains(&s.order_ref));
    assert!(!evidence[0].ocsp_response.is_empty());
    // The order is spent.
    assert_eq!(
        collect(&k, &s, Some(&s.cookie)).await.code(),
        "bankid_order_not_found"
    );
    assert!(
        k.booking
            .store()
            .bankid_order(&s.order_ref)
            .await
            .unwrap()
            .is_none()
    );
}
on_both_databases!(a_citizen_identifies_at_the_booth_by_scanning_the_live_qr_code);

async fn every_hint_code_gets_bankids_message(db: &TestDb) {
    let k = kiosk(db).await;
    for (status, hint) in messages::HINT_CODES {
        let s = start(&k, json!({})).await;
        let (_, token) = qr_now(&k, &s.order_ref).await;
        let set = phone(
            &k,
            "hint",
            json!({"qr_start_token": token, "status": status, "hint_code": hint}),
        )
        .await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.text);
        let a = collect(&k, &s, Some(&s.cookie)).await;
        let want = if *status == "pending" {
            messages::pending(hint)
        } else {
            messages::failed(hint)
        };
        assert_eq!(a.body["status"], *status, "{hint}: {}", a.text);
        assert_eq!(a.body["hint_code"], *hint);
        assert_eq!(a.body["message"]["code"], want.code, "{hint}");
        assert_eq!(a.body["message"]["en"], want.en, "{hint}");
        if *status == "failed" {
            // A failed order is over: its row is gone.
            assert!(
                k.booking
                    .store()
                    .bankid_order(&s.order_ref)
                    .await
                    .unwrap()
                    .is_none()
            );
        } else {
            let cancelled = post(
                &k.app,
                "/api/v1/bankid/cancel",
                Some(&s.cookie),
                Some(json!({"order_ref": s.order_ref})),
            )
            .await;
            assert_eq!(cancelled.status, StatusCode::OK);
            // The order is over: its binding cookie goes, nothing of it stays on the kiosk.
            assert!(
                cancelled
                    .headers
                    .get_all(axum::http::header::SET_COOKIE)
                    .iter()
                    .any(|c| c.to_str().unwrap().starts_with("narvaro_bankid=;")),
                "cancel clears the binding cookie"
            );
        }
    }
}
on_both_databases!(every_hint_code_gets_bankids_message);

async fn an_unscanned_code_expires_and_a_second_order_for_the_same_person_is_refused(db: &TestDb) {
    let k = kiosk(db).await;
    book_citizen_1(&k.app, 600).await;
    let s = start(&k, json!({"booth_id": demo::BOOTH_1})).await;
    // While it is pending, a second order for the same booked citizen is refused (and BankID
    // cancels the first, as its specification says).
    let again = post(
        &k.app,
        "/api/v1/bankid/start",
        None,
        Some(json!({"booth_id": demo::BOOTH_1})),
    )
    .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "bankid_already_in_progress"),
        "{}",
        again.text
    );
    assert_eq!(again.body["error"]["message"], messages::RFA4.en);
    let first = collect(&k, &s, Some(&s.cookie)).await;
    assert_eq!(
        (
            first.body["status"].as_str(),
            first.body["message"]["code"].as_str()
        ),
        (Some("failed"), Some("RFA3"))
    );

    let s = start(&k, json!({"booth_id": demo::BOOTH_1})).await;
    k.clock.advance(simulator::SCAN_WINDOW_SECS);
    let a = collect(&k, &s, Some(&s.cookie)).await;
    assert_eq!(a.body["hint_code"], "startFailed", "{}", a.text);
    assert_eq!(a.body["message"]["code"], "RFA17B");

    // Cancelling ends the order at BankID and here.
    let s = start(&k, json!({"booth_id": demo::BOOTH_1})).await;
    let c = post(
        &k.app,
        "/api/v1/bankid/cancel",
        Some(&s.cookie),
        Some(json!({"order_ref": s.order_ref})),
    )
    .await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text);
    assert_eq!(
        collect(&k, &s, Some(&s.cookie)).await.code(),
        "bankid_order_not_found"
    );
}
on_both_databases!(an_unscanned_code_expires_and_a_second_order_for_the_same_person_is_refused);

async fn bad_starts_are_refused_and_store_nothing(db: &TestDb) {
    let k = kiosk(db).await;
    let before = k.booking.store().table_counts().await.unwrap();
    for (body, status, code) in [
        (
            json!({"booth_id": uuid::Uuid::new_v4()}),
            StatusCode::NOT_FOUND,
            "unknown_booth",
        ),
        (
            json!({"booth_id": "'; DROP TABLE bankid_orders; --"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            json!({"booth": demo::BOOTH_1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
    ] {
        let a = post(&k.app, "/api/v1/bankid/start", None, Some(body.clone())).await;
        assert_eq!((a.status, a.code()), (status, code), "{body}: {}", a.text);
    }
    // Without the client's address (a server started without connection info) nothing starts.
    let bare = k.booking.router();
    let a = post(&bare, "/api/v1/bankid/start", None, Some(json!({}))).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(k.booking.store().table_counts().await.unwrap(), before);
}
on_both_databases!(bad_starts_are_refused_and_store_nothing);

/// The simulator's RP API is mutual TLS like BankID's: the client must present a certificate from
/// its CA, and the client trusts only the CA it is given.
#[tokio::test]
async fn the_rp_api_is_mutual_tls_with_its_own_ca_only() {
    let clock = Arc::new(ManualClock::new(T0));
    let sim = simulator::Simulator::new(clock);
    let pki = simulator::SimulatorPki::generate().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://127.0.0.1:{}/rp/v6.0",
        listener.local_addr().unwrap().port()
    );
    let _server = simulator::serve_tls(&sim, listener, &pki).unwrap();
    let other = simulator::SimulatorPki::generate().unwrap();
    let client = |cert: &str, key: &str, ca: &str| {
        rp::RpClient::new(
            &url,
            rp::RpCredentials {
                client_cert_pem: cert.as_bytes(),
                client_key_pem: key.as_bytes(),
                ca_cert_pem: ca.as_bytes(),
            },
        )
        .unwrap()
    };
    let request = || rp::AuthRequest {
        end_user_ip: "192.0.2.4".into(),
        requirement: None,
        user_visible_data: None,
        user_visible_data_format: None,
    };
    let good = client(&pki.client_cert_pem, &pki.client_key_pem, &pki.ca_cert_pem);
    let order = good.auth(&request()).await.unwrap();
    assert_eq!(
        good.collect(&order.order_ref).await.unwrap().status,
        rp::Status::Pending
    );
    // A relying party certificate from another CA: the server ends the handshake.
    let stranger = client(
        &other.client_cert_pem,
        &other.client_key_pem,
        &pki.ca_cert_pem,
    );
    assert!(matches!(
        stranger.auth(&request()).await,
        Err(rp::RpError::Transport(_))
    ));
    // A client that trusts another CA does not talk to this server at all.
    let wary = client(
        &pki.client_cert_pem,
        &pki.client_key_pem,
        &other.ca_cert_pem,
    );
    assert!(matches!(
        wary.auth(&request()).await,
        Err(rp::RpError::Transport(_))
    ));
    // BankID's error answers, with their codes.
    let bad_ip = rp::AuthRequest {
        end_user_ip: "not an address".into(),
        ..request()
    };
    assert!(
        matches!(good.auth(&bad_ip).await, Err(rp::RpError::Refused { code, .. }) if code == "invalidParameters")
    );
    assert!(
        matches!(good.collect("no-such-order").await, Err(rp::RpError::Refused { code, .. }) if code == "invalidParameters")
    );
    good.cancel(&order.order_ref).await.unwrap();
    assert!(matches!(
        good.cancel(&order.order_ref).await,
        Err(rp::RpError::Refused { .. })
    ));
}

#[tokio::test]
async fn production_refuses_the_simulator() {
    let config = BookingConfig {
        database_url: "sqlite::memory:".into(),
        data_key: Some(DataKey::generate_secret().unwrap()),
        bankid_url: Some("simulator".into()),
        ..Default::default()
    };
    assert!(matches!(
        Booking::open(&config, Environment::Production).await,
        Err(booking::BookingError::BankIdSimulatorInProduction)
    ));
    // Production without bankid_url offers no BankID at all.
    let config = BookingConfig {
        bankid_url: None,
        demo_data: false,
        ..config
    };
    let booking = Booking::open(&config, Environment::Production)
        .await
        .unwrap();
    assert!(booking.bankid_simulator().is_none());
    assert!(
        booking
            .identity_providers()
            .iter()
            .all(|p| p.name() != "bankid")
    );
}
