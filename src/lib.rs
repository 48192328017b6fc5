//! Närvaro in one process: composes booking (control plane and API), web (pages), signalling
//! (WebSocket) and the SFU (media) behind one HTTP listener, one UDP port and (ICE-TCP, where UDP
//! is blocked) one TCP port.
//!
//! This crate owns only the composition: configuration layering, the HTTP server with its
//! `/healthz` and `/metrics` (over TLS when `server.tls` says so, [`tls`]), logging setup and
//! shutdown. Each service owns its own logic.

pub mod config;
mod http_metrics;
mod remote_keys;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{MatchedPath, State};
use axum::http::{Request, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::serve::ListenerExt;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{Config, ConfigError, Environment, LogFormat, TlsMode};
use http_metrics::HttpMetrics;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Tls(#[from] tls::TlsError),
    #[error("booking: {0}")]
    Booking(#[from] booking::BookingError),
    #[error("media: {0}")]
    Media(#[from] sfu::SfuError),
    #[error("signalling: {0}")]
    Signalling(String),
    #[error("HTTP listener on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running Närvaro. Dropping it stops the HTTP server (and with it signalling and the SFU).
pub struct Running {
    http_addr: SocketAddr,
    tls_fingerprint: Option<String>,
    booking: booking::Booking,
    sfu: sfu::Sfu,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl Running {
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// With `server.tls` on: the SHA-256 fingerprint of the certificate served (uppercase hex
    /// pairs joined by colons, as browsers show it).
    pub fn tls_fingerprint(&self) -> Option<&str> {
        self.tls_fingerprint.as_deref()
    }

    /// The SFU's UDP socket; its port is the one every peer shares.
    pub fn udp_addr(&self) -> SocketAddr {
        self.sfu.udp_addr()
    }

    pub fn booking(&self) -> &booking::Booking {
        &self.booking
    }

    pub fn sfu(&self) -> &sfu::Sfu {
        &self.sfu
    }

    /// Serves until the process receives Ctrl-C or SIGTERM, then shuts down gracefully.
    pub async fn until_signal(mut self) -> std::io::Result<()> {
        let Some(mut server) = self.server.take() else {
            return Ok(());
        };
        tokio::select! {
            result = &mut server => return result.unwrap_or_else(|e| Err(std::io::Error::other(e))),
            _ = shutdown_signal() => tracing::info!("shutting down"),
        }
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        server
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[derive(Clone)]
struct Observability {
    sfu: sfu::Sfu,
    http: Arc<HttpMetrics>,
}

/// Starts every service on the current tokio runtime and returns once they listen.
pub async fn start(config: Config) -> Result<Running, StartError> {
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: config.server.listen,
            source,
        })?;
    start_on(config, listener).await
}

/// As [`start`], serving on `listener` (bound already, so its address is known before the
/// services start: a test points `signalling.jwks_url` at this very process).
/// `config.server.listen` is not used.
pub async fn start_on(
    config: Config,
    listener: tokio::net::TcpListener,
) -> Result<Running, StartError> {
    // `Config::load` has checked a loaded configuration; one built in code is checked here.
    config.validate()?;
    let http_addr = listener.local_addr().map_err(|source| StartError::Listen {
        addr: config.server.listen,
        source,
    })?;
    let tls = tls::load(&config.server)?;
    let booking = if tls.is_some() {
        booking::Booking::open_over_tls(&config.booking, config.env).await?
    } else {
        booking::Booking::open(&config.booking, config.env).await?
    };
    let sfu = sfu::Sfu::start(&config.media, Arc::default()).await?;
    let verifier = signalling::token::JoinTokenVerifier::new(
        join_token_keys(&config.signalling, &booking)?,
        config.booking.token_issuer.clone(),
    );
    let signalling = signalling::Signalling::new(&config.signalling, verifier, sfu.clone());
    booking.end_meetings_through(signalling.meeting_ends());

    let observability = Observability {
        sfu: sfu.clone(),
        http: Arc::default(),
    };
    let app = app(booking.clone(), &signalling, observability);

    let (shutdown, stop) = oneshot::channel::<()>();
    let stop = async {
        let _ = stop.await;
    };
    let make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    let tls_fingerprint = tls.as_ref().map(|t| t.fingerprint.clone());
    let server = match tls {
        None => tokio::spawn(
            axum::serve(listener, make_service)
                .with_graceful_shutdown(stop)
                .into_future(),
        ),
        Some(tls) => {
            let listener = tls::TlsListener::new(listener, tls.config)
                .map_err(|source| StartError::Listen {
                    addr: config.server.listen,
                    source,
                })?
                // Nothing to tap: axum gives `ConnectInfo<SocketAddr>` to any tapped listener
                // whose address is a `SocketAddr`, and the orphan rule forbids that impl here.
                .tap_io(|_| {});
            tokio::spawn(
                axum::serve(listener, make_service)
                    .with_graceful_shutdown(stop)
                    .into_future(),
            )
        }
    };
    let scheme = if tls_fingerprint.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!(port = http_addr.port(), scheme, env = ?config.env, "Närvaro is serving");
    Ok(Running {
        http_addr,
        tls_fingerprint,
        booking,
        sfu,
        shutdown: Some(shutdown),
        server: Some(server),
    })
}

/// Where signalling finds booking's public keys: in memory from booking in this process, or,
/// with `jwks_url`, fetched over HTTP (at start, every `jwks_refresh_secs`, and on a token whose
/// key is not among them, at most once per `jwks_min_refetch_secs`).
fn join_token_keys(
    config: &signalling::SignallingConfig,
    booking: &booking::Booking,
) -> Result<Arc<dyn signalling::token::KeySource>, StartError> {
    if config.jwks_url.is_empty() {
        return Ok(booking.key_source());
    }
    if !(1..=86_400).contains(&config.jwks_refresh_secs) {
        return Err(StartError::Signalling(
            "jwks_refresh_secs must be 1 to 86400 (a day)".into(),
        ));
    }
    let fetcher = remote_keys::HttpJwks::new(&config.jwks_url).map_err(StartError::Signalling)?;
    let keys = signalling::jwks::RemoteJwks::new(
        fetcher,
        std::time::Duration::from_secs(config.jwks_min_refetch_secs),
    );
    // Not awaited: booking may be starting too (or be this process, not yet serving). Until the
    // first fetch succeeds, a join makes signalling look again (rate-limited).
    keys.spawn_refresh(std::time::Duration::from_secs(config.jwks_refresh_secs));
    Ok(keys)
}

/// The whole HTTP surface. Separate from [`start`] so it can be exercised without a listener.
fn app(
    booking: booking::Booking,
    signalling: &signalling::Signalling,
    observability: Observability,
) -> Router {
    let ops = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(observability.clone());
    Router::new()
        .merge(booking.router())
        .merge(web::router(booking))
        .merge(signalling.router())
        .merge(ops)
        // CSP and the other security headers on every response, API and errors included.
        .layer(axum::middleware::from_fn(web::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            observability.http.clone(),
            http_metrics::count,
        ))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                // Spans are named by the matched route: never the raw URI, whose query could carry
                // something personal, and never headers (cookies) or the client's address.
                .make_span_with(|request: &Request<_>| {
                    let route = request
                        .extensions()
                        .get::<MatchedPath>()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_else(|| "unmatched".to_owned());
                    tracing::info_span!("http", method = %request.method(), route = %route)
                }),
        )
}

async fn healthz() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
}

async fn metrics(State(o): State<Observability>) -> impl IntoResponse {
    let mut out = String::new();
    o.sfu.metrics().render(&mut out);
    o.http.render(&mut out);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}

/// Sets up logging for the binary. `RUST_LOG` overrides the default filter.
pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    // str0m and sqlx are chatty below warn and their debug output can carry addresses.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,str0m=warn,is=warn,dimpl=warn,sqlx=warn,tower_http=info")
    });
    // Colour codes only for a person at a terminal, not in a log file.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
