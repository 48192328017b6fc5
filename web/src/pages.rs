//! Page handlers: each checks who is signed in (where the page needs someone), then renders one
//! template. The data on a page (bookings, directory, the next meeting of a booth) is loaded by
//! the page's script from booking's API, so the pages and the API cannot disagree about it.
//!
//! Sign-in is guarded here, on the server, for every page: a page that needs a person of some kind
//! redirects to the e-ID page with itself as `return_to`. Scripts that meet a 401 later (session
//! expired) reload the page, which lands in the same guard.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use booking::Booking;
use booking::config::OidcPurpose;
use booking::identity::is_safe_return_to;

use crate::i18n::{Lang, Tr};

/// The kinds of person the development e-ID signs in, as named in URLs and in booking's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PersonKind {
    Citizen,
    Officer,
    Guide,
    /// Reads follow-up figures: an officer or a guide flagged as an analyst (or an admin).
    Analyst,
}

impl PersonKind {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "citizen" => Some(Self::Citizen),
            "officer" => Some(Self::Officer),
            "guide" => Some(Self::Guide),
            "analyst" => Some(Self::Analyst),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Citizen => "citizen",
            Self::Officer => "officer",
            Self::Guide => "guide",
            Self::Analyst => "analyst",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Citizen => "medborgare",
            Self::Officer => "handläggare",
            Self::Guide => "servicevägledare",
            Self::Analyst => "analytiker",
        }
    }
}

/// Who is signed in, reduced to what a page shows.
pub(crate) struct Visitor {
    pub(crate) kind: PersonKind,
    pub(crate) display_name: String,
}

async fn visitor(booking: &Booking, headers: &HeaderMap) -> Option<Visitor> {
    let identity = booking.session_identity(headers).await?;
    Some(Visitor {
        kind: PersonKind::parse(identity.subject.kind())?,
        display_name: identity.display_name,
    })
}

/// A page for `kind` only: the visitor, or a redirect to sign in that comes back here.
async fn require(
    booking: &Booking,
    headers: &HeaderMap,
    kind: PersonKind,
    here: &str,
) -> Result<Visitor, Response> {
    match visitor(booking, headers).await {
        Some(v) if v.kind == kind => Ok(v),
        _ => Err(Redirect::to(&sign_in_href(booking, kind, here)).into_response()),
    }
}

/// Where a `kind` signs in: the choice of configured OpenID providers (and the development
/// e-ID where it is on), or straight to the development e-ID when it is the only way in.
fn sign_in_href(booking: &Booking, kind: PersonKind, return_to: &str) -> String {
    if oidc_logins(booking, kind, return_to).is_empty() && dev_eid_enabled(booking) {
        return dev_eid_href(kind, return_to);
    }
    let query = serde_urlencoded::to_string([("kind", kind.as_str()), ("return_to", return_to)])
        .unwrap_or_else(|_| format!("kind={}", kind.as_str())); // only &str pairs: cannot fail
    format!("/sign-in?{query}")
}

/// A way to sign in, as a page links to it.
pub(crate) struct SignInLink {
    href: String,
    /// What follows "Logga in med".
    label: String,
}

/// The OpenID providers configured for `kind`, each linked to its login coming back to
/// `return_to`.
fn oidc_logins(booking: &Booking, kind: PersonKind, return_to: &str) -> Vec<SignInLink> {
    // Analysts are staff of an agency or a centre: they sign in where its officers or guides do.
    let purposes: &[OidcPurpose] = match kind {
        PersonKind::Citizen => &[OidcPurpose::Citizen],
        PersonKind::Officer => &[OidcPurpose::Officer],
        PersonKind::Guide => &[OidcPurpose::Guide],
        PersonKind::Analyst => &[OidcPurpose::Officer, OidcPurpose::Guide],
    };
    booking
        .config()
        .oidc_providers
        .iter()
        .filter(|p| purposes.contains(&p.purpose))
        .map(|p| SignInLink {
            href: booking::oidc::login_path(&p.name, return_to),
            label: p.display_name().to_owned(),
        })
        .collect()
}

pub(crate) fn dev_eid_href(kind: PersonKind, return_to: &str) -> String {
    let query = serde_urlencoded::to_string([("kind", kind.as_str()), ("return_to", return_to)])
        .unwrap_or_else(|_| format!("kind={}", kind.as_str())); // only &str pairs: cannot fail
    format!("/dev-eid?{query}")
}

