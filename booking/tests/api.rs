//! Handler behaviour at the edges: who may do what, and the error codes clients rely on.

mod common;

use axum::http::StatusCode;
use booking::{Booking, BookingConfig, BookingError, Environment, demo};
use common::*;
use serde_json::{Value, json};

fn anna_in_booth_1(offset: i64, personnummer: &str) -> Value {
    json!({
        "service_id": demo::SERVICE_FORALDRAPENNING, "officer_id": demo::OFFICER_ANNA,
        "booth_id": demo::BOOTH_1, "starts_at": at(offset), "duration_minutes": 30,
        "citizen_personnummer": personnummer,
    })
}

/// Whether a citizen with this personnummer is in the store.
async fn is_stored(booking: &Booking, clock: &booking::ManualClock, personnummer: &str) -> bool {
    let access = booking::store::StaffAccess {
        actor: booking::Subject::Guide(demo::GUIDE),
        reason: "test".into(),
        at: booking::Clock::now(clock),
    };
    let pnr = booking::Personnummer::parse(personnummer).unwrap();
    booking
        .store()
        .citizen_by_personnummer(&pnr, &access)
        .await
        .unwrap()
        .is_some()
}

async fn requests_without_a_session_get_401(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    for uri in ["/api/v1/session", "/api/v1/directory", "/api/v1/bookings"] {
        let a = get(&app, uri, None).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::UNAUTHORIZED, "not_signed_in"),
            "{uri}"
        );
    }
    let a = post(
        &app,
        "/api/v1/bookings",
        Some("narvaro_session=forged"),
        Some(anna_in_booth_1(0, "191212121212")),
    )
    .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNAUTHORIZED, "not_signed_in")
    );
}
on_both_databases!(requests_without_a_session_get_401);

async fn only_a_guide_may_book_and_only_staff_see_bookings(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let citizen = login(&app, demo::CITIZEN_1).await;
    let officer = login(&app, demo::OFFICER_ANNA).await;
    for cookie in [&citizen, &officer] {
        let a = post(
            &app,
            "/api/v1/bookings",
            Some(cookie),
            Some(anna_in_booth_1(0, "191212121212")),
        )
        .await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::FORBIDDEN, "guide_only"),
            "{}",
            a.text
        );
    }
    let a = get(&app, "/api/v1/bookings", Some(&citizen)).await;
    assert_eq!((a.status, a.code()), (StatusCode::FORBIDDEN, "staff_only"));
    let a = get(&app, "/api/v1/directory", Some(&citizen)).await;
    assert_eq!((a.status, a.code()), (StatusCode::FORBIDDEN, "staff_only"));
}
on_both_databases!(only_a_guide_may_book_and_only_staff_see_bookings);

async fn bad_personnummer_is_422(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let guide = login(&app, demo::GUIDE).await;
    for bad in ["19121212-1213", "1912121212", "19121312-1212", "nonsense"] {
        let a = post(
            &app,
            "/api/v1/bookings",
            Some(&guide),
            Some(anna_in_booth_1(0, bad)),
        )
        .await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_personnummer"),
            "{bad}"
        );
        assert!(
            !a.text.contains(bad),
            "the error must not echo the number: {}",
            a.text
        );
    }
    let mut body = anna_in_booth_1(0, "191212121212");
    body["starts_at"] = json!("tomorrow");
    let a = post(&app, "/api/v1/bookings", Some(&guide), Some(body)).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_starts_at")
    );
    let mut body = anna_in_booth_1(0, "191212121212");
    body["service_id"] = json!(demo::SERVICE_DEKLARATION);
    let a = post(&app, "/api/v1/bookings", Some(&guide), Some(body)).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "service_not_of_officer")
    );
}
on_both_databases!(bad_personnummer_is_422);

async fn double_booking_is_409(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let guide = login(&app, demo::GUIDE).await;
    let first = post(
        &app,
        "/api/v1/bookings",
        Some(&guide),
        Some(anna_in_booth_1(0, "191212121212")),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = post(
        &app,
        "/api/v1/bookings",
        Some(&guide),
        Some(anna_in_booth_1(29 * 60, "189003159812")),
    )
    .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "double_booking")
    );
    assert!(again.body["error"]["message"].is_string());
}
on_both_databases!(double_booking_is_409);

