//! SMS behind a provider trait; the implementation here POSTs JSON to an HTTP endpoint (an SMS
//! gateway or an adapter in front of one).

use std::time::Duration;

use async_trait::async_trait;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

use super::DeliveryError;
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
    uri: hyper::Uri,
    authority: String,
    timeout: Duration,
}

impl HttpSms {
    pub fn new(url: &str) -> Result<HttpSms, String> {
        let uri: hyper::Uri = url.parse().map_err(|_| "sms_url is not a URL".to_owned())?;
        if uri.scheme_str() != Some("http") {
            return Err("sms_url must be an http:// URL".into());
        }
        let authority = uri
            .authority()
            .ok_or_else(|| "sms_url has no host".to_owned())?
            .to_string();
        Ok(HttpSms {
            uri,
            authority,
            timeout: Duration::from_secs(15),
        })
    }

    async fn post(&self, body: Vec<u8>) -> Result<u16, DeliveryError> {
        let addr = if self.uri.port().is_some() {
            self.authority.clone()
        } else {
            format!("{}:80", self.authority)
        };
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|_| DeliveryError::Unreachable)?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| DeliveryError::Unreachable)?;
        // The connection future drives the socket; it ends when the request is done.
        tokio::spawn(conn);
        let path = self.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let req = hyper::Request::post(path)
            .header(hyper::header::HOST, &self.authority)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| DeliveryError::Rejected("request".into()))?;
        let res = sender
            .send_request(req)
            .await
            .map_err(|_| DeliveryError::Unreachable)?;
        let status = res.status().as_u16();
        // Read the body so the connection ends cleanly; its content is not used (it may echo the
        // number).
        let _ = res.into_body().collect().await;
        Ok(status)
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
        let status = tokio::time::timeout(self.timeout, self.post(body))
            .await
            .map_err(|_| DeliveryError::Timeout)??;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(DeliveryError::Rejected(format!("http {status}")))
        }
    }
}
