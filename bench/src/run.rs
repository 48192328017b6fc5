//! One measured run against one SFU: rooms added in steps (memory sampled after each), then a
//! steady-state window in which the SFU's CPU time, the packets its subscribers received and
//! their latency are measured.

use std::path::Path;
use std::time::Duration;

use narvaro_tests::media::TrackLog;
use serde::Serialize;

use crate::janus::{JanusError, JanusRoom, JanusServer};
use crate::load::{LoadShape, Received, loss_ratio, quantile, slope};
use crate::narvaro::{NarvaroError, NarvaroRoom, NarvaroServer};
use crate::process::{self, CorePlan};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("Närvaro: {0}")]
    Narvaro(#[from] NarvaroError),
    #[error("Janus: {0}")]
    Janus(#[from] JanusError),
    #[error("cannot run perf: {0}")]
    Perf(std::io::Error),
    #[error("reading the SFU's /proc entry: {0}")]
    Proc(#[from] std::io::Error),
}

/// Which SFU a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SfuKind {
    Narvaro,
    Janus,
}

impl std::fmt::Display for SfuKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SfuKind::Narvaro => "Närvaro",
            SfuKind::Janus => "Janus",
        })
    }
}

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub sfu: SfuKind,
    pub participants: usize,
    pub window_secs: f64,
    /// RTP packets the subscribers received in the window.
    pub egress_packets: u64,
    /// What the load should make the SFU send in the window (every packet to every subscriber).
    pub expected_egress_packets: f64,
    /// The SFU process's CPU time in the window (all threads, user + system).
    pub cpu_seconds: f64,
    pub egress_packets_per_cpu_second: f64,
    /// The SFU's CPU use in the window, in cores.
    pub sfu_cores_busy: f64,
    pub latency_samples: usize,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    /// Packets missing inside the received streams, over the whole run.
    pub loss_ratio: f64,
    /// Resident memory after each step: (participants, bytes).
    pub rss_steps: Vec<(usize, u64)>,
    pub idle_rss_bytes: u64,
    /// Slope of memory over participants, MB (10^6 bytes) per participant.
    pub rss_per_participant_mb: f64,
    pub srtp_profile: Option<String>,
}

enum Server {
    Narvaro(NarvaroServer),
    Janus(JanusServer),
}

enum Room {
    Narvaro(NarvaroRoom),
    Janus(JanusRoom),
}

impl Room {
    fn logs(&self) -> Vec<TrackLog> {
        match self {
            Room::Narvaro(r) => r.logs(),
            Room::Janus(r) => r.logs(),
        }
    }

    async fn srtp_profile(&self) -> Option<String> {
        match self {
            Room::Narvaro(r) => r.srtp_profile().await,
            Room::Janus(r) => r.srtp_profile().await,
        }
    }
}

/// Starts a fresh SFU of `kind`, loads it as `shape` says and measures it. With `profile_dir`,
/// `perf record` samples the SFU during the window into `<dir>/<kind>.perf.data` (this costs the
/// SFU some CPU: figures of a profiled run are not the benchmark's).
pub async fn run_once(
    kind: SfuKind,
    shape: &LoadShape,
    cores: &CorePlan,
    narvaro_binary: &Path,
    profile_dir: Option<&Path>,
) -> Result<RunResult, RunError> {
    let mut server = match kind {
        SfuKind::Narvaro => {
            Server::Narvaro(NarvaroServer::start(narvaro_binary, &cores.sfu).await?)
        }
        SfuKind::Janus => Server::Janus(JanusServer::start(&cores.sfu).await?),
    };
    let pid = match &server {
        Server::Narvaro(s) => s.pid(),
        Server::Janus(s) => s.pid(),
    };
    let settle = Duration::from_secs_f64(shape.settle_secs);
    tokio::time::sleep(settle).await;
    let idle_rss_bytes = process::sample(pid)?.rss_bytes;
    let profile = shape.media_profile();
    let received = Received::new();
    let mut rooms = Vec::new();
    let mut rss_steps = Vec::new();
    for step in 0..shape.steps {
        for r in 0..shape.rooms_per_step {
            let label = format!("s{step}r{r}");
            let room = match &mut server {
                Server::Narvaro(s) => Room::Narvaro(s.open_room(&label, profile, &received).await?),
                Server::Janus(s) => Room::Janus(
                    s.open_room(&label, shape.participants_per_room, profile, &received)
                        .await?,
                ),
            };
            rooms.push(room);
        }
        tokio::time::sleep(settle).await;
        rss_steps.push((
            rooms.len() * shape.participants_per_room,
            process::sample(pid)?.rss_bytes,
        ));
    }

    let window = Duration::from_secs_f64(shape.window_secs);
    // `perf record` over the window, when asked for: where the SFU's time goes.
    let mut perf = match profile_dir {
        Some(dir) => Some(
            std::process::Command::new("perf")
                .args(["record", "--quiet", "-F", "999", "-g", "-p"])
                .arg(pid.to_string())
                .arg("-o")
                .arg(dir.join(format!("{kind:?}.perf.data").to_lowercase()))
                .args(["--", "sleep"])
                .arg(format!("{}", shape.window_secs))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .map_err(RunError::Perf)?,
        ),
        None => None,
    };
    received.start_recording();
    let before = process::sample(pid)?;
    let packets_before = received.packets();
    tokio::time::sleep(window).await;
    let after = process::sample(pid)?;
    let packets_after = received.packets();
    let latencies = received.stop_recording();
    if let Some(perf) = perf.as_mut() {
        let _ = perf.wait();
    }

    let logs: Vec<TrackLog> = rooms.iter().flat_map(Room::logs).collect();
    let srtp_profile = match rooms.first() {
        Some(room) => room.srtp_profile().await,
        None => None,
    };
    let window_secs = after.at.duration_since(before.at).as_secs_f64();
    let cpu_seconds = after.cpu_seconds - before.cpu_seconds;
    let egress_packets = packets_after - packets_before;
    let ms = |q| quantile(&latencies, q).map_or(f64::NAN, |us| us as f64 / 1000.0);
    let points: Vec<(f64, f64)> = rss_steps
        .iter()
        .map(|&(n, bytes)| (n as f64, bytes as f64 / 1e6))
        .collect();
    let result = RunResult {
        sfu: kind,
        participants: shape.participants(),
        window_secs,
        egress_packets,
        expected_egress_packets: shape.expected_egress_packets_per_second() * window_secs,
        cpu_seconds,
        egress_packets_per_cpu_second: if cpu_seconds > 0.0 {
            egress_packets as f64 / cpu_seconds
        } else {
            f64::NAN
        },
        sfu_cores_busy: cpu_seconds / window_secs,
        latency_samples: latencies.len(),
        latency_p50_ms: ms(0.5),
        latency_p99_ms: ms(0.99),
        loss_ratio: loss_ratio(&logs),
        rss_steps,
        idle_rss_bytes,
        rss_per_participant_mb: slope(&points).unwrap_or(f64::NAN),
        srtp_profile,
    };
    drop(rooms);
    drop(server);
    Ok(result)
}
