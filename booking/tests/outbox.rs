//! The transactional outbox: a booking's invitations reach a real SMTP server (aiosmtpd, started
//! by the test) with a valid iCalendar attachment; moving the meeting updates them and cancelling
//! it cancels them, with the citizen told by SMS each time; with the SMS provider failing,
//! messages wait in the outbox with back-off and are delivered once it recovers, each once.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::StatusCode;
use booking::store::Channel;
use booking::{Booking, BookingConfig, Environment, ManualClock, demo};
use common::*;
use serde_json::{Value, json};

async fn open_with(config: BookingConfig) -> (Booking, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let booking = Booking::open_with_clock(&config, Environment::Development, clock.clone())
        .await
        .unwrap();
    (booking, clock)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// aiosmtpd with the saving handler in `smtp_sink.py`; killed on drop.
struct SmtpSink {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `None` (the test skips, saying so) only when python3 is absent; python3 without aiosmtpd is a
/// failure, since tests/run.sh installs it.
fn start_smtp_sink() -> Option<SmtpSink> {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("SKIPPED: python3 is not installed, so no SMTP server can run for this test");
        return None;
    }
    let check = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "python3 has no aiosmtpd: run tests/run.sh or `python3 -m pip install aiosmtpd`"
    );
    let dir = std::env::temp_dir().join(format!("narvaro-smtp-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg(port.to_string())
        .arg(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "ready", "the SMTP server did not start");
    Some(SmtpSink { child, port, dir })
}

fn received(dir: &Path) -> Vec<Value> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    // The sink numbers its files 1, 2, …: in the order it received them.
    files.sort_by_key(|p| {
        p.file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.parse::<u32>().ok())
    });
    files
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

/// An iCalendar component's properties: name with parameters, and value.
type Properties = Vec<(String, String)>;

/// A strict reading of an iCalendar object: every line ends in CRLF, folded lines are joined,
/// BEGIN/END nest and close; returns the VEVENT's properties (name with parameters, value) and
/// the VCALENDAR's.
fn parse_ical(text: &str) -> (Properties, Properties) {
    assert!(text.ends_with("\r\n"), "{text:?}");
    assert!(
        !text.replace("\r\n", "").contains(['\r', '\n']),
        "bare CR or LF in {text:?}"
    );
    let unfolded = text.replace("\r\n ", "").replace("\r\n\t", "");
    let mut stack: Vec<String> = Vec::new();
    let (mut calendar, mut event) = (Vec::new(), Vec::new());
    for line in unfolded.trim_end_matches("\r\n").split("\r\n") {
        let (name, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("no colon: {line}"));
        match name {
            "BEGIN" => stack.push(value.to_owned()),
            "END" => assert_eq!(
                stack.pop().as_deref(),
                Some(value),
                "unbalanced END:{value}"
            ),
            _ => match stack.last().map(String::as_str) {
                Some("VEVENT") => event.push((name.to_owned(), value.to_owned())),
                Some("VCALENDAR") => calendar.push((name.to_owned(), value.to_owned())),
                other => panic!("{name} outside a component: {other:?}"),
            },
        }
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
    (calendar, event)
}

fn prop<'a>(props: &'a [(String, String)], name: &str) -> &'a str {
    let found: Vec<_> = props
        .iter()
        .filter(|(n, _)| n == name || n.starts_with(&format!("{name};")))
        .collect();
    assert_eq!(found.len(), 1, "{name} in {props:?}");
    &found[0].1
}

