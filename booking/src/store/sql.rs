//! SQLite and PostgreSQL stores from one SQL text.
//!
//! The dialects agree on everything used here (`$n` placeholders, `RETURNING`, `ON CONFLICT`,
//! text ids, 64-bit integer times), so [`sql_store!`] writes the `Store` impl once and is expanded
//! for each database. What differs is passed in: how a write transaction begins and the row-lock
//! suffix (`BEGIN IMMEDIATE` takes SQLite's single write lock up front; PostgreSQL locks the
//! officer's and booth's rows `FOR UPDATE`), and PostgreSQL's plan setting for the slot search's
//! officer query. Either way two bookings for the same officer or booth
//! are serialised, so the overlap check cannot be raced. A read that writes the access log is a
//! write transaction too: SQLite cannot turn a reader into a writer while another connection (the
//! outbox worker, say) writes, and fails at once with "database is locked".

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Postgres, Sqlite};

use super::follow_up::{COVERED, follow_up_methods};
use super::help::{HELP_CALL_SELECT, HelpCallRow, help_call_methods, help_call_of};
use super::resources::{self, by_id, group, hours, resource_methods, sql};
use super::*;
use crate::crypto::DataKey;

pub struct SqliteStore {
    pool: SqlitePool,
    key: Arc<DataKey>,
}

pub struct PgStore {
    pool: PgPool,
    key: Arc<DataKey>,
}

impl SqliteStore {
    /// Connects (creating the file if the URL says `mode=rwc`) and runs the migrations.
    pub async fn connect(url: &str, key: Arc<DataKey>) -> Result<Self, crate::BookingError> {
        let options = SqliteConnectOptions::from_str(url)?
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true);
        // An in-memory database exists per connection, so it must be a pool of one.
        let max = if url.contains(":memory:") || url.contains("mode=memory") {
            1
        } else {
            8
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(SqliteStore { pool, key })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

impl PgStore {
    pub async fn connect(url: &str, key: Arc<DataKey>) -> Result<Self, crate::BookingError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PgStore { pool, key })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// What a change to a booking tells those its messages went to.
enum Notice {
    Moved {
        starts_at: i64,
        ends_at: i64,
        reminder_before_secs: i64,
    },
    /// `citizen`: an SMS to the citizen; `calendars`: `METHOD:CANCEL` to the invited.
    Cancelled {
        starts_at: i64,
        ends_at: i64,
        citizen: bool,
        calendars: bool,
    },
}

fn parse_id<T: FromStr>(s: &str) -> Result<T, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("bad id {s:?}")))
}

fn parse_state(s: &str) -> Result<BookingState, StoreError> {
    BookingState::parse(s).ok_or_else(|| StoreError::Corrupt(format!("bad booking state {s:?}")))
}

fn parse_outcome(s: &str) -> Result<Outcome, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| StoreError::Corrupt(format!("bad outcome {s:?}")))
}

fn citizen_aad(id: CitizenId) -> Vec<u8> {
    format!("narvaro/citizen/{id}/personnummer").into_bytes()
}

#[derive(sqlx::FromRow)]
struct BookingViewRow {
    id: String,
    state: String,
    starts_at: i64,
    duration_minutes: i64,
    service_id: String,
    service_name: String,
    agency_id: String,
    agency_name: String,
    officer_id: String,
    officer_name: String,
    booth_id: String,
    booth_name: String,
    centre_id: String,
    citizen_id: String,
    citizen_name: String,
    interpreter_id: Option<String>,
    interpreter_name: Option<String>,
    language: Option<String>,
    #[sqlx(flatten)]
    identification: IdentificationRow,
}

/// How a booking's citizen was identified, as `booking_identifications` and the guide's name give
/// it; every column NULL when they have not been.
#[derive(sqlx::FromRow)]
struct IdentificationRow {
    id_method: Option<String>,
    id_at: Option<i64>,
    id_guide_id: Option<String>,
    id_guide_name: Option<String>,
    id_document_type: Option<String>,
    id_document_last4: Option<String>,
}

impl IdentificationRow {
    fn into_identification(self) -> Result<Option<BookingIdentification>, StoreError> {
        let (Some(method), Some(at)) = (self.id_method, self.id_at) else {
            return Ok(None);
        };
        Ok(Some(BookingIdentification {
            method: method
                .parse()
                .map_err(|_| StoreError::Corrupt("identification method".into()))?,
            at,
            guide: match (self.id_guide_id, self.id_guide_name) {
                (Some(id), Some(name)) => Some(Named {
                    id: parse_id(&id)?,
                    name,
                }),
                _ => None,
            },
            document_type: self
                .id_document_type
                .map(|d| {
                    DocumentType::parse(&d)
                        .ok_or_else(|| StoreError::Corrupt("document type".into()))
                })
                .transpose()?,
            document_last4: self.id_document_last4,
        }))
    }
}

/// The columns of [`IdentificationRow`], from `booking_identifications bi` and `guides ig`.
macro_rules! identification_columns {
    () => {
        "bi.method AS id_method, bi.at AS id_at, bi.guide_id AS id_guide_id, ig.display_name AS id_guide_name, \
         bi.document_type AS id_document_type, bi.document_last4 AS id_document_last4"
    };
}

