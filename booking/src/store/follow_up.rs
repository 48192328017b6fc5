//! Follow-up in SQL: survey answers, feedback and call quality written, and the figures per
//! centre, agency, service and period computed by the database (one pass per table).

/// The bookings a follow-up covers; `$1`–`$5` are from, until, centre, agency, service (each of
/// the last three NULL for all). Averages are cast to double precision, which both databases
/// return as a float (PostgreSQL's AVG of integers is `numeric`).
pub(super) const COVERED: &str = "WITH covered AS ( \
     SELECT b.id, b.state, b.outcome FROM bookings b \
     JOIN booths bo ON bo.id = b.booth_id JOIN services s ON s.id = b.service_id \
     WHERE b.starts_at >= $1 AND b.starts_at < $2 AND ($3 IS NULL OR bo.centre_id = $3) \
       AND ($4 IS NULL OR s.agency_id = $4) AND ($5 IS NULL OR b.service_id = $5)) ";

macro_rules! follow_up_methods {
    ($store:ident, $db:ty, begin_write = $begin_write:literal) => {
        impl $store {
            async fn insert_survey(
                &self,
                id: BookingId,
                answer: &SurveyAnswer,
                actor: Subject,
                at: i64,
            ) -> Result<(), StoreError> {
                // A write transaction from the start: it reads the state, then writes, and SQLite
                // cannot turn a reader into a writer while another connection writes ("database
                // is locked", which a kiosk's survey met while the officer's side was writing).
                let mut tx = self.pool.begin_with($begin_write).await?;
                let state: Option<String> = sqlx::query_scalar("SELECT state FROM bookings WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
                let state = parse_state(&state.ok_or(StoreError::NotFound("booking"))?)?;
                if state != BookingState::Ended {
                    return Err(StoreError::InvalidTransition { from: state, change: "surveyed" });
                }
                sqlx::query(
                    "INSERT INTO survey_answers (booking_id, satisfaction, got_help, answered_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(id.to_string())
                .bind(answer.satisfaction)
                .bind(answer.got_help)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                Self::append_event(&mut tx, id, at, actor, "survey_answered", &serde_json::json!({})).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn compute_follow_up(&self, f: &FollowUpFilter) -> Result<FollowUp, StoreError> {
                let bind = |q: &'static str| {
                    let text = format!("{COVERED}{q}");
                    (text, f.from, f.until, f.centre.map(|c| c.to_string()), f.agency.map(|a| a.to_string()), f.service.map(|s| s.to_string()))
                };
                // `fetch!(fetch_one | fetch_all, row type, query over "covered")`.
                macro_rules! fetch {
                    ($how:ident, $ty:ty, $q:expr) => {{
                        let (text, from, until, centre, agency, service) = bind($q);
                        sqlx::query_as::<_, $ty>(sql(text))
                            .bind(from)
                            .bind(until)
                            .bind(centre)
                            .bind(agency)
                            .bind(service)
                            .$how(&self.pool)
                            .await?
                    }};
                }
                let (bookings, meetings, no_shows, cancelled, resolved, follow_up, referred): (i64, i64, i64, i64, i64, i64, i64) = fetch!(
                    fetch_one,
                    (i64, i64, i64, i64, i64, i64, i64),
                    "SELECT COUNT(*), \
                            COALESCE(SUM(CASE WHEN state = 'ended' THEN 1 ELSE 0 END), 0), \
                            COALESCE(SUM(CASE WHEN state = 'no_show' THEN 1 ELSE 0 END), 0), \
                            COALESCE(SUM(CASE WHEN state = 'cancelled' THEN 1 ELSE 0 END), 0), \
                            COALESCE(SUM(CASE WHEN outcome = 'resolved' THEN 1 ELSE 0 END), 0), \
                            COALESCE(SUM(CASE WHEN outcome = 'follow_up' THEN 1 ELSE 0 END), 0), \
                            COALESCE(SUM(CASE WHEN outcome = 'referred' THEN 1 ELSE 0 END), 0) \
                     FROM covered"
                );
                let (mean_wait_seconds,): (Option<f64>,) = fetch!(
                    fetch_one,
                    (Option<f64>,),
                    "SELECT AVG(CAST(st.at - ci.at AS DOUBLE PRECISION)) FROM covered \
                     JOIN booking_events ci ON ci.booking_id = covered.id AND ci.kind = 'checked_in' \
                     JOIN booking_events st ON st.booking_id = covered.id AND st.kind = 'started'"
                );
                // Median and percentile are not portable SQL (SQLite has neither): the waits come
                // out one per meeting and are ranked here.
                let mut waits: Vec<i64> = fetch!(
                    fetch_all,
                    (i64,),
                    "SELECT CAST(st.at - ci.at AS BIGINT) FROM covered \
                     JOIN booking_events ci ON ci.booking_id = covered.id AND ci.kind = 'checked_in' \
                     JOIN booking_events st ON st.booking_id = covered.id AND st.kind = 'started'"
                )
                .into_iter()
                .map(|(w,)| w)
                .collect();
                let (median_wait_seconds, p90_wait_seconds) = median_and_p90(&mut waits);
                let mut satisfaction_counts = [0i64; 5];
                for (answer, n) in fetch!(
                    fetch_all,
                    (i64, i64),
                    "SELECT CAST(a.satisfaction AS BIGINT), COUNT(*) FROM covered \
                     JOIN survey_answers a ON a.booking_id = covered.id GROUP BY a.satisfaction"
                ) {
                    // The column's CHECK keeps answers within 1–5.
                    if let Some(slot) = usize::try_from(answer - 1).ok().and_then(|i| satisfaction_counts.get_mut(i)) {
                        *slot = n;
                    }
                }
                let feedback_by_category: Vec<FeedbackCount> = fetch!(
                    fetch_all,
                    (String, String, i64),
                    "SELECT kind, category, COUNT(*) FROM feedback WHERE created_at >= $1 AND created_at < $2 \
                       AND ($3 IS NULL OR centre_id = $3) AND ($4 IS NULL OR agency_id = $4) \
                       AND ($5 IS NULL OR booking_id IN (SELECT id FROM bookings WHERE service_id = $5)) \
                     GROUP BY kind, category ORDER BY kind, category"
                )
                .into_iter()
                .map(|(kind, category, count)| FeedbackCount { kind, category, count })
                .collect();
                let (survey_answers, mean_satisfaction, share_got_help): (i64, Option<f64>, Option<f64>) = fetch!(
                    fetch_one,
                    (i64, Option<f64>, Option<f64>),
                    "SELECT COUNT(*), AVG(CAST(a.satisfaction AS DOUBLE PRECISION)), \
                            AVG(CAST(CASE WHEN a.got_help THEN 1 ELSE 0 END AS DOUBLE PRECISION)) \
                     FROM covered JOIN survey_answers a ON a.booking_id = covered.id"
                );
                let (calls_reported, mean_rtt_ms, mean_loss_per_mille, mean_poor_seconds): (i64, Option<f64>, Option<f64>, Option<f64>) = fetch!(
                    fetch_one,
                    (i64, Option<f64>, Option<f64>, Option<f64>),
                    "SELECT COUNT(*), AVG(CAST(q.mean_rtt_ms AS DOUBLE PRECISION)), \
                            AVG(CAST(q.loss_per_mille AS DOUBLE PRECISION)), AVG(CAST(q.poor_seconds AS DOUBLE PRECISION)) \
                     FROM covered JOIN call_quality q ON q.booking_id = covered.id"
                );
                // Feedback is counted by when it was given, for the centre and agency asked for.
                let (complaints, suggestions, praise): (i64, i64, i64) = fetch!(
                    fetch_one,
                    (i64, i64, i64),
                    "SELECT COALESCE(SUM(CASE WHEN kind = 'complaint' THEN 1 ELSE 0 END), 0), \
                            COALESCE(SUM(CASE WHEN kind = 'suggestion' THEN 1 ELSE 0 END), 0), \
                            COALESCE(SUM(CASE WHEN kind = 'praise' THEN 1 ELSE 0 END), 0) \
                     FROM feedback WHERE created_at >= $1 AND created_at < $2 \
                       AND ($3 IS NULL OR centre_id = $3) AND ($4 IS NULL OR agency_id = $4) \
                       AND ($5 IS NULL OR booking_id IN (SELECT id FROM bookings WHERE service_id = $5))"
                );
                let with_outcome = resolved + follow_up + referred;
                Ok(FollowUp {
                    bookings,
                    meetings,
                    no_shows,
                    cancelled,
                    resolved,
                    follow_up,
                    referred,
                    share_resolved: (with_outcome > 0).then(|| resolved as f64 / with_outcome as f64),
                    mean_wait_seconds,
                    waits_measured: waits.len() as i64,
                    median_wait_seconds,
                    p90_wait_seconds,
                    survey_answers,
                    satisfaction_counts,
                    mean_satisfaction,
                    share_got_help,
                    complaints,
                    suggestions,
                    praise,
                    feedback_by_category,
                    calls_reported,
                    mean_rtt_ms,
                    mean_loss_per_mille,
                    mean_poor_seconds,
                })
            }
        }
    };
}

pub(super) use follow_up_methods;
