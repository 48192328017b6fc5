//! Bookings: create and list (staff), start (guide), join (participants), and the booth's view.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use signalling::ids::RoomId;
use signalling::token::Role;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tracing::Instrument;

use super::{ApiError, Staff, rfc3339};
use crate::Booking;
use crate::clock::local_day_bounds;
use crate::identity::{Identity, Subject};
use crate::ids::*;
use crate::personnummer::Personnummer;
use crate::store::{BookingFilter, BookingState, BookingView, NewBooking, StaffAccess, StoreError};

/// Longest meeting that can be booked, in minutes.
const MAX_DURATION_MINUTES: i64 = 480;
/// What a citizen is called towards the media side and other participants.
const CITIZEN_LABEL: &str = "Medborgare";

#[derive(Serialize)]
pub(crate) struct NamedJson<I> {
    id: I,
    name: String,
}

#[derive(Serialize)]
pub(crate) struct BookingJson {
    booking_id: BookingId,
    room_id: RoomId,
    state: BookingState,
    starts_at: String,
    duration_minutes: i64,
    service: String,
    agency: String,
    officer: NamedJson<OfficerId>,
    booth: NamedJson<BoothId>,
    citizen_name: String,
}

impl From<BookingView> for BookingJson {
    fn from(v: BookingView) -> Self {
        BookingJson {
            booking_id: v.id,
            room_id: v.id.room_id(),
            state: v.state,
            starts_at: rfc3339(v.starts_at),
            duration_minutes: v.duration_minutes,
            service: v.service.name,
            agency: v.agency.name,
            officer: NamedJson {
                id: v.officer.id,
                name: v.officer.name,
            },
            booth: NamedJson {
                id: v.booth.id,
                name: v.booth.name,
            },
            citizen_name: v.citizen_name,
        }
    }
}

/// The personnummer never appears in `Debug` (it is a plain string until parsed).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBooking {
    service_id: ServiceId,
    officer_id: OfficerId,
    booth_id: BoothId,
    starts_at: String,
    duration_minutes: i64,
    citizen_personnummer: String,
    citizen_name: Option<String>,
}

fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    // The rejection text can quote the body, which may hold a personnummer: keep it generic.
    body.map(|Json(b)| b).map_err(|e| match e {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "json_required",
            "send application/json",
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

fn parse_path_id<T: std::str::FromStr>(raw: &str, code: &'static str) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(code, "no such thing"))
}

fn guide_only(identity: &Identity) -> Result<GuideId, ApiError> {
    match identity.subject {
        Subject::Guide(id) => Ok(id),
        _ => Err(ApiError::forbidden(
            "guide_only",
            "only a service guide may do this",
        )),
    }
}

fn access(booking: &Booking, identity: &Identity, reason: &str) -> StaffAccess {
    StaffAccess {
        actor: identity.subject,
        reason: reason.to_owned(),
        at: booking.clock().now(),
    }
}

pub(crate) async fn create(
    State(booking): State<Booking>,
    identity: Identity,
    body: Result<Json<CreateBooking>, JsonRejection>,
) -> Result<(StatusCode, Json<BookingJson>), ApiError> {
    let guide_id = guide_only(&identity)?;
    let req = json_body(body)?;
    let store = booking.store();
    let guide = store
        .guide(guide_id)
        .await?
        .ok_or_else(ApiError::not_signed_in)?;
    let booth = store
        .booth(req.booth_id)
        .await?
        .ok_or_else(|| ApiError::unprocessable("unknown_booth", "no such booth"))?;
    if booth.centre_id != guide.centre_id {
        return Err(ApiError::forbidden(
            "not_your_centre",
            "the booth is at another centre",
        ));
    }
    let starts_at = OffsetDateTime::parse(&req.starts_at, &Rfc3339)
        .map_err(|_| ApiError::unprocessable("invalid_starts_at", "starts_at must be RFC 3339"))?
        .unix_timestamp();
    if !(1..=MAX_DURATION_MINUTES).contains(&req.duration_minutes) {
        return Err(ApiError::unprocessable(
            "invalid_duration",
            format!("duration_minutes must be 1 to {MAX_DURATION_MINUTES}"),
        ));
    }
    let personnummer = Personnummer::parse(&req.citizen_personnummer)
        .map_err(|e| ApiError::unprocessable("invalid_personnummer", e.to_string()))?;
    let name = req
        .citizen_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(CITIZEN_LABEL);
    let now = booking.clock().now();
    let new = NewBooking {
        service_id: req.service_id,
        officer_id: req.officer_id,
        booth_id: req.booth_id,
        citizen_personnummer: personnummer,
        citizen_name: name.to_owned(),
        starts_at,
        duration_minutes: req.duration_minutes,
        created_by: Some(guide_id),
        created_at: now,
    };
    let view = store
        .create_booking(
            &new,
            &access(
                &booking,
                &identity,
                "guide booked a meeting for the citizen",
            ),
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound("officer") => {
                ApiError::unprocessable("unknown_officer", "no such officer")
            }
            StoreError::NotFound("service") => {
                ApiError::unprocessable("unknown_service", "no such service")
            }
            StoreError::NotFound("booth") => {
                ApiError::unprocessable("unknown_booth", "no such booth")
            }
            StoreError::Invalid(msg) => ApiError::unprocessable("service_not_of_officer", msg),
            other => other.into(),
        })?;
    tracing::info!(booking_id = %view.id, "booking created");
    Ok((StatusCode::CREATED, Json(view.into())))
}

pub(crate) async fn list(
    State(booking): State<Booking>,
    identity: Identity,
) -> Result<Json<Vec<BookingJson>>, ApiError> {
    let (today, _) = local_day_bounds(booking.clock().now());
    let store = booking.store();
    let (filter, reason) = match Staff::of(&identity)? {
        Staff::Guide(id) => {
            let guide = store.guide(id).await?.ok_or_else(ApiError::not_signed_in)?;
            (
                BookingFilter::Centre {
                    centre: guide.centre_id,
                    from: today,
                },
                "guide's agenda of the centre",
            )
        }
        Staff::Officer(id) => (
            BookingFilter::Officer {
                officer: id,
                from: today,
            },
            "officer's own agenda",
        ),
    };
    let views = store
        .list_bookings(filter, &access(&booking, &identity, reason))
        .await?;
    Ok(Json(views.into_iter().map(BookingJson::from).collect()))
}

#[derive(Serialize)]
pub(crate) struct StartedJson {
    booking_id: BookingId,
    room_id: RoomId,
    state: BookingState,
}

pub(crate) async fn start(
    State(booking): State<Booking>,
    identity: Identity,
    Path(id): Path<String>,
) -> Result<Json<StartedJson>, ApiError> {
    let guide_id = guide_only(&identity)?;
    let id: BookingId = parse_path_id(&id, "booking_not_found")?;
    let span = tracing::info_span!("start_booking", booking_id = %id);
    async move {
        let store = booking.store();
        let record = store
            .booking(id)
            .await?
            .ok_or_else(|| ApiError::not_found("booking_not_found", "no such booking"))?;
        let guide = store
            .guide(guide_id)
            .await?
            .ok_or_else(ApiError::not_signed_in)?;
        if guide.centre_id != record.centre_id {
            return Err(ApiError::forbidden(
                "not_your_centre",
                "the booking is at another centre",
            ));
        }
        let state = store.start_booking(id).await.map_err(|e| match e {
            StoreError::NotFound(_) => ApiError::not_found("booking_not_found", "no such booking"),
            other => other.into(),
        })?;
        tracing::info!("booking started");
        Ok(Json(StartedJson {
            booking_id: id,
            room_id: id.room_id(),
            state,
        }))
    }
    .instrument(span)
    .await
}

#[derive(Serialize)]
pub(crate) struct JoinJson {
    room_id: RoomId,
    token: String,
    signalling_url: String,
    expires_at: String,
    display_name: String,
    role: Role,
}

pub(crate) async fn join(
    State(booking): State<Booking>,
    identity: Identity,
    Path(id): Path<String>,
) -> Result<Json<JoinJson>, ApiError> {
    let id: BookingId = parse_path_id(&id, "booking_not_found")?;
    let span = tracing::info_span!("join_booking", booking_id = %id);
    async move {
        let record = booking
            .store()
            .booking(id)
            .await?
            .ok_or_else(|| ApiError::not_found("booking_not_found", "no such booking"))?;
        let (role, name) = match identity.subject {
            Subject::Officer(o) if o == record.officer_id => {
                (Role::Officer, identity.display_name.clone())
            }
            Subject::Citizen(c) if c == record.citizen_id => {
                (Role::Citizen, CITIZEN_LABEL.to_owned())
            }
            _ => {
                return Err(ApiError::forbidden(
                    "not_a_participant",
                    "you are not a participant of this booking",
                ));
            }
        };
        match record.state {
            BookingState::Started => {}
            BookingState::Booked => {
                return Err(ApiError::conflict(
                    "booking_not_started",
                    "the meeting has not been started yet",
                ));
            }
            BookingState::Ended | BookingState::Cancelled => {
                return Err(ApiError::conflict(
                    "booking_closed",
                    "the meeting is over or cancelled",
                ));
            }
        }
        // Stable per person and booking, so signalling can recognise a rejoin, but linkable to
        // nobody without the data key.
        let sub = format!(
            "p-{}",
            booking.data_key().pseudonym(&[
                id.to_string().as_bytes(),
                identity.subject.kind().as_bytes(),
                identity.subject.id_string().as_bytes(),
            ])
        );
        let now = booking.clock().now();
        let tokens = booking.token_issuer();
        let claims = tokens.claims(
            id.room_id(),
            role,
            sub,
            name.clone(),
            now,
            booking.config().join_token_lifetime_secs,
        );
        let token = tokens.sign(&claims);
        tracing::info!(role = ?role, "join token issued");
        Ok(Json(JoinJson {
            room_id: claims.room,
            token,
            signalling_url: booking.config().signalling_url.clone(),
            expires_at: rfc3339(claims.exp),
            display_name: name,
            role,
        }))
    }
    .instrument(span)
    .await
}

#[derive(Serialize)]
pub(crate) struct BoothNextJson {
    booking_id: BookingId,
    room_id: RoomId,
    state: BookingState,
    starts_at: String,
    duration_minutes: i64,
    officer_name: String,
    agency_name: String,
    service: String,
}

pub(crate) async fn booth_next(
    State(booking): State<Booking>,
    identity: Identity,
    Path(booth_id): Path<String>,
) -> Result<Json<BoothNextJson>, ApiError> {
    let Subject::Citizen(citizen) = identity.subject else {
        return Err(ApiError::forbidden(
            "citizen_only",
            "only the citizen sees their own booking",
        ));
    };
    let booth_id: BoothId = parse_path_id(&booth_id, "booth_not_found")?;
    let store = booking.store();
    store
        .booth(booth_id)
        .await?
        .ok_or_else(|| ApiError::not_found("booth_not_found", "no such booth"))?;
    let now = booking.clock().now();
    let (_, end_of_day) = local_day_bounds(now);
    let next = store
        .next_booking_at_booth(citizen, booth_id, now, end_of_day)
        .await?
        .ok_or_else(|| ApiError::not_found("no_booking", "no booking at this booth today"))?;
    Ok(Json(BoothNextJson {
        booking_id: next.id,
        room_id: next.id.room_id(),
        state: next.state,
        starts_at: rfc3339(next.starts_at),
        duration_minutes: next.duration_minutes,
        officer_name: next.officer_name,
        agency_name: next.agency_name,
        service: next.service_name,
    }))
}