/// A redirect to sign in as `kind`, coming back to `here`.
pub(crate) fn sign_in_redirect(booking: &Booking, kind: PersonKind, here: &str) -> Response {
    Redirect::to(&sign_in_href(booking, kind, here)).into_response()
}

/// The error page, with nobody named on it.
pub(crate) fn error_page(heading: &'static str, detail: &'static str) -> impl Template {
    ErrorPage {
        visitor: None,
        heading,
        detail,
    }
}

pub(crate) fn render(template: &impl Template, status: StatusCode) -> Response {
    match template.render() {
        Ok(body) => (
            status,
            // Pages name signed-in people; keep them out of shared caches and the back/forward cache
            // of a kiosk.
            [(header::CACHE_CONTROL, "no-store")],
            Html(body),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Sidan kunde inte visas.").into_response()
        }
    }
}

/// A booth as the start page links to it.
struct BoothLink {
    href: String,
    name: String,
    centre: String,
}

#[derive(Template)]
#[template(path = "start.html")]
struct StartPage {
    visitor: Option<Visitor>,
    /// `None`: the directory could not be read.
    booths: Option<Vec<BoothLink>>,
    /// Citizens' e-ID through OpenID providers (Freja eID), coming back here.
    citizen_logins: Vec<SignInLink>,
}

/// The start page: who are you, and the booths (their names are not personal data, so they are
/// listed without sign-in, for setting up a kiosk).
pub(crate) async fn start(State(booking): State<Booking>, headers: HeaderMap) -> Response {
    let booths = match booking.store().directory().await {
        Ok(directory) => Some(
            directory
                .booths
                .iter()
                .map(|b| BoothLink {
                    href: format!("/booth/{}", path_segment(&b.id.to_string())),
                    name: b.name.clone(),
                    centre: directory
                        .centres
                        .iter()
                        .find(|c| c.id == b.centre_id)
                        .map(|c| c.name.clone())
                        .unwrap_or_default(),
                })
                .collect(),
        ),
        Err(error) => {
            tracing::error!(%error, "directory for the start page");
            None
        }
    };
    render(
        &StartPage {
            visitor: visitor(&booking, &headers).await,
            booths,
            citizen_logins: oidc_logins(&booking, PersonKind::Citizen, "/"),
        },
        StatusCode::OK,
    )
}

#[derive(Template)]
#[template(path = "sign-in.html")]
struct SignInPage {
    visitor: Option<Visitor>,
    kind_label: &'static str,
    logins: Vec<SignInLink>,
    /// The development e-ID, where it is on.
    dev_eid_href: Option<String>,
    /// Why the last OpenID sign-in was refused, when it was.
    refused: Option<Refusal>,
}

pub(crate) struct Refusal {
    code: &'static str,
    message: &'static str,
}

/// What a person is told when their OpenID sign-in was refused, by booking's stable code. Only
/// known codes are shown, so the page never repeats text someone put in a link.
fn refusal(code: &str) -> Refusal {
    const SECURITY: &str =
        "Inloggningen kunde inte bekräftas och avbröts av säkerhetsskäl. Börja om.";
    const NO_ACCESS: &str =
        "Vi hittade ingen behörighet för dig i Närvaro. Kontakta den som administrerar Närvaro.";
    const KNOWN: &[(&str, &str)] = &[
        (
            "oidc_login_not_found",
            "Inloggningen hittades inte: den gjordes i en annan webbläsare eller är redan avslutad. Börja om.",
        ),
        (
            "oidc_login_expired",
            "Inloggningen tog för lång tid. Börja om.",
        ),
        (
            "oidc_login_refused",
            "Inloggningen avbröts. Försök igen när du vill.",
        ),
        (
            "oidc_unavailable",
            "Inloggningstjänsten svarar inte just nu. Försök igen om en stund.",
        ),
        (
            "oidc_acr_not_allowed",
            "Den e-legitimationen räcker inte för Närvaro. Välj en med högre tillitsnivå.",
        ),
        (
            "oidc_personal_number_invalid",
            "E-legitimationen gav inget giltigt personnummer.",
        ),
        ("oidc_unknown_person", NO_ACCESS),
        ("oidc_ambiguous_person", NO_ACCESS),
        ("oidc_email_missing", NO_ACCESS),
        ("oidc_email_unverified", NO_ACCESS),
        ("oidc_state_mismatch", SECURITY),
        ("oidc_nonce_mismatch", SECURITY),
        ("oidc_wrong_issuer", SECURITY),
        ("oidc_id_token_invalid", SECURITY),
        ("oidc_code_rejected", SECURITY),
        ("invalid_request", SECURITY),
    ];
    KNOWN
        .iter()
        .find(|(known, _)| *known == code)
        .map(|&(code, message)| Refusal { code, message })
        .unwrap_or(Refusal {
            code: "",
            message: "Inloggningen misslyckades. Försök igen.",
        })
}

