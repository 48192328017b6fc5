//! The booking store: one trait, one implementation per database ([`SqliteStore`], [`PgStore`]),
//! both generated from the same SQL text in [`sql`].
//!
//! Personnummer enters the store as [`Personnummer`] and leaves it only through
//! [`Store::citizen_personnummer`]; the store encrypts and hashes it with the data key. Every method
//! that returns a citizen's data to staff takes a [`StaffAccess`] and writes the access log in the
//! same transaction, so a read without a log row cannot happen.

mod follow_up;
mod help;
mod resources;
mod sql;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::identity::{IdMethod, Subject};
use crate::ids::*;
use crate::personnummer::Personnummer;
use crate::schedule::{Period, WeeklyHours};

pub use sql::{PgStore, SqliteStore};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("an officer, the booth or the interpreter is already booked at that time")]
    DoubleBooking,
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness, foreign-key or check constraint refused the write.
    #[error("conflicts with existing data ({0})")]
    Conflict(String),
    #[error("{0}")]
    Invalid(&'static str),
    #[error("a booking that is {from} cannot be {change}")]
    InvalidTransition {
        from: BookingState,
        change: &'static str,
    },
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    #[error("database error")]
    Database(#[source] sqlx::Error),
}

/// Raised by the SQLite triggers that guard reservations; the constraint's name in PostgreSQL.
const NO_OVERLAP: &str = "reservations_no_overlap";
/// PostgreSQL's SQLSTATE for an exclusion-constraint violation.
const EXCLUSION_VIOLATION: &str = "23P01";

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        if let sqlx::Error::Database(db) = &e {
            if db.code().as_deref() == Some(EXCLUSION_VIOLATION)
                || db.message().starts_with(NO_OVERLAP)
            {
                return StoreError::DoubleBooking;
            }
            let what = match db.kind() {
                ErrorKind::UniqueViolation => Some("unique"),
                ErrorKind::ForeignKeyViolation => Some("foreign key"),
                ErrorKind::CheckViolation => Some("check"),
                ErrorKind::NotNullViolation => Some("not null"),
                _ => None,
            };
            if let Some(what) = what {
                let name = db.constraint().map(|c| format!(" {c}")).unwrap_or_default();
                return StoreError::Conflict(format!("{what}{name}"));
            }
        }
        StoreError::Database(e)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    #[serde(default)]
    pub id: AgencyId,
    pub name: String,
}

/// A type of matter an agency handles.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Service {
    #[serde(default)]
    pub id: ServiceId,
    pub agency_id: AgencyId,
    pub name: String,
    pub default_duration_minutes: i64,
    /// An officer needs every one of these to handle the matter.
    #[serde(default)]
    pub required_skills: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Officer {
    #[serde(default)]
    pub id: OfficerId,
    pub agency_id: AgencyId,
    pub display_name: String,
    /// May manage the agency, its services and officers.
    #[serde(default)]
    pub agency_admin: bool,
    /// May read the access log of the agency's bookings and staff (a data protection officer or
    /// internal auditor); nothing else follows from it.
    #[serde(default)]
    pub auditor: bool,
    /// Reads the agency's follow-up figures (at every centre), and nothing else: no meetings, no
    /// citizen's data.
    #[serde(default)]
    pub analyst: bool,
    /// Work address for meeting invitations; none: not emailed.
    #[serde(default)]
    pub email: Option<String>,
    /// Services of the officer's agency they handle.
    #[serde(default)]
    pub services: Vec<ServiceId>,
    /// BCP 47 language tags ("sv", "ar", "swl").
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub skills: Vec<String>,
    #[serde(default)]
    pub working_hours: Vec<WeeklyHours>,
    #[serde(default)]
    pub absences: Vec<Period>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Centre {
    #[serde(default)]
    pub id: CentreId,
    pub kommun: String,
    pub name: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub opening_hours: Vec<WeeklyHours>,
    #[serde(default)]
    pub closures: Vec<Closure>,
}

/// A centre closed for a period (a holiday, a move).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    #[serde(flatten)]
    pub period: Period,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Booth {
    #[serde(default)]
    pub id: BoothId,
    pub centre_id: CentreId,
    pub name: String,
    #[serde(default)]
    pub wheelchair_accessible: bool,
    /// "document_camera", "hearing_loop", "printer", …
    #[serde(default)]
    pub equipment: Vec<String>,
    /// The kiosk device's own identity.
    #[serde(default)]
    pub device_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Guide {
    #[serde(default)]
    pub id: GuideId,
    pub centre_id: CentreId,
    pub display_name: String,
    /// May manage the centre, its booths and guides.
    #[serde(default)]
    pub centre_admin: bool,
    /// Work address; the centre's single sign-on finds the guide by it.
    #[serde(default)]
    pub email: Option<String>,
    /// Reads the centre's follow-up figures (every agency's meetings held there): the kommun's
    /// analyst or manager, kept in the centre's staff list. Nothing else follows from it: no
    /// counter work, no citizen's data.
    #[serde(default)]
    pub analyst: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Interpreter {
    #[serde(default)]
    pub id: InterpreterId,
    pub display_name: String,
    /// BCP 47 language tags; "swl" is Swedish sign language.
    pub languages: Vec<String>,
    /// Address for meeting invitations; none: not emailed.
    #[serde(default)]
    pub email: Option<String>,
}

/// Anything the resource API manages, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Resource {
    Agency(Agency),
    Service(Service),
    Officer(Officer),
    Centre(Centre),
    Booth(Booth),
    Guide(Guide),
    Interpreter(Interpreter),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    Agency,
    Service,
    Officer,
    Centre,
    Booth,
    Guide,
    Interpreter,
}

impl Resource {
    pub fn kind(&self) -> ResourceKind {
        match self {
            Resource::Agency(_) => ResourceKind::Agency,
            Resource::Service(_) => ResourceKind::Service,
            Resource::Officer(_) => ResourceKind::Officer,
            Resource::Centre(_) => ResourceKind::Centre,
            Resource::Booth(_) => ResourceKind::Booth,
            Resource::Guide(_) => ResourceKind::Guide,
            Resource::Interpreter(_) => ResourceKind::Interpreter,
        }
    }

    pub fn id(&self) -> uuid::Uuid {
        match self {
            Resource::Agency(r) => r.id.0,
            Resource::Service(r) => r.id.0,
            Resource::Officer(r) => r.id.0,
            Resource::Centre(r) => r.id.0,
            Resource::Booth(r) => r.id.0,
            Resource::Guide(r) => r.id.0,
            Resource::Interpreter(r) => r.id.0,
        }
    }
}

/// A citizen as staff may see them: no personnummer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Citizen {
    pub id: CitizenId,
    pub display_name: String,
}

/// Everything a guide or officer picks from when booking.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Directory {
    pub agencies: Vec<Agency>,
    pub services: Vec<Service>,
    pub centres: Vec<Centre>,
    pub booths: Vec<Booth>,
    pub officers: Vec<Officer>,
}

