//! Signalling's fetcher of booking's JWKS when they run apart (`signalling.jwks_url`): one GET
//! through booking's HTTP client. Here, in the composition, because that client (and its TLS
//! roots, the system's CA store) is the one the workspace has; signalling keeps only the caching
//! and rate-limiting policy ([`signalling::jwks::RemoteJwks`]) and never opens a socket for it.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Method, Request, StatusCode, Uri, header};
use booking::http_client::{self, Target};
use http_body_util::Full;
use jsonwebtoken::jwk::JwkSet;
use signalling::jwks::FetchJwks;
use signalling::token::KeyFuture;

/// A JWKS of a few keys is well under this; anything larger is not booking's.
const MAX_JWKS_BYTES: usize = 64 * 1024;
/// A join waits at most this for a fetch on an unknown key.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

pub struct HttpJwks {
    target: Target,
    path: String,
}

impl HttpJwks {
    /// `url` must be `https://`, or `http://` to this machine only: whoever can change the keys
    /// on the way can sign join tokens.
    pub fn new(url: &str) -> Result<HttpJwks, String> {
        const KEY: &str = "signalling.jwks_url";
        booking::config::check_url(KEY, url, true)?;
        let uri: Uri = url.parse().map_err(|_| format!("{KEY} is not a URL"))?;
        let tls = match uri.scheme_str() {
            Some("https") => Some(booking::oidc::system_tls()?),
            _ => None,
        };
        let target = Target::of_url(&uri, tls.as_ref()).map_err(|e| format!("{KEY}: {e}"))?;
        let path = uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .to_owned();
        Ok(HttpJwks { target, path })
    }

    async fn get(&self) -> Result<JwkSet, String> {
        let request = Request::builder()
            .method(Method::GET)
            .uri(self.path.as_str())
            .header(header::ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        let answer = http_client::send(&self.target, request, MAX_JWKS_BYTES, FETCH_TIMEOUT)
            .await
            .map_err(|e| e.to_string())?;
        if answer.status != StatusCode::OK {
            return Err(format!("HTTP {}", answer.status));
        }
        serde_json::from_slice(&answer.body).map_err(|e| format!("not a JWKS: {e}"))
    }
}

impl FetchJwks for HttpJwks {
    fn fetch(&self) -> KeyFuture<'_, Result<JwkSet, String>> {
        Box::pin(self.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_refused_except_to_this_machine() {
        assert!(HttpJwks::new("http://127.0.0.1:8080/.well-known/jwks.json").is_ok());
        assert!(HttpJwks::new("http://localhost/.well-known/jwks.json").is_ok());
        let err = HttpJwks::new("http://booking.example/.well-known/jwks.json")
            .err()
            .unwrap();
        assert!(err.contains("https://"), "{err}");
        assert!(HttpJwks::new("ftp://booking.example/jwks").is_err());
    }
}