/// How to sign in as a kind of person: each OpenID provider configured for that kind, and the
/// development e-ID where it is on.
pub(crate) async fn sign_in(
    State(booking): State<Booking>,
    headers: HeaderMap,
    Query(query): Query<SignInQuery>,
) -> Response {
    let visitor = visitor(&booking, &headers).await;
    let refused = query.refused.clone();
    let (kind, return_to, visitor) = match sign_in_target(query, visitor) {
        Ok(target) => target,
        Err(page) => return page,
    };
    let page = SignInPage {
        visitor,
        kind_label: kind.label(),
        logins: oidc_logins(&booking, kind, &return_to),
        dev_eid_href: dev_eid_enabled(&booking).then(|| dev_eid_href(kind, &return_to)),
        refused: refused.as_deref().map(refusal),
    };
    render(&page, StatusCode::OK)
}

/// The query of the sign-in pages: who signs in, and where they go afterwards.
#[derive(Deserialize)]
pub(crate) struct SignInQuery {
    return_to: Option<String>,
    kind: Option<String>,
    /// Booking's code for a refused OpenID sign-in that sent the person back here.
    refused: Option<String>,
}

/// The kind (default: citizen) and return path (default: `/`) of a sign-in page's query, or the
/// error page for a bad one.
#[allow(clippy::result_large_err)] // the error is the page to answer with
fn sign_in_target(
    query: SignInQuery,
    visitor: Option<Visitor>,
) -> Result<(PersonKind, String, Option<Visitor>), Response> {
    let Some(kind) = PersonKind::parse(query.kind.as_deref().unwrap_or("citizen")) else {
        let page = ErrorPage {
            visitor,
            heading: "Okänd typ av person",
            detail: "Parametern kind måste vara citizen, officer, guide eller analyst.",
        };
        return Err(render(&page, StatusCode::BAD_REQUEST));
    };
    let return_to = query.return_to.unwrap_or_else(|| "/".to_owned());
    if !is_safe_return_to(&return_to) {
        let page = ErrorPage {
            visitor,
            heading: "Ogiltig återgångsadress",
            detail: "Parametern return_to måste vara en sökväg på den här webbplatsen, som börjar med ett enda snedstreck.",
        };
        return Err(render(&page, StatusCode::BAD_REQUEST));
    }
    Ok((kind, return_to, visitor))
}

/// One demo person on the development e-ID page.
struct DemoPerson {
    person_id: String,
    display_name: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "dev-eid.html")]
struct DevEidPage {
    visitor: Option<Visitor>,
    kind: &'static str,
    kind_label: &'static str,
    return_to: String,
    people: Vec<DemoPerson>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    visitor: Option<Visitor>,
    heading: &'static str,
    detail: &'static str,
}

fn dev_eid_enabled(booking: &Booking) -> bool {
    booking.config().dev_eid_enabled(booking.environment())
}

/// The development e-ID: lists demo people of one kind; the page's script signs in through
/// booking's `/api/v1/dev-eid/login` and goes to `return_to`. Not found where booking has the
/// development e-ID off (production).
pub(crate) async fn dev_eid(
    State(booking): State<Booking>,
    headers: HeaderMap,
    Query(query): Query<SignInQuery>,
) -> Response {
    let visitor = visitor(&booking, &headers).await;
    if !dev_eid_enabled(&booking) {
        let page = ErrorPage {
            visitor,
            heading: "Utvecklingsinloggningen är avstängd",
            detail: "Den här installationen använder inte utvecklingsinloggningen.",
        };
        return render(&page, StatusCode::NOT_FOUND);
    }
    let (kind, return_to, visitor) = match sign_in_target(query, visitor) {
        Ok(target) => target,
        Err(page) => return page,
    };
    let people = match booking.store().people().await {
        Ok(people) => people
            .into_iter()
            // Analysts are listed apart: they sign in to the follow-up, not to a desk or counter.
            .filter(|p| match kind {
                PersonKind::Analyst => p.analyst,
                _ => !p.analyst && p.subject.kind() == kind.as_str(),
            })
            .map(|p| DemoPerson {
                person_id: p.subject.id_string(),
                display_name: p.display_name,
                detail: p.detail,
            })
            .collect(),
        Err(error) => {
            tracing::error!(%error, "demo people for the development e-ID");
            Vec::new()
        }
    };
    render(
        &DevEidPage {
            visitor,
            kind: kind.as_str(),
            kind_label: kind.label(),
            return_to,
            people,
        },
        StatusCode::OK,
    )
}

