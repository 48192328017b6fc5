//! Join tokens a well-behaved booking would never issue, for rejection tests.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use signalling::token::{JOIN_TOKEN_TYP, JoinClaims};

/// An unsigned JWT: `base64url(header).base64url(claims).` with `"alg":"none"`. `kid` is the
/// real issuer's, so only the algorithm is wrong.
pub fn unsigned_token(claims: &JoinClaims, kid: &str) -> String {
    let header = serde_json::json!({ "alg": "none", "typ": JOIN_TOKEN_TYP, "kid": kid });
    // Claims are plain data; serializing them cannot fail.
    let claims = serde_json::to_vec(claims).expect("claims serialize");
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims)
    )
}

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use signalling::ids::RoomId;
    use signalling::token::Role;

    #[test]
    fn unsigned_token_has_an_empty_signature_and_alg_none() {
        let claims = JoinClaims {
            iss: "i".into(),
            aud: "a".into(),
            sub: "s".into(),
            room: RoomId::from("r"),
            role: Role::Citizen,
            name: "n".into(),
            iat: 1,
            nbf: 1,
            exp: 2,
            jti: "j".into(),
            identified: String::new(),
        };
        let token = unsigned_token(&claims, "k");
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[2], "");
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "none");
    }
}
