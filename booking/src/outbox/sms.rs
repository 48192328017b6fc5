//! SMS behind a provider trait; the implementation here POSTs JSON to an HTTP endpoint (an SMS
//! gateway or an adapter in front of one).

use std::time::Duration;

use async_trait::async_trait;
use http_body_util::Full;
use hyper::body::Bytes;

use super::DeliveryError;
use crate::http_client::{self, HttpError, Target};
use crate::ids::MessageId;

/// One text message. `to` is a phone number: never log it.
#[derive(Debug, Clone, Copy)]
pub struct Sms<'a> {
    /// The outbox message; a provider may deduplicate by it.
    pub reference: MessageId,
    pub to: &'a str,
    pub text: &'a str,
}

#[async_trait]
pub trait SmsProvider: Send + Sync {
    /// `Ok` once the provider has accepted the message.
    async fn send(&self, sms: Sms<'_>) -> Result<(), DeliveryError>;
}

/// `POST {url}` with `{"reference", "to", "text"}`; any 2xx is accepted. Plain `http://` only: a
/// gateway on the internet is reached through a local adapter or proxy that holds its credentials.
pub struct HttpSms {
    target: Target,
    path: String,
    timeout: Duration,
}

impl HttpSms {
    pub fn new(url: &str) -> Result<HttpSms, String> {
        let uri: hyper::Uri = url.parse().map_err(|_| "sms_url is not a URL".to_owned())?;
        if uri.scheme_str() != Some("http") {
            return Err("sms_url must be an http:// URL".into());
        }
        let target = Target::of_url(&uri, None).map_err(|e| format!("sms_url: {e}"))?;
        let path = uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .to_owned();
        Ok(HttpSms {
            target,
            path,
            timeout: Duration::from_secs(15),
        })
    }

    async fn post(&self, body: Vec<u8>) -> Result<u16, DeliveryError> {
        let req = hyper::Request::post(self.path.as_str())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| DeliveryError::Rejected("request".into()))?;
        // The answer's body is read (so the connection ends cleanly) but not used: it may echo
        // the number.
        match http_client::send(&self.target, req, 64 * 1024, self.timeout).await {
            Ok(answer) => Ok(answer.status.as_u16()),
            Err(HttpError::Timeout) => Err(DeliveryError::Timeout),
            Err(HttpError::Transport { .. }) => Err(DeliveryError::Unreachable),
        }
    }
}

#[async_trait]
impl SmsProvider for HttpSms {
    async fn send(&self, sms: Sms<'_>) -> Result<(), DeliveryError> {
        let body = serde_json::json!({
            "reference": sms.reference,
            "to": sms.to,
            "text": sms.text,
        })
        .to_string()
        .into_bytes();
        let status = self.post(body).await?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(DeliveryError::Rejected(format!("http {status}")))
        }
    }
}
