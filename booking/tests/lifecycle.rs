//! The booking lifecycle through the HTTP API: check in, start, end with an outcome, reschedule,
//! cancel, no-show, each in the booking's history; and double booking refused by the database
//! for officers, booths and interpreters, also under 50 concurrent requests.

mod common;

use axum::http::StatusCode;
use booking::demo;
use common::*;
use serde_json::{Value, json};

fn anna(offset: i64, personnummer: &str) -> Value {
    json!({
        "service_id": demo::SERVICE_FORALDRAPENNING, "officer_id": demo::OFFICER_ANNA,
        "booth_id": demo::BOOTH_1, "starts_at": at(offset), "duration_minutes": 30,
        "citizen_personnummer": personnummer,
    })
}

async fn book(app: &axum::Router, guide: &str, body: Value) -> String {
    let a = post(app, "/api/v1/bookings", Some(guide), Some(body)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.body["booking_id"].as_str().unwrap().to_owned()
}

fn kinds(history: &Answer) -> Vec<String> {
    history
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_meeting_is_checked_in_started_and_ended_with_an_outcome(db: &TestDb) {
    let (booking, clock) = open(db).await;
    let app = booking.router();
    let guide = login(&app, demo::GUIDE).await;
    let anna_cookie = login(&app, demo::OFFICER_ANNA).await;
    let id = book(&app, &guide, anna(0, demo::CITIZEN_1_PERSONNUMMER)).await;
    let uri = |what: &str| format!("/api/v1/bookings/{id}/{what}");

    // Ending before the meeting started is refused and changes nothing.
    let early = post(
        &app,
        &uri("end"),
        Some(&anna_cookie),
        Some(json!({"outcome": "resolved"})),
    )
    .await;
    assert_eq!(
        (early.status, early.code()),
        (StatusCode::CONFLICT, "invalid_transition"),
        "{}",
        early.text
    );
    // The officer cannot check in: that is the guide's, who sees the citizen arrive.
    let a = post(&app, &uri("check-in"), Some(&anna_cookie), None).await;
    assert_eq!((a.status, a.code()), (StatusCode::FORBIDDEN, "guide_only"));

    clock.advance(60);
    let a = post(&app, &uri("check-in"), Some(&guide), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["state"], "checked_in");
    let a = post(&app, &uri("start"), Some(&guide), None).await;
    assert_eq!(a.body["state"], "started", "{}", a.text);
    // Free text about the citizen is not an outcome category.
    let a = post(
        &app,
        &uri("end"),
        Some(&anna_cookie),
        Some(json!({"outcome": "resolved", "category": "Talked about her divorce"})),
    )
    .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_category")
    );
    let a = post(
        &app,
        &uri("end"),
        Some(&guide),
        Some(json!({"outcome": "resolved"})),
    )
    .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::FORBIDDEN, "officer_only")
    );
    let a = post(
        &app,
        &uri("end"),
        Some(&anna_cookie),
        Some(json!({"outcome": "follow_up", "category": "ansokan"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["state"], "ended");
    let again = post(
        &app,
        &uri("end"),
        Some(&anna_cookie),
        Some(json!({"outcome": "resolved"})),
    )
    .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "invalid_transition")
    );

    let history = get(&app, &uri("history"), Some(&guide)).await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.text);
    assert_eq!(
        kinds(&history),
        ["created", "checked_in", "started", "ended"]
    );
    let events = history.body.as_array().unwrap();
    assert_eq!(events[0]["actor"]["kind"], "guide");
    assert_eq!(events[3]["actor"]["kind"], "officer");
    assert_eq!(events[3]["detail"]["outcome"], "follow_up");
    assert_eq!(events[3]["detail"]["category"], "ansokan");
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    assert!(
        !history.text.contains("121212-1212") && !history.text.contains("191212121212"),
        "no personnummer in history: {}",
        history.text
    );

    // An ended meeting holds nothing: the officer and booth can be booked at that time again.
    book(&app, &guide, anna(0, demo::CITIZEN_2_PERSONNUMMER)).await;
}
on_both_databases!(a_meeting_is_checked_in_started_and_ended_with_an_outcome);

