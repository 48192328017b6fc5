//! The access log as its auditor reads it, and what else protects a citizen's data at the API:
//! the agency's auditor sees staff reads, sign-ins, refusals and admissions about the agency's
//! bookings and by its officers, and nothing of other agencies'; the personnummer is whole only to
//! the booking's officer and masked for the guide; a centre admin revokes a kiosk's credential;
//! a state-changing call without its CSRF token is refused and changes nothing.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use booking::demo;
use booking::store::{Officer, Resource};
use common::*;
use serde_json::{Value, json};

fn period() -> String {
    format!("from={}&until={}", enc(&at(-86_400)), enc(&at(86_400)))
}

/// RFC 3339 in a query string: `+` would read as a space.
fn enc(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

async fn read_log(app: &axum::Router, auditor: &str, extra: &str) -> Vec<Value> {
    let a = get(
        app,
        &format!("/api/v1/access-log?{}{extra}", period()),
        Some(auditor),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["truncated"], false);
    a.body["entries"].as_array().unwrap().clone()
}

fn has(entries: &[Value], actor_id: impl ToString, action: &str, booking: Option<&str>) -> bool {
    let actor_id = actor_id.to_string();
    entries.iter().any(|e| {
        e["actor_id"] == actor_id.as_str()
            && e["action"] == action
            && booking.is_none_or(|b| e["booking_id"] == b)
    })
}

async fn auditor_reads_the_agencys_decisions_and_reads_only(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let id = book_citizen_1(&app, 300).await;
    let guide = login(&app, demo::GUIDE).await;
    assert_eq!(
        get(&app, &format!("/api/v1/bookings/{id}"), Some(&guide))
            .await
            .status,
        StatusCode::OK
    );
    // Björn (Försäkringskassan) is not in the meeting; Sara (Skatteverket) is of another agency.
    let bjorn = login(&app, demo::OFFICER_BJORN).await;
    let refused = get(&app, &format!("/api/v1/bookings/{id}"), Some(&bjorn)).await;
    assert_eq!(refused.code(), "not_your_booking");
    let role_refused = post(
        &app,
        &format!("/api/v1/bookings/{id}/check-in"),
        Some(&bjorn),
        None,
    )
    .await;
    assert_eq!(role_refused.code(), "guide_only");
    let sara = login(&app, demo::OFFICER_SARA).await;
    assert_eq!(
        get(&app, &format!("/api/v1/bookings/{id}"), Some(&sara))
            .await
            .code(),
        "not_your_booking"
    );

    let karin = login(&app, demo::OFFICER_KARIN_AUDITOR).await;
    let log = read_log(&app, &karin, "").await;
    assert!(
        has(&log, demo::GUIDE, "booking.read", Some(&id)),
        "{log:#?}"
    );
    assert!(
        has(&log, demo::OFFICER_BJORN, "auth.sign_in", None),
        "{log:#?}"
    );
    assert!(
        has(&log, demo::OFFICER_BJORN, "authz.refused", Some(&id)),
        "{log:#?}"
    );
    let role_refusal = log.iter().find(|e| {
        e["actor_id"] == demo::OFFICER_BJORN.to_string().as_str()
            && e["action"] == "authz.refused"
            && e["booking_id"].is_null()
    });
    assert_eq!(
        role_refusal.unwrap()["reason"],
        "guide_only: POST /api/v1/bookings/{id}/check-in",
        "the route's pattern, never a path with ids"
    );
    // Sara's refusal concerns a booking of Försäkringskassan's: its auditor sees it.
    assert!(
        has(&log, demo::OFFICER_SARA, "authz.refused", Some(&id)),
        "{log:#?}"
    );
    // ... but not Sara's sign-in, which is Skatteverket's business.
    assert!(
        !has(&log, demo::OFFICER_SARA, "auth.sign_in", None),
        "{log:#?}"
    );

    // Reading is itself on record, and narrowing to one booking works.
    let again = read_log(&app, &karin, &format!("&booking_id={id}")).await;
    assert!(
        has(
            &again,
            demo::OFFICER_KARIN_AUDITOR,
            "access_log.read",
            Some(&id)
        ),
        "{again:#?}"
    );
    assert!(
        again.iter().all(|e| e["booking_id"] == id.as_str()),
        "{again:#?}"
    );

    // Skatteverket's auditor sees Sara's sign-in and none of Försäkringskassan's meeting.
    let skv_auditor = Officer {
        agency_id: demo::AGENCY_SKATTEVERKET,
        display_name: "Per Holm".into(),
        auditor: true,
        ..Default::default()
    };
    booking
        .store()
        .create_resource(&Resource::Officer(skv_auditor.clone()))
        .await
        .unwrap();
    let per = login(&app, skv_auditor.id).await;
    let skv = read_log(&app, &per, "").await;
    assert!(
        has(&skv, demo::OFFICER_SARA, "auth.sign_in", None),
        "{skv:#?}"
    );
    assert!(
        !has(&skv, demo::GUIDE, "booking.read", Some(&id)),
        "{skv:#?}"
    );
    assert!(
        !has(&skv, demo::OFFICER_BJORN, "auth.sign_in", None),
        "{skv:#?}"
    );

    // An auditor does no casework, and nobody else reads the log.
    assert_eq!(
        get(&app, "/api/v1/bookings", Some(&karin)).await.code(),
        "staff_only"
    );
    for other in [&guide, &bjorn, &sara] {
        let a = get(
            &app,
            &format!("/api/v1/access-log?{}", period()),
            Some(other),
        )
        .await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::FORBIDDEN, "auditor_only")
        );
    }
}
on_both_databases!(auditor_reads_the_agencys_decisions_and_reads_only);

