//! Booking: the control plane of Närvaro.
//!
//! Owns agencies and their services, officers, service centres and their booths, guides, citizens
//! (with personnummer encrypted at rest), bookings, identity (sessions; BankID through its RP API,
//! with a simulator of that API for development; OpenID Connect for Freja eID and staff single
//! sign-on), the issuing of join tokens
//! for meetings, the outbox of invitations and reminders (email, SMS) with its delivery worker,
//! the follow-up figures and whose an admin or analyst may read ([`follow_up`], also behind web's
//! dashboard), and the HTTP API under `/api/v1` (plus the JWKS at `/.well-known/jwks.json`). It
//! does not own media (the `sfu` crate), the WebSocket protocol or token verification
//! (`signalling`), or HTML pages (the `web` crate renders pages and calls [`Booking`] to guard
//! them). Start with [`Booking::open`]; mount [`Booking::router`].

pub mod api;
pub mod availability;
pub mod bankid;
pub mod booth_devices;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod csrf;
pub mod demo;
pub mod dev_eid;
pub mod follow_up;
pub mod http_client;
pub mod identity;
pub mod ids;
pub mod limits;
pub mod oidc;
pub mod outbox;
pub mod personnummer;
pub mod schedule;
pub mod secrets;
pub mod sessions;
pub mod store;
pub mod tokens;
pub mod volume;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::HeaderMap;

pub use crate::clock::{Clock, ManualClock, SystemClock};
pub use crate::config::{BookingConfig, Environment, Secret};
use crate::crypto::DataKey;
pub use crate::identity::{IdMethod, Identity, IdentityProvider, Subject};
pub use crate::personnummer::Personnummer;
use crate::sessions::Sessions;
pub use crate::store::Store;
use crate::store::{PgStore, SqliteStore, StoreError};
pub use crate::tokens::TokenIssuer;

/// Why booking could not start.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("the development e-ID must not run in production")]
    DevEidInProduction,
    #[error("the BankID simulator must not run in production")]
    BankIdSimulatorInProduction,
    #[error("data key: {0}")]
    DataKey(#[from] crypto::CryptoError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("seeding demo data: {0}")]
    Seed(#[source] StoreError),
}

/// The booking service: store, keys, sessions and identity providers. Cheap to clone.
#[derive(Clone)]
pub struct Booking {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    tokens: Arc<TokenIssuer>,
    data_key: Arc<DataKey>,
    sessions: Sessions,
    clock: Arc<dyn Clock>,
    config: BookingConfig,
    env: Environment,
    /// Whether cookies carry `Secure`, decided once at open.
    secure_cookies: bool,
    providers: Vec<Arc<dyn IdentityProvider>>,
    bankid: Option<bankid::BankId>,
    rate_limits: limits::RateLimits,
    /// Set by a trusted reverse proxy: the client's address, its last value.
    client_ip_header: Option<axum::http::HeaderName>,
    courier: Arc<outbox::Courier>,
    courier_task: tokio::task::JoinHandle<()>,
    /// Where a cancelled or ended booking's live meeting is ended for everyone in it: the media
    /// node's signalling (in one process, set once at start).
    meeting_ends: std::sync::OnceLock<signalling::MeetingEnds>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The worker holds the store, not the service; it stops with the last handle.
        self.courier_task.abort();
    }
}

impl Booking {
    /// Connects to the database, runs migrations, seeds demo data into an empty database and
    /// generates the join-token key.
    pub async fn open(config: &BookingConfig, env: Environment) -> Result<Booking, BookingError> {
        Self::open_with_clock(config, env, Arc::new(SystemClock)).await
    }

    /// As [`Booking::open`] with a given clock (tests move time to expire sessions).
    pub async fn open_with_clock(
        config: &BookingConfig,
        env: Environment,
        clock: Arc<dyn Clock>,
    ) -> Result<Booking, BookingError> {
        Self::open_inner(config, env, clock, false).await
    }

    /// As [`Booking::open`], for a process that serves booking's router over TLS itself: cookies
    /// then carry `Secure` whatever `public_url` says ([`BookingConfig::secure_cookies`]).
    pub async fn open_over_tls(
        config: &BookingConfig,
        env: Environment,
    ) -> Result<Booking, BookingError> {
        Self::open_inner(config, env, Arc::new(SystemClock), true).await
    }

