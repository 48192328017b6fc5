//! Help calls in SQL: a booth's call for the guide, open until a guide answers it. At most one
//! call per booth is open (a partial unique index), so a double press or two racing presses
//! make one call.

/// The columns of a help call with its booth's name, as `load_help_call` reads them.
pub(super) const HELP_CALL_SELECT: &str = "SELECT h.id, h.booth_id, b.name, h.centre_id, h.reason, \
     h.called_at, h.answered_at, h.answered_by FROM help_calls h JOIN booths b ON b.id = h.booth_id ";

pub(super) type HelpCallRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
);

pub(super) fn help_call_of(row: HelpCallRow) -> Result<super::HelpCall, super::StoreError> {
    use super::StoreError;
    let (id, booth, booth_name, centre, reason, called_at, answered_at, answered_by) = row;
    let parse = |s: &str| {
        s.parse::<uuid::Uuid>()
            .map_err(|_| StoreError::Corrupt(format!("bad id {s:?}")))
    };
    Ok(super::HelpCall {
        id: crate::ids::HelpCallId(parse(&id)?),
        booth_id: crate::ids::BoothId(parse(&booth)?),
        booth_name,
        centre_id: crate::ids::CentreId(parse(&centre)?),
        reason: super::HelpReason::parse(&reason)
            .ok_or_else(|| StoreError::Corrupt(format!("bad help reason {reason:?}")))?,
        called_at,
        answered_at,
        answered_by: answered_by
            .as_deref()
            .map(|g| parse(g).map(crate::ids::GuideId))
            .transpose()?,
    })
}

macro_rules! help_call_methods {
    ($store:ident, $db:ty) => {
        impl $store {
            async fn insert_help_call(
                &self,
                booth: BoothId,
                reason: HelpReason,
                at: i64,
            ) -> Result<(HelpCall, bool), StoreError> {
                let inserted = sqlx::query(
                    "INSERT INTO help_calls (id, booth_id, centre_id, reason, called_at) \
                     SELECT $1, id, centre_id, $3, $4 FROM booths WHERE id = $2",
                )
                .bind(HelpCallId::new().to_string())
                .bind(booth.to_string())
                .bind(reason.as_str())
                .bind(at)
                .execute(&self.pool)
                .await;
                let created = match inserted.map_err(StoreError::from) {
                    Ok(done) if done.rows_affected() == 0 => return Err(StoreError::NotFound("booth")),
                    Ok(_) => true,
                    // The booth's call is open already: that one stands.
                    Err(StoreError::Conflict(_)) => false,
                    Err(e) => return Err(e),
                };
                let row: Option<HelpCallRow> = sqlx::query_as(sql(format!(
                    "{HELP_CALL_SELECT} WHERE h.booth_id = $1 AND h.answered_at IS NULL"
                )))
                .bind(booth.to_string())
                .fetch_optional(&self.pool)
                .await?;
                // Answered between the insert and this read: the caller sees it answered.
                match row {
                    Some(row) => Ok((help_call_of(row)?, created)),
                    None => Err(StoreError::Invalid("the help call was answered at once")),
                }
            }

            async fn select_open_help_calls(&self, centre: CentreId) -> Result<Vec<HelpCall>, StoreError> {
                let rows: Vec<HelpCallRow> = sqlx::query_as(sql(format!(
                    "{HELP_CALL_SELECT} WHERE h.centre_id = $1 AND h.answered_at IS NULL ORDER BY h.called_at, h.id"
                )))
                .bind(centre.to_string())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(help_call_of).collect()
            }

            async fn select_help_call(&self, id: HelpCallId) -> Result<Option<HelpCall>, StoreError> {
                let row: Option<HelpCallRow> = sqlx::query_as(sql(format!("{HELP_CALL_SELECT} WHERE h.id = $1")))
                    .bind(id.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(help_call_of).transpose()
            }

            async fn update_help_call_answered(
                &self,
                id: HelpCallId,
                guide: GuideId,
                at: i64,
            ) -> Result<HelpCall, StoreError> {
                let done = sqlx::query(
                    "UPDATE help_calls SET answered_at = $2, answered_by = $3 WHERE id = $1 AND answered_at IS NULL",
                )
                .bind(id.to_string())
                .bind(at)
                .bind(guide.to_string())
                .execute(&self.pool)
                .await?;
                let call = self.select_help_call(id).await?.ok_or(StoreError::NotFound("help call"))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Invalid("the help call is already answered"));
                }
                Ok(call)
            }
        }
    };
}

pub(super) use help_call_methods;
