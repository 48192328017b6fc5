//! The resource API: agencies, services, officers, centres, booths, guides and interpreters, each
//! with list, read, create, replace and delete under `/api/v1/<plural>`.
//!
//! One set of generic handlers serves every kind; what differs (who may write it, what makes it
//! valid) is the [`ApiResource`] impl of each. Roles are checked before a handler runs
//! ([`super::routes`]); the handlers check scope (whose agency, whose centre). Staff read; admins write: an agency admin (an
//! officer flagged so) their agency, its services and officers; a centre admin (a guide flagged
//! so) their centre, its booths and guides; either admin the interpreters, who serve everyone.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::{Actor, ApiError, json_body, parse_path_id};
use crate::Booking;
use crate::schedule::{Period, WeeklyHours};
use crate::store::*;

/// Longest name, address or list item accepted, in characters.
const MAX_TEXT: usize = 200;
/// Most items in any list of a resource.
const MAX_ITEMS: usize = 100;

pub(crate) trait ApiResource:
    Serialize + DeserializeOwned + Clone + Send + Sync + 'static
{
    const KIND: ResourceKind;
    /// Path segment under `/api/v1/`, for logs.
    const PLURAL: &'static str;
    /// Error code for an unknown id.
    const NOT_FOUND: &'static str;
    fn id(&self) -> Uuid;
    fn set_id(&mut self, id: Uuid);
    fn wrap(self) -> Resource;
    fn unwrap(r: Resource) -> Option<Self>;
    fn validate(&self) -> Result<(), ApiError>;
    /// `creating`: the resource is new (an agency or centre then has no admin of its own yet).
    fn may_write(&self, actor: &Actor, creating: bool) -> bool;
}

pub(crate) async fn list<R: ApiResource>(
    State(booking): State<Booking>,
    _staff: Actor,
) -> Result<Json<Vec<R>>, ApiError> {
    let all = booking.store().resources(R::KIND).await?;
    Ok(Json(all.into_iter().filter_map(R::unwrap).collect()))
}

async fn load<R: ApiResource>(booking: &Booking, raw_id: &str) -> Result<R, ApiError> {
    let id: Uuid = parse_path_id(raw_id, R::NOT_FOUND)?;
    booking
        .store()
        .resource(R::KIND, id)
        .await?
        .and_then(R::unwrap)
        .ok_or_else(|| ApiError::not_found(R::NOT_FOUND, "no such thing"))
}

pub(crate) async fn read<R: ApiResource>(
    State(booking): State<Booking>,
    _staff: Actor,
    Path(id): Path<String>,
) -> Result<Json<R>, ApiError> {
    Ok(Json(load::<R>(&booking, &id).await?))
}

pub(crate) async fn create<R: ApiResource>(
    State(booking): State<Booking>,
    actor: Actor,
    body: Result<Json<R>, JsonRejection>,
) -> Result<(StatusCode, Json<R>), ApiError> {
    let item = json_body(body)?;
    item.validate()?;
    if !item.may_write(&actor, true) {
        return Err(not_yours());
    }
    booking
        .store()
        .create_resource(&item.wrap_ref())
        .await
        .map_err(write_error)?;
    let saved = load::<R>(&booking, &item.id().to_string()).await?;
    tracing::info!(kind = R::PLURAL, id = %saved.id(), "resource created");
    Ok((StatusCode::CREATED, Json(saved)))
}

pub(crate) async fn replace<R: ApiResource>(
    State(booking): State<Booking>,
    actor: Actor,
    Path(id): Path<String>,
    body: Result<Json<R>, JsonRejection>,
) -> Result<Json<R>, ApiError> {
    let existing = load::<R>(&booking, &id).await?;
    let mut item = json_body(body)?;
    item.set_id(existing.id());
    item.validate()?;
    // Both sides: no moving a booth out of someone else's centre, nor into it.
    if !existing.may_write(&actor, false) || !item.may_write(&actor, false) {
        return Err(not_yours());
    }
    booking
        .store()
        .update_resource(&item.wrap_ref())
        .await
        .map_err(write_error)?;
    tracing::info!(kind = R::PLURAL, id = %existing.id(), "resource replaced");
    Ok(Json(load::<R>(&booking, &id).await?))
}

pub(crate) async fn delete<R: ApiResource>(
    State(booking): State<Booking>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let existing = load::<R>(&booking, &id).await?;
    if !existing.may_write(&actor, false) {
        return Err(not_yours());
    }
    booking
        .store()
        .delete_resource(R::KIND, existing.id())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                ApiError::conflict("in_use", "bookings or other records still refer to it")
            }
            other => write_error(other),
        })?;
    tracing::info!(kind = R::PLURAL, id = %existing.id(), "resource deleted");
    Ok(StatusCode::NO_CONTENT)
}

