//! Follow-up: the citizen's survey after a meeting, feedback (synpunkter) as codes, and the
//! figures per centre, agency, service and period for the admins and analysts who answer for
//! them (JSON, and CSV per centre and service).

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Actor, ApiError, Caller, json_body, parse_path_id};
use crate::identity::Subject;
use crate::ids::*;
use crate::store::{FeedbackKind, FollowUp, NewFeedback, StoreError, SurveyAnswer};
use crate::{Booking, follow_up};

/// The meeting's citizen answers, on their own device or at the kiosk of the meeting's booth (the
/// booth's end screen, right after the meeting: the answers are still the citizen's).
pub(crate) async fn survey(
    State(booking): State<Booking>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<SurveyAnswer>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let answer = json_body(body)?;
    if !(1..=5).contains(&answer.satisfaction) {
        return Err(ApiError::unprocessable(
            "invalid_satisfaction",
            "satisfaction is 1 to 5",
        ));
    }
    let id: BookingId = parse_path_id(&id, "booking_not_found")?;
    let record = booking
        .store()
        .booking(id)
        .await?
        .ok_or_else(|| ApiError::not_found("booking_not_found", "no such booking"))?;
    let answered_here = match &caller {
        Caller::Person(Actor::Citizen(c)) => *c == record.citizen_id,
        Caller::Booth(device) => device.booth_id == record.booth_id,
        Caller::Person(_) => false,
    };
    if !answered_here {
        return Err(ApiError::forbidden(
            "not_a_participant",
            "only the meeting's citizen answers its survey, here or at its booth",
        ));
    }
    booking
        .store()
        .record_survey(
            id,
            &answer,
            Subject::Citizen(record.citizen_id),
            booking.clock().now(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                ApiError::conflict("already_answered", "the survey is already answered")
            }
            StoreError::InvalidTransition { .. } => ApiError::conflict(
                "meeting_not_ended",
                "the survey opens when the meeting has ended",
            ),
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeedbackBody {
    centre_id: CentreId,
    agency_id: Option<AgencyId>,
    booking_id: Option<BookingId>,
    kind: FeedbackKind,
    /// A code ("waiting_time", "accessibility", "technical", "treatment", …).
    category: String,
}

/// A kiosk gives feedback for its own centre only, and about its own booth's bookings.
pub(crate) async fn feedback(
    State(booking): State<Booking>,
    by: Caller,
    body: Result<Json<FeedbackBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let req = json_body(body)?;
    if let Caller::Booth(device) = &by {
        let booking_elsewhere = match req.booking_id {
            Some(id) => booking
                .store()
                .booking(id)
                .await?
                .is_none_or(|b| b.booth_id != device.booth_id),
            None => false,
        };
        if req.centre_id != device.centre_id || booking_elsewhere {
            return Err(ApiError::forbidden(
                "not_your_centre",
                "a kiosk gives feedback about its own centre and booth",
            ));
        }
    }
    if !super::bookings::is_category_code(&req.category) {
        return Err(ApiError::unprocessable(
            "invalid_category",
            "category is a code (a-z, 0-9, _ and -, at most 40), never free text",
        ));
    }
    let new = NewFeedback {
        centre_id: req.centre_id,
        agency_id: req.agency_id,
        booking_id: req.booking_id,
        kind: req.kind,
        category: req.category,
        at: booking.clock().now(),
    };
    booking
        .store()
        .record_feedback(&new)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::unprocessable(
                "unknown_reference",
                "the centre, agency or booking does not exist",
            ),
            other => other.into(),
        })?;
    Ok(StatusCode::CREATED)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FollowUpQuery {
    /// First and last local day, `YYYY-MM-DD`.
    from: String,
    to: String,
    centre_id: Option<CentreId>,
    agency_id: Option<AgencyId>,
    service_id: Option<ServiceId>,
}

impl From<follow_up::FollowUpError> for ApiError {
    fn from(e: follow_up::FollowUpError) -> ApiError {
        use follow_up::FollowUpError as E;
        match e {
            E::InvalidDate(field) => ApiError::unprocessable(
                "invalid_date",
                format!("{field} must be a date, YYYY-MM-DD"),
            ),
            E::InvalidRange => {
                ApiError::unprocessable("invalid_range", E::InvalidRange.to_string())
            }
            E::NotAllowed => ApiError::forbidden(
                "admin_or_analyst_only",
                "only admins and analysts read follow-up figures",
            ),
            E::OutsideScope => ApiError::forbidden(
                "outside_your_scope",
                "you read the figures of your own agency or centre only",
            ),
            E::Store(e) => e.into(),
        }
    }
}

fn request_of(
    query: Result<Query<FollowUpQuery>, QueryRejection>,
) -> Result<follow_up::Request, ApiError> {
    let Query(q) = query.map_err(|_| {
        ApiError::unprocessable(
            "invalid_request",
            "from and to (YYYY-MM-DD) are needed; ids must be UUIDs",
        )
    })?;
    Ok(follow_up::Request::new(
        &q.from,
        &q.to,
        q.centre_id,
        q.agency_id,
        q.service_id,
    )?)
}

/// The figures of the caller's agency or centre (see [`crate::follow_up`] for the rule); a
/// filter naming another is refused with 403 `outside_your_scope`.
pub(crate) async fn figures(
    State(booking): State<Booking>,
    actor: Actor,
    query: Result<Query<FollowUpQuery>, QueryRejection>,
) -> Result<Json<FollowUp>, ApiError> {
    let request = request_of(query)?;
    Ok(Json(
        follow_up::figures(&booking, actor.subject(), &request).await?,
    ))
}

/// The same figures per centre and service, as CSV (RFC 4180, UTF-8), to download.
pub(crate) async fn csv(
    State(booking): State<Booking>,
    actor: Actor,
    query: Result<Query<FollowUpQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let request = request_of(query)?;
    let groups = follow_up::groups(&booking, actor.subject(), &request).await?;
    let body = follow_up::to_csv(&groups);
    let disposition = format!(
        "attachment; filename=\"narvaro-uppfoljning-{}-{}.csv\"",
        request.from_date(),
        request.to_date()
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
