//! The follow-up dashboard, the CSV and the API show the same figures, and those are what this
//! test works out for itself from the meetings it seeds (issue 7, must-show 6).
//!
//! Seeded through booking's real API, on a fresh SQLite file and a manual clock: meetings at two
//! centres (Ljusdal, the demo's, and Hudiksvall, made here) for two agencies (Försäkringskassan
//! and Skatteverket), held with known waits, outcomes and survey answers, no-shows, a
//! cancellation, and feedback of known kinds and categories. The expected figures are computed
//! below from the seed table with the test's own arithmetic, never by asking booking's code.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use booking::demo;
use booking::{Booking, BookingConfig, Environment, ManualClock};
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

/// Monday 2026-06-15, 10:00 in Sweden.
const T0: i64 = 1_781_510_400;
const DAY: &str = "2026-06-15";

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Answer {
    status: StatusCode,
    content_type: String,
    text: String,
    json: Value,
}

/// A signed-in GET, the dashboard's and the figures' only kind of request.
async fn get(app: &Router, uri: &str, cookie: &str) -> Answer {
    call(app, "GET", uri, Some(cookie), None).await
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    cookie: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
        let mut cookies = axum::http::HeaderMap::new();
        cookies.insert(header::COOKIE, c.parse().unwrap());
        if let Some(credential) = booking::csrf::credential(&cookies) {
            req = req.header(
                booking::csrf::CSRF_HEADER,
                booking::csrf::token_for(credential),
            );
        }
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text =
        String::from_utf8(to_bytes(res.into_body(), 1 << 22).await.unwrap().to_vec()).unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        content_type,
        text,
        json,
    }
}

async fn ok(app: &Router, method: &str, uri: &str, cookie: &str, body: Option<Value>) -> Value {
    let a = call(app, method, uri, Some(cookie), body).await;
    assert!(
        a.status.is_success(),
        "{method} {uri}: {} {}",
        a.status,
        a.text
    );
    a.json
}

async fn login(app: &Router, person: impl ToString) -> String {
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/dev-eid/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"person_id": person.to_string()}).to_string(),
        ))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let set = res
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    set.split(';').next().unwrap().to_owned()
}

fn at(offset_minutes: i64) -> String {
    booking::schedule::format_rfc3339(T0 + offset_minutes * 60)
}

#[derive(Clone, Copy, PartialEq)]
enum Centre {
    Ljusdal,
    Hudiksvall,
}

#[derive(Clone, Copy)]
enum Fate {
    /// Waited this many seconds from check-in to start; the outcome; the survey, if answered.
    Held(i64, &'static str, Option<(i64, bool)>),
    NoShow,
    Cancelled,
}

/// One seeded meeting.
struct Seed {
    centre: Centre,
    officer: booking::ids::OfficerId,
    service: booking::ids::ServiceId,
    minutes: i64,
    citizen: (booking::ids::CitizenId, &'static str),
    fate: Fate,
}

fn agency_of(service: booking::ids::ServiceId) -> booking::ids::AgencyId {
    if service == demo::SERVICE_DEKLARATION {
        demo::AGENCY_SKATTEVERKET
    } else {
        demo::AGENCY_FORSAKRINGSKASSAN
    }
}

/// A feedback: centre, agency, the index of the seeded meeting it is about, kind, category.
type FeedbackSeed = (
    Centre,
    Option<booking::ids::AgencyId>,
    Option<usize>,
    &'static str,
    &'static str,
);

/// A look at the figures: what, whose cookie, the extra query, and the centre, agency and service
/// the figures are then of.
type Case<'a> = (
    &'a str,
    &'a str,
    String,
    Option<Centre>,
    Option<booking::ids::AgencyId>,
    Option<booking::ids::ServiceId>,
);

/// The figures this test expects, by its own counting.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    bookings: i64,
    meetings: i64,
    no_shows: i64,
    cancelled: i64,
    resolved: i64,
    follow_up: i64,
    referred: i64,
    share_resolved: Option<f64>,
    waits: Vec<i64>,
    mean_wait: Option<f64>,
    median_wait: Option<f64>,
    p90_wait: Option<f64>,
    answers: [i64; 5],
    survey_answers: i64,
    mean_satisfaction: Option<f64>,
    share_got_help: Option<f64>,
    complaints: i64,
    suggestions: i64,
    praise: i64,
    by_category: Vec<(String, String, i64)>,
}

