//! Join tokens: what signalling accepts, and the checks it makes.
//!
//! Booking issues the tokens (it owns the signing key); signalling only verifies them against the
//! issuer's public keys. The claims and constants here are the contract between the two.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::{Deserialize, Serialize};

use crate::ids::RoomId;
use crate::protocol::ErrorCode;

/// The JWT header `typ` of a join token. A token of any other type (an ID token, a session
/// token) is never accepted as a join token.
pub const JOIN_TOKEN_TYP: &str = "narvaro-join+jwt";
/// Audience of join tokens: the media side.
pub const JOIN_TOKEN_AUDIENCE: &str = "narvaro-signalling";
/// Longest lifetime (`exp - iat`) accepted, in seconds.
pub const MAX_JOIN_TOKEN_LIFETIME_SECS: i64 = 120;
/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const CLOCK_LEEWAY_SECS: u64 = 5;

/// What a participant may be in a meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The citizen, joining from a booth (or, later, from home).
    Citizen,
    /// The case officer who hosts the meeting.
    Officer,
    /// The service guide, called to the booth.
    Guide,
    /// A spoken- or sign-language interpreter.
    Interpreter,
}

/// The claims of a join token. Pseudonymous: `sub` is a participant identity chosen by booking,
/// never a personnummer; `name` is a display name (for a citizen a role label, not their name).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JoinClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub room: RoomId,
    pub role: Role,
    pub name: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    /// How the participant was identified, in words for the others ("BankID", "ID-handling …
    /// kontrollerad av Maria Svensson"). Empty when booking did not say.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub identified: String,
}

/// A boxed future, so [`KeySource`] stays usable as `dyn` without an async-trait crate.
pub type KeyFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where signalling gets the issuer's public keys. Booking implements it in-process; a media node
/// that runs apart from booking fetches booking's `/.well-known/jwks.json` instead
/// ([`crate::jwks::RemoteJwks`]).
pub trait KeySource: Send + Sync + 'static {
    /// The keys known now. Called on every join, so it must not wait on anything.
    fn jwks(&self) -> JwkSet;

    /// A token names a key that [`Self::jwks`] lacks: a source that can learn keys looks again
    /// (when it may; see [`crate::jwks::RemoteJwks`]) before the token is judged. The default
    /// has nothing to learn: an in-process source always has every key.
    fn look_again(&self) -> KeyFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TokenError {
    #[error("no token")]
    Missing,
    #[error("token is not valid")]
    Invalid,
    #[error("token has expired or is not yet valid")]
    Expired,
    #[error("token is for another room")]
    WrongRoom,
    #[error("token has been used before")]
    Reused,
    #[error("token claims are not acceptable")]
    ClaimsInvalid,
    #[error("token lifetime is longer than {MAX_JOIN_TOKEN_LIFETIME_SECS} s")]
    LifetimeTooLong,
}

impl TokenError {
    pub fn code(&self) -> ErrorCode {
        match self {
            TokenError::Missing => ErrorCode::TokenMissing,
            TokenError::Invalid => ErrorCode::TokenInvalid,
            TokenError::Expired => ErrorCode::TokenExpired,
            TokenError::WrongRoom => ErrorCode::TokenWrongRoom,
            TokenError::Reused => ErrorCode::TokenReused,
            TokenError::ClaimsInvalid => ErrorCode::TokenClaimsInvalid,
            TokenError::LifetimeTooLong => ErrorCode::TokenLifetimeTooLong,
        }
    }
}

/// Verifies join tokens and remembers spent `jti`s until their token could no longer be valid.
pub struct JoinTokenVerifier {
    keys: Arc<dyn KeySource>,
    issuer: String,
    spent: Mutex<HashMap<String, i64>>,
}

impl JoinTokenVerifier {
    pub fn new(keys: Arc<dyn KeySource>, issuer: impl Into<String>) -> Self {
        Self {
            keys,
            issuer: issuer.into(),
            spent: Mutex::new(HashMap::new()),
        }
    }

