//! OpenID Connect sign-in, one [`IdentityProvider`] per configured provider under
//! `/api/v1/{name}`: citizens through an e-ID broker (Freja eID) and staff through their agency's
//! or centre's single sign-on.
//!
//! `GET /login?return_to=` sends the browser to the provider with the authorization code flow:
//! a fresh `state` and `nonce` and a PKCE S256 challenge, whose verifier stays on the server in
//! `oidc_logins` (encrypted under the data key) under the hash of a cookie only this browser
//! holds. `GET /callback` takes that row (so a login is answered once), checks `state`, the RFC
//! 9207 `iss` parameter, redeems the code with the verifier at the token endpoint, checks the ID
//! token ([`client::check_id_token`]), finds the person it names and signs them in.
//!
//! Citizens are found, or added, by the personnummer claim (the Swedish OIDC profile's
//! `personalIdentityNumber` unless configured otherwise), and only at an accepted level of
//! assurance (`acr`). Staff are found by the email address the provider vouches for (not one it
//! says is unverified), among the officers of the configured agency or the guides of the
//! configured centre; someone else is refused and nothing is stored.

pub mod client;

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{self, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio_rustls::TlsConnector;

use crate::api::ApiError;
use crate::clock::Clock;
use crate::config::{Environment, OidcProviderConfig, OidcPurpose};
use crate::identity::{IdMethod, IdentityProvider, Subject, is_safe_return_to};
use crate::ids::CitizenId;
use crate::secrets::{cookie, random_secret, sha256_hex};
use crate::store::{OidcLoginRecord, StaffScope};
use crate::{Booking, Personnummer};
use client::{IdTokenError, OidcError, RelyingParty};

/// The cookie binding a login to the browser that started it; its path is the provider's.
pub const BINDING_COOKIE: &str = "narvaro_oidc";
/// How long a started login waits for the provider's answer.
pub const LOGIN_LIFETIME_SECS: i64 = 600;

/// `/api/v1/{name}/login?return_to=…`: where a page's sign-in link points.
pub fn login_path(name: &str, return_to: &str) -> String {
    // Only &str pairs: encoding cannot fail.
    let query = serde_urlencoded::to_string([("return_to", return_to)]).unwrap_or_default();
    format!("/api/v1/{name}/login?{query}")
}

/// A configured OpenID provider.
pub struct OidcProvider {
    inner: Arc<Inner>,
}

struct Inner {
    rp: RelyingParty,
    secure_cookies: bool,
}

impl OidcProvider {
    /// The provider of `config`, as a relying party whose redirect URI is
    /// `{public_base}/api/v1/{name}/callback`. Nothing is fetched yet: the provider's metadata
    /// is read (and cached) at the first login.
    pub fn new(
        config: OidcProviderConfig,
        public_base: &str,
        tls: Option<TlsConnector>,
        clock: Arc<dyn Clock>,
        secure_cookies: bool,
    ) -> OidcProvider {
        let redirect_uri = format!("{public_base}/api/v1/{}/callback", config.name);
        OidcProvider {
            inner: Arc::new(Inner {
                rp: RelyingParty::new(config, redirect_uri, tls, clock),
                secure_cookies,
            }),
        }
    }

    pub fn config(&self) -> &OidcProviderConfig {
        self.inner.rp.config()
    }
}

/// How people signed in through a provider of `purpose` identified.
fn method_of(purpose: OidcPurpose) -> IdMethod {
    match purpose {
        OidcPurpose::Citizen => IdMethod::FrejaEid,
        OidcPurpose::Officer | OidcPurpose::Guide => IdMethod::StaffLogin,
    }
}

/// The connector for providers over `https://`: the system's CA store.
pub fn system_tls() -> Result<TlsConnector, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(format!(
            "no CA certificate in the system store for OpenID providers over https ({} errors)",
            found.errors.len()
        ));
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

impl IdentityProvider for OidcProvider {
    fn name(&self) -> &str {
        &self.config().name
    }

    fn method(&self) -> IdMethod {
        method_of(self.config().purpose)
    }

    fn allowed_in(&self, _env: Environment) -> bool {
        true
    }

    fn documented_routes(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        &[
            (
                "get",
                "/login",
                "Sign in through this OpenID provider: a redirect to it (code flow with PKCE)",
            ),
            (
                "get",
                "/callback",
                "The provider's redirect back: checks the answer, signs in, redirects to return_to",
            ),
        ]
    }

    fn routes(&self, booking: Booking) -> Router {
        Router::new()
            .route("/login", get(login))
            .route("/callback", get(callback))
            .with_state(Ctx {
                booking,
                provider: self.inner.clone(),
            })
    }
}

#[derive(Clone)]
struct Ctx {
    booking: Booking,
    provider: Arc<Inner>,
}

impl Ctx {
    fn config(&self) -> &OidcProviderConfig {
        self.provider.rp.config()
    }

    fn cookie(&self, value: &str, max_age: i64) -> HeaderValue {
        let secure = if self.provider.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        // Lax, not Strict: the provider's redirect back is a top-level GET from its site, and
        // the cookie must come with it.
        let cookie = format!(
            "{BINDING_COOKIE}={value}; HttpOnly; SameSite=Lax; Path=/api/v1/{}; Max-Age={max_age}{secure}",
            self.config().name
        );
        // base64url, a validated name and fixed ASCII attributes: always a valid header value.
        HeaderValue::from_str(&cookie).expect("cookie is visible ASCII")
    }
}

fn unavailable(e: OidcError) -> ApiError {
    match &e {
        OidcError::Metadata(_) => tracing::error!(error = %e, "OpenID provider misconfigured"),
        _ => tracing::warn!(error = %e, "OpenID provider call failed"),
    }
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "oidc_unavailable",
        "the identity provider cannot be reached; try again later",
    )
}

