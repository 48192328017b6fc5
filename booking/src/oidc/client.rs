//! The relying party's side of one OpenID provider: its metadata (discovery), the authorization
//! request, redeeming a code at the token endpoint, and checking the ID token.
//!
//! What is checked of an ID token ([`check_id_token`], a pure function of the token, the
//! provider's keys and what is expected, so every refusal is unit-tested here): the signature,
//! with the key the header's `kid` names in the provider's JWKS and the algorithm that key is for
//! (never HMAC, never `none`); `iss` is the configured issuer; `aud` holds the client id (and
//! `azp` is it when there are several); `exp` and `iat` against booking's clock with a minute's
//! leeway; `nonce` is the login's; `acr` is one of the accepted values when any are configured.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, Method, Request, StatusCode, Uri, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http_body_util::Full;
use hyper::body::Bytes;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::Mutex;
use tokio_rustls::TlsConnector;

use crate::clock::Clock;
use crate::config::{OidcProviderConfig, check_url};
use crate::http_client::{self, Target};

/// How long metadata and keys are used before they are fetched again.
const METADATA_TTL_SECS: i64 = 3600;
/// A key the token names but the cached set lacks makes one fetch of the set, at most this often.
const KEYS_REFETCH_SECS: i64 = 60;
/// Clock difference tolerated between the provider and booking.
pub const LEEWAY_SECS: i64 = 60;
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// What the provider's discovery document says that the relying party uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// RFC 9207: the provider puts `iss` in its redirect back, so its absence is a refusal.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// No usable answer: connection, TLS, HTTP, a server error, a body that is not the spec's.
    #[error("provider unreachable: {0}")]
    Unavailable(String),
    /// The provider's metadata breaks a rule: another issuer, plain-http endpoints, no S256.
    #[error("provider metadata: {0}")]
    Metadata(String),
    /// The token endpoint refused the code (`invalid_grant`: used, expired, or not this
    /// verifier's).
    #[error("the provider refused the code: {0}")]
    CodeRefused(String),
    #[error("ID token: {0}")]
    IdToken(#[from] IdTokenError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    #[error("not a signed JWT with the claims it must have")]
    Malformed,
    #[error("signed with an algorithm not allowed for its key")]
    Algorithm,
    #[error("signed with a key the provider does not publish")]
    UnknownKey,
    #[error("the signature does not verify")]
    Signature,
    #[error("issued by another issuer")]
    Issuer,
    #[error("issued to another client")]
    Audience,
    #[error("expired")]
    Expired,
    #[error("issued in the future")]
    NotYetValid,
    #[error("not for this login (nonce)")]
    Nonce,
    #[error("a level of assurance not accepted (acr)")]
    Acr,
}

/// What an ID token must say, for [`check_id_token`].
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    /// Accepted `acr` values; empty: any (or none).
    pub acr_values: &'a [String],
    /// Algorithms for keys that do not name their own (the provider's
    /// `id_token_signing_alg_values_supported`).
    pub algorithms: &'a [String],
    pub now: i64,
}

struct Fetched<T> {
    at: i64,
    value: Arc<T>,
}

/// One configured provider, as its relying party.
pub struct RelyingParty {
    config: OidcProviderConfig,
    redirect_uri: String,
    tls: Option<TlsConnector>,
    clock: Arc<dyn Clock>,
    metadata: Mutex<Option<Fetched<Metadata>>>,
    keys: Mutex<Option<Fetched<JwkSet>>>,
}

impl RelyingParty {
    /// `tls`: the connector for `https://` endpoints (none when every endpoint is loopback
    /// `http://`).
    pub fn new(
        config: OidcProviderConfig,
        redirect_uri: String,
        tls: Option<TlsConnector>,
        clock: Arc<dyn Clock>,
    ) -> RelyingParty {
        RelyingParty {
            config,
            redirect_uri,
            tls,
            clock,
            metadata: Mutex::new(None),
            keys: Mutex::new(None),
        }
    }

