//! Follow-up figures as the people who answer for them may read them: whose figures a signed-in
//! person may see ([`Scope`]), the figures of a period within that scope ([`figures`]), the same
//! per centre and service ([`groups`]) and as CSV ([`to_csv`]).
//!
//! Booking's API (`/api/v1/follow-up`, `/api/v1/follow-up.csv`) and web's dashboard
//! (`/follow-up`) both come through here, so the page, the CSV and the API cannot disagree about
//! whose figures someone sees or what they are. The arithmetic itself is the store's
//! ([`crate::store::Store::follow_up`]).
//!
//! **The scoping rule.** Figures belong to a *huvudman*: an agency or a centre (the kommun's
//! service centre). Whoever reads them reads their own organisation's, nobody else's:
//! - an agency admin, or an officer flagged `analyst`, reads their agency's bookings at every
//!   centre;
//! - a centre admin, or a guide flagged `analyst`, reads every agency's bookings held at their
//!   centre.
//!
//! Within that, any filter is allowed (a centre, a service, a period). A filter that names another
//! agency (for agency readers) or another centre (for centre readers) is refused with 403
//! `outside_your_scope`, never silently narrowed: a figure labelled with another agency's name
//! must not be one's own agency's.

use time::Date;

use crate::Booking;
use crate::identity::Subject;
use crate::ids::{AgencyId, CentreId, ServiceId};
use crate::schedule::local_to_utc;
use crate::store::{FollowUp, FollowUpFilter, StoreError};

/// Most days one follow-up query covers.
pub const MAX_PERIOD_DAYS: i64 = 366;

/// Whose figures someone reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Agency(AgencyId),
    Centre(CentreId),
}

#[derive(Debug, thiserror::Error)]
pub enum FollowUpError {
    #[error("{0} must be a date, YYYY-MM-DD")]
    InvalidDate(&'static str),
    #[error("to must be on or after from, at most {MAX_PERIOD_DAYS} days")]
    InvalidRange,
    #[error("only admins and analysts read follow-up figures")]
    NotAllowed,
    #[error("that agency or centre is not yours to follow up")]
    OutsideScope,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl FollowUpError {
    /// The stable code, as in the API's error body.
    pub fn code(&self) -> &'static str {
        match self {
            FollowUpError::InvalidDate(_) => "invalid_date",
            FollowUpError::InvalidRange => "invalid_range",
            FollowUpError::NotAllowed => "admin_or_analyst_only",
            FollowUpError::OutsideScope => "outside_your_scope",
            FollowUpError::Store(_) => "internal",
        }
    }
}

/// What is asked: a period of local days (both included) and optional filters.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Local day numbers (days since 1970-01-01), `from_day <= to_day`.
    pub from_day: i64,
    pub to_day: i64,
    pub centre: Option<CentreId>,
    pub agency: Option<AgencyId>,
    pub service: Option<ServiceId>,
}

impl Request {
    /// From `YYYY-MM-DD` dates; the period is checked here.
    pub fn new(
        from: &str,
        to: &str,
        centre: Option<CentreId>,
        agency: Option<AgencyId>,
        service: Option<ServiceId>,
    ) -> Result<Request, FollowUpError> {
        let (from_day, to_day) = (parse_day(from, "from")?, parse_day(to, "to")?);
        if to_day < from_day || to_day - from_day >= MAX_PERIOD_DAYS {
            return Err(FollowUpError::InvalidRange);
        }
        Ok(Request {
            from_day,
            to_day,
            centre,
            agency,
            service,
        })
    }

    pub fn from_date(&self) -> String {
        format_day(self.from_day)
    }

    pub fn to_date(&self) -> String {
        format_day(self.to_day)
    }

    fn filter(&self) -> FollowUpFilter {
        FollowUpFilter {
            centre: self.centre,
            agency: self.agency,
            service: self.service,
            from: local_to_utc(self.from_day, 0),
            until: local_to_utc(self.to_day + 1, 0),
        }
    }
}

