//! The API's contract, route by route: the OpenAPI document lists exactly what the router serves;
//! every route admits exactly the roles it declares; bad input on every route gets a 4xx with a
//! stable code and leaves the store as it was.

mod common;

use std::collections::BTreeSet;

use axum::Router;
use axum::http::{Method, StatusCode};
use booking::api::routes::{Access, Role, table};
use booking::demo;
use booking::store::{Guide, Resource};
use common::*;
use serde_json::{Value, json};

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

fn method(m: &str) -> Method {
    Method::from_bytes(m.to_uppercase().as_bytes()).unwrap()
}

/// Axum's own answer for a path it does not route: 404 with an empty body.
fn unrouted(a: &Answer) -> bool {
    a.status == StatusCode::NOT_FOUND && a.text.is_empty()
}

async fn openapi_covers_exactly_the_routes_the_router_serves(db: &TestDb) {
    // With an OpenID provider configured (nothing listens at its issuer: its routes answer, and
    // no test here needs it to be reachable).
    let config = booking::BookingConfig {
        oidc_providers: vec![booking::config::OidcProviderConfig {
            name: "sso".into(),
            display_name: None,
            issuer: "http://127.0.0.1:9".into(),
            client_id: "narvaro".into(),
            client_secret: booking::Secret::new("s"),
            purpose: booking::config::OidcPurpose::Officer,
            agency_id: Some(demo::AGENCY_FORSAKRINGSKASSAN),
            centre_id: None,
            scopes: None,
            acr_values: vec![],
            personal_number_claim: booking::config::PERSONAL_IDENTITY_NUMBER_CLAIM.into(),
        }],
        ..db.config.clone()
    };
    let booking = booking::Booking::open(&config, booking::Environment::Development)
        .await
        .unwrap();
    let app = booking.router();
    let doc = get(&app, "/api/v1/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body["openapi"], "3.1.0");
    let paths = doc.body["paths"].as_object().unwrap();
    let any_id = uuid::Uuid::new_v4().to_string();
    let mut documented = 0;
    for (path, ops) in paths {
        let concrete: String = path
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    any_id.as_str()
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for m in METHODS {
            let a = call(&app, method(m), &concrete, None, None).await;
            if ops.get(m).is_some() {
                documented += 1;
                assert!(
                    a.status != StatusCode::METHOD_NOT_ALLOWED && !unrouted(&a),
                    "{m} {path} is documented but not served: {}",
                    a.status
                );
                assert!(ops[m]["x-roles"].is_array(), "{m} {path} declares no roles");
            } else {
                assert_eq!(
                    a.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{m} {path} is served but not documented"
                );
            }
        }
    }
    // Every route of the table, the JWKS and the identity providers' (development e-ID, BankID,
    // the OpenID provider).
    let providers: usize = booking
        .identity_providers()
        .iter()
        .map(|p| p.documented_routes().len())
        .sum();
    assert_eq!(providers, 3 + 4 + 2);
    assert_eq!(documented, table().len() + 1 + providers);
    for stray in [
        "/api/v1/nothing",
        "/api/v1/bookings/x/y/z",
        "/api/v2/bookings",
    ] {
        assert!(unrouted(&get(&app, stray, None).await), "{stray} is served");
    }
}
on_both_databases!(openapi_covers_exactly_the_routes_the_router_serves);

/// A signed-in person (or, for the booth device, an enrolled kiosk) for each role that can call
/// routes; `None` for roles that cannot yet.
async fn personas(app: &Router, booking: &booking::Booking) -> Vec<(Role, Option<String>)> {
    // A guide who is not the centre's admin.
    let plain_guide = Guide {
        centre_id: demo::CENTRE_LJUSDAL,
        display_name: "Olle Ek".into(),
        ..Default::default()
    };
    booking
        .store()
        .create_resource(&Resource::Guide(plain_guide.clone()))
        .await
        .unwrap();
    let mut out = Vec::new();
    for role in Role::ALL {
        let person = match role {
            Role::Citizen => Some(demo::CITIZEN_1.to_string()),
            Role::Guide => Some(plain_guide.id.to_string()),
            Role::Officer => Some(demo::OFFICER_BJORN.to_string()),
            Role::AgencyAdmin => Some(demo::OFFICER_ANNA.to_string()),
            Role::CentreAdmin => Some(demo::GUIDE.to_string()),
            Role::Auditor => Some(demo::OFFICER_KARIN_AUDITOR.to_string()),
            // Försäkringskassan's analyst; Ljusdal's (a guide flagged as one) has the same role.
            Role::Analyst => Some(demo::OFFICER_LENA_ANALYST.to_string()),
            Role::BoothDevice | Role::Interpreter => None,
        };
        let cookie = match (role, person) {
            (_, Some(p)) => Some(login(app, p).await),
            // Booth 1's kiosk: a device credential, no session.
            (Role::BoothDevice, None) => {
                let a = post(
                    app,
                    "/api/v1/dev-eid/enrol-booth",
                    None,
                    Some(json!({"booth_id": demo::BOOTH_1})),
                )
                .await;
                assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
                let set = a
                    .headers
                    .get(axum::http::header::SET_COOKIE)
                    .unwrap()
                    .to_str()
                    .unwrap();
                Some(set.split(';').next().unwrap().to_owned())
            }
            (_, None) => None,
        };
        out.push((role, cookie));
    }
    out
}

/// What a persona of this role also is: an agency admin is an officer, a centre admin a guide.
fn roles_of(role: Role) -> Vec<Role> {
    match role {
        Role::AgencyAdmin => vec![Role::Officer, Role::AgencyAdmin],
        Role::CentreAdmin => vec![Role::Guide, Role::CentreAdmin],
        r => vec![r],
    }
}

/// Routes that end the personas' sessions go last: signing out everywhere, then signing out.
fn signing_out_last(path: &str) -> u8 {
    match path {
        "/api/v1/session/logout" => 2,
        "/api/v1/session/logout-everywhere" => 1,
        _ => 0,
    }
}

/// A booking at the demo centre with Anna and Björn and the Arabic interpreter, made by the
/// centre admin, so every path id below is one every admitted persona may touch.
async fn shared_booking(app: &Router) -> String {
    let guide = login(app, demo::GUIDE).await;
    let a = post(
        app,
        "/api/v1/bookings",
        Some(&guide),
        Some(json!({
            "service_id": demo::SERVICE_FORALDRAPENNING, "officer_id": demo::OFFICER_ANNA,
            "additional_officers": [{"officer_id": demo::OFFICER_BJORN, "service_id": demo::SERVICE_SJUKPENNING}],
            "booth_id": demo::BOOTH_1, "starts_at": at(0), "duration_minutes": 30,
            "citizen_personnummer": demo::CITIZEN_1_PERSONNUMMER,
            "interpreter_id": demo::INTERPRETER_ARABIC, "language": "ar",
        })),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.body["booking_id"].as_str().unwrap().to_owned()
}

/// A waiting drop-in ticket at the demo centre.
async fn shared_ticket(app: &Router) -> String {
    let guide = login(app, demo::GUIDE).await;
    let body = json!({"service_id": demo::SERVICE_DEKLARATION});
    let a = post(app, "/api/v1/drop-in", Some(&guide), Some(body)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.body["id"].as_str().unwrap().to_owned()
}

/// The route's path with real ids: the shared booking, the demo's booth, agency, centre…
fn concrete(path: &str, ids: &(String, String)) -> String {
    let (booking_id, ticket_id) = ids;
    let id = match path.split('/').nth(3).unwrap_or("") {
        "bookings" => booking_id.to_owned(),
        "drop-in" => ticket_id.to_owned(),
        // Revoking kiosk credentials is tried on booth 2, so booth 1's kiosk persona stays.
        "booths" if path.ends_with("/devices") => demo::BOOTH_2.to_string(),
        "booths" => demo::BOOTH_1.to_string(),
        "agencies" => demo::AGENCY_FORSAKRINGSKASSAN.to_string(),
        "services" => demo::SERVICE_FORALDRAPENNING.to_string(),
        "officers" => demo::OFFICER_ANNA.to_string(),
        "centres" => demo::CENTRE_LJUSDAL.to_string(),
        "guides" => demo::GUIDE.to_string(),
        "interpreters" => demo::INTERPRETER_ARABIC.to_string(),
        // No call is open: an admitted guide is answered 404, never refused.
        "help-calls" => uuid::Uuid::nil().to_string(),
        _ => String::new(),
    };
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                id.as_str()
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn every_route_admits_exactly_its_declared_roles(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let ids = (shared_booking(&app).await, shared_ticket(&app).await);
    let personas = personas(&app, &booking).await;
    let mut specs = table();
    // Signing out ends the personas' sessions: last.
    specs.sort_by_key(|s| signing_out_last(s.path));
    for spec in &specs {
        if let Access::Roles(roles, _) = spec.access {
            // A role that cannot sign in yet (the interpreter) is admitted nowhere: the table
            // must not pretend.
            assert!(
                !roles.contains(&Role::Interpreter),
                "{} {} admits the interpreter",
                spec.method,
                spec.path
            );
        }
        let uri = concrete(spec.path, &ids);
        // An empty object: an admitted caller gets past the role check and is refused for the
        // body (422) or not at all; nothing is written by a refused body.
        let body = spec.takes_body.then(|| json!({}));
        for (role, cookie) in &personas {
            let a = call(
                &app,
                method(spec.method),
                &uri,
                cookie.as_deref(),
                body.clone(),
            )
            .await;
            let what = format!(
                "{} {} as {role:?}: {} {}",
                spec.method, spec.path, a.status, a.text
            );
            match (spec.access, cookie) {
                (Access::Public, _) => {
                    assert!(
                        a.status != StatusCode::UNAUTHORIZED && a.status != StatusCode::FORBIDDEN,
                        "{what}"
                    )
                }
                (Access::Roles(..), None) => {
                    assert_eq!(
                        (a.status, a.code()),
                        (StatusCode::UNAUTHORIZED, "not_signed_in"),
                        "{what}"
                    )
                }
                (Access::Roles(roles, refusal), Some(_)) => {
                    if roles_of(*role).iter().any(|r| roles.contains(r)) {
                        assert!(
                            a.status != StatusCode::UNAUTHORIZED
                                && a.status != StatusCode::FORBIDDEN,
                            "admitted role refused: {what}"
                        );
                        assert!(!a.status.is_server_error(), "{what}");
                    } else {
                        assert_eq!(
                            (a.status, a.code()),
                            (StatusCode::FORBIDDEN, refusal),
                            "{what}"
                        );
                    }
                }
            }
        }
    }
}
on_both_databases!(every_route_admits_exactly_its_declared_roles);

/// The cookie of a persona admitted to the route, in scope for the demo ids.
fn admitted<'a>(roles: &[Role], cookies: &'a [(Role, String)]) -> &'a str {
    cookies
        .iter()
        .find(|(r, _)| roles_of(*r).iter().any(|x| roles.contains(x)))
        .map(|(_, c)| c.as_str())
        .expect("some persona is admitted")
}

async fn bad_input_on_every_route_is_a_4xx_with_a_code_and_changes_nothing(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let ids = (shared_booking(&app).await, shared_ticket(&app).await);
    let cookies: Vec<(Role, String)> = personas(&app, &booking)
        .await
        .into_iter()
        .filter_map(|(r, c)| Some((r, c?)))
        .collect();
    let before = booking.store().table_counts().await.unwrap();
    let injection = "x'); DROP TABLE bookings; --";
    let oversized = json!({ "name": "x".repeat(70 * 1024) });
    let mut codes = BTreeSet::new();
    for spec in table() {
        let Access::Roles(roles, _) = spec.access else {
            continue;
        };
        let cookie = admitted(roles, &cookies);
        let m = method(spec.method);
        let mut tries: Vec<(String, Option<Value>, Option<&str>)> = Vec::new();
        if spec.path.contains('{') {
            for bad_id in [
                "not-a-uuid",
                "1%27%20OR%20%271%27%3D%271",
                &uuid::Uuid::new_v4().to_string(),
            ] {
                let uri = spec
                    .path
                    .split('/')
                    .map(|s| if s.starts_with('{') { bad_id } else { s })
                    .collect::<Vec<_>>()
                    .join("/");
                tries.push((uri, spec.takes_body.then(|| json!({})), None));
            }
        }
        if spec.takes_body {
            let uri = concrete(spec.path, &ids);
            tries.push((uri.clone(), None, Some(injection)));
            tries.push((uri.clone(), None, Some("{\"unterminated\": ")));
            tries.push((uri.clone(), Some(json!([injection])), None));
            tries.push((
                uri.clone(),
                Some(json!({"starts_at": 12, "id": [], "name": {"$gt": ""}})),
                None,
            ));
            tries.push((uri.clone(), Some(json!({"unknown_field": injection})), None));
            tries.push((uri, Some(oversized.clone()), None));
        }
        for (uri, body, raw) in tries {
            let a = match raw {
                Some(text) => {
                    call_raw(&app, m.clone(), &uri, Some(cookie), Some(text.to_owned())).await
                }
                None => call(&app, m.clone(), &uri, Some(cookie), body).await,
            };
            let what = format!("{} {uri}: {} {}", spec.method, a.status, a.text);
            assert!(a.status.is_client_error(), "{what}");
            assert!(!a.code().is_empty(), "no error code: {what}");
            codes.insert(a.code().to_owned());
        }
    }
    // Semantically wrong values in otherwise well-formed bodies.
    let guide = admitted(&[Role::CentreAdmin], &cookies);
    let anna = admitted(&[Role::AgencyAdmin], &cookies);
    let booking_body = |field: &str, value: Value| {
        let mut b = json!({
            "service_id": demo::SERVICE_FORALDRAPENNING, "officer_id": demo::OFFICER_ANNA,
            "booth_id": demo::BOOTH_2, "starts_at": at(7200), "duration_minutes": 30,
            "citizen_personnummer": demo::CITIZEN_2_PERSONNUMMER,
        });
        b[field] = value;
        b
    };
    let semantic: Vec<(&str, &str, Value, &str)> = vec![
        (
            guide,
            "/api/v1/bookings",
            booking_body("starts_at", json!("2026-02-30T10:00:00Z")),
            "invalid_starts_at",
        ),
        (
            guide,
            "/api/v1/bookings",
            booking_body("starts_at", json!("99999-01-01T10:00:00Z")),
            "invalid_starts_at",
        ),
        (
            guide,
            "/api/v1/bookings",
            booking_body("duration_minutes", json!(-30)),
            "invalid_duration",
        ),
        (
            guide,
            "/api/v1/bookings",
            booking_body("duration_minutes", json!(1e12)),
            "invalid_request",
        ),
        (
            guide,
            "/api/v1/bookings",
            booking_body("officer_id", json!(uuid::Uuid::new_v4())),
            "unknown_officer",
        ),
        (
            guide,
            "/api/v1/bookings",
            booking_body("interpreter_id", json!(uuid::Uuid::new_v4())),
            "unknown_interpreter",
        ),
        (
            guide,
            "/api/v1/bookings",
            booking_body("citizen_personnummer", json!(injection)),
            "invalid_personnummer",
        ),
        (
            guide,
            "/api/v1/bookings",
            booking_body("language", json!(injection)),
            "invalid_language",
        ),
        (
            guide,
            "/api/v1/slots/search",
            json!({"centre_id": demo::CENTRE_LJUSDAL, "service_id": demo::SERVICE_FORALDRAPENNING,
                   "from": "2026-02-30", "to": "2026-03-01"}),
            "invalid_date",
        ),
        (
            guide,
            "/api/v1/slots/search",
            json!({"centre_id": demo::CENTRE_LJUSDAL, "service_id": demo::SERVICE_FORALDRAPENNING,
                   "from": "2026-06-01", "to": "2027-06-01"}),
            "invalid_range",
        ),
        (
            anna,
            "/api/v1/officers",
            json!({"agency_id": demo::AGENCY_FORSAKRINGSKASSAN, "display_name": "X",
                   "working_hours": [{"weekday": 1, "from": "25:00", "until": "26:00"}]}),
            "invalid_request",
        ),
        (
            anna,
            "/api/v1/officers",
            json!({"agency_id": demo::AGENCY_FORSAKRINGSKASSAN, "display_name": "X",
                   "working_hours": [{"weekday": 9, "from": "08:00", "until": "07:00"}]}),
            "invalid_hours",
        ),
        (
            anna,
            "/api/v1/officers",
            json!({"agency_id": uuid::Uuid::new_v4(), "display_name": "X"}),
            "admin_only",
        ),
        (
            anna,
            "/api/v1/services",
            json!({"agency_id": demo::AGENCY_FORSAKRINGSKASSAN, "name": "\u{0}", "default_duration_minutes": 30}),
            "invalid_text",
        ),
        (
            guide,
            "/api/v1/booths",
            json!({"centre_id": demo::CENTRE_LJUSDAL, "name": "B", "equipment": vec!["x"; 101]}),
            "too_many_items",
        ),
    ];
    for (cookie, uri, body, code) in semantic {
        let a = post(&app, uri, Some(cookie), Some(body.clone())).await;
        assert!(
            a.status.is_client_error(),
            "{uri} {body}: {} {}",
            a.status,
            a.text
        );
        assert_eq!(a.code(), code, "{uri} {body}: {}", a.text);
    }
    assert_eq!(
        booking.store().table_counts().await.unwrap(),
        before,
        "a refused request wrote"
    );
    // Injection strings are only text: stored as given, harming nothing.
    let a = post(
        &app,
        "/api/v1/agencies",
        Some(anna),
        Some(json!({"name": injection})),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let back = get(
        &app,
        &format!("/api/v1/agencies/{}", a.body["id"].as_str().unwrap()),
        Some(anna),
    )
    .await;
    assert_eq!(back.body["name"], injection);
    let list = get(&app, "/api/v1/bookings", Some(guide)).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    eprintln!("error codes seen: {codes:?}");
}
on_both_databases!(bad_input_on_every_route_is_a_4xx_with_a_code_and_changes_nothing);

/// The access log is append-only through the API: a guide opening a citizen's booking writes an
/// entry, and calling every route as every persona (with an empty body, and with its path's ids)
/// never removes or changes an entry already there.
async fn no_route_alters_or_deletes_the_access_log(db: &TestDb) {
    let (booking, _) = open(db).await;
    let app = booking.router();
    let ids = (shared_booking(&app).await, shared_ticket(&app).await);
    let guide = login(&app, demo::GUIDE).await;
    let opened = get(&app, &format!("/api/v1/bookings/{}", ids.0), Some(&guide)).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text);
    let before = booking
        .store()
        .access_log_for_citizen(demo::CITIZEN_1)
        .await
        .unwrap();
    assert!(
        before
            .iter()
            .any(|e| e.actor == booking::Subject::Guide(demo::GUIDE)
                && e.action == "booking.read"
                && e.booking_id.map(|b| b.to_string()) == Some(ids.0.clone())),
        "a guide opening the booking is logged: {before:?}"
    );
    let personas = personas(&app, &booking).await;
    let mut specs = table();
    specs.sort_by_key(|s| signing_out_last(s.path));
    for spec in &specs {
        let uri = concrete(spec.path, &ids);
        let body = spec.takes_body.then(|| json!({}));
        for (_, cookie) in &personas {
            call(
                &app,
                method(spec.method),
                &uri,
                cookie.as_deref(),
                body.clone(),
            )
            .await;
        }
    }
    let after = booking
        .store()
        .access_log_for_citizen(demo::CITIZEN_1)
        .await
        .unwrap();
    for entry in &before {
        assert!(
            after.contains(entry),
            "an access log entry was altered or removed: {entry:?}"
        );
    }
    assert!(after.len() >= before.len());
}
on_both_databases!(no_route_alters_or_deletes_the_access_log);