/// Where a booking is in its life: `booked` -> `checked_in` -> `started` -> `ended`, or
/// `cancelled` / `no_show`. The last three are final and free what the booking held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingState {
    Booked,
    CheckedIn,
    Started,
    Ended,
    Cancelled,
    NoShow,
}

impl BookingState {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingState::Booked => "booked",
            BookingState::CheckedIn => "checked_in",
            BookingState::Started => "started",
            BookingState::Ended => "ended",
            BookingState::Cancelled => "cancelled",
            BookingState::NoShow => "no_show",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "booked" => BookingState::Booked,
            "checked_in" => BookingState::CheckedIn,
            "started" => BookingState::Started,
            "ended" => BookingState::Ended,
            "cancelled" => BookingState::Cancelled,
            "no_show" => BookingState::NoShow,
            _ => return None,
        })
    }

    /// Final states hold no officer, booth or interpreter.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            BookingState::Ended | BookingState::Cancelled | BookingState::NoShow
        )
    }
}

impl std::fmt::Display for BookingState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the officer records when a meeting ends: a code, never free text about the citizen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Resolved,
    FollowUp,
    Referred,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Resolved => "resolved",
            Outcome::FollowUp => "follow_up",
            Outcome::Referred => "referred",
        }
    }
}

/// Why a booking was cancelled: a code, so follow-up can count them and no free text about the
/// citizen is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    CitizenRequest,
    OfficerUnavailable,
    InterpreterUnavailable,
    CentreClosed,
    BookedInError,
    TechnicalProblem,
}

impl CancelReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CancelReason::CitizenRequest => "citizen_request",
            CancelReason::OfficerUnavailable => "officer_unavailable",
            CancelReason::InterpreterUnavailable => "interpreter_unavailable",
            CancelReason::CentreClosed => "centre_closed",
            CancelReason::BookedInError => "booked_in_error",
            CancelReason::TechnicalProblem => "technical_problem",
        }
    }
}

/// A change to a booking after it was made; each is one history entry.
#[derive(Debug, Clone, PartialEq)]
pub enum BookingChange {
    /// Only while `booked`; the booth may change within the same centre.
    Reschedule {
        starts_at: i64,
        duration_minutes: i64,
        booth_id: Option<BoothId>,
        /// When a citizen told of the booking by SMS is reminded of its new time.
        reminder_before_secs: i64,
    },
    Cancel {
        reason: CancelReason,
    },
    CheckIn,
    NoShow,
    Start,
    /// `category` is a code from the agency's own list (e.g. "ansokan", "betalning").
    End {
        outcome: Outcome,
        category: Option<String>,
    },
}

impl BookingChange {
    /// The history entry's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            BookingChange::Reschedule { .. } => "rescheduled",
            BookingChange::Cancel { .. } => "cancelled",
            BookingChange::CheckIn => "checked_in",
            BookingChange::NoShow => "no_show",
            BookingChange::Start => "started",
            BookingChange::End { .. } => "ended",
        }
    }

    /// The states this change may be made from, and the state it leads to.
    pub fn transition(&self) -> (&'static [BookingState], BookingState) {
        use BookingState::*;
        match self {
            BookingChange::Reschedule { .. } => (&[Booked], Booked),
            BookingChange::Cancel { .. } => (&[Booked, CheckedIn, Started], Cancelled),
            BookingChange::CheckIn => (&[Booked], CheckedIn),
            BookingChange::NoShow => (&[Booked], NoShow),
            // Starting twice is harmless: the guide may press the button again.
            BookingChange::Start => (&[Booked, CheckedIn, Started], Started),
            BookingChange::End { .. } => (&[Started], Ended),
        }
    }
}

/// One entry of a booking's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BookingEvent {
    pub seq: i64,
    #[serde(with = "crate::schedule::rfc3339")]
    pub at: i64,
    pub actor: Subject,
    pub kind: String,
    /// What changed, as JSON: new times, the reason code, the outcome.
    pub detail: serde_json::Value,
}

/// The citizen's two answers at the booth after a meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyAnswer {
    /// 1 (very unhappy) to 5 (very happy).
    pub satisfaction: i64,
    pub got_help: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackKind {
    Complaint,
    Suggestion,
    Praise,
}

impl FeedbackKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackKind::Complaint => "complaint",
            FeedbackKind::Suggestion => "suggestion",
            FeedbackKind::Praise => "praise",
        }
    }
}

