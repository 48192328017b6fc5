//! Resources in SQL: agencies, services, officers, centres, booths, guides and interpreters, with
//! their lists (languages, skills, hours, absences, closures, equipment) in child tables.
//!
//! A resource is written whole: its row, then each list deleted and inserted again, in one
//! transaction, so a reader never sees half an officer. Lists are read for many resources at once
//! (one query per list, grouped here), not one query per resource.

use std::collections::HashMap;

use super::*;

/// Rows of a list, grouped by the id of the resource they belong to.
pub(super) fn group<T>(rows: Vec<(String, T)>) -> HashMap<String, Vec<T>> {
    let mut map: HashMap<String, Vec<T>> = HashMap::new();
    for (owner, item) in rows {
        map.entry(owner).or_default().push(item);
    }
    map
}

pub(super) fn hours(rows: Vec<(i64, i64, i64)>) -> Vec<WeeklyHours> {
    rows.into_iter()
        .map(|(d, s, e)| WeeklyHours::new(d, s, e))
        .collect()
}

pub(super) fn kind_table(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Agency => "agencies",
        ResourceKind::Service => "services",
        ResourceKind::Officer => "officers",
        ResourceKind::Centre => "centres",
        ResourceKind::Booth => "booths",
        ResourceKind::Guide => "guides",
        ResourceKind::Interpreter => "interpreters",
    }
}

/// Which rows a resource query reads. Every filter takes exactly one text parameter, `$1`
/// (NULL for all).
///
/// One resource and all of them are two query texts, not one `($1 IS NULL OR r.id = $1)`: for
/// that, PostgreSQL's generic plan is a full scan, so it planned the query anew on every call
/// (a look-up of one centre, guide or officer on every request).
pub(super) fn by_id(key: &Option<String>) -> &'static str {
    match key {
        Some(_) => "r.id = $1",
        None => "$1 IS NULL",
    }
}
pub(super) const SERVING: &str =
    "r.id IN (SELECT officer_id FROM officer_services WHERE service_id = $1)";

pub(super) const AT_CENTRE: &str = "r.centre_id = $1";

/// A query from constant fragments only; never from input.
pub(super) fn sql(text: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(text)
}

