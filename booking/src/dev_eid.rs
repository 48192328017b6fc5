//! The development e-ID: pick a demo person from a list and be signed in as them.
//!
//! It proves nothing, so it refuses production: [`DevEid::allowed_in`] is false there, its routes
//! are never mounted, and [`crate::Booking::open`] fails if configuration asks for it. Every JSON
//! answer says `"development_only": true` so no client mistakes it for a real identification.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::ApiError;
use crate::config::Environment;
use crate::identity::{IdMethod, IdentityProvider, Subject};
use crate::{Booking, api};

pub struct DevEid;

impl IdentityProvider for DevEid {
    fn name(&self) -> &str {
        "dev-eid"
    }

    fn method(&self) -> IdMethod {
        IdMethod::DevEid
    }

    fn allowed_in(&self, env: Environment) -> bool {
        env == Environment::Development
    }

    fn documented_routes(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        &[
            (
                "get",
                "/people",
                "Demo people to sign in as (development only)",
            ),
            (
                "post",
                "/login",
                "Sign in as a demo person (development only)",
            ),
            (
                "post",
                "/enrol-booth",
                "Enrol this device as a booth's kiosk without a code (development only)",
            ),
        ]
    }

    fn routes(&self, booking: Booking) -> Router {
        Router::new()
            .route("/people", get(people))
            .route("/login", post(login))
            .route("/enrol-booth", post(enrol_booth))
            .with_state(booking)
    }
}

#[derive(Serialize)]
struct PersonJson {
    person_id: String,
    kind: &'static str,
    display_name: String,
    detail: String,
    development_only: bool,
}

async fn people(State(booking): State<Booking>) -> Result<Json<Vec<PersonJson>>, ApiError> {
    let people = booking.store().people().await?;
    Ok(Json(
        people
            .into_iter()
            .map(|p| PersonJson {
                person_id: p.subject.id_string(),
                kind: p.subject.kind(),
                display_name: p.display_name,
                detail: p.detail,
                development_only: true,
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
struct Login {
    person_id: Uuid,
}

#[derive(Serialize)]
struct LoginJson {
    #[serde(flatten)]
    identity: api::IdentityJson,
    development_only: bool,
}

async fn login(
    State(booking): State<Booking>,
    body: Result<Json<Login>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(Login { person_id }) = body.map_err(|_| {
        ApiError::unprocessable("invalid_request", "send {\"person_id\": \"<uuid>\"}")
    })?;
    let store = booking.store();
    let mut subject = None;
    for candidate in [
        Subject::Citizen(crate::ids::CitizenId(person_id)),
        Subject::Officer(crate::ids::OfficerId(person_id)),
        Subject::Guide(crate::ids::GuideId(person_id)),
    ] {
        if store.display_name(&candidate).await?.is_some() {
            subject = Some(candidate);
            break;
        }
    }
    let subject = subject.ok_or_else(|| ApiError::not_found("unknown_person", "no such person"))?;
    let (identity, cookie) = booking
        .sessions()
        .sign_in(subject, IdMethod::DevEid)
        .await?;
    tracing::info!(kind = subject.kind(), "signed in with the development e-ID");
    let mut res = Json(LoginJson {
        identity: (&identity).into(),
        development_only: true,
    })
    .into_response();
    cookie.apply(res.headers_mut());
    Ok(res)
}

#[derive(Deserialize)]
struct EnrolBooth {
    booth_id: crate::ids::BoothId,
}

/// Enrols the calling device as a booth's kiosk at once: what a centre admin's code does, for
/// trying Närvaro on one machine.
async fn enrol_booth(
    State(booking): State<Booking>,
    body: Result<Json<EnrolBooth>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(EnrolBooth { booth_id }) = body.map_err(|_| {
        ApiError::unprocessable("invalid_request", "send {\"booth_id\": \"<uuid>\"}")
    })?;
    let secret = crate::secrets::random_secret()
        .map_err(|_| ApiError::internal(std::io::Error::other("random source failed")))?;
    let device = booking
        .store()
        .enrol_booth_device_directly(
            booth_id,
            Uuid::new_v4(),
            &crate::secrets::sha256_hex(&secret),
            booking.clock().now(),
        )
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound(_) => {
                ApiError::not_found("booth_not_found", "no such booth")
            }
            e => e.into(),
        })?;
    tracing::info!("booth kiosk enrolled with the development e-ID");
    Ok(crate::api::booth_enrolled_response(
        &booking, &device, &secret,
    ))
}
