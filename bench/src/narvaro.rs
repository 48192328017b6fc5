//! Närvaro under test: the real `narvaro` binary started with a configuration written to a
//! temporary directory (loopback only, demo data, SQLite there too), and rooms filled through
//! the product's own paths: the guide books and starts a meeting over the booking API, officer
//! and citizen sign in with the development e-ID and ask for join tokens, and webrtc-rs peers
//! join over signalling.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use booking::demo;
use hyper::Method;
use narvaro_tests::api::{ApiClient, ApiError};
use narvaro_tests::media::{MediaProfile, TrackLog};
use narvaro_tests::peer::{TestPeer, TestPeerError};
use serde::Serialize;
use serde_json::json;
use signalling::ids::RoomId;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::load::{Received, quantile};
use crate::process::spawn_pinned;

#[derive(Debug, thiserror::Error)]
pub enum NarvaroError {
    #[error("cannot start {binary}: {source}")]
    Spawn {
        binary: String,
        source: std::io::Error,
    },
    #[error("narvaro did not answer /healthz within {0:?} (its log: {1})")]
    NotReady(Duration, String),
    #[error("temporary directory or port: {0}")]
    Io(#[from] std::io::Error),
    #[error("booking API: {0}")]
    Api(#[from] ApiError),
    #[error("{0}")]
    Peer(#[from] TestPeerError),
    #[error("{0}")]
    Other(String),
}

type Result<T, E = NarvaroError> = std::result::Result<T, E>;

/// A free loopback port for TCP or UDP: bound, read, released. The binary binds it a moment
/// later; on a machine this quiet nothing else takes it in between.
fn free_port(udp: bool) -> std::io::Result<u16> {
    if udp {
        Ok(UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port())
    } else {
        Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port())
    }
}

/// A running `narvaro` process. Dropping it kills the process and removes its directory.
pub struct NarvaroServer {
    child: Child,
    http_addr: SocketAddr,
    guide: ApiClient,
    officer: ApiClient,
    citizen: ApiClient,
    /// Bookings are placed one hour apart so officer and booth are never double-booked; a
    /// started booking can be joined whenever it is booked for.
    next_slot: i64,
    dir: tempfile::TempDir,
}

/// One booked and started meeting and its two participants.
pub struct NarvaroRoom {
    pub room_id: RoomId,
    pub peers: Vec<TestPeer>,
}

impl NarvaroServer {
    /// Starts `binary` pinned to `cpus` and waits until it serves.
    pub async fn start(binary: &Path, cpus: &[usize]) -> Result<NarvaroServer> {
        let dir = tempfile::tempdir()?;
        let http_port = free_port(false)?;
        let udp_port = free_port(true)?;
        let config = format!(
            r#"env = "development"

[server]
listen = "127.0.0.1:{http_port}"

[media]
udp_port = {udp_port}
ice_tcp = false
bind_ip = "127.0.0.1"
public_ips = ["127.0.0.1"]

[booking]
database_url = "sqlite://{db}?mode=rwc"
demo_data = true
# The benchmark makes thousands of joins from one address and one session.
rate_limits = false
"#,
            db = dir.path().join("narvaro.db").display()
        );
        let config_path = dir.path().join("narvaro.toml");
        std::fs::write(&config_path, config)?;
        let log = std::fs::File::create(dir.path().join("narvaro.log"))?;
        let mut command = Command::new(binary);
        command
            .arg("--config")
            .arg(&config_path)
            .current_dir(dir.path())
            // Warnings only: per-join info lines are not what is measured.
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        // The caller's own NARVARO_* settings would override the benchmark's configuration.
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("NARVARO_")) {
            command.env_remove(key);
        }
        let child = spawn_pinned(&mut command, cpus).map_err(|source| NarvaroError::Spawn {
            binary: binary.display().to_string(),
            source,
        })?;
        let http_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, http_port));
        let mut server = NarvaroServer {
            child,
            http_addr,
            guide: ApiClient::new(http_addr),
            officer: ApiClient::new(http_addr),
            citizen: ApiClient::new(http_addr),
            next_slot: 1,
            dir,
        };
        server.wait_ready(Duration::from_secs(30)).await?;
        server.guide.sign_in(demo::GUIDE).await?;
        server.officer.sign_in(demo::OFFICER_ANNA).await?;
        server.citizen.sign_in(demo::CITIZEN_1).await?;
        Ok(server)
    }

    async fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut probe = ApiClient::new(self.http_addr);
        loop {
            if let Ok((200, _)) = probe.get_text("/healthz").await {
                return Ok(());
            }
            let exited = matches!(self.child.try_wait(), Ok(Some(_)));
            if exited || Instant::now() > deadline {
                let log = std::fs::read_to_string(self.dir.path().join("narvaro.log"))
                    .unwrap_or_default();
                return Err(NarvaroError::NotReady(timeout, log));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The guide books a meeting of officer Anna and the demo citizen in the next free hour
    /// and starts it. Returns the booking id and the room.
    async fn book_and_start(&mut self) -> Result<(String, RoomId)> {
        let starts_at = (OffsetDateTime::now_utc() + time::Duration::hours(self.next_slot))
            .format(&Rfc3339)
            .map_err(|e| NarvaroError::Other(e.to_string()))?;
        self.next_slot += 1;
        let created = self
            .guide
            .call(
                Method::POST,
                "/api/v1/bookings",
                Some(&json!({
                    "service_id": demo::SERVICE_FORALDRAPENNING,
                    "officer_id": demo::OFFICER_ANNA,
                    "booth_id": demo::BOOTH_1,
                    "starts_at": starts_at,
                    "duration_minutes": 30,
                    "citizen_personnummer": demo::CITIZEN_1_PERSONNUMMER,
                })),
            )
            .await?;
        let booking_id = created["booking_id"]
            .as_str()
            .ok_or_else(|| NarvaroError::Other("booking answer without booking_id".into()))?
            .to_owned();
        let started = self
            .guide
            .call(
                Method::POST,
                &format!("/api/v1/bookings/{booking_id}/start"),
                None,
            )
            .await?;
        let room_id = started["room_id"]
            .as_str()
            .ok_or_else(|| NarvaroError::Other("start answer without room_id".into()))?;
        Ok((booking_id, RoomId(room_id.to_owned())))
    }

    /// Books a meeting, joins its officer and citizen, hands their received packets to
    /// `received` and starts both publishing `profile`.
    pub async fn open_room(
        &mut self,
        label: &str,
        profile: MediaProfile,
        received: &Arc<Received>,
    ) -> Result<NarvaroRoom> {
        let (booking_id, room_id) = self.book_and_start().await?;
        let mut peers = Vec::new();
        for role in ["officer", "citizen"] {
            let client = if role == "officer" {
                &mut self.officer
            } else {
                &mut self.citizen
            };
            let grant = client.join_token(&booking_id).await?;
            let peer = TestPeer::join(
                self.http_addr,
                &room_id,
                &grant.token,
                &format!("{label}-{role}"),
            )
            .await?;
            peer.media()
                .set_packet_observer(received.observer())
                .map_err(|e| NarvaroError::Other(e.to_string()))?;
            peers.push(peer);
        }
        for peer in &peers {
            peer.start_publishing_with(profile).await?;
        }
        Ok(NarvaroRoom { room_id, peers })
    }

    /// `count` joins of a citizen into a meeting whose officer publishes: each from asking for a
    /// token to the first forwarded RTP packet, then a clean leave.
    pub async fn measure_joins(
        &mut self,
        count: usize,
        profile: MediaProfile,
    ) -> Result<JoinTimes> {
        let (booking_id, room_id) = self.book_and_start().await?;
        let grant = self.officer.join_token(&booking_id).await?;
        let officer =
            TestPeer::join(self.http_addr, &room_id, &grant.token, "join-officer").await?;
        officer.start_publishing_with(profile).await?;
        let mut samples = Vec::with_capacity(count);
        for i in 0..count {
            let started = Instant::now();
            let grant = self.citizen.join_token(&booking_id).await?;
            let token_done = Instant::now();
            let citizen = TestPeer::join(
                self.http_addr,
                &room_id,
                &grant.token,
                &format!("join-citizen-{i}"),
            )
            .await?;
            let deadline = Instant::now() + Duration::from_secs(10);
            while citizen.media().milestones().first_rtp.is_none() {
                if Instant::now() > deadline {
                    return Err(NarvaroError::Other(format!(
                        "join {i}: no forwarded RTP within 10 s"
                    )));
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let m = citizen.media().milestones();
            let ms = |at: Option<Instant>| {
                at.map_or(f64::NAN, |t| {
                    t.duration_since(started).as_secs_f64() * 1000.0
                })
            };
            samples.push(JoinSample {
                token_ms: ms(Some(token_done)),
                signalling_joined_ms: ms(Some(citizen.joined_at())),
                ice_connected_ms: ms(m.ice_connected),
                dtls_connected_ms: ms(m.dtls_connected),
                first_rtp_ms: ms(m.first_rtp),
            });
            citizen.leave().await?;
        }
        drop(officer);
        Ok(JoinTimes::from_samples(samples))
    }

    /// The server's log so far (warnings and errors), for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("narvaro.log")).unwrap_or_default()
    }
}

impl Drop for NarvaroServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl NarvaroRoom {
    /// Every track each participant received.
    pub fn logs(&self) -> Vec<TrackLog> {
        self.peers
            .iter()
            .flat_map(|p| p.media().received())
            .collect()
    }

    pub async fn srtp_profile(&self) -> Option<String> {
        self.peers.first()?.media().srtp_profile().await
    }
}

/// One join, each stage in milliseconds since the token was asked for.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct JoinSample {
    pub token_ms: f64,
    pub signalling_joined_ms: f64,
    pub ice_connected_ms: f64,
    pub dtls_connected_ms: f64,
    pub first_rtp_ms: f64,
}

/// Join times over many joins: p50 and p95 from signalling join (the token in hand, the
/// WebSocket opening) to the first forwarded RTP packet, and the p50 of each stage.
#[derive(Debug, Clone, Serialize)]
pub struct JoinTimes {
    pub joins: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    /// p50 of each stage, cumulative from asking for the token.
    pub stages_p50_ms: JoinSample,
    pub samples: Vec<JoinSample>,
}

impl JoinTimes {
    pub fn from_samples(samples: Vec<JoinSample>) -> JoinTimes {
        let sorted = |f: fn(&JoinSample) -> f64| {
            let mut v: Vec<f64> = samples.iter().map(f).collect();
            v.sort_by(|a, b| a.total_cmp(b));
            v
        };
        let p = |f: fn(&JoinSample) -> f64, q| quantile(&sorted(f), q).unwrap_or(f64::NAN);
        let join_to_rtp: fn(&JoinSample) -> f64 = |s| s.first_rtp_ms - s.token_ms;
        JoinTimes {
            joins: samples.len(),
            p50_ms: p(join_to_rtp, 0.5),
            p95_ms: p(join_to_rtp, 0.95),
            stages_p50_ms: JoinSample {
                token_ms: p(|s| s.token_ms, 0.5),
                signalling_joined_ms: p(|s| s.signalling_joined_ms, 0.5),
                ice_connected_ms: p(|s| s.ice_connected_ms, 0.5),
                dtls_connected_ms: p(|s| s.dtls_connected_ms, 0.5),
                first_rtp_ms: p(|s| s.first_rtp_ms, 0.5),
            },
            samples,
        }
    }
}