/// A booking refused as a double booking must not leave the new citizen's personnummer stored.
async fn a_refused_booking_leaves_no_new_citizen_behind(db: &TestDb) {
    let (booking, clock) = open(db).await;
    let app = booking.router();
    let guide = login(&app, demo::GUIDE).await;
    let first = post(
        &app,
        "/api/v1/bookings",
        Some(&guide),
        Some(anna_in_booth_1(0, "191212121212")),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    // A valid test number no one has been booked with before.
    let newcomer = "200001019827";
    let refused = post(
        &app,
        "/api/v1/bookings",
        Some(&guide),
        Some(anna_in_booth_1(10 * 60, newcomer)),
    )
    .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::CONFLICT, "double_booking")
    );

    assert!(
        !is_stored(&booking, &clock, newcomer).await,
        "the refused booking's citizen was stored"
    );

    // Booked at a free time, the same citizen is added.
    let later = post(
        &app,
        "/api/v1/bookings",
        Some(&guide),
        Some(anna_in_booth_1(60 * 60, newcomer)),
    )
    .await;
    assert_eq!(later.status, StatusCode::CREATED, "{}", later.text);
    assert!(is_stored(&booking, &clock, newcomer).await);
}
on_both_databases!(a_refused_booking_leaves_no_new_citizen_behind);

/// A guide books the booths of their own centre only; a refusal writes nothing.
async fn a_guide_books_only_the_booths_of_their_centre(db: &TestDb) {
    let (booking, clock) = open(db).await;
    let app = booking.router();
    let hudiksvall = booking::store::Centre {
        kommun: "Hudiksvall".into(),
        name: "Servicekontor Hudiksvall".into(),
        ..Default::default()
    };
    let elsewhere = booking::store::Guide {
        centre_id: hudiksvall.id,
        display_name: "Olle Ek".into(),
        ..Default::default()
    };
    for resource in [
        booking::store::Resource::Centre(hudiksvall),
        booking::store::Resource::Guide(elsewhere.clone()),
    ] {
        booking.store().create_resource(&resource).await.unwrap();
    }
    let olle = login(&app, elsewhere.id).await;
    let newcomer = "200001019827";
    let refused = post(
        &app,
        "/api/v1/bookings",
        Some(&olle),
        Some(anna_in_booth_1(0, newcomer)),
    )
    .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::FORBIDDEN, "not_your_centre"),
        "{}",
        refused.text
    );
    assert!(
        !is_stored(&booking, &clock, newcomer).await,
        "the refused booking's citizen was stored"
    );
    // The same booth, the same time: free, so nothing of the refused booking holds it.
    let maria = login(&app, demo::GUIDE).await;
    let booked = post(
        &app,
        "/api/v1/bookings",
        Some(&maria),
        Some(anna_in_booth_1(0, newcomer)),
    )
    .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
}
on_both_databases!(a_guide_books_only_the_booths_of_their_centre);

/// Many guides booking the same slot at once: exactly one wins.
async fn concurrent_bookings_of_one_slot_admit_one(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let guide = login(&app, demo::GUIDE).await;
    let attempts = (0..8).map(|i| {
        let (app, guide) = (app.clone(), guide.clone());
        tokio::spawn(async move {
            let pnr = if i % 2 == 0 {
                "191212121212"
            } else {
                "189003159812"
            };
            post(
                &app,
                "/api/v1/bookings",
                Some(&guide),
                Some(anna_in_booth_1(i * 60, pnr)),
            )
            .await
            .status
        })
    });
    let mut created = 0;
    for a in attempts {
        match a.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 1);
}
on_both_databases!(concurrent_bookings_of_one_slot_admit_one);