impl BookingViewRow {
    fn into_view(self) -> Result<BookingView, StoreError> {
        Ok(BookingView {
            id: parse_id(&self.id)?,
            state: parse_state(&self.state)?,
            starts_at: self.starts_at,
            duration_minutes: self.duration_minutes,
            service: Named {
                id: parse_id(&self.service_id)?,
                name: self.service_name,
            },
            agency: Named {
                id: parse_id(&self.agency_id)?,
                name: self.agency_name,
            },
            officer: Named {
                id: parse_id(&self.officer_id)?,
                name: self.officer_name,
            },
            booth: Named {
                id: parse_id(&self.booth_id)?,
                name: self.booth_name,
            },
            centre_id: parse_id(&self.centre_id)?,
            citizen_id: parse_id(&self.citizen_id)?,
            citizen_name: self.citizen_name,
            // Filled in by a second query: a booking has one or more.
            officers: Vec::new(),
            interpreter: match (self.interpreter_id, self.interpreter_name) {
                (Some(id), Some(name)) => Some(Named {
                    id: parse_id(&id)?,
                    name,
                }),
                _ => None,
            },
            language: self.language,
            identification: self.identification.into_identification()?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct BookingRow {
    id: String,
    service_id: String,
    officer_id: String,
    booth_id: String,
    centre_id: String,
    citizen_id: String,
    starts_at: i64,
    duration_minutes: i64,
    state: String,
    created_by_guide_id: Option<String>,
    created_at: i64,
    interpreter_id: Option<String>,
    language: Option<String>,
    outcome: Option<String>,
}

#[derive(sqlx::FromRow)]
struct CitizenBookingRow {
    id: String,
    state: String,
    starts_at: i64,
    duration_minutes: i64,
    service_name: String,
    agency_name: String,
    officer_name: String,
}

/// A booth's next meeting, with whom it is for.
#[derive(sqlx::FromRow)]
struct BoothAheadRow {
    citizen_id: String,
    #[sqlx(flatten)]
    booking: CitizenBookingRow,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    subject_kind: String,
    subject_id: String,
    method: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
}

fn session_record(r: SessionRow) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        id: SessionId(r.id),
        subject: Subject::from_parts(&r.subject_kind, &r.subject_id)
            .ok_or_else(|| StoreError::Corrupt("session subject".into()))?,
        method: r
            .method
            .parse()
            .map_err(|_| StoreError::Corrupt("session method".into()))?,
        created_at: r.created_at,
        last_seen_at: r.last_seen_at,
        expires_at: r.expires_at,
    })
}

#[derive(sqlx::FromRow)]
struct AccessLogRow {
    at: i64,
    actor_kind: String,
    actor_id: String,
    action: String,
    citizen_id: Option<String>,
    booking_id: Option<String>,
    reason: String,
}

impl AccessLogRow {
    fn into_entry(self) -> Result<AccessLogEntry, StoreError> {
        Ok(AccessLogEntry {
            at: self.at,
            actor: Subject::from_parts(&self.actor_kind, &self.actor_id)
                .ok_or_else(|| StoreError::Corrupt("access log actor".into()))?,
            action: self.action,
            citizen_id: self.citizen_id.as_deref().map(parse_id).transpose()?,
            booking_id: self.booking_id.as_deref().map(parse_id).transpose()?,
            reason: self.reason,
        })
    }
}

/// The booking view query; a macro so `concat!` can append the `WHERE` clauses as literals.
macro_rules! booking_view_sql {
    ($($tail:literal),*) => {
        concat!(
            "SELECT b.id, b.state, b.starts_at, b.duration_minutes, \
                    s.id AS service_id, s.name AS service_name, \
                    a.id AS agency_id, a.name AS agency_name, \
                    o.id AS officer_id, o.display_name AS officer_name, \
                    bo.id AS booth_id, bo.name AS booth_name, bo.centre_id, \
                    c.id AS citizen_id, c.display_name AS citizen_name, \
                    i.id AS interpreter_id, i.display_name AS interpreter_name, b.language, ",
            identification_columns!(),
            " FROM bookings b \
             JOIN services s ON s.id = b.service_id \
             JOIN agencies a ON a.id = s.agency_id \
             JOIN officers o ON o.id = b.officer_id \
             JOIN booths bo ON bo.id = b.booth_id \
             JOIN citizens c ON c.id = b.citizen_id \
             LEFT JOIN interpreters i ON i.id = b.interpreter_id \
             LEFT JOIN booking_identifications bi ON bi.booking_id = b.id \
             LEFT JOIN guides ig ON ig.id = bi.guide_id ",
            $($tail),*
        )
    };
}

/// Every table holding domain data (not sessions or the access log, which reads write to).
const DATA_TABLES: [&str; 34] = [
    "outbox",
    "bankid_orders",
    "oidc_logins",
    "identifications",
    "booth_enrolment_codes",
    "booth_devices",
    "booking_identifications",
    "agencies",
    "services",
    "service_skills",
    "officers",
    "officer_services",
    "officer_languages",
    "officer_skills",
    "officer_working_hours",
    "officer_absences",
    "centres",
    "centre_opening_hours",
    "centre_closures",
    "booths",
    "booth_equipment",
    "guides",
    "interpreters",
    "interpreter_languages",
    "citizens",
    "bookings",
    "booking_officers",
    "booking_events",
    "reservations",
    "survey_answers",
    "feedback",
    "call_quality",
    "drop_in_tickets",
    "help_calls",
];

/// A value for an [`Insert`].
enum Param {
    Text(String),
    Int(i64),
    MaybeText(Option<String>),
}

/// Rows of one table, written by one multi-row INSERT.
struct Insert {
    table: &'static str,
    columns: &'static str,
    rows: Vec<Vec<Param>>,
}

/// The statements that write `inserts`, each with the inserts it binds: one statement per insert,
/// or, when `together` (PostgreSQL), a single statement whose data-modifying CTEs write every
/// table, parameters numbered across all of them. A booking's five inserts are then one round
/// trip, and foreign keys between them hold, since they are checked at the end of the statement.
fn insert_statements(inserts: &[Insert], together: bool) -> Vec<(String, std::ops::Range<usize>)> {
    let mut n = 0;
    let mut each: Vec<String> = Vec::with_capacity(inserts.len());
    for insert in inserts {
        if !together {
            n = 0;
        }
        let rows: Vec<String> = insert
            .rows
            .iter()
            .map(|row| {
                let params: Vec<String> = row
                    .iter()
                    .map(|_| {
                        n += 1;
                        format!("${n}")
                    })
                    .collect();
                format!("({})", params.join(", "))
            })
            .collect();
        each.push(format!(
            "INSERT INTO {} ({}) VALUES {}",
            insert.table,
            insert.columns,
            rows.join(", ")
        ));
    }
    if !together || each.len() < 2 {
        return each
            .into_iter()
            .enumerate()
            .map(|(i, sql)| (sql, i..i + 1))
            .collect();
    }
    let last = each.pop().unwrap_or_default();
    let ctes: Vec<String> = each
        .iter()
        .enumerate()
        .map(|(i, sql)| format!("w{i} AS ({sql})"))
        .collect();
    vec![(format!("WITH {} {last}", ctes.join(", ")), 0..inserts.len())]
}

/// The access log's row for `access`.
fn access_log_insert(
    access: &StaffAccess,
    action: &str,
    citizen: Option<CitizenId>,
    booking: Option<BookingId>,
) -> Insert {
    Insert {
        table: "access_log",
        columns: "id, at, actor_kind, actor_id, action, citizen_id, booking_id, reason",
        rows: vec![vec![
            Param::Text(uuid::Uuid::new_v4().to_string()),
            Param::Int(access.at),
            Param::Text(access.actor.kind().to_owned()),
            Param::Text(access.actor.id_string()),
            Param::Text(action.to_owned()),
            Param::MaybeText(citizen.map(|c| c.to_string())),
            Param::MaybeText(booking.map(|b| b.to_string())),
            Param::Text(access.reason.clone()),
        ]],
    }
}

/// The slot search's officers ([`Store::slot_officers`]): `$1` service, `$2` language (or NULL),
/// `$3` the only officer (or NULL), `$4` the officer to put first (or NULL), and `[$5, $6)` the
/// range searched. `picked` are the officers the search tries, as it prefers them: the first
/// (n = 0), then the first `limit` by name (n = 1, 2, …); they come back as kind 0, followed by
/// their working hours (kind 1) and their absences and reservations in the range (kind 2).
///
/// Built per case rather than with `$2 IS NULL OR …`, and with the limit written in, so that
/// PostgreSQL's generic plan for each text is the good one: walk `officers_name` in order and
/// stop after `limit` matches, then look up hours and reservations of those by index.
fn slot_officers_sql(language: bool, only: bool, limit: i64) -> String {
    let language = if language {
        "EXISTS (SELECT 1 FROM officer_languages l WHERE l.officer_id = r.id AND l.language = $2)"
    } else {
        "$2 IS NULL"
    };
    let only = if only { "r.id = $3" } else { "$3 IS NULL" };
    let filters = format!(
        "EXISTS (SELECT 1 FROM officer_services os WHERE os.officer_id = r.id AND os.service_id = $1) \
         AND {language} AND {only} \
         AND NOT EXISTS (SELECT 1 FROM service_skills k WHERE k.service_id = $1 \
             AND NOT EXISTS (SELECT 1 FROM officer_skills s WHERE s.officer_id = r.id AND s.skill = k.skill))"
    );
    format!(
        "WITH picked AS ( \
             SELECT r.id, r.display_name, CAST(0 AS BIGINT) AS n FROM officers r WHERE r.id = $4 AND {filters} \
             UNION ALL \
             SELECT id, display_name, n FROM ( \
                 SELECT r.id, r.display_name, ROW_NUMBER() OVER (ORDER BY r.display_name, r.id) AS n \
                 FROM officers r WHERE {filters} ORDER BY r.display_name, r.id LIMIT {limit}) o) \
         SELECT id, CAST(0 AS BIGINT), display_name, n, CAST(0 AS BIGINT), CAST(0 AS BIGINT) FROM picked \
         UNION ALL \
         SELECT x.officer_id, CAST(1 AS BIGINT), NULL, x.weekday, x.starts_minute, x.ends_minute \
         FROM officer_working_hours x WHERE x.officer_id IN (SELECT id FROM picked) \
         UNION ALL \
         SELECT x.officer_id, CAST(2 AS BIGINT), NULL, CAST(0 AS BIGINT), x.starts_at, x.ends_at \
         FROM officer_absences x WHERE x.officer_id IN (SELECT id FROM picked) AND x.starts_at < $6 AND x.ends_at > $5 \
         UNION ALL \
         SELECT x.resource_id, CAST(2 AS BIGINT), NULL, CAST(0 AS BIGINT), x.starts_at, x.ends_at \
         FROM reservations x WHERE x.resource_id IN (SELECT id FROM picked) AND x.starts_at < $6 AND x.ends_at > $5"
    )
}

macro_rules! sql_store {
    ($store:ident, $db:ty, begin_write = $begin_write:literal, for_update = $for_update:literal,
     queue_lock = $queue_lock:literal, generic_plan = $generic_plan:expr,
     inserts_together = $inserts_together:literal) => {
        impl $store {
            async fn log_access(
                conn: &mut <$db as sqlx::Database>::Connection,
                access: &StaffAccess,
                action: &str,
                citizen: Option<CitizenId>,
                booking: Option<BookingId>,
            ) -> Result<(), StoreError> {
                Self::insert(conn, &[access_log_insert(access, action, citizen, booking)]).await
            }

            /// Writes `inserts` in as few statements as the database allows.
            async fn insert(conn: &mut <$db as sqlx::Database>::Connection, inserts: &[Insert]) -> Result<(), StoreError> {
                for (statement, covers) in insert_statements(inserts, $inserts_together) {
                    let mut query = sqlx::query(sql(statement));
                    for param in inserts[covers].iter().flat_map(|i| &i.rows).flatten() {
                        query = match param {
                            Param::Text(t) => query.bind(t.as_str()),
                            Param::Int(i) => query.bind(*i),
                            Param::MaybeText(t) => query.bind(t.as_deref()),
                        };
                    }
                    query.execute(&mut *conn).await?;
                }
                Ok(())
            }

            /// The citizen with this personnummer, added (under `id`) when new. Takes a
            /// connection so a booking can add its citizen in its own transaction.
            async fn find_or_add_citizen(
                conn: &mut <$db as sqlx::Database>::Connection,
                key: &DataKey,
                id: CitizenId,
                personnummer: &Personnummer,
                display_name: &str,
                now: i64,
            ) -> Result<(CitizenId, bool, String), StoreError> {
                let hash = key.lookup_hash(personnummer.expose().as_bytes());
                // Most bookings are for a citizen already known: look first, so they cost one
                // query and no encryption.
                let find = "SELECT id, display_name FROM citizens WHERE personnummer_hash = $1";
                let existing: Option<(String, String)> = sqlx::query_as(find).bind(&hash).fetch_optional(&mut *conn).await?;
                if let Some((existing, name)) = existing {
                    return Ok((parse_id(&existing)?, false, name));
                }
                let enc = key
                    .encrypt(personnummer.expose().as_bytes(), &citizen_aad(id))
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                // A racing transaction may add the same citizen first: the insert then does
                // nothing (PostgreSQL waits for that transaction to end) and the row is read again.
                let inserted: Option<String> = sqlx::query_scalar(
                    "INSERT INTO citizens (id, display_name, personnummer_enc, personnummer_hash, created_at) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (personnummer_hash) DO NOTHING RETURNING id",
                )
                .bind(id.to_string())
                .bind(display_name)
                .bind(enc)
                .bind(&hash)
                .bind(now)
                .fetch_optional(&mut *conn)
                .await?;
                if inserted.is_some() {
                    return Ok((id, true, display_name.to_owned()));
                }
                let (existing, name): (String, String) = sqlx::query_as(find).bind(&hash).fetch_one(&mut *conn).await?;
                Ok((parse_id(&existing)?, false, name))
            }

            async fn booking_view(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: BookingId,
            ) -> Result<Option<BookingView>, StoreError> {
                let row: Option<BookingViewRow> = sqlx::query_as(booking_view_sql!("WHERE b.id = $1"))
                    .bind(id.to_string())
                    .fetch_optional(&mut *conn)
                    .await?;
                let Some(row) = row else { return Ok(None) };
                let mut view = row.into_view()?;
                Self::add_participants(conn, &mut view).await?;
                Ok(Some(view))
            }

            /// Fills in every officer of a booking, the booking's own officer first.
            async fn add_participants(
                conn: &mut <$db as sqlx::Database>::Connection,
                view: &mut BookingView,
            ) -> Result<(), StoreError> {
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT o.id, o.display_name FROM booking_officers bo JOIN officers o ON o.id = bo.officer_id \
                     WHERE bo.booking_id = $1 ORDER BY CASE WHEN o.id = $2 THEN 0 ELSE 1 END, o.display_name",
                )
                .bind(view.id.to_string())
                .bind(view.officer.id.to_string())
                .fetch_all(&mut *conn)
                .await?;
                view.officers = rows
                    .into_iter()
                    .map(|(id, name)| Ok(Named { id: parse_id(&id)?, name }))
                    .collect::<Result<_, StoreError>>()?;
                Ok(())
            }

            async fn booking_record(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: BookingId,
            ) -> Result<Option<BookingRecord>, StoreError> {
                let row: Option<BookingRow> = sqlx::query_as(
                    "SELECT b.id, b.service_id, b.officer_id, b.booth_id, bo.centre_id, b.citizen_id, b.starts_at, \
                            b.duration_minutes, b.state, b.created_by_guide_id, b.created_at, b.interpreter_id, \
                            b.language, b.outcome \
                     FROM bookings b JOIN booths bo ON bo.id = b.booth_id WHERE b.id = $1",
                )
                .bind(id.to_string())
                .fetch_optional(&mut *conn)
                .await?;
                let Some(r) = row else { return Ok(None) };
                let officers: Vec<(String, String)> = sqlx::query_as(
                    "SELECT officer_id, service_id FROM booking_officers WHERE booking_id = $1 \
                     ORDER BY CASE WHEN officer_id = $2 THEN 0 ELSE 1 END, officer_id",
                )
                .bind(id.to_string())
                .bind(&r.officer_id)
                .fetch_all(&mut *conn)
                .await?;
                Ok(Some(BookingRecord {
                    id: parse_id(&r.id)?,
                    service_id: parse_id(&r.service_id)?,
                    officer_id: parse_id(&r.officer_id)?,
                    officers: officers
                        .iter()
                        .map(|(o, s)| Ok(Participant { officer_id: parse_id(o)?, service_id: parse_id(s)? }))
                        .collect::<Result<_, StoreError>>()?,
                    booth_id: parse_id(&r.booth_id)?,
                    centre_id: parse_id(&r.centre_id)?,
                    citizen_id: parse_id(&r.citizen_id)?,
                    interpreter_id: r.interpreter_id.as_deref().map(parse_id).transpose()?,
                    language: r.language,
                    starts_at: r.starts_at,
                    duration_minutes: r.duration_minutes,
                    state: parse_state(&r.state)?,
                    outcome: r.outcome.as_deref().map(parse_outcome).transpose()?,
                    created_by: r.created_by_guide_id.as_deref().map(parse_id).transpose()?,
                    created_at: r.created_at,
                }))
            }

            async fn load_ticket(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: TicketId,
            ) -> Result<Option<Ticket>, StoreError> {
                let row: Option<(String, String, i64, String, i64, Option<String>, i64)> = sqlx::query_as(
                    "SELECT t.centre_id, t.service_id, t.number, t.state, t.joined_at, t.officer_id, \
                            (SELECT COUNT(*) FROM drop_in_tickets w JOIN services ws ON ws.id = w.service_id \
                             WHERE w.centre_id = t.centre_id AND w.state = 'waiting' AND ws.agency_id = s.agency_id \
                               AND (w.joined_at < t.joined_at OR (w.joined_at = t.joined_at AND w.number <= t.number))) \
                     FROM drop_in_tickets t JOIN services s ON s.id = t.service_id WHERE t.id = $1",
                )
                .bind(id.to_string())
                .fetch_optional(&mut *conn)
                .await?;
                let Some((centre, service, number, state, joined_at, officer, ahead)) = row else { return Ok(None) };
                let state = match state.as_str() {
                    "waiting" => TicketState::Waiting,
                    "called" => TicketState::Called,
                    "served" => TicketState::Served,
                    "left" => TicketState::Left,
                    other => return Err(StoreError::Corrupt(format!("bad ticket state {other:?}"))),
                };
                Ok(Some(Ticket {
                    id,
                    centre_id: parse_id(&centre)?,
                    service_id: parse_id(&service)?,
                    number,
                    state,
                    joined_at,
                    officer_id: officer.as_deref().map(parse_id).transpose()?,
                    position: (state == TicketState::Waiting).then_some(ahead),
                }))
            }

            /// Appends to a booking's history inside the caller's transaction. Two changes racing
            /// for the same number make the later one fail on the primary key, not both pass.
            async fn enqueue(
                conn: &mut <$db as sqlx::Database>::Connection,
                booking: BookingId,
                channel: Channel,
                recipient: &str,
                payload: &serde_json::Value,
                due_at: i64,
                created_at: i64,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO outbox (id, booking_id, channel, recipient, payload, due_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(booking.to_string())
                .bind(channel.as_str())
                .bind(recipient)
                .bind(payload.to_string())
                .bind(due_at)
                .bind(created_at)
                .execute(&mut *conn)
                .await?;
                Ok(())
            }

            /// The invitations and SMS a new booking causes, written in its transaction.
            async fn enqueue_booking_messages(
                conn: &mut <$db as sqlx::Database>::Connection,
                new: &NewBooking,
                view: &BookingView,
            ) -> Result<(), StoreError> {
                if !new.notify.email && new.notify.citizen_phone.is_none() {
                    return Ok(());
                }
                let id = view.id;
                let ends_at = new.starts_at + new.duration_minutes * 60;
                let (service, centre): (String, String) = sqlx::query_as(
                    "SELECT s.name, c.name FROM services s, booths b JOIN centres c ON c.id = b.centre_id \
                     WHERE s.id = $1 AND b.id = $2",
                )
                .bind(new.service_id.to_string())
                .bind(new.booth_id.to_string())
                .fetch_one(&mut *conn)
                .await?;
                if new.notify.email {
                    let mut invitees: Vec<(String, Option<String>)> = Vec::new();
                    let officers = std::iter::once(new.officer_id)
                        .chain(new.additional_officers.iter().map(|p| p.officer_id));
                    for officer in officers {
                        invitees.push(
                            sqlx::query_as("SELECT display_name, email FROM officers WHERE id = $1")
                                .bind(officer.to_string())
                                .fetch_one(&mut *conn)
                                .await?,
                        );
                    }
                    if let Some(interpreter) = new.interpreter_id {
                        invitees.push(
                            sqlx::query_as("SELECT display_name, email FROM interpreters WHERE id = $1")
                                .bind(interpreter.to_string())
                                .fetch_one(&mut *conn)
                                .await?,
                        );
                    }
                    for (name, email) in invitees {
                        let Some(email) = email else { continue };
                        let payload = serde_json::to_value(Payload::Invitation {
                            booking_id: id,
                            starts_at: new.starts_at,
                            ends_at,
                            service: service.clone(),
                            centre: centre.clone(),
                            attendee_name: name,
                            sequence: 0,
                            cancelled: false,
                        })
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                        Self::enqueue(conn, id, Channel::Email, &email, &payload, new.created_at, new.created_at).await?;
                    }
                }
                if let Some(phone) = &new.notify.citizen_phone {
                    let confirmation = Payload::Confirmation { booking_id: id, starts_at: new.starts_at, centre: centre.clone() };
                    let value = serde_json::to_value(&confirmation).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    Self::enqueue(conn, id, Channel::Sms, phone, &value, new.created_at, new.created_at).await?;
                    let remind_at = new.starts_at - new.notify.reminder_before_secs;
                    // A booking made shortly before its start needs no reminder beside its
                    // confirmation.
                    if remind_at > new.created_at {
                        let reminder = Payload::Reminder { booking_id: id, starts_at: new.starts_at, centre };
                        let value = serde_json::to_value(&reminder).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                        Self::enqueue(conn, id, Channel::Sms, phone, &value, remind_at, new.created_at).await?;
                    }
                }
                Ok(())
            }

            /// What a move or a cancellation tells those the booking's earlier messages went
            /// to (the addresses and the phone number are kept only in those rows), in the
            /// change's transaction. Messages not yet delivered are withdrawn first: a pending
            /// reminder of the old time, or an invitation the new one replaces.
            async fn enqueue_change_messages(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: BookingId,
                notice: &Notice,
                sequence: i64,
                at: i64,
            ) -> Result<(), StoreError> {
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT recipient, payload FROM outbox WHERE booking_id = $1 ORDER BY created_at, id",
                )
                .bind(id.to_string())
                .fetch_all(&mut *conn)
                .await?;
                if rows.is_empty() {
                    return Ok(());
                }
                sqlx::query("DELETE FROM outbox WHERE booking_id = $1 AND state = 'pending'")
                    .bind(id.to_string())
                    .execute(&mut *conn)
                    .await?;
                // Each invited address once, with what its latest invitation said; the citizen's
                // phone and centre from any of their SMS.
                let mut invited: Vec<(String, String, String, String)> = Vec::new();
                let mut citizen: Option<(String, String)> = None;
                for (recipient, payload) in rows {
                    let payload: Payload =
                        serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    match payload {
                        Payload::Invitation { service, centre, attendee_name, .. } => {
                            invited.retain(|(to, ..)| *to != recipient);
                            invited.push((recipient, service, centre, attendee_name));
                        }
                        Payload::Confirmation { centre, .. }
                        | Payload::Reminder { centre, .. }
                        | Payload::Moved { centre, .. }
                        | Payload::Cancelled { centre, .. } => citizen = Some((recipient, centre)),
                    }
                }
                let (starts_at, ends_at, cancelled, calendars) = match *notice {
                    Notice::Moved { starts_at, ends_at, .. } => (starts_at, ends_at, false, true),
                    Notice::Cancelled { starts_at, ends_at, calendars, .. } => (starts_at, ends_at, true, calendars),
                };
                if calendars {
                    for (to, service, centre, attendee_name) in invited {
                        let payload = Payload::Invitation {
                            booking_id: id,
                            starts_at,
                            ends_at,
                            service,
                            centre,
                            attendee_name,
                            sequence,
                            cancelled,
                        };
                        let value = serde_json::to_value(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                        Self::enqueue(conn, id, Channel::Email, &to, &value, at, at).await?;
                    }
                }
                let Some((phone, centre)) = citizen else { return Ok(()) };
                let mut sms = Vec::new();
                match *notice {
                    Notice::Moved { starts_at, reminder_before_secs, .. } => {
                        sms.push((Payload::Moved { booking_id: id, starts_at, centre: centre.clone() }, at));
                        let remind_at = starts_at - reminder_before_secs;
                        if remind_at > at {
                            sms.push((Payload::Reminder { booking_id: id, starts_at, centre }, remind_at));
                        }
                    }
                    Notice::Cancelled { starts_at, citizen: true, .. } => {
                        sms.push((Payload::Cancelled { booking_id: id, starts_at, centre }, at))
                    }
                    Notice::Cancelled { citizen: false, .. } => {}
                }
                for (payload, due_at) in sms {
                    let value = serde_json::to_value(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    Self::enqueue(conn, id, Channel::Sms, &phone, &value, due_at, at).await?;
                }
                Ok(())
            }

            async fn insert_device(
                conn: &mut <$db as sqlx::Database>::Connection,
                booth: BoothId,
                device_id: uuid::Uuid,
                secret_hash: &str,
                now: i64,
                enrolled_by: Option<String>,
            ) -> Result<BoothDevice, StoreError> {
                let centre: Option<String> = sqlx::query_scalar("SELECT centre_id FROM booths WHERE id = $1")
                    .bind(booth.to_string())
                    .fetch_optional(&mut *conn)
                    .await?;
                let centre = centre.ok_or(StoreError::NotFound("booth"))?;
                sqlx::query(
                    "INSERT INTO booth_devices (id, booth_id, secret_hash, enrolled_at, enrolled_by_guide_id) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(device_id.to_string())
                .bind(booth.to_string())
                .bind(secret_hash)
                .bind(now)
                .bind(enrolled_by)
                .execute(&mut *conn)
                .await?;
                Ok(BoothDevice { id: device_id, booth_id: booth, centre_id: parse_id(&centre)? })
            }

            /// Returns the entry's number in the history.
            async fn append_event(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: BookingId,
                at: i64,
                actor: Subject,
                kind: &str,
                detail: &serde_json::Value,
            ) -> Result<i64, StoreError> {
                let seq = sqlx::query_scalar(
                    "INSERT INTO booking_events (booking_id, seq, at, actor_kind, actor_id, kind, detail) \
                     SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6 FROM booking_events WHERE booking_id = $1 \
                     RETURNING seq",
                )
                .bind(id.to_string())
                .bind(at)
                .bind(actor.kind())
                .bind(actor.id_string())
                .bind(kind)
                .bind(detail.to_string())
                .fetch_one(&mut *conn)
                .await?;
                Ok(seq)
            }
        }

        #[async_trait]
        impl Store for $store {
            async fn is_empty(&self) -> Result<bool, StoreError> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM agencies").fetch_one(&self.pool).await?;
                Ok(n == 0)
            }

            async fn create_resource(&self, resource: &Resource) -> Result<(), StoreError> {
                self.save_resource(resource, true).await
            }

            async fn update_resource(&self, resource: &Resource) -> Result<(), StoreError> {
                self.save_resource(resource, false).await
            }

            async fn delete_resource(&self, kind: ResourceKind, id: uuid::Uuid) -> Result<(), StoreError> {
                let table = resources::kind_table(kind);
                let done = sqlx::query(resources::sql(format!("DELETE FROM {table} WHERE id = $1")))
                    .bind(id.to_string())
                    .execute(&self.pool)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("resource"));
                }
                Ok(())
            }

            async fn resource(&self, kind: ResourceKind, id: uuid::Uuid) -> Result<Option<Resource>, StoreError> {
                Ok(self.load_resources(kind, Some(id.to_string())).await?.pop())
            }

            async fn resources(&self, kind: ResourceKind) -> Result<Vec<Resource>, StoreError> {
                self.load_resources(kind, None).await
            }

            async fn officers_serving(&self, service: ServiceId) -> Result<Vec<Officer>, StoreError> {
                self.load_officers(resources::SERVING, Some(service.to_string())).await
            }

            async fn reservations(
                &self,
                of: Reserved,
                from: i64,
                until: i64,
            ) -> Result<Vec<(uuid::Uuid, Period)>, StoreError> {
                // Each variant's subquery takes `$3` (NULL for interpreters).
                let (subquery, key) = match of {
                    Reserved::OfficersServing(s) => {
                        ("SELECT officer_id FROM officer_services WHERE service_id = $3", Some(s.to_string()))
                    }
                    Reserved::BoothsAt(c) => ("SELECT id FROM booths WHERE centre_id = $3", Some(c.to_string())),
                    Reserved::Interpreters => ("SELECT id FROM interpreters WHERE $3 IS NULL", None),
                };
                let rows: Vec<(String, i64, i64)> = sqlx::query_as(sql(format!(
                    "SELECT resource_id, starts_at, ends_at FROM reservations \
                     WHERE starts_at < $2 AND ends_at > $1 AND resource_id IN ({subquery})"
                )))
                .bind(from)
                .bind(until)
                .bind(key)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(|(id, s, e)| Ok((parse_id(&id)?, Period::new(s, e)))).collect()
            }

            async fn slot_officers(
                &self,
                pick: &OfficerPick,
                from: i64,
                until: i64,
            ) -> Result<Vec<SlotOfficer>, StoreError> {
                // Kind 0 rows are the officers (name, place in the order), 1 their weekly hours,
                // 2 what keeps them busy: one round trip instead of one per list and officer.
                let limit = i64::try_from(pick.limit).unwrap_or(i64::MAX);
                let text = slot_officers_sql(pick.language.is_some(), pick.only.is_some(), limit);
                // A transaction only so that the plan setting (`SET LOCAL`) ends with it.
                let mut tx = self.pool.begin().await?;
                let generic_plan: Option<&'static str> = $generic_plan;
                if let Some(set) = generic_plan {
                    sqlx::query(set).execute(&mut *tx).await?;
                }
                let rows: Vec<(String, i64, Option<String>, i64, i64, i64)> = sqlx::query_as(sql(text))
                    .bind(pick.service.to_string())
                    .bind(pick.language.clone())
                    .bind(pick.only.map(|o| o.to_string()))
                    .bind(pick.first.map(|o| o.to_string()))
                    .bind(from)
                    .bind(until)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                let mut officers: Vec<(i64, SlotOfficer)> = Vec::new();
                let mut hours: HashMap<String, Vec<WeeklyHours>> = HashMap::new();
                let mut busy: HashMap<String, Vec<Period>> = HashMap::new();
                for (id, kind, name, a, b, c) in rows {
                    match kind {
                        0 => officers.push((
                            a,
                            SlotOfficer {
                                id: parse_id(&id)?,
                                display_name: name.unwrap_or_default(),
                                working_hours: Vec::new(),
                                busy: Vec::new(),
                            },
                        )),
                        1 => hours.entry(id).or_default().push(WeeklyHours::new(a, b, c)),
                        _ => busy.entry(id).or_default().push(Period::new(b, c)),
                    }
                }
                officers.sort_by_key(|(n, _)| *n);
                // The first officer also appears in their place by name.
                let mut seen = std::collections::HashSet::new();
                officers.retain(|(_, o)| seen.insert(o.id));
                Ok(officers
                    .into_iter()
                    .map(|(_, mut o)| {
                        let key = o.id.to_string();
                        o.working_hours = hours.remove(&key).unwrap_or_default();
                        o.busy = busy.remove(&key).unwrap_or_default();
                        o
                    })
                    .collect())
            }

            async fn booths_at(&self, centre: CentreId) -> Result<Vec<Booth>, StoreError> {
                self.load_booths(resources::AT_CENTRE, Some(centre.to_string())).await
            }

            async fn last_officer_of(
                &self,
                citizen: CitizenId,
                service: ServiceId,
            ) -> Result<Option<OfficerId>, StoreError> {
                let id: Option<String> = sqlx::query_scalar(
                    "SELECT bo.officer_id FROM bookings b \
                     JOIN booking_officers bo ON bo.booking_id = b.id AND bo.service_id = $2 \
                     WHERE b.citizen_id = $1 AND b.state = 'ended' \
                     ORDER BY b.starts_at DESC, b.id LIMIT 1",
                )
                .bind(citizen.to_string())
                .bind(service.to_string())
                .fetch_optional(&self.pool)
                .await?;
                id.as_deref().map(parse_id).transpose()
            }

            async fn ensure_citizen(
                &self,
                id: CitizenId,
                personnummer: &Personnummer,
                display_name: &str,
                now: i64,
            ) -> Result<(CitizenId, bool), StoreError> {
                let mut conn = self.pool.acquire().await?;
                let (id, created, _) =
                    Self::find_or_add_citizen(&mut conn, &self.key, id, personnummer, display_name, now).await?;
                Ok((id, created))
            }

            async fn citizen_by_personnummer(
                &self,
                personnummer: &Personnummer,
                access: &StaffAccess,
            ) -> Result<Option<Citizen>, StoreError> {
                let hash = self.key.lookup_hash(personnummer.expose().as_bytes());
                let mut tx = self.pool.begin_with($begin_write).await?;
                let row: Option<(String, String)> =
                    sqlx::query_as("SELECT id, display_name FROM citizens WHERE personnummer_hash = $1")
                        .bind(&hash)
                        .fetch_optional(&mut *tx)
                        .await?;
                let citizen = match row {
                    Some((id, display_name)) => Some(Citizen { id: parse_id(&id)?, display_name }),
                    None => None,
                };
                Self::log_access(&mut tx, access, "citizen.find_by_personnummer", citizen.as_ref().map(|c| c.id), None)
                    .await?;
                tx.commit().await?;
                Ok(citizen)
            }

            async fn citizen_personnummer(
                &self,
                id: CitizenId,
                access: &StaffAccess,
            ) -> Result<Option<Personnummer>, StoreError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                let enc: Option<Vec<u8>> = sqlx::query_scalar("SELECT personnummer_enc FROM citizens WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
                // None, or anonymised by the retention purge.
                let Some(enc) = enc.filter(|e| !e.is_empty()) else {
                    return Ok(None);
                };
                Self::log_access(&mut tx, access, "citizen.read_personnummer", Some(id), None).await?;
                tx.commit().await?;
                let plain = self
                    .key
                    .decrypt(&enc, &citizen_aad(id))
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let digits = String::from_utf8(plain).map_err(|_| StoreError::Corrupt("personnummer".into()))?;
                Personnummer::parse(&digits).map(Some).map_err(|_| StoreError::Corrupt("personnummer".into()))
            }

            async fn display_name(&self, subject: &Subject) -> Result<Option<String>, StoreError> {
                let sql = match subject {
                    Subject::Citizen(_) => "SELECT display_name FROM citizens WHERE id = $1",
                    Subject::Officer(_) => "SELECT display_name FROM officers WHERE id = $1",
                    Subject::Guide(_) => "SELECT display_name FROM guides WHERE id = $1",
                };
                Ok(sqlx::query_scalar(sql).bind(subject.id_string()).fetch_optional(&self.pool).await?)
            }

            async fn people(&self) -> Result<Vec<Person>, StoreError> {
                let officers: Vec<(String, String, String, bool)> = sqlx::query_as(
                    "SELECT o.id, o.display_name, a.name, o.analyst FROM officers o JOIN agencies a ON a.id = o.agency_id \
                     ORDER BY o.display_name, o.id",
                )
                .fetch_all(&self.pool)
                .await?;
                let guides: Vec<(String, String, String, bool)> = sqlx::query_as(
                    "SELECT g.id, g.display_name, c.name, g.analyst FROM guides g JOIN centres c ON c.id = g.centre_id \
                     ORDER BY g.display_name, g.id",
                )
                .fetch_all(&self.pool)
                .await?;
                let citizens: Vec<(String, String)> = sqlx::query_as(
                    "SELECT id, display_name FROM citizens ORDER BY created_at, display_name, id LIMIT 100",
                )
                .fetch_all(&self.pool)
                .await?;
                let mut people = Vec::with_capacity(officers.len() + guides.len() + citizens.len());
                for (id, display_name) in citizens {
                    people.push(Person {
                        subject: Subject::Citizen(parse_id(&id)?),
                        display_name,
                        detail: "Testperson".to_owned(),
                        analyst: false,
                    });
                }
                for (id, display_name, agency, analyst) in officers {
                    people.push(Person { subject: Subject::Officer(parse_id(&id)?), display_name, detail: agency, analyst });
                }
                for (id, display_name, centre, analyst) in guides {
                    people.push(Person { subject: Subject::Guide(parse_id(&id)?), display_name, detail: centre, analyst });
                }
                Ok(people)
            }

            async fn create_booking(&self, new: &NewBooking, access: &StaffAccess) -> Result<BookingView, StoreError> {
                let ends_at = new.starts_at + new.duration_minutes * 60;
                let mut tx = self.pool.begin_with($begin_write).await?;
                let participants: Vec<Participant> =
                    std::iter::once(Participant { officer_id: new.officer_id, service_id: new.service_id })
                        .chain(new.additional_officers.iter().copied())
                        .collect();
                // One query for the first officer and service, the booth and the interpreter (each
                // NULL when missing), one more per further officer: round trips are most of what a
                // booking costs. The checks then run in the order the fields are listed. The names
                // come along so that the answer is made without reading the new booking back.
                let citizen_hash = self.key.lookup_hash(new.citizen_personnummer.expose().as_bytes());
                #[allow(clippy::type_complexity)]
                let (
                    first_officer,
                    first_service,
                    officer_name,
                    service_name,
                    agency_name,
                    booth_centre,
                    booth_name,
                    interpreter_name,
                    known_citizen,
                    known_citizen_name,
                    guide_centre,
                ): (
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                ) = sqlx::query_as(
                    "SELECT (SELECT agency_id FROM officers WHERE id = $1), \
                            (SELECT agency_id FROM services WHERE id = $2), \
                            (SELECT display_name FROM officers WHERE id = $1), \
                            (SELECT name FROM services WHERE id = $2), \
                            (SELECT a.name FROM services s JOIN agencies a ON a.id = s.agency_id WHERE s.id = $2), \
                            (SELECT centre_id FROM booths WHERE id = $3), \
                            (SELECT name FROM booths WHERE id = $3), \
                            (SELECT display_name FROM interpreters WHERE id = $4), \
                            (SELECT id FROM citizens WHERE personnummer_hash = $5), \
                            (SELECT display_name FROM citizens WHERE personnummer_hash = $5), \
                            (SELECT centre_id FROM guides WHERE id = $6)",
                )
                .bind(new.officer_id.to_string())
                .bind(new.service_id.to_string())
                .bind(new.booth_id.to_string())
                .bind(new.interpreter_id.map(|i| i.to_string()))
                .bind(&citizen_hash)
                .bind(new.created_by.map(|g| g.to_string()))
                .fetch_one(&mut *tx)
                .await?;
                let service_agency_id = first_service.clone().unwrap_or_default();
                let mut agencies = vec![(first_officer, first_service)];
                for p in &participants[1..] {
                    agencies.push(
                        sqlx::query_as(
                            "SELECT (SELECT agency_id FROM officers WHERE id = $1), \
                                    (SELECT agency_id FROM services WHERE id = $2)",
                        )
                        .bind(p.officer_id.to_string())
                        .bind(p.service_id.to_string())
                        .fetch_one(&mut *tx)
                        .await?,
                    );
                }
                for (i, (p, (officer_agency, service_agency))) in participants.iter().zip(agencies).enumerate() {
                    if participants[..i].iter().any(|q| q.officer_id == p.officer_id) {
                        return Err(StoreError::Invalid("an officer is listed twice"));
                    }
                    let officer_agency = officer_agency.ok_or(StoreError::NotFound("officer"))?;
                    if service_agency.ok_or(StoreError::NotFound("service"))? != officer_agency {
                        return Err(StoreError::Invalid("the officer does not work at the agency of that service"));
                    }
                }
                let booth_centre = booth_centre.ok_or(StoreError::NotFound("booth"))?;
                if new.created_by.is_some() && guide_centre.ok_or(StoreError::NotFound("guide"))? != booth_centre {
                    return Err(StoreError::Invalid(BOOTH_AT_ANOTHER_CENTRE));
                }
                let interpreter = match new.interpreter_id {
                    Some(id) => Some(Named { id, name: interpreter_name.ok_or(StoreError::NotFound("interpreter"))? }),
                    None => None,
                };
                // Most bookings are for a citizen already known. A new one is added in the same
                // transaction: a refused booking leaves no personnummer behind.
                let (citizen_id, citizen_name) = match (known_citizen, known_citizen_name) {
                    (Some(id), Some(name)) => (parse_id(&id)?, name),
                    _ => {
                        let (id, _, name) = Self::find_or_add_citizen(
                            &mut tx,
                            &self.key,
                            CitizenId::new(),
                            &new.citizen_personnummer,
                            &new.citizen_name,
                            new.created_at,
                        )
                        .await?;
                        (id, name)
                    }
                };
                let id = BookingId::new();
                let booking = Insert {
                    table: "bookings",
                    columns: "id, service_id, officer_id, booth_id, citizen_id, starts_at, duration_minutes, ends_at, \
                              state, created_by_guide_id, created_at, interpreter_id, language",
                    rows: vec![vec![
                        Param::Text(id.to_string()),
                        Param::Text(new.service_id.to_string()),
                        Param::Text(new.officer_id.to_string()),
                        Param::Text(new.booth_id.to_string()),
                        Param::Text(citizen_id.to_string()),
                        Param::Int(new.starts_at),
                        Param::Int(new.duration_minutes),
                        Param::Int(ends_at),
                        Param::Text(BookingState::Booked.as_str().to_owned()),
                        Param::MaybeText(new.created_by.map(|g| g.to_string())),
                        Param::Int(new.created_at),
                        Param::MaybeText(new.interpreter_id.map(|i| i.to_string())),
                        Param::MaybeText(new.language.clone()),
                    ]],
                };
                let officers = Insert {
                    table: "booking_officers",
                    columns: "booking_id, officer_id, service_id",
                    rows: participants
                        .iter()
                        .map(|p| {
                            vec![
                                Param::Text(id.to_string()),
                                Param::Text(p.officer_id.to_string()),
                                Param::Text(p.service_id.to_string()),
                            ]
                        })
                        .collect(),
                };
                let mut held: Vec<(String, &str)> = participants
                    .iter()
                    .map(|p| (p.officer_id.to_string(), "officer"))
                    .chain(std::iter::once((new.booth_id.to_string(), "booth")))
                    .chain(new.interpreter_id.map(|i| (i.to_string(), "interpreter")))
                    .collect();
                // One order for every transaction, so two bookings waiting on each other's
                // reservations cannot deadlock; a multi-row insert writes its rows in this order.
                held.sort();
                let reservations = Insert {
                    table: "reservations",
                    columns: "booking_id, resource_id, kind, starts_at, ends_at",
                    rows: held
                        .into_iter()
                        .map(|(resource, kind)| {
                            vec![
                                Param::Text(id.to_string()),
                                Param::Text(resource),
                                Param::Text(kind.to_owned()),
                                Param::Int(new.starts_at),
                                Param::Int(ends_at),
                            ]
                        })
                        .collect(),
                };
                let detail = serde_json::json!({
                    "starts_at": crate::schedule::format_rfc3339(new.starts_at),
                    "duration_minutes": new.duration_minutes,
                    "booth_id": new.booth_id,
                    "officers": participants,
                    "interpreter_id": new.interpreter_id,
                });
                // A new booking's history starts at 1: no need to look for the last entry.
                let history = Insert {
                    table: "booking_events",
                    columns: "booking_id, seq, at, actor_kind, actor_id, kind, detail",
                    rows: vec![vec![
                        Param::Text(id.to_string()),
                        Param::Int(1),
                        Param::Int(new.created_at),
                        Param::Text(access.actor.kind().to_owned()),
                        Param::Text(access.actor.id_string()),
                        Param::Text("created".to_owned()),
                        Param::Text(detail.to_string()),
                    ]],
                };
                let logged = access_log_insert(access, "booking.create", Some(citizen_id), Some(id));
                Self::insert(&mut tx, &[booking, officers, reservations, history, logged]).await?;
                // What `booking_view` would read back, from what this transaction has read and
                // written. Several officers are listed in the database's order of their names.
                let officer = Named { id: new.officer_id, name: officer_name.unwrap_or_default() };
                let mut view = BookingView {
                    id,
                    state: BookingState::Booked,
                    starts_at: new.starts_at,
                    duration_minutes: new.duration_minutes,
                    service: Named { id: new.service_id, name: service_name.unwrap_or_default() },
                    agency: Named { id: parse_id(&service_agency_id)?, name: agency_name.unwrap_or_default() },
                    officers: vec![officer.clone()],
                    officer,
                    interpreter,
                    language: new.language.clone(),
                    booth: Named { id: new.booth_id, name: booth_name.unwrap_or_default() },
                    centre_id: parse_id(&booth_centre)?,
                    citizen_id,
                    citizen_name,
                    identification: None,
                };
                if participants.len() > 1 {
                    Self::add_participants(&mut tx, &mut view).await?;
                }
                Self::enqueue_booking_messages(&mut tx, new, &view).await?;
                tx.commit().await?;
                Ok(view)
            }

            async fn booking(&self, id: BookingId) -> Result<Option<BookingRecord>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                Self::booking_record(&mut conn, id).await
            }

            async fn view_booking(&self, id: BookingId, access: &StaffAccess) -> Result<Option<BookingView>, StoreError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                let view = Self::booking_view(&mut tx, id).await?;
                if let Some(v) = &view {
                    Self::log_access(&mut tx, access, "booking.read", Some(v.citizen_id), Some(id)).await?;
                }
                tx.commit().await?;
                Ok(view)
            }