macro_rules! resource_methods {
    ($store:ident, $db:ty) => {
        impl $store {
            async fn replace_strings(
                conn: &mut <$db as sqlx::Database>::Connection,
                table: &'static str,
                owner_column: &'static str,
                item_column: &'static str,
                owner: &str,
                items: &[String],
            ) -> Result<(), StoreError> {
                sqlx::query(sql(format!("DELETE FROM {table} WHERE {owner_column} = $1")))
                    .bind(owner)
                    .execute(&mut *conn)
                    .await?;
                let insert = format!(
                    "INSERT INTO {table} ({owner_column}, {item_column}) VALUES ($1, $2) ON CONFLICT DO NOTHING"
                );
                for item in items {
                    sqlx::query(sql(insert.clone())).bind(owner).bind(item).execute(&mut *conn).await?;
                }
                Ok(())
            }

            async fn replace_hours(
                conn: &mut <$db as sqlx::Database>::Connection,
                table: &'static str,
                owner_column: &'static str,
                owner: &str,
                items: &[WeeklyHours],
            ) -> Result<(), StoreError> {
                sqlx::query(sql(format!("DELETE FROM {table} WHERE {owner_column} = $1")))
                    .bind(owner)
                    .execute(&mut *conn)
                    .await?;
                let insert = format!(
                    "INSERT INTO {table} ({owner_column}, weekday, starts_minute, ends_minute) VALUES ($1, $2, $3, $4)"
                );
                for h in items {
                    sqlx::query(sql(insert.clone()))
                        .bind(owner)
                        .bind(h.weekday)
                        .bind(h.starts_minute)
                        .bind(h.ends_minute)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            }

            /// Writes the resource's row (insert or update) and its lists.
            async fn save_resource(&self, resource: &Resource, create: bool) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                let id = resource.id().to_string();
                let (insert, update): (&str, &str) = match resource {
                    Resource::Agency(_) => (
                        "INSERT INTO agencies (id, name) VALUES ($1, $2)",
                        "UPDATE agencies SET name = $2 WHERE id = $1",
                    ),
                    Resource::Service(_) => (
                        "INSERT INTO services (id, agency_id, name, default_duration_minutes) VALUES ($1, $2, $3, $4)",
                        "UPDATE services SET agency_id = $2, name = $3, default_duration_minutes = $4 WHERE id = $1",
                    ),
                    Resource::Officer(_) => (
                        "INSERT INTO officers (id, agency_id, display_name, agency_admin, email, auditor, analyst) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        "UPDATE officers SET agency_id = $2, display_name = $3, agency_admin = $4, email = $5, auditor = $6, analyst = $7 WHERE id = $1",
                    ),
                    Resource::Centre(_) => (
                        "INSERT INTO centres (id, kommun, name, address) VALUES ($1, $2, $3, $4)",
                        "UPDATE centres SET kommun = $2, name = $3, address = $4 WHERE id = $1",
                    ),
                    Resource::Booth(_) => (
                        "INSERT INTO booths (id, centre_id, name, wheelchair_accessible, device_id) VALUES ($1, $2, $3, $4, $5)",
                        "UPDATE booths SET centre_id = $2, name = $3, wheelchair_accessible = $4, device_id = $5 WHERE id = $1",
                    ),
                    Resource::Guide(_) => (
                        "INSERT INTO guides (id, centre_id, display_name, centre_admin, email, analyst) VALUES ($1, $2, $3, $4, $5, $6)",
                        "UPDATE guides SET centre_id = $2, display_name = $3, centre_admin = $4, email = $5, analyst = $6 WHERE id = $1",
                    ),
                    Resource::Interpreter(_) => (
                        "INSERT INTO interpreters (id, display_name, email) VALUES ($1, $2, $3)",
                        "UPDATE interpreters SET display_name = $2, email = $3 WHERE id = $1",
                    ),
                };
                let q = sqlx::query(if create { insert } else { update }).bind(&id);
                let q = match resource {
                    Resource::Agency(a) => q.bind(&a.name),
                    Resource::Service(s) => {
                        q.bind(s.agency_id.to_string()).bind(&s.name).bind(s.default_duration_minutes)
                    }
                    Resource::Officer(o) => {
                        q.bind(o.agency_id.to_string()).bind(&o.display_name).bind(o.agency_admin).bind(o.email.clone()).bind(o.auditor).bind(o.analyst)
                    }
                    Resource::Centre(c) => q.bind(&c.kommun).bind(&c.name).bind(&c.address),
                    Resource::Booth(b) => q
                        .bind(b.centre_id.to_string())
                        .bind(&b.name)
                        .bind(b.wheelchair_accessible)
                        .bind(b.device_id.clone()),
                    Resource::Guide(g) => {
                        q.bind(g.centre_id.to_string()).bind(&g.display_name).bind(g.centre_admin).bind(g.email.clone()).bind(g.analyst)
                    }
                    Resource::Interpreter(i) => q.bind(&i.display_name).bind(i.email.clone()),
                };
                let done = q.execute(&mut *tx).await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("resource"));
                }
                match resource {
                    Resource::Service(s) => {
                        Self::replace_strings(&mut tx, "service_skills", "service_id", "skill", &id, &s.required_skills)
                            .await?;
                    }
                    Resource::Officer(o) => {
                        let services: Vec<String> = o.services.iter().map(|s| s.to_string()).collect();
                        Self::replace_strings(&mut tx, "officer_services", "officer_id", "service_id", &id, &services)
                            .await?;
                        // An officer handles only their own agency's services.
                        let foreign: i64 = sqlx::query_scalar(
                            "SELECT COUNT(*) FROM officer_services os JOIN services s ON s.id = os.service_id \
                             WHERE os.officer_id = $1 AND s.agency_id <> $2",
                        )
                        .bind(&id)
                        .bind(o.agency_id.to_string())
                        .fetch_one(&mut *tx)
                        .await?;
                        if foreign > 0 {
                            return Err(StoreError::Invalid("an officer handles only their own agency's services"));
                        }
                        Self::replace_strings(&mut tx, "officer_languages", "officer_id", "language", &id, &o.languages)
                            .await?;
                        Self::replace_strings(&mut tx, "officer_skills", "officer_id", "skill", &id, &o.skills).await?;
                        Self::replace_hours(&mut tx, "officer_working_hours", "officer_id", &id, &o.working_hours)
                            .await?;
                        sqlx::query("DELETE FROM officer_absences WHERE officer_id = $1")
                            .bind(&id)
                            .execute(&mut *tx)
                            .await?;
                        for p in &o.absences {
                            sqlx::query(
                                "INSERT INTO officer_absences (officer_id, starts_at, ends_at) VALUES ($1, $2, $3)",
                            )
                            .bind(&id)
                            .bind(p.starts_at)
                            .bind(p.ends_at)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                    Resource::Centre(c) => {
                        Self::replace_hours(&mut tx, "centre_opening_hours", "centre_id", &id, &c.opening_hours).await?;
                        sqlx::query("DELETE FROM centre_closures WHERE centre_id = $1")
                            .bind(&id)
                            .execute(&mut *tx)
                            .await?;
                        for cl in &c.closures {
                            sqlx::query(
                                "INSERT INTO centre_closures (centre_id, starts_at, ends_at, reason) VALUES ($1, $2, $3, $4)",
                            )
                            .bind(&id)
                            .bind(cl.period.starts_at)
                            .bind(cl.period.ends_at)
                            .bind(&cl.reason)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                    Resource::Booth(b) => {
                        Self::replace_strings(&mut tx, "booth_equipment", "booth_id", "item", &id, &b.equipment).await?;
                    }
                    Resource::Interpreter(i) => {
                        Self::replace_strings(
                            &mut tx,
                            "interpreter_languages",
                            "interpreter_id",
                            "language",
                            &id,
                            &i.languages,
                        )
                        .await?;
                    }
                    Resource::Agency(_) | Resource::Guide(_) => {}
                }
                tx.commit().await?;
                Ok(())
            }

            async fn load_officers(&self, filter: &'static str, key: Option<String>) -> Result<Vec<Officer>, StoreError> {
                let rows: Vec<(String, String, String, bool, Option<String>, bool, bool)> = sqlx::query_as(sql(format!(
                    "SELECT r.id, r.agency_id, r.display_name, r.agency_admin, r.email, r.auditor, r.analyst FROM officers r WHERE {filter} \
                     ORDER BY r.display_name, r.id"
                )))
                .bind(key.clone())
                .fetch_all(&self.pool)
                .await?;
                let list = |table: &str, column: &str| {
                    format!(
                        "SELECT x.officer_id, x.{column} FROM {table} x JOIN officers r ON r.id = x.officer_id \
                         WHERE {filter} ORDER BY x.{column}"
                    )
                };
                let mut services = group(
                    sqlx::query_as::<_, (String, String)>(sql(list("officer_services", "service_id")))
                        .bind(key.clone())
                        .fetch_all(&self.pool)
                        .await?,
                );
                let mut languages = group(
                    sqlx::query_as::<_, (String, String)>(sql(list("officer_languages", "language")))
                        .bind(key.clone())
                        .fetch_all(&self.pool)
                        .await?,
                );
                let mut skills = group(
                    sqlx::query_as::<_, (String, String)>(sql(list("officer_skills", "skill")))
                        .bind(key.clone())
                        .fetch_all(&self.pool)
                        .await?,
                );
                let mut working = group(
                    sqlx::query_as::<_, (String, i64, i64, i64)>(sql(format!(
                        "SELECT x.officer_id, x.weekday, x.starts_minute, x.ends_minute FROM officer_working_hours x \
                         JOIN officers r ON r.id = x.officer_id WHERE {filter} ORDER BY x.weekday, x.starts_minute"
                    )))
                    .bind(key.clone())
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|(o, d, s, e)| (o, (d, s, e)))
                    .collect(),
                );
                let mut absences = group(
                    sqlx::query_as::<_, (String, i64, i64)>(sql(format!(
                        "SELECT x.officer_id, x.starts_at, x.ends_at FROM officer_absences x \
                         JOIN officers r ON r.id = x.officer_id WHERE {filter} ORDER BY x.starts_at"
                    )))
                    .bind(key)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|(o, s, e)| (o, (s, e)))
                    .collect(),
                );
                rows.into_iter()
                    .map(|(id, agency, display_name, agency_admin, email, auditor, analyst)| {
                        Ok(Officer {
                            agency_id: parse_id(&agency)?,
                            display_name,
                            agency_admin,
                            auditor,
                            analyst,
                            email,
                            services: services
                                .remove(&id)
                                .unwrap_or_default()
                                .iter()
                                .map(|s| parse_id(s))
                                .collect::<Result<_, _>>()?,
                            languages: languages.remove(&id).unwrap_or_default(),
                            skills: skills.remove(&id).unwrap_or_default(),
                            working_hours: hours(working.remove(&id).unwrap_or_default()),
                            absences: absences
                                .remove(&id)
                                .unwrap_or_default()
                                .into_iter()
                                .map(|(s, e)| Period::new(s, e))
                                .collect(),
                            id: parse_id(&id)?,
                        })
                    })
                    .collect()
            }

            /// Booths matching `filter` (one of the filters above, on `$1`), sorted by name.
            async fn load_booths(&self, filter: &'static str, key: Option<String>) -> Result<Vec<Booth>, StoreError> {
                let rows: Vec<(String, String, String, bool, Option<String>)> = sqlx::query_as(sql(format!(
                    "SELECT r.id, r.centre_id, r.name, r.wheelchair_accessible, r.device_id FROM booths r \
                     WHERE {filter} ORDER BY r.name, r.id"
                )))
                .bind(key.clone())
                .fetch_all(&self.pool)
                .await?;
                let mut equipment = group(
                    sqlx::query_as::<_, (String, String)>(sql(format!(
                        "SELECT x.booth_id, x.item FROM booth_equipment x JOIN booths r ON r.id = x.booth_id \
                         WHERE {filter} ORDER BY x.item"
                    )))
                    .bind(key)
                    .fetch_all(&self.pool)
                    .await?,
                );
                rows.into_iter()
                    .map(|(id, centre, name, wheelchair_accessible, device_id)| {
                        Ok(Booth {
                            centre_id: parse_id(&centre)?,
                            name,
                            wheelchair_accessible,
                            equipment: equipment.remove(&id).unwrap_or_default(),
                            device_id,
                            id: parse_id(&id)?,
                        })
                    })
                    .collect()
            }

            /// Resources of a kind; all of them, or the one with id `key`.
            async fn load_resources(&self, kind: ResourceKind, key: Option<String>) -> Result<Vec<Resource>, StoreError> {
                let pool = &self.pool;
                let by_id = by_id(&key);
                Ok(match kind {
                    ResourceKind::Officer => {
                        self.load_officers(by_id, key).await?.into_iter().map(Resource::Officer).collect()
                    }
                    ResourceKind::Agency => {
                        let rows: Vec<(String, String)> = sqlx::query_as(sql(format!(
                            "SELECT r.id, r.name FROM agencies r WHERE {by_id} ORDER BY r.name, r.id"
                        )))
                        .bind(key)
                        .fetch_all(pool)
                        .await?;
                        rows.into_iter()
                            .map(|(id, name)| Ok(Resource::Agency(Agency { id: parse_id(&id)?, name })))
                            .collect::<Result<_, StoreError>>()?
                    }
                    ResourceKind::Service => {
                        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(sql(format!(
                            "SELECT r.id, r.agency_id, r.name, r.default_duration_minutes FROM services r \
                             WHERE {by_id} ORDER BY r.name, r.id"
                        )))
                        .bind(key.clone())
                        .fetch_all(pool)
                        .await?;
                        let mut skills = group(
                            sqlx::query_as::<_, (String, String)>(sql(format!(
                                "SELECT x.service_id, x.skill FROM service_skills x JOIN services r ON r.id = x.service_id \
                                 WHERE {by_id} ORDER BY x.skill"
                            )))
                            .bind(key)
                            .fetch_all(pool)
                            .await?,
                        );
                        rows.into_iter()
                            .map(|(id, agency, name, minutes)| {
                                Ok(Resource::Service(Service {
                                    agency_id: parse_id(&agency)?,
                                    name,
                                    default_duration_minutes: minutes,
                                    required_skills: skills.remove(&id).unwrap_or_default(),
                                    id: parse_id(&id)?,
                                }))
                            })
                            .collect::<Result<_, StoreError>>()?
                    }
                    ResourceKind::Centre => {
                        let rows: Vec<(String, String, String, String)> = sqlx::query_as(sql(format!(
                            "SELECT r.id, r.kommun, r.name, r.address FROM centres r WHERE {by_id} ORDER BY r.name, r.id"
                        )))
                        .bind(key.clone())
                        .fetch_all(pool)
                        .await?;
                        let mut opening = group(
                            sqlx::query_as::<_, (String, i64, i64, i64)>(sql(format!(
                                "SELECT x.centre_id, x.weekday, x.starts_minute, x.ends_minute FROM centre_opening_hours x \
                                 JOIN centres r ON r.id = x.centre_id WHERE {by_id} ORDER BY x.weekday, x.starts_minute"
                            )))
                            .bind(key.clone())
                            .fetch_all(pool)
                            .await?
                            .into_iter()
                            .map(|(o, d, s, e)| (o, (d, s, e)))
                            .collect(),
                        );
                        let mut closures = group(
                            sqlx::query_as::<_, (String, i64, i64, String)>(sql(format!(
                                "SELECT x.centre_id, x.starts_at, x.ends_at, x.reason FROM centre_closures x \
                                 JOIN centres r ON r.id = x.centre_id WHERE {by_id} ORDER BY x.starts_at"
                            )))
                            .bind(key)
                            .fetch_all(pool)
                            .await?
                            .into_iter()
                            .map(|(o, s, e, r)| (o, (s, e, r)))
                            .collect(),
                        );
                        rows.into_iter()
                            .map(|(id, kommun, name, address)| {
                                Ok(Resource::Centre(Centre {
                                    kommun,
                                    name,
                                    address,
                                    opening_hours: hours(opening.remove(&id).unwrap_or_default()),
                                    closures: closures
                                        .remove(&id)
                                        .unwrap_or_default()
                                        .into_iter()
                                        .map(|(s, e, reason)| Closure { period: Period::new(s, e), reason })
                                        .collect(),
                                    id: parse_id(&id)?,
                                }))
                            })
                            .collect::<Result<_, StoreError>>()?
                    }
                    ResourceKind::Booth => {
                        self.load_booths(by_id, key).await?.into_iter().map(Resource::Booth).collect()
                    }
                    ResourceKind::Guide => {
                        let rows: Vec<(String, String, String, bool, Option<String>, bool)> = sqlx::query_as(sql(format!(
                            "SELECT r.id, r.centre_id, r.display_name, r.centre_admin, r.email, r.analyst FROM guides r \
                             WHERE {by_id} ORDER BY r.display_name, r.id"
                        )))
                        .bind(key)
                        .fetch_all(pool)
                        .await?;
                        rows.into_iter()
                            .map(|(id, centre, display_name, centre_admin, email, analyst)| {
                                Ok(Resource::Guide(Guide {
                                    id: parse_id(&id)?,
                                    centre_id: parse_id(&centre)?,
                                    display_name,
                                    centre_admin,
                                    email,
                                    analyst,
                                }))
                            })
                            .collect::<Result<_, StoreError>>()?
                    }
                    ResourceKind::Interpreter => {
                        let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(sql(format!(
                            "SELECT r.id, r.display_name, r.email FROM interpreters r WHERE {by_id} ORDER BY r.display_name, r.id"
                        )))
                        .bind(key.clone())
                        .fetch_all(pool)
                        .await?;
                        let mut languages = group(
                            sqlx::query_as::<_, (String, String)>(sql(format!(
                                "SELECT x.interpreter_id, x.language FROM interpreter_languages x \
                                 JOIN interpreters r ON r.id = x.interpreter_id WHERE {by_id} ORDER BY x.language"
                            )))
                            .bind(key)
                            .fetch_all(pool)
                            .await?,
                        );
                        rows.into_iter()
                            .map(|(id, display_name, email)| {
                                Ok(Resource::Interpreter(Interpreter {
                                    languages: languages.remove(&id).unwrap_or_default(),
                                    display_name,
                                    email,
                                    id: parse_id(&id)?,
                                }))
                            })
                            .collect::<Result<_, StoreError>>()?
                    }
                })
            }
        }
    };
}

pub(super) use resource_methods;
