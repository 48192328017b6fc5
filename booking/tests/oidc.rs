//! OpenID Connect sign-in through the HTTP API against a real OpenID provider: `oidc-provider`
//! (tests/e2e/oidc-provider.mjs) started by each test on a free port, its login form filled in
//! over HTTP as a browser would. The full code flow with PKCE for an officer, a guide and a
//! Freja eID citizen; then each refusal (tampered state, replayed code, another issuer's answer,
//! another login's nonce, a level of assurance too low, staff the agency does not know, an expired
//! login, a return path elsewhere) with its stable code and nothing stored; and an ID token is no
//! join token.
//!
//! Needs Node.js and the e2e npm packages (`cd tests/e2e && npm ci`); without them each test says
//! so and passes without running.

mod common;

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, Method, Request, StatusCode, Uri, header};
use booking::config::{OidcProviderConfig, OidcPurpose};
use booking::http_client::{self, Target};
use booking::oidc::client::RelyingParty;
use booking::{Booking, BookingConfig, Environment, ManualClock, Secret, demo};
use common::*;
use http_body_util::Full;
use hyper::body::Bytes;
use tokio::io::{AsyncBufReadExt, BufReader};

const CLIENT_ID: &str = "narvaro";
const CLIENT_SECRET: &str = "s3cret-of-the-test";
const PUBLIC_URL: &str = "http://localhost:8080";
const LOA3: &str = "http://id.elegnamnden.se/loa/1.0/loa3";
/// The configured providers: Försäkringskassan's officers, Ljusdal's guides, Freja eID.
const OFFICERS: &str = "fk";
const GUIDES: &str = "ljusdal";
const FREJA: &str = "freja";

fn e2e_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e")
}

/// A running `oidc-provider`; stopped when dropped.
struct OpenIdProvider {
    issuer: String,
    _child: tokio::process::Child,
}

/// Starts the test provider with the client Närvaro is registered as, or `None` (and says why)
/// when Node.js or the npm package is missing.
async fn start_provider() -> Option<OpenIdProvider> {
    let dir = e2e_dir();
    if !dir.join("node_modules/oidc-provider/package.json").exists() {
        eprintln!(
            "skipping: the npm package oidc-provider is not installed (cd tests/e2e && npm ci)"
        );
        return None;
    }
    let mut command = tokio::process::Command::new("node");
    command
        .current_dir(&dir)
        .arg("oidc-provider.mjs")
        .args(["--port", "0", "--client-id", CLIENT_ID])
        .args(["--client-secret", CLIENT_SECRET]);
    for name in [OFFICERS, GUIDES, FREJA] {
        command.args(["--redirect-uri", &redirect_uri(name)]);
    }
    // stdin stays open while the test runs: the provider ends when it closes.
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("skipping: cannot run node ({e})");
            return None;
        }
    };
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    // Generous: every test of this file starts its own provider at once, on a machine of two
    // cores that is compiling and testing other things too.
    tokio::time::timeout(
        Duration::from_secs(180),
        BufReader::new(stdout).read_line(&mut line),
    )
    .await
    .expect("the provider says its issuer within 180 s")
    .unwrap();
    let issuer = line.trim().to_owned();
    assert!(issuer.starts_with("http://127.0.0.1:"), "{issuer:?}");
    Some(OpenIdProvider {
        issuer,
        _child: child,
    })
}

fn redirect_uri(name: &str) -> String {
    format!("{PUBLIC_URL}/api/v1/{name}/callback")
}

fn provider_config(name: &str, issuer: &str, purpose: OidcPurpose) -> OidcProviderConfig {
    OidcProviderConfig {
        name: name.to_owned(),
        display_name: None,
        issuer: issuer.to_owned(),
        client_id: CLIENT_ID.to_owned(),
        client_secret: Secret::new(CLIENT_SECRET),
        purpose,
        agency_id: (purpose == OidcPurpose::Officer).then_some(demo::AGENCY_FORSAKRINGSKASSAN),
        centre_id: (purpose == OidcPurpose::Guide).then_some(demo::CENTRE_LJUSDAL),
        scopes: None,
        acr_values: if purpose == OidcPurpose::Citizen {
            vec![LOA3.to_owned()]
        } else {
            vec![]
        },
        personal_number_claim: booking::config::PERSONAL_IDENTITY_NUMBER_CLAIM.to_owned(),
    }
}