async fn reschedule_cancel_and_no_show_keep_the_history_and_free_the_slot(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let guide = login(&app, demo::GUIDE).await;
    let first = book(&app, &guide, anna(0, demo::CITIZEN_1_PERSONNUMMER)).await;
    let second = book(&app, &guide, anna(3600, demo::CITIZEN_2_PERSONNUMMER)).await;

    // Moving the first onto the second is a double booking: refused, nothing changed.
    let before = booking.store().table_counts().await.unwrap();
    let clash = post(
        &app,
        &format!("/api/v1/bookings/{first}/reschedule"),
        Some(&guide),
        Some(json!({"starts_at": at(3600 + 600), "duration_minutes": 30})),
    )
    .await;
    assert_eq!(
        (clash.status, clash.code()),
        (StatusCode::CONFLICT, "double_booking"),
        "{}",
        clash.text
    );
    assert_eq!(booking.store().table_counts().await.unwrap(), before);
    let still = get(&app, &format!("/api/v1/bookings/{first}"), Some(&guide)).await;
    assert_eq!(still.body["starts_at"], at(0));

    // Moved to a free time and to booth 2.
    let moved = post(
        &app,
        &format!("/api/v1/bookings/{first}/reschedule"),
        Some(&guide),
        Some(json!({"starts_at": at(2 * 3600), "duration_minutes": 45, "booth_id": demo::BOOTH_2})),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(moved.body["starts_at"], at(2 * 3600));
    assert_eq!(moved.body["duration_minutes"], 45);
    assert_eq!(moved.body["booth"]["name"], "Mötesrum 2");
    // Its old time is free again.
    book(&app, &guide, anna(0, demo::CITIZEN_3_PERSONNUMMER)).await;

    // Cancelling needs a reason code, not a story.
    let uri = format!("/api/v1/bookings/{second}/cancel");
    let a = post(
        &app,
        &uri,
        Some(&guide),
        Some(json!({"reason": "he was rude"})),
    )
    .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request")
    );
    let a = post(
        &app,
        &uri,
        Some(&guide),
        Some(json!({"reason": "citizen_request"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["state"], "cancelled");
    let a = post(
        &app,
        &uri,
        Some(&guide),
        Some(json!({"reason": "citizen_request"})),
    )
    .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::CONFLICT, "invalid_transition")
    );
    book(&app, &guide, anna(3600, &personnummer(1))).await;
    let h = get(
        &app,
        &format!("/api/v1/bookings/{second}/history"),
        Some(&guide),
    )
    .await;
    assert_eq!(kinds(&h), ["created", "cancelled"]);
    assert_eq!(h.body[1]["detail"]["reason"], "citizen_request");

    // No-show: only from booked; then nothing more happens to it.
    let a = post(
        &app,
        &format!("/api/v1/bookings/{first}/no-show"),
        Some(&guide),
        None,
    )
    .await;
    assert_eq!(a.body["state"], "no_show", "{}", a.text);
    let a = post(
        &app,
        &format!("/api/v1/bookings/{first}/check-in"),
        Some(&guide),
        None,
    )
    .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::CONFLICT, "invalid_transition")
    );
    let h = get(
        &app,
        &format!("/api/v1/bookings/{first}/history"),
        Some(&guide),
    )
    .await;
    assert_eq!(kinds(&h), ["created", "rescheduled", "no_show"]);

    // Only staff of the booking see or change it.
    let bjorn = login(&app, demo::OFFICER_BJORN).await;
    let a = get(&app, &format!("/api/v1/bookings/{first}"), Some(&bjorn)).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::FORBIDDEN, "not_your_booking")
    );
    let citizen = login(&app, demo::CITIZEN_1).await;
    let a = post(
        &app,
        &uri,
        Some(&citizen),
        Some(json!({"reason": "citizen_request"})),
    )
    .await;
    assert_eq!((a.status, a.code()), (StatusCode::FORBIDDEN, "staff_only"));
}
on_both_databases!(reschedule_cancel_and_no_show_keep_the_history_and_free_the_slot);

