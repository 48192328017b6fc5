//! Every route of the API in one table: method, path, the roles that may call it, what a refusal
//! is called, and the handler. The router is built from this table, each route behind a check of
//! its roles, and the OpenAPI document at `/api/v1/openapi.json` is written from it, so the three
//! cannot drift apart.
//!
//! Roles are what a caller is: a citizen, a guide, an officer; an agency admin is an officer and a
//! centre admin a guide flagged as such; an auditor is an officer flagged as one, and only that
//! (no casework); an analyst is an officer or a guide flagged as one, and only that (follow-up
//! figures of their agency or centre, nothing of casework or the counter); a booth device is an
//! enrolled kiosk (no session, its own credential). Interpreters have a role here but no sign-in
//! yet, so no route admits them. Handlers still check scope (your centre, your booking, your
//! booth, the figures of your agency or centre) after the role check.

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post, put};
use serde::Serialize;
use serde_json::{Value, json};

use super::{
    Actor, ApiError, Caller, access_log, bookings, booths, drop_in, follow_up, help, resources,
    slots,
};
use crate::Booking;
use crate::limits::{self, Limit};
use crate::store::{Agency, Booth, Centre, Guide, Interpreter, Officer, Service};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Citizen,
    Guide,
    Officer,
    Interpreter,
    BoothDevice,
    AgencyAdmin,
    CentreAdmin,
    Analyst,
    /// Reads the access log of their agency, and nothing else.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::Citizen,
        Role::Guide,
        Role::Officer,
        Role::Interpreter,
        Role::BoothDevice,
        Role::AgencyAdmin,
        Role::CentreAdmin,
        Role::Analyst,
        Role::Auditor,
    ];
}

/// Who may call a route.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Signed-in people in one of these roles; others get 403 with `refusal`.
    Roles(&'static [Role], &'static str),
}

pub struct RouteSpec {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub access: Access,
    /// Whether the handler reads a JSON body.
    pub takes_body: bool,
    /// The handler with its method.
    handler: fn() -> MethodRouter<Booking>,
    /// A per-address rate limit, checked before anything else.
    pub limit: Option<&'static Limit>,
}

impl RouteSpec {
    fn limited(self, limit: &'static Limit) -> Self {
        RouteSpec {
            limit: Some(limit),
            ..self
        }
    }
}

const STAFF: &[Role] = &[
    Role::Guide,
    Role::Officer,
    Role::AgencyAdmin,
    Role::CentreAdmin,
];
const GUIDES: &[Role] = &[Role::Guide, Role::CentreAdmin];
const OFFICERS: &[Role] = &[Role::Officer, Role::AgencyAdmin];
const SIGNED_IN: &[Role] = &[
    Role::Citizen,
    Role::Guide,
    Role::Officer,
    Role::AgencyAdmin,
    Role::CentreAdmin,
    Role::Auditor,
    Role::Analyst,
];
/// A join is for the booking's citizen (on their own device or at the booth's kiosk) and officers;
/// the handler checks which booking.
const PARTICIPANTS: &[Role] = &[
    Role::Citizen,
    Role::BoothDevice,
    Role::Officer,
    Role::AgencyAdmin,
];
const BOOTH_DEVICES: &[Role] = &[Role::BoothDevice];
/// The survey is the citizen's: on their own device, or at the booth's kiosk right after the
/// meeting (the handler checks it is the kiosk's booth).
const CITIZENS_AND_BOOTHS: &[Role] = &[Role::Citizen, Role::BoothDevice];
/// Feedback comes from a citizen, from the guide on their behalf, or from the kiosk's end screen.
const FEEDBACK_GIVERS: &[Role] = &[
    Role::Citizen,
    Role::Guide,
    Role::CentreAdmin,
    Role::BoothDevice,
];
const AGENCY_ADMINS: &[Role] = &[Role::AgencyAdmin];
const CENTRE_ADMINS: &[Role] = &[Role::CentreAdmin];
const ADMINS: &[Role] = &[Role::AgencyAdmin, Role::CentreAdmin];
/// Follow-up figures: the admins who answer for an agency or a centre, and their analysts; the
/// handler narrows to the caller's agency or centre.
const FOLLOW_UP_READERS: &[Role] = &[Role::AgencyAdmin, Role::CentreAdmin, Role::Analyst];
const AUDITORS: &[Role] = &[Role::Auditor];

