//! Bookings: create and list (staff), the lifecycle (reschedule, cancel, check in, no-show, start,
//! end, each written to the booking's history), join (participants), and the booth's view.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use signalling::ids::RoomId;
use signalling::protocol::EndReason;
use signalling::token::Role;
use tracing::Instrument;

use super::{Actor, ApiError, Caller, Staff, json_body, parse_path_id, rfc3339, staff_access};
use crate::Booking;
use crate::clock::local_day_bounds;
use crate::identity::{IdMethod, Identity, Subject};
use crate::ids::*;
use crate::personnummer::Personnummer;
use crate::schedule::parse_rfc3339;
use crate::store::{
    BOOTH_AT_ANOTHER_CENTRE, BookingChange, BookingEvent, BookingFilter, BookingIdentification,
    BookingRecord, BookingState, BookingView, CancelReason, DocumentType, Named, NewBooking,
    Outcome, Participant, StaffAccess, StoreError,
};

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
    /// Every officer of the meeting; the first is `officer`.
    officers: Vec<NamedJson<OfficerId>>,
    interpreter: Option<NamedJson<InterpreterId>>,
    language: Option<String>,
    booth: NamedJson<BoothId>,
    citizen_name: String,
    /// Only when one booking is read: whole for the booking's officers (their matter needs it),
    /// masked to the date of birth for guides (`YYYYMMDD-****`). Never in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    citizen_personnummer: Option<String>,
    /// How the citizen was identified for the meeting; none yet.
    identified: Option<super::IdentifiedJson>,
}

impl<I> NamedJson<I> {
    pub(crate) fn new(id: I, name: String) -> Self {
        NamedJson { id, name }
    }
}

impl<I> From<Named<I>> for NamedJson<I> {
    fn from(n: Named<I>) -> Self {
        NamedJson {
            id: n.id,
            name: n.name,
        }
    }
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
            officer: v.officer.into(),
            officers: v.officers.into_iter().map(NamedJson::from).collect(),
            interpreter: v.interpreter.map(NamedJson::from),
            language: v.language,
            booth: v.booth.into(),
            citizen_name: v.citizen_name,
            citizen_personnummer: None,
            identified: v.identification.as_ref().map(Into::into),
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
    /// Officers of other services (a resource group): one meeting, one time.
    #[serde(default)]
    additional_officers: Vec<Participant>,
    interpreter_id: Option<InterpreterId>,
    /// The citizen's language, a BCP 47 tag ("ar", "swl").
    language: Option<String>,
    /// For an SMS confirmation and reminder (when SMS is configured): `+` and 8–15 digits. Kept
    /// only in the outbox, not with the citizen.
    citizen_phone: Option<String>,
}

/// Most officers in one meeting.
pub(crate) const MAX_OFFICERS: usize = 6;