/// A resource group: officers of two agencies and an interpreter in one booking; every one of
/// them is then busy, whichever booth or officer the next booking names.
async fn a_multi_agency_booking_holds_every_officer_and_the_interpreter(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let guide = login(&app, demo::GUIDE).await;
    let mut body = anna(0, demo::CITIZEN_1_PERSONNUMMER);
    body["additional_officers"] =
        json!([{"officer_id": demo::OFFICER_SARA, "service_id": demo::SERVICE_DEKLARATION}]);
    body["interpreter_id"] = json!(demo::INTERPRETER_ARABIC);
    body["language"] = json!("ar");
    let a = post(&app, "/api/v1/bookings", Some(&guide), Some(body)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let names: Vec<&str> = a.body["officers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Anna Lindqvist", "Sara Nilsson"]);
    assert_eq!(a.body["interpreter"]["name"], "Leila Haddad");
    let id = a.body["booking_id"].as_str().unwrap().to_owned();

    // Sara, alone, in the other booth: she is taken.
    let sara = json!({
        "service_id": demo::SERVICE_DEKLARATION, "officer_id": demo::OFFICER_SARA,
        "booth_id": demo::BOOTH_2, "starts_at": at(600), "duration_minutes": 20,
        "citizen_personnummer": demo::CITIZEN_2_PERSONNUMMER,
    });
    let a = post(&app, "/api/v1/bookings", Some(&guide), Some(sara)).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::CONFLICT, "double_booking")
    );
    // Björn in booth 2 with the same interpreter: the interpreter is taken.
    let with_interpreter = json!({
        "service_id": demo::SERVICE_SJUKPENNING, "officer_id": demo::OFFICER_BJORN,
        "booth_id": demo::BOOTH_2, "starts_at": at(900), "duration_minutes": 30,
        "citizen_personnummer": demo::CITIZEN_2_PERSONNUMMER,
        "interpreter_id": demo::INTERPRETER_ARABIC, "language": "ar",
    });
    let a = post(
        &app,
        "/api/v1/bookings",
        Some(&guide),
        Some(with_interpreter.clone()),
    )
    .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::CONFLICT, "double_booking")
    );
    // Both officers join the same room.
    post(
        &app,
        &format!("/api/v1/bookings/{id}/start"),
        Some(&guide),
        None,
    )
    .await;
    for officer in [demo::OFFICER_ANNA, demo::OFFICER_SARA] {
        let cookie = login(&app, officer).await;
        let j = post(
            &app,
            &format!("/api/v1/bookings/{id}/join"),
            Some(&cookie),
            None,
        )
        .await;
        assert_eq!(j.status, StatusCode::OK, "{}", j.text);
        assert_eq!(j.body["room_id"], format!("bk-{id}"));
    }
    // Sara's agenda lists the meeting she is a second officer of.
    let sara_cookie = login(&app, demo::OFFICER_SARA).await;
    let agenda = get(&app, "/api/v1/bookings", Some(&sara_cookie)).await;
    assert_eq!(agenda.body.as_array().unwrap().len(), 1, "{}", agenda.text);
    // Cancelled while live: everyone is free again, and joining is refused.
    let a = post(
        &app,
        &format!("/api/v1/bookings/{id}/cancel"),
        Some(&guide),
        Some(json!({"reason": "technical_problem"})),
    )
    .await;
    assert_eq!(a.body["state"], "cancelled", "{}", a.text);
    let anna_cookie = login(&app, demo::OFFICER_ANNA).await;
    let j = post(
        &app,
        &format!("/api/v1/bookings/{id}/join"),
        Some(&anna_cookie),
        None,
    )
    .await;
    assert_eq!(
        (j.status, j.code()),
        (StatusCode::CONFLICT, "booking_closed")
    );
    let a = post(
        &app,
        "/api/v1/bookings",
        Some(&guide),
        Some(with_interpreter),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
}
on_both_databases!(a_multi_agency_booking_holds_every_officer_and_the_interpreter);

/// Must-show 2: 50 requests for one slot at once, each for a different new citizen. Exactly one
/// is created; the 49 others are 409 and leave no citizen, booking, history or reservation.
async fn fifty_concurrent_requests_for_one_slot_create_exactly_one(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let guide = login(&app, demo::GUIDE).await;
    let before = booking.store().table_counts().await.unwrap();
    let attempts: Vec<_> = (0..50)
        .map(|i| {
            let (app, guide) = (app.clone(), guide.clone());
            // Different officers' colleagues would not clash; the same officer and booth must.
            let body = anna(i * 20, &personnummer(100 + i as u32));
            tokio::spawn(
                async move { post(&app, "/api/v1/bookings", Some(&guide), Some(body)).await },
            )
        })
        .collect();
    let (mut created, mut refused) = (0, 0);
    for a in attempts {
        let a = a.await.unwrap();
        match a.status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {
                assert_eq!(a.code(), "double_booking", "{}", a.text);
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", a.text),
        }
    }
    assert_eq!((created, refused), (1, 49));
    let after = booking.store().table_counts().await.unwrap();
    let grew: Vec<(&str, i64)> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| a.1 != b.1)
        .map(|(b, a)| (b.0, a.1 - b.1))
        .collect();
    assert_eq!(
        grew,
        [
            ("citizens", 1),
            ("bookings", 1),
            ("booking_officers", 1),
            ("booking_events", 1),
            ("reservations", 2),
        ]
    );
}
on_both_databases!(fifty_concurrent_requests_for_one_slot_create_exactly_one);
