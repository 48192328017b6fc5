//! Booth kiosks: enrolment with a one-time code, and what an enrolled kiosk sees of its booth.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{Actor, ApiError, IdentifiedJson, json_body, parse_path_id, rfc3339};
use crate::Booking;
use crate::booth_devices::{self, ENROLMENT_CODE_LIFETIME_SECS};
use crate::clock::local_day_bounds;
use crate::ids::{BookingId, BoothId, CentreId};
use crate::store::{BookingState, BoothDevice, StoreError};

#[derive(Serialize)]
pub(crate) struct EnrolmentCodeJson {
    booth_id: BoothId,
    /// Shown once, to the admin at the kiosk; only its hash is kept.
    code: String,
    expires_at: String,
}

/// A centre admin's one-time code for enrolling the kiosk of a booth at their centre.
pub(crate) async fn enrolment_code(
    State(booking): State<Booking>,
    actor: Actor,
    Path(booth_id): Path<String>,
) -> Result<Response, ApiError> {
    let (booth, admin) = admin_of_booth(&booking, &actor, &booth_id).await?;
    let code = booth_devices::new_enrolment_code()
        .map_err(|_| ApiError::internal(std::io::Error::other("random source failed")))?;
    let expires_at = booking.clock().now() + ENROLMENT_CODE_LIFETIME_SECS;
    booking
        .store()
        .add_enrolment_code(
            &booth_devices::code_hash(&code),
            booth,
            admin.id,
            expires_at,
        )
        .await?;
    tracing::info!("booth enrolment code made");
    Ok((
        StatusCode::CREATED,
        Json(EnrolmentCodeJson {
            booth_id: booth,
            code,
            expires_at: rfc3339(expires_at),
        }),
    )
        .into_response())
}

/// The booth of the path, if the caller is the admin of its centre.
async fn admin_of_booth<'a>(
    booking: &Booking,
    actor: &'a Actor,
    raw_booth_id: &str,
) -> Result<(BoothId, &'a crate::store::Guide), ApiError> {
    let booth: BoothId = parse_path_id(raw_booth_id, "booth_not_found")?;
    let centre = booking
        .store()
        .booth_centre(booth)
        .await?
        .ok_or_else(|| ApiError::not_found("booth_not_found", "no such booth"))?;
    let Actor::Guide(admin) = actor else {
        return Err(ApiError::forbidden(
            "admin_only",
            "only the centre's admin may manage its kiosks",
        ));
    };
    if !admin.centre_admin || admin.centre_id != centre {
        return Err(ApiError::forbidden(
            "not_your_centre",
            "the booth is at another centre",
        ));
    }
    Ok((booth, admin))
}

#[derive(Serialize)]
pub(crate) struct RevokedJson {
    booth_id: BoothId,
    /// How many live kiosk credentials were revoked (0 when none was enrolled).
    revoked: u64,
}

/// Revokes the booth's kiosk credentials: a stolen or replaced kiosk is locked out at once (its
/// next call is 401) and the booth needs a new enrolment code.
pub(crate) async fn revoke_devices(
    State(booking): State<Booking>,
    actor: Actor,
    Path(booth_id): Path<String>,
) -> Result<Json<RevokedJson>, ApiError> {
    let (booth, admin) = admin_of_booth(&booking, &actor, &booth_id).await?;
    let access = super::staff_access(
        &booking,
        crate::identity::Subject::Guide(admin.id),
        format!("revoked the kiosk credentials of booth {booth}"),
    );
    let revoked = booking.store().revoke_booth_devices(booth, &access).await?;
    tracing::info!(revoked, "booth kiosk credentials revoked");
    Ok(Json(RevokedJson {
        booth_id: booth,
        revoked,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnrolBody {
    code: String,
}

#[derive(Serialize)]
pub(crate) struct DeviceJson {
    booth_id: BoothId,
    centre_id: CentreId,
}

/// Trades an enrolment code for the kiosk's credential (the `narvaro_device` cookie).
pub(crate) async fn enrol(
    State(booking): State<Booking>,
    body: Result<Json<EnrolBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let EnrolBody { code } = json_body(body)?;
    let secret = crate::secrets::random_secret()
        .map_err(|_| ApiError::internal(std::io::Error::other("random source failed")))?;
    let enrolled = booking
        .store()
        .enrol_booth_device(
            &booth_devices::code_hash(&code),
            uuid::Uuid::new_v4(),
            &crate::secrets::sha256_hex(&secret),
            booking.clock().now(),
        )
        .await;
    let device = match enrolled {
        Ok(d) => d,
        // Unknown, spent or expired: one answer, so a guess learns nothing.
        Err(StoreError::NotFound(_)) => {
            return Err(ApiError::not_found(
                "invalid_enrolment_code",
                "no such enrolment code, or it has expired",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!("booth kiosk enrolled");
    Ok(enrolled_response(&booking, &device, &secret))
}

/// The answer to a kiosk that has just been enrolled: its booth, and its credential in a cookie.
pub(crate) fn enrolled_response(booking: &Booking, device: &BoothDevice, secret: &str) -> Response {
    let mut res = (
        StatusCode::CREATED,
        Json(DeviceJson {
            booth_id: device.booth_id,
            centre_id: device.centre_id,
        }),
    )
        .into_response();
    res.headers_mut().append(
        SET_COOKIE,
        booth_devices::device_cookie(secret, booking.secure_cookies()),
    );
    res
}

#[derive(Serialize)]
pub(crate) struct KioskMeetingJson {
    booking_id: BookingId,
    state: BookingState,
    starts_at: String,
    duration_minutes: i64,
    officer_name: String,
    agency_name: String,
    service: String,
    /// How the citizen was identified for this meeting; none yet: the kiosk offers BankID, or
    /// the guide checks an ID document.
    identified: Option<IdentifiedJson>,
}

#[derive(Serialize)]
pub(crate) struct KioskJson {
    booth_id: BoothId,
    booth_name: String,
    /// Where the kiosk's feedback goes (`POST /api/v1/feedback`).
    centre_id: CentreId,
    /// The booth's next meeting today; the citizen's name is not on a public screen.
    next: Option<KioskMeetingJson>,
}

/// What the kiosk shows: its booth and today's next meeting there.
pub(crate) async fn status(
    State(booking): State<Booking>,
    device: BoothDevice,
) -> Result<Json<KioskJson>, ApiError> {
    let store = booking.store();
    let booth = store
        .booth(device.booth_id)
        .await?
        .ok_or_else(|| ApiError::not_found("booth_not_found", "the kiosk's booth is gone"))?;
    let now = booking.clock().now();
    let (_, end_of_day) = local_day_bounds(now);
    let next = match store
        .booth_booking_ahead(device.booth_id, now, end_of_day)
        .await?
    {
        Some((_, ahead)) => {
            let identified = store
                .booking_identification(ahead.id)
                .await?
                .as_ref()
                .map(Into::into);
            Some(KioskMeetingJson {
                booking_id: ahead.id,
                state: ahead.state,
                starts_at: rfc3339(ahead.starts_at),
                duration_minutes: ahead.duration_minutes,
                officer_name: ahead.officer_name,
                agency_name: ahead.agency_name,
                service: ahead.service_name,
                identified,
            })
        }
        None => None,
    };
    Ok(Json(KioskJson {
        booth_id: device.booth_id,
        booth_name: booth.name,
        centre_id: device.centre_id,
        next,
    }))
}