fn not_yours() -> ApiError {
    ApiError::forbidden(
        "admin_only",
        "only an admin of its agency or centre may change it",
    )
}

fn write_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(what) if what.starts_with("foreign key") => ApiError::unprocessable(
            "unknown_reference",
            "it refers to an agency, centre or service that does not exist",
        ),
        StoreError::Conflict(_) => {
            ApiError::conflict("already_exists", "the id or the name is taken")
        }
        StoreError::Invalid(msg) => ApiError::unprocessable("invalid_resource", msg),
        other => other.into(),
    }
}

trait WrapRef {
    fn wrap_ref(&self) -> Resource;
}

impl<R: ApiResource> WrapRef for R {
    fn wrap_ref(&self) -> Resource {
        self.clone().wrap()
    }
}

fn text(field: &'static str, value: &str) -> Result<(), ApiError> {
    let n = value.chars().count();
    if value.trim().is_empty() || n > MAX_TEXT || value.chars().any(char::is_control) {
        return Err(ApiError::unprocessable(
            "invalid_text",
            format!("{field}: 1 to {MAX_TEXT} characters, no control characters"),
        ));
    }
    Ok(())
}

/// An address the SMTP relay can take: one `@` with something on both sides, no spaces or
/// control characters (which could inject headers), at most 254 characters (RFC 5321). Whether it
/// exists is the relay's business.
fn email(value: Option<&str>) -> Result<(), ApiError> {
    let Some(v) = value else { return Ok(()) };
    let ok = v.len() <= 254
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
        && matches!(v.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@'))
        && v.parse::<lettre::Address>().is_ok();
    if !ok {
        return Err(ApiError::unprocessable(
            "invalid_email",
            "email: not an email address",
        ));
    }
    Ok(())
}

fn list_of(field: &'static str, items: &[String]) -> Result<(), ApiError> {
    if items.len() > MAX_ITEMS {
        return Err(ApiError::unprocessable(
            "too_many_items",
            format!("{field}: at most {MAX_ITEMS}"),
        ));
    }
    items.iter().try_for_each(|i| text(field, i))
}

/// A BCP 47 language tag as this system uses them: a 2–3 letter primary language, optionally a
/// region or script ("sv", "swl", "ar", "sr-Latn").
pub(crate) fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// A language given with a booking or a search, if any.
pub(crate) fn optional_language(lang: Option<&str>) -> Result<(), ApiError> {
    match lang {
        Some(l) if !is_language_tag(l) => Err(ApiError::unprocessable(
            "invalid_language",
            "language must be a tag such as sv, ar or swl",
        )),
        _ => Ok(()),
    }
}

fn languages(items: &[String]) -> Result<(), ApiError> {
    list_of("languages", items)?;
    if let Some(bad) = items.iter().find(|l| !is_language_tag(l)) {
        return Err(ApiError::unprocessable(
            "invalid_language",
            format!("{bad:.16} is not a language tag such as sv, ar or swl"),
        ));
    }
    Ok(())
}

fn hours(items: &[WeeklyHours]) -> Result<(), ApiError> {
    if items.len() > MAX_ITEMS || !items.iter().all(WeeklyHours::is_valid) {
        return Err(ApiError::unprocessable(
            "invalid_hours",
            "hours need weekday 1–7 and from before until",
        ));
    }
    Ok(())
}

fn periods<'a>(items: impl ExactSizeIterator<Item = &'a Period>) -> Result<(), ApiError> {
    let n = items.len();
    let mut items = items;
    if n > MAX_ITEMS || !items.all(Period::is_valid) {
        return Err(ApiError::unprocessable(
            "invalid_period",
            "a period must end after it starts",
        ));
    }
    Ok(())
}

impl Actor {
    fn admin_of_agency(&self, agency: AgencyIdRef) -> bool {
        matches!(self, Actor::Officer(o) if o.agency_admin && o.agency_id == agency)
    }

    fn admin_of_centre(&self, centre: CentreIdRef) -> bool {
        matches!(self, Actor::Guide(g) if g.centre_admin && g.centre_id == centre)
    }

    fn any_admin(&self) -> bool {
        match self {
            Actor::Officer(o) => o.agency_admin,
            Actor::Guide(g) => g.centre_admin,
            Actor::Citizen(_) => false,
        }
    }
}