// 2 440 588 is the Julian day of 1970-01-01, where local day numbers start.
const JULIAN_1970: i64 = 2_440_588;

/// A local day number from `YYYY-MM-DD` (years 2000–2199).
pub fn parse_day(s: &str, field: &'static str) -> Result<i64, FollowUpError> {
    let date = Date::parse(s, &time::format_description::well_known::Iso8601::DATE)
        .ok()
        .filter(|d| (2000..2200).contains(&d.year()))
        .ok_or(FollowUpError::InvalidDate(field))?;
    Ok(i64::from(date.to_julian_day()) - JULIAN_1970)
}

fn date_of(day: i64) -> Option<Date> {
    i32::try_from(day + JULIAN_1970)
        .ok()
        .and_then(|j| Date::from_julian_day(j).ok())
}

/// The calendar months the period `[from_day, to_day]` touches, each cut to the period, as
/// `(first, last)` local days: a follow-up is reported month by month.
pub fn months(from_day: i64, to_day: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut first = from_day;
    while first <= to_day {
        let Some(date) = date_of(first) else { break };
        let (year, month) = match date.month() {
            time::Month::December => (date.year() + 1, time::Month::January),
            m => (date.year(), m.next()),
        };
        let next = Date::from_calendar_date(year, month, 1)
            .map(|d| i64::from(d.to_julian_day()) - JULIAN_1970)
            .unwrap_or(to_day + 1);
        out.push((first, (next - 1).min(to_day)));
        first = next;
    }
    out
}

