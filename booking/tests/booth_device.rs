//! Booth kiosks as devices and assisted identification, through the HTTP API: a centre admin's
//! one-time code enrols a kiosk; the kiosk sees its booth's next meeting and joins only meetings
//! booked for its booth, and only once the citizen is identified; the guide records an ID-document
//! check under their own name; BankID on a kiosk identifies the citizen for the booking without
//! signing the kiosk in; and how the citizen was identified travels in the join token for the
//! other participants.

mod common;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{StatusCode, header};
use base64::Engine;
use booking::demo;
use common::*;
use serde_json::{Value, json};

fn set_cookie(a: &Answer, name: &str) -> Option<String> {
    a.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with(&format!("{name}=")))
}

/// Offers `code` to the enrolment route from a device with no credential.
async fn try_enrol(app: &Router, code: &str) -> Answer {
    post(
        app,
        "/api/v1/booth-device/enrol",
        None,
        Some(json!({ "code": code })),
    )
    .await
}

/// A code from the centre admin, traded for a kiosk credential; returns the `Cookie` value.
async fn enrol(app: &Router, booth: impl ToString) -> String {
    let admin = login(app, demo::GUIDE).await;
    let code = post(
        app,
        &format!("/api/v1/booths/{}/enrolment-code", booth.to_string()),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(code.status, StatusCode::CREATED, "{}", code.text);
    let code = code.body["code"].as_str().unwrap().to_owned();
    let a = try_enrol(app, &code).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let cookie = set_cookie(&a, "narvaro_device").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap().to_owned()
}

/// Demo citizen 1's meeting at booth 1, started by the guide.
async fn book_started(app: &Router) -> String {
    let id = book_citizen_1(app, 300).await;
    let guide = login(app, demo::GUIDE).await;
    let s = post(
        app,
        &format!("/api/v1/bookings/{id}/start"),
        Some(&guide),
        None,
    )
    .await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    id
}

fn token_claims(join: &Answer) -> Value {
    let token = join.body["token"].as_str().unwrap();
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

async fn a_code_enrols_one_kiosk_once(db: &TestDb) {
    let (booking, clock) = open(db).await;
    let app = booking.router();
    let admin = login(&app, demo::GUIDE).await;
    let uri = format!("/api/v1/booths/{}/enrolment-code", demo::BOOTH_1);
    // A guide who is not the centre's admin cannot make codes.
    let plain = booking::store::Guide {
        centre_id: demo::CENTRE_LJUSDAL,
        display_name: "Olle Ek".into(),
        ..Default::default()
    };
    booking
        .store()
        .create_resource(&booking::store::Resource::Guide(plain.clone()))
        .await
        .unwrap();
    let olle = login(&app, plain.id).await;
    assert_eq!(
        post(&app, &uri, Some(&olle), None).await.code(),
        "admin_only"
    );
    let unknown = post(
        &app,
        &format!("/api/v1/booths/{}/enrolment-code", uuid::Uuid::new_v4()),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::NOT_FOUND, "booth_not_found")
    );

    let code = post(&app, &uri, Some(&admin), None).await.body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(code.replace('-', "").len(), 26, "{code}");
    let before = booking.store().table_counts().await.unwrap();
    for wrong in ["", "AAAA-BBBB", "'; DELETE FROM booth_devices; --"] {
        let a = try_enrol(&app, wrong).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::NOT_FOUND, "invalid_enrolment_code"),
            "{wrong}"
        );
    }
    assert_eq!(booking.store().table_counts().await.unwrap(), before);
    // Typed in lower case with spaces for dashes, it still works, once.
    let typed = code.to_lowercase().replace('-', " ");
    let first = try_enrol(&app, &typed).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(
        first.body["booth_id"].as_str(),
        Some(demo::BOOTH_1.to_string().as_str())
    );
    let again = try_enrol(&app, &code).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::NOT_FOUND, "invalid_enrolment_code")
    );
    // A code not used within 15 minutes has expired: the same answer.
    let late = post(&app, &uri, Some(&admin), None).await.body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    clock.advance(15 * 60);
    let a = try_enrol(&app, &late).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::NOT_FOUND, "invalid_enrolment_code")
    );

    // The kiosk knows its booth, and is nobody: no session, no staff routes.
    let kiosk = set_cookie(&first, "narvaro_device")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let me = get(&app, "/api/v1/booth-device", Some(&kiosk)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.body["booth_name"], "Mötesrum 1");
    assert!(me.body["next"].is_null());
    assert_eq!(
        get(&app, "/api/v1/session", Some(&kiosk)).await.code(),
        "not_signed_in"
    );
    assert_eq!(
        get(&app, "/api/v1/bookings", Some(&kiosk)).await.code(),
        "staff_only"
    );
    assert_eq!(
        get(&app, "/api/v1/booth-device", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&app, "/api/v1/booth-device", Some(&admin)).await.code(),
        "booth_only"
    );
}
on_both_databases!(a_code_enrols_one_kiosk_once);