macro_rules! route {
    ($method:ident $path:expr, $summary:expr, $access:expr, $handler:expr) => {
        route!(@ false, $method $path, $summary, $access, $handler)
    };
    ($method:ident body $path:expr, $summary:expr, $access:expr, $handler:expr) => {
        route!(@ true, $method $path, $summary, $access, $handler)
    };
    (@ $body:expr, $method:ident $path:expr, $summary:expr, $access:expr, $handler:expr) => {
        RouteSpec {
            method: stringify!($method),
            path: $path,
            summary: $summary,
            access: $access,
            takes_body: $body,
            handler: || $method($handler),
            limit: None,
        }
    };
}

macro_rules! resource_routes {
    ($ty:ty, $plural:literal, $writers:expr) => {
        [
            route!(get concat!("/api/v1/", $plural), concat!("List ", $plural),
                Access::Roles(STAFF, "staff_only"), resources::list::<$ty>),
            route!(post body concat!("/api/v1/", $plural), concat!("Create one of the ", $plural),
                Access::Roles($writers, "admin_only"), resources::create::<$ty>),
            route!(get concat!("/api/v1/", $plural, "/{id}"), concat!("Read one of the ", $plural),
                Access::Roles(STAFF, "staff_only"), resources::read::<$ty>),
            route!(put body concat!("/api/v1/", $plural, "/{id}"), concat!("Replace one of the ", $plural),
                Access::Roles($writers, "admin_only"), resources::replace::<$ty>),
            route!(delete concat!("/api/v1/", $plural, "/{id}"), concat!("Delete one of the ", $plural),
                Access::Roles($writers, "admin_only"), resources::delete::<$ty>),
        ]
    };
}

/// The API's routes, identity providers' aside (they document their own, see [`openapi`]).
/// The first path segment under `/api/v1/` of every route in [`table`]: names an identity provider
/// may not take.
pub fn first_segments() -> Vec<String> {
    let mut out: Vec<String> = table()
        .iter()
        .filter_map(|r| r.path.strip_prefix("/api/v1/"))
        .filter_map(|rest| rest.split('/').next())
        .map(str::to_owned)
        .collect();
    out.sort();
    out.dedup();
    out
}

