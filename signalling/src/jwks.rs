//! Booking's public keys fetched over HTTP, for a media node that does not run in booking's
//! process (`signalling.jwks_url`).
//!
//! The keys are cached and fetched again every `jwks_refresh_secs`, so a key booking has retired
//! leaves here too. When a join token names a key not in the cache (booking rotated its key since
//! the last fetch), the cache is fetched again at once, but at most once per
//! `jwks_min_refetch_secs`: a `kid` is whatever the client wrote, so a flood of tokens with
//! random ones must not turn into a flood of requests to booking. Joins that arrive while such a
//! fetch is under way wait for it and then use its keys rather than fetching again.
//!
//! How the keys travel is a [`FetchJwks`] the caller supplies (the root crate's HTTP client, with
//! its TLS roots; a counting fake in the tests), so this module holds the policy only.

use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;

use crate::token::{KeyFuture, KeySource};

/// One fetch of the JWKS. An error is a sentence for the log (no token, no personal data).
pub trait FetchJwks: Send + Sync + 'static {
    fn fetch(&self) -> KeyFuture<'_, Result<JwkSet, String>>;
}

/// What [`RemoteJwks::now`] reads; tests move it by hand instead of sleeping.
pub type Now = Arc<dyn Fn() -> Instant + Send + Sync>;

/// The cached keys of a remote issuer; a [`KeySource`] for the verifier.
pub struct RemoteJwks {
    fetcher: Box<dyn FetchJwks>,
    cached: RwLock<JwkSet>,
    min_refetch: Duration,
    /// When the last fetch on an unknown `kid` started. Held across that fetch, so concurrent
    /// joins queue behind one fetch instead of each making their own.
    last_refetch: tokio::sync::Mutex<Option<Instant>>,
    now: Now,
}

impl RemoteJwks {
    /// An empty cache; nothing is fetched until [`Self::reload`], [`Self::spawn_refresh`] or a
    /// token with an unknown `kid`.
    pub fn new(fetcher: impl FetchJwks, min_refetch: Duration) -> Arc<RemoteJwks> {
        Self::with_clock(fetcher, min_refetch, Arc::new(Instant::now))
    }

    /// As [`Self::new`], reading time from `now`.
    pub fn with_clock(fetcher: impl FetchJwks, min_refetch: Duration, now: Now) -> Arc<RemoteJwks> {
        Arc::new(RemoteJwks {
            fetcher: Box::new(fetcher),
            cached: RwLock::new(JwkSet { keys: Vec::new() }),
            min_refetch,
            last_refetch: tokio::sync::Mutex::new(None),
            now,
        })
    }

    /// Fetches the keys and, on success, replaces the cache with them. A failure keeps the keys
    /// there are (booking being down for a moment must not refuse every join) and is logged.
    pub async fn reload(&self) -> bool {
        match self.fetcher.fetch().await {
            Ok(keys) => {
                tracing::debug!(keys = keys.keys.len(), "join-token keys fetched");
                // A poisoned lock only means a panic while a whole set was being assigned; the
                // value is a complete set either way.
                *self.cached.write().unwrap_or_else(|p| p.into_inner()) = keys;
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "fetching the join-token keys (JWKS) failed");
                false
            }
        }
    }

    /// Fetches now and then every `period`, until the last handle to `self` is dropped.
    pub fn spawn_refresh(self: &Arc<Self>, period: Duration) -> tokio::task::JoinHandle<()> {
        let me: Weak<RemoteJwks> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(period);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let Some(me) = me.upgrade() else { break };
                me.reload().await;
            }
        })
    }
}