#[derive(Deserialize)]
struct LoginQuery {
    return_to: Option<String>,
}

async fn login(
    State(ctx): State<Ctx>,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(LoginQuery { return_to }) = query.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the query is not ?return_to=<path>",
        )
    })?;
    let return_to = return_to.unwrap_or_else(|| "/".to_owned());
    if !is_safe_return_to(&return_to) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_return_to",
            "return_to must be a path on this site, starting with a single /",
        ));
    }
    let random = || {
        random_secret()
            .map_err(|_| ApiError::internal(std::io::Error::other("random source failed")))
    };
    let (binding, state, nonce, verifier) = (random()?, random()?, random()?, random()?);
    // RFC 7636, 4.2: S256 is base64url(SHA-256(verifier)).
    let challenge = URL_SAFE_NO_PAD.encode(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref(),
    );
    let url = ctx
        .provider
        .rp
        .authorization_url(&state, &nonce, &challenge)
        .await
        .map_err(unavailable)?;
    let booking = &ctx.booking;
    let binding_hash = sha256_hex(&binding);
    let pkce_verifier_enc = booking
        .data_key()
        .encrypt(verifier.as_bytes(), binding_hash.as_bytes())
        .map_err(ApiError::internal)?;
    booking
        .store()
        .insert_oidc_login(&OidcLoginRecord {
            binding_hash,
            provider: ctx.config().name.clone(),
            state,
            nonce,
            pkce_verifier_enc,
            return_to,
            started_at: booking.clock().now(),
        })
        .await?;
    tracing::info!(provider = %ctx.config().name, "OpenID login started");
    let location = HeaderValue::from_str(&url).map_err(ApiError::internal)?;
    let mut res = StatusCode::SEE_OTHER.into_response();
    res.headers_mut().insert(LOCATION, location);
    res.headers_mut()
        .append(SET_COOKIE, ctx.cookie(&binding, LOGIN_LIFETIME_SECS));
    Ok(res)
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Response {
    let outcome = finish(&ctx, &headers, query).await;
    let mut res = match outcome {
        Ok(res) => res,
        Err(e) => {
            if !e.status.is_server_error() {
                tracing::info!(provider = %ctx.config().name, code = e.code, "OpenID login refused");
            }
            if wants_html(&headers) {
                // A person in a browser gets the sign-in page again, saying what went wrong (by
                // its stable code), not a JSON document.
                let kind = ctx.config().purpose.as_str();
                let to = format!("/sign-in?kind={kind}&refused={}", e.code);
                (StatusCode::SEE_OTHER, [(LOCATION, to)]).into_response()
            } else {
                e.into_response()
            }
        }
    };
    // Answered or refused, the login is over: the binding cookie goes too.
    res.headers_mut().append(SET_COOKIE, ctx.cookie("", 0));
    res
}

