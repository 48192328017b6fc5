//! The booking store: one trait, one implementation per database ([`SqliteStore`], [`PgStore`]),
//! both generated from the same SQL text in [`sql`].
//!
//! Personnummer enters the store as [`Personnummer`] and leaves it only through
//! [`Store::citizen_personnummer`]; the store encrypts and hashes it with the data key. Every method
//! that returns a citizen's data to staff takes a [`StaffAccess`] and writes the access log in the
//! same transaction, so a read without a log row cannot happen.

mod sql;

use async_trait::async_trait;
use serde::Serialize;

use crate::identity::{IdMethod, Subject};
use crate::ids::*;
use crate::personnummer::Personnummer;

pub use sql::{PgStore, SqliteStore};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the officer or the booth is already booked at that time")]
    DoubleBooking,
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness, foreign-key or check constraint refused the write.
    #[error("conflicts with existing data ({0})")]
    Conflict(String),
    #[error("{0}")]
    Invalid(&'static str),
    #[error("booking cannot be started from state {0}")]
    NotStartable(BookingState),
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    #[error("database error")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        if let sqlx::Error::Database(db) = &e {
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

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Agency {
    pub id: AgencyId,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Service {
    pub id: ServiceId,
    pub agency_id: AgencyId,
    pub name: String,
    pub default_duration_minutes: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Officer {
    pub id: OfficerId,
    pub agency_id: AgencyId,
    pub display_name: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Centre {
    pub id: CentreId,
    pub kommun: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Booth {
    pub id: BoothId,
    pub centre_id: CentreId,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Guide {
    pub id: GuideId,
    pub centre_id: CentreId,
    pub display_name: String,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingState {
    Booked,
    Started,
    Ended,
    Cancelled,
}

impl BookingState {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingState::Booked => "booked",
            BookingState::Started => "started",
            BookingState::Ended => "ended",
            BookingState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "booked" => BookingState::Booked,
            "started" => BookingState::Started,
            "ended" => BookingState::Ended,
            "cancelled" => BookingState::Cancelled,
            _ => return None,
        })
    }
}

impl std::fmt::Display for BookingState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A booking as stored, with ids only (no citizen data): what access checks need.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingRecord {
    pub id: BookingId,
    pub service_id: ServiceId,
    pub officer_id: OfficerId,
    pub booth_id: BoothId,
    pub centre_id: CentreId,
    pub citizen_id: CitizenId,
    pub starts_at: i64,
    pub duration_minutes: i64,
    pub state: BookingState,
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
    pub booth: Named<BoothId>,
    pub centre_id: CentreId,
    pub citizen_id: CitizenId,
    pub citizen_name: String,
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

#[derive(Debug, Clone)]
pub struct NewBooking {
    pub service_id: ServiceId,
    pub officer_id: OfficerId,
    pub booth_id: BoothId,
    /// Found by its keyed hash, or added with this display name, inside the booking's
    /// transaction.
    pub citizen_personnummer: Personnummer,
    pub citizen_name: String,
    pub starts_at: i64,
    pub duration_minutes: i64,
    pub created_by: Option<GuideId>,
    pub created_at: i64,
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

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// No agencies yet: a fresh database.
    async fn is_empty(&self) -> Result<bool, StoreError>;

    async fn insert_agency(&self, agency: &Agency) -> Result<(), StoreError>;
    async fn insert_service(&self, service: &Service) -> Result<(), StoreError>;
    async fn insert_officer(&self, officer: &Officer) -> Result<(), StoreError>;
    async fn insert_centre(&self, centre: &Centre) -> Result<(), StoreError>;
    async fn insert_booth(&self, booth: &Booth) -> Result<(), StoreError>;
    async fn insert_guide(&self, guide: &Guide) -> Result<(), StoreError>;

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

    async fn directory(&self) -> Result<Directory, StoreError>;
    async fn officer(&self, id: OfficerId) -> Result<Option<Officer>, StoreError>;
    async fn guide(&self, id: GuideId) -> Result<Option<Guide>, StoreError>;
    async fn booth(&self, id: BoothId) -> Result<Option<Booth>, StoreError>;
    /// The display name of anyone who can sign in.
    async fn display_name(&self, subject: &Subject) -> Result<Option<String>, StoreError>;
    /// Everyone who can sign in through the development e-ID.
    async fn people(&self) -> Result<Vec<Person>, StoreError>;

    /// Checks that service, officer and booth exist and fit together, and that neither officer nor
    /// booth has an overlapping booked or started meeting, then inserts; all in one transaction
    /// that holds the officer's and booth's rows locked. Logged (the view names the citizen).
    async fn create_booking(
        &self,
        booking: &NewBooking,
        access: &StaffAccess,
    ) -> Result<BookingView, StoreError>;
    async fn booking(&self, id: BookingId) -> Result<Option<BookingRecord>, StoreError>;
    /// Sorted by start time; logged per booking.
    async fn list_bookings(
        &self,
        filter: BookingFilter,
        access: &StaffAccess,
    ) -> Result<Vec<BookingView>, StoreError>;
    /// `booked` -> `started`; `started` stays `started`; anything else is refused.
    async fn start_booking(&self, id: BookingId) -> Result<BookingState, StoreError>;
    /// The citizen's first booked or started meeting at the booth in `[from, until)` that has
    /// not yet ended by `from`.
    async fn next_booking_at_booth(
        &self,
        citizen: CitizenId,
        booth: BoothId,
        from: i64,
        until: i64,
    ) -> Result<Option<CitizenBookingView>, StoreError>;

    async fn access_log_for_citizen(
        &self,
        citizen: CitizenId,
    ) -> Result<Vec<AccessLogEntry>, StoreError>;

    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    async fn session(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError>;
    async fn touch_session(&self, id: &SessionId, now: i64) -> Result<(), StoreError>;
    async fn delete_session(&self, id: &SessionId) -> Result<(), StoreError>;
    /// Deletes sessions past their absolute expiry or idle since `idle_before`; returns how many.
    async fn purge_sessions(
        &self,
        absolute_before: i64,
        idle_before: i64,
    ) -> Result<u64, StoreError>;
}