            async fn list_bookings(
                &self,
                filter: BookingFilter,
                access: &StaffAccess,
            ) -> Result<Vec<BookingView>, StoreError> {
                let (sql, key, from) = match filter {
                    BookingFilter::Centre { centre, from } => (
                        booking_view_sql!(
                            "WHERE bo.centre_id = $1 AND b.ends_at > $2 AND b.state <> 'cancelled' ",
                            "ORDER BY b.starts_at, b.id"
                        ),
                        centre.to_string(),
                        from,
                    ),
                    BookingFilter::Officer { officer, from } => (
                        booking_view_sql!(
                            "WHERE b.id IN (SELECT booking_id FROM booking_officers WHERE officer_id = $1) \
                              AND b.ends_at > $2 AND b.state <> 'cancelled' ",
                            "ORDER BY b.starts_at, b.id"
                        ),
                        officer.to_string(),
                        from,
                    ),
                };
                let mut tx = self.pool.begin_with($begin_write).await?;
                let rows: Vec<BookingViewRow> = sqlx::query_as(sql).bind(key).bind(from).fetch_all(&mut *tx).await?;
                let mut views = rows.into_iter().map(BookingViewRow::into_view).collect::<Result<Vec<_>, _>>()?;
                for v in &mut views {
                    Self::add_participants(&mut tx, v).await?;
                    Self::log_access(&mut tx, access, "booking.list", Some(v.citizen_id), Some(v.id)).await?;
                }
                tx.commit().await?;
                Ok(views)
            }