    async fn open_inner(
        config: &BookingConfig,
        env: Environment,
        clock: Arc<dyn Clock>,
        over_tls: bool,
    ) -> Result<Booking, BookingError> {
        config.validate(env)?;
        let secure_cookies = config.secure_cookies(env, over_tls);
        let url = config.database_url.as_str();
        let sqlite_file = sqlite_file(url);
        let data_key = Arc::new(load_data_key(config, env, sqlite_file.as_deref())?);
        let store: Arc<dyn Store> =
            if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                Arc::new(PgStore::connect(url, data_key.clone()).await?)
            } else if url.starts_with("sqlite:") {
                if let Some(dir) = sqlite_file
                    .as_deref()
                    .and_then(Path::parent)
                    .filter(|d| !d.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(dir).map_err(|source| BookingError::Io {
                        path: dir.into(),
                        source,
                    })?;
                }
                Arc::new(SqliteStore::connect(url, data_key.clone()).await?)
            } else {
                return Err(BookingError::Config(
                    "database_url must start with sqlite: or postgres://".into(),
                ));
            };
        if config.demo_data && store.is_empty().await.map_err(BookingError::Seed)? {
            demo::seed(&store, clock.now())
                .await
                .map_err(BookingError::Seed)?;
            tracing::info!("seeded demo data");
        }
        let mut providers: Vec<Arc<dyn IdentityProvider>> = Vec::new();
        if config.dev_eid_enabled(env) {
            let dev = Arc::new(dev_eid::DevEid);
            if !dev.allowed_in(env) {
                return Err(BookingError::DevEidInProduction);
            }
            tracing::warn!("development e-ID is enabled: anyone can sign in as anyone");
            providers.push(dev);
        }
        let client_ip_header =
            match &config.client_ip_header {
                Some(name) => Some(axum::http::HeaderName::try_from(name.as_str()).map_err(
                    |_| BookingError::Config("client_ip_header is not a header name".into()),
                )?),
                None => None,
            };
        let bankid = bankid::BankId::from_config(config, env, clock.clone()).await?;
        if let Some(b) = &bankid {
            providers.push(Arc::new(b.share()));
        }
        // The system's CA store is read only when some provider needs it.
        let tls = if config
            .oidc_providers
            .iter()
            .any(|p| p.issuer.starts_with("https://"))
        {
            Some(oidc::system_tls().map_err(BookingError::Config)?)
        } else {
            None
        };
        for provider in &config.oidc_providers {
            providers.push(Arc::new(oidc::OidcProvider::new(
                provider.clone(),
                config.public_base(),
                tls.clone(),
                clock.clone(),
                secure_cookies,
            )));
        }
        let sessions = Sessions::new(store.clone(), clock.clone(), secure_cookies);
        let mailer = match &config.smtp_host {
            Some(host) => Some(
                outbox::SmtpMailer::new(host, config.smtp_port, &config.mail_from)
                    .map_err(BookingError::Config)?,
            ),
            None => None,
        };
        let sms: Option<Arc<dyn outbox::SmsProvider>> = match &config.sms_url {
            Some(url) => Some(Arc::new(
                outbox::HttpSms::new(url).map_err(BookingError::Config)?,
            )),
            None => None,
        };
        // Started even with no channel configured: messages queued while a channel was on are
        // then kept (and retried) rather than forgotten.
        let courier = Arc::new(outbox::Courier::new(
            store.clone(),
            clock.clone(),
            mailer,
            sms,
        ));
        let courier_task = outbox::spawn(
            courier.clone(),
            std::time::Duration::from_secs(config.outbox_poll_secs),
        );
        let booking = Booking {
            inner: Arc::new(Inner {
                tokens: Arc::new(TokenIssuer::with_clock(&config.token_issuer, clock.clone())),
                store,
                data_key,
                sessions,
                clock,
                config: config.clone(),
                env,
                secure_cookies,
                providers,
                bankid,
                rate_limits: limits::RateLimits::default(),
                client_ip_header,
                courier,
                courier_task,
                meeting_ends: std::sync::OnceLock::new(),
            }),
        };
        spawn_session_purge(Arc::downgrade(&booking.inner));
        if config.join_key_rotation_hours > 0 {
            spawn_key_rotation(
                Arc::downgrade(&booking.inner),
                std::time::Duration::from_secs(config.join_key_rotation_hours * 3600),
            );
        }
        Ok(booking)
    }

    /// Live meetings of bookings that are cancelled or ended are ended through `ends` from now
    /// on (set once; a second call is ignored).
    pub fn end_meetings_through(&self, ends: signalling::MeetingEnds) {
        let _ = self.inner.meeting_ends.set(ends);
    }

    /// Ends the booking's meeting for everyone in it, if a media node is attached.
    pub(crate) fn end_meeting(
        &self,
        booking: ids::BookingId,
        reason: signalling::protocol::EndReason,
    ) {
        if let Some(ends) = self.inner.meeting_ends.get() {
            ends.end(&booking.room_id(), reason);
        }
    }

    /// The HTTP API (`/api/v1/…`, `/.well-known/jwks.json`), state applied.
    pub fn router(&self) -> axum::Router {
        api::router(self.clone())
    }

    /// Public keys for signalling's `JoinTokenVerifier` in the same process.
    pub fn key_source(&self) -> Arc<dyn signalling::token::KeySource> {
        self.inner.tokens.clone()
    }

    pub fn token_issuer(&self) -> Arc<TokenIssuer> {
        self.inner.tokens.clone()
    }

    /// The signed-in person behind a request's session cookie, if any. Store failures are logged
    /// and read as "not signed in", which fails closed.
    pub async fn session_identity(&self, headers: &HeaderMap) -> Option<Identity> {
        match self.inner.sessions.identity(headers).await {
            Ok(identity) => identity,
            Err(e) => {
                tracing::error!(error = %e, "session look-up failed");
                None
            }
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    pub fn config(&self) -> &BookingConfig {
        &self.inner.config
    }

    pub fn environment(&self) -> Environment {
        self.inner.env
    }

    /// Whether the cookies booking sets carry `Secure` ([`BookingConfig::secure_cookies`]).
    pub fn secure_cookies(&self) -> bool {
        self.inner.secure_cookies
    }

    /// Per-address rate limits of the routes that guess or spend secrets.
    pub fn rate_limits(&self) -> &limits::RateLimits {
        &self.inner.rate_limits
    }

    /// The header a trusted reverse proxy puts the client's address in, if configured.
    pub fn client_ip_header(&self) -> Option<&axum::http::HeaderName> {
        self.inner.client_ip_header.as_ref()
    }

    /// The BankID simulator, when this instance talks to it (development and tests).
    pub fn bankid_simulator(&self) -> Option<&bankid::simulator::Simulator> {
        self.inner.bankid.as_ref()?.simulator()
    }

    /// Identity providers mounted in this environment.
    pub fn identity_providers(&self) -> &[Arc<dyn IdentityProvider>] {
        &self.inner.providers
    }

    /// The retention purge now (the background task also runs it every five minutes).
    pub async fn purge_past_retention(&self) -> Result<store::Purged, StoreError> {
        let cutoff = retention_cutoff(&self.inner.config, &*self.inner.clock);
        self.inner.store.purge_personal_data(cutoff).await
    }

    /// One round of the outbox worker now (the background task also runs every
    /// `outbox_poll_secs`).
    pub async fn deliver_due_messages(&self) -> Result<outbox::Round, StoreError> {
        self.inner.courier.deliver_due().await
    }

    /// What a new booking queues, from the configured channels.
    pub(crate) fn notify_for(&self, citizen_phone: Option<String>) -> store::Notify {
        let config = &self.inner.config;
        store::Notify {
            email: config.smtp_host.is_some(),
            citizen_phone: citizen_phone.filter(|_| config.sms_url.is_some()),
            reminder_before_secs: config.reminder_before_secs,
        }
    }

    pub(crate) fn data_key(&self) -> &DataKey {
        &self.inner.data_key
    }
}

/// Every five minutes until the last `Booking` handle is dropped: deletes expired sessions and
/// abandoned BankID orders and OpenID logins, and removes personal data past `retention_days`.
fn spawn_session_purge(inner: std::sync::Weak<Inner>) {
    tokio::spawn(async move {
        // The first round one period after start, not at once: nothing is due in a fresh process,
        // and a short-lived one (a test) never races its own shutdown with a purge.
        let period = std::time::Duration::from_secs(300);
        let mut every = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let Some(inner) = inner.upgrade() else { break };
            match inner.sessions.purge_expired().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(sessions = n, "purged expired sessions"),
                Err(e) => tracing::warn!(error = %e, "purging expired sessions failed"),
            }
            let before = inner.clock.now() - bankid::ORDER_ROW_LIFETIME_SECS;
            if let Err(e) = inner.store.purge_bankid_orders(before).await {
                tracing::warn!(error = %e, "purging old BankID orders failed");
            }
            let before = inner.clock.now() - oidc::LOGIN_LIFETIME_SECS;
            if let Err(e) = inner.store.purge_oidc_logins(before).await {
                tracing::warn!(error = %e, "purging abandoned OpenID logins failed");
            }
            match inner
                .store
                .purge_personal_data(retention_cutoff(&inner.config, &*inner.clock))
                .await
            {
                Ok(p) if p == store::Purged::default() => {}
                Ok(p) => tracing::info!(
                    citizens = p.citizens_anonymised,
                    identifications = p.identifications,
                    messages = p.messages,
                    "personal data past retention removed"
                ),
                Err(e) => tracing::warn!(error = %e, "the retention purge failed"),
            }
        }
    });
}