async fn set_email(app: &axum::Router, admin: &str, uri: &str, email: &str) {
    let mut r = get(app, uri, Some(admin)).await.body;
    r["email"] = json!(email);
    let a = put(app, uri, Some(admin), Some(r)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(get(app, uri, Some(admin)).await.body["email"], email);
}

/// `config` sending mail to `sink`, as "Närvaro bokning".
fn with_mail(mut config: BookingConfig, sink: &SmtpSink) -> BookingConfig {
    config.smtp_host = Some("127.0.0.1".into());
    config.smtp_port = sink.port;
    config.mail_from = "Närvaro bokning <bokning@narvaro.example>".into();
    config.outbox_poll_secs = 3600;
    config
}

/// Gives Anna and the Arabic interpreter email addresses (Sara keeps none); returns Anna's
/// session.
async fn give_addresses(app: &axum::Router) -> String {
    let anna = login(app, demo::OFFICER_ANNA).await;
    let officer_uri = format!("/api/v1/officers/{}", demo::OFFICER_ANNA);
    set_email(app, &anna, &officer_uri, "anna.lindqvist@fk.example").await;
    let interp_uri = format!("/api/v1/interpreters/{}", demo::INTERPRETER_ARABIC);
    set_email(app, &anna, &interp_uri, "leila@tolk.example").await;
    anna
}

/// Officers and the interpreter of a booking get one invitation each, with the meeting's times in
/// a valid iCalendar REQUEST; the outbox rows are then delivered and not sent again.
async fn a_booking_sends_calendar_invitations_over_smtp(db: &TestDb) {
    let Some(sink) = start_smtp_sink() else {
        return;
    };
    let (booking, _clock) = open_with(with_mail(db.config.clone(), &sink)).await;
    let app = booking.router();
    let anna = give_addresses(&app).await;
    let officer_uri = format!("/api/v1/officers/{}", demo::OFFICER_ANNA);
    // A bad address is refused with its own code and changes nothing.
    let mut bad = get(&app, &officer_uri, Some(&anna)).await.body;
    bad["email"] = json!("anna@fk.example\r\nBcc: x@evil.example");
    let a = put(&app, &officer_uri, Some(&anna), Some(bad)).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_email")
    );

    let guide = login(&app, demo::GUIDE).await;
    let body = json!({
        "service_id": demo::SERVICE_FORALDRAPENNING, "officer_id": demo::OFFICER_ANNA,
        "booth_id": demo::BOOTH_1, "starts_at": at(3600), "duration_minutes": 45,
        "citizen_personnummer": demo::CITIZEN_1_PERSONNUMMER,
        "additional_officers": [{"officer_id": demo::OFFICER_SARA, "service_id": demo::SERVICE_DEKLARATION}],
        "interpreter_id": demo::INTERPRETER_ARABIC, "language": "ar",
    });
    let a = post(&app, "/api/v1/bookings", Some(&guide), Some(body)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let booking_id = a.body["booking_id"].as_str().unwrap().to_owned();

    // Written with the booking: Anna and the interpreter have addresses, Sara has none.
    let queued = booking.store().outbox_entries().await.unwrap();
    assert_eq!(queued.len(), 2, "{queued:?}");
    assert!(
        queued
            .iter()
            .all(|m| m.channel == Channel::Email && !m.delivered)
    );
    assert!(received(&sink.dir).is_empty());

    let round = booking.deliver_due_messages().await.unwrap();
    assert_eq!((round.delivered, round.failed), (2, 0));
    let mails = received(&sink.dir);
    assert_eq!(mails.len(), 2);
    let mut to: Vec<&str> = mails
        .iter()
        .map(|m| m["rcpt_tos"][0].as_str().unwrap())
        .collect();
    to.sort();
    assert_eq!(to, ["anna.lindqvist@fk.example", "leila@tolk.example"]);
    for mail in &mails {
        assert_eq!(mail["mail_from"], "bokning@narvaro.example");
        let (method, calendar, event) = calendar_of(mail);
        assert_eq!(method, "request");
        assert_eq!(prop(&calendar, "METHOD"), "REQUEST");
        assert_eq!(prop(&calendar, "VERSION"), "2.0");
        assert_eq!(prop(&event, "UID"), format!("{booking_id}@narvaro"));
        assert_eq!(prop(&event, "DTSTART"), ical_time(T0 + 3600));
        assert_eq!(prop(&event, "DTEND"), ical_time(T0 + 3600 + 45 * 60));
        assert_eq!(prop(&event, "DTSTAMP"), ical_time(T0));
        assert_eq!(prop(&event, "SEQUENCE"), "0");
        assert!(
            prop(&event, "SUMMARY").contains("Föräldrapenning"),
            "{event:?}"
        );
        assert_eq!(prop(&event, "ORGANIZER"), "mailto:bokning@narvaro.example");
        let rcpt = mail["rcpt_tos"][0].as_str().unwrap();
        assert_eq!(prop(&event, "ATTENDEE"), format!("mailto:{rcpt}"));
    }
    // Delivered once: a second round sends nothing.
    assert_eq!(booking.deliver_due_messages().await.unwrap().delivered, 0);
    assert_eq!(received(&sink.dir).len(), 2);
    let after = booking.store().outbox_entries().await.unwrap();
    assert!(
        after.iter().all(|m| m.delivered && m.attempts == 1),
        "{after:?}"
    );
}
on_both_databases!(a_booking_sends_calendar_invitations_over_smtp);

/// An SMS endpoint that answers 503 while `down` is set and 200 after; it records every message
/// it accepted.
#[derive(Clone, Default)]
struct SmsGateway {
    down: Arc<std::sync::atomic::AtomicBool>,
    refused: Arc<AtomicUsize>,
    accepted: Arc<std::sync::Mutex<Vec<Value>>>,
}

async fn start_sms_gateway(gateway: SmsGateway) -> u16 {
    use axum::routing::post as route_post;
    let app = axum::Router::new()
        .route(
            "/sms",
            route_post(
                |axum::extract::State(g): axum::extract::State<SmsGateway>,
                 axum::Json(body): axum::Json<Value>| async move {
                    if g.down.load(Ordering::SeqCst) {
                        g.refused.fetch_add(1, Ordering::SeqCst);
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        g.accepted.lock().unwrap().push(body);
                        StatusCode::OK
                    }
                },
            ),
        )
        .with_state(gateway);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

async fn sms_wait_in_the_outbox_while_the_provider_is_down(db: &TestDb) {
    let gateway = SmsGateway::default();
    gateway.down.store(true, Ordering::SeqCst);
    let port = start_sms_gateway(gateway.clone()).await;
    let mut config = db.config.clone();
    config.sms_url = Some(format!("http://127.0.0.1:{port}/sms"));
    config.reminder_before_secs = 3600;
    config.outbox_poll_secs = 3600;
    let (booking, clock) = open_with(config).await;
    let app = booking.router();
    let guide = login(&app, demo::GUIDE).await;
    let mut body = json!({
        "service_id": demo::SERVICE_FORALDRAPENNING, "officer_id": demo::OFFICER_ANNA,
        "booth_id": demo::BOOTH_1, "starts_at": at(2 * 86_400), "duration_minutes": 30,
        "citizen_personnummer": demo::CITIZEN_1_PERSONNUMMER,
        "citizen_phone": "0701234567",
    });
    let before = booking.store().table_counts().await.unwrap();
    let a = post(&app, "/api/v1/bookings", Some(&guide), Some(body.clone())).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_phone")
    );
    assert_eq!(booking.store().table_counts().await.unwrap(), before);
    body["citizen_phone"] = json!("+46701234567");
    let a = post(&app, "/api/v1/bookings", Some(&guide), Some(body)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);

    // A confirmation due now and a reminder due an hour before the meeting.
    let queued = booking.store().outbox_entries().await.unwrap();
    assert_eq!(queued.len(), 2, "{queued:?}");
    assert!(queued.iter().all(|m| m.channel == Channel::Sms));
    let reminder_due = T0 + 2 * 86_400 - 3600;
    assert_eq!(queued.iter().filter(|m| m.due_at == T0).count(), 1);
    assert_eq!(
        queued.iter().filter(|m| m.due_at == reminder_due).count(),
        1
    );

    // The provider is down: the confirmation is refused and waits 30 s, then 60 s.
    let round = booking.deliver_due_messages().await.unwrap();
    assert_eq!((round.delivered, round.failed), (0, 1));
    assert_eq!(gateway.refused.load(Ordering::SeqCst), 1);
    // Not due again before its back-off has passed.
    clock.advance(29);
    assert_eq!(
        booking.deliver_due_messages().await.unwrap(),
        Default::default()
    );
    clock.advance(1);
    let round = booking.deliver_due_messages().await.unwrap();
    assert_eq!((round.delivered, round.failed), (0, 1));
    let waiting = booking.store().outbox_entries().await.unwrap();
    let confirmation = waiting.iter().find(|m| m.attempts == 2).unwrap();
    assert!(!confirmation.delivered);
    assert_eq!(confirmation.due_at, T0 + 30 + 60);
    assert_eq!(
        confirmation.last_error.as_deref(),
        Some("provider refused: http 503")
    );
    assert_eq!(gateway.refused.load(Ordering::SeqCst), 2);
    assert!(gateway.accepted.lock().unwrap().is_empty());

    // It recovers: the confirmation goes at its next attempt, the reminder when due; each once.
    gateway.down.store(false, Ordering::SeqCst);
    clock.advance(60);
    assert_eq!(booking.deliver_due_messages().await.unwrap().delivered, 1);
    assert_eq!(booking.deliver_due_messages().await.unwrap().delivered, 0);
    clock.set(reminder_due);
    assert_eq!(booking.deliver_due_messages().await.unwrap().delivered, 1);
    clock.advance(86_400);
    assert_eq!(booking.deliver_due_messages().await.unwrap().delivered, 0);

    let accepted = gateway.accepted.lock().unwrap().clone();
    assert_eq!(accepted.len(), 2, "{accepted:?}");
    let mut refs: Vec<&str> = accepted
        .iter()
        .map(|m| m["reference"].as_str().unwrap())
        .collect();
    refs.sort();
    refs.dedup();
    assert_eq!(refs.len(), 2, "a message was sent twice: {accepted:?}");
    assert!(accepted.iter().all(|m| m["to"] == "+46701234567"));
    assert!(
        accepted[0]["text"]
            .as_str()
            .unwrap()
            .contains("2026-06-17 kl. 10:00"),
        "{accepted:?}"
    );
    assert!(
        accepted[1]["text"]
            .as_str()
            .unwrap()
            .starts_with("Påminnelse"),
        "{accepted:?}"
    );
    let done = booking.store().outbox_entries().await.unwrap();
    assert!(done.iter().all(|m| m.delivered), "{done:?}");
}
on_both_databases!(sms_wait_in_the_outbox_while_the_provider_is_down);

/// The calendar part of one received mail: its method parameter (lower case) and its VEVENT.
fn calendar_of(mail: &Value) -> (String, Properties, Properties) {
    let calendars = mail["calendars"].as_array().unwrap();
    assert_eq!(calendars.len(), 1, "{mail}");
    let content_type = calendars[0]["content_type"]
        .as_str()
        .unwrap()
        .to_ascii_lowercase()
        .replace('"', "");
    assert!(content_type.starts_with("text/calendar"), "{content_type}");
    let method = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("method=").map(str::to_owned))
        .unwrap_or_default();
    let (calendar, event) = parse_ical(calendars[0]["text"].as_str().unwrap());
    (method, calendar, event)
}