/// `YYYY-MM-DD` of a local day number.
pub fn format_day(day: i64) -> String {
    date_of(day)
        .map(|d| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
        .unwrap_or_default()
}

/// Whose figures `subject` may read, if anyone's: see the module's rule. An auditor is kept to
/// the access log even when also an admin, as the role table keeps them.
pub async fn scope_of(booking: &Booking, subject: Subject) -> Result<Option<Scope>, StoreError> {
    let store = booking.store();
    Ok(match subject {
        Subject::Citizen(_) => None,
        Subject::Officer(id) => store
            .officer(id)
            .await?
            .filter(|o| !o.auditor && (o.agency_admin || o.analyst))
            .map(|o| Scope::Agency(o.agency_id)),
        Subject::Guide(id) => store
            .guide(id)
            .await?
            .filter(|g| g.centre_admin || g.analyst)
            .map(|g| Scope::Centre(g.centre_id)),
    })
}

/// The filter `subject` may use for `request`: within their scope, or refused; a refusal is
/// written to the access log as any other (whoever asks, the API or the dashboard).
async fn allowed_filter(
    booking: &Booking,
    subject: Subject,
    request: &Request,
    what: &str,
) -> Result<FollowUpFilter, FollowUpError> {
    let scope = scope_of(booking, subject)
        .await?
        .ok_or(FollowUpError::NotAllowed)?;
    let filter = within(scope, request);
    if let Err(e @ FollowUpError::OutsideScope) = &filter {
        let access = crate::store::StaffAccess {
            actor: subject,
            reason: format!("{}: {what}", e.code()),
            at: booking.clock().now(),
        };
        // The refusal stands whether or not it could be written.
        if let Err(error) = booking
            .store()
            .record_access(&access, "authz.refused", None)
            .await
        {
            tracing::error!(%error, "could not write a refusal to the access log");
        }
    }
    filter
}

/// The filter of `request` within `scope`: the scope's own agency or centre added, another one
/// refused.
pub fn within(scope: Scope, request: &Request) -> Result<FollowUpFilter, FollowUpError> {
    let mut filter = request.filter();
    match scope {
        Scope::Agency(own) => match filter.agency {
            Some(asked) if asked != own => return Err(FollowUpError::OutsideScope),
            _ => filter.agency = Some(own),
        },
        Scope::Centre(own) => match filter.centre {
            Some(asked) if asked != own => return Err(FollowUpError::OutsideScope),
            _ => filter.centre = Some(own),
        },
    }
    Ok(filter)
}

/// The figures `subject` asked for, within their scope.
pub async fn figures(
    booking: &Booking,
    subject: Subject,
    request: &Request,
) -> Result<FollowUp, FollowUpError> {
    let filter = allowed_filter(booking, subject, request, "follow-up figures").await?;
    Ok(booking.store().follow_up(&filter).await?)
}

/// The figures of one month (cut to the period), centre and service (and so one agency).
#[derive(Debug, Clone)]
pub struct Group {
    /// Local days, both included.
    pub period_from: i64,
    pub period_until: i64,
    pub centre_id: CentreId,
    pub centre: String,
    pub agency_id: AgencyId,
    pub agency: String,
    pub service_id: ServiceId,
    pub service: String,
    pub figures: FollowUp,
}

/// The request's figures split by month, centre and service, each within the scope; groups
/// with no booking and no feedback are left out. Feedback given without a booking (about a centre, at
/// the counter) has no service, so it is in [`figures`] but in no group.
pub async fn groups(
    booking: &Booking,
    subject: Subject,
    request: &Request,
) -> Result<Vec<Group>, FollowUpError> {
    let filter = allowed_filter(
        booking,
        subject,
        request,
        "follow-up per centre and service",
    )
    .await?;
    let directory = booking.store().directory().await?;
    let mut out = Vec::new();
    for (month_first, month_last) in months(request.from_day, request.to_day) {
        for centre in directory
            .centres
            .iter()
            .filter(|c| filter.centre.is_none_or(|id| id == c.id))
        {
            for service in directory.services.iter().filter(|s| {
                filter.agency.is_none_or(|id| id == s.agency_id)
                    && filter.service.is_none_or(|id| id == s.id)
            }) {
                let one = FollowUpFilter {
                    centre: Some(centre.id),
                    agency: Some(service.agency_id),
                    service: Some(service.id),
                    from: local_to_utc(month_first, 0),
                    until: local_to_utc(month_last + 1, 0),
                };
                let figures = booking.store().follow_up(&one).await?;
                if figures.bookings == 0
                    && figures.complaints + figures.suggestions + figures.praise == 0
                {
                    continue;
                }
                let agency = directory
                    .agencies
                    .iter()
                    .find(|a| a.id == service.agency_id)
                    .map(|a| a.name.clone())
                    .unwrap_or_default();
                out.push(Group {
                    period_from: month_first,
                    period_until: month_last,
                    centre_id: centre.id,
                    centre: centre.name.clone(),
                    agency_id: service.agency_id,
                    agency,
                    service_id: service.id,
                    service: service.name.clone(),
                    figures,
                });
            }
        }
    }
    Ok(out)
}

/// The CSV's columns, in order. Stable: scripts read these names.
pub const CSV_FIELDS: &[&str] = &[
    "period_from",
    "period_until",
    "centre_id",
    "centre",
    "agency_id",
    "agency",
    "service_id",
    "service",
    "bookings",
    "meetings",
    "no_shows",
    "cancelled",
    "resolved",
    "follow_up",
    "referred",
    "share_resolved",
    "waits_measured",
    "mean_wait_seconds",
    "median_wait_seconds",
    "p90_wait_seconds",
    "survey_answers",
    "mean_satisfaction",
    "satisfaction_1",
    "satisfaction_2",
    "satisfaction_3",
    "satisfaction_4",
    "satisfaction_5",
    "share_got_help",
    "complaints",
    "suggestions",
    "praise",
    "calls_reported",
    "mean_rtt_ms",
    "mean_loss_per_mille",
    "mean_poor_seconds",
];

/// RFC 4180: a header row, then one row per group (month, centre, service), CRLF line ends, fields with a comma, quote or
/// line break quoted with quotes doubled. A name that a spreadsheet would run as a formula
/// (starting with `=`, `+`, `-`, `@`, tab or CR) gets a leading `'`, as OWASP advises for CSV
/// opened in Excel or LibreOffice. Numbers use a full stop; a figure with nothing to count is
/// empty.
pub fn to_csv(groups: &[Group]) -> String {
    let mut out = String::new();
    push_row(&mut out, CSV_FIELDS.iter().map(|f| f.to_string()));
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for g in groups {
        let f = &g.figures;
        let mut row = vec![
            format_day(g.period_from),
            format_day(g.period_until),
            g.centre_id.to_string(),
            text(&g.centre),
            g.agency_id.to_string(),
            text(&g.agency),
            g.service_id.to_string(),
            text(&g.service),
        ];
        row.extend(
            [
                f.bookings,
                f.meetings,
                f.no_shows,
                f.cancelled,
                f.resolved,
                f.follow_up,
                f.referred,
            ]
            .map(|n| n.to_string()),
        );
        row.push(opt(f.share_resolved));
        row.push(f.waits_measured.to_string());
        row.extend(
            [
                f.mean_wait_seconds,
                f.median_wait_seconds,
                f.p90_wait_seconds,
            ]
            .map(opt),
        );
        row.push(f.survey_answers.to_string());
        row.push(opt(f.mean_satisfaction));
        row.extend(f.satisfaction_counts.map(|n| n.to_string()));
        row.push(opt(f.share_got_help));
        row.extend(
            [f.complaints, f.suggestions, f.praise, f.calls_reported].map(|n| n.to_string()),
        );
        row.extend([f.mean_rtt_ms, f.mean_loss_per_mille, f.mean_poor_seconds].map(opt));
        push_row(&mut out, row.into_iter());
    }
    out
}

fn text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

fn push_row(out: &mut String, fields: impl Iterator<Item = String>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&field);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_reported_month_by_month() {
        let day = |s| parse_day(s, "from").unwrap();
        let cut: Vec<_> = months(day("2026-01-20"), day("2026-03-05"))
            .into_iter()
            .map(|(a, b)| (format_day(a), format_day(b)))
            .collect();
        let want = [
            ("2026-01-20", "2026-01-31"),
            ("2026-02-01", "2026-02-28"),
            ("2026-03-01", "2026-03-05"),
        ];
        assert_eq!(cut, want.map(|(a, b)| (a.to_owned(), b.to_owned())));
        let year_end: Vec<_> = months(day("2026-12-31"), day("2027-01-01"));
        assert_eq!(
            year_end,
            vec![
                (day("2026-12-31"), day("2026-12-31")),
                (day("2027-01-01"), day("2027-01-01"))
            ]
        );
    }

    #[test]
    fn days_round_trip() {
        let d = parse_day("2026-06-15", "from").unwrap();
        assert_eq!(format_day(d), "2026-06-15");
        assert!(parse_day("2026-02-30", "from").is_err());
    }

    #[test]
    fn csv_quotes_as_rfc_4180_says_and_defuses_formulas() {
        let mut out = String::new();
        push_row(
            &mut out,
            ["a,b", "say \"hi\"", "plain", &text("=SUM(A1)")]
                .map(str::to_owned)
                .into_iter(),
        );
        assert_eq!(out, "\"a,b\",\"say \"\"hi\"\"\",plain,'=SUM(A1)\r\n");
    }

    #[test]
    fn median_and_p90_by_nearest_rank() {
        use crate::store::median_and_p90;
        assert_eq!(median_and_p90(&mut []), (None, None));
        assert_eq!(median_and_p90(&mut [7]), (Some(7.0), Some(7.0)));
        assert_eq!(
            median_and_p90(&mut [40, 10, 30, 20]),
            (Some(25.0), Some(40.0))
        );
        let mut ten: Vec<i64> = (1..=10).collect();
        assert_eq!(median_and_p90(&mut ten), (Some(5.5), Some(9.0)));
    }
}
