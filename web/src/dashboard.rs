//! The follow-up dashboard (`/follow-up`): booking's follow-up figures for an analyst or admin,
//! as tables and as bar charts drawn here as inline SVG (no script, no chart library; each chart
//! has a `<title>`, a text alternative in `<desc>` and the same numbers in a table beside it).
//!
//! The figures and who may see which come from [`booking::follow_up`], the same code behind
//! `/api/v1/follow-up` and its CSV, so the page, the API and the download cannot disagree. Every
//! figure is also in a `<data value>` element with the number as booking computed it, so a test
//! (or a screen reader's user copying it) reads the exact value, not the rounded text.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use booking::Booking;
use booking::follow_up::{self, FollowUpError, Request, Scope};
use booking::schedule::LocalTime;
use booking::store::FollowUp;

use crate::i18n::{Lang, Tr};
use crate::pages::{PersonKind, Visitor, render, sign_in_redirect};

/// The dashboard's query: the same names as the API's, plus the language. Empty means "all".
#[derive(Deserialize, Default)]
pub(crate) struct DashboardQuery {
    from: Option<String>,
    to: Option<String>,
    centre_id: Option<String>,
    agency_id: Option<String>,
    service_id: Option<String>,
    lang: Option<String>,
}

/// One choice in a filter.
pub(crate) struct Opt {
    value: String,
    label: String,
    selected: bool,
}

/// One figure: its words, the exact value (`<data value>`) and how it reads.
pub(crate) struct Figure {
    label: String,
    value: String,
    shown: String,
}

/// A horizontal bar chart, laid out here; the template only draws it.
pub(crate) struct Chart {
    id: &'static str,
    title: String,
    /// The text alternative: every bar's label and value in words.
    desc: String,
    height: i64,
    bars: Vec<Bar>,
}

pub(crate) struct Bar {
    label: String,
    shown: String,
    /// Top of the bar's row, its width and where its value is written.
    y: i64,
    text_y: i64,
    width: i64,
    value_x: i64,
}

/// One row of the per-centre-and-service table.
pub(crate) struct GroupRow {
    /// The month, cut to the chosen period.
    period: String,
    centre: String,
    agency: String,
    service: String,
    meetings: Figure,
    no_shows: Figure,
    median_wait: Figure,
    mean_satisfaction: Figure,
    share_got_help: Figure,
    complaints: Figure,
}

/// A feedback count by kind and category.
pub(crate) struct FeedbackRow {
    kind: String,
    category: String,
    count: Figure,
}

/// A language offered on the page.
pub(crate) struct LangOpt {
    code: &'static str,
    name: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "follow-up.html")]
struct DashboardPage {
    visitor: Option<Visitor>,
    tr: Tr,
    scope_line: String,
    languages: Vec<LangOpt>,
    from: String,
    to: String,
    centres: Vec<Opt>,
    agencies: Vec<Opt>,
    services: Vec<Opt>,
    /// Why no figures are shown, when none are.
    problem: Option<String>,
    csv_href: String,
    report: Option<Report>,
}

pub(crate) struct Report {
    meetings: Vec<Figure>,
    meetings_chart: Chart,
    waits: Vec<Figure>,
    satisfaction: Vec<Figure>,
    satisfaction_answers: Vec<Figure>,
    satisfaction_chart: Chart,
    outcomes: Vec<Figure>,
    feedback: Vec<Figure>,
    feedback_chart: Chart,
    feedback_rows: Vec<FeedbackRow>,
    /// `None`: no call reported quality in the selection ("no data", never made-up numbers).
    quality: Option<Vec<Figure>>,
    groups: Vec<GroupRow>,
}

/// Days the dashboard shows when no period is asked for: the last 30, today included.
const DEFAULT_DAYS: i64 = 30;