async fn join_before_start_is_409_and_strangers_get_403(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let guide = login(&app, demo::GUIDE).await;
    let b = post(
        &app,
        "/api/v1/bookings",
        Some(&guide),
        Some(anna_in_booth_1(0, "191212121212")),
    )
    .await;
    let join = format!(
        "/api/v1/bookings/{}/join",
        b.body["booking_id"].as_str().unwrap()
    );
    for who in [demo::OFFICER_ANNA.to_string(), demo::CITIZEN_1.to_string()] {
        let cookie = login(&app, who).await;
        let a = post(&app, &join, Some(&cookie), None).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::CONFLICT, "booking_not_started"),
            "{}",
            a.text
        );
    }
    for who in [
        demo::OFFICER_BJORN.to_string(),
        demo::CITIZEN_2.to_string(),
        demo::GUIDE.to_string(),
    ] {
        let cookie = login(&app, who).await;
        let a = post(&app, &join, Some(&cookie), None).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::FORBIDDEN, "not_a_participant")
        );
    }
    let officer = login(&app, demo::OFFICER_ANNA).await;
    let start = format!(
        "/api/v1/bookings/{}/start",
        b.body["booking_id"].as_str().unwrap()
    );
    let a = post(&app, &start, Some(&officer), None).await;
    assert_eq!((a.status, a.code()), (StatusCode::FORBIDDEN, "guide_only"));
    let a = post(
        &app,
        "/api/v1/bookings/not-a-uuid/join",
        Some(&officer),
        None,
    )
    .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::NOT_FOUND, "booking_not_found")
    );
}
on_both_databases!(join_before_start_is_409_and_strangers_get_403);

async fn dev_eid_is_refused_in_production(db: &TestDb) {
    let key = Some(booking::crypto::DataKey::generate_secret().unwrap());
    let asked = BookingConfig {
        dev_eid: Some(true),
        data_key: key.clone(),
        ..db.config.clone()
    };
    assert!(matches!(
        Booking::open(&asked, Environment::Production).await,
        Err(BookingError::DevEidInProduction)
    ));
    let no_key = BookingConfig {
        data_key: None,
        ..db.config.clone()
    };
    assert!(matches!(
        Booking::open(&no_key, Environment::Production).await,
        Err(BookingError::Config(_))
    ));

    let prod = BookingConfig {
        data_key: key,
        ..db.config.clone()
    };
    let booking = Booking::open(&prod, Environment::Production).await.unwrap();
    assert!(booking.identity_providers().is_empty());
    let app = booking.router();
    assert_eq!(
        get(&app, "/api/v1/dev-eid/people", None).await.status,
        StatusCode::NOT_FOUND
    );
    let a = post(
        &app,
        "/api/v1/dev-eid/login",
        None,
        Some(json!({ "person_id": demo::GUIDE })),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.headers.get("set-cookie").is_none());
}
on_both_databases!(dev_eid_is_refused_in_production);

#[tokio::test]
async fn join_token_lifetime_over_120_s_is_a_startup_error() {
    let db = TestDb::sqlite().await;
    let config = BookingConfig {
        join_token_lifetime_secs: 121,
        ..db.config.clone()
    };
    assert!(matches!(
        Booking::open(&config, Environment::Development).await,
        Err(BookingError::Config(_))
    ));
}

#[tokio::test]
async fn jwks_is_served_for_remote_media_nodes() {
    let db = TestDb::sqlite().await;
    let (booking, _) = open(&db).await;
    let a = get(&booking.router(), "/.well-known/jwks.json", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["keys"][0]["kid"], booking.token_issuer().kid());
    assert_eq!(a.body["keys"][0]["crv"], "Ed25519");
}

async fn signing_out_everywhere_ends_every_session_of_that_person_only(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let laptop = login(&app, demo::OFFICER_ANNA).await;
    let phone = login(&app, demo::OFFICER_ANNA).await;
    let guide = login(&app, demo::GUIDE).await;
    let a = post(
        &app,
        "/api/v1/session/logout-everywhere",
        Some(&phone),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["sessions_ended"], 2);
    assert!(
        a.headers
            .get(axum::http::header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    for cookie in [&laptop, &phone] {
        let me = get(&app, "/api/v1/session", Some(cookie)).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{}", me.text);
    }
    assert_eq!(
        get(&app, "/api/v1/session", Some(&guide)).await.status,
        StatusCode::OK,
        "another person stays signed in"
    );
    let none = post(&app, "/api/v1/session/logout-everywhere", None, None).await;
    assert_eq!(
        (none.status, none.code()),
        (StatusCode::UNAUTHORIZED, "not_signed_in")
    );
}
on_both_databases!(signing_out_everywhere_ends_every_session_of_that_person_only);
