//! The booking story end to end, through the HTTP API: seed, book, list, double booking, start,
//! join tokens for officer and citizen, citizen look-up by personnummer, session login and expiry.

mod common;

use axum::http::StatusCode;
use booking::demo;
use booking::identity::Subject;
use booking::sessions::{ABSOLUTE_TIMEOUT_SECS, IDLE_TIMEOUT_SECS};
use booking::store::StaffAccess;
use booking::{Clock, Personnummer};
use common::*;
use serde_json::json;
use signalling::ids::RoomId;
use signalling::token::{JoinTokenVerifier, Role};

async fn booking_story(db: &TestDb) {
    let (booking, clock) = open(db).await;
    let app = booking.router();

    // Seeded demo people; no personnummer on the wire.
    let people = get(&app, "/api/v1/dev-eid/people", None).await;
    assert_eq!(people.status, StatusCode::OK);
    assert_eq!(people.body.as_array().unwrap().len(), 11);
    assert!(
        !people.text.contains("1212") && !people.text.contains("9812"),
        "{}",
        people.text
    );

    let guide = login(&app, demo::GUIDE).await;
    let me = get(&app, "/api/v1/session", Some(&guide)).await;
    assert_eq!(me.body["kind"], "guide");
    assert_eq!(me.body["method"], "dev_eid");
    let dir = get(&app, "/api/v1/directory", Some(&guide)).await;
    assert_eq!(dir.body["agencies"].as_array().unwrap().len(), 2);
    assert_eq!(dir.body["booths"].as_array().unwrap().len(), 2);

    // Book Anna in booth 1 at 10:30 Swedish time, for Tolvan (12-digit form of the number).
    let booked = post(
        &app,
        "/api/v1/bookings",
        Some(&guide),
        Some(json!({
            "service_id": demo::SERVICE_FORALDRAPENNING, "officer_id": demo::OFFICER_ANNA,
            "booth_id": demo::BOOTH_1, "starts_at": at(30 * 60), "duration_minutes": 30,
            "citizen_personnummer": "191212121212",
        })),
    )
    .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    assert_eq!(booked.body["citizen_name"], demo::CITIZEN_1_NAME);
    assert_eq!(booked.body["state"], "booked");
    let booking_id = booked.body["booking_id"].as_str().unwrap().to_owned();
    assert_eq!(booked.body["room_id"], format!("bk-{booking_id}"));

    // Same officer in the other booth, overlapping: refused. Same booth, other officer: refused.
    let clash = |officer: booking::ids::OfficerId,
                 service: booking::ids::ServiceId,
                 booth,
                 offset: i64| {
        json!({
            "service_id": service, "officer_id": officer, "booth_id": booth,
            "starts_at": at(offset), "duration_minutes": 30, "citizen_personnummer": demo::CITIZEN_2_PERSONNUMMER,
        })
    };
    for body in [
        clash(
            demo::OFFICER_ANNA,
            demo::SERVICE_SJUKPENNING,
            demo::BOOTH_2,
            45 * 60,
        ),
        clash(
            demo::OFFICER_SARA,
            demo::SERVICE_DEKLARATION,
            demo::BOOTH_1,
            15 * 60 + 60,
        ),
    ] {
        let a = post(&app, "/api/v1/bookings", Some(&guide), Some(body)).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::CONFLICT, "double_booking"),
            "{}",
            a.text
        );
    }
    // Back to back is fine; an unknown valid personnummer becomes a new citizen.
    let next = post(
        &app,
        "/api/v1/bookings",
        Some(&guide),
        Some(json!({
            "service_id": demo::SERVICE_SJUKPENNING, "officer_id": demo::OFFICER_BJORN,
            "booth_id": demo::BOOTH_1, "starts_at": at(60 * 60), "duration_minutes": 30,
            "citizen_personnummer": "19900101-9802", "citizen_name": "Nils Nyman",
        })),
    )
    .await;
    assert_eq!(next.status, StatusCode::CREATED, "{}", next.text);
    assert_eq!(next.body["citizen_name"], "Nils Nyman");

    // Lists: the guide sees the centre, Anna sees her own; never a personnummer.
    let list = get(&app, "/api/v1/bookings", Some(&guide)).await;
    let items = list.body.as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["booking_id"], booking_id.as_str());
    assert_eq!(items[0]["officer"]["name"], "Anna Lindqvist");
    assert_eq!(items[0]["booth"]["name"], "Mötesrum 1");
    assert!(
        // Whole numbers in each written form: four digits alone also turn up in random ids.
        [
            "19121212-1212",
            "191212121212",
            "121212-1212",
            "19900101-9802",
            "199001019802",
            "900101-9802"
        ]
        .iter()
        .all(|p| !list.text.contains(p)),
        "{}",
        list.text
    );
    let anna = login(&app, demo::OFFICER_ANNA).await;
    let annas = get(&app, "/api/v1/bookings", Some(&anna)).await;
    assert_eq!(annas.body.as_array().unwrap().len(), 1);

    // Every staff read of the citizen's booking is in the access log.
    let log = booking
        .store()
        .access_log_for_citizen(demo::CITIZEN_1)
        .await
        .unwrap();
    let actions: Vec<_> = log.iter().map(|e| (e.actor, e.action.as_str())).collect();
    assert!(
        actions.contains(&(Subject::Guide(demo::GUIDE), "booking.create")),
        "{actions:?}"
    );
    assert!(
        actions.contains(&(Subject::Guide(demo::GUIDE), "booking.list")),
        "{actions:?}"
    );
    assert!(
        actions.contains(&(Subject::Officer(demo::OFFICER_ANNA), "booking.list")),
        "{actions:?}"
    );

    // Joining waits for the guide to start the meeting; starting twice is harmless.
    let join_uri = format!("/api/v1/bookings/{booking_id}/join");
    let early = post(&app, &join_uri, Some(&anna), None).await;
    assert_eq!(
        (early.status, early.code()),
        (StatusCode::CONFLICT, "booking_not_started")
    );
    for _ in 0..2 {
        let s = post(
            &app,
            &format!("/api/v1/bookings/{booking_id}/start"),
            Some(&guide),
            None,
        )
        .await;
        assert_eq!(s.status, StatusCode::OK, "{}", s.text);
        assert_eq!(s.body["state"], "started");
    }

    // Officer and citizen get tokens signalling accepts, for this room, pseudonymous.
    let verifier = JoinTokenVerifier::new(booking.key_source(), "narvaro-booking");
    let room = RoomId(format!("bk-{booking_id}"));
    let officer_join = post(&app, &join_uri, Some(&anna), None).await;
    assert_eq!(officer_join.status, StatusCode::OK, "{}", officer_join.text);
    assert_eq!(officer_join.body["signalling_url"], "/signal");
    let claims = verifier
        .verify(
            officer_join.body["token"].as_str().unwrap(),
            &room,
            clock.now(),
        )
        .unwrap();
    assert_eq!(
        (claims.role, claims.name.as_str()),
        (Role::Officer, "Anna Lindqvist")
    );
    assert_eq!(claims.exp - claims.iat, 60);

    let citizen = login(&app, demo::CITIZEN_1).await;
    let citizen_join = post(&app, &join_uri, Some(&citizen), None).await;
    assert_eq!(citizen_join.status, StatusCode::OK, "{}", citizen_join.text);
    let token = citizen_join.body["token"].as_str().unwrap();
    let claims = verifier.verify(token, &room, clock.now()).unwrap();
    assert_eq!(
        (claims.role, claims.name.as_str()),
        (Role::Citizen, "Medborgare")
    );
    assert!(
        !claims.sub.contains(&demo::CITIZEN_1.to_string()) && !claims.sub.contains("191212121212")
    );
    let other = login(&app, demo::CITIZEN_2).await;
    let stranger = post(&app, &join_uri, Some(&other), None).await;
    assert_eq!(
        (stranger.status, stranger.code()),
        (StatusCode::FORBIDDEN, "not_a_participant")
    );

    // Look-up by personnummer goes through the keyed hash and decrypts back.
    let access = StaffAccess {
        actor: Subject::Guide(demo::GUIDE),
        reason: "test".into(),
        at: clock.now(),
    };
    let pnr = Personnummer::parse("121212+1212").unwrap();
    let found = booking
        .store()
        .citizen_by_personnummer(&pnr, &access)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, demo::CITIZEN_1);
    let back = booking
        .store()
        .citizen_personnummer(demo::CITIZEN_1, &access)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.expose(), "191212121212");

    // Sessions: activity keeps one alive; 30 idle minutes end it; 12 hours end it regardless.
    clock.advance(IDLE_TIMEOUT_SECS - 60);
    assert_eq!(
        get(&app, "/api/v1/session", Some(&guide)).await.status,
        StatusCode::OK
    );
    clock.advance(IDLE_TIMEOUT_SECS - 60);
    assert_eq!(
        get(&app, "/api/v1/session", Some(&guide)).await.status,
        StatusCode::OK
    );
    clock.advance(IDLE_TIMEOUT_SECS);
    let gone = get(&app, "/api/v1/session", Some(&guide)).await;
    assert_eq!(
        (gone.status, gone.code()),
        (StatusCode::UNAUTHORIZED, "not_signed_in")
    );

    let busy = login(&app, demo::OFFICER_SARA).await;
    let mut elapsed = 0;
    while elapsed + 20 * 60 < ABSOLUTE_TIMEOUT_SECS {
        clock.advance(20 * 60);
        elapsed += 20 * 60;
        assert_eq!(
            get(&app, "/api/v1/session", Some(&busy)).await.status,
            StatusCode::OK,
            "after {elapsed} s"
        );
    }
    clock.advance(ABSOLUTE_TIMEOUT_SECS - elapsed);
    assert_eq!(
        get(&app, "/api/v1/session", Some(&busy)).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Logging out ends the session at once.
    let fresh = login(&app, demo::CITIZEN_3).await;
    let out = post(&app, "/api/v1/session/logout", Some(&fresh), None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(
        out.headers
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        get(&app, "/api/v1/session", Some(&fresh)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

on_both_databases!(booking_story);

/// Reopening a database does not seed twice and keeps the data key.
async fn reopening_keeps_data_and_key(db: &TestDb) {
    let (first, _) = open(db).await;
    let pnr = Personnummer::parse(demo::CITIZEN_2_PERSONNUMMER).unwrap();
    let access = StaffAccess {
        actor: Subject::Guide(demo::GUIDE),
        reason: "test".into(),
        at: T0,
    };
    drop(first);
    let (again, _) = open(db).await;
    let found = again
        .store()
        .citizen_by_personnummer(&pnr, &access)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, demo::CITIZEN_2);
    assert_eq!(again.store().directory().await.unwrap().agencies.len(), 2);
}

on_both_databases!(reopening_keeps_data_and_key);