/// A test personnummer offered as a hint in the booking form.
struct PersonnummerHint {
    number: &'static str,
    name: &'static str,
}

#[derive(Template)]
#[template(path = "guide.html")]
struct GuidePage {
    visitor: Option<Visitor>,
    hints: Vec<PersonnummerHint>,
}

pub(crate) async fn guide(State(booking): State<Booking>, headers: HeaderMap) -> Response {
    let visitor = match require(&booking, &headers, PersonKind::Guide, "/guide").await {
        Ok(v) => v,
        Err(redirect) => return redirect,
    };
    // The demo's test numbers (Skatteverket's, nobody's) only where the demo can be signed into.
    let hints = if dev_eid_enabled(&booking) && booking.config().demo_data {
        use booking::demo::*;
        vec![
            PersonnummerHint {
                number: CITIZEN_1_PERSONNUMMER,
                name: CITIZEN_1_NAME,
            },
            PersonnummerHint {
                number: CITIZEN_2_PERSONNUMMER,
                name: CITIZEN_2_NAME,
            },
            PersonnummerHint {
                number: CITIZEN_3_PERSONNUMMER,
                name: CITIZEN_3_NAME,
            },
        ]
    } else {
        Vec::new()
    };
    render(
        &GuidePage {
            visitor: Some(visitor),
            hints,
        },
        StatusCode::OK,
    )
}

#[derive(Template)]
#[template(path = "officer.html")]
struct OfficerPage {
    visitor: Option<Visitor>,
    /// The officer's desk is in Swedish; the shared meeting view reads its words from Fluent.
    tr: Tr,
}

pub(crate) async fn officer(State(booking): State<Booking>, headers: HeaderMap) -> Response {
    match require(&booking, &headers, PersonKind::Officer, "/officer").await {
        Ok(v) => render(
            &OfficerPage {
                visitor: Some(v),
                tr: Tr::new(Lang::Sv),
            },
            StatusCode::OK,
        ),
        Err(redirect) => redirect,
    }
}

/// A language on the booth's first screen: named in itself, its "choose" in itself.
struct LanguageChoice {
    code: &'static str,
    dir: &'static str,
    name: String,
    prompt: String,
    href: String,
}

/// One of the five faces of the satisfaction question.
struct Face {
    value: u8,
    label: String,
    /// The SVG path of the mouth, from a deep frown to a broad smile.
    mouth: &'static str,
}

/// A code of the feedback form with its words.
struct Choice {
    code: &'static str,
    label: String,
}

#[derive(Template)]
#[template(path = "booth.html")]
struct BoothPage {
    tr: Tr,
    /// No language chosen yet: the first screen. The next citizen always starts here.
    choosing: bool,
    languages: Vec<LanguageChoice>,
    /// Back to the first screen.
    language_href: String,
    faces: Vec<Face>,
    feedback_kinds: Vec<Choice>,
    feedback_categories: Vec<Choice>,
    booth_id: String,
    booth_name: String,
    /// This device is the booth's enrolled kiosk. Otherwise the page asks for an enrolment code.
    kiosk: bool,
    /// BankID is offered: the kiosk shows its QR code.
    bankid: bool,
    dev_eid: bool,
}

#[derive(Deserialize)]
pub(crate) struct BoothQuery {
    /// The citizen's language (`sv`, `ar`, …); none or unknown: the language screen, in Swedish.
    lang: Option<String>,
}