async fn access_log_queries_are_checked(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let karin = login(&app, demo::OFFICER_KARIN_AUDITOR).await;
    let from = enc(&at(0));
    let cases = [
        (String::new(), "invalid_request"),
        (format!("from={from}"), "invalid_request"),
        (format!("from=yesterday&until={from}"), "invalid_request"),
        (format!("from={from}&until={from}"), "invalid_range"),
        (
            format!("from={}&until={}", enc(&at(0)), enc(&at(400 * 86_400))),
            "invalid_range",
        ),
        (format!("{}&limit=0", period()), "invalid_limit"),
        (format!("{}&booking_id=nope", period()), "invalid_request"),
        (format!("{}&delete=true", period()), "invalid_request"),
    ];
    for (query, code) in cases {
        let a = get(&app, &format!("/api/v1/access-log?{query}"), Some(&karin)).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, code),
            "{query}"
        );
    }
    // A limit below what there is says so.
    let a = get(
        &app,
        &format!("/api/v1/access-log?{}&limit=1", period()),
        Some(&karin),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["entries"].as_array().unwrap().len(), 1);
    assert_eq!(a.body["truncated"], true);
}
on_both_databases!(access_log_queries_are_checked);

async fn personnummer_is_whole_for_the_officer_and_masked_for_the_guide(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let id = book_citizen_1(&app, 300).await;
    let anna = login(&app, demo::OFFICER_ANNA).await;
    let guide = login(&app, demo::GUIDE).await;
    let as_officer = get(&app, &format!("/api/v1/bookings/{id}"), Some(&anna)).await;
    assert_eq!(as_officer.body["citizen_personnummer"], "19121212-1212");
    let as_guide = get(&app, &format!("/api/v1/bookings/{id}"), Some(&guide)).await;
    assert_eq!(as_guide.body["citizen_personnummer"], "19121212-****");
    // Lists (the agenda, the centre's day) never carry it, not even masked.
    for who in [&anna, &guide] {
        let list = get(&app, "/api/v1/bookings", Some(who)).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(!list.text.contains("19121212"), "{}", list.text);
    }
    let log = booking
        .store()
        .access_log_for_citizen(demo::CITIZEN_1)
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.actor == booking::Subject::Officer(demo::OFFICER_ANNA)
                && e.action == "citizen.read_personnummer"),
        "the officer's reading of the number is logged: {log:?}"
    );
}
on_both_databases!(personnummer_is_whole_for_the_officer_and_masked_for_the_guide);

