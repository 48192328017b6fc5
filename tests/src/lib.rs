//! Cross-service test harness: the whole app in-process ([`app`]), the booking API as a browser
//! would use it ([`api`]), the signalling protocol ([`ws`]) and WebRTC participants built on the
//! `webrtc` crate ([`peer`], [`rtc_peer`]) that publish synthetic Opus and VP8 ([`media`]) and
//! record what the SFU forwards to them. The tests themselves are in `tests/tests/`; browser tests
//! live in `tests/e2e`.

pub mod api;
pub mod app;
pub mod media;
pub mod peer;
pub mod rtc_peer;
pub mod sdp;
pub mod tokens;
pub mod ws;

/// Logs to the test's captured output; filter with `RUST_LOG` (e.g. `RUST_LOG=sfu=debug`).
/// Safe to call from every test.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}
