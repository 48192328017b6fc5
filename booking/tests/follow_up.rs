//! Follow-up: outcomes, survey answers, feedback and call quality add up to the figures each
//! admin sees for their own agency or centre.

mod common;

use axum::http::StatusCode;
use booking::demo;
use booking::store::CallQuality;
use common::*;
use serde_json::{Value, json};

async fn meeting(
    app: &axum::Router,
    guide: &str,
    officer: booking::ids::OfficerId,
    service: booking::ids::ServiceId,
    offset_minutes: i64,
    citizen: &str,
) -> String {
    let a = post(
        app,
        "/api/v1/bookings",
        Some(guide),
        Some(json!({
            "service_id": service, "officer_id": officer, "booth_id": demo::BOOTH_1,
            "starts_at": at(offset_minutes * 60), "duration_minutes": 20,
            "citizen_personnummer": citizen,
        })),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.body["booking_id"].as_str().unwrap().to_owned()
}

/// The figures for Monday 2026-06-15 as `cookie` sees them.
async fn figures(app: &axum::Router, cookie: &str, query: &str) -> Value {
    let a = get(
        app,
        &format!("/api/v1/follow-up?from=2026-06-15&to=2026-06-15{query}"),
        Some(cookie),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    a.body
}

async fn follow_up_figures_add_up_per_agency_and_centre(db: &TestDb) {
    let (booking, clock) = open(db).await;
    let app = booking.router();
    let guide = login(&app, demo::GUIDE).await;
    let anna = login(&app, demo::OFFICER_ANNA).await;
    let sara = login(&app, demo::OFFICER_SARA).await;
    let citizen = login(&app, demo::CITIZEN_1).await;

    // Försäkringskassan: two meetings held (resolved after a 5-minute wait; referred), one
    // no-show. Skatteverket: one meeting held, follow-up.
    let held = meeting(
        &app,
        &guide,
        demo::OFFICER_ANNA,
        demo::SERVICE_FORALDRAPENNING,
        0,
        demo::CITIZEN_1_PERSONNUMMER,
    )
    .await;
    let second = meeting(
        &app,
        &guide,
        demo::OFFICER_ANNA,
        demo::SERVICE_SJUKPENNING,
        30,
        demo::CITIZEN_2_PERSONNUMMER,
    )
    .await;
    let absent = meeting(
        &app,
        &guide,
        demo::OFFICER_BJORN,
        demo::SERVICE_SJUKPENNING,
        60,
        demo::CITIZEN_3_PERSONNUMMER,
    )
    .await;
    let tax = meeting(
        &app,
        &guide,
        demo::OFFICER_SARA,
        demo::SERVICE_DEKLARATION,
        90,
        demo::CITIZEN_1_PERSONNUMMER,
    )
    .await;
    let survey_uri = format!("/api/v1/bookings/{held}/survey");
    let a = post(
        &app,
        &survey_uri,
        Some(&citizen),
        Some(json!({"satisfaction": 4, "got_help": true})),
    )
    .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::CONFLICT, "meeting_not_ended"),
        "{}",
        a.text
    );

    post(
        &app,
        &format!("/api/v1/bookings/{held}/check-in"),
        Some(&guide),
        None,
    )
    .await;
    clock.advance(300);
    post(
        &app,
        &format!("/api/v1/bookings/{held}/start"),
        Some(&guide),
        None,
    )
    .await;
    for (id, who, outcome) in [
        (&held, &anna, "resolved"),
        (&second, &anna, "referred"),
        (&tax, &sara, "follow_up"),
    ] {
        post(
            &app,
            &format!("/api/v1/bookings/{id}/start"),
            Some(&guide),
            None,
        )
        .await;
        let a = post(
            &app,
            &format!("/api/v1/bookings/{id}/end"),
            Some(who),
            Some(json!({"outcome": outcome})),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    }
    post(
        &app,
        &format!("/api/v1/bookings/{absent}/no-show"),
        Some(&guide),
        None,
    )
    .await;

    // The citizen answers once, for their own meeting only.
    let a = post(
        &app,
        &survey_uri,
        Some(&citizen),
        Some(json!({"satisfaction": 6, "got_help": true})),
    )
    .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_satisfaction")
    );
    let a = post(
        &app,
        &survey_uri,
        Some(&citizen),
        Some(json!({"satisfaction": 4, "got_help": true})),
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    let a = post(
        &app,
        &survey_uri,
        Some(&citizen),
        Some(json!({"satisfaction": 5, "got_help": true})),
    )
    .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::CONFLICT, "already_answered")
    );
    let other = login(&app, demo::CITIZEN_2).await;
    let a = post(
        &app,
        &survey_uri,
        Some(&other),
        Some(json!({"satisfaction": 1, "got_help": false})),
    )
    .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::FORBIDDEN, "not_a_participant")
    );
    let a = post(
        &app,
        &format!("/api/v1/bookings/{second}/survey"),
        Some(&other),
        Some(json!({"satisfaction": 2, "got_help": false})),
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);

    // Feedback: codes only.
    for (who, body) in [
        (
            &citizen,
            json!({"centre_id": demo::CENTRE_LJUSDAL, "agency_id": demo::AGENCY_FORSAKRINGSKASSAN,
                          "booking_id": second, "kind": "complaint", "category": "waiting_time"}),
        ),
        (
            &guide,
            json!({"centre_id": demo::CENTRE_LJUSDAL, "kind": "suggestion", "category": "accessibility"}),
        ),
    ] {
        let a = post(&app, "/api/v1/feedback", Some(who), Some(body)).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    }
    let a = post(
        &app,
        "/api/v1/feedback",
        Some(&citizen),
        Some(json!({"centre_id": demo::CENTRE_LJUSDAL, "kind": "complaint", "category": "Officer Anna was rude"})),
    )
    .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_category")
    );

    // The media side's summaries.
    for (id, rtt, loss, poor) in [(&held, 40, 5, 0), (&second, 120, 35, 60)] {
        booking
            .store()
            .record_call_quality(
                id.parse().unwrap(),
                &CallQuality {
                    mean_rtt_ms: rtt,
                    loss_per_mille: loss,
                    poor_seconds: poor,
                },
                T0,
            )
            .await
            .unwrap();
    }

    // Anna administers Försäkringskassan: she sees its figures, whatever agency she asks for.
    let fk = figures(&app, &anna, "").await;
    let expect = |v: &Value, field: &str, want: Value| assert_eq!(v[field], want, "{field}: {v}");
    for (field, want) in [
        ("bookings", json!(3)),
        ("meetings", json!(2)),
        ("no_shows", json!(1)),
        ("resolved", json!(1)),
        ("referred", json!(1)),
        ("follow_up", json!(0)),
        ("share_resolved", json!(0.5)),
        ("mean_wait_seconds", json!(300.0)),
        ("survey_answers", json!(2)),
        ("mean_satisfaction", json!(3.0)),
        ("share_got_help", json!(0.5)),
        ("complaints", json!(1)),
        ("suggestions", json!(0)),
        ("calls_reported", json!(2)),
        ("mean_rtt_ms", json!(80.0)),
        ("mean_loss_per_mille", json!(20.0)),
        ("mean_poor_seconds", json!(30.0)),
    ] {
        expect(&fk, field, want);
    }
    // Asking for another agency's figures is refused, not quietly answered with one's own.
    let asked_for_other = format!(
        "/api/v1/follow-up?from=2026-06-15&to=2026-06-15&agency_id={}",
        demo::AGENCY_SKATTEVERKET
    );
    let a = get(&app, &asked_for_other, Some(&anna)).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::FORBIDDEN, "outside_your_scope"),
        "{}",
        a.text
    );
    // The refusal is on record for Försäkringskassan's auditor.
    let karin = login(&app, demo::OFFICER_KARIN_AUDITOR).await;
    let period = format!(
        "from={}&until={}",
        at(-86_400).replace('+', "%2B").replace(':', "%3A"),
        at(86_400).replace('+', "%2B").replace(':', "%3A")
    );
    let log = get(&app, &format!("/api/v1/access-log?{period}"), Some(&karin)).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    assert!(
        log.body["entries"].as_array().unwrap().iter().any(|e| {
            e["actor_id"] == demo::OFFICER_ANNA.to_string().as_str()
                && e["action"] == "authz.refused"
                && e["reason"] == "outside_your_scope: follow-up figures"
        }),
        "{}",
        log.text
    );
    let own = format!("&agency_id={}", demo::AGENCY_FORSAKRINGSKASSAN);
    assert_eq!(figures(&app, &anna, &own).await, fk);
    // Försäkringskassan's analyst sees the same; Skatteverket's is refused them.
    let lena = login(&app, demo::OFFICER_LENA_ANALYST).await;
    assert_eq!(figures(&app, &lena, "").await, fk);
    let omar = login(&app, demo::OFFICER_OMAR_ANALYST).await;
    let a = get(
        &app,
        &asked_for_other.replace(
            &demo::AGENCY_SKATTEVERKET.to_string(),
            &demo::AGENCY_FORSAKRINGSKASSAN.to_string(),
        ),
        Some(&omar),
    )
    .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::FORBIDDEN, "outside_your_scope"),
        "{}",
        a.text
    );
    // The wait figures: one wait of 300 s.
    expect(&fk, "waits_measured", json!(1));
    expect(&fk, "median_wait_seconds", json!(300.0));
    expect(&fk, "p90_wait_seconds", json!(300.0));
    expect(&fk, "satisfaction_counts", json!([0, 1, 0, 1, 0]));
    expect(
        &fk,
        "feedback_by_category",
        json!([{"kind": "complaint", "category": "waiting_time", "count": 1}]),
    );
    // Sara, Skatteverket: one meeting, follow-up, no answers.
    let tax_figures = figures(&app, &sara, "").await;
    expect(&tax_figures, "meetings", json!(1));
    expect(&tax_figures, "follow_up", json!(1));
    expect(&tax_figures, "mean_satisfaction", Value::Null);
    // Maria, the centre: everything held there, both feedbacks.
    let centre = figures(&app, &guide, "").await;
    // Per, Ljusdal's analyst, sees what the centre's admin sees.
    let per = login(&app, demo::GUIDE_PER_ANALYST).await;
    assert_eq!(figures(&app, &per, "").await, centre);
    expect(&centre, "bookings", json!(4));
    expect(&centre, "meetings", json!(3));
    expect(&centre, "complaints", json!(1));
    expect(&centre, "suggestions", json!(1));
    // Another day holds nothing.
    let a = get(
        &app,
        "/api/v1/follow-up?from=2026-06-16&to=2026-06-20",
        Some(&guide),
    )
    .await;
    expect(&a.body, "bookings", json!(0));
    expect(&a.body, "share_resolved", Value::Null);
    for bad in [
        "from=2026-02-30&to=2026-03-01",
        "from=2026-06-15",
        "from=2026-06-15&to=2026-06-16&centre_id=x'--",
    ] {
        let a = get(&app, &format!("/api/v1/follow-up?{bad}"), Some(&guide)).await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            a.text
        );
    }
    // The survey is in the meeting's history.
    let h = get(
        &app,
        &format!("/api/v1/bookings/{held}/history"),
        Some(&guide),
    )
    .await;
    assert_eq!(
        h.body.as_array().unwrap().last().unwrap()["kind"],
        "survey_answered"
    );
}
on_both_databases!(follow_up_figures_add_up_per_agency_and_centre);