type AgencyIdRef = crate::ids::AgencyId;
type CentreIdRef = crate::ids::CentreId;

macro_rules! api_resource {
    ($ty:ident, $kind:ident, $plural:literal, $not_found:literal, |$s:ident| $validate:block, |$r:ident, $a:ident, $c:ident| $may:expr) => {
        impl ApiResource for $ty {
            const KIND: ResourceKind = ResourceKind::$kind;
            const PLURAL: &'static str = $plural;
            const NOT_FOUND: &'static str = $not_found;
            fn id(&self) -> Uuid {
                self.id.0
            }
            fn set_id(&mut self, id: Uuid) {
                self.id.0 = id;
            }
            fn wrap(self) -> Resource {
                Resource::$kind(self)
            }
            fn unwrap(r: Resource) -> Option<Self> {
                match r {
                    Resource::$kind(x) => Some(x),
                    _ => None,
                }
            }
            fn validate(&self) -> Result<(), ApiError> {
                let $s = self;
                $validate
                Ok(())
            }
            fn may_write(&self, $a: &Actor, $c: bool) -> bool {
                let $r = self;
                $may
            }
        }
    };
}

api_resource!(
    Agency,
    Agency,
    "agencies",
    "agency_not_found",
    |s| {
        text("name", &s.name)?;
    },
    // Any agency admin may add an agency (onboarding another huvudman); only its own admins
    // change it.
    |r, a, creating| if creating {
        a.any_agency_admin()
    } else {
        a.admin_of_agency(r.id)
    }
);
api_resource!(
    Service,
    Service,
    "services",
    "service_not_found",
    |s| {
        text("name", &s.name)?;
        list_of("required_skills", &s.required_skills)?;
        if !(1..=480).contains(&s.default_duration_minutes) {
            return Err(ApiError::unprocessable(
                "invalid_duration",
                "default_duration_minutes must be 1 to 480",
            ));
        }
    },
    |r, a, _creating| a.admin_of_agency(r.agency_id)
);
api_resource!(
    Officer,
    Officer,
    "officers",
    "officer_not_found",
    |s| {
        text("display_name", &s.display_name)?;
        email(s.email.as_deref())?;
        languages(&s.languages)?;
        list_of("skills", &s.skills)?;
        hours(&s.working_hours)?;
        periods(s.absences.iter())?;
        if s.services.len() > MAX_ITEMS {
            return Err(ApiError::unprocessable(
                "too_many_items",
                "services: at most 100",
            ));
        }
    },
    |r, a, _creating| a.admin_of_agency(r.agency_id)
);
api_resource!(
    Centre,
    Centre,
    "centres",
    "centre_not_found",
    |s| {
        text("name", &s.name)?;
        text("kommun", &s.kommun)?;
        if !s.address.is_empty() {
            text("address", &s.address)?;
        }
        hours(&s.opening_hours)?;
        periods(s.closures.iter().map(|c| &c.period))?;
        s.closures
            .iter()
            .try_for_each(|c| text("reason", &c.reason))?;
    },
    |r, a, creating| if creating {
        a.any_centre_admin()
    } else {
        a.admin_of_centre(r.id)
    }
);
api_resource!(
    Booth,
    Booth,
    "booths",
    "booth_not_found",
    |s| {
        text("name", &s.name)?;
        list_of("equipment", &s.equipment)?;
        if let Some(d) = &s.device_id {
            text("device_id", d)?;
        }
    },
    |r, a, _creating| a.admin_of_centre(r.centre_id)
);
api_resource!(
    Guide,
    Guide,
    "guides",
    "guide_not_found",
    |s| {
        text("display_name", &s.display_name)?;
        email(s.email.as_deref())?;
    },
    |r, a, _creating| a.admin_of_centre(r.centre_id)
);
api_resource!(
    Interpreter,
    Interpreter,
    "interpreters",
    "interpreter_not_found",
    |s| {
        text("display_name", &s.display_name)?;
        email(s.email.as_deref())?;
        languages(&s.languages)?;
        if s.languages.is_empty() {
            return Err(ApiError::unprocessable(
                "invalid_language",
                "an interpreter needs a language",
            ));
        }
    },
    |_r, a, _creating| a.any_admin()
);

impl Actor {
    fn any_agency_admin(&self) -> bool {
        matches!(self, Actor::Officer(o) if o.agency_admin)
    }

    fn any_centre_admin(&self) -> bool {
        matches!(self, Actor::Guide(g) if g.centre_admin)
    }
}