            async fn change_booking(
                &self,
                id: BookingId,
                change: &BookingChange,
                actor: Subject,
                at: i64,
            ) -> Result<BookingRecord, StoreError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                let row: Option<(String, String, i64, i64)> = sqlx::query_as(concat!(
                    "SELECT b.state, bo.centre_id, b.starts_at, b.ends_at FROM bookings b \
                     JOIN booths bo ON bo.id = b.booth_id WHERE b.id = $1",
                    $for_update
                ))
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
                let (state, centre, was_starting, was_ending) = row.ok_or(StoreError::NotFound("booking"))?;
                let from = parse_state(&state)?;
                let (allowed, to) = change.transition();
                if !allowed.contains(&from) {
                    return Err(StoreError::InvalidTransition { from, change: change.kind() });
                }
                let detail = match change {
                    BookingChange::Reschedule { starts_at, duration_minutes, booth_id, .. } => {
                        let ends_at = starts_at + duration_minutes * 60;
                        if let Some(booth) = booth_id {
                            let booth_centre: Option<String> =
                                sqlx::query_scalar("SELECT centre_id FROM booths WHERE id = $1")
                                    .bind(booth.to_string())
                                    .fetch_optional(&mut *tx)
                                    .await?;
                            if booth_centre.ok_or(StoreError::NotFound("booth"))? != centre {
                                return Err(StoreError::Invalid("the booth is at another centre"));
                            }
                            sqlx::query("UPDATE bookings SET booth_id = $2 WHERE id = $1")
                                .bind(id.to_string())
                                .bind(booth.to_string())
                                .execute(&mut *tx)
                                .await?;
                            sqlx::query("UPDATE reservations SET resource_id = $2 WHERE booking_id = $1 AND kind = 'booth'")
                                .bind(id.to_string())
                                .bind(booth.to_string())
                                .execute(&mut *tx)
                                .await?;
                        }
                        sqlx::query("UPDATE bookings SET starts_at = $2, duration_minutes = $3, ends_at = $4 WHERE id = $1")
                            .bind(id.to_string())
                            .bind(starts_at)
                            .bind(duration_minutes)
                            .bind(ends_at)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query("UPDATE reservations SET starts_at = $2, ends_at = $3 WHERE booking_id = $1")
                            .bind(id.to_string())
                            .bind(starts_at)
                            .bind(ends_at)
                            .execute(&mut *tx)
                            .await?;
                        serde_json::json!({
                            "starts_at": crate::schedule::format_rfc3339(*starts_at),
                            "duration_minutes": duration_minutes,
                            "booth_id": booth_id,
                        })
                    }
                    BookingChange::Cancel { reason } => {
                        sqlx::query("UPDATE bookings SET cancel_reason = $2 WHERE id = $1")
                            .bind(id.to_string())
                            .bind(reason.as_str())
                            .execute(&mut *tx)
                            .await?;
                        serde_json::json!({ "reason": reason, "was": from })
                    }
                    BookingChange::End { outcome, category } => {
                        sqlx::query("UPDATE bookings SET outcome = $2, outcome_category = $3 WHERE id = $1")
                            .bind(id.to_string())
                            .bind(outcome.as_str())
                            .bind(category.clone())
                            .execute(&mut *tx)
                            .await?;
                        serde_json::json!({ "outcome": outcome, "category": category })
                    }
                    BookingChange::CheckIn | BookingChange::NoShow | BookingChange::Start => serde_json::json!({}),
                };
                // Starting a started meeting again changes nothing and is not history.
                if from != to {
                    sqlx::query("UPDATE bookings SET state = $2 WHERE id = $1")
                        .bind(id.to_string())
                        .bind(to.as_str())
                        .execute(&mut *tx)
                        .await?;
                    if to.is_final() {
                        sqlx::query("DELETE FROM reservations WHERE booking_id = $1")
                            .bind(id.to_string())
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                if from != to || matches!(change, BookingChange::Reschedule { .. }) {
                    let seq = Self::append_event(&mut tx, id, at, actor, change.kind(), &detail).await?;
                    let notice = match change {
                        BookingChange::Reschedule { starts_at, duration_minutes, reminder_before_secs, .. } => {
                            let ends_at = starts_at + duration_minutes * 60;
                            // A new booth at the same centre changes nothing anyone was told.
                            ((*starts_at, ends_at) != (was_starting, was_ending)).then_some(Notice::Moved {
                                starts_at: *starts_at,
                                ends_at,
                                reminder_before_secs: *reminder_before_secs,
                            })
                        }
                        BookingChange::Cancel { .. } => Some(Notice::Cancelled {
                            starts_at: was_starting,
                            ends_at: was_ending,
                            // Once the citizen is at the centre the guide tells them, and once
                            // the meeting has started its officers know.
                            citizen: from == BookingState::Booked,
                            calendars: from != BookingState::Started,
                        }),
                        _ => None,
                    };
                    if let Some(notice) = notice {
                        Self::enqueue_change_messages(&mut tx, id, &notice, seq - 1, at).await?;
                    }
                }
                let record = Self::booking_record(&mut tx, id).await?.ok_or(StoreError::NotFound("booking"))?;
                tx.commit().await?;
                Ok(record)
            }

            async fn booking_history(&self, id: BookingId) -> Result<Vec<BookingEvent>, StoreError> {
                let rows: Vec<(i64, i64, String, String, String, String)> = sqlx::query_as(
                    "SELECT seq, at, actor_kind, actor_id, kind, detail FROM booking_events \
                     WHERE booking_id = $1 ORDER BY seq",
                )
                .bind(id.to_string())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(seq, at, actor_kind, actor_id, kind, detail)| {
                        Ok(BookingEvent {
                            seq,
                            at,
                            actor: Subject::from_parts(&actor_kind, &actor_id)
                                .ok_or_else(|| StoreError::Corrupt("booking event actor".into()))?,
                            kind,
                            detail: serde_json::from_str(&detail)
                                .map_err(|_| StoreError::Corrupt("booking event detail".into()))?,
                        })
                    })
                    .collect()
            }

