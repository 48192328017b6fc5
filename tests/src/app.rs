//! The whole Närvaro app (booking, signalling, SFU, web) started in-process for one test: HTTP on
//! an ephemeral 127.0.0.1 port, media on ephemeral UDP and TCP ports advertised as 127.0.0.1,
//! SQLite in a temporary directory with the demo data. Dropping it shuts the app down.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use signalling::ids::RoomId;
use signalling::token::{JoinClaims, Role};

use crate::api::ApiClient;
use crate::tokens::now;

pub struct TestApp {
    running: narvaro::Running,
    // Dropped after `running`: the database lives here.
    _data: tempfile::TempDir,
}

impl TestApp {
    pub async fn start() -> TestApp {
        Self::start_with(|_| {}).await
    }

    /// As [`Self::start`], with the test's own changes to the configuration.
    pub async fn start_with(configure: impl FnOnce(&mut narvaro::Config)) -> TestApp {
        Self::start_knowing_addr(|config, _| configure(config)).await
    }

    /// As [`Self::start_with`], for changes that need the app's own HTTP address (bound before
    /// the app starts), e.g. signalling fetching the JWKS from this very app. The listener is
    /// bound before `configure` runs, so changing `server.listen` there has no effect.
    pub async fn start_knowing_addr(
        configure: impl FnOnce(&mut narvaro::Config, SocketAddr),
    ) -> TestApp {
        crate::init_tracing();
        // A test without a data directory cannot run at all.
        let data = tempfile::tempdir().expect("temporary directory");
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let mut config = narvaro::Config::default();
        config.server.listen = SocketAddr::new(loopback, 0);
        config.media.udp_port = 0;
        config.media.tcp_port = 0;
        config.media.bind_ip = loopback;
        config.media.public_ips = vec![loopback];
        config.booking.database_url =
            format!("sqlite://{}/narvaro.db?mode=rwc", data.path().display());
        config.booking.demo_data = true;
        // The loopback interface always has a free ephemeral port; a test cannot run without.
        let listener = tokio::net::TcpListener::bind(config.server.listen)
            .await
            .expect("a listener on 127.0.0.1");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        configure(&mut config, addr);
        let running = narvaro::start_on(config, listener)
            .await
            .expect("the app starts");
        TestApp {
            running,
            _data: data,
        }
    }

    pub fn running(&self) -> &narvaro::Running {
        &self.running
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.running.http_addr()
    }

    /// The SFU's one UDP socket.
    pub fn udp_addr(&self) -> SocketAddr {
        self.running.udp_addr()
    }

    pub fn booking(&self) -> &booking::Booking {
        self.running.booking()
    }

    /// A booking API client with an empty cookie jar.
    pub fn api(&self) -> ApiClient {
        ApiClient::new(self.http_addr())
    }

    /// Claims booking would issue for `room`, valid from now for 60 seconds.
    pub fn claims(&self, room: &RoomId, role: Role) -> JoinClaims {
        let issuer = self.booking().token_issuer();
        issuer.claims(
            room.clone(),
            role,
            format!("p-test-{}", rand::random::<u32>()),
            "Test".into(),
            now(),
            60,
        )
    }

    /// Signs `claims` with the app's own join-token key.
    pub fn sign(&self, claims: &JoinClaims) -> String {
        self.booking().token_issuer().sign(claims)
    }

    /// A valid, unused join token for `room`, signed directly (no booking needed).
    pub fn join_token(&self, room: &RoomId, role: Role) -> String {
        self.sign(&self.claims(room, role))
    }
}
