//! Help calls: the booth's "call the guide" button, and the guides of its centre answering. A
//! call is a booth, a reason code and times; it never says anything about the citizen.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{Actor, ApiError, json_body, parse_path_id, rfc3339};
use crate::Booking;
use crate::ids::{BoothId, GuideId, HelpCallId};
use crate::store::{BoothDevice, HelpCall, HelpReason, StoreError};

#[derive(Serialize)]
pub(crate) struct HelpCallJson {
    id: HelpCallId,
    booth_id: BoothId,
    booth_name: String,
    reason: HelpReason,
    called_at: String,
    answered_at: Option<String>,
    answered_by: Option<GuideId>,
}

impl From<HelpCall> for HelpCallJson {
    fn from(c: HelpCall) -> Self {
        HelpCallJson {
            id: c.id,
            booth_id: c.booth_id,
            booth_name: c.booth_name,
            reason: c.reason,
            called_at: rfc3339(c.called_at),
            answered_at: c.answered_at.map(rfc3339),
            answered_by: c.answered_by,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CallBody {
    reason: HelpReason,
}

/// The kiosk calls its centre's guides. Pressing again while a call is open answers that call
/// (200), so a double tap on a touch screen is one call.
pub(crate) async fn call(
    State(booking): State<Booking>,
    device: BoothDevice,
    body: Result<Json<CallBody>, JsonRejection>,
) -> Result<(StatusCode, Json<HelpCallJson>), ApiError> {
    let CallBody { reason } = json_body(body)?;
    let (call, created) = booking
        .store()
        .call_help(device.booth_id, reason, booking.clock().now())
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => {
                ApiError::not_found("booth_not_found", "the kiosk's booth is gone")
            }
            other => other.into(),
        })?;
    let status = if created {
        tracing::info!(booth_id = %device.booth_id, reason = reason.as_str(), "help called");
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(call.into())))
}

/// The guide's centre's open calls, oldest first.
pub(crate) async fn open(
    State(booking): State<Booking>,
    actor: Actor,
) -> Result<Json<Vec<HelpCallJson>>, ApiError> {
    let Actor::Guide(guide) = actor else {
        return Err(ApiError::forbidden("guide_only", "for the centre's guides"));
    };
    let calls = booking.store().open_help_calls(guide.centre_id).await?;
    Ok(Json(calls.into_iter().map(Into::into).collect()))
}

/// A guide of the booth's centre is on the way.
pub(crate) async fn answer(
    State(booking): State<Booking>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<HelpCallJson>, ApiError> {
    let Actor::Guide(guide) = actor else {
        return Err(ApiError::forbidden("guide_only", "for the centre's guides"));
    };
    let id: HelpCallId = parse_path_id(&id, "help_call_not_found")?;
    let store = booking.store();
    let found = store.help_call(id).await?;
    // Another centre's call is not found, as an unknown one: ids of other centres leak nothing.
    let Some(call) = found.filter(|c| c.centre_id == guide.centre_id) else {
        return Err(ApiError::not_found(
            "help_call_not_found",
            "no such help call",
        ));
    };
    if call.answered_at.is_some() {
        return Err(ApiError::conflict(
            "already_answered",
            "another guide has answered the call",
        ));
    }
    let answered = store
        .answer_help_call(id, guide.id, booking.clock().now())
        .await
        .map_err(|e| match e {
            StoreError::Invalid(_) => {
                ApiError::conflict("already_answered", "another guide has answered the call")
            }
            other => other.into(),
        })?;
    tracing::info!(booth_id = %answered.booth_id, "help call answered");
    Ok(Json(answered.into()))
}