/// The booth kiosk: a device in a room, not a person. An enrolled kiosk first asks for a
/// language (`?lang=` then carries it), then shows its booth's next meeting and lets the citizen
/// identify for it; any other device is asked to enrol.
pub(crate) async fn booth(
    State(booking): State<Booking>,
    headers: HeaderMap,
    Path(booth_id): Path<String>,
    Query(query): Query<BoothQuery>,
) -> Response {
    let no_such_booth = || {
        let page = ErrorPage {
            visitor: None,
            heading: "Mötesrummet finns inte",
            detail: "Adressen pekar inte på något mötesrum. Fråga servicekontorets administratör.",
        };
        render(&page, StatusCode::NOT_FOUND)
    };
    let Ok(id) = booth_id.parse::<booking::ids::BoothId>() else {
        return no_such_booth();
    };
    let looked_up = async {
        let booth = booking.store().booth(id).await?;
        let device = booking::booth_devices::device_of(&booking, &headers).await?;
        Ok::<_, booking::store::StoreError>((booth, device))
    };
    let (booth, device) = match looked_up.await {
        Ok((Some(booth), device)) => (booth, device),
        Ok((None, _)) => return no_such_booth(),
        Err(e) => {
            tracing::error!(error = %e, "booth look-up failed");
            let page = ErrorPage {
                visitor: None,
                heading: "Något gick fel",
                detail: "Mötesrummet kunde inte visas. Försök igen om en stund.",
            };
            return render(&page, StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    // A kiosk never shows who is signed in on it: the template leaves out the header.
    let chosen = query.lang.as_deref().and_then(Lang::parse);
    let tr = Tr::new(chosen.unwrap_or(Lang::Sv));
    let here = format!("/booth/{}", path_segment(&id.to_string()));
    let page = BoothPage {
        tr,
        choosing: chosen.is_none(),
        languages: Lang::ALL
            .into_iter()
            .map(|l| LanguageChoice {
                code: l.code(),
                dir: l.dir(),
                name: Tr::new(l).t("language-name"),
                prompt: Tr::new(l).t("language-choose"),
                href: format!("{here}?lang={}", l.code()),
            })
            .collect(),
        language_href: here,
        faces: faces(&tr),
        feedback_kinds: vec![
            Choice {
                code: "complaint",
                label: tr.t("feedback-complaint"),
            },
            Choice {
                code: "suggestion",
                label: tr.t("feedback-suggestion"),
            },
            Choice {
                code: "praise",
                label: tr.t("feedback-praise"),
            },
        ],
        feedback_categories: feedback_categories(&tr),
        kiosk: device.is_some_and(|d| d.booth_id == id),
        booth_id: id.to_string(),
        booth_name: booth.name,
        bankid: booking
            .identity_providers()
            .iter()
            .any(|p| p.name() == "bankid"),
        dev_eid: dev_eid_enabled(&booking),
    };
    render(&page, StatusCode::OK)
}

fn faces(tr: &Tr) -> Vec<Face> {
    vec![
        Face {
            value: 1,
            label: tr.t("survey-face-1"),
            mouth: "M18 48 Q32 34 46 48",
        },
        Face {
            value: 2,
            label: tr.t("survey-face-2"),
            mouth: "M20 46 Q32 40 44 46",
        },
        Face {
            value: 3,
            label: tr.t("survey-face-3"),
            mouth: "M20 44 L44 44",
        },
        Face {
            value: 4,
            label: tr.t("survey-face-4"),
            mouth: "M20 42 Q32 50 44 42",
        },
        Face {
            value: 5,
            label: tr.t("survey-face-5"),
            mouth: "M18 40 Q32 56 46 40",
        },
    ]
}

/// What feedback can be about, as the codes booking stores (`category`) with their words.
fn feedback_categories(tr: &Tr) -> Vec<Choice> {
    vec![
        Choice {
            code: "waiting_time",
            label: tr.t("feedback-waiting-time"),
        },
        Choice {
            code: "accessibility",
            label: tr.t("feedback-accessibility"),
        },
        Choice {
            code: "technical",
            label: tr.t("feedback-technical"),
        },
        Choice {
            code: "treatment",
            label: tr.t("feedback-treatment"),
        },
        Choice {
            code: "premises",
            label: tr.t("feedback-premises"),
        },
        Choice {
            code: "other",
            label: tr.t("feedback-other"),
        },
    ]
}

/// Percent-encodes one path segment (everything but RFC 3986 unreserved characters).
fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_eid_href_encodes_the_return_path() {
        assert_eq!(
            dev_eid_href(PersonKind::Citizen, "/booth/a b"),
            "/dev-eid?kind=citizen&return_to=%2Fbooth%2Fa+b"
        );
    }

    #[test]
    fn path_segment_keeps_unreserved_and_encodes_the_rest() {
        assert_eq!(path_segment("booth-1_a.b~c"), "booth-1_a.b~c");
        assert_eq!(path_segment("a/b?c"), "a%2Fb%3Fc");
        assert_eq!(path_segment("å"), "%C3%A5");
    }
}