pub(crate) async fn dashboard(
    State(booking): State<Booking>,
    headers: HeaderMap,
    Query(query): Query<DashboardQuery>,
) -> Response {
    let lang = query
        .lang
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or(Lang::Sv);
    let tr = Tr::new(lang);
    let here = "/follow-up";
    let Some(identity) = booking.session_identity(&headers).await else {
        return sign_in_redirect(&booking, PersonKind::Analyst, here);
    };
    let scope = match follow_up::scope_of(&booking, identity.subject).await {
        Ok(Some(scope)) => scope,
        Ok(None) => return sign_in_redirect(&booking, PersonKind::Analyst, here),
        Err(error) => {
            tracing::error!(%error, "follow-up scope");
            return render(
                &crate::pages::error_page("Något gick fel", "Uppföljningen kunde inte visas."),
                StatusCode::INTERNAL_SERVER_ERROR,
            );
        }
    };
    let directory = match booking.store().directory().await {
        Ok(d) => d,
        Err(error) => {
            tracing::error!(%error, "directory for the follow-up dashboard");
            return render(
                &crate::pages::error_page("Något gick fel", "Uppföljningen kunde inte visas."),
                StatusCode::INTERNAL_SERVER_ERROR,
            );
        }
    };
    let today = LocalTime::of(booking.clock().now()).day;
    let blank = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let from =
        blank(&query.from).unwrap_or_else(|| follow_up::format_day(today - DEFAULT_DAYS + 1));
    let to = blank(&query.to).unwrap_or_else(|| follow_up::format_day(today));
    let (centre, agency, service) = (
        blank(&query.centre_id),
        blank(&query.agency_id),
        blank(&query.service_id),
    );

    let mut status = StatusCode::OK;
    let mut problem = None;
    let request = parse_request(&from, &to, &centre, &agency, &service);
    let mut report = None;
    match &request {
        None => {
            status = StatusCode::UNPROCESSABLE_ENTITY;
            problem = Some(tr.t("fu-invalid"));
        }
        Some(request) => {
            // The groups only after the totals were allowed: a refusal is logged once.
            let both = async {
                let f = follow_up::figures(&booking, identity.subject, request).await?;
                let g = follow_up::groups(&booking, identity.subject, request).await?;
                Ok::<_, FollowUpError>((f, g))
            };
            match both.await {
                Ok((f, g)) => report = Some(build_report(&tr, &f, &g)),
                Err(FollowUpError::OutsideScope) => {
                    status = StatusCode::FORBIDDEN;
                    problem = Some(tr.t("fu-refused"));
                }
                Err(error) => {
                    tracing::error!(%error, "follow-up figures");
                    status = StatusCode::INTERNAL_SERVER_ERROR;
                    problem = Some(tr.t("fu-failed"));
                }
            }
        }
    }

    let scope_line = match scope {
        Scope::Agency(id) => {
            let name = directory
                .agencies
                .iter()
                .find(|a| a.id == id)
                .map(|a| a.name.as_str())
                .unwrap_or("");
            tr.t1("fu-scope-agency", "name", name)
        }
        Scope::Centre(id) => {
            let name = directory
                .centres
                .iter()
                .find(|c| c.id == id)
                .map(|c| c.name.as_str())
                .unwrap_or("");
            tr.t1("fu-scope-centre", "name", name)
        }
    };
    let all = |selected: bool| Opt {
        value: String::new(),
        label: tr.t("fu-all"),
        selected,
    };
    let pick = |value: String, label: String, chosen: &Option<String>| Opt {
        selected: chosen.as_deref() == Some(value.as_str()),
        value,
        label,
    };
    // Only what is in scope is offered: an agency's reader picks among centres, a centre's
    // reader among agencies; the own agency or centre is the only choice of its filter.
    let centres: Vec<Opt> = match scope {
        Scope::Centre(id) => directory
            .centres
            .iter()
            .filter(|c| c.id == id)
            .map(|c| pick(c.id.to_string(), c.name.clone(), &Some(c.id.to_string())))
            .collect(),
        Scope::Agency(_) => std::iter::once(all(centre.is_none()))
            .chain(
                directory
                    .centres
                    .iter()
                    .map(|c| pick(c.id.to_string(), c.name.clone(), &centre)),
            )
            .collect(),
    };
    let agencies: Vec<Opt> = match scope {
        Scope::Agency(id) => directory
            .agencies
            .iter()
            .filter(|a| a.id == id)
            .map(|a| pick(a.id.to_string(), a.name.clone(), &Some(a.id.to_string())))
            .collect(),
        Scope::Centre(_) => std::iter::once(all(agency.is_none()))
            .chain(
                directory
                    .agencies
                    .iter()
                    .map(|a| pick(a.id.to_string(), a.name.clone(), &agency)),
            )
            .collect(),
    };
    let services: Vec<Opt> = std::iter::once(all(service.is_none()))
        .chain(
            directory
                .services
                .iter()
                .filter(|s| match scope {
                    Scope::Agency(id) => s.agency_id == id,
                    Scope::Centre(_) => true,
                })
                .map(|s| {
                    let agency = directory
                        .agencies
                        .iter()
                        .find(|a| a.id == s.agency_id)
                        .map(|a| a.name.as_str())
                        .unwrap_or("");
                    pick(s.id.to_string(), format!("{} ({agency})", s.name), &service)
                }),
        )
        .collect();

    // The download asks the API for what the page shows; only filled-in filters are sent.
    let mut pairs: Vec<(&str, String)> = vec![("from", from.clone()), ("to", to.clone())];
    for (name, value) in [
        ("centre_id", &centre),
        ("agency_id", &agency),
        ("service_id", &service),
    ] {
        if let Some(v) = value {
            pairs.push((name, v.clone()));
        }
    }
    let csv_href = format!(
        "/api/v1/follow-up.csv?{}",
        serde_urlencoded::to_string(&pairs).unwrap_or_default() // &str pairs: cannot fail
    );
    let visitor = Visitor {
        kind: PersonKind::Analyst,
        display_name: identity.display_name,
    };
    let page = DashboardPage {
        visitor: Some(visitor),
        languages: Lang::ALL
            .into_iter()
            .map(|l| LangOpt {
                code: l.code(),
                name: Tr::new(l).t("language-name"),
                selected: l == lang,
            })
            .collect(),
        tr,
        scope_line,
        from,
        to,
        centres,
        agencies,
        services,
        problem,
        csv_href,
        report,
    };
    render(&page, status)
}