    pub fn config(&self) -> &OidcProviderConfig {
        &self.config
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The provider's metadata, from `{issuer}/.well-known/openid-configuration`, cached for an
    /// hour.
    pub async fn metadata(&self) -> Result<Arc<Metadata>, OidcError> {
        let mut cached = self.metadata.lock().await;
        let now = self.clock.now();
        if let Some(m) = cached.as_ref().filter(|m| now - m.at < METADATA_TTL_SECS) {
            return Ok(m.value.clone());
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        );
        let metadata: Metadata = self.get_json(&url).await?;
        // OpenID Connect Discovery 1.0, 4.3: the document is the issuer's own, exactly.
        if metadata.issuer != self.config.issuer {
            return Err(OidcError::Metadata(
                "the discovery document names another issuer".into(),
            ));
        }
        for (key, url) in [
            ("authorization_endpoint", &metadata.authorization_endpoint),
            ("token_endpoint", &metadata.token_endpoint),
            ("jwks_uri", &metadata.jwks_uri),
        ] {
            // The authorization endpoint may carry a query of its own; the rest may not.
            let bare = url.split('?').next().unwrap_or_default();
            check_url(key, bare, true).map_err(OidcError::Metadata)?;
        }
        if let Some(methods) = &metadata.code_challenge_methods_supported
            && !methods.iter().any(|m| m == "S256")
        {
            return Err(OidcError::Metadata(
                "the provider does not offer PKCE S256".into(),
            ));
        }
        let value = Arc::new(metadata);
        *cached = Some(Fetched {
            at: now,
            value: value.clone(),
        });
        Ok(value)
    }

    /// Where to send the browser: the authorization request of the code flow with PKCE S256.
    pub async fn authorization_url(
        &self,
        state: &str,
        nonce: &str,
        code_challenge: &str,
    ) -> Result<String, OidcError> {
        let metadata = self.metadata().await?;
        let scope = self.config.scopes().join(" ");
        let acr_values = self.config.acr_values.join(" ");
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", self.config.client_id.as_str()),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("scope", scope.as_str()),
            ("state", state),
            ("nonce", nonce),
            ("code_challenge", code_challenge),
            ("code_challenge_method", "S256"),
        ];
        if !acr_values.is_empty() {
            params.push(("acr_values", acr_values.as_str()));
        }
        // Only &str pairs: encoding cannot fail.
        let query = serde_urlencoded::to_string(&params).unwrap_or_default();
        let endpoint = &metadata.authorization_endpoint;
        let sep = if endpoint.contains('?') { '&' } else { '?' };
        Ok(format!("{endpoint}{sep}{query}"))
    }

    /// Redeems an authorization code with its PKCE verifier (client_secret_basic); the ID token.
    pub async fn redeem(&self, code: &str, code_verifier: &str) -> Result<String, OidcError> {
        let metadata = self.metadata().await?;
        let form = serde_urlencoded::to_string([
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("code_verifier", code_verifier),
        ])
        .unwrap_or_default();
        // RFC 6749, 2.3.1: each part form-encoded before they are joined and base64-encoded.
        let enc = |s: &str| {
            serde_urlencoded::to_string([("", s)])
                .unwrap_or_default()
                .trim_start_matches('=')
                .to_owned()
        };
        let basic = STANDARD.encode(format!(
            "{}:{}",
            enc(&self.config.client_id),
            enc(self.config.client_secret.expose())
        ));
        let authorization = HeaderValue::from_str(&format!("Basic {basic}"))
            .map_err(|_| OidcError::Metadata("client credentials".into()))?;
        let (target, path) = self.target(&metadata.token_endpoint)?;
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header(header::AUTHORIZATION, authorization)
            .body(Full::new(Bytes::from(form)))
            .map_err(|e| OidcError::Unavailable(e.to_string()))?;
        let answer = http_client::send(&target, request, MAX_ANSWER_BYTES, CALL_TIMEOUT)
            .await
            .map_err(|e| OidcError::Unavailable(format!("token endpoint: {e}")))?;
        #[derive(Deserialize)]
        struct TokenAnswer {
            id_token: Option<String>,
        }
        #[derive(Deserialize)]
        struct ErrorAnswer {
            error: String,
        }
        match answer.status {
            StatusCode::OK => serde_json::from_slice::<TokenAnswer>(&answer.body)
                .ok()
                .and_then(|t| t.id_token)
                .ok_or_else(|| OidcError::Unavailable("token answer without id_token".into())),
            StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED => {
                let error = serde_json::from_slice::<ErrorAnswer>(&answer.body)
                    .map(|e| e.error)
                    .unwrap_or_default();
                // RFC 6749, 5.2: the code (or its verifier) is what is wrong. Anything else is
                // the relying party's registration, not the person's login.
                if error == "invalid_grant" {
                    Err(OidcError::CodeRefused(error))
                } else {
                    Err(OidcError::Unavailable(format!(
                        "token endpoint refused the request: {}",
                        known_error(&error)
                    )))
                }
            }
            status => Err(OidcError::Unavailable(format!(
                "token endpoint: HTTP {status}"
            ))),
        }
    }

