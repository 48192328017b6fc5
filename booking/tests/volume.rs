//! The volume-data generator on a small scale: what it reports is what is stored, and the slot
//! search works on what it made.

mod common;

use axum::http::StatusCode;
use booking::volume::{VolumeSpec, generate};
use common::*;
use serde_json::json;

async fn generated_volume_is_stored_and_searchable(db: &TestDb) {
    let (booking, _) = open(db).await;
    let before = booking.store().table_counts().await.unwrap();
    let spec = VolumeSpec {
        agencies: 2,
        services_per_agency: 2,
        centres: 3,
        booths_per_centre: 2,
        officers: 8,
        bookings: 200,
        days_each_way: 3,
        around: T0,
        seed: 7,
    };
    let report = generate(booking.store(), &spec).await.unwrap();
    assert_eq!(report.bookings_created + report.bookings_refused, 200);
    assert!(report.bookings_created > 50, "{report:?}");
    let after = booking.store().table_counts().await.unwrap();
    let grew = |table: &str| {
        let n = |v: &Vec<(&str, i64)>| v.iter().find(|(t, _)| *t == table).unwrap().1;
        n(&after) - n(&before)
    };
    assert_eq!(grew("agencies"), 2);
    assert_eq!(grew("centres"), 3);
    assert_eq!(grew("booths"), 6);
    assert_eq!(grew("officers"), 8);
    assert_eq!(grew("bookings"), report.bookings_created as i64);
    assert_eq!(grew("reservations"), 2 * report.bookings_created as i64);

    let app = booking.router();
    let guide = login(&app, booking::demo::GUIDE).await;
    let a = post(
        &app,
        "/api/v1/slots/search",
        Some(&guide),
        Some(
            json!({"centre_id": report.centres[0], "service_id": report.services[0],
                    "from": "2026-06-16", "to": "2026-06-16", "limit": 5}),
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["slots"].as_array().unwrap().len(), 5, "{}", a.text);
}
on_both_databases!(generated_volume_is_stored_and_searchable);
