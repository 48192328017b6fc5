//! Join tokens: booking signs, signalling verifies.
//!
//! An Ed25519 key generated at start-up (a restart invalidates outstanding tokens, which live at
//! most two minutes anyway). The public half is published as a JWKS, in-process through
//! [`signalling::token::KeySource`] and over HTTP at `/.well-known/jwks.json`.

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use signalling::ids::RoomId;
use signalling::token::{JOIN_TOKEN_AUDIENCE, JOIN_TOKEN_TYP, JoinClaims, KeySource, Role};

pub struct TokenIssuer {
    issuer: String,
    kid: String,
    key: EncodingKey,
    jwk: Jwk,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("issuer", &self.issuer)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// A fresh Ed25519 key for `issuer` (the `iss` claim).
    pub fn generate(issuer: &str) -> TokenIssuer {
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
        TokenIssuer {
            issuer: issuer.to_owned(),
            kid,
            key: EncodingKey::from_ed_der(pkcs8.as_ref()),
            jwk,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn kid(&self) -> &str {
        &self.kid
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
        header.kid = Some(self.kid.clone());
        // Serialising plain claims and signing with a key we generated ourselves cannot fail.
        jsonwebtoken::encode(&header, claims, &self.key).expect("join token signs")
    }
}

impl KeySource for TokenIssuer {
    fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![self.jwk.clone()],
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
