//! The retention purge: a year after a meeting, how the citizen was identified, BankID's evidence,
//! delivered messages and, once nothing of theirs is left after the cut-off, the citizen's name
//! and personnummer are gone; the booking and its outcome stay, anonymous, so the follow-up
//! figures do not change. A citizen with a booking still ahead is left alone.

mod common;

use axum::http::StatusCode;
use booking::demo;
use booking::store::{ANONYMISED_NAME, FollowUpFilter, StaffAccess};
use booking::{Clock, Personnummer, Subject};
use common::*;
use serde_json::json;

async fn personal_data_past_retention_goes_and_the_figures_stay(db: &TestDb) {
    let (booking, clock) = open(db).await;
    let app = booking.router();
    let guide = login(&app, demo::GUIDE).await;
    let anna = login(&app, demo::OFFICER_ANNA).await;
    // Citizen 1's meeting: identified by the guide, held and ended.
    let id = book_citizen_1(&app, 300).await;
    let identify = post(
        &app,
        &format!("/api/v1/bookings/{id}/identify"),
        Some(&guide),
        Some(json!({"document_type": "passport", "document_last4": "1234"})),
    )
    .await;
    assert_eq!(identify.status, StatusCode::CREATED, "{}", identify.text);
    assert_eq!(
        post(
            &app,
            &format!("/api/v1/bookings/{id}/start"),
            Some(&guide),
            None
        )
        .await
        .status,
        StatusCode::OK
    );
    let end = post(
        &app,
        &format!("/api/v1/bookings/{id}/end"),
        Some(&anna),
        Some(json!({"outcome": "resolved"})),
    )
    .await;
    assert_eq!(end.status, StatusCode::OK, "{}", end.text);
    // Citizen 2 has a meeting booked, not held: still ahead when the year has passed.
    let later = post(
        &app,
        "/api/v1/bookings",
        Some(&guide),
        Some(json!({
            "service_id": demo::SERVICE_FORALDRAPENNING, "officer_id": demo::OFFICER_ANNA,
            "booth_id": demo::BOOTH_2, "starts_at": at(3 * 3600), "duration_minutes": 30,
            "citizen_personnummer": demo::CITIZEN_2_PERSONNUMMER,
        })),
    )
    .await;
    assert_eq!(later.status, StatusCode::CREATED, "{}", later.text);

    let store = booking.store();
    let whole_year = FollowUpFilter {
        centre: None,
        agency: None,
        service: None,
        from: T0 - 86_400,
        until: T0 + 86_400,
    };
    let figures = store.follow_up(&whole_year).await.unwrap();
    assert_eq!((figures.meetings, figures.resolved), (1, 1));
    // Nothing is past retention yet.
    assert_eq!(
        booking.purge_past_retention().await.unwrap(),
        Default::default()
    );

    clock.advance(366 * 86_400);
    let purged = booking.purge_past_retention().await.unwrap();
    // Citizen 1, and the demo's citizen 3, who never had a booking at all.
    assert_eq!(purged.citizens_anonymised, 2, "{purged:?}");
    assert!(purged.identifications >= 1, "{purged:?}");

    let access = StaffAccess {
        actor: Subject::Guide(demo::GUIDE),
        reason: "test".into(),
        at: clock.now(),
    };
    let one = Personnummer::parse(demo::CITIZEN_1_PERSONNUMMER).unwrap();
    let two = Personnummer::parse(demo::CITIZEN_2_PERSONNUMMER).unwrap();
    assert!(
        store
            .citizen_by_personnummer(&one, &access)
            .await
            .unwrap()
            .is_none(),
        "citizen 1 cannot be found any more"
    );
    assert!(
        store
            .citizen_personnummer(demo::CITIZEN_1, &access)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .citizen_by_personnummer(&two, &access)
            .await
            .unwrap()
            .is_some(),
        "citizen 2 has a booking ahead"
    );
    let booking_id = id.parse().unwrap();
    assert!(
        store
            .booking_identification(booking_id)
            .await
            .unwrap()
            .is_none()
    );
    let view = store
        .view_booking(booking_id, &access)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.citizen_name, ANONYMISED_NAME);
    assert_eq!(
        store.follow_up(&whole_year).await.unwrap(),
        figures,
        "the figures stay"
    );
    // Done once: a second purge finds nothing.
    assert_eq!(
        booking.purge_past_retention().await.unwrap(),
        Default::default()
    );
    // The same person can be booked again: a new citizen, found by personnummer again. (The
    // guide signs in anew: a year has passed.)
    let guide = login(&app, demo::GUIDE).await;
    let again = post(&app, "/api/v1/bookings", Some(&guide), Some(json!({
        "service_id": demo::SERVICE_FORALDRAPENNING, "officer_id": demo::OFFICER_ANNA,
        "booth_id": demo::BOOTH_1, "starts_at": at(366 * 86_400 + 600), "duration_minutes": 30,
        "citizen_personnummer": demo::CITIZEN_1_PERSONNUMMER, "citizen_name": "Tolvan Tolvansson",
    }))).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert!(
        store
            .citizen_by_personnummer(&one, &access)
            .await
            .unwrap()
            .is_some()
    );
}
on_both_databases!(personal_data_past_retention_goes_and_the_figures_stay);