pub fn table() -> Vec<RouteSpec> {
    let mut t = vec![
        route!(get "/api/v1/openapi.json", "This document", Access::Public, openapi_json),
        route!(get "/api/v1/session", "Who is signed in", Access::Roles(SIGNED_IN, "not_signed_in"), super::session),
        route!(post "/api/v1/session/logout", "Sign out", Access::Public, super::logout),
        route!(post "/api/v1/session/logout-everywhere", "Sign out on every device and browser",
            Access::Roles(SIGNED_IN, "not_signed_in"), super::logout_everywhere),
        route!(get "/api/v1/directory", "Agencies, services, centres, booths and officers",
            Access::Roles(STAFF, "staff_only"), super::directory),
        route!(get "/api/v1/bookings", "Today's and later bookings of the guide's centre or the officer",
            Access::Roles(STAFF, "staff_only"), bookings::list),
        route!(post body "/api/v1/bookings", "Book a meeting for a citizen",
            Access::Roles(GUIDES, "guide_only"), bookings::create),
        route!(get "/api/v1/bookings/{id}", "One booking", Access::Roles(STAFF, "staff_only"), bookings::read),
        route!(get "/api/v1/bookings/{id}/history", "Every change to a booking",
            Access::Roles(STAFF, "staff_only"), bookings::history),
        route!(post body "/api/v1/bookings/{id}/reschedule", "Move a booking",
            Access::Roles(STAFF, "staff_only"), bookings::reschedule),
        route!(post body "/api/v1/bookings/{id}/cancel", "Cancel a booking, with a reason code",
            Access::Roles(STAFF, "staff_only"), bookings::cancel),
        route!(post "/api/v1/bookings/{id}/check-in", "The citizen has arrived",
            Access::Roles(GUIDES, "guide_only"), bookings::check_in),
        route!(post body "/api/v1/bookings/{id}/identify", "The guide has checked the citizen's ID document",
            Access::Roles(GUIDES, "guide_only"), bookings::identify),
        route!(post "/api/v1/bookings/{id}/no-show", "The citizen did not come",
            Access::Roles(GUIDES, "guide_only"), bookings::no_show),
        route!(post "/api/v1/bookings/{id}/start", "Start the meeting",
            Access::Roles(GUIDES, "guide_only"), bookings::start),
        route!(post body "/api/v1/bookings/{id}/end", "End the meeting with an outcome",
            Access::Roles(OFFICERS, "officer_only"), bookings::end),
        route!(post "/api/v1/bookings/{id}/join", "A join token for the meeting's room",
            Access::Roles(PARTICIPANTS, "not_a_participant"), bookings::join).limited(&limits::JOIN_TOKEN),
        route!(post "/api/v1/booths/{booth_id}/enrolment-code", "A one-time code to enrol the booth's kiosk",
            Access::Roles(CENTRE_ADMINS, "admin_only"), booths::enrolment_code),
        route!(delete "/api/v1/booths/{booth_id}/devices", "Revoke the booth's kiosk credentials (a lost or replaced kiosk)",
            Access::Roles(CENTRE_ADMINS, "admin_only"), booths::revoke_devices),
        route!(post body "/api/v1/booth-device/enrol", "Enrol this device as a booth kiosk with a code",
            Access::Public, booths::enrol).limited(&limits::ENROLMENT_CODE),
        route!(get "/api/v1/booth-device", "This kiosk's booth and its next meeting",
            Access::Roles(BOOTH_DEVICES, "booth_only"), booths::status),
        route!(post body "/api/v1/bookings/{id}/survey", "The citizen's two answers after the meeting",
            Access::Roles(CITIZENS_AND_BOOTHS, "citizen_only"), follow_up::survey),
        route!(post body "/api/v1/feedback", "A complaint, suggestion or praise, as codes",
            Access::Roles(FEEDBACK_GIVERS, "citizen_or_guide_only"), follow_up::feedback),
        route!(post body "/api/v1/booth-device/help", "Call the guide to this kiosk's booth",
            Access::Roles(BOOTH_DEVICES, "booth_only"), help::call),
        route!(get "/api/v1/help-calls", "Open help calls at the guide's centre",
            Access::Roles(GUIDES, "guide_only"), help::open),
        route!(post "/api/v1/help-calls/{id}/answer", "A guide is on the way to the calling booth",
            Access::Roles(GUIDES, "guide_only"), help::answer),
        route!(get "/api/v1/follow-up", "Figures per centre, agency, service and period",
            Access::Roles(FOLLOW_UP_READERS, "admin_or_analyst_only"), follow_up::figures),
        route!(get "/api/v1/follow-up.csv", "The figures as CSV, one row per centre and service of the period",
            Access::Roles(FOLLOW_UP_READERS, "admin_or_analyst_only"), follow_up::csv),
        route!(post body "/api/v1/drop-in", "A drop-in ticket at the guide's centre",
            Access::Roles(GUIDES, "guide_only"), drop_in::join),
        route!(post body "/api/v1/drop-in/next", "Call the next citizen waiting for this officer",
            Access::Roles(OFFICERS, "officer_only"), drop_in::call_next),
        route!(get "/api/v1/drop-in/{id}", "A ticket's place in the queue and estimated wait",
            Access::Roles(STAFF, "staff_only"), drop_in::read),
        route!(post body "/api/v1/drop-in/{id}/close", "The citizen was served or left",
            Access::Roles(STAFF, "staff_only"), drop_in::close),
        route!(post body "/api/v1/slots/search", "Free times for a service (or several) at a centre",
            Access::Roles(STAFF, "staff_only"), slots::search),
        route!(get "/api/v1/access-log", "Who read which citizen's data and which sign-ins and refusals happened, for the auditor's agency",
            Access::Roles(AUDITORS, "auditor_only"), access_log::read),
    ];
    t.extend(resource_routes!(Agency, "agencies", AGENCY_ADMINS));
    t.extend(resource_routes!(Service, "services", AGENCY_ADMINS));
    t.extend(resource_routes!(Officer, "officers", AGENCY_ADMINS));
    t.extend(resource_routes!(Centre, "centres", CENTRE_ADMINS));
    t.extend(resource_routes!(Booth, "booths", CENTRE_ADMINS));
    t.extend(resource_routes!(Guide, "guides", CENTRE_ADMINS));
    t.extend(resource_routes!(Interpreter, "interpreters", ADMINS));
    t
}

