//! Server-side sessions behind the `narvaro_session` cookie.
//!
//! The cookie holds 32 random bytes; the database holds only their SHA-256, so neither a database
//! dump nor a log line can be replayed as a cookie. Sessions end after 30 minutes idle or 12 hours
//! in all, whichever comes first.

use std::fmt;
use std::sync::Arc;

use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue};

use crate::clock::Clock;
use crate::identity::{IdMethod, Identity, Subject};
use crate::ids::SessionId;
use crate::store::{SessionRecord, StaffAccess, Store, StoreError};

pub const SESSION_COOKIE: &str = "narvaro_session";
pub const IDLE_TIMEOUT_SECS: i64 = 30 * 60;
pub const ABSOLUTE_TIMEOUT_SECS: i64 = 12 * 60 * 60;
/// `last_seen_at` is written at most this often, so reads do not each cost a write.
const TOUCH_INTERVAL_SECS: i64 = 60;

/// A `Set-Cookie` header value. Debug never shows the secret.
pub struct SetCookie(pub HeaderValue);

impl fmt::Debug for SetCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SetCookie([redacted])")
    }
}

impl SetCookie {
    pub fn apply(self, headers: &mut HeaderMap) {
        headers.append(SET_COOKIE, self.0);
    }
}

#[derive(Clone)]
pub struct Sessions {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// `Secure` on the cookie: [`crate::BookingConfig::secure_cookies`].
    secure: bool,
}

impl Sessions {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, secure: bool) -> Self {
        Sessions {
            store,
            clock,
            secure,
        }
    }

    /// Starts a session for a person an identity provider has vouched for.
    pub async fn sign_in(
        &self,
        subject: Subject,
        method: IdMethod,
    ) -> Result<(Identity, SetCookie), StoreError> {
        let display_name = self
            .store
            .display_name(&subject)
            .await?
            .ok_or(StoreError::NotFound("person"))?;
        let secret = crate::secrets::random_secret()
            .map_err(|_| StoreError::Corrupt("system random source failed".into()))?;
        let now = self.clock.now();
        self.store
            .insert_session(&SessionRecord {
                id: session_id(&secret),
                subject,
                method,
                created_at: now,
                last_seen_at: now,
                expires_at: now + ABSOLUTE_TIMEOUT_SECS,
            })
            .await?;
        // Every authentication is on record: a sign-in that cannot be logged does not happen.
        let access = StaffAccess {
            actor: subject,
            reason: format!("signed in with {}", method.as_str()),
            at: now,
        };
        self.store
            .record_access(&access, "auth.sign_in", None)
            .await?;
        let secure = if self.secure { "; Secure" } else { "" };
        let cookie = format!("{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Lax; Path=/{secure}");
        // base64url and fixed ASCII attributes only: always a valid header value.
        let cookie = HeaderValue::from_str(&cookie).expect("cookie is visible ASCII");
        Ok((
            Identity {
                subject,
                display_name,
                method,
            },
            SetCookie(cookie),
        ))
    }

    /// The signed-in person, if the request carries a live session.
    pub async fn identity(&self, headers: &HeaderMap) -> Result<Option<Identity>, StoreError> {
        let Some(id) = session_id_from(headers) else {
            return Ok(None);
        };
        let Some((session, display_name)) = self.store.session_with_name(&id).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        if now >= session.expires_at || now >= session.last_seen_at + IDLE_TIMEOUT_SECS {
            self.store.delete_session(&id).await?;
            return Ok(None);
        }
        if now - session.last_seen_at >= TOUCH_INTERVAL_SECS {
            self.store.touch_session(&id, now).await?;
        }
        let Some(display_name) = display_name else {
            return Ok(None);
        };
        Ok(Some(Identity {
            subject: session.subject,
            display_name,
            method: session.method,
        }))
    }

    /// Ends the request's session (if any) and returns a cookie that clears it in the browser.
    pub async fn sign_out(&self, headers: &HeaderMap) -> Result<SetCookie, StoreError> {
        if let Some(id) = session_id_from(headers) {
            self.store.delete_session(&id).await?;
        }
        let secure = if self.secure { "; Secure" } else { "" };
        let cookie =
            format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0{secure}");
        // Fixed ASCII text: always a valid header value.
        Ok(SetCookie(
            HeaderValue::from_str(&cookie).expect("cookie is visible ASCII"),
        ))
    }

    /// Deletes expired sessions; run now and then.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        let now = self.clock.now();
        self.store
            .purge_sessions(now, now - IDLE_TIMEOUT_SECS)
            .await
    }
}

fn session_id(secret: &str) -> SessionId {
    SessionId(crate::secrets::sha256_hex(secret))
}

fn session_id_from(headers: &HeaderMap) -> Option<SessionId> {
    crate::secrets::cookie(headers, SESSION_COOKIE).map(session_id)
}
