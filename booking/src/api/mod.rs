//! The HTTP API. `router` builds it with state applied, so tests drive it with `oneshot`.

mod bookings;
mod error;

use axum::extract::{FromRequestParts, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use error::ApiError;

use crate::Booking;
use crate::identity::{Identity, Subject};
use crate::ids::{GuideId, OfficerId};

pub fn router(booking: Booking) -> Router {
    let mut api = Router::new()
        .route("/api/v1/session", get(session))
        .route("/api/v1/session/logout", post(logout))
        .route("/api/v1/directory", get(directory))
        .route(
            "/api/v1/bookings",
            get(bookings::list).post(bookings::create),
        )
        .route("/api/v1/bookings/{id}/start", post(bookings::start))
        .route("/api/v1/bookings/{id}/join", post(bookings::join))
        .route("/api/v1/booths/{booth_id}/next", get(bookings::booth_next))
        .with_state(booking.clone());
    for provider in booking.identity_providers() {
        if provider.allowed_in(booking.environment()) {
            api = api.nest(
                &format!("/api/v1/{}", provider.name()),
                provider.routes(booking.clone()),
            );
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
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .with_state(booking)
        .merge(api)
}

/// The request's signed-in person; rejects with 401 `not_signed_in`.
impl FromRequestParts<Booking> for Identity {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, booking: &Booking) -> Result<Self, ApiError> {
        booking
            .session_identity(&parts.headers)
            .await
            .ok_or_else(ApiError::not_signed_in)
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

pub(crate) fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
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

async fn directory(
    State(booking): State<Booking>,
    identity: Identity,
) -> Result<Json<crate::store::Directory>, ApiError> {
    Staff::of(&identity)?;
    Ok(Json(booking.store().directory().await?))
}

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
