//! The pages against a real booking service on a fresh SQLite file: sign-in guards, the
//! development e-ID page, what the booth shows, and the headers every response carries.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use booking::{Booking, BookingConfig, Environment};
use tower::ServiceExt;

struct App {
    router: Router,
    _dir: TempDir,
}

/// A directory removed when the test ends.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn app_with(config: impl FnOnce(&mut BookingConfig)) -> App {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("narvaro-web-test-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cfg = BookingConfig {
        database_url: format!("sqlite://{}/narvaro.db?mode=rwc", dir.display()),
        ..BookingConfig::default()
    };
    config(&mut cfg);
    let booking = Booking::open(&cfg, Environment::Development)
        .await
        .expect("booking opens");
    App {
        router: booking.router().merge(web::router(booking)),
        _dir: TempDir(dir),
    }
}

async fn app() -> App {
    app_with(|_| {}).await
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl App {
    async fn request(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        json: Option<&str>,
    ) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        let body = match json {
            Some(j) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(j.to_owned())
            }
            None => Body::empty(),
        };
        let res = self
            .router
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = to_bytes(res.into_body(), 1 << 20).await.unwrap();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Answer {
        self.request("GET", path, cookie, None).await
    }

    /// Signs in through booking's development e-ID; returns the `Cookie` header value.
    async fn sign_in(&self, person_id: impl std::fmt::Display) -> String {
        let body = format!(r#"{{"person_id":"{person_id}"}}"#);
        let res = self
            .request("POST", "/api/v1/dev-eid/login", None, Some(&body))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let set_cookie = res
            .headers
            .get(header::SET_COOKIE)
            .expect("a session cookie")
            .to_str()
            .unwrap();
        set_cookie.split(';').next().unwrap().to_owned()
    }
}

fn assert_security_headers(headers: &HeaderMap, what: &str) {
    assert_eq!(
        headers.get(header::CONTENT_SECURITY_POLICY).unwrap(),
        web::CONTENT_SECURITY_POLICY,
        "{what}"
    );
    assert_eq!(
        headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
        "nosniff",
        "{what}"
    );
    assert_eq!(
        headers.get(header::REFERRER_POLICY).unwrap(),
        "no-referrer",
        "{what}"
    );
    assert_eq!(
        headers.get("permissions-policy").unwrap(),
        web::PERMISSIONS_POLICY,
        "{what}"
    );
}

/// What the CSP forbids must not be in the markup in the first place. A JSON data block (the
/// page's messages) is not code: the browser never runs a script of that type.
fn assert_no_inline_code(html: &str, what: &str) {
    let lower = html.to_lowercase();
    for (i, _) in lower.match_indices("<script") {
        let tag_end = lower[i..].find('>').unwrap() + i;
        let tag = &lower[i..tag_end];
        assert!(
            tag.contains(" src=") || tag.contains(r#" type="application/json""#),
            "{what}: inline <script> at {i}"
        );
    }
    assert!(!lower.contains("<style"), "{what}: <style> element");
    assert!(!lower.contains(" style="), "{what}: style attribute");
    for attr in [
        " onclick=",
        " onload=",
        " onerror=",
        " onsubmit=",
        " onchange=",
        "javascript:",
    ] {
        assert!(!lower.contains(attr), "{what}: {attr}");
    }
    // Swedish first; a page asked for in Arabic is in Arabic, right to left.
    let html_tag = if what.contains("lang=ar") {
        r#"<html lang="ar" dir="rtl""#
    } else {
        r#"<html lang="sv""#
    };
    assert!(lower.contains(html_tag), "{what}: lang");
}

#[tokio::test]
async fn every_page_and_asset_carries_the_security_headers_and_no_inline_code() {
    let app = app().await;
    let guide = app.sign_in(booking::demo::GUIDE).await;
    let officer = app.sign_in(booking::demo::OFFICER_ANNA).await;
    let citizen = app.sign_in(booking::demo::CITIZEN_1).await;
    let analyst = app.sign_in(booking::demo::OFFICER_LENA_ANALYST).await;
    let booth = format!("/booth/{}", booking::demo::BOOTH_1);
    let pages = [
        ("/", None),
        ("/follow-up", Some(analyst.as_str())),
        ("/follow-up?lang=ar", Some(analyst.as_str())),
        ("/dev-eid?kind=analyst&return_to=%2Ffollow-up", None),
        ("/dev-eid?kind=officer&return_to=%2Fofficer", None),
        ("/guide", Some(guide.as_str())),
        ("/officer", Some(officer.as_str())),
        (booth.as_str(), None),
        (booth.as_str(), Some(citizen.as_str())),
        ("/dev-eid?kind=nobody", None),
    ];
    for (path, cookie) in pages {
        let res = app.get(path, cookie).await;
        assert!(
            res.status == StatusCode::OK || res.status == StatusCode::BAD_REQUEST,
            "{path}: {}",
            res.status
        );
        assert_security_headers(&res.headers, path);
        assert_eq!(
            res.headers.get(header::CONTENT_TYPE).unwrap(),
            "text/html; charset=utf-8",
            "{path}"
        );
        assert_eq!(
            res.headers.get(header::CACHE_CONTROL).unwrap(),
            "no-store",
            "{path}"
        );
        assert_no_inline_code(&res.body, path);
    }
    for path in [
        "/static/meeting.js",
        "/static/style.css",
        "/static/nothing.js",
    ] {
        assert_security_headers(&app.get(path, None).await.headers, path);
    }
    assert_eq!(
        app.get("/static/nothing.js", None).await.status,
        StatusCode::NOT_FOUND
    );
    let js = app.get("/static/meeting.js", None).await;
    assert_eq!(
        js.headers.get(header::CONTENT_TYPE).unwrap(),
        "text/javascript; charset=utf-8"
    );
    assert!(js.body.contains("export async function joinMeeting"));
}

#[tokio::test]
async fn staff_pages_send_a_visitor_without_the_right_session_to_the_e_id_page() {
    let app = app().await;
    let citizen = app.sign_in(booking::demo::CITIZEN_1).await;
    for (path, expected) in [
        ("/guide", "/dev-eid?kind=guide&return_to=%2Fguide"),
        ("/officer", "/dev-eid?kind=officer&return_to=%2Fofficer"),
        ("/follow-up", "/dev-eid?kind=analyst&return_to=%2Ffollow-up"),
    ] {
        for cookie in [None, Some(citizen.as_str()), Some("narvaro_session=forged")] {
            let res = app.get(path, cookie).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{path} {cookie:?}");
            assert_eq!(
                res.headers.get(header::LOCATION).unwrap(),
                expected,
                "{path} {cookie:?}"
            );
            assert_security_headers(&res.headers, path);
        }
    }
}

#[tokio::test]
async fn signed_in_guide_gets_the_console_with_the_demo_personnummer_hints() {
    let app = app().await;
    let guide = app.sign_in(booking::demo::GUIDE).await;
    let res = app.get("/guide", Some(&guide)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body.contains("Maria Svensson"), "signed-in name shown");
    assert!(res.body.contains(booking::demo::CITIZEN_1_PERSONNUMMER));
    for id in [
        "service",
        "officer",
        "booth",
        "starts-at",
        "personnummer",
        "citizen-name",
    ] {
        assert!(
            res.body.contains(&format!(r#"<label for="{id}">"#)),
            "label for {id}"
        );
    }
}

#[tokio::test]
async fn dev_eid_lists_only_people_of_the_asked_kind() {
    let app = app().await;
    let res = app
        .get("/dev-eid?kind=officer&return_to=%2Fofficer", None)
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body.contains("Endast för utveckling"));
    assert!(res.body.contains("For development only"));
    assert!(res.body.contains("Anna Lindqvist"));
    assert!(res.body.contains(&booking::demo::OFFICER_ANNA.to_string()));
    assert!(!res.body.contains(booking::demo::CITIZEN_1_NAME));
    assert!(res.body.contains(r#"data-return-to="/officer""#));
    // Analysts sign in to the follow-up, not to a desk: listed apart, officers or guides alike.
    assert!(!res.body.contains("Lena Berg"));
    let res = app
        .get("/dev-eid?kind=analyst&return_to=%2Ffollow-up", None)
        .await;
    for name in ["Lena Berg", "Omar Said", "Per Holm"] {
        assert!(res.body.contains(name), "{name}");
    }
    assert!(!res.body.contains("Anna Lindqvist"));
    assert!(!res.body.contains("Maria Svensson"));
}

#[tokio::test]
async fn dev_eid_refuses_return_paths_off_this_site_and_unknown_kinds() {
    let app = app().await;
    for query in [
        "kind=citizen&return_to=%2F%2Fevil.example",
        "kind=citizen&return_to=https%3A%2F%2Fevil.example%2F",
        "kind=citizen&return_to=%2F%5Cevil.example",
        "kind=citizen&return_to=guide",
        "kind=admin&return_to=%2F",
    ] {
        let res = app.get(&format!("/dev-eid?{query}"), None).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(
            !res.body.contains("evil.example"),
            "{query}: the bad target is not echoed"
        );
    }
}

#[tokio::test]
async fn dev_eid_page_is_not_found_where_the_development_e_id_is_off() {
    let app = app_with(|c| c.dev_eid = Some(false)).await;
    let res = app.get("/dev-eid?kind=citizen&return_to=%2F", None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(!res.body.contains(booking::demo::CITIZEN_1_NAME));
}

#[tokio::test]
async fn booth_asks_to_be_enrolled_until_it_is_that_booths_kiosk() {
    let app = app().await;
    let path = format!("/booth/{}", booking::demo::BOOTH_1);
    let anonymous = app.get(&path, None).await;
    assert_eq!(anonymous.status, StatusCode::OK);
    assert!(
        anonymous.body.contains("Registrera mötesrummets dator"),
        "{}",
        anonymous.body
    );
    assert!(anonymous.body.contains("/static/booth-enrol.js"));
    assert!(!anonymous.body.contains("/static/booth.js"));
    // A person's session does not make a browser a kiosk.
    let citizen = app.sign_in(booking::demo::CITIZEN_1).await;
    assert!(
        app.get(&path, Some(&citizen))
            .await
            .body
            .contains("Registrera mötesrummets dator")
    );

    let body = format!(r#"{{"booth_id":"{}"}}"#, booking::demo::BOOTH_1);
    let enrolled = app
        .request("POST", "/api/v1/dev-eid/enrol-booth", None, Some(&body))
        .await;
    assert_eq!(enrolled.status, StatusCode::CREATED, "{}", enrolled.body);
    let kiosk = enrolled.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = app.get(&path, Some(&kiosk)).await;
    assert!(page.body.contains("/static/booth.js"), "{}", page.body);
    assert!(page.body.contains("Identifiera dig med BankID"));
    assert!(page.body.contains("Väntar på ditt möte"));
    assert_no_inline_code(&page.body, "the kiosk");
    // First the language screen, in Swedish, each language named in itself and marked as such.
    assert!(page.body.contains(r#"<html lang="sv" dir="ltr">"#));
    assert!(page.body.contains(r#"data-choosing="true""#));
    for (code, dir, name) in [
        ("sv", "ltr", "Svenska"),
        ("en", "ltr", "English"),
        ("ar", "rtl", "العربية"),
        ("fi", "ltr", "Suomi"),
        ("so", "ltr", "Soomaali"),
        ("fa", "rtl", "فارسی"),
    ] {
        let link = format!(r#"href="{path}?lang={code}" lang="{code}" dir="{dir}">{name}</a>"#);
        assert!(page.body.contains(&link), "{link}");
    }
    // A chosen language: the page in it, right to left for Arabic, its scripts' words too.
    let arabic = app.get(&format!("{path}?lang=ar"), Some(&kiosk)).await;
    assert!(arabic.body.contains(r#"<html lang="ar" dir="rtl">"#));
    assert!(!arabic.body.contains(r#"data-choosing"#));
    assert!(arabic.body.contains("أثبت هويتك باستخدام BankID"));
    assert!(
        arabic
            .body
            .contains(r#"<script type="application/json" id="messages">"#)
    );
    assert!(arabic.body.contains(r#""quality-good":"الاتصال: جيد""#));
    assert_no_inline_code(
        &arabic.body.replace(r#"lang="ar""#, r#"lang="sv""#),
        "the kiosk in Arabic",
    );
    // Every language renders the kiosk in itself, with its direction.
    for lang in web::i18n::Lang::ALL {
        let page = app
            .get(&format!("{path}?lang={}", lang.code()), Some(&kiosk))
            .await;
        let html = format!(r#"<html lang="{}" dir="{}">"#, lang.code(), lang.dir());
        assert!(page.body.contains(&html), "{html}");
        let bankid = web::i18n::Tr::new(lang).t("identify-bankid");
        assert!(page.body.contains(&bankid), "{}: {bankid}", lang.code());
    }
    // An unknown language is no language: the language screen.
    let unknown = app.get(&format!("{path}?lang=xx"), Some(&kiosk)).await;
    assert!(unknown.body.contains(r#"data-choosing="true""#));
    // The kiosk of booth 1 is not booth 2's.
    let other = app
        .get(&format!("/booth/{}", booking::demo::BOOTH_2), Some(&kiosk))
        .await;
    assert!(other.body.contains("Registrera mötesrummets dator"));
    // No such booth.
    assert_eq!(
        app.get("/booth/not-a-booth", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn static_files_cannot_be_reached_around_the_asset_list() {
    let app = app().await;
    assert_eq!(app.get("/static/api.js", None).await.status, StatusCode::OK);
    for path in [
        "/static/../Cargo.toml",
        "/static/..%2fCargo.toml",
        "/static/%2e%2e%2fCargo.toml",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/%252e%252e%252fCargo.toml",
        "/static/..%5cCargo.toml",
        "/static/api.js%00.png",
        "/static//etc/passwd",
        "/static/templates/base.html",
        "/static/../src/lib.rs",
    ] {
        let a = app.get(path, None).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}: {}", a.body);
        assert!(
            !a.body.contains("[package]") && !a.body.contains("root:"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn start_page_links_the_booths() {
    let app = app().await;
    let res = app.get("/", None).await;
    assert!(
        res.body
            .contains(&format!(r#"href="/booth/{}""#, booking::demo::BOOTH_1))
    );
    assert!(res.body.contains("Mötesrum 1"));
    assert!(res.body.contains(r#"href="/guide""#) && res.body.contains(r#"href="/officer""#));
}

fn oidc_provider(
    name: &str,
    display_name: &str,
    purpose: booking::config::OidcPurpose,
) -> booking::config::OidcProviderConfig {
    use booking::config::OidcPurpose;
    booking::config::OidcProviderConfig {
        name: name.into(),
        display_name: Some(display_name.into()),
        // Nothing listens there: these pages only link to the provider.
        issuer: "http://127.0.0.1:9".into(),
        client_id: "narvaro".into(),
        client_secret: booking::Secret::new("s"),
        purpose,
        agency_id: (purpose == OidcPurpose::Officer)
            .then_some(booking::demo::AGENCY_FORSAKRINGSKASSAN),
        centre_id: (purpose == OidcPurpose::Guide).then_some(booking::demo::CENTRE_LJUSDAL),
        scopes: None,
        acr_values: if purpose == OidcPurpose::Citizen {
            vec!["http://id.elegnamnden.se/loa/1.0/loa3".into()]
        } else {
            vec![]
        },
        personal_number_claim: booking::config::PERSONAL_IDENTITY_NUMBER_CLAIM.into(),
    }
}

/// With an agency's single sign-on configured, the officer's page sends visitors to the choice
/// of sign-in (that provider, and the development e-ID in development); the guide's page, with
/// no provider for guides, still goes straight to the development e-ID; the start page offers
/// citizens Freja eID.
#[tokio::test]
async fn configured_openid_providers_are_offered_where_their_people_sign_in() {
    use booking::config::OidcPurpose;
    let app = app_with(|c| {
        c.oidc_providers = vec![
            oidc_provider("fk", "Försäkringskassan", OidcPurpose::Officer),
            oidc_provider("freja", "Freja eID", OidcPurpose::Citizen),
        ];
    })
    .await;
    let res = app.get("/officer", None).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let location = res.headers.get(header::LOCATION).unwrap().to_str().unwrap();
    assert_eq!(location, "/sign-in?kind=officer&return_to=%2Fofficer");
    let page = app.get(location, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_security_headers(&page.headers, location);
    assert_no_inline_code(&page.body, location);
    assert!(
        page.body.contains("Logga in som handläggare"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(r#"href="/api/v1/fk/login?return_to=%2Fofficer""#)
            && page.body.contains("Logga in med Försäkringskassan"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(r#"href="/dev-eid?kind=officer&#38;return_to=%2Fofficer""#),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("Freja"),
        "citizens' e-ID is not offered to officers"
    );

    let res = app.get("/guide", None).await;
    let location = res.headers.get(header::LOCATION).unwrap().to_str().unwrap();
    assert!(location.starts_with("/dev-eid?kind=guide"), "{location}");

    let start = app.get("/", None).await;
    assert!(
        start
            .body
            .contains(r#"href="/api/v1/freja/login?return_to=%2F""#)
            && start.body.contains("Logga in med Freja eID"),
        "{}",
        start.body
    );
    let bad = app
        .get("/sign-in?kind=officer&return_to=%2F%2Fevil.example", None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // A refused OpenID sign-in comes back here with booking's code: a message for people, the
    // code for support, and never text from the link itself.
    let refused = app
        .get("/sign-in?kind=officer&refused=oidc_state_mismatch", None)
        .await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(
        refused.body.contains(r#"role="alert""#)
            && refused.body.contains("avbröts av säkerhetsskäl")
            && refused.body.contains("felkod oidc_state_mismatch"),
        "{}",
        refused.body
    );
    let planted = app
        .get("/sign-in?kind=officer&refused=Ring+0701234567+nu", None)
        .await;
    assert!(
        planted
            .body
            .contains("Inloggningen misslyckades. Försök igen.")
            && !planted.body.contains("0701234567")
            && !planted.body.contains("felkod"),
        "{}",
        planted.body
    );
}

/// In production with no provider configured for a kind, its page says so instead of pointing
/// at a development e-ID that is off.
#[tokio::test]
async fn without_any_way_in_the_sign_in_page_says_so() {
    let dir = std::env::temp_dir().join(format!("narvaro-web-test-prod-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = BookingConfig {
        database_url: format!("sqlite://{}/narvaro.db?mode=rwc", dir.display()),
        data_key: Some(booking::crypto::DataKey::generate_secret().unwrap()),
        ..BookingConfig::default()
    };
    let booking = Booking::open(&cfg, Environment::Production).await.unwrap();
    let app = App {
        router: booking.router().merge(web::router(booking)),
        _dir: TempDir(dir),
    };
    let res = app.get("/officer", None).await;
    let location = res.headers.get(header::LOCATION).unwrap().to_str().unwrap();
    assert_eq!(location, "/sign-in?kind=officer&return_to=%2Fofficer");
    let page = app.get(location, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("Här finns ingen inloggning för handläggare"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("/dev-eid"), "{}", page.body);
}
