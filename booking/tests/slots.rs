//! Slot search through the HTTP API on the demo centre (open 09:00–16:00 on weekdays; officers
//! work 08:00–17:00). The clock stands at Monday 2026-06-15 10:00 Swedish time.

mod common;

use axum::http::StatusCode;
use booking::demo;
use common::*;
use serde_json::{Value, json};

const MONDAY: &str = "2026-06-15";

fn search(extra: Value) -> Value {
    let mut body = json!({
        "centre_id": demo::CENTRE_LJUSDAL, "service_id": demo::SERVICE_FORALDRAPENNING,
        "from": MONDAY, "to": MONDAY,
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

/// `(start offset from T0 in minutes, officer names, booth name, interpreter name)` per slot.
fn slots(a: &Answer) -> Vec<(i64, Vec<String>, String, Option<String>)> {
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    a.body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let starts = time::OffsetDateTime::parse(
                s["starts_at"].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap()
            .unix_timestamp();
            (
                (starts - T0) / 60,
                s["officers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["name"].as_str().unwrap().to_owned())
                    .collect(),
                s["booth"]["name"].as_str().unwrap().to_owned(),
                s["interpreter"]["name"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn booking_at(
    officer: booking::ids::OfficerId,
    service: booking::ids::ServiceId,
    booth: booking::ids::BoothId,
    offset_minutes: i64,
    minutes: i64,
) -> Value {
    json!({
        "service_id": service, "officer_id": officer, "booth_id": booth,
        "starts_at": at(offset_minutes * 60), "duration_minutes": minutes,
        "citizen_personnummer": demo::CITIZEN_3_PERSONNUMMER,
    })
}

async fn slot_search_offers_times_when_officer_booth_and_interpreter_are_free(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let guide = login(&app, demo::GUIDE).await;
    let url = "/api/v1/slots/search";

    // From now (10:00) in 15-minute steps, 30 minutes (the service's default), Anna first by name.
    let free = slots(&post(&app, url, Some(&guide), Some(search(json!({"limit": 3})))).await);
    assert_eq!(
        free.iter()
            .map(|s| (s.0, s.1[0].as_str()))
            .collect::<Vec<_>>(),
        [
            (0, "Anna Lindqvist"),
            (15, "Anna Lindqvist"),
            (30, "Anna Lindqvist")
        ]
    );
    // The last slot of the day ends at closing time, 16:00.
    let all = slots(&post(&app, url, Some(&guide), Some(search(json!({"limit": 200})))).await);
    assert_eq!(all.last().unwrap().0, 5 * 60 + 30);
    assert_eq!(all.len(), 23);

    // Anna is booked 10:00–10:30 in booth 1.
    let a = post(
        &app,
        "/api/v1/bookings",
        Some(&guide),
        Some(booking_at(
            demo::OFFICER_ANNA,
            demo::SERVICE_FORALDRAPENNING,
            demo::BOOTH_1,
            0,
            30,
        )),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let named = slots(
        &post(
            &app,
            url,
            Some(&guide),
            Some(search(
                json!({"officer_id": demo::OFFICER_ANNA, "limit": 1}),
            )),
        )
        .await,
    );
    assert_eq!((named[0].0, named[0].1[0].as_str()), (30, "Anna Lindqvist"));
    let anyone = slots(&post(&app, url, Some(&guide), Some(search(json!({"limit": 1})))).await);
    assert_eq!(
        (anyone[0].0, anyone[0].1[0].as_str(), anyone[0].2.as_str()),
        (0, "Björn Eriksson", "Mötesrum 2")
    );

    // Only booth 2 is wheelchair accessible; taken 10:30–11:00 by Sara.
    let a = post(
        &app,
        "/api/v1/bookings",
        Some(&guide),
        Some(booking_at(
            demo::OFFICER_SARA,
            demo::SERVICE_DEKLARATION,
            demo::BOOTH_2,
            30,
            30,
        )),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let accessible = slots(
        &post(
            &app,
            url,
            Some(&guide),
            Some(search(
                json!({"needs": {"accessible_booth": true}, "limit": 4}),
            )),
        )
        .await,
    );
    assert_eq!(
        accessible
            .iter()
            .map(|s| (s.0, s.2.as_str()))
            .collect::<Vec<_>>(),
        [
            (0, "Mötesrum 2"),
            (60, "Mötesrum 2"),
            (75, "Mötesrum 2"),
            (90, "Mötesrum 2")
        ]
    );

    // Arabic without an interpreter: only Björn speaks it.
    let arabic = slots(
        &post(
            &app,
            url,
            Some(&guide),
            Some(search(json!({"language": "ar", "limit": 50}))),
        )
        .await,
    );
    assert!(!arabic.is_empty());
    assert!(
        arabic.iter().all(|s| s.1 == ["Björn Eriksson"]),
        "{arabic:?}"
    );
    // Sign language: an interpreter who signs, in every slot; taken 11:00–12:00.
    let a = post(
        &app,
        "/api/v1/bookings",
        Some(&guide),
        Some({
            let mut b = booking_at(
                demo::OFFICER_BJORN,
                demo::SERVICE_SJUKPENNING,
                demo::BOOTH_1,
                60,
                60,
            );
            b["interpreter_id"] = json!(demo::INTERPRETER_SIGN);
            b["language"] = json!("swl");
            b
        }),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let signed = slots(
        &post(
            &app,
            url,
            Some(&guide),
            Some(search(
                json!({"needs": {"sign_language": true}, "limit": 200}),
            )),
        )
        .await,
    );
    assert!(
        signed
            .iter()
            .all(|s| s.3.as_deref() == Some("Johan Teckensson"))
    );
    assert!(
        signed.iter().all(|s| s.0 + 30 <= 60 || s.0 >= 120),
        "{signed:?}"
    );
    assert!(signed.iter().any(|s| s.0 == 120));
    // An interpreter without a language is a question the search cannot answer.
    let a = post(
        &app,
        url,
        Some(&guide),
        Some(search(json!({"needs": {"interpreter": true}}))),
    )
    .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "language_required")
    );
}
on_both_databases!(slot_search_offers_times_when_officer_booth_and_interpreter_are_free);

async fn multi_agency_search_finds_a_common_time(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let guide = login(&app, demo::GUIDE).await;
    // Sara (Skatteverket) is busy 10:00–10:20, Anna 10:30–11:00 and Björn 10:30–11:30.
    for body in [
        booking_at(
            demo::OFFICER_SARA,
            demo::SERVICE_DEKLARATION,
            demo::BOOTH_2,
            0,
            20,
        ),
        booking_at(
            demo::OFFICER_ANNA,
            demo::SERVICE_FORALDRAPENNING,
            demo::BOOTH_1,
            30,
            30,
        ),
        booking_at(
            demo::OFFICER_BJORN,
            demo::SERVICE_SJUKPENNING,
            demo::BOOTH_2,
            30,
            60,
        ),
    ] {
        let a = post(&app, "/api/v1/bookings", Some(&guide), Some(body)).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    }
    let found = slots(
        &post(
            &app,
            "/api/v1/slots/search",
            Some(&guide),
            Some(search(
                json!({"additional_service_ids": [demo::SERVICE_DEKLARATION], "limit": 3}),
            )),
        )
        .await,
    );
    // 10:30 and 10:45 have Sara but neither Föräldrapenning officer; 10:15 overlaps Sara.
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        found[0],
        (
            60,
            names(&["Anna Lindqvist", "Sara Nilsson"]),
            "Mötesrum 1".into(),
            None
        )
    );
    assert!(found.iter().all(|s| s.0 >= 60 && s.1[1] == "Sara Nilsson"));
    // Booking that slot as one meeting works.
    let mut body = booking_at(
        demo::OFFICER_ANNA,
        demo::SERVICE_FORALDRAPENNING,
        demo::BOOTH_1,
        60,
        30,
    );
    body["additional_officers"] =
        json!([{"officer_id": demo::OFFICER_SARA, "service_id": demo::SERVICE_DEKLARATION}]);
    let a = post(&app, "/api/v1/bookings", Some(&guide), Some(body)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
}
on_both_databases!(multi_agency_search_finds_a_common_time);

async fn the_citizens_own_officer_is_offered_first(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let guide = login(&app, demo::GUIDE).await;
    // Last week Astrid met Björn about föräldrapenning.
    let mut last_week = booking_at(
        demo::OFFICER_BJORN,
        demo::SERVICE_FORALDRAPENNING,
        demo::BOOTH_1,
        -7 * 24 * 60,
        30,
    );
    last_week["citizen_personnummer"] = json!(demo::CITIZEN_2_PERSONNUMMER);
    let a = post(&app, "/api/v1/bookings", Some(&guide), Some(last_week)).await;
    let id = a.body["booking_id"].as_str().unwrap().to_owned();
    post(
        &app,
        &format!("/api/v1/bookings/{id}/start"),
        Some(&guide),
        None,
    )
    .await;
    let bjorn = login(&app, demo::OFFICER_BJORN).await;
    let a = post(
        &app,
        &format!("/api/v1/bookings/{id}/end"),
        Some(&bjorn),
        Some(json!({"outcome": "follow_up"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);

    let url = "/api/v1/slots/search";
    let theirs = post(
        &app,
        url,
        Some(&guide),
        Some(search(
            json!({"citizen_personnummer": demo::CITIZEN_2_PERSONNUMMER, "limit": 2}),
        )),
    )
    .await;
    assert_eq!(
        theirs.body["continuity_officer_id"],
        json!(demo::OFFICER_BJORN)
    );
    let s = slots(&theirs);
    assert!(s.iter().all(|s| s.1 == ["Björn Eriksson"]), "{s:?}");
    assert_eq!(theirs.body["slots"][0]["continuity"], true);
    // Someone without history gets the usual order (Anna first).
    let other = post(
        &app,
        url,
        Some(&guide),
        Some(search(
            json!({"citizen_personnummer": demo::CITIZEN_1_PERSONNUMMER, "limit": 1}),
        )),
    )
    .await;
    assert_eq!(other.body["continuity_officer_id"], Value::Null);
    assert_eq!(slots(&other)[0].1, ["Anna Lindqvist"]);
    // The look-up by personnummer was logged as an access.
    let log = booking
        .store()
        .access_log_for_citizen(demo::CITIZEN_2)
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "citizen.find_by_personnummer")
    );

    // Björn away all Monday: his times are gone, Anna's remain.
    let anna_admin = login(&app, demo::OFFICER_ANNA).await;
    let mut profile = get(
        &app,
        &format!("/api/v1/officers/{}", demo::OFFICER_BJORN),
        Some(&anna_admin),
    )
    .await
    .body;
    profile["absences"] = json!([{"starts_at": at(-10 * 3600), "ends_at": at(14 * 3600)}]);
    let a = put(
        &app,
        &format!("/api/v1/officers/{}", demo::OFFICER_BJORN),
        Some(&anna_admin),
        Some(profile),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let theirs = slots(
        &post(
            &app,
            url,
            Some(&guide),
            Some(search(
                json!({"citizen_personnummer": demo::CITIZEN_2_PERSONNUMMER, "limit": 200}),
            )),
        )
        .await,
    );
    assert!(!theirs.is_empty() && theirs.iter().all(|s| s.1 == ["Anna Lindqvist"]));
    // The centre closed on Monday afternoon: nothing after 13:00.
    let mut centre = get(
        &app,
        &format!("/api/v1/centres/{}", demo::CENTRE_LJUSDAL),
        Some(&guide),
    )
    .await
    .body;
    centre["closures"] =
        json!([{"starts_at": at(3 * 3600), "ends_at": at(10 * 3600), "reason": "Personalmöte"}]);
    let a = put(
        &app,
        &format!("/api/v1/centres/{}", demo::CENTRE_LJUSDAL),
        Some(&guide),
        Some(centre),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let open_only =
        slots(&post(&app, url, Some(&guide), Some(search(json!({"limit": 200})))).await);
    assert_eq!(open_only.last().unwrap().0, 3 * 60 - 30);
}
on_both_databases!(the_citizens_own_officer_is_offered_first);

async fn a_search_reads_on_when_the_first_officers_are_all_busy(db: &TestDb) {
    use booking::schedule::{Period, WeeklyHours};
    use booking::store::{Officer, Resource};
    let (booking, _) = open(db).await;
    // 40 more officers for föräldrapenning whose names come before the demo's; all but the last
    // are away 10:00–10:30. The search reads the first few officers by name at first, so it
    // must read on to find "Aaa 39" free at 10:00 (and, after 10:30, "Aaa 00" again first).
    for n in 0..40 {
        let officer = Officer {
            id: booking::ids::OfficerId::new(),
            agency_id: demo::AGENCY_FORSAKRINGSKASSAN,
            display_name: format!("Aaa {n:02}"),
            services: vec![demo::SERVICE_FORALDRAPENNING],
            languages: vec!["sv".into()],
            working_hours: WeeklyHours::weekdays(8 * 60, 17 * 60),
            absences: if n < 39 {
                vec![Period::new(T0, T0 + 30 * 60)]
            } else {
                vec![]
            },
            ..Default::default()
        };
        booking
            .store()
            .create_resource(&Resource::Officer(officer))
            .await
            .unwrap();
    }
    let app = booking.router();
    let guide = login(&app, demo::GUIDE).await;
    let found = slots(
        &post(
            &app,
            "/api/v1/slots/search",
            Some(&guide),
            Some(search(json!({"limit": 4}))),
        )
        .await,
    );
    let got: Vec<(i64, &str)> = found.iter().map(|s| (s.0, s.1[0].as_str())).collect();
    assert_eq!(
        got,
        [
            (0, "Aaa 39"),
            (15, "Aaa 39"),
            (30, "Aaa 00"),
            (45, "Aaa 00")
        ]
    );
}
on_both_databases!(a_search_reads_on_when_the_first_officers_are_all_busy);