/// A synpunkt: what it is about and a category code, never free text about anyone.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFeedback {
    pub centre_id: CentreId,
    pub agency_id: Option<AgencyId>,
    pub booking_id: Option<BookingId>,
    pub kind: FeedbackKind,
    pub category: String,
    pub at: i64,
}

/// What the media side reports about one meeting's call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallQuality {
    pub mean_rtt_ms: i64,
    /// Packets lost per thousand.
    pub loss_per_mille: i64,
    /// Seconds the call's quality was poor for some participant.
    pub poor_seconds: i64,
}

/// Which bookings a follow-up covers: those starting in `[from, until)`, optionally of one centre,
/// agency (of the booking's own service) or service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FollowUpFilter {
    pub centre: Option<CentreId>,
    pub agency: Option<AgencyId>,
    pub service: Option<ServiceId>,
    pub from: i64,
    pub until: i64,
}

/// Follow-up figures for a centre, agency, service and period.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct FollowUp {
    pub bookings: i64,
    /// Meetings held (ended).
    pub meetings: i64,
    pub no_shows: i64,
    pub cancelled: i64,
    pub resolved: i64,
    pub follow_up: i64,
    pub referred: i64,
    /// Of meetings held with an outcome.
    pub share_resolved: Option<f64>,
    /// From check-in to start, over meetings with both.
    pub mean_wait_seconds: Option<f64>,
    /// How many meetings have both a check-in and a start: what the wait figures are over.
    pub waits_measured: i64,
    /// The middle wait, or the mean of the two middle ones.
    pub median_wait_seconds: Option<f64>,
    /// The 90th percentile by nearest rank: the smallest wait that at least 90 % of the waits
    /// are at or below (with fewer than ten waits, that is the longest).
    pub p90_wait_seconds: Option<f64>,
    pub survey_answers: i64,
    /// How many answered 1, 2, 3, 4 and 5, in that order.
    pub satisfaction_counts: [i64; 5],
    pub mean_satisfaction: Option<f64>,
    pub share_got_help: Option<f64>,
    pub complaints: i64,
    pub suggestions: i64,
    pub praise: i64,
    /// The feedback counted above, by kind and category code (ordered by kind, then category).
    pub feedback_by_category: Vec<FeedbackCount>,
    pub calls_reported: i64,
    pub mean_rtt_ms: Option<f64>,
    pub mean_loss_per_mille: Option<f64>,
    pub mean_poor_seconds: Option<f64>,
}

/// How many synpunkter of one kind and category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedbackCount {
    /// `complaint`, `suggestion` or `praise`.
    pub kind: String,
    pub category: String,
    pub count: i64,
}

/// The median and the 90th percentile (nearest rank) of `values`, as [`FollowUp`] defines them;
/// `None` for no values.
pub fn median_and_p90(values: &mut [i64]) -> (Option<f64>, Option<f64>) {
    if values.is_empty() {
        return (None, None);
    }
    values.sort_unstable();
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2] as f64
    } else {
        (values[n / 2 - 1] as f64 + values[n / 2] as f64) / 2.0
    };
    // Nearest rank: ceil(0.9 n), counted from 1.
    let rank = (9 * n).div_ceil(10);
    (Some(median), Some(values[rank - 1] as f64))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    Waiting,
    /// An officer has taken it; the guide takes the citizen to a booth.
    Called,
    Served,
    /// The citizen went before being served.
    Left,
}

impl TicketState {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::Waiting => "waiting",
            TicketState::Called => "called",
            TicketState::Served => "served",
            TicketState::Left => "left",
        }
    }
}

/// A drop-in ticket, with the citizen's place in the queue while waiting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    pub id: TicketId,
    pub centre_id: CentreId,
    pub service_id: ServiceId,
    pub number: i64,
    pub state: TicketState,
    #[serde(with = "crate::schedule::rfc3339")]
    pub joined_at: i64,
    pub officer_id: Option<OfficerId>,
    /// 1 = next; among waiting tickets at the centre for the same agency. `None` unless waiting.
    pub position: Option<i64>,
}

/// Why a booth calls the guide: a code, never words about the citizen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HelpReason {
    /// The citizen has no BankID: the guide checks an ID document at the counter.
    Identification,
    /// Something in the meeting (sound, picture, the officer asks for the guide).
    Meeting,
    Other,
}

impl HelpReason {
    pub fn as_str(self) -> &'static str {
        match self {
            HelpReason::Identification => "identification",
            HelpReason::Meeting => "meeting",
            HelpReason::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "identification" => Some(HelpReason::Identification),
            "meeting" => Some(HelpReason::Meeting),
            "other" => Some(HelpReason::Other),
            _ => None,
        }
    }
}

/// A booth's call for the guide (migration 0012), open until a guide answers it.
#[derive(Debug, Clone, PartialEq)]
pub struct HelpCall {
    pub id: HelpCallId,
    pub booth_id: BoothId,
    pub booth_name: String,
    pub centre_id: CentreId,
    pub reason: HelpReason,
    pub called_at: i64,
    pub answered_at: Option<i64>,
    pub answered_by: Option<GuideId>,
}

/// Whose reservations to read: only what a slot search could pick, so its cost follows one
/// centre and service, not the whole country.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserved {
    OfficersServing(ServiceId),
    BoothsAt(CentreId),
    Interpreters,
}

/// Which officers a slot search tries for one service: those who handle it, have its skills and
/// speak the language, in the order the search prefers them.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficerPick {
    pub service: ServiceId,
    /// Only officers who speak it.
    pub language: Option<String>,
    /// Only this officer.
    pub only: Option<OfficerId>,
    /// This officer first ("their" officer), then the others by name.
    pub first: Option<OfficerId>,
    /// Only the first this many by name (besides `first`): a search reads more only when it
    /// needs them.
    pub limit: usize,
}