    /// Checks an ID token from this provider ([`check_id_token`]); fetches the keys again once if
    /// it names one the cached set lacks (the provider rotated its keys).
    pub async fn check(
        &self,
        id_token: &str,
        nonce: &str,
    ) -> Result<Map<String, Value>, OidcError> {
        let metadata = self.metadata().await?;
        let algorithms = if metadata.id_token_signing_alg_values_supported.is_empty() {
            // Discovery 1.0, 3: RS256 must be supported; it is the default.
            vec!["RS256".to_owned()]
        } else {
            metadata.id_token_signing_alg_values_supported.clone()
        };
        let expected = |now| Expected {
            issuer: &self.config.issuer,
            client_id: &self.config.client_id,
            nonce,
            acr_values: &self.config.acr_values,
            algorithms: &algorithms,
            now,
        };
        let keys = self.keys(&metadata, false).await?;
        match check_id_token(id_token, &keys, &expected(self.clock.now())) {
            Err(IdTokenError::UnknownKey) => {
                let keys = self.keys(&metadata, true).await?;
                Ok(check_id_token(
                    id_token,
                    &keys,
                    &expected(self.clock.now()),
                )?)
            }
            other => Ok(other?),
        }
    }

    async fn keys(&self, metadata: &Metadata, refetch: bool) -> Result<Arc<JwkSet>, OidcError> {
        let mut cached = self.keys.lock().await;
        let now = self.clock.now();
        if let Some(k) = cached.as_ref() {
            let age = now - k.at;
            if (!refetch && age < METADATA_TTL_SECS) || (refetch && age < KEYS_REFETCH_SECS) {
                return Ok(k.value.clone());
            }
        }
        let keys: JwkSet = self.get_json(&metadata.jwks_uri).await?;
        let value = Arc::new(keys);
        *cached = Some(Fetched {
            at: now,
            value: value.clone(),
        });
        Ok(value)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        let (target, path) = self.target(url)?;
        let request = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header(header::ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|e| OidcError::Unavailable(e.to_string()))?;
        let answer = http_client::send(&target, request, MAX_ANSWER_BYTES, CALL_TIMEOUT)
            .await
            .map_err(|e| OidcError::Unavailable(format!("{url}: {e}")))?;
        if answer.status != StatusCode::OK {
            return Err(OidcError::Unavailable(format!(
                "{url}: HTTP {}",
                answer.status
            )));
        }
        serde_json::from_slice(&answer.body)
            .map_err(|e| OidcError::Unavailable(format!("{url}: {e}")))
    }

    fn target(&self, url: &str) -> Result<(Target, String), OidcError> {
        let uri: Uri = url
            .parse()
            .map_err(|_| OidcError::Metadata(format!("{url} is not a URL")))?;
        let target = Target::of_url(&uri, self.tls.as_ref()).map_err(OidcError::Metadata)?;
        let path = uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .to_owned();
        Ok((target, path))
    }
}

/// A token endpoint's error code as it may be logged: one of RFC 6749's, or "other".
fn known_error(code: &str) -> &'static str {
    const CODES: [&str; 6] = [
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    ];
    CODES.into_iter().find(|c| *c == code).unwrap_or("other")
}