/// The request of the filters as typed; `None` for a date or id that does not read.
fn parse_request(
    from: &str,
    to: &str,
    centre: &Option<String>,
    agency: &Option<String>,
    service: &Option<String>,
) -> Option<Request> {
    Request::new(
        from,
        to,
        centre.as_deref().map(str::parse).transpose().ok()?,
        agency.as_deref().map(str::parse).transpose().ok()?,
        service.as_deref().map(str::parse).transpose().ok()?,
    )
    .ok()
}

/// A number as the language writes it: a decimal comma in Swedish and Finnish.
fn number(tr: &Tr, v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    match tr.lang() {
        Lang::Sv | Lang::Fi => s.replace('.', ","),
        _ => s,
    }
}

fn count(label: String, n: i64) -> Figure {
    Figure {
        label,
        value: n.to_string(),
        shown: n.to_string(),
    }
}

fn maybe(tr: &Tr, label: String, v: Option<f64>, shown: impl Fn(f64) -> String) -> Figure {
    match v {
        Some(v) => Figure {
            label,
            value: v.to_string(),
            shown: shown(v),
        },
        None => Figure {
            label,
            value: String::new(),
            shown: tr.t("fu-no-data"),
        },
    }
}

fn share(tr: &Tr, label: String, v: Option<f64>) -> Figure {
    maybe(tr, label, v, |v| {
        tr.t1("fu-percent", "value", &number(tr, v * 100.0, 0))
    })
}

fn minutes(tr: &Tr, label: String, seconds: Option<f64>) -> Figure {
    maybe(tr, label, seconds, |s| {
        tr.t1("fu-minutes", "value", &number(tr, s / 60.0, 1))
    })
}

/// Lays out bars of `(label, value)`: a label column, bars scaled to the largest value, the value
/// after each bar.
fn chart(id: &'static str, title: String, bars: Vec<(String, i64)>, short_labels: bool) -> Chart {
    // In the SVG's own units (its viewBox is 420 wide): sized so that at half a 1280-pixel page
    // the words still read at about 14 px.
    const ROW: i64 = 34;
    const BAR_X: i64 = 170;
    const BAR_MAX: i64 = 200;
    let max = bars.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let desc = bars
        .iter()
        .map(|(l, v)| format!("{l}: {v}"))
        .collect::<Vec<_>>()
        .join(". ");
    let bars: Vec<Bar> = bars
        .into_iter()
        .enumerate()
        .map(|(i, (label, v))| {
            let label = if short_labels {
                (i + 1).to_string()
            } else {
                label
            };
            let width = v * BAR_MAX / max;
            let y = 8 + i as i64 * ROW;
            Bar {
                label,
                shown: v.to_string(),
                y,
                text_y: y + 19,
                width,
                value_x: BAR_X + width + 8,
            }
        })
        .collect();
    Chart {
        id,
        title,
        desc,
        height: 16 + bars.len() as i64 * ROW,
        bars,
    }
}

fn category_label(tr: &Tr, code: &str) -> String {
    match code {
        "waiting_time" => tr.t("feedback-waiting-time"),
        "accessibility" => tr.t("feedback-accessibility"),
        "technical" => tr.t("feedback-technical"),
        "treatment" => tr.t("feedback-treatment"),
        "premises" => tr.t("feedback-premises"),
        "other" => tr.t("feedback-other"),
        // A code the kiosk does not offer (given through the API): shown as it is stored.
        other => other.to_owned(),
    }
}

fn kind_label(tr: &Tr, kind: &str) -> String {
    match kind {
        "complaint" => tr.t("feedback-complaint"),
        "suggestion" => tr.t("feedback-suggestion"),
        "praise" => tr.t("feedback-praise"),
        other => other.to_owned(),
    }
}

