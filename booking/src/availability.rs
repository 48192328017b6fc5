//! Slot search as a pure function: given the centre's hours, the candidates (officers per
//! service, booths, interpreters) with their hours, absences and reservations, find the times at
//! which one of each is free. No database, no clock: the API loads the inputs, this decides.
//!
//! A slot needs, for its whole length: the centre open and not closed; a booth free; for every
//! service asked for, an officer of that service inside their working hours, not absent, free and
//! not already picked for another service of the same slot; and, when asked for, an interpreter
//! free. Candidates are tried in the order given, so a preferred officer (continuity) goes first.

use std::collections::HashMap;

use uuid::Uuid;

use crate::schedule::{LocalTime, Period, WeeklyHours, local_to_utc, within_hours};

/// Someone or something that can be booked.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: Uuid,
    /// Hours it can be booked in; `None` means whenever the centre is open.
    pub hours: Option<Vec<WeeklyHours>>,
    /// Absences and reservations alike: times it cannot be booked.
    pub busy: Vec<Period>,
}

impl Candidate {
    fn free(&self, starts_at: i64, ends_at: i64) -> bool {
        self.hours
            .as_deref()
            .is_none_or(|h| within_hours(h, starts_at, ends_at))
            && !self.busy.iter().any(|p| p.overlaps(starts_at, ends_at))
    }
}

#[derive(Debug, Clone)]
pub struct SlotRequest {
    /// Local days, inclusive, counted from 1970-01-01.
    pub first_day: i64,
    pub last_day: i64,
    /// Slots begin on this grid (minutes past the opening time).
    pub step_minutes: i64,
    pub duration_minutes: i64,
    /// No slot starts before this (now, in practice).
    pub not_before: i64,
    pub opening_hours: Vec<WeeklyHours>,
    pub closures: Vec<Period>,
    pub booths: Vec<Candidate>,
    /// One list per service: each slot takes one officer from each, in this order of preference.
    pub officers: Vec<Vec<Candidate>>,
    /// `None`: no interpreter needed.
    pub interpreters: Option<Vec<Candidate>>,
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub starts_at: i64,
    pub ends_at: i64,
    pub booth: Uuid,
    /// One per service, in the order asked for.
    pub officers: Vec<Uuid>,
    pub interpreter: Option<Uuid>,
}

/// What a search found, and where its officer lists ran out.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Free slots in time order, at most `limit`.
    pub slots: Vec<Slot>,
    /// Per officer group: at some time the search looked at (up to its last slot), a booth was
    /// free but no officer of the group was. When the group was only the first part of a longer
    /// list, a later officer might have been free then: the caller searches again with more.
    pub exhausted: Vec<bool>,
}

/// Free slots in time order, at most `limit`.
pub fn find_slots(req: &SlotRequest) -> Vec<Slot> {
    search(req).slots
}

/// [`find_slots`], saying which officer groups ran out.
///
/// Candidates are tried in order and the first free one is taken, so a search over the first
/// officers of each list gives exactly the slots (and picks) of a search over the whole lists
/// wherever some officer in those first ones is free; only the times flagged in `exhausted` can
/// differ.
pub fn search(req: &SlotRequest) -> Found {
    let mut found = Found {
        slots: Vec::new(),
        exhausted: vec![false; req.officers.len()],
    };
    let slots = &mut found.slots;
    let step = req.step_minutes.max(1);
    for day in req.first_day..=req.last_day {
        let weekday = crate::schedule::iso_weekday(day);
        let mut spans: Vec<&WeeklyHours> = req
            .opening_hours
            .iter()
            .filter(|h| h.weekday == weekday)
            .collect();
        spans.sort_by_key(|h| h.starts_minute);
        for span in spans {
            let mut minute = span.starts_minute;
            while minute + req.duration_minutes <= span.ends_minute {
                let starts_at = local_to_utc(day, minute);
                minute += step;
                let ends_at = starts_at + req.duration_minutes * 60;
                // local_to_utc is exact outside the night-time clock change; skip what is not.
                if starts_at < req.not_before || LocalTime::of(starts_at).day != day {
                    continue;
                }
                if req.closures.iter().any(|c| c.overlaps(starts_at, ends_at)) {
                    continue;
                }
                if let Some(slot) = fill(req, starts_at, ends_at, &mut found.exhausted) {
                    slots.push(slot);
                    if slots.len() >= req.limit {
                        return found;
                    }
                }
            }
        }
    }
    found
}

fn fill(req: &SlotRequest, starts_at: i64, ends_at: i64, exhausted: &mut [bool]) -> Option<Slot> {
    let booth = req.booths.iter().find(|b| b.free(starts_at, ends_at))?.id;
    let mut officers: Vec<Uuid> = Vec::with_capacity(req.officers.len());
    for (i, group) in req.officers.iter().enumerate() {
        let Some(pick) = group
            .iter()
            .find(|o| !officers.contains(&o.id) && o.free(starts_at, ends_at))
        else {
            exhausted[i] = true;
            return None;
        };
        officers.push(pick.id);
    }
    let interpreter = match &req.interpreters {
        None => None,
        Some(list) => Some(list.iter().find(|i| i.free(starts_at, ends_at))?.id),
    };
    Some(Slot {
        starts_at,
        ends_at,
        booth,
        officers,
        interpreter,
    })
}