/// An officer as a slot search needs them: name, hours, and what keeps them busy (absences and
/// reservations) in the range searched.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotOfficer {
    pub id: OfficerId,
    pub display_name: String,
    pub working_hours: Vec<WeeklyHours>,
    pub busy: Vec<Period>,
}

/// An officer taking part in a booking, for one of its services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    pub officer_id: OfficerId,
    pub service_id: ServiceId,
}

/// A booking as stored, with ids only (no citizen data): what access checks need.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingRecord {
    pub id: BookingId,
    pub service_id: ServiceId,
    /// The officer of the booking's own service; also first in `officers`.
    pub officer_id: OfficerId,
    pub officers: Vec<Participant>,
    pub booth_id: BoothId,
    pub centre_id: CentreId,
    pub citizen_id: CitizenId,
    pub interpreter_id: Option<InterpreterId>,
    pub language: Option<String>,
    pub starts_at: i64,
    pub duration_minutes: i64,
    pub state: BookingState,
    pub outcome: Option<Outcome>,
    pub created_by: Option<GuideId>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Named<I> {
    pub id: I,
    pub name: String,
}

/// A booking as shown to staff: names resolved, including the citizen's display name (so reading
/// it is logged).
#[derive(Debug, Clone, PartialEq)]
pub struct BookingView {
    pub id: BookingId,
    pub state: BookingState,
    pub starts_at: i64,
    pub duration_minutes: i64,
    pub service: Named<ServiceId>,
    pub agency: Named<AgencyId>,
    pub officer: Named<OfficerId>,
    /// Every officer, the booking's own first; others come from other agencies' services.
    pub officers: Vec<Named<OfficerId>>,
    pub interpreter: Option<Named<InterpreterId>>,
    pub language: Option<String>,
    pub booth: Named<BoothId>,
    pub centre_id: CentreId,
    pub citizen_id: CitizenId,
    pub citizen_name: String,
    /// How the citizen was identified for the meeting; none yet.
    pub identification: Option<BookingIdentification>,
}

/// A booking as shown to the citizen at the booth.
#[derive(Debug, Clone, PartialEq)]
pub struct CitizenBookingView {
    pub id: BookingId,
    pub state: BookingState,
    pub starts_at: i64,
    pub duration_minutes: i64,
    pub service_name: String,
    pub agency_name: String,
    pub officer_name: String,
}

/// Refusal of a booking whose guide is at another centre than the booth.
pub const BOOTH_AT_ANOTHER_CENTRE: &str = "the booth is at another centre";

#[derive(Debug, Clone)]
pub struct NewBooking {
    pub service_id: ServiceId,
    pub officer_id: OfficerId,
    /// Officers for other services (usually of other agencies) in the same meeting.
    pub additional_officers: Vec<Participant>,
    pub booth_id: BoothId,
    pub interpreter_id: Option<InterpreterId>,
    pub language: Option<String>,
    /// Found by its keyed hash, or added with this display name, inside the booking's
    /// transaction.
    pub citizen_personnummer: Personnummer,
    pub citizen_name: String,
    pub starts_at: i64,
    pub duration_minutes: i64,
    /// The guide who books; the booth must be at their centre (checked in the booking's first
    /// query, so the request needs no look-up of its own).
    pub created_by: Option<GuideId>,
    pub created_at: i64,
    /// Which messages the booking queues in the outbox, in its own transaction.
    pub notify: Notify,
}

/// Messages a new booking queues.
#[derive(Debug, Clone, Default)]
pub struct Notify {
    /// Email invitations to the officers and the interpreter who have an address.
    pub email: bool,
    /// SMS confirmation and reminder to this number. Kept only in the outbox rows.
    pub citizen_phone: Option<String>,
    /// How long before the start the SMS reminder is due.
    pub reminder_before_secs: i64,
}

/// How an outbox message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "email" => Some(Channel::Email),
            "sms" => Some(Channel::Sms),
            _ => None,
        }
    }
}

/// What an outbox message says, rendered at delivery (the email's iCalendar part, the SMS text).
/// Only what the text needs: no personnummer, no citizen name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payload {
    /// An officer's or interpreter's calendar invitation, or its update: every message of one
    /// booking carries the same UID, so a calendar replaces the event it already holds.
    Invitation {
        booking_id: BookingId,
        starts_at: i64,
        ends_at: i64,
        service: String,
        centre: String,
        attendee_name: String,
        /// iCalendar SEQUENCE: 0 when booked, then the booking's history number of the change,
        /// so each update outranks the one before. Absent in rows written before updates were
        /// sent.
        #[serde(default)]
        sequence: i64,
        /// The meeting was cancelled: the calendar removes the event (`METHOD:CANCEL`).
        #[serde(default)]
        cancelled: bool,
    },
    /// The citizen's SMS that the meeting is booked.
    Confirmation {
        booking_id: BookingId,
        starts_at: i64,
        centre: String,
    },
    /// The citizen's SMS shortly before the meeting.
    Reminder {
        booking_id: BookingId,
        starts_at: i64,
        centre: String,
    },
    /// The citizen's SMS that the meeting has a new time.
    Moved {
        booking_id: BookingId,
        starts_at: i64,
        centre: String,
    },
    /// The citizen's SMS that the meeting is cancelled.
    Cancelled {
        booking_id: BookingId,
        starts_at: i64,
        centre: String,
    },
}

/// A message claimed for delivery.
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    pub id: MessageId,
    pub booking_id: Option<BookingId>,
    pub channel: Channel,
    /// An email address or phone number: never logged.
    pub recipient: String,
    pub payload: Payload,
    /// Attempts before this one.
    pub attempts: i64,
}

