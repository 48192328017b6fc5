//! The data key: encrypts personnummer at rest, keys their look-up hash and derives pseudonyms.
//!
//! One configured 32-byte key; three sub-keys derived from it with HMAC-SHA256 over fixed labels,
//! so that no key is used for two purposes.

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::config::Secret;

pub const DATA_KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("data key must be {DATA_KEY_LEN} bytes of base64")]
    BadKey,
    #[error("ciphertext does not decrypt under the data key")]
    Decrypt,
    #[error("the system random generator failed")]
    Random,
}

pub struct DataKey {
    enc: RandomizedNonceKey,
    lookup: hmac::Key,
    pseudonym: hmac::Key,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey([redacted])")
    }
}

impl DataKey {
    pub fn from_bytes(key: &[u8; DATA_KEY_LEN]) -> Result<Self, CryptoError> {
        let root = hmac::Key::new(hmac::HMAC_SHA256, key);
        let derive = |label: &[u8]| hmac::sign(&root, label);
        let enc = RandomizedNonceKey::new(
            &AES_256_GCM,
            derive(b"narvaro/personnummer-encryption/v1").as_ref(),
        )
        .map_err(|_| CryptoError::BadKey)?;
        Ok(DataKey {
            enc,
            lookup: hmac::Key::new(
                hmac::HMAC_SHA256,
                derive(b"narvaro/personnummer-lookup/v1").as_ref(),
            ),
            pseudonym: hmac::Key::new(
                hmac::HMAC_SHA256,
                derive(b"narvaro/participant-pseudonym/v1").as_ref(),
            ),
        })
    }

    pub fn from_secret(secret: &Secret) -> Result<Self, CryptoError> {
        let bytes = STANDARD
            .decode(secret.expose().trim())
            .map_err(|_| CryptoError::BadKey)?;
        let key: [u8; DATA_KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        Self::from_bytes(&key)
    }

    /// A fresh key, base64, for a development key file.
    pub fn generate_secret() -> Result<Secret, CryptoError> {
        let mut key = [0u8; DATA_KEY_LEN];
        aws_lc_rs::rand::fill(&mut key).map_err(|_| CryptoError::Random)?;
        Ok(Secret::new(STANDARD.encode(key)))
    }

    /// AES-256-GCM with a random nonce; `aad` binds the ciphertext to its row. Output:
    /// nonce || ciphertext || tag.
    pub fn encrypt(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut in_out = plaintext.to_vec();
        let nonce = self
            .enc
            .seal_in_place_append_tag(Aad::from(aad), &mut in_out)
            .map_err(|_| CryptoError::Random)?;
        let mut out = nonce.as_ref().to_vec();
        out.extend_from_slice(&in_out);
        Ok(out)
    }

    pub fn decrypt(&self, blob: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if blob.len() < NONCE_LEN {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, ct) = blob.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Decrypt)?;
        let mut in_out = ct.to_vec();
        let plain = self
            .enc
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut in_out,
            )
            .map_err(|_| CryptoError::Decrypt)?;
        Ok(plain.to_vec())
    }

    /// Deterministic keyed hash for the UNIQUE look-up column.
    pub fn lookup_hash(&self, data: &[u8]) -> Vec<u8> {
        hmac::sign(&self.lookup, data).as_ref().to_vec()
    }

    /// A stable pseudonym for `parts` (e.g. booking and person), safe to hand to the media side.
    pub fn pseudonym(&self, parts: &[&[u8]]) -> String {
        let mut ctx = hmac::Context::with_key(&self.pseudonym);
        for part in parts {
            // Length-prefixed so ("ab","c") and ("a","bc") differ.
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part);
        }
        let tag = ctx.sign();
        URL_SAFE_NO_PAD.encode(&tag.as_ref()[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypts_with_fresh_nonces_and_decrypts_only_with_the_same_aad() {
        let key = DataKey::from_bytes(&[7; 32]).unwrap();
        let a = key.encrypt(b"191212121212", b"row-1").unwrap();
        let b = key.encrypt(b"191212121212", b"row-1").unwrap();
        assert_ne!(a, b);
        assert_eq!(key.decrypt(&a, b"row-1").unwrap(), b"191212121212");
        assert!(key.decrypt(&a, b"row-2").is_err());
        assert_eq!(key.lookup_hash(b"x"), key.lookup_hash(b"x"));
        let other = DataKey::from_bytes(&[8; 32]).unwrap();
        assert_ne!(key.lookup_hash(b"x"), other.lookup_hash(b"x"));
    }

    #[test]
    fn secret_must_be_32_bytes_of_base64() {
        assert!(DataKey::from_secret(&Secret::new("c2hvcnQ=")).is_err());
        assert!(DataKey::from_secret(&DataKey::generate_secret().unwrap()).is_ok());
    }
}