/// Whether the caller is a browser navigating (it asks for HTML first), not an API client.
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

fn bad_request(code: &'static str, message: &'static str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

fn equal(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

async fn finish(
    ctx: &Ctx,
    headers: &HeaderMap,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(answer) =
        query.map_err(|_| bad_request("invalid_request", "not an authorization response"))?;
    let booking = &ctx.booking;
    let config = ctx.config();
    let not_found = || {
        bad_request(
            "oidc_login_not_found",
            "no sign-in of this browser is waiting for this answer; start again",
        )
    };
    // The browser's own login, taken: whatever happens next, this login answers only once.
    let binding_hash = sha256_hex(cookie(headers, BINDING_COOKIE).ok_or_else(not_found)?);
    let login = booking
        .store()
        .take_oidc_login(&binding_hash)
        .await?
        .filter(|l| l.provider == config.name)
        .ok_or_else(not_found)?;
    if booking.clock().now() - login.started_at > LOGIN_LIFETIME_SECS {
        return Err(bad_request(
            "oidc_login_expired",
            "the sign-in took too long; start again",
        ));
    }
    if !answer
        .state
        .as_deref()
        .is_some_and(|s| equal(s, &login.state))
    {
        return Err(bad_request(
            "oidc_state_mismatch",
            "the answer is not for this browser's sign-in",
        ));
    }
    let metadata = ctx.provider.rp.metadata().await.map_err(unavailable)?;
    // RFC 9207: the answer names its issuer; another one's answer (a mix-up) is refused before
    // its code goes anywhere.
    let iss_ok = match &answer.iss {
        Some(iss) => *iss == config.issuer,
        None => !metadata.authorization_response_iss_parameter_supported,
    };
    if !iss_ok {
        return Err(bad_request(
            "oidc_wrong_issuer",
            "the answer comes from another identity provider",
        ));
    }
    if let Some(error) = &answer.error {
        let error = match error.as_str() {
            "access_denied" | "login_required" | "interaction_required" | "consent_required" => {
                error.as_str()
            }
            _ => "other",
        };
        tracing::info!(provider = %config.name, error, "the OpenID provider refused the sign-in");
        return Err(ApiError::forbidden(
            "oidc_login_refused",
            "the identity provider did not sign you in",
        ));
    }
    let code = answer
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| bad_request("invalid_request", "the answer has no code"))?;
    let verifier = booking
        .data_key()
        .decrypt(&login.pkce_verifier_enc, login.binding_hash.as_bytes())
        .map_err(ApiError::internal)?;
    let verifier = String::from_utf8(verifier)
        .map_err(|_| ApiError::internal(std::io::Error::other("PKCE verifier")))?;
    let id_token = match ctx.provider.rp.redeem(code, &verifier).await {
        Ok(t) => t,
        Err(OidcError::CodeRefused(_)) => {
            return Err(bad_request(
                "oidc_code_rejected",
                "the identity provider did not accept the code (used, expired or not this sign-in's)",
            ));
        }
        Err(e) => return Err(unavailable(e)),
    };
    let claims = match ctx.provider.rp.check(&id_token, &login.nonce).await {
        Ok(c) => c,
        Err(OidcError::IdToken(e)) => return Err(id_token_refused(e)),
        Err(e) => return Err(unavailable(e)),
    };
    let subject = person(ctx, &claims).await?;
    let (_identity, cookie) = booking
        .sessions()
        .sign_in(subject, method_of(config.purpose))
        .await?;
    tracing::info!(provider = %config.name, kind = subject.kind(), "signed in through OpenID Connect");
    let location = HeaderValue::from_str(&login.return_to).map_err(ApiError::internal)?;
    let mut res = StatusCode::SEE_OTHER.into_response();
    res.headers_mut().insert(LOCATION, location);
    cookie.apply(res.headers_mut());
    Ok(res)
}

fn id_token_refused(e: IdTokenError) -> ApiError {
    tracing::warn!(reason = %e, "OpenID ID token refused");
    let (code, message) = match e {
        IdTokenError::Nonce => (
            "oidc_nonce_mismatch",
            "the identity provider's answer is for another sign-in",
        ),
        IdTokenError::Issuer => (
            "oidc_wrong_issuer",
            "the answer comes from another identity provider",
        ),
        IdTokenError::Acr => (
            "oidc_acr_not_allowed",
            "this e-ID's level of assurance is not accepted here",
        ),
        _ => (
            "oidc_id_token_invalid",
            "the identity provider's ID token does not verify",
        ),
    };
    ApiError::forbidden(code, message)
}

/// The person the claims name, by the provider's purpose.
async fn person(ctx: &Ctx, claims: &Map<String, Value>) -> Result<Subject, ApiError> {
    let config = ctx.config();
    let store = ctx.booking.store();
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let scope = match (config.purpose, config.agency_id, config.centre_id) {
        (OidcPurpose::Citizen, ..) => {
            let personnummer = text(&config.personal_number_claim)
                .and_then(|p| Personnummer::parse(p).ok())
                .ok_or_else(|| {
                    ApiError::forbidden(
                        "oidc_personal_number_invalid",
                        "the identity provider gave no valid personnummer",
                    )
                })?;
            let name = match (text("given_name"), text("family_name")) {
                (Some(given), Some(family)) => format!("{given} {family}"),
                _ => text("name").unwrap_or("Namn saknas").to_owned(),
            };
            let now = ctx.booking.clock().now();
            let (citizen, _created) = store
                .ensure_citizen(CitizenId::new(), &personnummer, name.trim(), now)
                .await?;
            return Ok(Subject::Citizen(citizen));
        }
        (OidcPurpose::Officer, Some(agency), _) => StaffScope::Agency(agency),
        (OidcPurpose::Guide, _, Some(centre)) => StaffScope::Centre(centre),
        // Configuration validation requires the agency or centre.
        _ => return Err(ApiError::internal(std::io::Error::other("provider scope"))),
    };
    let email = text("email").filter(|e| !e.is_empty()).ok_or_else(|| {
        ApiError::forbidden(
            "oidc_email_missing",
            "the identity provider gave no email address",
        )
    })?;
    // Core 1.0, 5.1: an address the provider has not verified does not identify anyone.
    match claims.get("email_verified") {
        None | Some(Value::Bool(true)) => {}
        Some(Value::String(s)) if s == "true" => {}
        Some(_) => {
            return Err(ApiError::forbidden(
                "oidc_email_unverified",
                "the identity provider has not verified this email address",
            ));
        }
    }
    let found = store.staff_by_email(scope, email).await?;
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(ApiError::forbidden(
            "oidc_unknown_person",
            "no staff member here has this email address; ask your administrator",
        )),
        _ => Err(ApiError::forbidden(
            "oidc_ambiguous_person",
            "more than one staff member here has this email address; ask your administrator",
        )),
    }
}
