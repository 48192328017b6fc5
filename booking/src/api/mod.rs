//! The HTTP API. `router` builds it with state applied, so tests drive it with `oneshot`.

mod access_log;
mod bookings;
mod booths;
mod drop_in;
mod error;
mod follow_up;
mod help;
mod resources;
pub mod routes;
mod slots;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

pub(crate) use booths::enrolled_response as booth_enrolled_response;
pub use error::ApiError;

use crate::Booking;
use crate::identity::{Identity, Subject};
use crate::ids::{BookingId, CitizenId, GuideId, OfficerId};
use crate::store::{Guide, Officer, StaffAccess};

/// Largest request body the API reads. Generous for any resource or booking; bigger is an error,
/// not a slow parse.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn router(booking: Booking) -> Router {
    let mut api = routes::router(&booking)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(booking.clone());
    for provider in booking.identity_providers() {
        if provider.allowed_in(booking.environment()) {
            let limit = provider.limit();
            let routes =
                provider
                    .routes(booking.clone())
                    .layer(axum::middleware::from_fn_with_state(
                        booking.clone(),
                        move |state, req, next| crate::limits::limited(limit, state, req, next),
                    ));
            api = api.nest(&format!("/api/v1/{}", provider.name()), routes);
        }
    }
    // Answers carry personal data; no cache may keep them.
    let api = api.layer(axum::middleware::map_response(
        |mut res: Response| async move {
            res.headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        },
    ));
    let secure_cookies = booking.secure_cookies();
    let api = api.layer(axum::middleware::from_fn(move |req, next| {
        crate::csrf::protect(secure_cookies, req, next)
    }));
    let mut router = Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .with_state(booking.clone())
        .merge(api);
    // What a citizen's BankID app would do, for tests and development: never with real BankID.
    if let Some(sim) = booking.bankid_simulator() {
        router = router.nest("/dev/bankid-phone", sim.phone_router());
    }
    router
}

/// The request's signed-in person; rejects with 401 `not_signed_in`. Looked up once per request:
/// the role check, `Actor` and the handler all ask, and each ask would be a database query.
impl FromRequestParts<Booking> for Identity {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, booking: &Booking) -> Result<Self, ApiError> {
        if let Some(identity) = parts.extensions.get::<Identity>() {
            return Ok(identity.clone());
        }
        let identity = booking
            .session_identity(&parts.headers)
            .await
            .ok_or_else(ApiError::not_signed_in)?;
        parts.extensions.insert(identity.clone());
        Ok(identity)
    }
}

/// Staff who may see the directory and bookings.
pub(crate) enum Staff {
    Guide(GuideId),
    Officer(OfficerId),
}

impl Staff {
    fn of(identity: &Identity) -> Result<Staff, ApiError> {
        match identity.subject {
            Subject::Guide(id) => Ok(Staff::Guide(id)),
            Subject::Officer(id) => Ok(Staff::Officer(id)),
            Subject::Citizen(_) => Err(ApiError::forbidden("staff_only", "only staff may do this")),
        }
    }
}

/// An access-log record of `actor` reading citizen data or being decided about now, for `reason`.
pub(crate) fn staff_access(
    booking: &Booking,
    actor: Subject,
    reason: impl Into<String>,
) -> StaffAccess {
    StaffAccess {
        actor,
        reason: reason.into(),
        at: booking.clock().now(),
    }
}

/// Writes an authorization refusal to the access log. A refusal stands whether or not it could
/// be written, so a failure to write is logged and the refusal still goes out.
pub(crate) async fn log_refusal(
    booking: &Booking,
    actor: &Actor,
    code: &str,
    what: &str,
    booking_id: Option<BookingId>,
) {
    let access = staff_access(booking, actor.subject(), format!("{code}: {what}"));
    if let Err(e) = booking
        .store()
        .record_access(&access, "authz.refused", booking_id)
        .await
    {
        tracing::error!(error = %e, "could not write a refusal to the access log");
    }
}

pub(crate) fn rfc3339(unix: i64) -> String {
    crate::schedule::format_rfc3339(unix)
}

/// The signed-in person with what their role needs: an officer's agency and admin flag, a
/// guide's centre and admin flag. Rejects with 401 `not_signed_in`.
#[derive(Debug, Clone)]
pub(crate) enum Actor {
    Citizen(CitizenId),
    Officer(Officer),
    Guide(Guide),
}

impl Actor {
    pub(crate) fn subject(&self) -> Subject {
        match self {
            Actor::Citizen(c) => Subject::Citizen(*c),
            Actor::Officer(o) => Subject::Officer(o.id),
            Actor::Guide(g) => Subject::Guide(g.id),
        }
    }
}

