//! Join tokens: booking signs, signalling verifies.
//!
//! Ed25519 keys generated in memory (a restart invalidates outstanding tokens, which live at most
//! two minutes anyway). One key signs; [`TokenIssuer::rotate`] (every
//! `join_key_rotation_hours`) makes a new one sign from then on and keeps the one before
//! published until every token it can have signed has expired, so a token handed out a moment
//! before a rotation still joins. The public halves are published as a JWKS, in-process through
//! [`signalling::token::KeySource`] and over HTTP at `/.well-known/jwks.json`.

use std::sync::{Arc, RwLock};

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use signalling::ids::RoomId;
use signalling::token::{
    CLOCK_LEEWAY_SECS, JOIN_TOKEN_AUDIENCE, JOIN_TOKEN_TYP, JoinClaims, KeySource,
    MAX_JOIN_TOKEN_LIFETIME_SECS, Role,
};

use crate::clock::{Clock, SystemClock};

/// How long a key stays published after it stopped signing: the longest a token it signed can
/// be accepted (its lifetime and the clock leeway signalling allows on `exp`).
pub const RETIRED_KEY_GRACE_SECS: i64 = MAX_JOIN_TOKEN_LIFETIME_SECS + CLOCK_LEEWAY_SECS as i64;

pub struct TokenIssuer {
    issuer: String,
    clock: Arc<dyn Clock>,
    /// A read lock per token signed or JWKS served, a write lock per rotation: contention is nil.
    keys: RwLock<Keys>,
}

struct Keys {
    current: SigningKey,
    /// Keys that no longer sign, each with the unix second it stops being published.
    retired: Vec<(Jwk, i64)>,
}

struct SigningKey {
    kid: String,
    key: EncodingKey,
    jwk: Jwk,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("issuer", &self.issuer)
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    fn generate() -> SigningKey {
        // Key generation only fails if the system random source is broken; nothing can run then.
        let pair = Ed25519KeyPair::generate().expect("system random source works");
        // Serialising a freshly generated key to PKCS#8 cannot fail.
        let pkcs8 = pair.to_pkcs8v1().expect("ed25519 key serialises to pkcs8");
        let public = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
        let kid = {
            let digest =
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, pair.public_key().as_ref());
            URL_SAFE_NO_PAD.encode(&digest.as_ref()[..12])
        };
        let jwk = Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(KeyAlgorithm::EdDSA),
                key_id: Some(kid.clone()),
                ..Default::default()
            },
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: public,
            }),
        };
        SigningKey {
            kid,
            key: EncodingKey::from_ed_der(pkcs8.as_ref()),
            jwk,
        }
    }
}

impl TokenIssuer {
    /// A fresh Ed25519 key for `issuer` (the `iss` claim), on the system clock.
    pub fn generate(issuer: &str) -> TokenIssuer {
        Self::with_clock(issuer, Arc::new(SystemClock))
    }