/// Every `period` until the last `Booking` handle is dropped: a new join-token key signs (see
/// [`TokenIssuer::rotate`]). Like the purge, the first round is one period after start: the key
/// made at start is new.
fn spawn_key_rotation(inner: std::sync::Weak<Inner>, period: std::time::Duration) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let Some(inner) = inner.upgrade() else { break };
            inner.tokens.rotate();
        }
    });
}

/// Meetings over before this are past retention.
fn retention_cutoff(config: &BookingConfig, clock: &dyn Clock) -> i64 {
    clock.now() - config.retention_days * 86_400
}

/// The file of a `sqlite:` URL; `None` for in-memory databases and other schemes.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.split('&').any(|kv| kv == "mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

fn load_data_key(
    config: &BookingConfig,
    env: Environment,
    sqlite_file: Option<&Path>,
) -> Result<DataKey, BookingError> {
    if let Some(secret) = &config.data_key {
        return Ok(DataKey::from_secret(secret)?);
    }
    if env == Environment::Production {
        return Err(BookingError::Config(
            "data_key must be set in production".into(),
        ));
    }
    let dir = match sqlite_file {
        Some(file) => file.parent().map(Path::to_path_buf).unwrap_or_default(),
        // An in-memory database forgets its citizens on exit; so may its key.
        None if config.database_url.starts_with("sqlite:") => {
            return Ok(DataKey::from_secret(&DataKey::generate_secret()?)?);
        }
        None => PathBuf::from("data"),
    };
    let path = dir.join("data.key");
    let key_file_err = |source| BookingError::Io {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(DataKey::from_secret(&Secret::new(text))?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(&dir).map_err(key_file_err)?;
            }
            let secret = DataKey::generate_secret()?;
            write_private_file(&path, secret.expose()).map_err(key_file_err)?;
            tracing::warn!(path = %path.display(), "generated a development data key");
            Ok(DataKey::from_secret(&secret)?)
        }
        Err(e) => Err(key_file_err(e)),
    }
}

fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_file_is_found_in_urls() {
        assert_eq!(
            sqlite_file("sqlite://data/narvaro.db?mode=rwc"),
            Some(PathBuf::from("data/narvaro.db"))
        );
        assert_eq!(sqlite_file("sqlite:x.db"), Some(PathBuf::from("x.db")));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("sqlite://x.db?mode=memory"), None);
        assert_eq!(sqlite_file("postgres://x"), None);
    }
}