impl FromRequestParts<Booking> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, booking: &Booking) -> Result<Self, ApiError> {
        if let Some(actor) = parts.extensions.get::<Actor>() {
            return Ok(actor.clone());
        }
        let identity = Identity::from_request_parts(parts, booking).await?;
        let store = booking.store();
        let actor = match identity.subject {
            Subject::Citizen(c) => Actor::Citizen(c),
            Subject::Officer(id) => Actor::Officer(
                store
                    .officer(id)
                    .await?
                    .ok_or_else(ApiError::not_signed_in)?,
            ),
            Subject::Guide(id) => {
                Actor::Guide(store.guide(id).await?.ok_or_else(ApiError::not_signed_in)?)
            }
        };
        parts.extensions.insert(actor.clone());
        Ok(actor)
    }
}

/// Whoever calls a route: a signed-in person, or (without a session) an enrolled booth kiosk.
/// Rejects with 401 `not_signed_in`. Found once per request, as `Identity` is.
#[derive(Clone)]
pub(crate) enum Caller {
    Person(Actor),
    Booth(crate::store::BoothDevice),
}

impl FromRequestParts<Booking> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, booking: &Booking) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let caller = match Actor::from_request_parts(parts, booking).await {
            Ok(actor) => Caller::Person(actor),
            // No session: perhaps a booth kiosk. A store failure is no reason to try that.
            Err(e) if e.code != "not_signed_in" => return Err(e),
            Err(_) => match crate::booth_devices::device_of(booking, &parts.headers).await? {
                Some(device) => Caller::Booth(device),
                None => return Err(ApiError::not_signed_in()),
            },
        };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// The enrolled booth kiosk behind the request; rejects with 401 `booth_not_enrolled`.
impl FromRequestParts<Booking> for crate::store::BoothDevice {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, booking: &Booking) -> Result<Self, ApiError> {
        crate::booth_devices::device_of(booking, &parts.headers)
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "booth_not_enrolled",
                    "this device is not an enrolled booth kiosk",
                )
            })
    }
}

pub(crate) fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    // The rejection text can quote the body, which may hold a personnummer: keep it generic.
    body.map(|Json(b)| b).map_err(|e| match e {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "json_required",
            "send application/json",
        ),
        e if e.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body may be at most {MAX_BODY_BYTES} bytes"),
        ),
        JsonRejection::JsonDataError(_) => ApiError::unprocessable(
            "invalid_request",
            "a field is missing or has the wrong type",
        ),
        _ => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "the body is not valid JSON",
        ),
    })
}

pub(crate) fn parse_path_id<T: std::str::FromStr>(
    raw: &str,
    code: &'static str,
) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(code, "no such thing"))
}

/// How a booking's citizen was identified, for the people who see it.
#[derive(Serialize)]
pub(crate) struct IdentifiedJson {
    method: crate::identity::IdMethod,
    /// In Swedish, as the other participants see it.
    label: String,
}

impl From<&crate::store::BookingIdentification> for IdentifiedJson {
    fn from(i: &crate::store::BookingIdentification) -> Self {
        IdentifiedJson {
            method: i.method,
            label: i.label(),
        }
    }
}

#[derive(Serialize)]
pub(crate) struct IdentityJson {
    pub kind: &'static str,
    pub person_id: String,
    pub display_name: String,
    pub method: crate::identity::IdMethod,
}

impl From<&Identity> for IdentityJson {
    fn from(i: &Identity) -> Self {
        IdentityJson {
            kind: i.subject.kind(),
            person_id: i.subject.id_string(),
            display_name: i.display_name.clone(),
            method: i.method,
        }
    }
}

async fn session(identity: Identity) -> Json<IdentityJson> {
    Json(IdentityJson::from(&identity))
}

async fn logout(
    State(booking): State<Booking>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let cookie = booking.sessions().sign_out(&headers).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    cookie.apply(res.headers_mut());
    Ok(res)
}

/// Ends every session of the signed-in person (a lost phone, a shared computer left signed in).
async fn logout_everywhere(
    State(booking): State<Booking>,
    identity: Identity,
) -> Result<Response, ApiError> {
    let ended = booking
        .store()
        .delete_sessions_of(&identity.subject)
        .await?;
    tracing::info!(sessions = ended, "signed out everywhere");
    let cookie = booking
        .sessions()
        .sign_out(&axum::http::HeaderMap::new())
        .await?;
    let mut res = Json(serde_json::json!({ "sessions_ended": ended })).into_response();
    cookie.apply(res.headers_mut());
    Ok(res)
}

async fn directory(
    State(booking): State<Booking>,
    identity: Identity,
) -> Result<Json<crate::store::Directory>, ApiError> {
    Staff::of(&identity)?;
    Ok(Json(booking.store().directory().await?))
}

/// The join-token keys. Cacheable for a minute: keys change once a rotation period, and a
/// verifier holding a copy that lacks a key rotated in since looks again when a token names it
/// (signalling does, at most once per `jwks_min_refetch_secs`).
async fn jwks(State(booking): State<Booking>) -> impl IntoResponse {
    use signalling::token::KeySource;
    (
        [(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60"),
        )],
        Json(booking.token_issuer().jwks()),
    )
}