fn expected(
    seeds: &[Seed],
    feedback: &[FeedbackSeed],
    centre: Option<Centre>,
    agency: Option<booking::ids::AgencyId>,
    service: Option<booking::ids::ServiceId>,
) -> Expected {
    let mut e = Expected::default();
    let mut satisfaction_sum = 0;
    let mut helped = 0;
    let chosen = |s: &Seed| {
        centre.is_none_or(|c| c == s.centre)
            && agency.is_none_or(|a| a == agency_of(s.service))
            && service.is_none_or(|v| v == s.service)
    };
    for s in seeds.iter().filter(|s| chosen(s)) {
        e.bookings += 1;
        match s.fate {
            Fate::Held(wait, outcome, survey) => {
                e.meetings += 1;
                e.waits.push(wait);
                match outcome {
                    "resolved" => e.resolved += 1,
                    "follow_up" => e.follow_up += 1,
                    _ => e.referred += 1,
                }
                if let Some((score, got_help)) = survey {
                    e.answers[(score - 1) as usize] += 1;
                    e.survey_answers += 1;
                    satisfaction_sum += score;
                    helped += i64::from(got_help);
                }
            }
            Fate::NoShow => e.no_shows += 1,
            Fate::Cancelled => e.cancelled += 1,
        }
    }
    let with_outcome = e.resolved + e.follow_up + e.referred;
    e.share_resolved = (with_outcome > 0).then(|| e.resolved as f64 / with_outcome as f64);
    e.waits.sort();
    let n = e.waits.len();
    if n > 0 {
        e.mean_wait = Some(e.waits.iter().sum::<i64>() as f64 / n as f64);
        e.median_wait = Some(if n % 2 == 1 {
            e.waits[n / 2] as f64
        } else {
            (e.waits[n / 2 - 1] + e.waits[n / 2]) as f64 / 2.0
        });
        // Nearest rank: the smallest wait with at least 90 % of the waits at or below it.
        let rank = (1..=n).find(|r| *r * 10 >= n * 9).unwrap();
        e.p90_wait = Some(e.waits[rank - 1] as f64);
    }
    if e.survey_answers > 0 {
        e.mean_satisfaction = Some(satisfaction_sum as f64 / e.survey_answers as f64);
        e.share_got_help = Some(helped as f64 / e.survey_answers as f64);
    }
    let mut cats: std::collections::BTreeMap<(String, String), i64> = Default::default();
    for (c, a, about, kind, category) in feedback {
        let about_service = about.map(|i| seeds[i].service);
        let counted = centre.is_none_or(|x| x == *c)
            && agency.is_none_or(|x| *a == Some(x))
            && service.is_none_or(|x| about_service == Some(x));
        if !counted {
            continue;
        }
        match *kind {
            "complaint" => e.complaints += 1,
            "suggestion" => e.suggestions += 1,
            _ => e.praise += 1,
        }
        *cats
            .entry((kind.to_string(), category.to_string()))
            .or_default() += 1;
    }
    e.by_category = cats.into_iter().map(|((k, c), n)| (k, c, n)).collect();
    e
}

fn close(a: Option<f64>, b: Option<f64>, what: &str) {
    match (a, b) {
        (None, None) => {}
        (Some(x), Some(y)) => assert!((x - y).abs() < 1e-9, "{what}: {x} != {y}"),
        _ => panic!("{what}: {a:?} != {b:?}"),
    }
}

