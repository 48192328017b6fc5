//! Cross-site request forgery: every state-changing API call made with a browser credential (the
//! session or the kiosk's device cookie) must carry that credential's CSRF token in the
//! `X-CSRF-Token` header, or it is refused with 403 `csrf_token_invalid` before any handler runs.
//!
//! Why a token when the credential cookies are already `SameSite`: SameSite is about *sites*, and a
//! kommun's sibling host (`annan.kommun.se` beside `narvaro.kommun.se`) is the same site, so its
//! pages could otherwise post to the API with a visitor's cookies. The token is a hash of the
//! credential itself ("signed double submit", bound to the session): the page reads it from the
//! `narvaro_csrf` cookie, which only pages of this origin can read; a sibling host can toss in a
//! cookie of its own but cannot compute the hash of a secret it never sees. Nothing is stored:
//! the token follows from the credential, so it survives restarts and needs no table.
//!
//! The cookie is kept in step with the credential by [`protect`] itself: after every API answer,
//! if the browser will hold a credential whose token differs from its `narvaro_csrf` cookie (it
//! just signed in, enrolled, signed out, or lost the cookie), the answer sets the right one. A
//! refusal sets it too, so a client can retry once (the web client does).

use axum::extract::Request;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::api::ApiError;
use crate::booth_devices::{DEVICE_COOKIE, DEVICE_LIFETIME_SECS};
use crate::secrets::cookie;
use crate::sessions::SESSION_COOKIE;

pub const CSRF_COOKIE: &str = "narvaro_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The token of a credential: SHA-256 over a fixed label and the credential, base64url. The label
/// keeps it distinct from the credential's own stored hash, so neither can stand for the other.
pub fn token_for(credential: &str) -> String {
    let mut input = b"narvaro-csrf\0".to_vec();
    input.extend_from_slice(credential.as_bytes());
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        &input,
    ))
}

/// The credential a request's token is bound to: the session when there is one (a person signed
/// in), else the kiosk's device credential.
pub fn credential(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SESSION_COOKIE).or_else(|| cookie(headers, DEVICE_COOKIE))
}

/// Refuses unsafe requests whose credential's token is missing or wrong, and keeps the browser's
/// `narvaro_csrf` cookie in step with its credential. `secure` adds `Secure` to the cookie.
pub async fn protect(secure: bool, req: Request, next: Next) -> Response {
    let session = cookie(req.headers(), SESSION_COOKIE).map(str::to_owned);
    let device = cookie(req.headers(), DEVICE_COOKIE).map(str::to_owned);
    let held_token = cookie(req.headers(), CSRF_COOKIE).map(str::to_owned);
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);

    let mut res = match session.as_deref().or(device.as_deref()) {
        Some(credential) if !safe && !token_matches(req.headers(), credential) => {
            ApiError::forbidden(
                "csrf_token_invalid",
                "this request lacks its X-CSRF-Token header (read it from the narvaro_csrf cookie)",
            )
            .into_response()
        }
        _ => next.run(req).await,
    };

    // What the browser holds once it has applied this answer's cookies.
    let session = set_cookie_value(&res, SESSION_COOKIE).unwrap_or(session);
    let device = set_cookie_value(&res, DEVICE_COOKIE).unwrap_or(device);
    let wanted = session.or(device).map(|c| token_for(&c));
    if wanted != held_token {
        let secure = if secure { "; Secure" } else { "" };
        let value = match wanted {
            // Readable by the page (no HttpOnly): that is how the page learns its token.
            Some(token) => format!(
                "{CSRF_COOKIE}={token}; SameSite=Strict; Path=/; Max-Age={DEVICE_LIFETIME_SECS}{secure}"
            ),
            None => format!("{CSRF_COOKIE}=; SameSite=Strict; Path=/; Max-Age=0{secure}"),
        };
        // base64url and fixed ASCII attributes: always a valid header value.
        if let Ok(v) = HeaderValue::from_str(&value) {
            res.headers_mut().append(SET_COOKIE, v);
        }
    }
    res
}

fn token_matches(headers: &HeaderMap, credential: &str) -> bool {
    let Some(sent) = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    aws_lc_rs::constant_time::verify_slices_are_equal(
        sent.as_bytes(),
        token_for(credential).as_bytes(),
    )
    .is_ok()
}