/// Reservations grouped by what they reserve, to be handed to candidates as busy periods.
pub fn busy_by_resource(rows: Vec<(Uuid, Period)>) -> HashMap<Uuid, Vec<Period>> {
    let mut map: HashMap<Uuid, Vec<Period>> = HashMap::new();
    for (id, p) in rows {
        map.entry(id).or_default().push(p);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::LocalTime;
    use time::macros::datetime;

    fn candidate(n: u128, hours: Option<Vec<WeeklyHours>>, busy: Vec<Period>) -> Candidate {
        Candidate {
            id: Uuid::from_u128(n),
            hours,
            busy,
        }
    }

    /// Monday 2026-06-15, centre open 09:00–12:00.
    fn monday(officers: Vec<Vec<Candidate>>, booths: Vec<Candidate>) -> SlotRequest {
        let day = LocalTime::of(datetime!(2026-06-15 08:00 UTC).unix_timestamp()).day;
        SlotRequest {
            first_day: day,
            last_day: day,
            step_minutes: 30,
            duration_minutes: 30,
            not_before: 0,
            opening_hours: vec![WeeklyHours::new(1, 9 * 60, 12 * 60)],
            closures: vec![],
            booths,
            officers,
            interpreters: None,
            limit: 100,
        }
    }

    fn at(h: u8, m: u8) -> i64 {
        // June: Swedish time is UTC+2.
        datetime!(2026-06-15 00:00 UTC).unix_timestamp() + (h as i64 - 2) * 3600 + m as i64 * 60
    }

    #[test]
    fn slots_lie_inside_opening_and_working_hours_and_avoid_reservations() {
        let officer = candidate(
            1,
            Some(vec![WeeklyHours::new(1, 10 * 60, 17 * 60)]),
            vec![Period::new(at(10, 30), at(11, 0))],
        );
        let booth = candidate(2, None, vec![]);
        let slots = find_slots(&monday(vec![vec![officer]], vec![booth]));
        let starts: Vec<i64> = slots.iter().map(|s| s.starts_at).collect();
        assert_eq!(starts, vec![at(10, 0), at(11, 0), at(11, 30)]);
        assert!(slots.iter().all(|s| s.officers == vec![Uuid::from_u128(1)]));
    }

    #[test]
    fn every_service_gets_its_own_officer_and_the_first_free_is_preferred() {
        let preferred = candidate(1, None, vec![Period::new(at(9, 0), at(9, 30))]);
        let other = candidate(3, None, vec![]);
        let second_agency = candidate(4, None, vec![Period::new(at(9, 0), at(10, 0))]);
        let booth = candidate(2, None, vec![Period::new(at(11, 0), at(12, 0))]);
        let slots = find_slots(&monday(
            vec![vec![preferred, other], vec![second_agency]],
            vec![booth],
        ));
        let got: Vec<(i64, Vec<Uuid>)> = slots
            .iter()
            .map(|s| (s.starts_at, s.officers.clone()))
            .collect();
        let ids = |a, b| vec![Uuid::from_u128(a), Uuid::from_u128(b)];
        assert_eq!(
            got,
            vec![(at(10, 0), ids(1, 4)), (at(10, 30), ids(1, 4))],
            "common times only, preferred officer whenever free"
        );
    }

    #[test]
    fn a_group_with_no_free_officer_is_reported_exhausted() {
        let busy_at_nine = candidate(1, None, vec![Period::new(at(9, 0), at(9, 30))]);
        let free = candidate(3, None, vec![]);
        let booth = candidate(2, None, vec![]);
        let mut req = monday(vec![vec![free], vec![busy_at_nine]], vec![booth]);
        req.limit = 1;
        let found = search(&req);
        assert_eq!(found.slots[0].starts_at, at(9, 30));
        assert_eq!(found.exhausted, vec![false, true]);
        // Times after the last slot found are not looked at.
        req.limit = 100;
        req.booths[0].busy = vec![Period::new(at(9, 0), at(9, 30))];
        assert_eq!(search(&req).exhausted, vec![false, false]);
    }

    #[test]
    fn a_needed_interpreter_must_be_free_and_closures_close() {
        let mut req = monday(
            vec![vec![candidate(1, None, vec![])]],
            vec![candidate(2, None, vec![])],
        );
        req.interpreters = Some(vec![candidate(
            5,
            None,
            vec![Period::new(at(9, 0), at(11, 0))],
        )]);
        req.closures = vec![Period::new(at(11, 30), at(12, 0))];
        let slots = find_slots(&req);
        assert_eq!(slots.len(), 1);
        assert_eq!(slots[0].starts_at, at(11, 0));
        assert_eq!(slots[0].interpreter, Some(Uuid::from_u128(5)));
        req.interpreters = Some(vec![]);
        assert!(find_slots(&req).is_empty());
    }
}