fn check_api(e: &Expected, v: &Value, what: &str) {
    let int = |f: &str| {
        v[f].as_i64()
            .unwrap_or_else(|| panic!("{what}: {f} in {v}"))
    };
    for (field, want) in [
        ("bookings", e.bookings),
        ("meetings", e.meetings),
        ("no_shows", e.no_shows),
        ("cancelled", e.cancelled),
        ("resolved", e.resolved),
        ("follow_up", e.follow_up),
        ("referred", e.referred),
        ("waits_measured", e.waits.len() as i64),
        ("survey_answers", e.survey_answers),
        ("complaints", e.complaints),
        ("suggestions", e.suggestions),
        ("praise", e.praise),
        ("calls_reported", 0),
    ] {
        assert_eq!(int(field), want, "{what}: {field}");
    }
    for (field, want) in [
        ("share_resolved", e.share_resolved),
        ("mean_wait_seconds", e.mean_wait),
        ("median_wait_seconds", e.median_wait),
        ("p90_wait_seconds", e.p90_wait),
        ("mean_satisfaction", e.mean_satisfaction),
        ("share_got_help", e.share_got_help),
    ] {
        close(v[field].as_f64(), want, &format!("{what}: {field}"));
    }
    assert_eq!(v["satisfaction_counts"], json!(e.answers), "{what}");
    let cats: Vec<(String, String, i64)> = v["feedback_by_category"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["category"].as_str().unwrap().to_owned(),
                c["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(cats, e.by_category, "{what}");
}

/// The `<data value>`s of the table with this id, in order.
fn table_values(html: &str, id: &str) -> Vec<String> {
    let start = html
        .find(&format!("<table class=\"figures\" id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id}"));
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    table
        .split("<data value=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}

fn num(s: &str) -> Option<f64> {
    (!s.is_empty()).then(|| s.parse().unwrap())
}

fn check_page(e: &Expected, html: &str, what: &str) {
    let ints = |id: &str| -> Vec<i64> {
        table_values(html, id)
            .iter()
            .map(|v| v.parse().unwrap())
            .collect()
    };
    assert_eq!(
        ints("t-meetings"),
        vec![e.bookings, e.meetings, e.no_shows, e.cancelled],
        "{what}"
    );
    let outcomes = table_values(html, "t-outcomes");
    assert_eq!(
        outcomes[..3]
            .iter()
            .map(|v| v.parse::<i64>().unwrap())
            .collect::<Vec<_>>(),
        vec![e.resolved, e.follow_up, e.referred],
        "{what}"
    );
    close(
        num(&outcomes[3]),
        e.share_resolved,
        &format!("{what}: share resolved"),
    );
    let waits = table_values(html, "t-waits");
    assert_eq!(waits[0], e.waits.len().to_string(), "{what}");
    close(num(&waits[1]), e.median_wait, &format!("{what}: median"));
    close(num(&waits[2]), e.p90_wait, &format!("{what}: p90"));
    close(num(&waits[3]), e.mean_wait, &format!("{what}: mean wait"));
    let sat = table_values(html, "t-satisfaction");
    assert_eq!(sat[0], e.survey_answers.to_string(), "{what}");
    close(
        num(&sat[1]),
        e.mean_satisfaction,
        &format!("{what}: satisfaction"),
    );
    close(num(&sat[2]), e.share_got_help, &format!("{what}: got help"));
    assert_eq!(ints("t-answers"), e.answers.to_vec(), "{what}");
    assert_eq!(
        ints("t-feedback"),
        vec![e.complaints, e.suggestions, e.praise],
        "{what}"
    );
    assert_eq!(
        ints("t-categories"),
        e.by_category.iter().map(|c| c.2).collect::<Vec<_>>(),
        "{what}"
    );
    // No call reported its quality: the page says so rather than showing numbers.
    assert!(
        html.contains("id=\"quality-none\""),
        "{what}: call quality has no data"
    );
    // The charts are drawn here, as accessible SVG: no script anywhere on the page.
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 3, "{what}");
    assert_eq!(html.matches("role=\"img\"").count(), 3, "{what}");
    assert!(
        !html.contains("<script"),
        "{what}: the dashboard runs no script"
    );
}

/// RFC 4180 as the CSV writes it (quoted fields may hold commas and doubled quotes).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    assert!(text.ends_with("\r\n"), "CRLF line ends");
    text.split_terminator("\r\n")
        .map(|line| {
            let mut fields = Vec::new();
            let mut field = String::new();
            let mut quoted = false;
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                match (c, quoted) {
                    ('"', true) if chars.peek() == Some(&'"') => {
                        field.push('"');
                        chars.next();
                    }
                    ('"', _) => quoted = !quoted,
                    (',', false) => fields.push(std::mem::take(&mut field)),
                    (c, _) => field.push(c),
                }
            }
            fields.push(field);
            fields
        })
        .collect()
}

#[tokio::test]
async fn dashboard_csv_and_api_show_the_figures_of_the_seeded_meetings() {
    let dir = std::env::temp_dir().join(format!("narvaro-web-follow-up-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _dir = TempDir(dir.clone());
    let cfg = BookingConfig {
        database_url: format!("sqlite://{}/narvaro.db?mode=rwc", dir.display()),
        ..BookingConfig::default()
    };
    let clock = Arc::new(ManualClock::new(T0));
    let booking = Booking::open_with_clock(&cfg, Environment::Development, clock.clone())
        .await
        .unwrap();
    let app = booking.router().merge(web::router(booking.clone()));

    // A second centre, Hudiksvall, with a booth and its admin. A centre admin creates a centre
    // through the API; its first admin cannot be made through the API by anyone (an admin writes
    // their own centre's staff), so the store makes Olle, who then makes the booth.
    let maria = login(&app, demo::GUIDE).await;
    let hudik = ok(
        &app,
        "POST",
        "/api/v1/centres",
        &maria,
        Some(json!({"kommun": "Hudiksvall", "name": "Servicekontor Hudiksvall", "address": "Storgatan 1",
                    "opening_hours": [{"weekday": 1, "from": "08:00", "until": "18:00"}]})),
    )
    .await;
    let hudik_id: booking::ids::CentreId = hudik["id"].as_str().unwrap().parse().unwrap();
    let olle = booking::store::Guide {
        centre_id: hudik_id,
        display_name: "Olle Ek".into(),
        centre_admin: true,
        ..Default::default()
    };
    booking
        .store()
        .create_resource(&booking::store::Resource::Guide(olle.clone()))
        .await
        .unwrap();
    let olle_cookie = login(&app, olle.id).await;
    let hudik_booth = ok(
        &app,
        "POST",
        "/api/v1/booths",
        &olle_cookie,
        Some(json!({"centre_id": hudik_id, "name": "Mötesrum A"})),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let c1 = (demo::CITIZEN_1, demo::CITIZEN_1_PERSONNUMMER);
    let c2 = (demo::CITIZEN_2, demo::CITIZEN_2_PERSONNUMMER);
    let c3 = (demo::CITIZEN_3, demo::CITIZEN_3_PERSONNUMMER);
    use Centre::*;
    use Fate::*;
    let seeds = [
        Seed {
            centre: Ljusdal,
            officer: demo::OFFICER_ANNA,
            service: demo::SERVICE_FORALDRAPENNING,
            minutes: 0,
            citizen: c1,
            fate: Held(300, "resolved", Some((5, true))),
        },
        Seed {
            centre: Ljusdal,
            officer: demo::OFFICER_BJORN,
            service: demo::SERVICE_SJUKPENNING,
            minutes: 0,
            citizen: c2,
            fate: Held(120, "referred", Some((2, false))),
        },
        Seed {
            centre: Ljusdal,
            officer: demo::OFFICER_SARA,
            service: demo::SERVICE_DEKLARATION,
            minutes: 60,
            citizen: c3,
            fate: NoShow,
        },
        Seed {
            centre: Ljusdal,
            officer: demo::OFFICER_SARA,
            service: demo::SERVICE_DEKLARATION,
            minutes: 90,
            citizen: c3,
            fate: Held(600, "follow_up", Some((4, true))),
        },
        Seed {
            centre: Ljusdal,
            officer: demo::OFFICER_ANNA,
            service: demo::SERVICE_SJUKPENNING,
            minutes: 150,
            citizen: c2,
            fate: Held(45, "resolved", None),
        },
        Seed {
            centre: Hudiksvall,
            officer: demo::OFFICER_ANNA,
            service: demo::SERVICE_SJUKPENNING,
            minutes: 240,
            citizen: c1,
            fate: Held(60, "resolved", Some((3, true))),
        },
        Seed {
            centre: Hudiksvall,
            officer: demo::OFFICER_BJORN,
            service: demo::SERVICE_FORALDRAPENNING,
            minutes: 300,
            citizen: c2,
            fate: NoShow,
        },
        Seed {
            centre: Hudiksvall,
            officer: demo::OFFICER_SARA,
            service: demo::SERVICE_DEKLARATION,
            minutes: 330,
            citizen: c3,
            fate: Cancelled,
        },
        Seed {
            centre: Hudiksvall,
            officer: demo::OFFICER_BJORN,
            service: demo::SERVICE_SJUKPENNING,
            minutes: 360,
            citizen: c1,
            fate: Held(900, "follow_up", Some((5, false))),
        },
    ];
    let feedback: [FeedbackSeed; 5] = [
        (
            Ljusdal,
            Some(demo::AGENCY_FORSAKRINGSKASSAN),
            Some(1),
            "complaint",
            "waiting_time",
        ),
        (
            Ljusdal,
            Some(demo::AGENCY_SKATTEVERKET),
            Some(3),
            "praise",
            "treatment",
        ),
        (Ljusdal, None, None, "suggestion", "accessibility"),
        (
            Hudiksvall,
            Some(demo::AGENCY_FORSAKRINGSKASSAN),
            Some(5),
            "complaint",
            "technical",
        ),
        (
            Hudiksvall,
            Some(demo::AGENCY_FORSAKRINGSKASSAN),
            Some(8),
            "complaint",
            "waiting_time",
        ),
    ];

    // Book everything, then walk each meeting through its fate in order of time.
    let mut ids = Vec::new();
    for s in &seeds {
        let (guide, booth) = match s.centre {
            Ljusdal => (
                &maria,
                if s.officer == demo::OFFICER_BJORN {
                    demo::BOOTH_2.to_string()
                } else {
                    demo::BOOTH_1.to_string()
                },
            ),
            Hudiksvall => (&olle_cookie, hudik_booth.clone()),
        };
        let b = ok(
            &app,
            "POST",
            "/api/v1/bookings",
            guide,
            Some(
                json!({"service_id": s.service, "officer_id": s.officer, "booth_id": booth,
                        "starts_at": at(s.minutes), "duration_minutes": 20,
                        "citizen_personnummer": s.citizen.1}),
            ),
        )
        .await;
        ids.push(b["booking_id"].as_str().unwrap().to_owned());
    }
    for (s, id) in seeds.iter().zip(&ids) {
        // Each meeting's fate is decided at its own time (a cancellation before it).
        let now = booking.clock().now();
        let starts = T0 + s.minutes * 60;
        if !matches!(s.fate, Cancelled) && starts > now {
            clock.advance(starts - now);
        }
        // Signed in afresh: an hour without a request ends a staff session.
        let guide = &login(
            &app,
            if s.centre == Ljusdal {
                demo::GUIDE
            } else {
                olle.id
            },
        )
        .await;
        match s.fate {
            Held(wait, outcome, survey) => {
                ok(
                    &app,
                    "POST",
                    &format!("/api/v1/bookings/{id}/check-in"),
                    guide,
                    None,
                )
                .await;
                clock.advance(wait);
                ok(
                    &app,
                    "POST",
                    &format!("/api/v1/bookings/{id}/start"),
                    guide,
                    None,
                )
                .await;
                let officer = &login(&app, s.officer).await;
                ok(
                    &app,
                    "POST",
                    &format!("/api/v1/bookings/{id}/end"),
                    officer,
                    Some(json!({"outcome": outcome})),
                )
                .await;
                if let Some((score, got_help)) = survey {
                    let citizen = login(&app, s.citizen.0).await;
                    ok(
                        &app,
                        "POST",
                        &format!("/api/v1/bookings/{id}/survey"),
                        &citizen,
                        Some(json!({"satisfaction": score, "got_help": got_help})),
                    )
                    .await;
                }
            }
            NoShow => {
                ok(
                    &app,
                    "POST",
                    &format!("/api/v1/bookings/{id}/no-show"),
                    guide,
                    None,
                )
                .await;
            }
            Cancelled => {
                ok(
                    &app,
                    "POST",
                    &format!("/api/v1/bookings/{id}/cancel"),
                    guide,
                    Some(json!({"reason": "citizen_request"})),
                )
                .await;
            }
        }
    }
    let maria = login(&app, demo::GUIDE).await;
    let olle_cookie = login(&app, olle.id).await;
    for (centre, agency, about, kind, category) in &feedback {
        let guide = if *centre == Ljusdal {
            &maria
        } else {
            &olle_cookie
        };
        let centre_id = if *centre == Ljusdal {
            demo::CENTRE_LJUSDAL
        } else {
            hudik_id
        };
        let mut body = json!({"centre_id": centre_id, "kind": kind, "category": category});
        if let Some(a) = agency {
            body["agency_id"] = json!(a);
        }
        if let Some(i) = about {
            body["booking_id"] = json!(ids[*i]);
        }
        let a = call(&app, "POST", "/api/v1/feedback", Some(guide), Some(body)).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    }

    let lena = login(&app, demo::OFFICER_LENA_ANALYST).await;
    let per = login(&app, demo::GUIDE_PER_ANALYST).await;
    let omar = login(&app, demo::OFFICER_OMAR_ANALYST).await;
    let fk = demo::AGENCY_FORSAKRINGSKASSAN;
    let skv = demo::AGENCY_SKATTEVERKET;
    let period = format!("from={DAY}&to={DAY}");
    // (what, whose cookie, extra query, and the centre, agency and service the figures are of)
    let cases: Vec<Case> = vec![
        (
            "Lena, Försäkringskassan",
            lena.as_str(),
            String::new(),
            None,
            Some(fk),
            None,
        ),
        (
            "Lena at Hudiksvall",
            lena.as_str(),
            format!("&centre_id={hudik_id}"),
            Some(Hudiksvall),
            Some(fk),
            None,
        ),
        (
            "Lena, sjukpenning",
            lena.as_str(),
            format!("&service_id={}", demo::SERVICE_SJUKPENNING),
            None,
            Some(fk),
            Some(demo::SERVICE_SJUKPENNING),
        ),
        (
            "Omar, Skatteverket",
            omar.as_str(),
            String::new(),
            None,
            Some(skv),
            None,
        ),
        (
            "Per, Ljusdal",
            per.as_str(),
            String::new(),
            Some(Ljusdal),
            None,
            None,
        ),
        (
            "Per, Ljusdal, Skatteverket",
            per.as_str(),
            format!("&agency_id={skv}"),
            Some(Ljusdal),
            Some(skv),
            None,
        ),
    ];
    for (what, cookie, extra, centre, agency, service) in &cases {
        let want = expected(&seeds, &feedback, *centre, *agency, *service);
        let api = get(&app, &format!("/api/v1/follow-up?{period}{extra}"), cookie).await;
        assert_eq!(api.status, StatusCode::OK, "{what}: {}", api.text);
        check_api(&want, &api.json, &format!("{what} (API)"));
        let page = get(&app, &format!("/follow-up?{period}{extra}"), cookie).await;
        assert_eq!(page.status, StatusCode::OK, "{what}: {}", page.text);
        check_page(&want, &page.text, &format!("{what} (page)"));

        // The CSV: one row per centre and service with anything to count, each row what the
        // test expects of that group.
        let csv = get(
            &app,
            &format!("/api/v1/follow-up.csv?{period}{extra}"),
            cookie,
        )
        .await;
        assert_eq!(csv.status, StatusCode::OK, "{what}: {}", csv.text);
        assert_eq!(csv.content_type, "text/csv; charset=utf-8");
        let rows = parse_csv(&csv.text);
        let head = &rows[0];
        assert_eq!(
            head,
            &booking::follow_up::CSV_FIELDS
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
        );
        let col = |row: &Vec<String>, name: &str| {
            row[head.iter().position(|h| h == name).unwrap()].clone()
        };
        let mut groups = Vec::new();
        for c in [Ljusdal, Hudiksvall] {
            for s in [
                demo::SERVICE_FORALDRAPENNING,
                demo::SERVICE_SJUKPENNING,
                demo::SERVICE_DEKLARATION,
            ] {
                let inside = centre.is_none_or(|x| x == c)
                    && agency.is_none_or(|a| a == agency_of(s))
                    && service.is_none_or(|x| x == s);
                let g = expected(&seeds, &feedback, Some(c), Some(agency_of(s)), Some(s));
                if inside && (g.bookings > 0 || g.complaints + g.suggestions + g.praise > 0) {
                    groups.push((c, s, g));
                }
            }
        }
        assert_eq!(
            rows.len() - 1,
            groups.len(),
            "{what}: one CSV row per group"
        );
        for (c, s, g) in &groups {
            let centre_id = if *c == Ljusdal {
                demo::CENTRE_LJUSDAL
            } else {
                hudik_id
            };
            // Rows come in the directory's order (by name); found here by centre and service.
            let row = rows[1..]
                .iter()
                .find(|r| {
                    col(r, "centre_id") == centre_id.to_string()
                        && col(r, "service_id") == s.to_string()
                })
                .unwrap_or_else(|| panic!("{what}: no CSV row for {centre_id} {s}"));
            assert_eq!(col(row, "period_from"), DAY);
            assert_eq!(col(row, "period_until"), DAY);
            assert_eq!(col(row, "centre_id"), centre_id.to_string(), "{what}");
            assert_eq!(col(row, "service_id"), s.to_string(), "{what}");
            assert_eq!(col(row, "agency_id"), agency_of(*s).to_string(), "{what}");
            for (name, want) in [
                ("bookings", g.bookings),
                ("meetings", g.meetings),
                ("no_shows", g.no_shows),
                ("cancelled", g.cancelled),
                ("resolved", g.resolved),
                ("follow_up", g.follow_up),
                ("referred", g.referred),
                ("waits_measured", g.waits.len() as i64),
                ("survey_answers", g.survey_answers),
                ("satisfaction_1", g.answers[0]),
                ("satisfaction_2", g.answers[1]),
                ("satisfaction_3", g.answers[2]),
                ("satisfaction_4", g.answers[3]),
                ("satisfaction_5", g.answers[4]),
                ("complaints", g.complaints),
                ("suggestions", g.suggestions),
                ("praise", g.praise),
                ("calls_reported", 0),
            ] {
                assert_eq!(col(row, name), want.to_string(), "{what}: {name}");
            }
            for (name, want) in [
                ("share_resolved", g.share_resolved),
                ("mean_wait_seconds", g.mean_wait),
                ("median_wait_seconds", g.median_wait),
                ("p90_wait_seconds", g.p90_wait),
                ("mean_satisfaction", g.mean_satisfaction),
                ("share_got_help", g.share_got_help),
                ("mean_rtt_ms", None),
            ] {
                close(num(&col(row, name)), want, &format!("{what}: CSV {name}"));
            }
        }
    }

    // A period over two months is reported month by month: May holds nothing, so every row is
    // June's, cut to the period's end, and the rows are the one-day rows again.
    let two_months = get(
        &app,
        "/api/v1/follow-up.csv?from=2026-05-20&to=2026-06-20",
        &lena,
    )
    .await;
    let rows = parse_csv(&two_months.text);
    let one_day = parse_csv(
        &get(&app, &format!("/api/v1/follow-up.csv?{period}"), &lena)
            .await
            .text,
    );
    assert_eq!(rows.len(), one_day.len());
    for (row, same) in rows[1..].iter().zip(&one_day[1..]) {
        assert_eq!(
            (row[0].as_str(), row[1].as_str()),
            ("2026-06-01", "2026-06-20")
        );
        assert_eq!(row[2..], same[2..], "the same figures");
    }

    // Scope: Skatteverket's analyst is refused Försäkringskassan's figures, by API, CSV and page;
    // Ljusdal's analyst is refused Hudiksvall's.
    for (cookie, extra) in [
        (&omar, format!("&agency_id={fk}")),
        (&per, format!("&centre_id={hudik_id}")),
    ] {
        for uri in ["/api/v1/follow-up", "/api/v1/follow-up.csv"] {
            let a = get(&app, &format!("{uri}?{period}{extra}"), cookie).await;
            assert_eq!(
                (a.status, a.json["error"]["code"].as_str()),
                (StatusCode::FORBIDDEN, Some("outside_your_scope")),
                "{uri}{extra}"
            );
        }
        let page = get(&app, &format!("/follow-up?{period}{extra}"), cookie).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(
            !page.text.contains("id=\"figures\""),
            "no figures on a refused page"
        );
    }
    // A date that does not exist, or an id that is not one, is said on the page, with no figures.
    for bad in [
        "from=2026-02-30&to=2026-03-01",
        "from=2026-06-15&to=2026-06-15&centre_id=x'--",
    ] {
        let page = get(&app, &format!("/follow-up?{bad}"), &lena).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(page.text.contains("id=\"follow-up-problem\""), "{bad}");
        assert!(!page.text.contains("id=\"figures\""), "{bad}");
    }
    // An officer without the flag has no dashboard: sent to sign in as an analyst.
    let bjorn = &login(&app, demo::OFFICER_BJORN).await;
    let a = get(&app, "/follow-up", bjorn).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let a = get(&app, &format!("/api/v1/follow-up?{period}"), bjorn).await;
    assert_eq!(a.json["error"]["code"], "admin_or_analyst_only");
}