struct Rig {
    booking: Booking,
    app: Router,
    clock: Arc<ManualClock>,
    provider: OpenIdProvider,
}

/// Booking with the three providers, all at the same test provider, on booking's clock set to
/// now (the provider's tokens carry real times).
async fn rig(db: &TestDb) -> Option<Rig> {
    let provider = start_provider().await?;
    let config = BookingConfig {
        oidc_providers: vec![
            provider_config(OFFICERS, &provider.issuer, OidcPurpose::Officer),
            provider_config(GUIDES, &provider.issuer, OidcPurpose::Guide),
            provider_config(FREJA, &provider.issuer, OidcPurpose::Citizen),
        ],
        ..db.config.clone()
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let clock = Arc::new(ManualClock::new(now));
    let booking = Booking::open_with_clock(&config, Environment::Development, clock.clone())
        .await
        .unwrap();
    Some(Rig {
        app: booking.router(),
        booking,
        clock,
        provider,
    })
}

/// A browser at the provider: follows its redirects with its cookies, fills in its login form.
#[derive(Default)]
struct ProviderBrowser {
    cookies: HashMap<String, String>,
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl ProviderBrowser {
    async fn request(&mut self, method: Method, url: &str, form: Option<String>) -> Page {
        let uri: Uri = url.parse().unwrap();
        let target = Target::of_url(&uri, None).unwrap();
        let mut req = Request::builder()
            .method(method)
            .uri(uri.path_and_query().unwrap().as_str());
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header(header::COOKIE, jar.join("; "));
        }
        if form.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let req = req
            .body(Full::new(Bytes::from(form.unwrap_or_default())))
            .unwrap();
        let answer = http_client::send(&target, req, 1 << 20, Duration::from_secs(10))
            .await
            .unwrap();
        for set in answer.headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            let attributes = attributes.to_ascii_lowercase();
            if value.is_empty() || attributes.contains("expires=thu, 01 jan 1970") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let location = answer.headers.get(header::LOCATION).map(|l| {
            let l = l.to_str().unwrap();
            if l.starts_with('/') {
                format!(
                    "{}://{}{l}",
                    uri.scheme_str().unwrap(),
                    uri.authority().unwrap()
                )
            } else {
                l.to_owned()
            }
        });
        Page {
            status: answer.status,
            location,
            body: String::from_utf8_lossy(&answer.body).into_owned(),
        }
    }

    /// Goes to `authorization_url`, signs in as `login`, and returns where the provider sends
    /// the browser back to Närvaro (path and query, for the router).
    async fn sign_in(&mut self, authorization_url: &str, login: &str) -> String {
        let mut url = authorization_url.to_owned();
        let mut form = None;
        for _ in 0..12 {
            let method = if form.is_some() {
                Method::POST
            } else {
                Method::GET
            };
            let page = self.request(method, &url, form.take()).await;
            if let Some(next) = page.location {
                if let Some(back) = next.strip_prefix(PUBLIC_URL) {
                    return back.to_owned();
                }
                url = next;
                continue;
            }
            assert_eq!(page.status, StatusCode::OK, "{url}: {}", page.body);
            assert!(
                page.body.contains("Logga in hos testleverantören"),
                "{}",
                page.body
            );
            let action = page
                .body
                .split("action=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .expect("the login form posts somewhere");
            let issuer: Uri = url.parse().unwrap();
            url = format!("http://{}{action}", issuer.authority().unwrap());
            form = Some(
                serde_urlencoded::to_string([("login", login), ("password", "demo")]).unwrap(),
            );
        }
        panic!("the provider did not send the browser back");
    }
}

/// A login started at Närvaro: the browser's binding cookie and where it is sent.
struct Started {
    cookie: String,
    authorization_url: String,
}

async fn start_login(app: &Router, provider: &str, return_to: &str) -> Started {
    let uri = booking::oidc::login_path(provider, return_to);
    let a = get(app, &uri, None).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    let set = a.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    for attribute in [
        "HttpOnly",
        "SameSite=Lax",
        &format!("Path=/api/v1/{provider}"),
        "Max-Age=600",
    ] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    let cookie = set.split(';').next().unwrap().to_owned();
    assert!(
        cookie.starts_with("narvaro_oidc=") && cookie.len() > 40,
        "{cookie}"
    );
    let authorization_url = a
        .headers
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    Started {
        cookie,
        authorization_url,
    }
}

fn query_of(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    serde_urlencoded::from_str(query).unwrap()
}

fn param(url: &str, name: &str) -> Option<String> {
    query_of(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// `url` with parameter `name` set to `value` (or removed, `None`).
fn with_param(url: &str, name: &str, value: Option<&str>) -> String {
    let (base, _) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<(String, String)> = query_of(url)
        .into_iter()
        .filter(|(k, _)| k != name)
        .collect();
    if let Some(v) = value {
        params.push((name.to_owned(), v.to_owned()));
    }
    format!("{base}?{}", serde_urlencoded::to_string(&params).unwrap())
}

/// The `narvaro_session` cookie the answer sets, if any.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("narvaro_session=") && !v.starts_with("narvaro_session=;"))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// Signs in through `provider` as `login`; the callback's answer.
async fn full_login(r: &Rig, provider: &str, login: &str, return_to: &str) -> Answer {
    tampered_login(r, provider, login, return_to, str::to_owned, str::to_owned).await
}

/// Starts a login through `provider` and signs in at it as `login`: the login, and the answer the
/// provider sends the browser back with (not yet given to Närvaro).
async fn at_provider(r: &Rig, provider: &str, login: &str, return_to: &str) -> (Started, String) {
    let started = start_login(&r.app, provider, return_to).await;
    let back = ProviderBrowser::default()
        .sign_in(&started.authorization_url, login)
        .await;
    (started, back)
}

/// As [`full_login`], the authorization request and the provider's answer each passed through a
/// change first (a test's tampering on the way).
async fn tampered_login(
    r: &Rig,
    provider: &str,
    login: &str,
    return_to: &str,
    request: impl FnOnce(&str) -> String,
    answer: impl FnOnce(&str) -> String,
) -> Answer {
    let started = start_login(&r.app, provider, return_to).await;
    let back = ProviderBrowser::default()
        .sign_in(&request(&started.authorization_url), login)
        .await;
    get(&r.app, &answer(&back), Some(&started.cookie)).await
}

async fn assert_signed_in(r: &Rig, answer: &Answer, return_to: &str) -> serde_json::Value {
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    assert_eq!(answer.headers.get(header::LOCATION).unwrap(), return_to);
    let cookie = session_cookie(&answer.headers).expect("a session cookie");
    // The binding cookie is cleared with the answer.
    assert!(
        answer
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("narvaro_oidc=;")),
        "{:?}",
        answer.headers
    );
    let session = get(&r.app, "/api/v1/session", Some(&cookie)).await;
    assert_eq!(session.status, StatusCode::OK, "{}", session.text);
    session.body
}

impl Rig {
    /// A refused callback: its status and code, no session, and the store as `before`.
    async fn refused(&self, answer: &Answer, (status, code): Refusal, before: &Counts) {
        assert_eq!(
            (answer.status, answer.code()),
            (status, code),
            "{}",
            answer.text
        );
        assert_eq!(session_cookie(&answer.headers), None);
        assert_eq!(&self.counts().await, before);
    }

    async fn counts(&self) -> Counts {
        self.booking.store().table_counts().await.unwrap()
    }
}

type Counts = Vec<(&'static str, i64)>;

/// How a callback is refused: its status and stable code (docs/identity.md lists them).
type Refusal = (StatusCode, &'static str);
const ACR_NOT_ALLOWED: Refusal = (StatusCode::FORBIDDEN, "oidc_acr_not_allowed");
const CODE_REJECTED: Refusal = (StatusCode::BAD_REQUEST, "oidc_code_rejected");
const LOGIN_EXPIRED: Refusal = (StatusCode::BAD_REQUEST, "oidc_login_expired");
const LOGIN_NOT_FOUND: Refusal = (StatusCode::BAD_REQUEST, "oidc_login_not_found");
const NONCE_MISMATCH: Refusal = (StatusCode::FORBIDDEN, "oidc_nonce_mismatch");
const STATE_MISMATCH: Refusal = (StatusCode::BAD_REQUEST, "oidc_state_mismatch");
const WRONG_ISSUER: Refusal = (StatusCode::BAD_REQUEST, "oidc_wrong_issuer");
const UNKNOWN_PERSON: Refusal = (StatusCode::FORBIDDEN, "oidc_unknown_person");
const EMAIL_UNVERIFIED: Refusal = (StatusCode::FORBIDDEN, "oidc_email_unverified");
const EMAIL_MISSING: Refusal = (StatusCode::FORBIDDEN, "oidc_email_missing");

/// The officer signs in at her agency's provider: the authorization request is the code flow
/// with PKCE S256, a fresh state and nonce and the exact redirect URI; she comes back to the
/// agenda signed in as herself, with `staff_login`; the login row is gone.
async fn an_officer_signs_in_through_the_agency_provider_with_pkce(db: &TestDb) {
    let Some(r) = rig(db).await else { return };
    let before = r.counts().await;
    let started = start_login(&r.app, OFFICERS, "/officer").await;
    let url = &started.authorization_url;
    assert!(
        url.starts_with(&format!("{}/auth?", r.provider.issuer)),
        "{url}"
    );
    assert_eq!(param(url, "response_type").as_deref(), Some("code"));
    assert_eq!(param(url, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(param(url, "redirect_uri"), Some(redirect_uri(OFFICERS)));
    assert_eq!(param(url, "code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param(url, "scope").as_deref(), Some("openid email profile"));
    for p in ["state", "nonce", "code_challenge"] {
        assert!(param(url, p).is_some_and(|v| v.len() >= 43), "{p} in {url}");
    }
    assert_eq!(
        param(url, "code_verifier"),
        None,
        "the verifier stays on the server"
    );
    let again = start_login(&r.app, OFFICERS, "/officer").await;
    for p in ["state", "nonce", "code_challenge"] {
        assert_ne!(
            param(url, p),
            param(&again.authorization_url, p),
            "{p} is fresh"
        );
    }

    let back = ProviderBrowser::default().sign_in(url, "anna").await;
    assert!(
        back.starts_with(&format!("/api/v1/{OFFICERS}/callback?")),
        "{back}"
    );
    assert_eq!(param(&back, "iss"), Some(r.provider.issuer.clone()));
    let answer = get(&r.app, &back, Some(&started.cookie)).await;
    let session = assert_signed_in(&r, &answer, "/officer").await;
    assert_eq!(session["kind"], "officer");
    assert_eq!(session["person_id"], demo::OFFICER_ANNA.to_string());
    assert_eq!(session["method"], "staff_login");
    // One login used, the other still waiting: the store holds that one's row and nothing new.
    let after = r.counts().await;
    let rows = |counts: &[(&str, i64)], t: &str| counts.iter().find(|(n, _)| *n == t).unwrap().1;
    assert_eq!(rows(&after, "oidc_logins"), 1);
    let others = |c: &[(&'static str, i64)]| -> Vec<(&'static str, i64)> {
        c.iter()
            .filter(|(n, _)| *n != "oidc_logins")
            .cloned()
            .collect()
    };
    assert_eq!(others(&after), others(&before));
}
on_both_databases!(an_officer_signs_in_through_the_agency_provider_with_pkce);

/// The centre's guide signs in at the centre's provider and is a guide session.
async fn a_guide_signs_in_through_the_centre_provider(db: &TestDb) {
    let Some(r) = rig(db).await else { return };
    let answer = full_login(&r, GUIDES, "maria", "/guide").await;
    let session = assert_signed_in(&r, &answer, "/guide").await;
    assert_eq!(session["kind"], "guide");
    assert_eq!(session["person_id"], demo::GUIDE.to_string());
    assert_eq!(session["method"], "staff_login");
}
on_both_databases!(a_guide_signs_in_through_the_centre_provider);

/// An agency's analyst signs in where its officers do, and has the follow-up figures and nothing
/// of casework.
async fn an_analyst_signs_in_through_the_agency_provider_to_the_follow_up(db: &TestDb) {
    let Some(r) = rig(db).await else { return };
    let answer = full_login(&r, OFFICERS, "lena", "/follow-up").await;
    let session = assert_signed_in(&r, &answer, "/follow-up").await;
    assert_eq!(session["person_id"], demo::OFFICER_LENA_ANALYST.to_string());
    assert_eq!(session["method"], "staff_login");
    let cookie = session_cookie(&answer.headers).expect("a session cookie");
    let figures = get(
        &r.app,
        "/api/v1/follow-up?from=2026-06-15&to=2026-06-15",
        Some(&cookie),
    )
    .await;
    assert_eq!(figures.status, StatusCode::OK, "{}", figures.text);
    let agenda = get(&r.app, "/api/v1/bookings", Some(&cookie)).await;
    assert_eq!(
        (agenda.status, agenda.code()),
        (StatusCode::FORBIDDEN, "staff_only")
    );
}
on_both_databases!(an_analyst_signs_in_through_the_agency_provider_to_the_follow_up);

/// A citizen identifies with Freja eID through the broker: the personnummer claim finds demo
/// citizen 1, at level of assurance 3, signed in with `freja_eid`.
async fn a_citizen_signs_in_with_freja_eid_by_personnummer(db: &TestDb) {
    let Some(r) = rig(db).await else { return };
    let before = r.counts().await;
    let started = start_login(&r.app, FREJA, "/").await;
    let url = &started.authorization_url;
    assert_eq!(param(url, "acr_values").as_deref(), Some(LOA3));
    assert_eq!(
        param(url, "scope").as_deref(),
        Some("openid https://id.oidc.se/scope/naturalPersonNumber profile")
    );
    let back = ProviderBrowser::default().sign_in(url, "tolvan").await;
    let answer = get(&r.app, &back, Some(&started.cookie)).await;
    let session = assert_signed_in(&r, &answer, "/").await;
    assert_eq!(session["kind"], "citizen");
    assert_eq!(session["person_id"], demo::CITIZEN_1.to_string());
    assert_eq!(session["display_name"], demo::CITIZEN_1_NAME);
    assert_eq!(session["method"], "freja_eid");
    // Found, not added.
    assert_eq!(r.counts().await, before);
}
on_both_databases!(a_citizen_signs_in_with_freja_eid_by_personnummer);

/// An answer whose `state` is not the login's is refused, and the login is spent: the genuine
/// answer afterwards is refused too.
async fn a_tampered_state_is_refused(db: &TestDb) {
    let Some(r) = rig(db).await else { return };
    let before = r.counts().await;
    let (started, back) = at_provider(&r, OFFICERS, "anna", "/officer").await;
    let state = param(&back, "state").unwrap();
    let tampered = with_param(&back, "state", Some(&format!("{state}x")));
    let answer = get(&r.app, &tampered, Some(&started.cookie)).await;
    r.refused(&answer, STATE_MISMATCH, &before).await;
    let answer = get(
        &r.app,
        &with_param(&back, "state", None),
        Some(&started.cookie),
    )
    .await;
    r.refused(&answer, LOGIN_NOT_FOUND, &before).await;
    let answer = get(&r.app, &back, Some(&started.cookie)).await;
    r.refused(&answer, LOGIN_NOT_FOUND, &before).await;
    // Without the browser's cookie, the answer is nobody's.
    let (_started, back) = at_provider(&r, OFFICERS, "anna", "/officer").await;
    let mid = r.counts().await;
    let answer = get(&r.app, &back, None).await;
    r.refused(&answer, LOGIN_NOT_FOUND, &mid).await;
}
on_both_databases!(a_tampered_state_is_refused);

/// A person's browser (it asks for HTML) is sent back to the sign-in page with the refusal's
/// code, which the page turns into words; the login is spent all the same.
async fn a_browser_is_sent_back_to_sign_in_with_the_refusal(db: &TestDb) {
    let Some(r) = rig(db).await else { return };
    let (started, back) = at_provider(&r, OFFICERS, "anna", "/officer").await;
    let state = param(&back, "state").unwrap();
    let tampered = with_param(&back, "state", Some(&format!("{state}x")));
    let request = axum::http::Request::get(tampered.as_str())
        .header(axum::http::header::COOKIE, &started.cookie)
        .header(
            axum::http::header::ACCEPT,
            "text/html,application/xhtml+xml,*/*;q=0.8",
        )
        .body(axum::body::Body::empty())
        .unwrap();
    let answer = send(&r.app, request).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    assert_eq!(
        answer.headers[axum::http::header::LOCATION],
        "/sign-in?kind=officer&refused=oidc_state_mismatch"
    );
    let answer = get(&r.app, &back, Some(&started.cookie)).await;
    assert_eq!(answer.code(), "oidc_login_not_found");
}
on_both_databases!(a_browser_is_sent_back_to_sign_in_with_the_refusal);

/// A code is used once: the same answer again finds no login (spent at Närvaro), and the code
/// carried into another login of the same browser is refused by the provider (used, and not
/// that login's PKCE verifier).
async fn a_replayed_code_is_refused(db: &TestDb) {
    let Some(r) = rig(db).await else { return };
    let (started, back) = at_provider(&r, OFFICERS, "anna", "/officer").await;
    let answer = get(&r.app, &back, Some(&started.cookie)).await;
    assert_signed_in(&r, &answer, "/officer").await;
    let before = r.counts().await;
    let answer = get(&r.app, &back, Some(&started.cookie)).await;
    r.refused(&answer, LOGIN_NOT_FOUND, &before).await;

    let fresh = start_login(&r.app, OFFICERS, "/officer").await;
    let state = param(&fresh.authorization_url, "state").unwrap();
    let replay = with_param(&back, "state", Some(&state));
    let answer = get(&r.app, &replay, Some(&fresh.cookie)).await;
    r.refused(&answer, CODE_REJECTED, &before).await;
}
on_both_databases!(a_replayed_code_is_refused);

/// A mix-up: the browser is sent to a second provider (another issuer, the same client and
/// redirect URI) and comes back with its answer; refused by the RFC 9207 `iss` parameter. So is
/// the genuine answer with `iss` altered or left out.
async fn an_answer_from_another_issuer_is_refused(db: &TestDb) {
    let Some(r) = rig(db).await else { return };
    let Some(other) = start_provider().await else {
        return;
    };
    assert_ne!(other.issuer, r.provider.issuer);
    let before = r.counts().await;
    let (ours, theirs) = (r.provider.issuer.clone(), other.issuer.clone());
    let elsewhere = |url: &str| url.replacen(&ours, &theirs, 1);
    let answer = tampered_login(&r, OFFICERS, "anna", "/officer", elsewhere, |back| {
        assert_eq!(param(back, "iss"), Some(other.issuer.clone()));
        back.to_owned()
    })
    .await;
    r.refused(&answer, WRONG_ISSUER, &before).await;

    for iss in [
        Some(other.issuer.as_str()),
        Some("https://idp.example"),
        None,
    ] {
        let altered = |back: &str| with_param(back, "iss", iss);
        let answer = tampered_login(&r, OFFICERS, "anna", "/officer", str::to_owned, altered).await;
        r.refused(&answer, WRONG_ISSUER, &before).await;
    }
}
on_both_databases!(an_answer_from_another_issuer_is_refused);

/// The authorization request altered on its way (another `nonce`, everything else the login's):
/// the provider issues its ID token for that nonce, and Närvaro refuses it.
async fn an_id_token_for_another_nonce_is_refused(db: &TestDb) {
    let Some(r) = rig(db).await else { return };
    let before = r.counts().await;
    let altered = |url: &str| with_param(url, "nonce", Some("a-nonce-of-someone-else"));
    let answer = tampered_login(&r, OFFICERS, "anna", "/officer", altered, str::to_owned).await;
    r.refused(&answer, NONCE_MISMATCH, &before).await;
}
on_both_databases!(an_id_token_for_another_nonce_is_refused);

/// A citizen identified at a lower level of assurance than configured is refused (the provider
/// answers with `acr` loa2 although loa3 was asked for) and no citizen is added or found.
async fn a_citizen_below_the_required_level_of_assurance_is_refused(db: &TestDb) {
    let Some(r) = rig(db).await else { return };
    let before = r.counts().await;
    let answer = full_login(&r, FREJA, "tolvan-loa2", "/").await;
    r.refused(&answer, ACR_NOT_ALLOWED, &before).await;
}
on_both_databases!(a_citizen_below_the_required_level_of_assurance_is_refused);

/// Staff the agency does not know, an address the provider has not verified, and the centre's
/// guide at the agency's provider are each refused, and nothing is stored.
async fn staff_the_provider_vouches_for_but_we_do_not_know_are_refused(db: &TestDb) {
    let Some(r) = rig(db).await else { return };
    let before = r.counts().await;
    for (provider, login, code) in [
        (OFFICERS, "okand", UNKNOWN_PERSON),
        (OFFICERS, "maria", UNKNOWN_PERSON),
        (GUIDES, "anna", UNKNOWN_PERSON),
        (OFFICERS, "anna-unverified", EMAIL_UNVERIFIED),
        // A citizen's identity at a staff provider names no email.
        (OFFICERS, "tolvan", EMAIL_MISSING),
    ] {
        let answer = full_login(&r, provider, login, "/officer").await;
        r.refused(&answer, code, &before).await;
    }
}
on_both_databases!(staff_the_provider_vouches_for_but_we_do_not_know_are_refused);

/// A login answered after its ten minutes is refused; a return path to another origin is refused
/// before anything is stored.
async fn an_expired_login_and_a_foreign_return_path_are_refused(db: &TestDb) {
    let Some(r) = rig(db).await else { return };
    let before = r.counts().await;
    let (started, back) = at_provider(&r, OFFICERS, "anna", "/officer").await;
    r.clock.advance(booking::oidc::LOGIN_LIFETIME_SECS + 1);
    let answer = get(&r.app, &back, Some(&started.cookie)).await;
    r.refused(&answer, LOGIN_EXPIRED, &before).await;

    for bad in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let a = get(&r.app, &booking::oidc::login_path(OFFICERS, bad), None).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::BAD_REQUEST, "invalid_return_to")
        );
        assert!(a.headers.get(header::SET_COOKIE).is_none());
        assert!(a.headers.get(header::LOCATION).is_none());
    }
    assert_eq!(r.counts().await, before);
}
on_both_databases!(an_expired_login_and_a_foreign_return_path_are_refused);

/// An ID token from the provider, or a staff session's cookie, offered to signalling as a join
/// token is refused: not with booking's keys, and not even with the provider's own keys (its
/// `typ` and audience are not a join token's).
async fn an_id_token_or_a_session_is_not_a_join_token(db: &TestDb) {
    use signalling::ids::RoomId;
    use signalling::token::{JoinTokenVerifier, KeySource};

    let Some(r) = rig(db).await else { return };
    // Närvaro's client, driven by the test, to hold the ID token booking never hands out.
    let rp = RelyingParty::new(
        provider_config(OFFICERS, &r.provider.issuer, OidcPurpose::Officer),
        redirect_uri(OFFICERS),
        None,
        r.booking.clock().clone(),
    );
    let verifier = "a-verifier-of-the-test-that-is-long-enough-for-rfc-7636";
    let challenge = {
        use base64::Engine;
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
    };
    let url = rp
        .authorization_url("state-1", "nonce-1", &challenge)
        .await
        .unwrap();
    let back = ProviderBrowser::default().sign_in(&url, "anna").await;
    let code = param(&back, "code").unwrap();
    let id_token = rp.redeem(&code, verifier).await.unwrap();
    rp.check(&id_token, "nonce-1").await.unwrap();

    let room = RoomId::from("bk-1");
    let now = booking::Clock::now(r.clock.as_ref());
    let ours = JoinTokenVerifier::new(r.booking.key_source(), "narvaro-booking");
    assert!(ours.verify(&id_token, &room, now).is_err());

    struct ProviderKeys(jsonwebtoken::jwk::JwkSet);
    impl KeySource for ProviderKeys {
        fn jwks(&self) -> jsonwebtoken::jwk::JwkSet {
            self.0.clone()
        }
    }
    let page = ProviderBrowser::default()
        .request(Method::GET, &format!("{}/jwks", r.provider.issuer), None)
        .await;
    let keys: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&page.body).unwrap();
    let theirs = JoinTokenVerifier::new(Arc::new(ProviderKeys(keys)), r.provider.issuer.clone());
    assert!(theirs.verify(&id_token, &room, now).is_err());

    let answer = full_login(&r, OFFICERS, "anna", "/officer").await;
    let session = session_cookie(&answer.headers).unwrap();
    let secret = session.trim_start_matches("narvaro_session=");
    assert!(ours.verify(secret, &room, now).is_err());
}
on_both_databases!(an_id_token_or_a_session_is_not_a_join_token);
