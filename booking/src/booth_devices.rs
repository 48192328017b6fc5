//! Booth kiosks as devices: a centre admin makes a one-time enrolment code for a booth, the
//! kiosk trades it for a long-lived credential (the `narvaro_device` cookie), and from then on the
//! kiosk is that booth: it sees the booth's next meeting and joins only meetings booked for it.
//! The kiosk never holds a citizen's session: how the citizen was identified is recorded on the
//! booking, so nothing of them stays on the device.

use axum::http::{HeaderMap, HeaderValue};

use crate::Booking;
use crate::store::{BoothDevice, StoreError};

pub const DEVICE_COOKIE: &str = "narvaro_device";
/// A kiosk stays enrolled for a year, then needs a new code.
pub const DEVICE_LIFETIME_SECS: i64 = 365 * 86_400;
/// An enrolment code is for the admin standing at the kiosk: 15 minutes.
pub const ENROLMENT_CODE_LIFETIME_SECS: i64 = 15 * 60;

/// Crockford's base32: no I, L, O or U, so a code read aloud or typed is not misread.
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh enrolment code: 130 random bits as 26 characters in groups of four
/// (`ABCD-EFGH-…`), so it cannot be guessed however often one tries.
pub fn new_enrolment_code() -> Result<String, aws_lc_rs::error::Unspecified> {
    let mut bytes = [0u8; 26];
    aws_lc_rs::rand::fill(&mut bytes)?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| CODE_ALPHABET[(b & 31) as usize] as char)
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// What is hashed of a typed code: case, spaces and dashes do not matter, and the letters
/// Crockford's alphabet leaves out read as the digits they look like.
pub fn normalise_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

pub fn code_hash(typed: &str) -> String {
    crate::secrets::sha256_hex(&normalise_code(typed))
}

/// The `Set-Cookie` value holding a new kiosk credential.
/// `secure`: [`crate::Booking::secure_cookies`].
pub fn device_cookie(secret: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!(
        "{DEVICE_COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age={DEVICE_LIFETIME_SECS}{secure}"
    );
    // base64url and fixed ASCII attributes only: always a valid header value.
    HeaderValue::from_str(&cookie).expect("cookie is ASCII")
}

/// The enrolled kiosk behind a request, if it carries a known credential.
pub async fn device_of(
    booking: &Booking,
    headers: &HeaderMap,
) -> Result<Option<BoothDevice>, StoreError> {
    match crate::secrets::cookie(headers, DEVICE_COOKIE) {
        Some(secret) => {
            booking
                .store()
                .booth_device(&crate::secrets::sha256_hex(secret))
                .await
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_long_grouped_and_forgiving_to_type() {
        let code = new_enrolment_code().unwrap();
        assert_eq!(normalise_code(&code).len(), 26);
        assert_eq!(code.split('-').count(), 7);
        assert_ne!(code, new_enrolment_code().unwrap());
        assert_eq!(
            code_hash(&code),
            code_hash(&code.to_lowercase().replace('-', " "))
        );
        assert_eq!(normalise_code("o1-il"), "0111");
    }
}
