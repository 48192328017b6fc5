//! Email over SMTP with `lettre`: a short text and the iCalendar invitation (or its update or
//! cancellation) as a `text/calendar; method=REQUEST|CANCEL` attachment.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{DeliveryError, ical, local_when};
use crate::store::{OutboxMessage, Payload};

/// An SMTP relay without TLS or authentication: a relay on the local network (or a development
/// catcher) that forwards mail onwards.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    pub fn new(host: &str, port: u16, from: &str) -> Result<SmtpMailer, String> {
        let from: Mailbox = from
            .parse()
            .map_err(|_| "mail_from is not an email address".to_owned())?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(Duration::from_secs(30)))
            .build();
        Ok(SmtpMailer { transport, from })
    }

    pub(crate) async fn send(&self, m: &OutboxMessage, now: i64) -> Result<(), DeliveryError> {
        let Payload::Invitation {
            booking_id,
            starts_at,
            ends_at,
            service,
            centre,
            attendee_name,
            sequence,
            cancelled,
        } = &m.payload
        else {
            return Err(DeliveryError::Build("not an email"));
        };
        let to: Mailbox = Mailbox::new(
            Some(attendee_name.clone()),
            m.recipient
                .parse()
                .map_err(|_| DeliveryError::Build("recipient address"))?,
        );
        let uid = format!("{booking_id}@narvaro");
        let summary = format!("Närvaro: {service}");
        let location = format!("{centre} (videomöte)");
        let organizer_name = self.from.name.clone().unwrap_or_else(|| "Närvaro".into());
        let organizer_email = self.from.email.to_string();
        let invitation = ical::Invitation {
            uid: &uid,
            stamp: now,
            starts_at: *starts_at,
            ends_at: *ends_at,
            summary: &summary,
            location: &location,
            organizer_name: &organizer_name,
            organizer_email: &organizer_email,
            attendee_name,
            attendee_email: &m.recipient,
            sequence: *sequence,
            cancelled: *cancelled,
        };
        let ics = ical::calendar(&invitation);
        let when = format!("{} – {}", local_when(*starts_at), local_when(*ends_at));
        let (subject, text) = match (*cancelled, *sequence) {
            (true, _) => (
                format!("Inställt: {summary}"),
                format!("Mötet är avbokat: {service}, {when}, med medborgaren i {centre}.\n"),
            ),
            (false, 0) => (
                summary.clone(),
                format!(
                    "Ett möte är bokat: {service}, {when}, med medborgaren i {centre}.\n\
                     Öppna mötet från Närvaros sida för handläggare.\n"
                ),
            ),
            (false, _) => (
                format!("Ny tid: {summary}"),
                format!(
                    "Mötet har fått en ny tid: {service}, {when}, med medborgaren i {centre}.\n\
                     Öppna mötet från Närvaros sida för handläggare.\n"
                ),
            ),
        };
        let calendar = ContentType::parse(&format!(
            "text/calendar; method={}; charset=utf-8",
            invitation.method()
        ))
        .map_err(|_| DeliveryError::Build("content type"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(text))
                    .singlepart(Attachment::new("invitation.ics".into()).body(ics, calendar)),
            )
            .map_err(|_| DeliveryError::Build("email"))?;
        self.transport.send(message).await.map(drop).map_err(|e| {
            // The reply text may quote the address; only the code is kept.
            match e.status() {
                Some(code) => DeliveryError::Rejected(format!("smtp {code}")),
                None if e.is_timeout() => DeliveryError::Timeout,
                None => DeliveryError::Unreachable,
            }
        })
    }
}