            async fn record_survey(
                &self,
                booking: BookingId,
                answer: &SurveyAnswer,
                actor: Subject,
                at: i64,
            ) -> Result<(), StoreError> {
                self.insert_survey(booking, answer, actor, at).await
            }

            async fn call_help(&self, booth: BoothId, reason: HelpReason, at: i64) -> Result<(HelpCall, bool), StoreError> {
                self.insert_help_call(booth, reason, at).await
            }

            async fn open_help_calls(&self, centre: CentreId) -> Result<Vec<HelpCall>, StoreError> {
                self.select_open_help_calls(centre).await
            }

            async fn help_call(&self, id: HelpCallId) -> Result<Option<HelpCall>, StoreError> {
                self.select_help_call(id).await
            }

            async fn answer_help_call(&self, id: HelpCallId, guide: GuideId, at: i64) -> Result<HelpCall, StoreError> {
                self.update_help_call_answered(id, guide, at).await
            }

            async fn record_feedback(&self, f: &NewFeedback) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO feedback (id, centre_id, agency_id, booking_id, kind, category, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(f.centre_id.to_string())
                .bind(f.agency_id.map(|a| a.to_string()))
                .bind(f.booking_id.map(|b| b.to_string()))
                .bind(f.kind.as_str())
                .bind(&f.category)
                .bind(f.at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn record_call_quality(&self, booking: BookingId, q: &CallQuality, at: i64) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO call_quality (booking_id, mean_rtt_ms, loss_per_mille, poor_seconds, reported_at) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (booking_id) DO UPDATE SET mean_rtt_ms = $2, loss_per_mille = $3, \
                         poor_seconds = $4, reported_at = $5",
                )
                .bind(booking.to_string())
                .bind(q.mean_rtt_ms)
                .bind(q.loss_per_mille)
                .bind(q.poor_seconds)
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn follow_up(&self, filter: &FollowUpFilter) -> Result<FollowUp, StoreError> {
                self.compute_follow_up(filter).await
            }

            async fn join_drop_in(&self, centre: CentreId, service: ServiceId, at: i64) -> Result<Ticket, StoreError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                let id = TicketId::new();
                // The unique (centre, number) refuses a number taken by a racing transaction.
                sqlx::query(
                    "INSERT INTO drop_in_tickets (id, centre_id, service_id, number, state, joined_at) \
                     SELECT $1, $2, $3, COALESCE(MAX(number), 0) + 1, 'waiting', $4 \
                     FROM drop_in_tickets WHERE centre_id = $2",
                )
                .bind(id.to_string())
                .bind(centre.to_string())
                .bind(service.to_string())
                .bind(at)
                .execute(&mut *tx)
                .await?;
                let ticket = Self::load_ticket(&mut tx, id).await?.ok_or(StoreError::NotFound("ticket"))?;
                tx.commit().await?;
                Ok(ticket)
            }