async fn the_kiosk_joins_its_booths_meeting_once_the_guide_has_checked_an_id(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let kiosk = enrol(&app, demo::BOOTH_1).await;
    let other_kiosk = enrol(&app, demo::BOOTH_2).await;
    let id = book_started(&app).await;
    let join = format!("/api/v1/bookings/{id}/join");

    // The kiosk sees the meeting, not who it is for.
    let me = get(&app, "/api/v1/booth-device", Some(&kiosk)).await;
    assert_eq!(
        me.body["next"]["booking_id"].as_str(),
        Some(id.as_str()),
        "{}",
        me.text
    );
    assert!(me.body["next"]["identified"].is_null());
    assert!(
        !me.text.contains("Tolvan") && !me.text.contains("121212-1212"),
        "{}",
        me.text
    );

    let a = post(&app, &join, Some(&kiosk), None).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::CONFLICT, "citizen_not_identified"),
        "{}",
        a.text
    );

    // Bad identifications are refused and change nothing.
    let guide = login(&app, demo::GUIDE).await;
    let identify = format!("/api/v1/bookings/{id}/identify");
    let before = booking.store().table_counts().await.unwrap();
    for (body, code) in [
        (
            json!({"document_type": "library_card", "document_last4": "1234"}),
            "invalid_document_type",
        ),
        (
            json!({"document_type": "passport", "document_last4": "12"}),
            "invalid_document_last4",
        ),
        (
            json!({"document_type": "passport", "document_last4": "1'--"}),
            "invalid_document_last4",
        ),
        (json!({"document_type": "passport"}), "invalid_request"),
    ] {
        let a = post(&app, &identify, Some(&guide), Some(body.clone())).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, code),
            "{body}: {}",
            a.text
        );
    }
    let anna = login(&app, demo::OFFICER_ANNA).await;
    let by_officer = post(
        &app,
        &identify,
        Some(&anna),
        Some(json!({"document_type": "passport", "document_last4": "1234"})),
    )
    .await;
    assert_eq!(by_officer.code(), "guide_only");
    assert_eq!(booking.store().table_counts().await.unwrap(), before);

    let a = post(
        &app,
        &identify,
        Some(&guide),
        Some(json!({"document_type": "passport", "document_last4": "ab12"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.body["method"], "assisted_by_guide");
    assert_eq!(
        a.body["label"],
        "ID-handling (pass, nr …AB12) kontrollerad av Maria Svensson"
    );
    let history = get(
        &app,
        &format!("/api/v1/bookings/{id}/history"),
        Some(&guide),
    )
    .await;
    assert!(
        history.text.contains("\"identified\"") && !history.text.contains("AB12"),
        "{}",
        history.text
    );

    // Now the kiosk joins as the citizen, and the token says how they were identified.
    let a = post(&app, &join, Some(&kiosk), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["role"], "citizen");
    let claims = token_claims(&a);
    assert_eq!(
        claims["identified"],
        "ID-handling (pass, nr …AB12) kontrollerad av Maria Svensson"
    );
    // The same participant id as when the citizen joins from their own device.
    let citizen = login(&app, demo::CITIZEN_1).await;
    let own = post(&app, &join, Some(&citizen), None).await;
    assert_eq!(token_claims(&own)["sub"], claims["sub"]);
    // The officer's token says how they signed in.
    let officer = post(&app, &join, Some(&anna), None).await;
    assert_eq!(
        token_claims(&officer)["identified"],
        "utvecklingsinloggning (ingen riktig identifiering)"
    );

    // Another booth's kiosk, and an officer not booked, may not join.
    let a = post(&app, &join, Some(&other_kiosk), None).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::FORBIDDEN, "not_a_participant")
    );
    let bjorn = login(&app, demo::OFFICER_BJORN).await;
    let a = post(&app, &join, Some(&bjorn), None).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::FORBIDDEN, "not_a_participant")
    );

    // Once the meeting is over, nobody identifies for it any more.
    let cancel = post(
        &app,
        &format!("/api/v1/bookings/{id}/cancel"),
        Some(&guide),
        Some(json!({"reason": "citizen_request"})),
    )
    .await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.text);
    let late = post(
        &app,
        &identify,
        Some(&guide),
        Some(json!({"document_type": "passport", "document_last4": "1234"})),
    )
    .await;
    assert_eq!(
        (late.status, late.code()),
        (StatusCode::CONFLICT, "invalid_transition"),
        "{}",
        late.text
    );
}
on_both_databases!(the_kiosk_joins_its_booths_meeting_once_the_guide_has_checked_an_id);

