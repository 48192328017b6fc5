//! Who is calling from where, and how often: the client's address (the TCP peer, or the header a
//! trusted reverse proxy sets) and rate limits on the routes where a caller guesses or spends
//! something: sign-in, identification, enrolment codes and join tokens. Past its limit a caller
//! gets `429 too_many_requests` with `Retry-After`, the same answer whatever it sent, so guessing
//! costs time and learns nothing.
//!
//! A limit counts per address where the caller has nothing else (a device not yet enrolled, a
//! sign-in), and per caller where it has a credential (a kiosk, a session, a BankID order): a
//! service centre's booths or an agency's officers behind one NAT address do not share one
//! budget.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::Booking;
use crate::api::ApiError;

/// So many attempts per key, refilled evenly over `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub name: &'static str,
    pub attempts: u32,
    pub per: Duration,
    pub by: KeyBy,
}

/// What a limit counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyBy {
    /// The client's address.
    Address,
    /// The caller's credential (kiosk, then BankID order, then session cookie), else the address.
    Caller,
}

/// Signing in (development e-ID, staff and citizen e-ID logins): an agency's officers arriving at
/// eight behind one address still fit.
pub const SIGN_IN: Limit = Limit {
    name: "sign_in",
    attempts: 120,
    per: Duration::from_secs(60),
    by: KeyBy::Address,
};
/// Starting and collecting identifications: BankID's two-second collect fits well inside.
pub const IDENTIFICATION: Limit = Limit {
    name: "identification",
    attempts: 60,
    per: Duration::from_secs(60),
    by: KeyBy::Caller,
};
/// Trying booth enrolment codes: a kiosk needs one, an admin mistyping a few.
pub const ENROLMENT_CODE: Limit = Limit {
    name: "enrolment_code",
    attempts: 10,
    per: Duration::from_secs(600),
    by: KeyBy::Address,
};
/// Join tokens: a participant rejoining after every dropped link still fits.
pub const JOIN_TOKEN: Limit = Limit {
    name: "join_token",
    attempts: 30,
    per: Duration::from_secs(60),
    by: KeyBy::Caller,
};

/// The cookies that name a caller, most specific first.
const CALLER_COOKIES: [&str; 3] = [
    crate::booth_devices::DEVICE_COOKIE,
    crate::bankid::BINDING_COOKIE,
    crate::sessions::SESSION_COOKIE,
];

/// Above this many tracked (limit, address) pairs, full buckets are forgotten: memory stays
/// bounded however many addresses call.
const MAX_TRACKED: usize = 50_000;

#[derive(Default)]
pub struct RateLimits {
    buckets: Mutex<HashMap<(&'static str, Key), Bucket>>,
}

/// Whom a bucket counts: an address, or the SHA-256 of a caller's credential.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Address(IpAddr),
    Caller(String),
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimits {
    /// Takes one attempt for `key` under `limit`; `Err(seconds until the next)` when none is left.
    pub fn take(&self, limit: &Limit, key: Key, now: Instant) -> Result<(), u64> {
        let capacity = f64::from(limit.attempts);
        let per_sec = capacity / limit.per.as_secs_f64();
        // A panic mid-update leaves plain numbers behind: keep limiting.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED {
            buckets.retain(|(name, _), b| {
                let cap = if *name == limit.name {
                    capacity
                } else {
                    f64::INFINITY
                };
                b.tokens < cap && now.duration_since(b.at) < Duration::from_secs(3600)
            });
        }
        let bucket = buckets.entry((limit.name, key)).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        bucket.tokens =
            (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * per_sec).min(capacity);
        bucket.at = now;
        if bucket.tokens < 1.0 {
            return Err(((1.0 - bucket.tokens) / per_sec).ceil() as u64);
        }
        bucket.tokens -= 1.0;
        Ok(())
    }
}

/// The client's address: with `client_ip_header` configured, that header's last value (what the
/// trusted proxy in front saw); else the TCP peer. Never logged.
pub fn client_ip(
    header: Option<&HeaderName>,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Result<IpAddr, ApiError> {
    if let Some(name) = header {
        return headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "client_address_unknown",
                    "the proxy did not say who the client is",
                )
            });
    }
    peer.map(|p| p.ip()).ok_or_else(|| {
        ApiError::internal(std::io::Error::other(
            "the server was not started with connection info",
        ))
    })
}

/// Middleware: one attempt under `limit` per request. A router driven without connection info
/// (an in-process test) counts every caller without a credential as one address.
pub async fn limited(
    limit: &'static Limit,
    State(booking): State<Booking>,
    request: Request,
    next: Next,
) -> Response {
    if !booking.config().rate_limits {
        return next.run(request).await;
    }
    let caller = match limit.by {
        KeyBy::Caller => CALLER_COOKIES
            .iter()
            .find_map(|name| crate::secrets::cookie(request.headers(), name))
            .map(|secret| Key::Caller(crate::secrets::sha256_hex(secret))),
        KeyBy::Address => None,
    };
    let key = match caller {
        Some(key) => key,
        None => {
            // A router under test gets its address from `MockConnectInfo`, as the extractor does.
            let extensions = request.extensions();
            let peer = extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0)
                .or_else(|| extensions.get::<MockConnectInfo<SocketAddr>>().map(|m| m.0));
            match client_ip(booking.client_ip_header(), request.headers(), peer) {
                Ok(ip) => Key::Address(ip),
                Err(_) if booking.client_ip_header().is_none() => {
                    Key::Address(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
                }
                Err(e) => return e.into_response(),
            }
        }
    };
    match booking.rate_limits().take(limit, key, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(retry_after) => {
            tracing::warn!(limit = limit.name, "rate limit reached");
            let mut res = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "too many attempts from this address; wait and try again",
            )
            .into_response();
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
            res
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST: Limit = Limit {
        name: "test",
        attempts: 3,
        per: Duration::from_secs(30),
        by: KeyBy::Address,
    };

    #[test]
    fn a_bucket_empties_refills_evenly_and_is_per_address() {
        let limits = RateLimits::default();
        let a = Key::Address(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        let b = Key::Caller("kiosk".into());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limits.take(&TEST, a.clone(), t0), Ok(()));
        }
        assert_eq!(limits.take(&TEST, a.clone(), t0), Err(10));
        assert_eq!(
            limits.take(&TEST, b, t0),
            Ok(()),
            "another caller has its own bucket"
        );
        assert_eq!(
            limits.take(&TEST, a.clone(), t0 + Duration::from_secs(10)),
            Ok(()),
            "one attempt back every 10 s"
        );
        assert!(limits.take(&TEST, a, t0 + Duration::from_secs(10)).is_err());
    }

    #[test]
    fn the_address_is_the_proxys_header_only_when_configured() {
        let peer: SocketAddr = "198.51.100.7:4000".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 192.0.2.5"),
        );
        assert_eq!(client_ip(None, &headers, Some(peer)).unwrap(), peer.ip());
        let name = HeaderName::from_static("x-forwarded-for");
        assert_eq!(
            client_ip(Some(&name), &headers, Some(peer))
                .unwrap()
                .to_string(),
            "192.0.2.5"
        );
        assert_eq!(
            client_ip(Some(&name), &HeaderMap::new(), Some(peer))
                .unwrap_err()
                .code,
            "client_address_unknown"
        );
    }
}
