//! The drop-in queue: tickets in order per centre and agency, place and estimated wait, officers
//! calling the next citizen they can serve, and tickets closed once.

mod common;

use axum::http::StatusCode;
use booking::demo;
use common::*;
use serde_json::json;

async fn drop_in_citizens_wait_in_order_for_an_officer_of_their_agency(db: &TestDb) {
    let (booking, clock) = open(db).await;
    let app = booking.router();
    let guide = login(&app, demo::GUIDE).await;
    let mut tickets = Vec::new();
    // Two for Försäkringskassan, one for Skatteverket, one more for Försäkringskassan.
    for service in [
        demo::SERVICE_SJUKPENNING,
        demo::SERVICE_FORALDRAPENNING,
        demo::SERVICE_DEKLARATION,
        demo::SERVICE_SJUKPENNING,
    ] {
        clock.advance(60);
        let a = post(
            &app,
            "/api/v1/drop-in",
            Some(&guide),
            Some(json!({"service_id": service})),
        )
        .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        assert!(
            !a.text.contains("citizen"),
            "a ticket carries no citizen data: {}",
            a.text
        );
        tickets.push(a.body);
    }
    let numbers: Vec<i64> = tickets
        .iter()
        .map(|t| t["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2, 3, 4]);
    let places: Vec<i64> = tickets
        .iter()
        .map(|t| t["position"].as_i64().unwrap())
        .collect();
    // Places count per agency: Skatteverket's ticket is first in its own queue.
    assert_eq!(places, [1, 2, 1, 3]);
    // Two officers handle sjukpenning (30 minutes): the third in line waits one round.
    let waits: Vec<i64> = tickets
        .iter()
        .map(|t| t["estimated_wait_minutes"].as_i64().unwrap())
        .collect();
    assert_eq!(waits, [0, 0, 0, 30]);

    // Sara (Skatteverket) gets the Skatteverket ticket though it came later.
    let sara = login(&app, demo::OFFICER_SARA).await;
    let next = json!({"centre_id": demo::CENTRE_LJUSDAL});
    let a = post(
        &app,
        "/api/v1/drop-in/next",
        Some(&sara),
        Some(next.clone()),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(
        (a.body["number"].as_i64(), a.body["state"].as_str()),
        (Some(3), Some("called"))
    );
    assert_eq!(a.body["officer_id"], json!(demo::OFFICER_SARA));
    let a = post(
        &app,
        "/api/v1/drop-in/next",
        Some(&sara),
        Some(next.clone()),
    )
    .await;
    assert_eq!((a.status, a.code()), (StatusCode::NOT_FOUND, "queue_empty"));
    // Anna and Björn take the first two Försäkringskassan tickets; the last moves up.
    for (officer, number) in [(demo::OFFICER_ANNA, 1), (demo::OFFICER_BJORN, 2)] {
        let cookie = login(&app, officer).await;
        let a = post(
            &app,
            "/api/v1/drop-in/next",
            Some(&cookie),
            Some(next.clone()),
        )
        .await;
        assert_eq!(a.body["number"].as_i64(), Some(number), "{}", a.text);
    }
    let last = tickets[3]["id"].as_str().unwrap();
    let a = get(&app, &format!("/api/v1/drop-in/{last}"), Some(&guide)).await;
    assert_eq!(
        (
            a.body["position"].as_i64(),
            a.body["estimated_wait_minutes"].as_i64()
        ),
        (Some(1), Some(0))
    );

    // The citizen leaves; a closed ticket stays closed and out of the queue.
    let close = format!("/api/v1/drop-in/{last}/close");
    let a = post(&app, &close, Some(&guide), Some(json!({"state": "left"}))).await;
    assert_eq!(a.body["state"], "left", "{}", a.text);
    assert_eq!(a.body["position"], serde_json::Value::Null);
    let a = post(&app, &close, Some(&guide), Some(json!({"state": "served"}))).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::CONFLICT, "ticket_closed")
    );
    let anna = login(&app, demo::OFFICER_ANNA).await;
    let a = post(&app, "/api/v1/drop-in/next", Some(&anna), Some(next)).await;
    assert_eq!((a.status, a.code()), (StatusCode::NOT_FOUND, "queue_empty"));
    // Only guides issue tickets.
    let a = post(
        &app,
        "/api/v1/drop-in",
        Some(&anna),
        Some(json!({"service_id": demo::SERVICE_DEKLARATION})),
    )
    .await;
    assert_eq!((a.status, a.code()), (StatusCode::FORBIDDEN, "guide_only"));
}
on_both_databases!(drop_in_citizens_wait_in_order_for_an_officer_of_their_agency);

/// Officers calling at once each get a different citizen.
async fn officers_calling_at_once_get_different_tickets(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let guide = login(&app, demo::GUIDE).await;
    for _ in 0..2 {
        let a = post(
            &app,
            "/api/v1/drop-in",
            Some(&guide),
            Some(json!({"service_id": demo::SERVICE_SJUKPENNING})),
        )
        .await;
        assert_eq!(a.status, StatusCode::CREATED);
    }
    let calls: Vec<_> = [demo::OFFICER_ANNA, demo::OFFICER_BJORN]
        .into_iter()
        .map(|officer| {
            let app = app.clone();
            tokio::spawn(async move {
                let cookie = login(&app, officer).await;
                let next = json!({"centre_id": demo::CENTRE_LJUSDAL});
                post(&app, "/api/v1/drop-in/next", Some(&cookie), Some(next)).await
            })
        })
        .collect();
    let mut numbers = Vec::new();
    for c in calls {
        let a = c.await.unwrap();
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        numbers.push(a.body["number"].as_i64().unwrap());
    }
    numbers.sort();
    assert_eq!(numbers, [1, 2]);
}
on_both_databases!(officers_calling_at_once_get_different_tickets);