/// What an answer does to cookie `name`: `Some(Some(value))` sets it, `Some(None)` clears it,
/// `None` leaves it alone.
fn set_cookie_value(res: &Response, name: &str) -> Option<Option<String>> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| {
            let (pair, attributes) = v.split_once(';').unwrap_or((v, ""));
            let (n, value) = pair.trim().split_once('=')?;
            (n == name).then(|| {
                let cleared = value.is_empty()
                    || attributes
                        .split(';')
                        .any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
                (!cleared).then(|| value.to_owned())
            })
        })
        // The last of several wins, as in a browser.
        .next_back()
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::http::header::COOKIE;
    use axum::routing::post;
    use tower::ServiceExt;

    use super::*;

    fn app() -> Router {
        Router::new()
            .route(
                "/sign-in",
                post(|| async {
                    (
                        [(
                            SET_COOKIE,
                            format!("{SESSION_COOKIE}=new-secret; HttpOnly; Path=/"),
                        )],
                        "ok",
                    )
                }),
            )
            .route(
                "/sign-out",
                post(|| async {
                    (
                        [(
                            SET_COOKIE,
                            format!("{SESSION_COOKIE}=; HttpOnly; Path=/; Max-Age=0"),
                        )],
                        "ok",
                    )
                }),
            )
            .route(
                "/change",
                post(|| async { "changed" }).get(|| async { "read" }),
            )
            .layer(axum::middleware::from_fn(|req, next| {
                protect(false, req, next)
            }))
    }

    async fn call(method: Method, uri: &str, cookies: &str, token: Option<&str>) -> Response {
        let mut req = Request::builder().method(method).uri(uri);
        if !cookies.is_empty() {
            req = req.header(COOKIE, cookies);
        }
        if let Some(t) = token {
            req = req.header(CSRF_HEADER, t);
        }
        app()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    fn csrf_cookie(res: &Response) -> Option<String> {
        set_cookie_value(res, CSRF_COOKIE).flatten()
    }

    #[tokio::test]
    async fn an_unsafe_request_with_a_credential_needs_its_token() {
        let cookies = format!("{SESSION_COOKIE}=s1");
        let res = call(Method::POST, "/change", &cookies, None).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        // The refusal hands out the right token, so the client can retry.
        assert_eq!(csrf_cookie(&res), Some(token_for("s1")));

        let res = call(Method::POST, "/change", &cookies, Some(&token_for("other"))).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);

        let res = call(Method::POST, "/change", &cookies, Some(&token_for("s1"))).await;
        assert_eq!(res.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn the_session_binds_the_token_before_the_device_credential() {
        let cookies = format!("{DEVICE_COOKIE}=d1; {SESSION_COOKIE}=s1");
        let res = call(Method::POST, "/change", &cookies, Some(&token_for("d1"))).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = call(
            Method::POST,
            "/change",
            &format!("{DEVICE_COOKIE}=d1"),
            Some(&token_for("d1")),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn reads_and_credential_less_requests_pass_without_a_token() {
        let res = call(
            Method::GET,
            "/change",
            &format!("{SESSION_COOKIE}=s1"),
            None,
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        // A sign-in has no credential yet: nothing to forge it with.
        let res = call(Method::POST, "/sign-in", "", None).await;
        assert_eq!(res.status(), StatusCode::OK);
        // ... and its answer brings the new session's token.
        assert_eq!(csrf_cookie(&res), Some(token_for("new-secret")));
    }

    #[tokio::test]
    async fn the_cookie_follows_the_credential() {
        // Already in step: no Set-Cookie.
        let cookies = format!("{SESSION_COOKIE}=s1; {CSRF_COOKIE}={}", token_for("s1"));
        let res = call(Method::GET, "/change", &cookies, None).await;
        assert_eq!(set_cookie_value(&res, CSRF_COOKIE), None);
        // Signing out of the session falls back to the kiosk credential's token...
        let cookies = format!(
            "{DEVICE_COOKIE}=d1; {SESSION_COOKIE}=s1; {CSRF_COOKIE}={}",
            token_for("s1")
        );
        let res = call(Method::POST, "/sign-out", &cookies, Some(&token_for("s1"))).await;
        assert_eq!(csrf_cookie(&res), Some(token_for("d1")));
        // ... or, with none, clears the cookie.
        let cookies = format!("{SESSION_COOKIE}=s1; {CSRF_COOKIE}={}", token_for("s1"));
        let res = call(Method::POST, "/sign-out", &cookies, Some(&token_for("s1"))).await;
        assert_eq!(set_cookie_value(&res, CSRF_COOKIE), Some(None));
    }
}