            async fn ticket(&self, id: TicketId) -> Result<Option<Ticket>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                Self::load_ticket(&mut conn, id).await
            }

            async fn call_next_ticket(&self, centre: CentreId, officer: OfficerId, at: i64) -> Result<Option<Ticket>, StoreError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                let next: Option<String> = sqlx::query_scalar(concat!(
                    "SELECT t.id FROM drop_in_tickets t \
                     JOIN officer_services os ON os.service_id = t.service_id AND os.officer_id = $2 \
                     WHERE t.centre_id = $1 AND t.state = 'waiting' ORDER BY t.joined_at, t.number LIMIT 1",
                    $queue_lock
                ))
                .bind(centre.to_string())
                .bind(officer.to_string())
                .fetch_optional(&mut *tx)
                .await?;
                let Some(id) = next else { return Ok(None) };
                sqlx::query(
                    "UPDATE drop_in_tickets SET state = 'called', called_at = $2, officer_id = $3 \
                     WHERE id = $1 AND state = 'waiting'",
                )
                .bind(&id)
                .bind(at)
                .bind(officer.to_string())
                .execute(&mut *tx)
                .await?;
                let ticket = Self::load_ticket(&mut tx, parse_id(&id)?).await?;
                tx.commit().await?;
                Ok(ticket)
            }

            async fn close_ticket(&self, id: TicketId, state: TicketState) -> Result<Ticket, StoreError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                let done = sqlx::query(
                    "UPDATE drop_in_tickets SET state = $2 WHERE id = $1 AND state IN ('waiting', 'called')",
                )
                .bind(id.to_string())
                .bind(state.as_str())
                .execute(&mut *tx)
                .await?;
                let ticket = Self::load_ticket(&mut tx, id).await?.ok_or(StoreError::NotFound("ticket"))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Invalid("the ticket is already closed"));
                }
                tx.commit().await?;
                Ok(ticket)
            }

            async fn claim_due_messages(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<OutboxMessage>, StoreError> {
                let rows: Vec<(String, Option<String>, String, String, String, i64, i64)> = sqlx::query_as(
                    "SELECT id, booking_id, channel, recipient, payload, attempts, due_at FROM outbox \
                     WHERE state = 'pending' AND due_at <= $1 ORDER BY due_at, id LIMIT $2",
                )
                .bind(now)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let mut claimed = Vec::with_capacity(rows.len());
                for (id, booking_id, channel, recipient, payload, attempts, due_at) in rows {
                    // The lease: only the worker whose update still sees the old due time sends
                    // the message; another worker that read the same row finds nothing to update.
                    let done = sqlx::query(
                        "UPDATE outbox SET due_at = $1 WHERE id = $2 AND state = 'pending' AND due_at = $3",
                    )
                    .bind(lease_until)
                    .bind(&id)
                    .bind(due_at)
                    .execute(&self.pool)
                    .await?;
                    if done.rows_affected() != 1 {
                        continue;
                    }
                    claimed.push(OutboxMessage {
                        id: parse_id(&id)?,
                        booking_id: booking_id.as_deref().map(parse_id).transpose()?,
                        channel: Channel::parse(&channel).ok_or_else(|| StoreError::Corrupt(format!("channel {channel}")))?,
                        recipient,
                        payload: serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                        attempts,
                    });
                }
                Ok(claimed)
            }

            async fn mark_delivered(&self, id: MessageId, at: i64) -> Result<(), StoreError> {
                sqlx::query("UPDATE outbox SET state = 'delivered', delivered_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1")
                    .bind(id.to_string())
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn schedule_retry(&self, id: MessageId, due_at: i64, error: &str) -> Result<(), StoreError> {
                sqlx::query("UPDATE outbox SET attempts = attempts + 1, due_at = $2, last_error = $3 WHERE id = $1 AND state = 'pending'")
                    .bind(id.to_string())
                    .bind(due_at)
                    .bind(error)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn outbox_entries(&self) -> Result<Vec<OutboxEntry>, StoreError> {
                let rows: Vec<(String, Option<String>, String, String, i64, i64, Option<i64>, Option<String>)> = sqlx::query_as(
                    "SELECT id, booking_id, channel, state, attempts, due_at, delivered_at, last_error FROM outbox \
                     ORDER BY created_at, due_at, id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(id, booking_id, channel, state, attempts, due_at, delivered_at, last_error)| {
                        Ok(OutboxEntry {
                            id: parse_id(&id)?,
                            booking_id: booking_id.as_deref().map(parse_id).transpose()?,
                            channel: Channel::parse(&channel).ok_or_else(|| StoreError::Corrupt(format!("channel {channel}")))?,
                            delivered: state == "delivered",
                            attempts,
                            due_at,
                            delivered_at,
                            last_error,
                        })
                    })
                    .collect()
            }

            async fn table_counts(&self) -> Result<Vec<(&'static str, i64)>, StoreError> {
                let mut counts = Vec::with_capacity(DATA_TABLES.len());
                for table in DATA_TABLES {
                    let n: i64 = sqlx::query_scalar(sql(format!("SELECT COUNT(*) FROM {table}")))
                        .fetch_one(&self.pool)
                        .await?;
                    counts.push((table, n));
                }
                Ok(counts)
            }

            async fn access_log_for_citizen(&self, citizen: CitizenId) -> Result<Vec<AccessLogEntry>, StoreError> {
                let rows: Vec<AccessLogRow> = sqlx::query_as(
                    "SELECT at, actor_kind, actor_id, action, citizen_id, booking_id, reason FROM access_log \
                     WHERE citizen_id = $1 ORDER BY at, id",
                )
                .bind(citizen.to_string())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(AccessLogRow::into_entry).collect()
            }

            async fn access_log_of_agency(
                &self,
                query: &AccessLogQuery,
                access: &StaffAccess,
            ) -> Result<Vec<AccessLogEntry>, StoreError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                // The auditor's own reading is the first thing the log records of it.
                Self::log_access(&mut tx, access, "access_log.read", None, query.booking).await?;
                let rows: Vec<AccessLogRow> = sqlx::query_as(
                    "SELECT l.at, l.actor_kind, l.actor_id, l.action, l.citizen_id, l.booking_id, l.reason \
                     FROM access_log l \
                     WHERE l.at >= $2 AND l.at < $3 AND (CAST($4 AS TEXT) IS NULL OR l.booking_id = CAST($4 AS TEXT)) \
                       AND (l.booking_id IN (SELECT bo.booking_id FROM booking_officers bo \
                                             JOIN officers o ON o.id = bo.officer_id WHERE o.agency_id = $1) \
                            OR (l.actor_kind = 'officer' \
                                AND l.actor_id IN (SELECT o.id FROM officers o WHERE o.agency_id = $1))) \
                     ORDER BY l.at, l.id LIMIT $5",
                )
                .bind(query.agency.to_string())
                .bind(query.from)
                .bind(query.until)
                .bind(query.booking.map(|b| b.to_string()))
                .bind(query.limit)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                rows.into_iter().map(AccessLogRow::into_entry).collect()
            }

            async fn record_access(
                &self,
                access: &StaffAccess,
                action: &str,
                booking: Option<BookingId>,
            ) -> Result<(), StoreError> {
                let mut conn = self.pool.acquire().await?;
                Self::log_access(&mut conn, access, action, None, booking).await
            }

            async fn insert_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO sessions (id, subject_kind, subject_id, method, created_at, last_seen_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(s.id.as_str())
                .bind(s.subject.kind())
                .bind(s.subject.id_string())
                .bind(s.method.as_str())
                .bind(s.created_at)
                .bind(s.last_seen_at)
                .bind(s.expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn session(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
                let row: Option<SessionRow> = sqlx::query_as(
                    "SELECT id, subject_kind, subject_id, method, created_at, last_seen_at, expires_at \
                     FROM sessions WHERE id = $1",
                )
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
                row.map(session_record).transpose()
            }

            async fn session_with_name(
                &self,
                id: &SessionId,
            ) -> Result<Option<(SessionRecord, Option<String>)>, StoreError> {
                let row: Option<(String, String, String, String, i64, i64, i64, Option<String>)> = sqlx::query_as(
                    "SELECT s.id, s.subject_kind, s.subject_id, s.method, s.created_at, s.last_seen_at, s.expires_at, \
                            CASE s.subject_kind \
                                WHEN 'citizen' THEN (SELECT display_name FROM citizens WHERE id = s.subject_id) \
                                WHEN 'officer' THEN (SELECT display_name FROM officers WHERE id = s.subject_id) \
                                WHEN 'guide' THEN (SELECT display_name FROM guides WHERE id = s.subject_id) \
                            END \
                     FROM sessions s WHERE s.id = $1",
                )
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
                let Some((id, subject_kind, subject_id, method, created_at, last_seen_at, expires_at, name)) = row else {
                    return Ok(None);
                };
                let record = session_record(SessionRow { id, subject_kind, subject_id, method, created_at, last_seen_at, expires_at })?;
                Ok(Some((record, name)))
            }

            async fn booth_booking_ahead(
                &self,
                booth: BoothId,
                from: i64,
                until: i64,
            ) -> Result<Option<(CitizenId, CitizenBookingView)>, StoreError> {
                let row: Option<BoothAheadRow> = sqlx::query_as(
                    "SELECT b.citizen_id, b.id, b.state, b.starts_at, b.duration_minutes, s.name AS service_name, \
                            a.name AS agency_name, o.display_name AS officer_name \
                     FROM bookings b \
                     JOIN services s ON s.id = b.service_id \
                     JOIN agencies a ON a.id = s.agency_id \
                     JOIN officers o ON o.id = b.officer_id \
                     WHERE b.booth_id = $1 AND b.state IN ('booked', 'started') \
                       AND b.ends_at > $2 AND b.starts_at < $3 \
                     ORDER BY b.starts_at, b.id LIMIT 1",
                )
                .bind(booth.to_string())
                .bind(from)
                .bind(until)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|BoothAheadRow { citizen_id, booking: r }| {
                    Ok((
                        parse_id(&citizen_id)?,
                        CitizenBookingView {
                            id: parse_id(&r.id)?,
                            state: parse_state(&r.state)?,
                            starts_at: r.starts_at,
                            duration_minutes: r.duration_minutes,
                            service_name: r.service_name,
                            agency_name: r.agency_name,
                            officer_name: r.officer_name,
                        },
                    ))
                })
                .transpose()
            }

            async fn purge_personal_data(&self, before: i64) -> Result<Purged, StoreError> {
                // Bookings that are over and ended before the cut-off.
                const OVER: &str = "SELECT id FROM bookings WHERE ends_at < $1 \
                     AND state NOT IN ('booked', 'checked_in', 'started')";
                let mut tx = self.pool.begin_with($begin_write).await?;
                let ident = sqlx::query(sql(format!("DELETE FROM booking_identifications WHERE booking_id IN ({OVER})")))
                    .bind(before)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let evidence = sqlx::query(sql(format!(
                    "DELETE FROM identifications WHERE booking_id IN ({OVER}) OR (booking_id IS NULL AND at < $1)"
                )))
                .bind(before)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let messages = sqlx::query(sql(format!(
                    "DELETE FROM outbox WHERE state = 'delivered' AND (booking_id IN ({OVER}) OR delivered_at < $1)"
                )))
                .bind(before)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                // Citizens with nothing after the cut-off, not yet anonymised.
                let citizens: Vec<String> = sqlx::query_scalar(
                    "SELECT c.id FROM citizens c WHERE c.created_at < $1 AND c.display_name <> $2 \
                       AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.citizen_id = c.id \
                           AND (b.ends_at >= $1 OR b.state IN ('booked', 'checked_in', 'started')))",
                )
                .bind(before)
                .bind(ANONYMISED_NAME)
                .fetch_all(&mut *tx)
                .await?;
                for id in &citizens {
                    // The look-up hash becomes the id's own bytes: unique, and never the 32-byte
                    // keyed hash of any personnummer, so nobody finds this row by one again.
                    sqlx::query(
                        "UPDATE citizens SET display_name = $2, personnummer_enc = $3, personnummer_hash = $4 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(ANONYMISED_NAME)
                    .bind(Vec::<u8>::new())
                    .bind(id.as_bytes().to_vec())
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("DELETE FROM sessions WHERE subject_kind = 'citizen' AND subject_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(Purged {
                    citizens_anonymised: citizens.len() as u64,
                    identifications: ident + evidence,
                    messages,
                })
            }

            async fn add_enrolment_code(
                &self,
                code_hash: &str,
                booth: BoothId,
                by: GuideId,
                expires_at: i64,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO booth_enrolment_codes (code_hash, booth_id, created_by_guide_id, expires_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(code_hash)
                .bind(booth.to_string())
                .bind(by.to_string())
                .bind(expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn enrol_booth_device(
                &self,
                code_hash: &str,
                device_id: uuid::Uuid,
                secret_hash: &str,
                now: i64,
            ) -> Result<BoothDevice, StoreError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                // Spent whether or not it is still valid: a code is tried once.
                let code: Option<(String, String, i64)> = sqlx::query_as(
                    "DELETE FROM booth_enrolment_codes WHERE code_hash = $1 \
                     RETURNING booth_id, created_by_guide_id, expires_at",
                )
                .bind(code_hash)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((booth, guide, _)) = code.filter(|(_, _, expires_at)| *expires_at > now) else {
                    tx.commit().await?;
                    return Err(StoreError::NotFound("enrolment code"));
                };
                let device = Self::insert_device(&mut tx, parse_id(&booth)?, device_id, secret_hash, now, Some(guide)).await?;
                tx.commit().await?;
                Ok(device)
            }

            async fn enrol_booth_device_directly(
                &self,
                booth: BoothId,
                device_id: uuid::Uuid,
                secret_hash: &str,
                now: i64,
            ) -> Result<BoothDevice, StoreError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                let device = Self::insert_device(&mut tx, booth, device_id, secret_hash, now, None).await?;
                tx.commit().await?;
                Ok(device)
            }

            async fn revoke_booth_devices(&self, booth: BoothId, access: &StaffAccess) -> Result<u64, StoreError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                let revoked = sqlx::query(
                    "UPDATE booth_devices SET revoked_at = $2 WHERE booth_id = $1 AND revoked_at IS NULL",
                )
                .bind(booth.to_string())
                .bind(access.at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                Self::log_access(&mut tx, access, "booth.devices_revoked", None, None).await?;
                tx.commit().await?;
                Ok(revoked)
            }

            async fn booth_device(&self, secret_hash: &str) -> Result<Option<BoothDevice>, StoreError> {
                let row: Option<(String, String, String)> = sqlx::query_as(
                    "SELECT d.id, d.booth_id, b.centre_id FROM booth_devices d JOIN booths b ON b.id = d.booth_id \
                     WHERE d.secret_hash = $1 AND d.revoked_at IS NULL",
                )
                .bind(secret_hash)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(id, booth, centre)| {
                    Ok(BoothDevice { id: parse_id(&id)?, booth_id: parse_id(&booth)?, centre_id: parse_id(&centre)? })
                })
                .transpose()
            }

            async fn identify_for_booking(
                &self,
                booking: BookingId,
                ident: &BookingIdentification,
                actor: Subject,
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                let state: Option<String> = sqlx::query_scalar(concat!("SELECT state FROM bookings WHERE id = $1", $for_update))
                    .bind(booking.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
                let state = parse_state(&state.ok_or(StoreError::NotFound("booking"))?)?;
                if !matches!(state, BookingState::Booked | BookingState::CheckedIn | BookingState::Started) {
                    return Err(StoreError::InvalidTransition { from: state, change: "identified" });
                }
                sqlx::query(
                    "INSERT INTO booking_identifications (booking_id, method, at, guide_id, document_type, document_last4) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (booking_id) DO UPDATE SET method = excluded.method, at = excluded.at, \
                         guide_id = excluded.guide_id, document_type = excluded.document_type, \
                         document_last4 = excluded.document_last4",
                )
                .bind(booking.to_string())
                .bind(ident.method.as_str())
                .bind(ident.at)
                .bind(ident.guide.as_ref().map(|g| g.id.to_string()))
                .bind(ident.document_type.map(DocumentType::as_str))
                .bind(ident.document_last4.clone())
                .execute(&mut *tx)
                .await?;
                // The history says how, not the document's digits.
                let detail = serde_json::json!({
                    "method": ident.method,
                    "document_type": ident.document_type,
                });
                Self::append_event(&mut tx, booking, ident.at, actor, "identified", &detail).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn booking_identification(
                &self,
                booking: BookingId,
            ) -> Result<Option<BookingIdentification>, StoreError> {
                let row: Option<IdentificationRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    identification_columns!(),
                    " FROM booking_identifications bi LEFT JOIN guides ig ON ig.id = bi.guide_id WHERE bi.booking_id = $1"
                ))
                .bind(booking.to_string())
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(IdentificationRow::into_identification).transpose()?.flatten())
            }

            async fn insert_bankid_order(&self, o: &BankIdOrderRecord) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO bankid_orders (order_ref, binding_hash, qr_start_token, qr_start_secret_enc, \
                         started_at, booking_id, required_citizen_id, booth_device_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&o.order_ref)
                .bind(&o.binding_hash)
                .bind(&o.qr_start_token)
                .bind(&o.qr_start_secret_enc)
                .bind(o.started_at)
                .bind(o.booking_id.map(|b| b.to_string()))
                .bind(o.required_citizen_id.map(|c| c.to_string()))
                .bind(o.booth_device_id.map(|d| d.to_string()))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn bankid_order(&self, order_ref: &str) -> Result<Option<BankIdOrderRecord>, StoreError> {
                #[allow(clippy::type_complexity)]
                let row: Option<(String, String, String, Vec<u8>, i64, Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
                    "SELECT order_ref, binding_hash, qr_start_token, qr_start_secret_enc, started_at, booking_id, \
                            required_citizen_id, booth_device_id FROM bankid_orders WHERE order_ref = $1",
                )
                .bind(order_ref)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(order_ref, binding_hash, qr_start_token, qr_start_secret_enc, started_at, booking, citizen, device)| {
                    Ok(BankIdOrderRecord {
                        order_ref,
                        binding_hash,
                        qr_start_token,
                        qr_start_secret_enc,
                        started_at,
                        booking_id: booking.as_deref().map(parse_id).transpose()?,
                        required_citizen_id: citizen.as_deref().map(parse_id).transpose()?,
                        booth_device_id: device.as_deref().map(parse_id).transpose()?,
                    })
                })
                .transpose()
            }

            async fn delete_bankid_order(&self, order_ref: &str) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM bankid_orders WHERE order_ref = $1")
                    .bind(order_ref)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn complete_bankid_order(&self, e: &IdentificationEvidence) -> Result<(), StoreError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                let gone = sqlx::query("DELETE FROM bankid_orders WHERE order_ref = $1")
                    .bind(&e.order_ref)
                    .execute(&mut *tx)
                    .await?;
                if gone.rows_affected() == 0 {
                    return Err(StoreError::NotFound("bankid order"));
                }
                sqlx::query(
                    "INSERT INTO identifications (id, at, method, citizen_id, booking_id, order_ref, signature_enc, \
                         ocsp_response) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(e.id.to_string())
                .bind(e.at)
                .bind(e.method.as_str())
                .bind(e.citizen_id.to_string())
                .bind(e.booking_id.map(|b| b.to_string()))
                .bind(&e.order_ref)
                .bind(&e.signature_enc)
                .bind(&e.ocsp_response)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn purge_bankid_orders(&self, started_before: i64) -> Result<u64, StoreError> {
                let done = sqlx::query("DELETE FROM bankid_orders WHERE started_at < $1")
                    .bind(started_before)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn identifications_of(&self, citizen: CitizenId) -> Result<Vec<IdentificationEvidence>, StoreError> {
                let rows: Vec<(String, i64, String, String, Option<String>, String, Vec<u8>, String)> = sqlx::query_as(
                    "SELECT id, at, method, citizen_id, booking_id, order_ref, signature_enc, ocsp_response \
                     FROM identifications WHERE citizen_id = $1 ORDER BY at, id",
                )
                .bind(citizen.to_string())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(id, at, method, citizen, booking, order_ref, signature_enc, ocsp_response)| {
                        Ok(IdentificationEvidence {
                            id: parse_id(&id)?,
                            at,
                            method: method.parse().map_err(|_| StoreError::Corrupt("identification method".into()))?,
                            citizen_id: parse_id(&citizen)?,
                            booking_id: booking.as_deref().map(parse_id).transpose()?,
                            order_ref,
                            signature_enc,
                            ocsp_response,
                        })
                    })
                    .collect()
            }

            async fn staff_by_email(&self, scope: StaffScope, email: &str) -> Result<Vec<Subject>, StoreError> {
                let (query, key) = match scope {
                    StaffScope::Agency(a) => (
                        "SELECT id FROM officers WHERE agency_id = $1 AND lower(email) = lower($2) ORDER BY id LIMIT 2",
                        a.to_string(),
                    ),
                    StaffScope::Centre(c) => (
                        "SELECT id FROM guides WHERE centre_id = $1 AND lower(email) = lower($2) ORDER BY id LIMIT 2",
                        c.to_string(),
                    ),
                };
                let ids: Vec<String> = sqlx::query_scalar(query).bind(key).bind(email).fetch_all(&self.pool).await?;
                ids.iter()
                    .map(|id| {
                        Ok(match scope {
                            StaffScope::Agency(_) => Subject::Officer(parse_id(id)?),
                            StaffScope::Centre(_) => Subject::Guide(parse_id(id)?),
                        })
                    })
                    .collect()
            }

            async fn insert_oidc_login(&self, l: &OidcLoginRecord) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO oidc_logins (binding_hash, provider, state, nonce, pkce_verifier_enc, return_to, \
                         started_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&l.binding_hash)
                .bind(&l.provider)
                .bind(&l.state)
                .bind(&l.nonce)
                .bind(&l.pkce_verifier_enc)
                .bind(&l.return_to)
                .bind(l.started_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn take_oidc_login(&self, binding_hash: &str) -> Result<Option<OidcLoginRecord>, StoreError> {
                let row: Option<(String, String, String, String, Vec<u8>, String, i64)> = sqlx::query_as(
                    "DELETE FROM oidc_logins WHERE binding_hash = $1 \
                     RETURNING binding_hash, provider, state, nonce, pkce_verifier_enc, return_to, started_at",
                )
                .bind(binding_hash)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(binding_hash, provider, state, nonce, pkce_verifier_enc, return_to, started_at)| {
                    OidcLoginRecord { binding_hash, provider, state, nonce, pkce_verifier_enc, return_to, started_at }
                }))
            }

            async fn purge_oidc_logins(&self, started_before: i64) -> Result<u64, StoreError> {
                let done = sqlx::query("DELETE FROM oidc_logins WHERE started_at < $1")
                    .bind(started_before)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn booth_centre(&self, id: BoothId) -> Result<Option<CentreId>, StoreError> {
                let centre: Option<String> = sqlx::query_scalar("SELECT centre_id FROM booths WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                centre.as_deref().map(parse_id).transpose()
            }

            async fn touch_session(&self, id: &SessionId, now: i64) -> Result<(), StoreError> {
                sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2")
                    .bind(id.as_str())
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn delete_sessions_of(&self, subject: &Subject) -> Result<u64, StoreError> {
                let done = sqlx::query("DELETE FROM sessions WHERE subject_kind = $1 AND subject_id = $2")
                    .bind(subject.kind())
                    .bind(subject.id_string())
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn delete_session(&self, id: &SessionId) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id.as_str()).execute(&self.pool).await?;
                Ok(())
            }

            async fn purge_sessions(&self, absolute_before: i64, idle_before: i64) -> Result<u64, StoreError> {
                let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
                    .bind(absolute_before)
                    .bind(idle_before)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }
        }
    };
}

