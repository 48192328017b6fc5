//! The booth's kiosk calls the guide and answers the survey after the meeting: a help call is
//! one per booth until a guide of its centre answers it; the kiosk answers the survey only for
//! its own booth's ended meeting, and gives feedback only for its own centre.

mod common;

use axum::Router;
use axum::http::{StatusCode, header};
use booking::demo;
use common::*;
use serde_json::json;

/// Booth 1's kiosk, enrolled with a code from the centre admin; returns its `Cookie` value.
async fn kiosk(app: &Router) -> String {
    let admin = login(app, demo::GUIDE).await;
    let code = post(
        app,
        &format!("/api/v1/booths/{}/enrolment-code", demo::BOOTH_1),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(code.status, StatusCode::CREATED, "{}", code.text);
    let a = post(
        app,
        "/api/v1/booth-device/enrol",
        None,
        Some(json!({ "code": code.body["code"] })),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("narvaro_device="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn kiosk_help_call_is_one_per_booth_until_a_guide_answers(db: &TestDb) {
    let (booking, _clock) = open(db).await;
    let app = booking.router();
    let kiosk = kiosk(&app).await;
    let guide = login(&app, demo::GUIDE).await;
    let citizen = login(&app, demo::CITIZEN_1).await;

    let first = post(
        &app,
        "/api/v1/booth-device/help",
        Some(&kiosk),
        Some(json!({"reason": "identification"})),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.body["booth_id"], json!(demo::BOOTH_1));
    assert_eq!(first.body["reason"], "identification");
    // A second press (a double tap) while the guide is on the way: the same call.
    let again = post(
        &app,
        "/api/v1/booth-device/help",
        Some(&kiosk),
        Some(json!({"reason": "meeting"})),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.body["id"], first.body["id"]);

    // Only a kiosk calls; a reason is a code.
    let by_citizen = post(
        &app,
        "/api/v1/booth-device/help",
        Some(&citizen),
        Some(json!({"reason": "other"})),
    )
    .await;
    assert_eq!(by_citizen.status, StatusCode::FORBIDDEN);
    let free_text = post(
        &app,
        "/api/v1/booth-device/help",
        Some(&kiosk),
        Some(json!({"reason": "my name is Tolvan"})),
    )
    .await;
    assert_eq!(free_text.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The centre's guide sees the call and answers it, once.
    let open_calls = get(&app, "/api/v1/help-calls", Some(&guide)).await;
    assert_eq!(open_calls.status, StatusCode::OK, "{}", open_calls.text);
    assert_eq!(open_calls.body.as_array().unwrap().len(), 1);
    assert_eq!(open_calls.body[0]["booth_name"], "Mötesrum 1");
    let id = first.body["id"].as_str().unwrap();
    let answered = post(
        &app,
        &format!("/api/v1/help-calls/{id}/answer"),
        Some(&guide),
        None,
    )
    .await;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.text);
    assert_eq!(answered.body["answered_by"], json!(demo::GUIDE));
    let twice = post(
        &app,
        &format!("/api/v1/help-calls/{id}/answer"),
        Some(&guide),
        None,
    )
    .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(twice.code(), "already_answered");
    let unknown = post(
        &app,
        &format!("/api/v1/help-calls/{}/answer", uuid::Uuid::new_v4()),
        Some(&guide),
        None,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "help_call_not_found");
    let none_open = get(&app, "/api/v1/help-calls", Some(&guide)).await;
    assert_eq!(none_open.body, json!([]));

    // The next press is a new call.
    let next = post(
        &app,
        "/api/v1/booth-device/help",
        Some(&kiosk),
        Some(json!({"reason": "meeting"})),
    )
    .await;
    assert_eq!(next.status, StatusCode::CREATED, "{}", next.text);
    assert_ne!(next.body["id"], first.body["id"]);
}
on_both_databases!(kiosk_help_call_is_one_per_booth_until_a_guide_answers);

async fn kiosk_answers_the_survey_of_its_own_booths_ended_meeting(db: &TestDb) {
    let (booking, _clock) = open(db).await;
    let app = booking.router();
    let kiosk = kiosk(&app).await;
    let guide = login(&app, demo::GUIDE).await;
    let anna = login(&app, demo::OFFICER_ANNA).await;
    let id = book_citizen_1(&app, 300).await;
    let survey = format!("/api/v1/bookings/{id}/survey");
    let answer = json!({"satisfaction": 5, "got_help": true});

    let early = post(&app, &survey, Some(&kiosk), Some(answer.clone())).await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text);
    assert_eq!(early.code(), "meeting_not_ended");
    for step in ["check-in", "start"] {
        let a = post(
            &app,
            &format!("/api/v1/bookings/{id}/{step}"),
            Some(&guide),
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{step}: {}", a.text);
    }
    let end = post(
        &app,
        &format!("/api/v1/bookings/{id}/end"),
        Some(&anna),
        Some(json!({"outcome": "resolved"})),
    )
    .await;
    assert_eq!(end.status, StatusCode::OK, "{}", end.text);

    // Staff cannot answer for the citizen.
    let by_guide = post(&app, &survey, Some(&guide), Some(answer.clone())).await;
    assert_eq!(by_guide.status, StatusCode::FORBIDDEN);
    let a = post(&app, &survey, Some(&kiosk), Some(answer.clone())).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    let twice = post(&app, &survey, Some(&kiosk), Some(answer)).await;
    assert_eq!(twice.code(), "already_answered");
    let history = get(
        &app,
        &format!("/api/v1/bookings/{id}/history"),
        Some(&guide),
    )
    .await;
    assert!(
        history.text.contains("survey_answered"),
        "the survey is in the history: {}",
        history.text
    );

    // Feedback from the kiosk: its own centre and booth's booking, as codes.
    let feedback = |centre: serde_json::Value| json!({"centre_id": centre, "booking_id": id, "kind": "suggestion", "category": "accessibility"});
    let ours = post(
        &app,
        "/api/v1/feedback",
        Some(&kiosk),
        Some(feedback(json!(demo::CENTRE_LJUSDAL))),
    )
    .await;
    assert_eq!(ours.status, StatusCode::CREATED, "{}", ours.text);
    let elsewhere = post(
        &app,
        "/api/v1/feedback",
        Some(&kiosk),
        Some(feedback(json!(uuid::Uuid::new_v4()))),
    )
    .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::FORBIDDEN,
        "{}",
        elsewhere.text
    );
    assert_eq!(elsewhere.code(), "not_your_centre");
}
on_both_databases!(kiosk_answers_the_survey_of_its_own_booths_ended_meeting);