/// A row of the outbox without its recipient, for operators and tests.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    pub id: MessageId,
    pub booking_id: Option<BookingId>,
    pub channel: Channel,
    pub delivered: bool,
    pub attempts: i64,
    pub due_at: i64,
    pub delivered_at: Option<i64>,
    pub last_error: Option<String>,
}

/// Which bookings to list.
#[derive(Debug, Clone, Copy)]
pub enum BookingFilter {
    /// Bookings at a centre that end at or after `from`.
    Centre { centre: CentreId, from: i64 },
    /// An officer's bookings that end at or after `from`.
    Officer { officer: OfficerId, from: i64 },
}

/// Who reads citizen data, and why: becomes an access-log row.
#[derive(Debug, Clone)]
pub struct StaffAccess {
    pub actor: Subject,
    pub reason: String,
    pub at: i64,
}

/// What an auditor asks of the access log.
#[derive(Debug, Clone)]
pub struct AccessLogQuery {
    pub agency: AgencyId,
    pub from: i64,
    pub until: i64,
    pub booking: Option<BookingId>,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessLogEntry {
    pub at: i64,
    pub actor: Subject,
    pub action: String,
    pub citizen_id: Option<CitizenId>,
    pub booking_id: Option<BookingId>,
    pub reason: String,
}

/// A person the development e-ID lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub subject: Subject,
    pub display_name: String,
    /// The agency of an officer, the centre of a guide.
    pub detail: String,
    /// An analyst (officer or guide flagged as one): the development e-ID lists them apart.
    pub analyst: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub id: SessionId,
    pub subject: Subject,
    pub method: IdMethod,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// Absolute expiry; idle expiry is computed from `last_seen_at`.
    pub expires_at: i64,
}

/// What a retention purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    /// Citizens whose name and personnummer are gone (their bookings stay, for the figures).
    pub citizens_anonymised: u64,
    /// How bookings' citizens were identified, and BankID's evidence.
    pub identifications: u64,
    /// Delivered messages, with their recipients' addresses and numbers.
    pub messages: u64,
}

/// What an anonymised citizen is called where a name is shown.
pub const ANONYMISED_NAME: &str = "Anonymiserad";

/// An enrolled booth kiosk.
#[derive(Debug, Clone, PartialEq)]
pub struct BoothDevice {
    pub id: uuid::Uuid,
    pub booth_id: BoothId,
    pub centre_id: CentreId,
}

/// The kinds of ID document a guide may check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentType {
    Passport,
    NationalIdCard,
    /// Skatteverket's identity card, or another Swedish one meeting the SIS standard.
    SwedishIdCard,
    DrivingLicence,
    /// Migrationsverket's residence permit card (UT-kort).
    ResidencePermitCard,
}

impl DocumentType {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentType::Passport => "passport",
            DocumentType::NationalIdCard => "national_id_card",
            DocumentType::SwedishIdCard => "swedish_id_card",
            DocumentType::DrivingLicence => "driving_licence",
            DocumentType::ResidencePermitCard => "residence_permit_card",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            DocumentType::Passport,
            DocumentType::NationalIdCard,
            DocumentType::SwedishIdCard,
            DocumentType::DrivingLicence,
            DocumentType::ResidencePermitCard,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }

    /// Swedish, for the people who see it.
    pub fn label(self) -> &'static str {
        match self {
            DocumentType::Passport => "pass",
            DocumentType::NationalIdCard => "nationellt id-kort",
            DocumentType::SwedishIdCard => "svenskt id-kort",
            DocumentType::DrivingLicence => "körkort",
            DocumentType::ResidencePermitCard => "uppehållstillståndskort",
        }
    }
}

/// How a booking's citizen was identified for the meeting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BookingIdentification {
    pub method: IdMethod,
    pub at: i64,
    /// The guide who checked the ID document, for `assisted_by_guide`.
    pub guide: Option<Named<GuideId>>,
    pub document_type: Option<DocumentType>,
    /// The last four characters of the document's number.
    pub document_last4: Option<String>,
}

impl BookingIdentification {
    /// In Swedish, for the other participants: "BankID", "ID-handling (pass, nr …1234) kontrollerad
    /// av Maria Svensson".
    pub fn label(&self) -> String {
        match (
            self.method,
            &self.guide,
            self.document_type,
            &self.document_last4,
        ) {
            (IdMethod::AssistedByGuide, Some(g), Some(d), Some(last4)) => {
                format!(
                    "ID-handling ({}, nr …{last4}) kontrollerad av {}",
                    d.label(),
                    g.name
                )
            }
            (method, ..) => method.label().to_owned(),
        }
    }
}

/// A BankID order in progress (migration 0007): what the browser that started it may see and
/// collect.
#[derive(Clone, PartialEq)]
pub struct BankIdOrderRecord {
    pub order_ref: String,
    /// SHA-256 (hex) of the secret in the starting browser's cookie.
    pub binding_hash: String,
    pub qr_start_token: String,
    /// AES-256-GCM under the data key, bound to `order_ref`.
    pub qr_start_secret_enc: Vec<u8>,
    pub started_at: i64,
    /// The booking the identification is for, when started at a booth with one ahead.
    pub booking_id: Option<BookingId>,
    /// The citizen that booking names: only they can complete the order.
    pub required_citizen_id: Option<CitizenId>,
    /// Started on this kiosk: completing it identifies the citizen for the booking.
    pub booth_device_id: Option<uuid::Uuid>,
}

impl std::fmt::Debug for BankIdOrderRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BankIdOrderRecord")
            .field("started_at", &self.started_at)
            .field("booking_id", &self.booking_id)
            .finish_non_exhaustive()
    }
}