resource_methods!(SqliteStore, Sqlite);
resource_methods!(PgStore, Postgres);
follow_up_methods!(SqliteStore, Sqlite, begin_write = "BEGIN IMMEDIATE");
follow_up_methods!(PgStore, Postgres, begin_write = "BEGIN");
help_call_methods!(SqliteStore, Sqlite);
help_call_methods!(PgStore, Postgres);

sql_store!(
    SqliteStore,
    Sqlite,
    begin_write = "BEGIN IMMEDIATE",
    for_update = "",
    queue_lock = "",
    generic_plan = None,
    // SQLite has no data-modifying CTEs, and its statements cost no round trip.
    inserts_together = false
);
sql_store!(
    PgStore,
    Postgres,
    begin_write = "BEGIN",
    for_update = " FOR UPDATE",
    // A ticket another officer is calling is skipped, not waited for: each gets the next.
    queue_lock = " FOR UPDATE OF t SKIP LOCKED",
    // For the slot search's officers (slot_officers_sql): with the values, PostgreSQL estimates
    // the range conditions better than its generic plan does, so it planned the query anew on
    // every search (0 generic, 8 custom plans in pg_prepared_statements), 0.5-3 ms each time,
    // while the generic plan is the same walk of officers_name and index look-ups.
    generic_plan = Some("SET LOCAL plan_cache_mode = force_generic_plan"),
    inserts_together = true
);

