//! The animated QR code of a BankID order.
//!
//! BankID's app accepts a QR code only if it was made in the last second or so from the order's
//! `qrStartSecret`, which only the relying party's server knows: `bankid.<qrStartToken>.<time>.
//! <qrAuthCode>`, where `time` is whole seconds since the order was started and `qrAuthCode` the
//! lowercase hex HMAC-SHA256 of `time` (as decimal text) under the secret. A photo of the screen
//! sent to someone elsewhere is therefore useless a few seconds later. The server computes the
//! content each second; the browser only ever sees the picture.

use aws_lc_rs::hmac;

/// The text a QR code carries `seconds` after the order started.
pub fn content(qr_start_token: &str, qr_start_secret: &str, seconds: u64) -> String {
    format!(
        "bankid.{qr_start_token}.{seconds}.{}",
        auth_code(qr_start_secret, seconds)
    )
}

/// `qrAuthCode`: lowercase hex HMAC-SHA256 of the decimal `seconds` under `qr_start_secret`.
pub fn auth_code(qr_start_secret: &str, seconds: u64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, qr_start_secret.as_bytes());
    let tag = hmac::sign(&key, seconds.to_string().as_bytes());
    tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The parts of a scanned QR code, if it has BankID's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanned<'a> {
    pub qr_start_token: &'a str,
    pub seconds: u64,
    pub auth_code: &'a str,
}

pub fn parse(content: &str) -> Option<Scanned<'_>> {
    let rest = content.strip_prefix("bankid.")?;
    let mut parts = rest.splitn(3, '.');
    let qr_start_token = parts.next().filter(|t| !t.is_empty())?;
    let seconds = parts.next()?.parse().ok()?;
    let auth_code = parts.next().filter(|c| c.len() == 64)?;
    Some(Scanned {
        qr_start_token,
        seconds,
        auth_code,
    })
}

/// Whether `scanned` was made from `qr_start_secret` at `seconds` (constant-time comparison).
pub fn verify(scanned: &Scanned<'_>, qr_start_secret: &str) -> bool {
    let key = hmac::Key::new(hmac::HMAC_SHA256, qr_start_secret.as_bytes());
    let Some(tag) = decode_hex(scanned.auth_code) else {
        return false;
    };
    hmac::verify(&key, scanned.seconds.to_string().as_bytes(), &tag).is_ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The QR code as an SVG picture: dark modules on white, with the quiet zone the standard asks for
/// so phone cameras find it on any background.
pub fn svg(content: &str) -> String {
    // Error correction level L: the content is ~100 characters and the screen is clean, so the
    // smallest code (largest modules) scans best from a phone held at arm's length.
    let code = qrcode::QrCode::with_error_correction_level(content, qrcode::EcLevel::L)
        .expect("a BankID QR content always fits in a QR code");
    code.render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_carries_token_seconds_and_the_hmac_of_the_seconds() {
        let c = content(
            "67df3917-fa0d-44e5-b327-edcc928297f8",
            "d28db9a7-4cde-429e-a983-359be676944c",
            0,
        );
        // HMAC-SHA256(key = the secret, message = "0"), computed independently with
        // `printf 0 | openssl dgst -sha256 -hmac d28db9a7-4cde-429e-a983-359be676944c`.
        assert_eq!(
            c,
            "bankid.67df3917-fa0d-44e5-b327-edcc928297f8.0.\
             dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8"
        );
    }

    #[test]
    fn a_code_verifies_only_under_its_secret_and_second() {
        let c = content("tok", "secret", 7);
        let s = parse(&c).unwrap();
        assert_eq!(s.qr_start_token, "tok");
        assert_eq!(s.seconds, 7);
        assert!(verify(&s, "secret"));
        assert!(!verify(&s, "other"));
        let moved = Scanned {
            seconds: 8,
            ..s.clone()
        };
        assert!(!verify(&moved, "secret"));
        let upper = s.auth_code.to_ascii_uppercase();
        assert!(!verify(
            &Scanned {
                auth_code: &upper,
                ..s
            },
            "secret"
        ));
    }

    #[test]
    fn malformed_contents_do_not_parse() {
        for bad in [
            "",
            "bankid.",
            "bankid.tok.x.abc",
            "other.tok.1.abc",
            "bankid..1.abc",
            "bankid.tok.1.short",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn svg_is_a_picture() {
        let s = svg(&content("tok", "secret", 1));
        assert!(
            s.contains("<svg") && s.contains("#000000"),
            "{}",
            &s[..80.min(s.len())]
        );
    }
}