/// An OpenID Connect login in progress (migration 0008): what the provider's redirect back is
/// checked against.
#[derive(Clone, PartialEq)]
pub struct OidcLoginRecord {
    /// SHA-256 (hex) of the secret in the starting browser's cookie.
    pub binding_hash: String,
    /// The configured provider's name.
    pub provider: String,
    pub state: String,
    pub nonce: String,
    /// The PKCE code verifier, AES-256-GCM under the data key, bound to `binding_hash`.
    pub pkce_verifier_enc: Vec<u8>,
    /// Where the browser goes once signed in: a path on this origin.
    pub return_to: String,
    pub started_at: i64,
}

impl std::fmt::Debug for OidcLoginRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcLoginRecord")
            .field("provider", &self.provider)
            .field("started_at", &self.started_at)
            .finish_non_exhaustive()
    }
}

/// Where staff single sign-on looks a person up: the officers of one agency or the guides of one
/// centre.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffScope {
    Agency(AgencyId),
    Centre(CentreId),
}

/// Evidence of a completed e-ID identification.
#[derive(Clone)]
pub struct IdentificationEvidence {
    pub id: uuid::Uuid,
    pub at: i64,
    pub method: IdMethod,
    pub citizen_id: CitizenId,
    pub booking_id: Option<BookingId>,
    pub order_ref: String,
    /// The signature, encrypted under the data key: it names the person.
    pub signature_enc: Vec<u8>,
    pub ocsp_response: String,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// No agencies yet: a fresh database.
    async fn is_empty(&self) -> Result<bool, StoreError>;

    /// Adds a resource; `Conflict` when its id or a unique name is taken, `NotFound` when what it
    /// refers to is missing.
    async fn create_resource(&self, resource: &Resource) -> Result<(), StoreError>;
    /// Replaces a resource (its lists too); `NotFound` when there is none with its id.
    async fn update_resource(&self, resource: &Resource) -> Result<(), StoreError>;
    /// `NotFound` when absent; `Conflict` while bookings or other resources refer to it.
    async fn delete_resource(&self, kind: ResourceKind, id: uuid::Uuid) -> Result<(), StoreError>;
    async fn resource(
        &self,
        kind: ResourceKind,
        id: uuid::Uuid,
    ) -> Result<Option<Resource>, StoreError>;
    /// Every resource of a kind, sorted by name.
    async fn resources(&self, kind: ResourceKind) -> Result<Vec<Resource>, StoreError>;
    /// Officers who handle `service`, with their hours and absences.
    async fn officers_serving(&self, service: ServiceId) -> Result<Vec<Officer>, StoreError>;
    /// `(resource id, period)` of the reservations of `of` overlapping `[from, until)`.
    async fn reservations(
        &self,
        of: Reserved,
        from: i64,
        until: i64,
    ) -> Result<Vec<(uuid::Uuid, Period)>, StoreError>;
    /// The officers `pick` asks for, in its order, with their absences and reservations that
    /// overlap `[from, until)`: one query, however many officers, so a slot search costs the
    /// same with ten officers per service as with ten thousand.
    async fn slot_officers(
        &self,
        pick: &OfficerPick,
        from: i64,
        until: i64,
    ) -> Result<Vec<SlotOfficer>, StoreError>;
    /// The booths of a centre, sorted by name.
    async fn booths_at(&self, centre: CentreId) -> Result<Vec<Booth>, StoreError>;
    /// The officer of the citizen's last ended booking of `service`: "their" officer.
    async fn last_officer_of(
        &self,
        citizen: CitizenId,
        service: ServiceId,
    ) -> Result<Option<OfficerId>, StoreError>;

    /// The citizen with this personnummer, created (with `id` and `display_name`) if there is none.
    /// Returns the citizen's id and whether it was created.
    async fn ensure_citizen(
        &self,
        id: CitizenId,
        personnummer: &Personnummer,
        display_name: &str,
        now: i64,
    ) -> Result<(CitizenId, bool), StoreError>;
    /// Look-up by keyed hash; logged.
    async fn citizen_by_personnummer(
        &self,
        personnummer: &Personnummer,
        access: &StaffAccess,
    ) -> Result<Option<Citizen>, StoreError>;
    /// Decrypts a citizen's personnummer; logged.
    async fn citizen_personnummer(
        &self,
        id: CitizenId,
        access: &StaffAccess,
    ) -> Result<Option<Personnummer>, StoreError>;

    async fn directory(&self) -> Result<Directory, StoreError> {
        let mut dir = Directory::default();
        for kind in [
            ResourceKind::Agency,
            ResourceKind::Service,
            ResourceKind::Centre,
            ResourceKind::Booth,
            ResourceKind::Officer,
        ] {
            for r in self.resources(kind).await? {
                match r {
                    Resource::Agency(a) => dir.agencies.push(a),
                    Resource::Service(s) => dir.services.push(s),
                    Resource::Centre(c) => dir.centres.push(c),
                    Resource::Booth(b) => dir.booths.push(b),
                    Resource::Officer(o) => dir.officers.push(o),
                    _ => {}
                }
            }
        }
        Ok(dir)
    }
    async fn officer(&self, id: OfficerId) -> Result<Option<Officer>, StoreError> {
        match self.resource(ResourceKind::Officer, id.0).await? {
            Some(Resource::Officer(o)) => Ok(Some(o)),
            _ => Ok(None),
        }
    }
    async fn guide(&self, id: GuideId) -> Result<Option<Guide>, StoreError> {
        match self.resource(ResourceKind::Guide, id.0).await? {
            Some(Resource::Guide(g)) => Ok(Some(g)),
            _ => Ok(None),
        }
    }
    async fn booth(&self, id: BoothId) -> Result<Option<Booth>, StoreError> {
        match self.resource(ResourceKind::Booth, id.0).await? {
            Some(Resource::Booth(b)) => Ok(Some(b)),
            _ => Ok(None),
        }
    }
    /// The centre of a booth, without the rest of the booth: one cheap query for access checks.
    async fn booth_centre(&self, id: BoothId) -> Result<Option<CentreId>, StoreError>;
    async fn centre(&self, id: CentreId) -> Result<Option<Centre>, StoreError> {
        match self.resource(ResourceKind::Centre, id.0).await? {
            Some(Resource::Centre(c)) => Ok(Some(c)),
            _ => Ok(None),
        }
    }
    async fn service(&self, id: ServiceId) -> Result<Option<Service>, StoreError> {
        match self.resource(ResourceKind::Service, id.0).await? {
            Some(Resource::Service(s)) => Ok(Some(s)),
            _ => Ok(None),
        }
    }
    /// The display name of anyone who can sign in.
    async fn display_name(&self, subject: &Subject) -> Result<Option<String>, StoreError>;
    /// Everyone who can sign in through the development e-ID.
    async fn people(&self) -> Result<Vec<Person>, StoreError>;

