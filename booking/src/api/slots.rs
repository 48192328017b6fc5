//! Slot search: `POST /api/v1/slots/search` (a body, so a personnummer for continuity never sits
//! in a URL). Loads what [`crate::availability::find_slots`] needs and names what it found.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::{Deserialize, Serialize};
use time::Date;
use time::format_description::well_known::Iso8601;
use uuid::Uuid;

use super::bookings::{MAX_OFFICERS, NamedJson};
use super::resources::optional_language;
use super::{Actor, ApiError, json_body, rfc3339};
use crate::Booking;
use crate::availability::{Candidate, SlotRequest, busy_by_resource, search as search_slots};
use crate::ids::*;
use crate::personnummer::Personnummer;
use crate::schedule::Period;
use crate::store::{OfficerPick, Reserved, Resource, ResourceKind};

/// The longest range one search covers, in days.
const MAX_RANGE_DAYS: i64 = 31;
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 200;
/// Slots start every quarter of an hour.
const STEP_MINUTES: i64 = 15;
/// Officers per service a search reads first, and by how much it reads more when they are all
/// busy at a time it looks at (see `search`).
const FIRST_OFFICERS: usize = 8;
const MORE_OFFICERS: usize = 8;
/// ISO 639-3 for Swedish sign language.
pub const SIGN_LANGUAGE: &str = "swl";

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct Needs {
    #[serde(default)]
    interpreter: bool,
    #[serde(default)]
    sign_language: bool,
    #[serde(default)]
    accessible_booth: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchBody {
    centre_id: CentreId,
    service_id: ServiceId,
    /// Services of other agencies in the same meeting (a resource group).
    #[serde(default)]
    additional_service_ids: Vec<ServiceId>,
    /// First and last local day, `YYYY-MM-DD`.
    from: String,
    to: String,
    /// The citizen's language; with `needs.interpreter`, the interpreter's.
    language: Option<String>,
    #[serde(default)]
    needs: Needs,
    /// Only this officer for `service_id`.
    officer_id: Option<OfficerId>,
    /// Default: the longest default duration of the services.
    duration_minutes: Option<i64>,
    /// To offer "their" officer first.
    citizen_personnummer: Option<String>,
    limit: Option<usize>,
}

#[derive(Serialize)]
pub(crate) struct SlotOfficerJson {
    officer_id: OfficerId,
    service_id: ServiceId,
    name: String,
}

#[derive(Serialize)]
pub(crate) struct SlotJson {
    starts_at: String,
    ends_at: String,
    officers: Vec<SlotOfficerJson>,
    booth: NamedJson<BoothId>,
    interpreter: Option<NamedJson<InterpreterId>>,
    /// The officer of the citizen's last meeting about this service.
    continuity: bool,
}

#[derive(Serialize)]
pub(crate) struct SearchJson {
    duration_minutes: i64,
    continuity_officer_id: Option<OfficerId>,
    slots: Vec<SlotJson>,
}

pub(crate) fn day_of(s: &str, field: &'static str) -> Result<i64, ApiError> {
    let date = Date::parse(s, &Iso8601::DATE)
        .ok()
        .filter(|d| (2000..2200).contains(&d.year()))
        .ok_or_else(|| {
            ApiError::unprocessable(
                "invalid_date",
                format!("{field} must be a date, YYYY-MM-DD"),
            )
        })?;
    // 2 440 588 is the Julian day of 1970-01-01, where local day numbers start.
    Ok(i64::from(date.to_julian_day()) - 2_440_588)
}

pub(crate) async fn search(
    State(booking): State<Booking>,
    actor: Actor,
    body: Result<Json<SearchBody>, JsonRejection>,
) -> Result<Json<SearchJson>, ApiError> {
    let req = json_body(body)?;
    let (first_day, last_day) = (day_of(&req.from, "from")?, day_of(&req.to, "to")?);
    if last_day < first_day || last_day - first_day >= MAX_RANGE_DAYS {
        return Err(ApiError::unprocessable(
            "invalid_range",
            format!("to must be on or after from, at most {MAX_RANGE_DAYS} days"),
        ));
    }
    let services: Vec<ServiceId> = std::iter::once(req.service_id)
        .chain(req.additional_service_ids.iter().copied())
        .collect();
    if services.len() > MAX_OFFICERS
        || (1..services.len()).any(|i| services[..i].contains(&services[i]))
    {
        return Err(ApiError::unprocessable(
            "invalid_services",
            format!("at most {MAX_OFFICERS} different services"),
        ));
    }
    optional_language(req.language.as_deref())?;
    let interpreter_language = match (&req.needs, req.language.as_deref()) {
        (n, _) if n.sign_language => Some(SIGN_LANGUAGE.to_owned()),
        (n, Some(lang)) if n.interpreter => Some(lang.to_owned()),
        (n, None) if n.interpreter => {
            return Err(ApiError::unprocessable(
                "language_required",
                "an interpreter needs a language",
            ));
        }
        _ => None,
    };
    // Officers speak the citizen's language themselves unless an interpreter bridges to Swedish.
    let officer_language = match (&interpreter_language, &req.language) {
        (Some(_), _) => Some("sv".to_owned()),
        (None, lang) => lang.clone(),
    };
    let store = booking.store();
    let centre = store
        .centre(req.centre_id)
        .await?
        .ok_or_else(|| ApiError::unprocessable("unknown_centre", "no such centre"))?;
    let mut service_rows = Vec::with_capacity(services.len());
    for id in &services {
        service_rows.push(
            store
                .service(*id)
                .await?
                .ok_or_else(|| ApiError::unprocessable("unknown_service", "no such service"))?,
        );
    }
    let duration_minutes = match req.duration_minutes {
        Some(d) if (1..=480).contains(&d) => d,
        Some(_) => {
            return Err(ApiError::unprocessable(
                "invalid_duration",
                "duration_minutes must be 1 to 480",
            ));
        }
        None => service_rows
            .iter()
            .map(|s| s.default_duration_minutes)
            .max()
            .unwrap_or(30),
    };
    let continuity = match &req.citizen_personnummer {
        None => None,
        Some(raw) => {
            let pnr = Personnummer::parse(raw)
                .map_err(|e| ApiError::unprocessable("invalid_personnummer", e.to_string()))?;
            let access = super::staff_access(
                &booking,
                actor.subject(),
                "slot search: the citizen's own officer first",
            );
            match store.citizen_by_personnummer(&pnr, &access).await? {
                Some(c) => store.last_officer_of(c.id, req.service_id).await?,
                None => None,
            }
        }
    };

    let from = crate::schedule::local_to_utc(first_day, 0);
    let until = crate::schedule::local_to_utc(last_day + 1, 0);
    let mut names: HashMap<Uuid, String> = HashMap::new();
    let booth_busy = busy_by_resource(
        store
            .reservations(Reserved::BoothsAt(centre.id), from, until)
            .await?,
    );
    let booths: Vec<Candidate> = store
        .booths_at(centre.id)
        .await?
        .into_iter()
        .filter(|b| !req.needs.accessible_booth || b.wheelchair_accessible)
        .map(|b| {
            names.insert(b.id.0, b.name.clone());
            Candidate {
                id: b.id.0,
                hours: None,
                busy: booth_busy.get(&b.id.0).cloned().unwrap_or_default(),
            }
        })
        .collect();
    let interpreters = match &interpreter_language {
        None => None,
        Some(lang) => {
            let busy = busy_by_resource(
                store
                    .reservations(Reserved::Interpreters, from, until)
                    .await?,
            );
            Some(
                store
                    .resources(ResourceKind::Interpreter)
                    .await?
                    .into_iter()
                    .filter_map(|r| match r {
                        Resource::Interpreter(i) if i.languages.contains(lang) => Some(i),
                        _ => None,
                    })
                    .map(|i| {
                        names.insert(i.id.0, i.display_name.clone());
                        Candidate {
                            id: i.id.0,
                            hours: None,
                            busy: busy.get(&i.id.0).cloned().unwrap_or_default(),
                        }
                    })
                    .collect(),
            )
        }
    };
    let mut request = SlotRequest {
        first_day,
        last_day,
        step_minutes: STEP_MINUTES,
        duration_minutes,
        not_before: booking.clock().now(),
        opening_hours: centre.opening_hours.clone(),
        closures: centre
            .closures
            .iter()
            .map(|c| c.period)
            .collect::<Vec<Period>>(),
        booths,
        officers: Vec::new(),
        interpreters,
        limit: req.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT),
    };
    // Each service's officers are read in order of preference, only the first few at first: a
    // free slot takes the first free officer, so the rest matter only at a time when all of
    // those are busy. When the search meets such a time in a list that may go on, it reads more
    // of that list and searches again; the answer is the one a search over every officer gives.
    let mut picks: Vec<OfficerPick> = services
        .iter()
        .enumerate()
        .map(|(i, service)| OfficerPick {
            service: *service,
            language: officer_language.clone(),
            only: if i == 0 { req.officer_id } else { None },
            first: if i == 0 { continuity } else { None },
            limit: FIRST_OFFICERS,
        })
        .collect();
    let mut groups: Vec<Option<Vec<Candidate>>> = vec![None; picks.len()];
    let mut complete = vec![false; picks.len()];
    let found = loop {
        for (i, pick) in picks.iter().enumerate() {
            if groups[i].is_some() {
                continue;
            }
            let officers = store.slot_officers(pick, from, until).await?;
            complete[i] = officers.len() < pick.limit;
            groups[i] = Some(
                officers
                    .into_iter()
                    .map(|o| {
                        names.insert(o.id.0, o.display_name);
                        Candidate {
                            id: o.id.0,
                            hours: Some(o.working_hours),
                            busy: o.busy,
                        }
                    })
                    .collect(),
            );
        }
        request.officers = groups.iter().flatten().cloned().collect();
        let found = search_slots(&request);
        let mut again = false;
        for (i, exhausted) in found.exhausted.iter().enumerate() {
            if *exhausted && !complete[i] {
                picks[i].limit = picks[i].limit.saturating_mul(MORE_OFFICERS);
                groups[i] = None;
                again = true;
            }
        }
        if !again {
            break found;
        }
    };
    let name = |id: &Uuid| names.get(id).cloned().unwrap_or_default();
    let mut slots: Vec<SlotJson> = found
        .slots
        .into_iter()
        .map(|s| SlotJson {
            starts_at: rfc3339(s.starts_at),
            ends_at: rfc3339(s.ends_at),
            continuity: continuity.is_some_and(|c| s.officers.first() == Some(&c.0)),
            officers: s
                .officers
                .iter()
                .zip(&services)
                .map(|(o, service)| SlotOfficerJson {
                    officer_id: OfficerId(*o),
                    service_id: *service,
                    name: name(o),
                })
                .collect(),
            booth: NamedJson::new(BoothId(s.booth), name(&s.booth)),
            interpreter: s
                .interpreter
                .map(|i| NamedJson::new(InterpreterId(i), name(&i))),
        })
        .collect();
    // "Their" officer's times first; each part stays in time order.
    slots.sort_by_key(|s| !s.continuity);
    Ok(Json(SearchJson {
        duration_minutes,
        continuity_officer_id: continuity,
        slots,
    }))
}
