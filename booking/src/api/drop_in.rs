//! The drop-in queue per centre: the guide gives a citizen without a booking a ticket for a
//! service; the booth and the guide see its place and the estimated wait; an officer of the
//! service's agency calls the next ticket they can serve.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{Actor, ApiError, json_body, parse_path_id};
use crate::Booking;
use crate::ids::*;
use crate::store::{StoreError, Ticket, TicketState};

#[derive(Serialize)]
pub(crate) struct TicketJson {
    #[serde(flatten)]
    ticket: Ticket,
    /// While waiting: the place in the queue times the service's length, shared among the
    /// officers who handle it.
    estimated_wait_minutes: Option<i64>,
}

async fn with_estimate(booking: &Booking, ticket: Ticket) -> Result<TicketJson, ApiError> {
    let estimated_wait_minutes = match ticket.position {
        None => None,
        Some(position) => {
            let store = booking.store();
            let minutes = store
                .service(ticket.service_id)
                .await?
                .map_or(30, |s| s.default_duration_minutes);
            let officers = store
                .officers_serving(ticket.service_id)
                .await?
                .len()
                .max(1) as i64;
            // Those ahead are served first, `officers` at a time.
            Some((position - 1) / officers * minutes)
        }
    };
    Ok(TicketJson {
        ticket,
        estimated_wait_minutes,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JoinBody {
    service_id: ServiceId,
}

/// The guide's own centre: drop-in happens where the citizen stands.
pub(crate) async fn join(
    State(booking): State<Booking>,
    actor: Actor,
    body: Result<Json<JoinBody>, JsonRejection>,
) -> Result<(StatusCode, Json<TicketJson>), ApiError> {
    let req = json_body(body)?;
    let Actor::Guide(guide) = &actor else {
        return Err(ApiError::forbidden(
            "guide_only",
            "only a service guide may do this",
        ));
    };
    booking
        .store()
        .service(req.service_id)
        .await?
        .ok_or_else(|| ApiError::unprocessable("unknown_service", "no such service"))?;
    let ticket = booking
        .store()
        .join_drop_in(guide.centre_id, req.service_id, booking.clock().now())
        .await?;
    tracing::info!(ticket = ticket.number, "drop-in ticket issued");
    Ok((
        StatusCode::CREATED,
        Json(with_estimate(&booking, ticket).await?),
    ))
}

async fn load(booking: &Booking, actor: &Actor, raw: &str) -> Result<Ticket, ApiError> {
    let id: TicketId = parse_path_id(raw, "ticket_not_found")?;
    let ticket = booking
        .store()
        .ticket(id)
        .await?
        .ok_or_else(|| ApiError::not_found("ticket_not_found", "no such ticket"))?;
    match actor {
        Actor::Guide(g) if g.centre_id != ticket.centre_id => Err(ApiError::forbidden(
            "not_your_centre",
            "the ticket is at another centre",
        )),
        _ => Ok(ticket),
    }
}

pub(crate) async fn read(
    State(booking): State<Booking>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<TicketJson>, ApiError> {
    let ticket = load(&booking, &actor, &id).await?;
    Ok(Json(with_estimate(&booking, ticket).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NextBody {
    centre_id: CentreId,
}

pub(crate) async fn call_next(
    State(booking): State<Booking>,
    actor: Actor,
    body: Result<Json<NextBody>, JsonRejection>,
) -> Result<Json<TicketJson>, ApiError> {
    let req = json_body(body)?;
    let Actor::Officer(officer) = &actor else {
        return Err(ApiError::forbidden(
            "officer_only",
            "only an officer calls the next citizen",
        ));
    };
    let ticket = booking
        .store()
        .call_next_ticket(req.centre_id, officer.id, booking.clock().now())
        .await?
        .ok_or_else(|| ApiError::not_found("queue_empty", "nobody is waiting for you there"))?;
    Ok(Json(with_estimate(&booking, ticket).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CloseBody {
    state: TicketState,
}

pub(crate) async fn close(
    State(booking): State<Booking>,
    actor: Actor,
    Path(id): Path<String>,
    body: Result<Json<CloseBody>, JsonRejection>,
) -> Result<Json<TicketJson>, ApiError> {
    let req = json_body(body)?;
    if !matches!(req.state, TicketState::Served | TicketState::Left) {
        return Err(ApiError::unprocessable(
            "invalid_request",
            "state is served or left",
        ));
    }
    let ticket = load(&booking, &actor, &id).await?;
    let closed = booking
        .store()
        .close_ticket(ticket.id, req.state)
        .await
        .map_err(|e| match e {
            StoreError::Invalid(msg) => ApiError::conflict("ticket_closed", msg),
            other => other.into(),
        })?;
    Ok(Json(with_estimate(&booking, closed).await?))
}