/// The roles of a caller.
pub(crate) fn roles_of(caller: &Caller) -> Vec<Role> {
    let actor = match caller {
        Caller::Booth(_) => return vec![Role::BoothDevice],
        Caller::Person(actor) => actor,
    };
    match actor {
        Actor::Citizen(_) => vec![Role::Citizen],
        // An auditor is kept apart from casework: no agenda, no meetings, no citizen's booking.
        Actor::Officer(o) if o.auditor => vec![Role::Auditor],
        // So is an analyst: figures, never a meeting or a citizen.
        Actor::Officer(o) if o.analyst => vec![Role::Analyst],
        Actor::Guide(g) if g.analyst => vec![Role::Analyst],
        Actor::Officer(o) if o.agency_admin => vec![Role::Officer, Role::AgencyAdmin],
        Actor::Officer(_) => vec![Role::Officer],
        Actor::Guide(g) if g.centre_admin => vec![Role::Guide, Role::CentreAdmin],
        Actor::Guide(_) => vec![Role::Guide],
    }
}

/// The routes of [`table`], each behind the check of its roles.
pub(crate) fn router(booking: &Booking) -> Router<Booking> {
    let mut router = Router::new();
    for spec in table() {
        let mut handler = (spec.handler)();
        if let Access::Roles(roles, refusal) = spec.access {
            handler = handler.route_layer(middleware::from_fn_with_state(
                booking.clone(),
                move |State(booking): State<Booking>, req: Request, next: Next| {
                    check_roles(booking, roles, refusal, req, next)
                },
            ));
        }
        if let Some(limit) = spec.limit {
            // Outermost: a caller past its limit learns nothing, not even whether it may call.
            handler = handler.route_layer(middleware::from_fn_with_state(
                booking.clone(),
                move |state, req, next| crate::limits::limited(limit, state, req, next),
            ));
        }
        router = router.route(spec.path, handler);
    }
    router
}

async fn check_roles(
    booking: Booking,
    roles: &'static [Role],
    refusal: &'static str,
    req: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let caller = match <Caller as axum::extract::FromRequestParts<Booking>>::from_request_parts(
        &mut parts, &booking,
    )
    .await
    {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
    if !roles_of(&caller).iter().any(|r| roles.contains(r)) {
        if let Caller::Person(actor) = &caller {
            let route = format!("{} {}", parts.method, route_of(&parts));
            super::log_refusal(&booking, actor, refusal, &route, None).await;
        }
        return ApiError::forbidden(refusal, "your role may not do this").into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

/// The route's pattern (`/api/v1/bookings/{id}`), never the path with its ids.
fn route_of(parts: &axum::http::request::Parts) -> &str {
    parts
        .extensions
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str())
        .unwrap_or("unmatched")
}

async fn openapi_json(State(booking): State<Booking>) -> axum::Json<Value> {
    axum::Json(openapi(&booking))
}

/// The OpenAPI 3.1 document of every route this instance serves.
pub fn openapi(booking: &Booking) -> Value {
    let mut paths = serde_json::Map::new();
    let mut add = |method: &str, path: &str, summary: &str, access: Access, takes_body: bool| {
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let (roles, security) = match access {
            Access::Public => (json!([]), json!([])),
            Access::Roles(r, _) => (json!(r), json!([{"session": []}])),
        };
        let mut op = json!({
            "summary": summary,
            "operationId": format!("{method}_{}", path.trim_start_matches("/api/v1/").replace(['/', '{', '}', '-', '.'], "_")),
            "parameters": params,
            "security": security,
            "x-roles": roles,
            "responses": {
                "2XX": {"description": "success", "content": {"application/json": {}}},
                "4XX": {"description": "refused; `error.code` says why",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        });
        if takes_body {
            op["requestBody"] =
                json!({"content": {"application/json": {"schema": {"type": "object"}}}});
        }
        paths
            .entry(path.to_owned())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .map(|p| p.insert(method.to_owned(), op));
    };
    for spec in table() {
        add(
            spec.method,
            spec.path,
            spec.summary,
            spec.access,
            spec.takes_body,
        );
    }
    add(
        "get",
        "/.well-known/jwks.json",
        "Public keys of join tokens",
        Access::Public,
        false,
    );
    for provider in booking.identity_providers() {
        for (method, sub, summary) in provider.documented_routes() {
            let path = format!("/api/v1/{}{sub}", provider.name());
            add(method, &path, summary, Access::Public, *method == "post");
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Närvaro booking API", "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": crate::sessions::SESSION_COOKIE}},
            "schemas": {"Error": {
                "type": "object", "required": ["error"],
                "properties": {"error": {"type": "object", "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}},
            }},
        },
    })
}