async fn bankid_on_a_kiosk_identifies_for_the_booking_and_signs_nobody_in(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router().layer(MockConnectInfo(SocketAddr::from((
        [198, 51, 100, 9],
        40000,
    ))));
    let kiosk = enrol(&app, demo::BOOTH_1).await;
    // Without a meeting at the booth there is nothing to identify for.
    let a = post(&app, "/api/v1/bankid/start", Some(&kiosk), Some(json!({}))).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::CONFLICT, "no_booking_at_booth"),
        "{}",
        a.text
    );
    // A kiosk cannot start an order for another booth.
    let a = post(
        &app,
        "/api/v1/bankid/start",
        Some(&kiosk),
        Some(json!({"booth_id": demo::BOOTH_2})),
    )
    .await;
    assert_eq!(a.code(), "not_this_booth");

    let id = book_started(&app).await;
    let start = post(&app, "/api/v1/bankid/start", Some(&kiosk), Some(json!({}))).await;
    assert_eq!(start.status, StatusCode::CREATED, "{}", start.text);
    assert_eq!(start.body["meeting"]["agency"], "Försäkringskassan");
    let order_ref = start.body["order_ref"].as_str().unwrap().to_owned();
    let binding = set_cookie(&start, "narvaro_bankid")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let cookies = format!("{kiosk}; {binding}");
    // The simulator's phone takes the order: what scanning the live QR code does (shown in
    // tests/bankid.rs); here the order is completed through the token the store keeps.
    let token = booking
        .store()
        .bankid_order(&order_ref)
        .await
        .unwrap()
        .unwrap()
        .qr_start_token;
    let hint = post(
        &app,
        "/dev/bankid-phone/hint",
        None,
        Some(json!({"qr_start_token": token, "status": "pending", "hint_code": "userSign"})),
    )
    .await;
    assert_eq!(hint.status, StatusCode::OK, "{}", hint.text);
    let who = json!({"qr_start_token": token, "personal_number": demo::CITIZEN_1_PERSONNUMMER, "given_name": "Tolvan", "surname": "Tolvansson"});
    assert_eq!(
        post(&app, "/dev/bankid-phone/identify", None, Some(who))
            .await
            .status,
        StatusCode::OK
    );
    let done = post(
        &app,
        "/api/v1/bankid/collect",
        Some(&cookies),
        Some(json!({"order_ref": order_ref})),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body["status"], "complete");
    assert!(done.body["identity"].is_null());
    assert!(
        set_cookie(&done, "narvaro_session").is_none(),
        "the kiosk is not signed in as the citizen"
    );

    let me = get(&app, "/api/v1/booth-device", Some(&kiosk)).await;
    assert_eq!(
        me.body["next"]["identified"]["method"], "bank_id",
        "{}",
        me.text
    );
    let join = post(
        &app,
        &format!("/api/v1/bookings/{id}/join"),
        Some(&kiosk),
        None,
    )
    .await;
    assert_eq!(join.status, StatusCode::OK, "{}", join.text);
    assert_eq!(token_claims(&join)["identified"], "BankID");
}
on_both_databases!(bankid_on_a_kiosk_identifies_for_the_booking_and_signs_nobody_in);

/// Guessing enrolment codes: each guess is a 130-bit shot in the dark, and after ten from one
/// address in ten minutes every attempt, right code or not, is 429 with `Retry-After`.
async fn guessing_enrolment_codes_is_limited(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking
        .router()
        .layer(MockConnectInfo(SocketAddr::from(([203, 0, 113, 5], 50000))));
    let admin = login(&app, demo::GUIDE).await;
    let uri = format!("/api/v1/booths/{}/enrolment-code", demo::BOOTH_1);
    let code = post(&app, &uri, Some(&admin), None).await.body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = booking.store().table_counts().await.unwrap();
    for i in 0..10 {
        let guess = format!("{:026}", i);
        let a = try_enrol(&app, &guess).await;
        assert_eq!(a.code(), "invalid_enrolment_code", "guess {i}");
    }
    let blocked = try_enrol(&app, &code).await;
    assert_eq!(
        (blocked.status, blocked.code()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
        "{}",
        blocked.text
    );
    let retry: u64 = blocked.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(
        booking.store().table_counts().await.unwrap(),
        before,
        "nothing enrolled"
    );
    // Another address is not held back by this one.
    let elsewhere = booking.router().layer(MockConnectInfo(SocketAddr::from((
        [198, 51, 100, 20],
        50000,
    ))));
    let a = try_enrol(&elsewhere, &code).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
}
on_both_databases!(guessing_enrolment_codes_is_limited);

/// Join tokens are limited per caller: a kiosk asking over and over is told to wait, and another
/// kiosk behind the same address is not.
async fn join_tokens_are_limited_per_caller(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let id = book_started(&app).await;
    let anna = login(&app, demo::OFFICER_ANNA).await;
    let join = format!("/api/v1/bookings/{id}/join");
    let mut statuses = Vec::new();
    for _ in 0..31 {
        statuses.push(post(&app, &join, Some(&anna), None).await.status);
    }
    assert!(
        statuses[..30].iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(statuses[30], StatusCode::TOO_MANY_REQUESTS);
    let citizen = login(&app, demo::CITIZEN_1).await;
    assert_eq!(
        post(&app, &join, Some(&citizen), None).await.status,
        StatusCode::OK
    );
}
on_both_databases!(join_tokens_are_limited_per_caller);
