//! One HTTP/1.1 request per connection, over plain TCP or TLS: what booking's outgoing calls
//! (BankID's RP API, the SMS endpoint, OpenID providers) share.
//!
//! A connection per call on purpose: each of those services is called now and then (an order
//! collected every two seconds, a login, a message), so a handshake per call costs little beside
//! the wait, and no pooled connection can go stale behind a firewall between calls. Who to trust
//! is the caller's: each passes its own [`TlsConnector`].

use std::fmt;
use std::time::Duration;

use axum::http::{HeaderMap, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

/// Where requests go: a host and port, and the TLS to speak there (none: plain TCP).
#[derive(Clone)]
pub struct Target {
    host: String,
    port: u16,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Target {
    /// Plain TCP to `host:port`.
    pub fn plain(host: impl Into<String>, port: u16) -> Target {
        Target {
            host: host.into(),
            port,
            tls: None,
        }
    }

    /// TLS to `host:port`, the server's certificate checked for `host` by `tls`.
    pub fn tls(host: impl Into<String>, port: u16, tls: TlsConnector) -> Result<Target, String> {
        let host = host.into();
        let name = ServerName::try_from(host.clone()).map_err(|_| format!("bad host {host:?}"))?;
        Ok(Target {
            host,
            port,
            tls: Some((tls, name)),
        })
    }

    /// The target of an `http://` or `https://` URL (`tls` for the latter).
    pub fn of_url(uri: &Uri, tls: Option<&TlsConnector>) -> Result<Target, String> {
        let host = uri.host().ok_or("the URL has no host")?;
        // `Uri::host` keeps an IPv6 literal's brackets; connecting and SNI want the address.
        let host = host.trim_start_matches('[').trim_end_matches(']');
        match (uri.scheme_str(), tls) {
            (Some("http"), _) => Ok(Target::plain(host, uri.port_u16().unwrap_or(80))),
            (Some("https"), Some(tls)) => {
                Target::tls(host, uri.port_u16().unwrap_or(443), tls.clone())
            }
            (Some("https"), None) => Err("https:// but no TLS configuration".into()),
            _ => Err("the URL is neither http:// nor https://".into()),
        }
    }

    /// The `Host` header for requests to this target.
    pub fn authority(&self) -> String {
        let default_port = if self.tls.is_some() { 443 } else { 80 };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default_port {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// An answer, its body read in full.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// No answer: connection, TLS, the HTTP exchange, or a body over the limit. `stage` is which.
    #[error("{stage}: {detail}")]
    Transport { stage: &'static str, detail: String },
    #[error("timed out")]
    Timeout,
}

/// Sends `request` (its `Host` header added) and reads the answer, at most `max_body` bytes of
/// it, all within `timeout`.
pub async fn send(
    target: &Target,
    request: Request<Full<Bytes>>,
    max_body: usize,
    timeout: Duration,
) -> Result<Answer, HttpError> {
    tokio::time::timeout(timeout, send_once(target, request, max_body))
        .await
        .map_err(|_| HttpError::Timeout)?
}

async fn send_once(
    target: &Target,
    mut request: Request<Full<Bytes>>,
    max_body: usize,
) -> Result<Answer, HttpError> {
    let failed = |stage: &'static str| {
        move |e: &dyn fmt::Display| HttpError::Transport {
            stage,
            detail: e.to_string(),
        }
    };
    let tcp = tokio::net::TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|e| failed("connect")(&e))?;
    let authority = target.authority();
    request.headers_mut().insert(
        header::HOST,
        authority
            .parse()
            .map_err(|e: header::InvalidHeaderValue| failed("request")(&e))?,
    );
    let response = match &target.tls {
        Some((tls, name)) => {
            let stream = tls
                .connect(name.clone(), tcp)
                .await
                .map_err(|e| failed("TLS")(&e))?;
            exchange(TokioIo::new(stream), request).await?
        }
        None => exchange(TokioIo::new(tcp), request).await?,
    };
    let status = response.status();
    let headers = response.headers().clone();
    let body = Limited::new(response.into_body(), max_body)
        .collect()
        .await
        .map_err(|e| failed("answer")(&*e))?
        .to_bytes();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

async fn exchange<I>(
    io: I,
    request: Request<Full<Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, HttpError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let http = |e: hyper::Error| HttpError::Transport {
        stage: "HTTP",
        detail: e.to_string(),
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(http)?;
    // The connection future drives the socket; it ends when the request is done.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    sender.send_request(request).await.map_err(http)
}