    /// As [`Self::generate`]; `clock` decides when a retired key stops being published.
    pub fn with_clock(issuer: &str, clock: Arc<dyn Clock>) -> TokenIssuer {
        TokenIssuer {
            issuer: issuer.to_owned(),
            clock,
            keys: RwLock::new(Keys {
                current: SigningKey::generate(),
                retired: Vec::new(),
            }),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `kid` of the key that signs now.
    pub fn kid(&self) -> String {
        self.read().current.kid.clone()
    }

    /// A new key signs from now on. The one before stays in the JWKS for
    /// [`RETIRED_KEY_GRACE_SECS`], so tokens it signed still verify until they expire.
    pub fn rotate(&self) {
        let fresh = SigningKey::generate();
        let now = self.clock.now();
        // A poisoned lock means a panic mid-rotation; `Keys` is never left half-written (one
        // assignment each), so it is still sound to use.
        let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
        let old = std::mem::replace(&mut keys.current, fresh);
        keys.retired.retain(|(_, until)| *until >= now);
        keys.retired.push((old.jwk, now + RETIRED_KEY_GRACE_SECS));
        tracing::info!(kid = %keys.current.kid, "join-token signing key rotated");
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Keys> {
        // See `rotate` on why a poisoned lock is still sound.
        self.keys.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Claims for one join: valid from `now` for `lifetime_secs`, with a fresh `jti`.
    pub fn claims(
        &self,
        room: RoomId,
        role: Role,
        sub: String,
        name: String,
        now: i64,
        lifetime_secs: i64,
    ) -> JoinClaims {
        JoinClaims {
            iss: self.issuer.clone(),
            aud: JOIN_TOKEN_AUDIENCE.to_owned(),
            sub,
            room,
            role,
            name,
            iat: now,
            nbf: now,
            exp: now + lifetime_secs,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            identified: String::new(),
        }
    }

    /// Signs any claims as a join token (`alg: EdDSA`, `typ`: [`JOIN_TOKEN_TYP`], `kid`). Public so
    /// tests can make expired or wrong-room tokens.
    pub fn sign(&self, claims: &JoinClaims) -> String {
        self.sign_with_typ(claims, JOIN_TOKEN_TYP)
    }

    /// As [`Self::sign`] with another header `typ`; for tests that a verifier refuses other token types.
    pub fn sign_with_typ(&self, claims: &JoinClaims, typ: &str) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(typ.to_owned());
        let keys = self.read();
        header.kid = Some(keys.current.kid.clone());
        // Serialising plain claims and signing with a key we generated ourselves cannot fail.
        jsonwebtoken::encode(&header, claims, &keys.current.key).expect("join token signs")
    }
}

impl KeySource for TokenIssuer {
    /// The signing key first, then retired keys still within their grace.
    fn jwks(&self) -> JwkSet {
        let now = self.clock.now();
        let keys = self.read();
        let retired = keys
            .retired
            .iter()
            .filter(|(_, until)| *until >= now)
            .map(|(jwk, _)| jwk.clone());
        JwkSet {
            keys: std::iter::once(keys.current.jwk.clone())
                .chain(retired)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use signalling::token::{JoinTokenVerifier, TokenError};

    use super::*;

    fn claims(issuer: &TokenIssuer, room: &str, now: i64) -> JoinClaims {
        issuer.claims(
            RoomId::from(room),
            Role::Officer,
            "p-1".into(),
            "Anna".into(),
            now,
            60,
        )
    }

    #[test]
    fn signalling_accepts_our_token_once() {
        let issuer = Arc::new(TokenIssuer::generate("narvaro-booking"));
        let verifier = JoinTokenVerifier::new(issuer.clone(), "narvaro-booking");
        let now = 1_800_000_000;
        let token = issuer.sign(&claims(&issuer, "bk-1", now));
        let got = verifier
            .verify(&token, &RoomId::from("bk-1"), now + 1)
            .unwrap();
        assert_eq!(got.role, Role::Officer);
        assert_eq!(
            verifier.verify(&token, &RoomId::from("bk-1"), now + 1),
            Err(TokenError::Reused)
        );
    }

    #[test]
    fn signalling_refuses_other_typ_unknown_key_and_wrong_room() {
        let issuer = Arc::new(TokenIssuer::generate("narvaro-booking"));
        let verifier = JoinTokenVerifier::new(issuer.clone(), "narvaro-booking");
        let now = 1_800_000_000;
        let room = RoomId::from("bk-1");
        let other_typ = issuer.sign_with_typ(&claims(&issuer, "bk-1", now), "JWT");
        assert_eq!(
            verifier.verify(&other_typ, &room, now),
            Err(TokenError::ClaimsInvalid)
        );
        let stranger = TokenIssuer::generate("narvaro-booking");
        let unknown = stranger.sign(&claims(&stranger, "bk-1", now));
        assert_eq!(
            verifier.verify(&unknown, &room, now),
            Err(TokenError::Invalid)
        );
        let wrong_room = issuer.sign(&claims(&issuer, "bk-2", now));
        assert_eq!(
            verifier.verify(&wrong_room, &room, now),
            Err(TokenError::WrongRoom)
        );
        let expired = issuer.sign(&claims(&issuer, "bk-1", now - 600));
        assert_eq!(
            verifier.verify(&expired, &room, now),
            Err(TokenError::Expired)
        );
    }

    fn kids(issuer: &TokenIssuer) -> Vec<String> {
        issuer
            .jwks()
            .keys
            .into_iter()
            .filter_map(|k| k.common.key_id)
            .collect()
    }

    #[test]
    fn after_a_rotation_both_keys_are_published_and_old_tokens_still_verify() {
        let now = 1_800_000_000;
        let clock = Arc::new(crate::ManualClock::new(now));
        let issuer = Arc::new(TokenIssuer::with_clock("narvaro-booking", clock.clone()));
        let verifier = JoinTokenVerifier::new(issuer.clone(), "narvaro-booking");
        let room = RoomId::from("bk-1");
        let old_kid = issuer.kid();
        let before = issuer.sign(&claims(&issuer, "bk-1", now));

        issuer.rotate();
        let new_kid = issuer.kid();
        assert_ne!(new_kid, old_kid);
        assert_eq!(kids(&issuer), vec![new_kid.clone(), old_kid.clone()]);
        let after = issuer.sign(&claims(&issuer, "bk-1", now));
        let header = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
        assert_eq!(header(&before), old_kid);
        assert_eq!(header(&after), new_kid);

        // The old key's last token is good until it expires (plus leeway), the key with it.
        clock.advance(30);
        assert!(verifier.verify(&before, &room, clock.now()).is_ok());
        assert!(verifier.verify(&after, &room, clock.now()).is_ok());
    }

    #[test]
    fn a_retired_key_leaves_the_jwks_once_no_token_it_signed_can_be_valid() {
        let now = 1_800_000_000;
        let clock = Arc::new(crate::ManualClock::new(now));
        let issuer = Arc::new(TokenIssuer::with_clock("narvaro-booking", clock.clone()));
        let verifier = JoinTokenVerifier::new(issuer.clone(), "narvaro-booking");
        let room = RoomId::from("bk-1");
        let old_kid = issuer.kid();
        // The longest-lived token the old key can sign, signed at the last moment.
        let last = issuer.sign(&issuer.claims(
            room.clone(),
            Role::Citizen,
            "p-1".into(),
            "Medborgare".into(),
            now,
            MAX_JOIN_TOKEN_LIFETIME_SECS,
        ));
        issuer.rotate();

        clock.advance(RETIRED_KEY_GRACE_SECS);
        assert!(kids(&issuer).contains(&old_kid), "kept through the grace");
        assert!(
            verifier.verify(&last, &room, clock.now()).is_ok(),
            "its last token is still good at the end of the grace, and verifies"
        );
        clock.advance(1);
        assert_eq!(kids(&issuer), vec![issuer.kid()], "gone after it");
        // Past the grace its tokens have expired too: the key leaving refuses nothing valid.
        assert_eq!(
            verifier.verify(&last, &room, clock.now()),
            Err(TokenError::Invalid)
        );

        // A second rotation long after keeps only the key it retires.
        let middle = issuer.kid();
        issuer.rotate();
        assert_eq!(kids(&issuer), vec![issuer.kid(), middle]);
    }

    #[test]
    fn jwks_publishes_an_ed25519_signing_key() {
        let issuer = TokenIssuer::generate("x");
        let json = serde_json::to_value(issuer.jwks()).unwrap();
        let key = &json["keys"][0];
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["alg"], "EdDSA");
        assert_eq!(key["use"], "sig");
        assert_eq!(key["kid"], issuer.kid());
        assert!(key.get("d").is_none(), "private part must not be published");
    }
}
