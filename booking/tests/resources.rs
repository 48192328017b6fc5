//! The resource API: agencies, services, officers, centres, booths, guides and interpreters, read
//! by staff and written by the admins of their agency or centre.

mod common;

use axum::http::StatusCode;
use booking::demo;
use common::*;
use serde_json::json;

async fn admins_manage_their_own_resources_and_staff_read_them(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let sara = login(&app, demo::OFFICER_SARA).await; // Skatteverket's admin
    let anna = login(&app, demo::OFFICER_ANNA).await; // Försäkringskassan's admin
    let bjorn = login(&app, demo::OFFICER_BJORN).await; // not an admin
    let maria = login(&app, demo::GUIDE).await; // the centre's admin
    let citizen = login(&app, demo::CITIZEN_1).await;

    // A service with required skills, by its agency's admin; read back as written.
    let service = json!({
        "agency_id": demo::AGENCY_SKATTEVERKET, "name": "Folkbokföring",
        "default_duration_minutes": 25, "required_skills": ["folkbokforing"],
    });
    let created = post(&app, "/api/v1/services", Some(&sara), Some(service.clone())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let service_id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["required_skills"], json!(["folkbokforing"]));
    for (cookie, code) in [
        (&anna, "admin_only"),
        (&bjorn, "admin_only"),
        (&maria, "admin_only"),
    ] {
        let mut other = service.clone();
        other["name"] = json!("Något annat");
        let a = post(&app, "/api/v1/services", Some(cookie), Some(other)).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::FORBIDDEN, code),
            "{}",
            a.text
        );
    }
    let a = post(&app, "/api/v1/services", Some(&sara), Some(service)).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::CONFLICT, "already_exists")
    );

    // An officer with services, languages, skills, hours and absences.
    let officer = json!({
        "agency_id": demo::AGENCY_SKATTEVERKET, "display_name": "Karin Berg",
        "services": [service_id, demo::SERVICE_DEKLARATION], "languages": ["fi", "sv"],
        "skills": ["folkbokforing"],
        "working_hours": [{"weekday": 1, "from": "08:00", "until": "12:00"},
                          {"weekday": 3, "from": "13:00", "until": "16:30"}],
        "absences": [{"starts_at": "2026-07-01T00:00:00Z", "ends_at": "2026-08-01T00:00:00Z"}],
    });
    let a = post(&app, "/api/v1/officers", Some(&sara), Some(officer.clone())).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let karin = a.body["id"].as_str().unwrap().to_owned();
    let read = get(&app, &format!("/api/v1/officers/{karin}"), Some(&bjorn)).await;
    assert_eq!(read.status, StatusCode::OK);
    for field in [
        "languages",
        "skills",
        "working_hours",
        "absences",
        "display_name",
    ] {
        assert_eq!(read.body[field], officer[field], "{field}");
    }
    // Only the agency's own services.
    let mut wrong = officer.clone();
    wrong["services"] = json!([demo::SERVICE_FORALDRAPENNING]);
    let a = put(
        &app,
        &format!("/api/v1/officers/{karin}"),
        Some(&sara),
        Some(wrong),
    )
    .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_resource"),
        "{}",
        a.text
    );
    // Another agency's admin may neither change her nor move her to their agency.
    let mut moved = officer.clone();
    moved["agency_id"] = json!(demo::AGENCY_FORSAKRINGSKASSAN);
    moved["services"] = json!([]);
    let a = put(
        &app,
        &format!("/api/v1/officers/{karin}"),
        Some(&anna),
        Some(moved.clone()),
    )
    .await;
    assert_eq!((a.status, a.code()), (StatusCode::FORBIDDEN, "admin_only"));
    let a = put(
        &app,
        &format!("/api/v1/officers/{karin}"),
        Some(&sara),
        Some(moved),
    )
    .await;
    assert_eq!((a.status, a.code()), (StatusCode::FORBIDDEN, "admin_only"));
    // Replacing drops what is left out.
    let mut fewer = officer.clone();
    fewer["absences"] = json!([]);
    fewer["languages"] = json!(["sv"]);
    let a = put(
        &app,
        &format!("/api/v1/officers/{karin}"),
        Some(&sara),
        Some(fewer),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["absences"], json!([]));
    assert_eq!(a.body["languages"], json!(["sv"]));

    // The centre admin: a booth with equipment, an interpreter, a guide.
    let booth = json!({
        "centre_id": demo::CENTRE_LJUSDAL, "name": "Mötesrum 3", "wheelchair_accessible": true,
        "equipment": ["document_camera", "printer"], "device_id": "kiosk-ljusdal-3",
    });
    let a = post(&app, "/api/v1/booths", Some(&maria), Some(booth.clone())).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let booth_id = a.body["id"].as_str().unwrap().to_owned();
    assert_eq!(a.body["equipment"], booth["equipment"]);
    let a = post(&app, "/api/v1/booths", Some(&sara), Some(booth)).await;
    assert_eq!((a.status, a.code()), (StatusCode::FORBIDDEN, "admin_only"));
    let a = post(
        &app,
        "/api/v1/interpreters",
        Some(&maria),
        Some(json!({"display_name": "Ali Yusuf", "languages": ["so", "sv"]})),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let a = post(
        &app,
        "/api/v1/interpreters",
        Some(&bjorn),
        Some(json!({"display_name": "X", "languages": ["so"]})),
    )
    .await;
    assert_eq!((a.status, a.code()), (StatusCode::FORBIDDEN, "admin_only"));
    let a = post(
        &app,
        "/api/v1/guides",
        Some(&maria),
        Some(
            json!({"centre_id": demo::CENTRE_LJUSDAL, "display_name": "Olle Ek",
                    "email": "olle.ek@ljusdal.example"}),
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    // A guide's address is what the centre's single sign-on finds them by: kept, and checked.
    let olle = format!("/api/v1/guides/{}", a.body["id"].as_str().unwrap());
    assert_eq!(
        get(&app, &olle, Some(&maria)).await.body["email"],
        "olle.ek@ljusdal.example"
    );
    let mut bad = get(&app, &olle, Some(&maria)).await.body;
    bad["email"] = json!("olle ek@ljusdal.example");
    let a = put(&app, &olle, Some(&maria), Some(bad)).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_email")
    );

    // A new centre with opening hours; its creator does not thereby administer it.
    let a = post(
        &app,
        "/api/v1/centres",
        Some(&maria),
        Some(json!({"kommun": "Hudiksvall", "name": "Servicekontor Hudiksvall", "address": "Storgatan 1",
                    "opening_hours": [{"weekday": 2, "from": "10:00", "until": "15:00"}]})),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.body["opening_hours"][0]["until"], "15:00");
    let hudik = a.body["id"].as_str().unwrap().to_owned();
    let a = delete(&app, &format!("/api/v1/centres/{hudik}"), Some(&maria)).await;
    assert_eq!((a.status, a.code()), (StatusCode::FORBIDDEN, "admin_only"));

    // Lists for staff only.
    let list = get(&app, "/api/v1/interpreters", Some(&bjorn)).await;
    assert_eq!(list.body.as_array().unwrap().len(), 3);
    let a = get(&app, "/api/v1/officers", Some(&citizen)).await;
    assert_eq!((a.status, a.code()), (StatusCode::FORBIDDEN, "staff_only"));
    let a = get(&app, "/api/v1/officers", None).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNAUTHORIZED, "not_signed_in")
    );

    // Deleting: free things go; what bookings refer to stays.
    let a = delete(&app, &format!("/api/v1/booths/{booth_id}"), Some(&maria)).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    let a = get(&app, &format!("/api/v1/booths/{booth_id}"), Some(&maria)).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::NOT_FOUND, "booth_not_found")
    );
    let a = post(
        &app,
        "/api/v1/bookings",
        Some(&maria),
        Some(json!({
            "service_id": demo::SERVICE_FORALDRAPENNING, "officer_id": demo::OFFICER_BJORN,
            "booth_id": demo::BOOTH_1, "starts_at": at(0), "duration_minutes": 30,
            "citizen_personnummer": demo::CITIZEN_1_PERSONNUMMER,
        })),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let a = delete(
        &app,
        &format!("/api/v1/officers/{}", demo::OFFICER_BJORN),
        Some(&anna),
    )
    .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::CONFLICT, "in_use"),
        "{}",
        a.text
    );
    assert!(
        booking
            .store()
            .officer(demo::OFFICER_BJORN)
            .await
            .unwrap()
            .is_some()
    );
}
on_both_databases!(admins_manage_their_own_resources_and_staff_read_them);