    /// Checks that service, officers, booth and interpreter exist and fit together, then inserts
    /// the booking, its officers, what it reserves and its first history entry in one
    /// transaction. A reservation overlapping another is refused by the database
    /// (`DoubleBooking`). Logged (the view names the citizen).
    async fn create_booking(
        &self,
        booking: &NewBooking,
        access: &StaffAccess,
    ) -> Result<BookingView, StoreError>;
    async fn booking(&self, id: BookingId) -> Result<Option<BookingRecord>, StoreError>;
    /// One booking as staff see it; logged.
    async fn view_booking(
        &self,
        id: BookingId,
        access: &StaffAccess,
    ) -> Result<Option<BookingView>, StoreError>;
    /// Sorted by start time; logged per booking.
    async fn list_bookings(
        &self,
        filter: BookingFilter,
        access: &StaffAccess,
    ) -> Result<Vec<BookingView>, StoreError>;
    /// Applies a change allowed from the booking's state ([`BookingChange::transition`]), moves or
    /// frees its reservations and appends the history entry, in one transaction.
    /// `InvalidTransition` from any other state.
    async fn change_booking(
        &self,
        id: BookingId,
        change: &BookingChange,
        actor: Subject,
        at: i64,
    ) -> Result<BookingRecord, StoreError>;
    /// Oldest first.
    async fn booking_history(&self, id: BookingId) -> Result<Vec<BookingEvent>, StoreError>;

    /// Stores the survey of an ended booking and notes it in the history; `Conflict` when the
    /// booking already has one, `InvalidTransition` when it has not ended.
    async fn record_survey(
        &self,
        booking: BookingId,
        answer: &SurveyAnswer,
        actor: Subject,
        at: i64,
    ) -> Result<(), StoreError>;
    async fn record_feedback(&self, feedback: &NewFeedback) -> Result<(), StoreError>;
    /// The media side's summary of a meeting's call; the last report wins.
    async fn record_call_quality(
        &self,
        booking: BookingId,
        quality: &CallQuality,
        at: i64,
    ) -> Result<(), StoreError>;
    async fn follow_up(&self, filter: &FollowUpFilter) -> Result<FollowUp, StoreError>;

    /// A new waiting ticket with the centre's next number.
    async fn join_drop_in(
        &self,
        centre: CentreId,
        service: ServiceId,
        at: i64,
    ) -> Result<Ticket, StoreError>;
    async fn ticket(&self, id: TicketId) -> Result<Option<Ticket>, StoreError>;
    /// The longest-waiting ticket at the centre for a service the officer handles, now theirs;
    /// `None` when nobody waits for them. Two officers calling at once get different tickets.
    async fn call_next_ticket(
        &self,
        centre: CentreId,
        officer: OfficerId,
        at: i64,
    ) -> Result<Option<Ticket>, StoreError>;
    /// `waiting` or `called` -> `served` or `left`.
    async fn close_ticket(&self, id: TicketId, state: TicketState) -> Result<Ticket, StoreError>;

    /// The booth's open help call, or a new one (then `true`): a second press while the guide
    /// is on the way is the same call.
    async fn call_help(
        &self,
        booth: BoothId,
        reason: HelpReason,
        at: i64,
    ) -> Result<(HelpCall, bool), StoreError>;
    /// The centre's unanswered help calls, oldest first.
    async fn open_help_calls(&self, centre: CentreId) -> Result<Vec<HelpCall>, StoreError>;
    async fn help_call(&self, id: HelpCallId) -> Result<Option<HelpCall>, StoreError>;
    /// Marks an open call answered by the guide; `Invalid` when it was answered already.
    async fn answer_help_call(
        &self,
        id: HelpCallId,
        guide: GuideId,
        at: i64,
    ) -> Result<HelpCall, StoreError>;