    /// As [`Self::verify`], after letting the key source look again if the token names a key it
    /// does not know: a key rotated in at booking since signalling last fetched the JWKS.
    ///
    /// The look-up is a step before the check rather than inside it so that [`Self::verify`]
    /// stays synchronous and pure (given keys and a time, a verdict), and the one thing that
    /// waits, a fetch, is where the caller can await it. Only a token that could be a join token
    /// (its header parses, says our `typ` and names a `kid`) makes the source look; the source
    /// itself limits how often it does.
    pub async fn verify_looking_again(
        &self,
        token: &str,
        expected_room: &RoomId,
        now: i64,
    ) -> Result<JoinClaims, TokenError> {
        let unknown_kid = decode_header(token).ok().is_some_and(|h| {
            h.typ.as_deref() == Some(JOIN_TOKEN_TYP)
                && h.kid
                    .is_some_and(|kid| self.keys.jwks().find(&kid).is_none())
        });
        if unknown_kid {
            self.keys.look_again().await;
        }
        self.verify(token, expected_room, now)
    }

    /// Checks signature, algorithm, `typ`, issuer, audience, time, lifetime and (when given) the
    /// room; then spends the `jti`. `now` is unix seconds. Keys are the source's as they are now
    /// (an unknown `kid` is [`TokenError::Invalid`]); see [`Self::verify_looking_again`].
    pub fn verify(
        &self,
        token: &str,
        expected_room: &RoomId,
        now: i64,
    ) -> Result<JoinClaims, TokenError> {
        if token.is_empty() {
            return Err(TokenError::Missing);
        }
        // `alg: none` and unknown algorithms fail here: the header's `alg` must parse as a
        // signing algorithm, and it must then match the key's.
        let header = decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.typ.as_deref() != Some(JOIN_TOKEN_TYP) {
            return Err(TokenError::ClaimsInvalid);
        }
        let kid = header.kid.ok_or(TokenError::Invalid)?;
        let jwks = self.keys.jwks();
        let jwk = jwks.find(&kid).ok_or(TokenError::Invalid)?;
        let key = DecodingKey::from_jwk(jwk).map_err(|_| TokenError::Invalid)?;
        let alg = match jwk.common.key_algorithm.map(|a| a.to_string()) {
            Some(a) if a == "EdDSA" => Algorithm::EdDSA,
            Some(a) if a == "ES256" => Algorithm::ES256,
            _ => return Err(TokenError::Invalid),
        };
        if header.alg != alg {
            return Err(TokenError::Invalid);
        }

        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[JOIN_TOKEN_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        // Time is checked below against the caller's clock so tests can move it.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let claims = decode::<JoinClaims>(token, &key, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidIssuer
                | jsonwebtoken::errors::ErrorKind::InvalidAudience
                | jsonwebtoken::errors::ErrorKind::MissingRequiredClaim(_)
                | jsonwebtoken::errors::ErrorKind::Json(_) => TokenError::ClaimsInvalid,
                _ => TokenError::Invalid,
            })?
            .claims;

        let leeway = CLOCK_LEEWAY_SECS as i64;
        if claims.exp + leeway < now || claims.nbf - leeway > now {
            return Err(TokenError::Expired);
        }
        if claims.exp - claims.iat > MAX_JOIN_TOKEN_LIFETIME_SECS {
            return Err(TokenError::LifetimeTooLong);
        }
        if &claims.room != expected_room {
            return Err(TokenError::WrongRoom);
        }
        self.spend(&claims.jti, claims.exp + leeway, now)?;
        Ok(claims)
    }

    fn spend(&self, jti: &str, valid_until: i64, now: i64) -> Result<(), TokenError> {
        if jti.is_empty() {
            return Err(TokenError::ClaimsInvalid);
        }
        // A poisoned lock only means another join panicked mid-insert; the map is still usable.
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        spent.retain(|_, until| *until >= now);
        if spent.contains_key(jti) {
            return Err(TokenError::Reused);
        }
        spent.insert(jti.to_owned(), valid_until);
        Ok(())
    }
}
