//! Bearer secrets held by browsers (session, BankID order binding, booth kiosk credential): made
//! from the system's random source, sent only in HttpOnly cookies, stored only as their SHA-256, so
//! neither a database dump nor a log line can be replayed as a cookie.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// 32 random bytes, base64url.
pub fn random_secret() -> Result<String, aws_lc_rs::error::Unspecified> {
    let mut secret = [0u8; 32];
    aws_lc_rs::rand::fill(&mut secret)?;
    Ok(URL_SAFE_NO_PAD.encode(secret))
}

/// Lowercase hex SHA-256: what the database keeps of a secret.
pub fn sha256_hex(secret: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The value of cookie `name` in the request, if present and not empty.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, value)| *n == name && !value.is_empty())
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn finds_a_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=1; narvaro_session=abc; b=2"),
        );
        assert_eq!(cookie(&h, "narvaro_session"), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
        h.insert(COOKIE, HeaderValue::from_static("narvaro_session="));
        assert_eq!(cookie(&h, "narvaro_session"), None);
    }

    #[test]
    fn secrets_are_fresh_and_hash_to_hex() {
        assert_ne!(random_secret().unwrap(), random_secret().unwrap());
        assert_eq!(sha256_hex("abc").len(), 64);
    }
}