fn ical_time(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap()
}

/// Moving a booking sends each invited officer and interpreter an update of the same calendar
/// event (same UID, higher SEQUENCE, new times) and the citizen an SMS, and moves the reminder;
/// a new booth at the same time tells nobody anything; cancelling sends `METHOD:CANCEL` and an
/// SMS, and withdraws the reminder.
async fn moving_and_cancelling_a_booking_updates_every_invitation_and_tells_the_citizen(
    db: &TestDb,
) {
    let Some(sink) = start_smtp_sink() else {
        return;
    };
    let gateway = SmsGateway::default();
    let sms_port = start_sms_gateway(gateway.clone()).await;
    let mut config = with_mail(db.config.clone(), &sink);
    config.sms_url = Some(format!("http://127.0.0.1:{sms_port}/sms"));
    config.reminder_before_secs = 3600;
    let (booking, clock) = open_with(config).await;
    let app = booking.router();
    give_addresses(&app).await;
    let guide = login(&app, demo::GUIDE).await;
    let body = json!({
        "service_id": demo::SERVICE_FORALDRAPENNING, "officer_id": demo::OFFICER_ANNA,
        "booth_id": demo::BOOTH_1, "starts_at": at(2 * 86_400), "duration_minutes": 45,
        "citizen_personnummer": demo::CITIZEN_1_PERSONNUMMER, "citizen_phone": "+46701234567",
        "interpreter_id": demo::INTERPRETER_ARABIC, "language": "ar",
    });
    let a = post(&app, "/api/v1/bookings", Some(&guide), Some(body)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let id = a.body["booking_id"].as_str().unwrap().to_owned();
    let uid = format!("{id}@narvaro");
    // Two invitations and the confirmation now; the reminder waits.
    assert_eq!(booking.deliver_due_messages().await.unwrap().delivered, 3);
    assert_eq!(received(&sink.dir).len(), 2);
    let pending = |entries: Vec<booking::store::OutboxEntry>| -> Vec<(Channel, i64)> {
        let mut p: Vec<_> = entries
            .iter()
            .filter(|m| !m.delivered)
            .map(|m| (m.channel, m.due_at))
            .collect();
        p.sort_by_key(|(c, due)| (c.as_str(), *due));
        p
    };
    assert_eq!(
        pending(booking.store().outbox_entries().await.unwrap()),
        [(Channel::Sms, T0 + 2 * 86_400 - 3600)]
    );

    // Moved a day later and shortened.
    clock.advance(600);
    let moved_at = T0 + 600;
    let a = post(
        &app,
        &format!("/api/v1/bookings/{id}/reschedule"),
        Some(&guide),
        Some(json!({"starts_at": at(3 * 86_400), "duration_minutes": 30})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    // The old reminder is withdrawn; a new one is due an hour before the new time.
    assert_eq!(
        pending(booking.store().outbox_entries().await.unwrap()),
        [
            (Channel::Email, moved_at),
            (Channel::Email, moved_at),
            (Channel::Sms, moved_at),
            (Channel::Sms, T0 + 3 * 86_400 - 3600)
        ]
    );
    assert_eq!(booking.deliver_due_messages().await.unwrap().delivered, 3);
    let mails = received(&sink.dir);
    assert_eq!(mails.len(), 4);
    let mut sequences = Vec::new();
    for mail in &mails[2..] {
        let (method, calendar, event) = calendar_of(mail);
        assert_eq!(
            (method.as_str(), prop(&calendar, "METHOD")),
            ("request", "REQUEST")
        );
        assert_eq!(prop(&event, "UID"), uid);
        assert_eq!(prop(&event, "DTSTART"), ical_time(T0 + 3 * 86_400));
        assert_eq!(prop(&event, "DTEND"), ical_time(T0 + 3 * 86_400 + 30 * 60));
        assert_eq!(prop(&event, "STATUS"), "CONFIRMED");
        assert!(
            mail["subject"].as_str().unwrap().starts_with("Ny tid: "),
            "{mail}"
        );
        sequences.push(prop(&event, "SEQUENCE").parse::<i64>().unwrap());
    }
    for mail in &mails[..2] {
        assert_eq!(prop(&calendar_of(mail).2, "SEQUENCE"), "0");
    }
    assert!(sequences.iter().all(|s| *s > 0), "{sequences:?}");
    let mut to: Vec<&str> = mails[2..]
        .iter()
        .map(|m| m["rcpt_tos"][0].as_str().unwrap())
        .collect();
    to.sort();
    assert_eq!(to, ["anna.lindqvist@fk.example", "leila@tolk.example"]);
    {
        let accepted = gateway.accepted.lock().unwrap();
        assert_eq!(accepted.len(), 2, "{accepted:?}");
        assert_eq!(accepted[1]["to"], "+46701234567");
        assert_eq!(
            accepted[1]["text"],
            "Din bokade tid på Statligt servicekontor Ljusdal är flyttad till 2026-06-18 kl. 10:00."
        );
    }

    // Another booth at the same time: nothing anyone was told has changed.
    let before = booking.store().outbox_entries().await.unwrap().len();
    let a = post(
        &app,
        &format!("/api/v1/bookings/{id}/reschedule"),
        Some(&guide),
        Some(
            json!({"starts_at": at(3 * 86_400), "duration_minutes": 30, "booth_id": demo::BOOTH_2}),
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(
        booking.store().outbox_entries().await.unwrap().len(),
        before
    );

    // Cancelled: the calendars remove the event, the citizen is told, the reminder never goes.
    let a = post(
        &app,
        &format!("/api/v1/bookings/{id}/cancel"),
        Some(&guide),
        Some(json!({"reason": "citizen_request"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(booking.deliver_due_messages().await.unwrap().delivered, 3);
    clock.set(T0 + 3 * 86_400);
    assert_eq!(
        booking.deliver_due_messages().await.unwrap(),
        Default::default()
    );
    assert!(pending(booking.store().outbox_entries().await.unwrap()).is_empty());
    let mails = received(&sink.dir);
    assert_eq!(mails.len(), 6);
    for mail in &mails[4..] {
        let (method, calendar, event) = calendar_of(mail);
        assert_eq!(
            (method.as_str(), prop(&calendar, "METHOD")),
            ("cancel", "CANCEL")
        );
        assert_eq!(prop(&event, "UID"), uid);
        assert_eq!(prop(&event, "STATUS"), "CANCELLED");
        assert_eq!(prop(&event, "DTSTART"), ical_time(T0 + 3 * 86_400));
        let sequence: i64 = prop(&event, "SEQUENCE").parse().unwrap();
        assert!(
            sequences.iter().all(|s| sequence > *s),
            "{sequence} after {sequences:?}"
        );
        assert!(
            mail["subject"].as_str().unwrap().starts_with("Inställt: "),
            "{mail}"
        );
    }
    let accepted = gateway.accepted.lock().unwrap().clone();
    assert_eq!(accepted.len(), 3, "{accepted:?}");
    assert_eq!(
        accepted[2]["text"],
        "Din bokade tid på Statligt servicekontor Ljusdal 2026-06-18 kl. 10:00 är avbokad."
    );
}
on_both_databases!(moving_and_cancelling_a_booking_updates_every_invitation_and_tells_the_citizen);
