//! Follow-up: the citizen's survey after a meeting, feedback (synpunkter) as codes, and the
//! figures per centre, agency, service and period for the admins who answer for them.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::slots::day_of;
use super::{Actor, ApiError, Caller, json_body, parse_path_id};
use crate::Booking;
use crate::identity::Subject;
use crate::ids::*;
use crate::schedule::local_to_utc;
use crate::store::{FeedbackKind, FollowUp, FollowUpFilter, NewFeedback, StoreError, SurveyAnswer};

/// Most days one follow-up query covers.
const MAX_PERIOD_DAYS: i64 = 366;

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

/// An agency admin sees their agency's figures, a centre admin their centre's: the filter is
/// narrowed to it whatever was asked.
pub(crate) async fn figures(
    State(booking): State<Booking>,
    actor: Actor,
    query: Result<Query<FollowUpQuery>, QueryRejection>,
) -> Result<Json<FollowUp>, ApiError> {
    let Query(q) = query.map_err(|_| {
        ApiError::unprocessable(
            "invalid_request",
            "from and to (YYYY-MM-DD) are needed; ids must be UUIDs",
        )
    })?;
    let (first, last) = (day_of(&q.from, "from")?, day_of(&q.to, "to")?);
    if last < first || last - first >= MAX_PERIOD_DAYS {
        return Err(ApiError::unprocessable(
            "invalid_range",
            format!("to must be on or after from, at most {MAX_PERIOD_DAYS} days"),
        ));
    }
    let mut filter = FollowUpFilter {
        centre: q.centre_id,
        agency: q.agency_id,
        service: q.service_id,
        from: local_to_utc(first, 0),
        until: local_to_utc(last + 1, 0),
    };
    match &actor {
        Actor::Officer(o) => filter.agency = Some(o.agency_id),
        Actor::Guide(g) => filter.centre = Some(g.centre_id),
        Actor::Citizen(_) => return Err(ApiError::forbidden("admin_only", "for admins")),
    }
    Ok(Json(booking.store().follow_up(&filter).await?))
}
