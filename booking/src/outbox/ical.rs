//! iCalendar (RFC 5545, iTIP RFC 5546) invitations: one VEVENT with `METHOD:REQUEST`, so a
//! calendar client offers to put the meeting in the officer's or interpreter's calendar; a moved
//! meeting sends the same UID with a higher SEQUENCE, which replaces the event, and a cancelled
//! one `METHOD:CANCEL`, which removes it. Written by hand: the format is a few lines, and what
//! matters (CRLF, folding at 75 octets, escaping) is tested here.

use time::OffsetDateTime;
use time::macros::format_description;

/// One meeting invitation.
#[derive(Debug, Clone)]
pub struct Invitation<'a> {
    /// Stable across updates of the same meeting, so a later REQUEST replaces the event.
    pub uid: &'a str,
    /// When the invitation was written (unix seconds).
    pub stamp: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub summary: &'a str,
    pub location: &'a str,
    pub organizer_name: &'a str,
    pub organizer_email: &'a str,
    pub attendee_name: &'a str,
    pub attendee_email: &'a str,
    /// Higher for each update of the same meeting.
    pub sequence: i64,
    pub cancelled: bool,
}

impl Invitation<'_> {
    /// The iTIP method, also the `method` parameter of the part's Content-Type.
    pub fn method(&self) -> &'static str {
        if self.cancelled { "CANCEL" } else { "REQUEST" }
    }
}

/// The `text/calendar` body, CRLF line ends.
pub fn calendar(inv: &Invitation<'_>) -> String {
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Narvaro//Booking//SV".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        format!("METHOD:{}", inv.method()),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}", text(inv.uid)),
        format!("DTSTAMP:{}", utc(inv.stamp)),
        format!("DTSTART:{}", utc(inv.starts_at)),
        format!("DTEND:{}", utc(inv.ends_at)),
        format!("SEQUENCE:{}", inv.sequence),
        format!(
            "STATUS:{}",
            if inv.cancelled {
                "CANCELLED"
            } else {
                "CONFIRMED"
            }
        ),
        format!("SUMMARY:{}", text(inv.summary)),
        format!("LOCATION:{}", text(inv.location)),
        format!(
            "ORGANIZER;CN={}:mailto:{}",
            param(inv.organizer_name),
            inv.organizer_email
        ),
        format!(
            "ATTENDEE;CN={};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:{}",
            param(inv.attendee_name),
            inv.attendee_email
        ),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    let mut out = String::new();
    for line in &lines {
        fold(line, &mut out);
    }
    out
}

/// `20260615T080000Z`. Times are written in UTC so no VTIMEZONE block is needed.
fn utc(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .ok()
        })
        // Booking times are validated to lie in this millennium; an unrepresentable one is a bug
        // upstream, and the epoch is a visible, harmless value for it.
        .unwrap_or_else(|| "19700101T000000Z".to_owned())
}

/// TEXT value escaping (RFC 5545 3.3.11).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value: quoted, since names may hold `,` `;` `:`; a `"` cannot be escaped inside
/// quotes, so it is dropped.
fn param(s: &str) -> String {
    let inner: String = s.chars().filter(|c| *c != '"' && !c.is_control()).collect();
    format!("\"{inner}\"")
}

/// Folds a content line at 75 octets (continuation lines start with a space), never inside a
/// UTF-8 character, and ends every line with CRLF.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation(summary: &str) -> Invitation<'_> {
        Invitation {
            uid: "b1@narvaro",
            stamp: 1_781_510_400,
            starts_at: 1_781_514_000,
            ends_at: 1_781_515_800,
            summary,
            location: "Ljusdal, servicecenter",
            organizer_name: "Närvaro",
            organizer_email: "bokning@example.org",
            attendee_name: "Anna; \"A\"",
            attendee_email: "anna@example.org",
            sequence: 0,
            cancelled: false,
        }
    }

    fn sample(summary: &str) -> String {
        calendar(&invitation(summary))
    }

    #[test]
    fn lines_end_in_crlf_and_fold_within_75_octets() {
        let ics = sample(&"Möte om sjukpenning, ".repeat(10));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(!ics.replace("\r\n", "").contains('\n'));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{line:?} is {} octets", line.len());
        }
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("SUMMARY:{}", "Möte om sjukpenning\\, ".repeat(10))));
    }

    #[test]
    fn times_are_utc_and_names_are_quoted() {
        let ics = sample("Möte");
        assert!(ics.contains("DTSTART:20260615T090000Z\r\n"), "{ics}");
        assert!(ics.contains("DTEND:20260615T093000Z\r\n"));
        assert!(ics.contains("LOCATION:Ljusdal\\, servicecenter\r\n"));
        let unfolded = ics.replace("\r\n ", "");
        assert!(
            unfolded.contains("ATTENDEE;CN=\"Anna; A\";ROLE="),
            "{unfolded}"
        );
        assert!(unfolded.contains(":mailto:anna@example.org\r\n"));
    }

    #[test]
    fn an_update_keeps_the_uid_and_a_cancellation_says_so() {
        let moved = calendar(&Invitation {
            sequence: 3,
            ..invitation("Möte")
        });
        assert!(moved.contains("METHOD:REQUEST\r\n"));
        assert!(moved.contains("UID:b1@narvaro\r\n"));
        assert!(moved.contains("SEQUENCE:3\r\n"));
        assert!(moved.contains("STATUS:CONFIRMED\r\n"));
        let cancelled = calendar(&Invitation {
            sequence: 4,
            cancelled: true,
            ..invitation("Möte")
        });
        assert!(cancelled.contains("METHOD:CANCEL\r\n"));
        assert!(cancelled.contains("UID:b1@narvaro\r\n"));
        assert!(cancelled.contains("SEQUENCE:4\r\n"));
        assert!(cancelled.contains("STATUS:CANCELLED\r\n"));
        assert!(!cancelled.contains("CONFIRMED"));
    }
}