#[cfg(test)]
mod tests {
    use super::*;

    fn two_inserts() -> Vec<Insert> {
        vec![
            Insert {
                table: "a",
                columns: "x, y",
                rows: vec![
                    vec![Param::Int(1), Param::Int(2)],
                    vec![Param::Int(3), Param::Int(4)],
                ],
            },
            Insert {
                table: "b",
                columns: "z",
                rows: vec![vec![Param::MaybeText(None)]],
            },
        ]
    }

    #[test]
    fn inserts_are_one_statement_each_or_one_for_all() {
        assert_eq!(
            insert_statements(&two_inserts(), false),
            [
                (
                    "INSERT INTO a (x, y) VALUES ($1, $2), ($3, $4)".to_owned(),
                    0..1
                ),
                ("INSERT INTO b (z) VALUES ($1)".to_owned(), 1..2),
            ]
        );
        assert_eq!(
            insert_statements(&two_inserts(), true),
            [(
                "WITH w0 AS (INSERT INTO a (x, y) VALUES ($1, $2), ($3, $4)) INSERT INTO b (z) VALUES ($5)".to_owned(),
                0..2
            )]
        );
        assert_eq!(
            insert_statements(&two_inserts()[1..], true),
            [("INSERT INTO b (z) VALUES ($1)".to_owned(), 0..1)]
        );
    }
}