    /// Pending messages due at `now`, at most `limit`, each leased until `lease_until` so that
    /// another worker does not send it meanwhile.
    async fn claim_due_messages(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>, StoreError>;
    async fn mark_delivered(&self, id: MessageId, at: i64) -> Result<(), StoreError>;
    /// Counts a failed attempt and sets when the next may start. `error` names the failure's
    /// kind, never a recipient.
    async fn schedule_retry(
        &self,
        id: MessageId,
        due_at: i64,
        error: &str,
    ) -> Result<(), StoreError>;
    async fn outbox_entries(&self) -> Result<Vec<OutboxEntry>, StoreError>;

    /// Rows per table, for checks that a refused request changed nothing.
    async fn table_counts(&self) -> Result<Vec<(&'static str, i64)>, StoreError>;

    async fn access_log_for_citizen(
        &self,
        citizen: CitizenId,
    ) -> Result<Vec<AccessLogEntry>, StoreError>;

    /// An agency's access log for its auditor: entries about bookings any of the agency's officers
    /// take part in, and entries of the agency's officers' own actions, in `[from, until)`,
    /// oldest first. Writes the reading itself to the log, in the same transaction.
    async fn access_log_of_agency(
        &self,
        query: &AccessLogQuery,
        access: &StaffAccess,
    ) -> Result<Vec<AccessLogEntry>, StoreError>;

    /// Appends a decision (a sign-in, a refusal) to the access log. Append is the only write the
    /// log has.
    async fn record_access(
        &self,
        access: &StaffAccess,
        action: &str,
        booking: Option<BookingId>,
    ) -> Result<(), StoreError>;

    /// The booth's first booked or started meeting in `[from, until)` not yet ended by `from`,
    /// whoever it is for, with that citizen's id.
    async fn booth_booking_ahead(
        &self,
        booth: BoothId,
        from: i64,
        until: i64,
    ) -> Result<Option<(CitizenId, CitizenBookingView)>, StoreError>;

    /// A one-time enrolment code for a booth's kiosk (its SHA-256), valid until `expires_at`.
    async fn add_enrolment_code(
        &self,
        code_hash: &str,
        booth: BoothId,
        by: GuideId,
        expires_at: i64,
    ) -> Result<(), StoreError>;
    /// Spends a live enrolment code and enrols a kiosk whose credential hashes to `secret_hash`;
    /// `NotFound` when the code is unknown, spent or expired.
    async fn enrol_booth_device(
        &self,
        code_hash: &str,
        device_id: uuid::Uuid,
        secret_hash: &str,
        now: i64,
    ) -> Result<BoothDevice, StoreError>;
    /// Enrols a kiosk without a code: the development profile's shortcut.
    async fn enrol_booth_device_directly(
        &self,
        booth: BoothId,
        device_id: uuid::Uuid,
        secret_hash: &str,
        now: i64,
    ) -> Result<BoothDevice, StoreError>;
    /// Revokes every live kiosk credential of the booth (a lost or replaced device) and writes
    /// that to the access log; returns how many. The kiosk must be enrolled again.
    async fn revoke_booth_devices(
        &self,
        booth: BoothId,
        access: &StaffAccess,
    ) -> Result<u64, StoreError>;
    /// The live (not revoked) kiosk whose credential hashes to `secret_hash`.
    async fn booth_device(&self, secret_hash: &str) -> Result<Option<BoothDevice>, StoreError>;
    /// Records how the booking's citizen was identified (replacing an earlier identification) and
    /// notes it in the history; `InvalidTransition` once the meeting has ended or was cancelled.
    async fn identify_for_booking(
        &self,
        booking: BookingId,
        identification: &BookingIdentification,
        actor: Subject,
    ) -> Result<(), StoreError>;
    async fn booking_identification(
        &self,
        booking: BookingId,
    ) -> Result<Option<BookingIdentification>, StoreError>;

    async fn insert_bankid_order(&self, order: &BankIdOrderRecord) -> Result<(), StoreError>;
    async fn bankid_order(&self, order_ref: &str) -> Result<Option<BankIdOrderRecord>, StoreError>;
    /// Whether there was such an order.
    async fn delete_bankid_order(&self, order_ref: &str) -> Result<bool, StoreError>;
    /// Keeps the evidence and removes the order, in one transaction; `NotFound` when the order is
    /// gone (collected twice at once: only one completes).
    async fn complete_bankid_order(
        &self,
        evidence: &IdentificationEvidence,
    ) -> Result<(), StoreError>;
    /// Deletes orders started before `started_before`; returns how many.
    async fn purge_bankid_orders(&self, started_before: i64) -> Result<u64, StoreError>;
    async fn identifications_of(
        &self,
        citizen: CitizenId,
    ) -> Result<Vec<IdentificationEvidence>, StoreError>;

    /// Staff in `scope` whose email address is `email`, compared without regard to case; at most
    /// two (more than one is a data error the caller refuses).
    async fn staff_by_email(
        &self,
        scope: StaffScope,
        email: &str,
    ) -> Result<Vec<Subject>, StoreError>;
    async fn insert_oidc_login(&self, login: &OidcLoginRecord) -> Result<(), StoreError>;
    /// Removes and returns the login bound to `binding_hash`: a login is used at most once, even
    /// by two callbacks at the same moment.
    async fn take_oidc_login(
        &self,
        binding_hash: &str,
    ) -> Result<Option<OidcLoginRecord>, StoreError>;
    /// Deletes logins started before `started_before`; returns how many.
    async fn purge_oidc_logins(&self, started_before: i64) -> Result<u64, StoreError>;

    /// Removes personal data of meetings over before `before`: how their citizens were identified
    /// and the evidence, delivered messages (recipients), and the name and personnummer of every
    /// citizen with nothing left after `before` (no live or later booking). Bookings, outcomes,
    /// surveys, feedback and call quality stay, anonymous, for the follow-up figures. One
    /// transaction.
    async fn purge_personal_data(&self, before: i64) -> Result<Purged, StoreError>;

    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    async fn session(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError>;
    /// The session with the display name of its subject (`None` when that person is gone), in
    /// one query: every signed-in request needs both.
    async fn session_with_name(
        &self,
        id: &SessionId,
    ) -> Result<Option<(SessionRecord, Option<String>)>, StoreError>;
    async fn touch_session(&self, id: &SessionId, now: i64) -> Result<(), StoreError>;
    async fn delete_session(&self, id: &SessionId) -> Result<(), StoreError>;
    /// Ends every session of `subject`; returns how many there were.
    async fn delete_sessions_of(&self, subject: &Subject) -> Result<u64, StoreError>;
    /// Deletes sessions past their absolute expiry or idle since `idle_before`; returns how many.
    async fn purge_sessions(
        &self,
        absolute_before: i64,
        idle_before: i64,
    ) -> Result<u64, StoreError>;
}