impl KeySource for RemoteJwks {
    fn jwks(&self) -> JwkSet {
        self.cached
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn look_again(&self) -> KeyFuture<'_, ()> {
        Box::pin(async move {
            let mut last = self.last_refetch.lock().await;
            let now = (self.now)();
            if last.is_some_and(|at| now.saturating_duration_since(at) < self.min_refetch) {
                return;
            }
            // Counted from the start of the attempt, failed or not: a booking that is down is
            // not asked more often than one that answers.
            *last = Some(now);
            self.reload().await;
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};

    use super::*;
    use crate::ids::RoomId;
    use crate::token::{
        JOIN_TOKEN_AUDIENCE, JOIN_TOKEN_TYP, JoinClaims, JoinTokenVerifier, Role, TokenError,
    };

    // Two fixed Ed25519 test keys (`openssl genpkey -algorithm ed25519`), and their public halves.
    const KEY_A: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIAzZ0/HdgbdKBqz7ePVcaf9BIY0+tD+lX6iP+Wjv6WDY
-----END PRIVATE KEY-----";
    const KEY_A_X: &str = "ffxm8i-dRNZkvXVuAYLLR7VRe3onn7UgTQCoDfDZsEE";
    const KEY_B: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIOStrQmNlqlEYhE1wNW3mQCEB2QXME0uBgPdmD6MBv4o
-----END PRIVATE KEY-----";
    const KEY_B_X: &str = "jNqjirWIcEAG0XymuGpaxaauyR_nOxvRrp3wI1no3eQ";
    const ISSUER: &str = "narvaro-booking";
    const NOW: i64 = 1_800_000_000;

    fn jwk(kid: &str, x: &str) -> Jwk {
        serde_json::from_value(serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig",
        }))
        .unwrap()
    }

    /// Signs a join token for `room` with `pem`, naming `kid` in the header.
    fn token(pem: &str, kid: &str) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(JOIN_TOKEN_TYP.to_owned());
        header.kid = Some(kid.to_owned());
        let claims = JoinClaims {
            iss: ISSUER.into(),
            aud: JOIN_TOKEN_AUDIENCE.into(),
            sub: "p-1".into(),
            room: room(),
            role: Role::Citizen,
            name: "Medborgare".into(),
            iat: NOW,
            nbf: NOW,
            exp: NOW + 60,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            identified: String::new(),
        };
        let key = EncodingKey::from_ed_pem(pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }

    fn room() -> RoomId {
        RoomId::from("bk-1")
    }

    /// Booking as seen over HTTP: serves whatever keys it holds now, and counts the requests.
    #[derive(Clone, Default)]
    struct FakeBooking {
        keys: Arc<Mutex<Vec<Jwk>>>,
        fetches: Arc<AtomicUsize>,
    }

    impl FakeBooking {
        fn publish(&self, keys: Vec<Jwk>) {
            *self.keys.lock().unwrap() = keys;
        }
        fn fetches(&self) -> usize {
            self.fetches.load(Ordering::SeqCst)
        }
    }

