//! The transactional outbox and its courier.
//!
//! A booking change writes the messages it causes (officers' and interpreters' calendar
//! invitations by email, the citizen's SMS confirmation and reminder; when the meeting is moved or
//! cancelled, the updated invitation or its cancellation and an SMS saying so) to the `outbox`
//! table in its own transaction; messages of the booking not yet delivered are withdrawn then,
//! since what replaces them says what holds now. The [`Courier`] later claims due messages,
//! delivers them and marks each delivered, or counts the failure and sets the next attempt with
//! exponential back-off. A provider that is down only delays messages: they stay in the table
//! until it answers.
//! Recipients are email addresses and phone numbers, so log lines name the message and booking,
//! never the recipient, and the stored error is a kind ("smtp 451", "http 503"), not a reply
//! text that could quote an address.

pub mod email;
pub mod ical;
pub mod sms;

use std::sync::Arc;

use crate::clock::Clock;
use crate::schedule::LocalTime;
use crate::store::{Channel, OutboxMessage, Payload, Store, StoreError};

pub use email::SmtpMailer;
pub use sms::{HttpSms, Sms, SmsProvider};

/// First retry after this many seconds; each further failure doubles it.
pub const BACKOFF_BASE_SECS: i64 = 30;
/// Retries never wait longer than this: a provider that comes back is used within the hour.
pub const BACKOFF_MAX_SECS: i64 = 3600;
/// A claimed message is not handed to another worker for this long; longer than any send's
/// timeout, so a message is only sent twice if a worker dies after sending and before marking.
pub const LEASE_SECS: i64 = 300;
/// Messages claimed per round.
const BATCH: i64 = 50;

/// Why a message was not delivered this time. The text is a kind, never a recipient.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("provider unreachable")]
    Unreachable,
    #[error("provider timed out")]
    Timeout,
    #[error("provider refused: {0}")]
    Rejected(String),
    #[error("{0} delivery is not configured")]
    NotConfigured(&'static str),
    #[error("message could not be built: {0}")]
    Build(&'static str),
}

/// Wait before the attempt after `failures` failed ones (1, 2, …): 30 s, 60 s, 120 s … 1 h.
pub fn backoff_secs(failures: i64) -> i64 {
    let doublings = (failures - 1).clamp(0, 20) as u32;
    BACKOFF_BASE_SECS
        .saturating_mul(1_i64 << doublings)
        .min(BACKOFF_MAX_SECS)
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub delivered: usize,
    pub failed: usize,
}

/// Delivers due outbox messages.
pub struct Courier {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    mailer: Option<SmtpMailer>,
    sms: Option<Arc<dyn SmsProvider>>,
}

impl Courier {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        mailer: Option<SmtpMailer>,
        sms: Option<Arc<dyn SmsProvider>>,
    ) -> Courier {
        Courier {
            store,
            clock,
            mailer,
            sms,
        }
    }

    /// Claims the messages due now and tries each once.
    pub async fn deliver_due(&self) -> Result<Round, StoreError> {
        let now = self.clock.now();
        let messages = self
            .store
            .claim_due_messages(now, now + LEASE_SECS, BATCH)
            .await?;
        let mut round = Round::default();
        for m in messages {
            match self.deliver(&m).await {
                Ok(()) => {
                    self.store.mark_delivered(m.id, self.clock.now()).await?;
                    tracing::debug!(message_id = %m.id, booking_id = ?m.booking_id, channel = m.channel.as_str(), "message delivered");
                    round.delivered += 1;
                }
                Err(e) => {
                    let failures = m.attempts + 1;
                    let next = now + backoff_secs(failures);
                    tracing::warn!(
                        message_id = %m.id,
                        booking_id = ?m.booking_id,
                        channel = m.channel.as_str(),
                        attempt = failures,
                        retry_in_secs = next - now,
                        error = %e,
                        "message not delivered; will retry"
                    );
                    self.store
                        .schedule_retry(m.id, next, &e.to_string())
                        .await?;
                    round.failed += 1;
                }
            }
        }
        Ok(round)
    }

    async fn deliver(&self, m: &OutboxMessage) -> Result<(), DeliveryError> {
        match m.channel {
            Channel::Email => {
                let mailer = self
                    .mailer
                    .as_ref()
                    .ok_or(DeliveryError::NotConfigured("email"))?;
                mailer.send(m, self.clock.now()).await
            }
            Channel::Sms => {
                let sms = self
                    .sms
                    .as_ref()
                    .ok_or(DeliveryError::NotConfigured("sms"))?;
                let text = sms_text(&m.payload).ok_or(DeliveryError::Build("not an SMS"))?;
                sms.send(Sms {
                    reference: m.id,
                    to: &m.recipient,
                    text: &text,
                })
                .await
            }
        }
    }
}

/// Runs the courier every `every` until the returned handle is aborted (when the
/// last `Booking` handle is dropped). The first round is one period after start.
pub(crate) fn spawn(
    courier: Arc<Courier>,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = courier.deliver_due().await {
                tracing::warn!(error = %e, "outbox round failed");
            }
        }
    })
}

/// "2026-06-15 kl. 10:00", Swedish local time.
pub(crate) fn local_when(unix: i64) -> String {
    let local = LocalTime::of(unix);
    let date = time::Date::from_julian_day((local.day + 2_440_588) as i32)
        .map(|d| d.to_string())
        .unwrap_or_default();
    format!(
        "{date} kl. {:02}:{:02}",
        local.minute / 60,
        local.minute % 60
    )
}

/// The citizen's SMS. Says where and when, nothing about the matter.
fn sms_text(payload: &Payload) -> Option<String> {
    match payload {
        Payload::Confirmation {
            starts_at, centre, ..
        } => Some(format!(
            "Du har en bokad tid på {centre} {}. Välkommen!",
            local_when(*starts_at)
        )),
        Payload::Reminder {
            starts_at, centre, ..
        } => Some(format!(
            "Påminnelse: ditt möte på {centre} börjar {}.",
            local_when(*starts_at)
        )),
        Payload::Moved {
            starts_at, centre, ..
        } => Some(format!(
            "Din bokade tid på {centre} är flyttad till {}.",
            local_when(*starts_at)
        )),
        Payload::Cancelled {
            starts_at, centre, ..
        } => Some(format!(
            "Din bokade tid på {centre} {} är avbokad.",
            local_when(*starts_at)
        )),
        Payload::Invitation { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff_secs(1), 30);
        assert_eq!(backoff_secs(2), 60);
        assert_eq!(backoff_secs(3), 120);
        assert_eq!(backoff_secs(7), 1920);
        assert_eq!(backoff_secs(8), 3600);
        assert_eq!(backoff_secs(1000), 3600);
    }

    #[test]
    fn local_time_is_swedish() {
        // 08:00 UTC in June is 10:00 in Sweden (summer time).
        assert_eq!(local_when(1_781_510_400), "2026-06-15 kl. 10:00");
    }
}
