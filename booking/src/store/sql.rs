//! SQLite and PostgreSQL stores from one SQL text.
//!
//! The dialects agree on everything used here (`$n` placeholders, `RETURNING`, `ON CONFLICT`,
//! text ids, 64-bit integer times), so [`sql_store!`] writes the `Store` impl once and is expanded
//! for each database. What differs is passed in: how a write transaction begins and the row-lock
//! suffix (`BEGIN IMMEDIATE` takes SQLite's single write lock up front; PostgreSQL locks the
//! officer's and booth's rows `FOR UPDATE`). Either way two bookings for the same officer or booth
//! are serialised, so the overlap check cannot be raced.

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Postgres, Sqlite};

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

fn parse_id<T: FromStr>(s: &str) -> Result<T, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("bad id {s:?}")))
}

fn parse_state(s: &str) -> Result<BookingState, StoreError> {
    BookingState::parse(s).ok_or_else(|| StoreError::Corrupt(format!("bad booking state {s:?}")))
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

/// The booking view query; a macro so `concat!` can append the `WHERE` clauses as literals.
macro_rules! booking_view_sql {
    ($($tail:literal),*) => {
        concat!(
            "SELECT b.id, b.state, b.starts_at, b.duration_minutes, \
                    s.id AS service_id, s.name AS service_name, \
                    a.id AS agency_id, a.name AS agency_name, \
                    o.id AS officer_id, o.display_name AS officer_name, \
                    bo.id AS booth_id, bo.name AS booth_name, bo.centre_id, \
                    c.id AS citizen_id, c.display_name AS citizen_name \
             FROM bookings b \
             JOIN services s ON s.id = b.service_id \
             JOIN agencies a ON a.id = s.agency_id \
             JOIN officers o ON o.id = b.officer_id \
             JOIN booths bo ON bo.id = b.booth_id \
             JOIN citizens c ON c.id = b.citizen_id ",
            $($tail),*
        )
    };
}

const INSERT_ACCESS_LOG: &str = "INSERT INTO access_log \
     (id, at, actor_kind, actor_id, action, citizen_id, booking_id, reason) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

macro_rules! sql_store {
    ($store:ident, $db:ty, begin_write = $begin_write:literal, for_update = $for_update:literal) => {
        impl $store {
            async fn log_access(
                conn: &mut <$db as sqlx::Database>::Connection,
                access: &StaffAccess,
                action: &str,
                citizen: Option<CitizenId>,
                booking: Option<BookingId>,
            ) -> Result<(), StoreError> {
                sqlx::query(INSERT_ACCESS_LOG)
                    .bind(uuid::Uuid::new_v4().to_string())
                    .bind(access.at)
                    .bind(access.actor.kind())
                    .bind(access.actor.id_string())
                    .bind(action)
                    .bind(citizen.map(|c| c.to_string()))
                    .bind(booking.map(|b| b.to_string()))
                    .bind(&access.reason)
                    .execute(&mut *conn)
                    .await?;
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
            ) -> Result<(CitizenId, bool), StoreError> {
                let hash = key.lookup_hash(personnummer.expose().as_bytes());
                let enc = key
                    .encrypt(personnummer.expose().as_bytes(), &citizen_aad(id))
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
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
                    return Ok((id, true));
                }
                let existing: String = sqlx::query_scalar("SELECT id FROM citizens WHERE personnummer_hash = $1")
                    .bind(&hash)
                    .fetch_one(&mut *conn)
                    .await?;
                Ok((parse_id(&existing)?, false))
            }

            async fn booking_view(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: BookingId,
            ) -> Result<Option<BookingView>, StoreError> {
                let row: Option<BookingViewRow> = sqlx::query_as(booking_view_sql!("WHERE b.id = $1"))
                    .bind(id.to_string())
                    .fetch_optional(&mut *conn)
                    .await?;
                row.map(BookingViewRow::into_view).transpose()
            }
        }

        #[async_trait]
        impl Store for $store {
            async fn is_empty(&self) -> Result<bool, StoreError> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM agencies").fetch_one(&self.pool).await?;
                Ok(n == 0)
            }

            async fn insert_agency(&self, a: &Agency) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO agencies (id, name) VALUES ($1, $2)")
                    .bind(a.id.to_string())
                    .bind(&a.name)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn insert_service(&self, s: &Service) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO services (id, agency_id, name, default_duration_minutes) VALUES ($1, $2, $3, $4)",
                )
                .bind(s.id.to_string())
                .bind(s.agency_id.to_string())
                .bind(&s.name)
                .bind(s.default_duration_minutes)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn insert_officer(&self, o: &Officer) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO officers (id, agency_id, display_name) VALUES ($1, $2, $3)")
                    .bind(o.id.to_string())
                    .bind(o.agency_id.to_string())
                    .bind(&o.display_name)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn insert_centre(&self, c: &Centre) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO centres (id, kommun, name) VALUES ($1, $2, $3)")
                    .bind(c.id.to_string())
                    .bind(&c.kommun)
                    .bind(&c.name)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn insert_booth(&self, b: &Booth) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO booths (id, centre_id, name) VALUES ($1, $2, $3)")
                    .bind(b.id.to_string())
                    .bind(b.centre_id.to_string())
                    .bind(&b.name)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn insert_guide(&self, g: &Guide) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO guides (id, centre_id, display_name) VALUES ($1, $2, $3)")
                    .bind(g.id.to_string())
                    .bind(g.centre_id.to_string())
                    .bind(&g.display_name)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn ensure_citizen(
                &self,
                id: CitizenId,
                personnummer: &Personnummer,
                display_name: &str,
                now: i64,
            ) -> Result<(CitizenId, bool), StoreError> {
                let mut conn = self.pool.acquire().await?;
                Self::find_or_add_citizen(&mut conn, &self.key, id, personnummer, display_name, now).await
            }

            async fn citizen_by_personnummer(
                &self,
                personnummer: &Personnummer,
                access: &StaffAccess,
            ) -> Result<Option<Citizen>, StoreError> {
                let hash = self.key.lookup_hash(personnummer.expose().as_bytes());
                let mut tx = self.pool.begin().await?;
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
                let mut tx = self.pool.begin().await?;
                let enc: Option<Vec<u8>> = sqlx::query_scalar("SELECT personnummer_enc FROM citizens WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(enc) = enc else {
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

            async fn directory(&self) -> Result<Directory, StoreError> {
                let agencies: Vec<(String, String)> =
                    sqlx::query_as("SELECT id, name FROM agencies ORDER BY name, id").fetch_all(&self.pool).await?;
                let services: Vec<(String, String, String, i64)> = sqlx::query_as(
                    "SELECT id, agency_id, name, default_duration_minutes FROM services ORDER BY name, id",
                )
                .fetch_all(&self.pool)
                .await?;
                let centres: Vec<(String, String, String)> =
                    sqlx::query_as("SELECT id, kommun, name FROM centres ORDER BY name, id").fetch_all(&self.pool).await?;
                let booths: Vec<(String, String, String)> =
                    sqlx::query_as("SELECT id, centre_id, name FROM booths ORDER BY name, id").fetch_all(&self.pool).await?;
                let officers: Vec<(String, String, String)> =
                    sqlx::query_as("SELECT id, agency_id, display_name FROM officers ORDER BY display_name, id")
                        .fetch_all(&self.pool)
                        .await?;
                Ok(Directory {
                    agencies: agencies
                        .into_iter()
                        .map(|(id, name)| Ok(Agency { id: parse_id(&id)?, name }))
                        .collect::<Result<_, StoreError>>()?,
                    services: services
                        .into_iter()
                        .map(|(id, agency, name, d)| {
                            Ok(Service { id: parse_id(&id)?, agency_id: parse_id(&agency)?, name, default_duration_minutes: d })
                        })
                        .collect::<Result<_, StoreError>>()?,
                    centres: centres
                        .into_iter()
                        .map(|(id, kommun, name)| Ok(Centre { id: parse_id(&id)?, kommun, name }))
                        .collect::<Result<_, StoreError>>()?,
                    booths: booths
                        .into_iter()
                        .map(|(id, centre, name)| Ok(Booth { id: parse_id(&id)?, centre_id: parse_id(&centre)?, name }))
                        .collect::<Result<_, StoreError>>()?,
                    officers: officers
                        .into_iter()
                        .map(|(id, agency, display_name)| {
                            Ok(Officer { id: parse_id(&id)?, agency_id: parse_id(&agency)?, display_name })
                        })
                        .collect::<Result<_, StoreError>>()?,
                })
            }

            async fn officer(&self, id: OfficerId) -> Result<Option<Officer>, StoreError> {
                let row: Option<(String, String)> =
                    sqlx::query_as("SELECT agency_id, display_name FROM officers WHERE id = $1")
                        .bind(id.to_string())
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(|(agency, display_name)| Ok(Officer { id, agency_id: parse_id(&agency)?, display_name }))
                    .transpose()
            }

            async fn guide(&self, id: GuideId) -> Result<Option<Guide>, StoreError> {
                let row: Option<(String, String)> =
                    sqlx::query_as("SELECT centre_id, display_name FROM guides WHERE id = $1")
                        .bind(id.to_string())
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(|(centre, display_name)| Ok(Guide { id, centre_id: parse_id(&centre)?, display_name }))
                    .transpose()
            }

            async fn booth(&self, id: BoothId) -> Result<Option<Booth>, StoreError> {
                let row: Option<(String, String)> = sqlx::query_as("SELECT centre_id, name FROM booths WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|(centre, name)| Ok(Booth { id, centre_id: parse_id(&centre)?, name })).transpose()
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
                let officers: Vec<(String, String, String)> = sqlx::query_as(
                    "SELECT o.id, o.display_name, a.name FROM officers o JOIN agencies a ON a.id = o.agency_id \
                     ORDER BY o.display_name, o.id",
                )
                .fetch_all(&self.pool)
                .await?;
                let guides: Vec<(String, String, String)> = sqlx::query_as(
                    "SELECT g.id, g.display_name, c.name FROM guides g JOIN centres c ON c.id = g.centre_id \
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
                    });
                }
                for (id, display_name, agency) in officers {
                    people.push(Person { subject: Subject::Officer(parse_id(&id)?), display_name, detail: agency });
                }
                for (id, display_name, centre) in guides {
                    people.push(Person { subject: Subject::Guide(parse_id(&id)?), display_name, detail: centre });
                }
                Ok(people)
            }

            async fn create_booking(&self, new: &NewBooking, access: &StaffAccess) -> Result<BookingView, StoreError> {
                let ends_at = new.starts_at + new.duration_minutes * 60;
                let mut tx = self.pool.begin_with($begin_write).await?;
                // Officer before booth, always: a fixed lock order cannot deadlock.
                let officer_agency: Option<String> =
                    sqlx::query_scalar(concat!("SELECT agency_id FROM officers WHERE id = $1", $for_update))
                        .bind(new.officer_id.to_string())
                        .fetch_optional(&mut *tx)
                        .await?;
                let officer_agency = officer_agency.ok_or(StoreError::NotFound("officer"))?;
                let booth: Option<String> =
                    sqlx::query_scalar(concat!("SELECT centre_id FROM booths WHERE id = $1", $for_update))
                        .bind(new.booth_id.to_string())
                        .fetch_optional(&mut *tx)
                        .await?;
                booth.ok_or(StoreError::NotFound("booth"))?;
                let service_agency: Option<String> = sqlx::query_scalar("SELECT agency_id FROM services WHERE id = $1")
                    .bind(new.service_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
                if service_agency.ok_or(StoreError::NotFound("service"))? != officer_agency {
                    return Err(StoreError::Invalid("the officer does not work at the agency of that service"));
                }
                let overlapping: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM bookings \
                     WHERE (officer_id = $1 OR booth_id = $2) AND state IN ('booked', 'started') \
                       AND starts_at < $4 AND ends_at > $3",
                )
                .bind(new.officer_id.to_string())
                .bind(new.booth_id.to_string())
                .bind(new.starts_at)
                .bind(ends_at)
                .fetch_one(&mut *tx)
                .await?;
                if overlapping > 0 {
                    return Err(StoreError::DoubleBooking);
                }
                // The citizen is added in the same transaction: a refused booking leaves no
                // personnummer behind.
                let (citizen_id, _) = Self::find_or_add_citizen(
                    &mut tx,
                    &self.key,
                    CitizenId::new(),
                    &new.citizen_personnummer,
                    &new.citizen_name,
                    new.created_at,
                )
                .await?;
                let id = BookingId::new();
                sqlx::query(
                    "INSERT INTO bookings (id, service_id, officer_id, booth_id, citizen_id, starts_at, \
                         duration_minutes, ends_at, state, created_by_guide_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'booked', $9, $10)",
                )
                .bind(id.to_string())
                .bind(new.service_id.to_string())
                .bind(new.officer_id.to_string())
                .bind(new.booth_id.to_string())
                .bind(citizen_id.to_string())
                .bind(new.starts_at)
                .bind(new.duration_minutes)
                .bind(ends_at)
                .bind(new.created_by.map(|g| g.to_string()))
                .bind(new.created_at)
                .execute(&mut *tx)
                .await?;
                let view = Self::booking_view(&mut tx, id).await?.ok_or(StoreError::NotFound("booking"))?;
                Self::log_access(&mut tx, access, "booking.create", Some(view.citizen_id), Some(id)).await?;
                tx.commit().await?;
                Ok(view)
            }

            async fn booking(&self, id: BookingId) -> Result<Option<BookingRecord>, StoreError> {
                let row: Option<BookingRow> = sqlx::query_as(
                    "SELECT b.id, b.service_id, b.officer_id, b.booth_id, bo.centre_id, b.citizen_id, b.starts_at, \
                            b.duration_minutes, b.state, b.created_by_guide_id, b.created_at \
                     FROM bookings b JOIN booths bo ON bo.id = b.booth_id WHERE b.id = $1",
                )
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?;
                let Some(r) = row else { return Ok(None) };
                Ok(Some(BookingRecord {
                    id: parse_id(&r.id)?,
                    service_id: parse_id(&r.service_id)?,
                    officer_id: parse_id(&r.officer_id)?,
                    booth_id: parse_id(&r.booth_id)?,
                    centre_id: parse_id(&r.centre_id)?,
                    citizen_id: parse_id(&r.citizen_id)?,
                    starts_at: r.starts_at,
                    duration_minutes: r.duration_minutes,
                    state: parse_state(&r.state)?,
                    created_by: r.created_by_guide_id.as_deref().map(parse_id).transpose()?,
                    created_at: r.created_at,
                }))
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
                            "WHERE b.officer_id = $1 AND b.ends_at > $2 AND b.state <> 'cancelled' ",
                            "ORDER BY b.starts_at, b.id"
                        ),
                        officer.to_string(),
                        from,
                    ),
                };
                let mut tx = self.pool.begin().await?;
                let rows: Vec<BookingViewRow> = sqlx::query_as(sql).bind(key).bind(from).fetch_all(&mut *tx).await?;
                let views = rows.into_iter().map(BookingViewRow::into_view).collect::<Result<Vec<_>, _>>()?;
                for v in &views {
                    Self::log_access(&mut tx, access, "booking.list", Some(v.citizen_id), Some(v.id)).await?;
                }
                tx.commit().await?;
                Ok(views)
            }

            async fn start_booking(&self, id: BookingId) -> Result<BookingState, StoreError> {
                let updated: Option<String> = sqlx::query_scalar(
                    "UPDATE bookings SET state = 'started' WHERE id = $1 AND state IN ('booked', 'started') \
                     RETURNING state",
                )
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?;
                if let Some(state) = updated {
                    return parse_state(&state);
                }
                let state: Option<String> = sqlx::query_scalar("SELECT state FROM bookings WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                match state {
                    None => Err(StoreError::NotFound("booking")),
                    Some(s) => Err(StoreError::NotStartable(parse_state(&s)?)),
                }
            }

            async fn next_booking_at_booth(
                &self,
                citizen: CitizenId,
                booth: BoothId,
                from: i64,
                until: i64,
            ) -> Result<Option<CitizenBookingView>, StoreError> {
                let row: Option<CitizenBookingRow> = sqlx::query_as(
                    "SELECT b.id, b.state, b.starts_at, b.duration_minutes, s.name AS service_name, \
                            a.name AS agency_name, o.display_name AS officer_name \
                     FROM bookings b \
                     JOIN services s ON s.id = b.service_id \
                     JOIN agencies a ON a.id = s.agency_id \
                     JOIN officers o ON o.id = b.officer_id \
                     WHERE b.citizen_id = $1 AND b.booth_id = $2 AND b.state IN ('booked', 'started') \
                       AND b.ends_at > $3 AND b.starts_at < $4 \
                     ORDER BY b.starts_at, b.id LIMIT 1",
                )
                .bind(citizen.to_string())
                .bind(booth.to_string())
                .bind(from)
                .bind(until)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|r| {
                    Ok(CitizenBookingView {
                        id: parse_id(&r.id)?,
                        state: parse_state(&r.state)?,
                        starts_at: r.starts_at,
                        duration_minutes: r.duration_minutes,
                        service_name: r.service_name,
                        agency_name: r.agency_name,
                        officer_name: r.officer_name,
                    })
                })
                .transpose()
            }

            async fn access_log_for_citizen(&self, citizen: CitizenId) -> Result<Vec<AccessLogEntry>, StoreError> {
                let rows: Vec<AccessLogRow> = sqlx::query_as(
                    "SELECT at, actor_kind, actor_id, action, citizen_id, booking_id, reason FROM access_log \
                     WHERE citizen_id = $1 ORDER BY at, id",
                )
                .bind(citizen.to_string())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|r| {
                        Ok(AccessLogEntry {
                            at: r.at,
                            actor: Subject::from_parts(&r.actor_kind, &r.actor_id)
                                .ok_or_else(|| StoreError::Corrupt("access log actor".into()))?,
                            action: r.action,
                            citizen_id: r.citizen_id.as_deref().map(parse_id).transpose()?,
                            booking_id: r.booking_id.as_deref().map(parse_id).transpose()?,
                            reason: r.reason,
                        })
                    })
                    .collect()
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
                let Some(r) = row else { return Ok(None) };
                Ok(Some(SessionRecord {
                    id: SessionId(r.id),
                    subject: Subject::from_parts(&r.subject_kind, &r.subject_id)
                        .ok_or_else(|| StoreError::Corrupt("session subject".into()))?,
                    method: r.method.parse().map_err(|_| StoreError::Corrupt("session method".into()))?,
                    created_at: r.created_at,
                    last_seen_at: r.last_seen_at,
                    expires_at: r.expires_at,
                }))
            }

            async fn touch_session(&self, id: &SessionId, now: i64) -> Result<(), StoreError> {
                sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2")
                    .bind(id.as_str())
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
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

sql_store!(
    SqliteStore,
    Sqlite,
    begin_write = "BEGIN IMMEDIATE",
    for_update = ""
);
sql_store!(
    PgStore,
    Postgres,
    begin_write = "BEGIN",
    for_update = " FOR UPDATE"
);