    impl FetchJwks for FakeBooking {
        fn fetch(&self) -> KeyFuture<'_, Result<JwkSet, String>> {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            let keys = self.keys.lock().unwrap().clone();
            Box::pin(async move {
                // A fetch takes a moment: joins arriving meanwhile must wait for it, not fetch.
                tokio::task::yield_now().await;
                Ok(JwkSet { keys })
            })
        }
    }

    /// A hand-moved clock.
    fn manual_clock() -> (Now, Arc<Mutex<Instant>>) {
        let at = Arc::new(Mutex::new(Instant::now()));
        let read = at.clone();
        (Arc::new(move || *read.lock().unwrap()), at)
    }

    fn setup() -> (
        FakeBooking,
        Arc<RemoteJwks>,
        JoinTokenVerifier,
        Arc<Mutex<Instant>>,
    ) {
        let booking = FakeBooking::default();
        booking.publish(vec![jwk("a", KEY_A_X)]);
        let (now, clock) = manual_clock();
        let remote = RemoteJwks::with_clock(booking.clone(), Duration::from_secs(10), now);
        let verifier = JoinTokenVerifier::new(remote.clone(), ISSUER);
        (booking, remote, verifier, clock)
    }

    #[tokio::test]
    async fn a_token_of_a_key_rotated_in_since_the_last_fetch_joins_after_one_refetch() {
        let (booking, remote, verifier, _clock) = setup();
        assert!(remote.reload().await);
        assert_eq!(booking.fetches(), 1);
        let known = token(KEY_A, "a");
        assert!(
            verifier
                .verify_looking_again(&known, &room(), NOW)
                .await
                .is_ok()
        );
        assert_eq!(booking.fetches(), 1, "a known kid fetches nothing");

        booking.publish(vec![jwk("b", KEY_B_X), jwk("a", KEY_A_X)]);
        let rotated = token(KEY_B, "b");
        assert!(
            verifier
                .verify_looking_again(&rotated, &room(), NOW)
                .await
                .is_ok()
        );
        assert_eq!(booking.fetches(), 2, "one refetch for the new kid");
        let again = token(KEY_B, "b");
        assert!(
            verifier
                .verify_looking_again(&again, &room(), NOW)
                .await
                .is_ok()
        );
        assert_eq!(booking.fetches(), 2, "then the new kid is cached");
    }

    #[tokio::test]
    async fn unknown_kids_refetch_at_most_once_per_interval() {
        let (booking, remote, verifier, clock) = setup();
        assert!(remote.reload().await);

        let stranger = token(KEY_B, "nobody-1");
        assert_eq!(
            verifier.verify_looking_again(&stranger, &room(), NOW).await,
            Err(TokenError::Invalid)
        );
        assert_eq!(booking.fetches(), 2, "the first unknown kid refetches");

        *clock.lock().unwrap() += Duration::from_secs(9);
        let other = token(KEY_B, "nobody-2");
        assert_eq!(
            verifier.verify_looking_again(&other, &room(), NOW).await,
            Err(TokenError::Invalid)
        );
        assert_eq!(booking.fetches(), 2, "another within the interval does not");

        *clock.lock().unwrap() += Duration::from_secs(1);
        let later = token(KEY_B, "nobody-3");
        assert_eq!(
            verifier.verify_looking_again(&later, &room(), NOW).await,
            Err(TokenError::Invalid)
        );
        assert_eq!(
            booking.fetches(),
            3,
            "once the interval has passed, it does again"
        );
    }

    #[tokio::test]
    async fn a_burst_of_random_kids_at_once_costs_one_fetch_and_real_new_keys_still_join() {
        let (booking, remote, verifier, _clock) = setup();
        assert!(remote.reload().await);
        // Booking rotates as the burst begins: the joins holding the new key's tokens queue
        // behind the one refetch and find their key in it.
        booking.publish(vec![jwk("b", KEY_B_X), jwk("a", KEY_A_X)]);
        let tokens: Vec<(bool, String)> = (0..50)
            .map(|i| match i % 10 {
                5 => (true, token(KEY_B, "b")),
                _ => (false, token(KEY_B, &format!("random-{i}"))),
            })
            .collect();
        let room = room();
        let verdicts = futures_util::future::join_all(
            tokens
                .iter()
                .map(|(_, t)| verifier.verify_looking_again(t, &room, NOW)),
        )
        .await;
        for ((genuine, _), verdict) in tokens.iter().zip(&verdicts) {
            if *genuine {
                assert!(verdict.is_ok(), "{verdict:?}");
            } else {
                assert_eq!(*verdict, Err(TokenError::Invalid));
            }
        }
        assert_eq!(booking.fetches(), 2, "the start-up fetch and one refetch");
    }

    #[tokio::test]
    async fn a_failed_fetch_keeps_the_keys_and_still_counts_against_the_interval() {
        struct Down(Arc<AtomicUsize>);
        impl FetchJwks for Down {
            fn fetch(&self) -> KeyFuture<'_, Result<JwkSet, String>> {
                self.0.fetch_add(1, Ordering::SeqCst);
                Box::pin(std::future::ready(Err("connection refused".to_owned())))
            }
        }
        let attempts = Arc::new(AtomicUsize::new(0));
        let (now, _clock) = manual_clock();
        let remote = RemoteJwks::with_clock(Down(attempts.clone()), Duration::from_secs(10), now);
        *remote.cached.write().unwrap() = JwkSet {
            keys: vec![jwk("a", KEY_A_X)],
        };
        let verifier = JoinTokenVerifier::new(remote.clone(), ISSUER);
        assert!(!remote.reload().await);
        assert!(
            verifier
                .verify_looking_again(&token(KEY_A, "a"), &room(), NOW)
                .await
                .is_ok(),
            "the keys from before are still used"
        );
        for kid in ["x", "y"] {
            assert_eq!(
                verifier
                    .verify_looking_again(&token(KEY_B, kid), &room(), NOW)
                    .await,
                Err(TokenError::Invalid)
            );
        }
        assert_eq!(
            attempts.load(Ordering::SeqCst),
            2,
            "reload, then one refetch"
        );
    }
}
