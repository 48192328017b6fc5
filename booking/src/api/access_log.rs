//! The access log for auditors: `GET /api/v1/access-log?from=…&until=…[&booking_id=…][&limit=…]`.
//!
//! An auditor (an officer flagged as one: the agency's data protection officer) reads their own
//! agency's part of the log: entries about bookings any of its officers take part in, and entries
//! of its officers' own actions. Reading is itself written to the log. Nothing here, or anywhere
//! in the API, updates or deletes an entry.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};

use super::{Actor, ApiError, rfc3339, staff_access};
use crate::Booking;
use crate::identity::Subject;
use crate::ids::{BookingId, CitizenId};
use crate::schedule::parse_rfc3339;
use crate::store::{AccessLogEntry, AccessLogQuery};

/// Longest period one read covers, so a read is a bounded query.
const MAX_PERIOD_SECS: i64 = 366 * 86_400;
const DEFAULT_LIMIT: i64 = 1_000;
const MAX_LIMIT: i64 = 10_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccessLogParams {
    /// RFC 3339; the period is `[from, until)`.
    from: String,
    until: String,
    booking_id: Option<BookingId>,
    limit: Option<i64>,
}

#[derive(Serialize)]
pub(crate) struct EntryJson {
    at: String,
    actor_kind: &'static str,
    actor_id: String,
    action: String,
    citizen_id: Option<CitizenId>,
    booking_id: Option<BookingId>,
    reason: String,
}

impl From<AccessLogEntry> for EntryJson {
    fn from(e: AccessLogEntry) -> Self {
        EntryJson {
            at: rfc3339(e.at),
            actor_kind: e.actor.kind(),
            actor_id: e.actor.id_string(),
            action: e.action,
            citizen_id: e.citizen_id,
            booking_id: e.booking_id,
            reason: e.reason,
        }
    }
}

#[derive(Serialize)]
pub(crate) struct AccessLogJson {
    entries: Vec<EntryJson>,
    /// The limit was reached: ask again from the last entry's time for more.
    truncated: bool,
}

pub(crate) async fn read(
    State(booking): State<Booking>,
    actor: Actor,
    params: Result<Query<AccessLogParams>, QueryRejection>,
) -> Result<Json<AccessLogJson>, ApiError> {
    let Actor::Officer(auditor) = &actor else {
        return Err(ApiError::forbidden("auditor_only", "for auditors"));
    };
    let Query(p) = params.map_err(|_| {
        ApiError::unprocessable(
            "invalid_request",
            "from and until (RFC 3339) are needed; booking_id must be a UUID, limit a number",
        )
    })?;
    let time = |value: &str, name: &str| {
        parse_rfc3339(value).ok_or_else(|| {
            ApiError::unprocessable("invalid_request", format!("{name} is not an RFC 3339 time"))
        })
    };
    let (from, until) = (time(&p.from, "from")?, time(&p.until, "until")?);
    if until <= from || until - from > MAX_PERIOD_SECS {
        return Err(ApiError::unprocessable(
            "invalid_range",
            "until must be after from, at most 366 days later",
        ));
    }
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::unprocessable(
            "invalid_limit",
            format!("limit is 1 to {MAX_LIMIT}"),
        ));
    }
    let query = AccessLogQuery {
        agency: auditor.agency_id,
        from,
        until,
        booking: p.booking_id,
        // One more than asked, to tell whether there is more.
        limit: limit + 1,
    };
    let access = staff_access(
        &booking,
        Subject::Officer(auditor.id),
        "auditor read the agency's access log",
    );
    let mut entries = booking
        .store()
        .access_log_of_agency(&query, &access)
        .await?;
    let truncated = entries.len() as i64 > limit;
    entries.truncate(limit as usize);
    Ok(Json(AccessLogJson {
        entries: entries.into_iter().map(EntryJson::from).collect(),
        truncated,
    }))
}