fn build_report(tr: &Tr, f: &FollowUp, groups: &[follow_up::Group]) -> Report {
    let faces = [
        tr.t("survey-face-1"),
        tr.t("survey-face-2"),
        tr.t("survey-face-3"),
        tr.t("survey-face-4"),
        tr.t("survey-face-5"),
    ];
    let answer_label = |i: usize| format!("{} – {}", i + 1, faces[i]);
    Report {
        meetings: vec![
            count(tr.t("fu-bookings"), f.bookings),
            count(tr.t("fu-meetings"), f.meetings),
            count(tr.t("fu-no-shows"), f.no_shows),
            count(tr.t("fu-cancelled"), f.cancelled),
        ],
        meetings_chart: chart(
            "chart-meetings",
            tr.t("fu-chart-meetings"),
            vec![
                (tr.t("fu-meetings"), f.meetings),
                (tr.t("fu-no-shows"), f.no_shows),
                (tr.t("fu-cancelled"), f.cancelled),
            ],
            false,
        ),
        waits: vec![
            count(tr.t("fu-waits-measured"), f.waits_measured),
            minutes(tr, tr.t("fu-wait-median"), f.median_wait_seconds),
            minutes(tr, tr.t("fu-wait-p90"), f.p90_wait_seconds),
            minutes(tr, tr.t("fu-wait-mean"), f.mean_wait_seconds),
        ],
        satisfaction: vec![
            count(tr.t("fu-survey-answers"), f.survey_answers),
            maybe(tr, tr.t("fu-satisfaction-mean"), f.mean_satisfaction, |v| {
                number(tr, v, 2)
            }),
            share(tr, tr.t("fu-got-help"), f.share_got_help),
        ],
        satisfaction_answers: (0..5)
            .map(|i| count(answer_label(i), f.satisfaction_counts[i]))
            .collect(),
        satisfaction_chart: chart(
            "chart-satisfaction",
            tr.t("fu-chart-satisfaction"),
            (0..5)
                .map(|i| (answer_label(i), f.satisfaction_counts[i]))
                .collect(),
            // The faces' words are long: the bars carry the score, the text alternative and the
            // table below them the words.
            true,
        ),
        outcomes: vec![
            count(tr.t("fu-resolved"), f.resolved),
            count(tr.t("fu-follow-up"), f.follow_up),
            count(tr.t("fu-referred"), f.referred),
            share(tr, tr.t("fu-share-resolved"), f.share_resolved),
        ],
        feedback: vec![
            count(tr.t("feedback-complaint"), f.complaints),
            count(tr.t("feedback-suggestion"), f.suggestions),
            count(tr.t("feedback-praise"), f.praise),
        ],
        feedback_chart: chart(
            "chart-feedback",
            tr.t("fu-chart-feedback"),
            vec![
                (tr.t("feedback-complaint"), f.complaints),
                (tr.t("feedback-suggestion"), f.suggestions),
                (tr.t("feedback-praise"), f.praise),
            ],
            false,
        ),
        feedback_rows: f
            .feedback_by_category
            .iter()
            .map(|c| FeedbackRow {
                kind: kind_label(tr, &c.kind),
                category: category_label(tr, &c.category),
                count: count(String::new(), c.count),
            })
            .collect(),
        quality: (f.calls_reported > 0).then(|| {
            vec![
                count(tr.t("fu-calls-reported"), f.calls_reported),
                maybe(tr, tr.t("fu-rtt"), f.mean_rtt_ms, |v| number(tr, v, 0)),
                maybe(tr, tr.t("fu-loss"), f.mean_loss_per_mille, |v| {
                    number(tr, v, 1)
                }),
                maybe(tr, tr.t("fu-poor"), f.mean_poor_seconds, |v| {
                    number(tr, v, 1)
                }),
            ]
        }),
        groups: groups
            .iter()
            .map(|g| GroupRow {
                period: format!(
                    "{} – {}",
                    follow_up::format_day(g.period_from),
                    follow_up::format_day(g.period_until)
                ),
                centre: g.centre.clone(),
                agency: g.agency.clone(),
                service: g.service.clone(),
                meetings: count(String::new(), g.figures.meetings),
                no_shows: count(String::new(), g.figures.no_shows),
                median_wait: minutes(tr, String::new(), g.figures.median_wait_seconds),
                mean_satisfaction: maybe(tr, String::new(), g.figures.mean_satisfaction, |v| {
                    number(tr, v, 2)
                }),
                share_got_help: share(tr, String::new(), g.figures.share_got_help),
                complaints: count(String::new(), g.figures.complaints),
            })
            .collect(),
    }
}