/// E.164: `+`, then 8 to 15 digits (country code included).
fn is_phone_number(s: &str) -> bool {
    s.strip_prefix('+')
        .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
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

pub(crate) async fn create(
    State(booking): State<Booking>,
    identity: Identity,
    body: Result<Json<CreateBooking>, JsonRejection>,
) -> Result<(StatusCode, Json<BookingJson>), ApiError> {
    let guide_id = guide_only(&identity)?;
    let req = json_body(body)?;
    let store = booking.store();
    let (starts_at, duration_minutes) = parse_time(&req.starts_at, req.duration_minutes)?;
    if req.additional_officers.len() + 1 > MAX_OFFICERS {
        return Err(ApiError::unprocessable(
            "too_many_officers",
            format!("at most {MAX_OFFICERS} officers in one meeting"),
        ));
    }
    super::resources::optional_language(req.language.as_deref())?;
    if let Some(phone) = &req.citizen_phone
        && !is_phone_number(phone)
    {
        return Err(ApiError::unprocessable(
            "invalid_phone",
            "citizen_phone: + and 8 to 15 digits",
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
        duration_minutes,
        additional_officers: req.additional_officers,
        interpreter_id: req.interpreter_id,
        language: req.language,
        created_by: Some(guide_id),
        created_at: now,
        notify: booking.notify_for(req.citizen_phone),
    };
    let view = store
        .create_booking(
            &new,
            &staff_access(
                &booking,
                identity.subject,
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
            StoreError::NotFound("interpreter") => {
                ApiError::unprocessable("unknown_interpreter", "no such interpreter")
            }
            StoreError::NotFound("guide") => ApiError::not_signed_in(),
            StoreError::Invalid(BOOTH_AT_ANOTHER_CENTRE) => {
                ApiError::forbidden("not_your_centre", BOOTH_AT_ANOTHER_CENTRE)
            }
            StoreError::Invalid("an officer is listed twice") => {
                ApiError::unprocessable("duplicate_officer", "an officer is listed twice")
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
        .list_bookings(filter, &staff_access(&booking, identity.subject, reason))
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
        let state = store
            .change_booking(
                id,
                &BookingChange::Start,
                identity.subject,
                booking.clock().now(),
            )
            .await
            .map_err(change_error)?
            .state;
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
    caller: Caller,
    // The session behind `caller`, when a person calls (the extractor keeps it for the request).
    session: Option<axum::Extension<Identity>>,
    Path(id): Path<String>,
) -> Result<Json<JoinJson>, ApiError> {
    let session_method = session.map(|axum::Extension(i)| i.method);
    let id: BookingId = parse_path_id(&id, "booking_not_found")?;
    let span = tracing::info_span!("join_booking", booking_id = %id);
    async move {
        let store = booking.store();
        let record = store
            .booking(id)
            .await?
            .ok_or_else(|| ApiError::not_found("booking_not_found", "no such booking"))?;
        let not_a_participant =
            || ApiError::forbidden("not_a_participant", "you are not a participant of this booking");
        // Who joins as whom, and how they were identified, as the others will see it.
        let (role, name, person, identified) = match &caller {
            Caller::Person(Actor::Officer(o)) if record.officers.iter().any(|p| p.officer_id == o.id) => {
                let label = session_method.map(|m| m.label().to_owned()).unwrap_or_default();
                (Role::Officer, o.display_name.clone(), Subject::Officer(o.id), label)
            }
            Caller::Person(Actor::Citizen(c)) if *c == record.citizen_id => {
                let label = match store.booking_identification(id).await? {
                    Some(i) => i.label(),
                    None => session_method.map(|m| m.label().to_owned()).unwrap_or_default(),
                };
                (Role::Citizen, CITIZEN_LABEL.to_owned(), Subject::Citizen(*c), label)
            }
            // The booth's kiosk joins for the citizen once they have been identified for it.
            Caller::Booth(device) if device.booth_id == record.booth_id => {
                let Some(i) = store.booking_identification(id).await? else {
                    return Err(ApiError::conflict(
                        "citizen_not_identified",
                        "the citizen must identify (BankID, or the guide checks an ID document) before the booth joins",
                    ));
                };
                (Role::Citizen, CITIZEN_LABEL.to_owned(), Subject::Citizen(record.citizen_id), i.label())
            }
            Caller::Person(actor) => {
                super::log_refusal(&booking, actor, "not_a_participant", "join token", Some(id)).await;
                return Err(not_a_participant());
            }
            Caller::Booth(_) => return Err(not_a_participant()),
        };
        match record.state {
            BookingState::Started => {}
            BookingState::Booked | BookingState::CheckedIn => {
                return Err(ApiError::conflict(
                    "booking_not_started",
                    "the meeting has not been started yet",
                ));
            }
            BookingState::Ended | BookingState::Cancelled | BookingState::NoShow => {
                return Err(ApiError::conflict(
                    "booking_closed",
                    "the meeting is over or cancelled",
                ));
            }
        }
        // Stable per person and booking (the citizen is the same participant from the kiosk and
        // from their own device), so signalling can recognise a rejoin, but linkable to nobody
        // without the data key.
        let sub = format!(
            "p-{}",
            booking.data_key().pseudonym(&[
                id.to_string().as_bytes(),
                person.kind().as_bytes(),
                person.id_string().as_bytes(),
            ])
        );
        let now = booking.clock().now();
        let tokens = booking.token_issuer();
        let mut claims = tokens.claims(
            id.room_id(),
            role,
            sub,
            name.clone(),
            now,
            booking.config().join_token_lifetime_secs,
        );
        claims.identified = identified;
        // Admission to a meeting is on record before the token exists.
        let via = if matches!(caller, Caller::Booth(_)) { " at the booth's kiosk" } else { "" };
        let access = StaffAccess {
            actor: person,
            reason: format!("join token as {role:?}{via}"),
            at: now,
        };
        store.record_access(&access, "meeting.join_granted", Some(id)).await?;
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

/// A start time (RFC 3339, years 2000–2199) and a length in minutes, checked.
pub(crate) fn parse_time(starts_at: &str, duration_minutes: i64) -> Result<(i64, i64), ApiError> {
    let starts_at = parse_rfc3339(starts_at).ok_or_else(|| {
        ApiError::unprocessable(
            "invalid_starts_at",
            "starts_at must be RFC 3339, years 2000–2199",
        )
    })?;
    if !(1..=MAX_DURATION_MINUTES).contains(&duration_minutes) {
        return Err(ApiError::unprocessable(
            "invalid_duration",
            format!("duration_minutes must be 1 to {MAX_DURATION_MINUTES}"),
        ));
    }
    Ok((starts_at, duration_minutes))
}

fn change_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound("booking") => {
            ApiError::not_found("booking_not_found", "no such booking")
        }
        StoreError::NotFound("booth") => ApiError::unprocessable("unknown_booth", "no such booth"),
        StoreError::Invalid(msg) => ApiError::unprocessable("invalid_request", msg),
        other => other.into(),
    }
}

/// Who may see and change a booking: a guide of its centre, or one of its officers.
async fn staff_of_booking(
    booking: &Booking,
    actor: &Actor,
    raw_id: &str,
) -> Result<BookingRecord, ApiError> {
    let id: BookingId = parse_path_id(raw_id, "booking_not_found")?;
    let record = booking
        .store()
        .booking(id)
        .await?
        .ok_or_else(|| ApiError::not_found("booking_not_found", "no such booking"))?;
    let allowed = match actor {
        Actor::Guide(g) => g.centre_id == record.centre_id,
        Actor::Officer(o) => record.officers.iter().any(|p| p.officer_id == o.id),
        Actor::Citizen(_) => {
            return Err(ApiError::forbidden("staff_only", "only staff may do this"));
        }
    };
    if !allowed {
        super::log_refusal(
            booking,
            actor,
            "not_your_booking",
            "staff use of a booking",
            Some(record.id),
        )
        .await;
        return Err(ApiError::forbidden(
            "not_your_booking",
            "the booking is at another centre or with other officers",
        ));
    }
    Ok(record)
}

async fn apply(
    booking: &Booking,
    actor: &Actor,
    record: &BookingRecord,
    change: BookingChange,
) -> Result<Json<BookingJson>, ApiError> {
    let span =
        tracing::info_span!("change_booking", booking_id = %record.id, change = change.kind());
    async move {
        let store = booking.store();
        store
            .change_booking(record.id, &change, actor.subject(), booking.clock().now())
            .await
            .map_err(change_error)?;
        tracing::info!("booking changed");
        // Cancelling a live meeting, or ending it with an outcome, ends it for everyone in it.
        match change {
            BookingChange::Cancel { .. } => booking.end_meeting(record.id, EndReason::Cancelled),
            BookingChange::End { .. } => booking.end_meeting(record.id, EndReason::Ended),
            _ => {}
        }
        let access = staff_access(booking, actor.subject(), "staff changed the booking");
        read_view(booking, record.id, &access).await
    }
    .instrument(span)
    .await
}

async fn read_view(
    booking: &Booking,
    id: BookingId,
    access: &StaffAccess,
) -> Result<Json<BookingJson>, ApiError> {
    let view = booking
        .store()
        .view_booking(id, access)
        .await?
        .ok_or_else(|| ApiError::not_found("booking_not_found", "no such booking"))?;
    Ok(Json(view.into()))
}

pub(crate) async fn read(
    State(booking): State<Booking>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<BookingJson>, ApiError> {
    let record = staff_of_booking(&booking, &actor, &id).await?;
    let access = staff_access(&booking, actor.subject(), "staff opened the booking");
    let Json(mut view) = read_view(&booking, record.id, &access).await?;
    // Read through the store's logged look-up, so the access log says who saw the number.
    let personnummer = booking
        .store()
        .citizen_personnummer(record.citizen_id, &access)
        .await?;
    view.citizen_personnummer = personnummer.map(|p| match actor {
        Actor::Officer(_) => p.formatted(),
        _ => p.masked(),
    });
    Ok(Json(view))
}

pub(crate) async fn history(
    State(booking): State<Booking>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<Vec<BookingEvent>>, ApiError> {
    let record = staff_of_booking(&booking, &actor, &id).await?;
    Ok(Json(booking.store().booking_history(record.id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RescheduleBody {
    starts_at: String,
    duration_minutes: i64,
    booth_id: Option<BoothId>,
}

pub(crate) async fn reschedule(
    State(booking): State<Booking>,
    actor: Actor,
    Path(id): Path<String>,
    body: Result<Json<RescheduleBody>, JsonRejection>,
) -> Result<Json<BookingJson>, ApiError> {
    let record = staff_of_booking(&booking, &actor, &id).await?;
    let req = json_body(body)?;
    let (starts_at, duration_minutes) = parse_time(&req.starts_at, req.duration_minutes)?;
    let change = BookingChange::Reschedule {
        starts_at,
        duration_minutes,
        booth_id: req.booth_id,
        reminder_before_secs: booking.notify_for(None).reminder_before_secs,
    };
    apply(&booking, &actor, &record, change).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CancelBody {
    reason: CancelReason,
}

pub(crate) async fn cancel(
    State(booking): State<Booking>,
    actor: Actor,
    Path(id): Path<String>,
    body: Result<Json<CancelBody>, JsonRejection>,
) -> Result<Json<BookingJson>, ApiError> {
    let record = staff_of_booking(&booking, &actor, &id).await?;
    let req = json_body(body)?;
    apply(
        &booking,
        &actor,
        &record,
        BookingChange::Cancel { reason: req.reason },
    )
    .await
}

/// Check-in and no-show are the guide's: they see who came to the centre.
async fn by_guide(
    booking: &Booking,
    actor: &Actor,
    id: &str,
    change: BookingChange,
) -> Result<Json<BookingJson>, ApiError> {
    if !matches!(actor, Actor::Guide(_)) {
        return Err(ApiError::forbidden(
            "guide_only",
            "only a service guide may do this",
        ));
    }
    let record = staff_of_booking(booking, actor, id).await?;
    apply(booking, actor, &record, change).await
}

pub(crate) async fn check_in(
    State(booking): State<Booking>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<BookingJson>, ApiError> {
    by_guide(&booking, &actor, &id, BookingChange::CheckIn).await
}

pub(crate) async fn no_show(
    State(booking): State<Booking>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<BookingJson>, ApiError> {
    by_guide(&booking, &actor, &id, BookingChange::NoShow).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IdentifyBody {
    document_type: String,
    /// The last four characters of the document's number (letters or digits).
    document_last4: String,
}

#[derive(Serialize)]
pub(crate) struct IdentificationJson {
    booking_id: BookingId,
    method: crate::identity::IdMethod,
    label: String,
    at: String,
}

/// Assisted identification: the guide has checked the citizen's ID document, and records that
/// under their own name (document type and the last four characters of its number only).
pub(crate) async fn identify(
    State(booking): State<Booking>,
    actor: Actor,
    Path(id): Path<String>,
    body: Result<Json<IdentifyBody>, JsonRejection>,
) -> Result<(StatusCode, Json<IdentificationJson>), ApiError> {
    let Actor::Guide(guide) = &actor else {
        return Err(ApiError::forbidden(
            "guide_only",
            "only a service guide may do this",
        ));
    };
    let record = staff_of_booking(&booking, &actor, &id).await?;
    let req = json_body(body)?;
    let document_type = DocumentType::parse(&req.document_type).ok_or_else(|| {
        ApiError::unprocessable(
            "invalid_document_type",
            "document_type is passport, national_id_card, swedish_id_card, driving_licence or residence_permit_card",
        )
    })?;
    let last4 = req.document_last4.trim().to_ascii_uppercase();
    if last4.len() != 4 || !last4.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ApiError::unprocessable(
            "invalid_document_last4",
            "document_last4 is the last four letters or digits of the document's number",
        ));
    }
    let identification = BookingIdentification {
        method: IdMethod::AssistedByGuide,
        at: booking.clock().now(),
        guide: Some(Named {
            id: guide.id,
            name: guide.display_name.clone(),
        }),
        document_type: Some(document_type),
        document_last4: Some(last4),
    };
    booking
        .store()
        .identify_for_booking(record.id, &identification, actor.subject())
        .await
        .map_err(change_error)?;
    tracing::info!("citizen identified by a guide");
    Ok((
        StatusCode::CREATED,
        Json(IdentificationJson {
            booking_id: record.id,
            method: identification.method,
            label: identification.label(),
            at: rfc3339(identification.at),
        }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EndBody {
    outcome: Outcome,
    /// A short code from the agency's list, not a note about the citizen.
    category: Option<String>,
}

/// Outcome categories are codes: lower-case letters, digits, `_` and `-`, at most 40.
pub(crate) fn is_category_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

pub(crate) async fn end(
    State(booking): State<Booking>,
    actor: Actor,
    Path(id): Path<String>,
    body: Result<Json<EndBody>, JsonRejection>,
) -> Result<Json<BookingJson>, ApiError> {
    let record = staff_of_booking(&booking, &actor, &id).await?;
    let req = json_body(body)?;
    if let Some(c) = &req.category
        && !is_category_code(c)
    {
        return Err(ApiError::unprocessable(
            "invalid_category",
            "category is a code (a-z, 0-9, _ and -, at most 40), never free text",
        ));
    }
    let change = BookingChange::End {
        outcome: req.outcome,
        category: req.category,
    };
    apply(&booking, &actor, &record, change).await
}