async fn a_revoked_kiosk_is_locked_out(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let enrolled = post(
        &app,
        "/api/v1/dev-eid/enrol-booth",
        None,
        Some(json!({"booth_id": demo::BOOTH_1})),
    )
    .await;
    assert_eq!(enrolled.status, StatusCode::CREATED, "{}", enrolled.text);
    let kiosk = enrolled
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    let kiosk = kiosk.split(';').next().unwrap().to_owned();
    assert_eq!(
        get(&app, "/api/v1/booth-device", Some(&kiosk)).await.status,
        StatusCode::OK
    );

    // A guide who is not the centre's admin may not; the admin may.
    let plain = booking::store::Guide {
        centre_id: demo::CENTRE_LJUSDAL,
        display_name: "Olle Ek".into(),
        ..Default::default()
    };
    booking
        .store()
        .create_resource(&Resource::Guide(plain.clone()))
        .await
        .unwrap();
    let olle = login(&app, plain.id).await;
    let uri = format!("/api/v1/booths/{}/devices", demo::BOOTH_1);
    assert_eq!(delete(&app, &uri, Some(&olle)).await.code(), "admin_only");
    assert_eq!(
        get(&app, "/api/v1/booth-device", Some(&kiosk)).await.status,
        StatusCode::OK
    );

    let admin = login(&app, demo::GUIDE).await;
    let a = delete(&app, &uri, Some(&admin)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["revoked"], 1);
    let locked = get(&app, "/api/v1/booth-device", Some(&kiosk)).await;
    assert_eq!(locked.status, StatusCode::UNAUTHORIZED, "{}", locked.text);
    // Nothing left to revoke; an unknown booth is a 404.
    assert_eq!(delete(&app, &uri, Some(&admin)).await.body["revoked"], 0);
    let unknown = format!("/api/v1/booths/{}/devices", uuid::Uuid::new_v4());
    assert_eq!(
        delete(&app, &unknown, Some(&admin)).await.code(),
        "booth_not_found"
    );
}
on_both_databases!(a_revoked_kiosk_is_locked_out);

/// A request with exactly this CSRF token header (or none), as a page of another origin would send it.
async fn with_csrf_token(
    app: &axum::Router,
    method: Method,
    uri: &str,
    cookie: &str,
    token: Option<&str>,
    body: Value,
) -> Answer {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        req = req.header(booking::csrf::CSRF_HEADER, t);
    }
    send(app, req.body(Body::from(body.to_string())).unwrap()).await
}

async fn a_state_change_without_its_csrf_token_is_refused(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let guide = login(&app, demo::GUIDE).await;
    let body = json!({
        "service_id": demo::SERVICE_FORALDRAPENNING, "officer_id": demo::OFFICER_ANNA,
        "booth_id": demo::BOOTH_1, "starts_at": at(300), "duration_minutes": 30,
        "citizen_personnummer": demo::CITIZEN_1_PERSONNUMMER,
    });
    let before = booking.store().table_counts().await.unwrap();
    let secret = guide.strip_prefix("narvaro_session=").unwrap();
    for token in [
        None,
        Some("forged"),
        Some(booking::csrf::token_for("another-session").as_str()),
    ] {
        let a = with_csrf_token(
            &app,
            Method::POST,
            "/api/v1/bookings",
            &guide,
            token,
            body.clone(),
        )
        .await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::FORBIDDEN, "csrf_token_invalid"),
            "{token:?}"
        );
        // The refusal carries the right token, for the page's one retry.
        let set: Vec<_> = a.headers.get_all(header::SET_COOKIE).iter().collect();
        assert!(
            set.iter().any(|c| c.to_str().unwrap().starts_with(&format!(
                "narvaro_csrf={}",
                booking::csrf::token_for(secret)
            ))),
            "{set:?}"
        );
    }
    assert_eq!(booking.store().table_counts().await.unwrap(), before);
    let token = booking::csrf::token_for(secret);
    let a = with_csrf_token(
        &app,
        Method::POST,
        "/api/v1/bookings",
        &guide,
        Some(&token),
        body,
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    // Reads need no token.
    let a = with_csrf_token(
        &app,
        Method::GET,
        "/api/v1/bookings",
        &guide,
        None,
        json!({}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
}
on_both_databases!(a_state_change_without_its_csrf_token_is_refused);