/// Checks an ID token's signature and claims (see the module documentation); its claims.
pub fn check_id_token(
    token: &str,
    keys: &JwkSet,
    expected: &Expected<'_>,
) -> Result<Map<String, Value>, IdTokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| IdTokenError::Malformed)?;
    let alg = header.alg;
    if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
        // HMAC would be keyed with the client secret: a shared secret is no provider signature.
        return Err(IdTokenError::Algorithm);
    }
    let signing = |k: &&Jwk| {
        k.common
            .public_key_use
            .as_ref()
            .is_none_or(|u| *u == PublicKeyUse::Signature)
    };
    let jwk = match &header.kid {
        Some(kid) => keys
            .keys
            .iter()
            .filter(signing)
            .find(|k| k.common.key_id.as_deref() == Some(kid.as_str())),
        // No kid: only a provider with a single signing key may leave it out.
        None => {
            let mut candidates = keys.keys.iter().filter(signing);
            match (candidates.next(), candidates.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            }
        }
    }
    .ok_or(IdTokenError::UnknownKey)?;
    match jwk.common.key_algorithm {
        Some(key_alg) => {
            if Algorithm::try_from(key_alg).ok() != Some(alg) {
                return Err(IdTokenError::Algorithm);
            }
        }
        None => {
            if !expected.algorithms.iter().any(|a| a.parse() == Ok(alg)) {
                return Err(IdTokenError::Algorithm);
            }
        }
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|_| IdTokenError::UnknownKey)?;
    let mut validation = Validation::new(alg);
    // Time and audience are checked below, against booking's clock and with azp.
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).map_err(
        |e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => IdTokenError::Signature,
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm
            | jsonwebtoken::errors::ErrorKind::InvalidAlgorithmName
            | jsonwebtoken::errors::ErrorKind::InvalidKeyFormat => IdTokenError::Algorithm,
            _ => IdTokenError::Malformed,
        },
    )?;
    let claims = data.claims;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);

    if text("iss") != Some(expected.issuer) {
        return Err(IdTokenError::Issuer);
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !audiences.contains(&expected.client_id) {
        return Err(IdTokenError::Audience);
    }
    // Core 1.0, 3.1.3.7: with several audiences, the token must be for this client (azp).
    match text("azp") {
        Some(azp) if azp != expected.client_id => return Err(IdTokenError::Audience),
        None if audiences.len() > 1 => return Err(IdTokenError::Audience),
        _ => {}
    }
    let (Some(exp), Some(iat)) = (number("exp"), number("iat")) else {
        return Err(IdTokenError::Malformed);
    };
    if exp + LEEWAY_SECS <= expected.now {
        return Err(IdTokenError::Expired);
    }
    if iat > expected.now + LEEWAY_SECS {
        return Err(IdTokenError::NotYetValid);
    }
    if text("sub").is_none_or(str::is_empty) {
        return Err(IdTokenError::Malformed);
    }
    let nonce_ok = text("nonce").is_some_and(|n| {
        aws_lc_rs::constant_time::verify_slices_are_equal(n.as_bytes(), expected.nonce.as_bytes())
            .is_ok()
    });
    if !nonce_ok {
        return Err(IdTokenError::Nonce);
    }
    if !expected.acr_values.is_empty()
        && !text("acr").is_some_and(|acr| expected.acr_values.iter().any(|a| a == acr))
    {
        return Err(IdTokenError::Acr);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::jwk::{
        AlgorithmParameters, CommonParameters, EllipticCurve, KeyAlgorithm, OctetKeyPairParameters,
        OctetKeyPairType,
    };
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    use super::*;

    const ISS: &str = "https://idp.example";
    const NOW: i64 = 1_800_000_000;
    const LOA3: &str = "http://id.elegnamnden.se/loa/1.0/loa3";

    struct Provider {
        key: EncodingKey,
        keys: JwkSet,
    }

    fn provider(kid: &str, key_alg: Option<KeyAlgorithm>) -> Provider {
        let pair = Ed25519KeyPair::generate().unwrap();
        let jwk = Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: key_alg,
                key_id: Some(kid.to_owned()),
                ..Default::default()
            },
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
            }),
        };
        Provider {
            key: EncodingKey::from_ed_der(pair.to_pkcs8v1().unwrap().as_ref()),
            keys: JwkSet { keys: vec![jwk] },
        }
    }

    fn claims() -> Value {
        json!({
            "iss": ISS, "aud": "narvaro", "sub": "s-1", "nonce": "n-1",
            "iat": NOW - 5, "exp": NOW + 300, "acr": LOA3,
        })
    }

    fn sign(p: &Provider, kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &p.key).unwrap()
    }

    fn check(p: &Provider, token: &str) -> Result<Map<String, Value>, IdTokenError> {
        let acr = vec![LOA3.to_owned()];
        let algs = vec!["RS256".to_owned()];
        check_id_token(
            token,
            &p.keys,
            &Expected {
                issuer: ISS,
                client_id: "narvaro",
                nonce: "n-1",
                acr_values: &acr,
                algorithms: &algs,
                now: NOW,
            },
        )
    }

    fn with(change: impl FnOnce(&mut Map<String, Value>)) -> Value {
        let mut c = claims();
        change(c.as_object_mut().unwrap());
        c
    }

    #[test]
    fn a_token_with_the_expected_claims_from_the_published_key_is_accepted() {
        let p = provider("k1", Some(KeyAlgorithm::EdDSA));
        let claims = check(&p, &sign(&p, Some("k1"), &claims())).unwrap();
        assert_eq!(claims["sub"], "s-1");
    }

    #[test]
    fn each_wrong_claim_is_refused_with_its_own_reason() {
        let p = provider("k1", Some(KeyAlgorithm::EdDSA));
        let cases: [(Value, IdTokenError); 10] = [
            (
                with(|c| _ = c.insert("iss".into(), json!("https://other.example"))),
                IdTokenError::Issuer,
            ),
            (with(|c| _ = c.remove("iss")), IdTokenError::Issuer),
            (
                with(|c| _ = c.insert("aud".into(), json!("someone-else"))),
                IdTokenError::Audience,
            ),
            (
                with(|c| _ = c.insert("aud".into(), json!(["narvaro", "other"]))),
                IdTokenError::Audience,
            ),
            (
                with(|c| _ = c.insert("exp".into(), json!(NOW - LEEWAY_SECS))),
                IdTokenError::Expired,
            ),
            (
                with(|c| _ = c.insert("iat".into(), json!(NOW + LEEWAY_SECS + 1))),
                IdTokenError::NotYetValid,
            ),
            (
                with(|c| _ = c.insert("nonce".into(), json!("n-2"))),
                IdTokenError::Nonce,
            ),
            (with(|c| _ = c.remove("nonce")), IdTokenError::Nonce),
            (
                with(|c| {
                    _ = c.insert("acr".into(), json!("http://id.elegnamnden.se/loa/1.0/loa2"))
                }),
                IdTokenError::Acr,
            ),
            (with(|c| _ = c.remove("sub")), IdTokenError::Malformed),
        ];
        for (claims, reason) in cases {
            assert_eq!(
                check(&p, &sign(&p, Some("k1"), &claims)),
                Err(reason),
                "{claims}"
            );
        }
        // Several audiences with this client as the authorized party are fine.
        let ok = with(|c| {
            c.insert("aud".into(), json!(["narvaro", "other"]));
            c.insert("azp".into(), json!("narvaro"));
        });
        assert!(check(&p, &sign(&p, Some("k1"), &ok)).is_ok());
        // A minute of clock difference is tolerated.
        let skewed = with(|c| _ = c.insert("iat".into(), json!(NOW + LEEWAY_SECS)));
        assert!(check(&p, &sign(&p, Some("k1"), &skewed)).is_ok());
    }

    #[test]
    fn signatures_by_other_keys_or_algorithms_are_refused() {
        let p = provider("k1", Some(KeyAlgorithm::EdDSA));
        let stranger = provider("k1", Some(KeyAlgorithm::EdDSA));
        // Same kid, another key: the signature does not verify.
        assert_eq!(
            check(&p, &sign(&stranger, Some("k1"), &claims())),
            Err(IdTokenError::Signature)
        );
        assert_eq!(
            check(&p, &sign(&p, Some("k2"), &claims())),
            Err(IdTokenError::UnknownKey)
        );
        // One key in the set: no kid is fine.
        assert!(check(&p, &sign(&p, None, &claims())).is_ok());
        // A key that says RS256 does not verify an EdDSA signature.
        let mut rs = provider("k1", Some(KeyAlgorithm::RS256));
        rs.key = p.key.clone();
        assert_eq!(
            check(&rs, &sign(&rs, Some("k1"), &claims())),
            Err(IdTokenError::Algorithm)
        );
        // A key without alg: only the provider's advertised algorithms (RS256 here).
        let bare = provider("k1", None);
        assert_eq!(
            check(&bare, &sign(&bare, Some("k1"), &claims())),
            Err(IdTokenError::Algorithm)
        );
        // HMAC under any secret is no provider signature.
        let hs = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(),
            &EncodingKey::from_secret(b"client-secret"),
        )
        .unwrap();
        assert_eq!(check(&p, &hs), Err(IdTokenError::Algorithm));
        // Tampered payload, unsigned token, garbage.
        let token = sign(&p, Some("k1"), &claims());
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged =
            URL_SAFE_NO_PAD.encode(with(|c| _ = c.insert("sub".into(), json!("s-2"))).to_string());
        parts[1] = &forged;
        assert_eq!(check(&p, &parts.join(".")), Err(IdTokenError::Signature));
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#),
            URL_SAFE_NO_PAD.encode(claims().to_string())
        );
        assert!(check(&p, &none).is_err());
        assert_eq!(check(&p, "not a token"), Err(IdTokenError::Malformed));
    }
}
