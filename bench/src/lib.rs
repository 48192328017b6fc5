//! Benchmarks of Närvaro's SFU. This crate owns the SFU benchmark: a load generator of real
//! webrtc-rs peers (the interop tests' peers and synthetic media, from `narvaro-tests`), the two
//! SFUs it drives the same way — the real `narvaro` binary ([`narvaro`]) and Debian's Janus
//! VideoRoom ([`janus`]) — the measurements taken from outside their processes ([`process`]),
//! this machine's ceiling for the work no SFU can avoid ([`calibrate`]), and the report: a table
//! and `docs/benchmarks/sfu-latest.json` ([`report`]). It does not own the SFU or its tests.
//!
//! Run it with `cargo run --release -p narvaro-bench -- sfu`; `docs/benchmarks.md` explains the
//! figures. `tests/smoke.rs` runs the same path in seconds in the test suite.

pub mod calibrate;
pub mod janus;
pub mod load;
pub mod narvaro;
pub mod process;
pub mod report;
pub mod run;

use std::path::PathBuf;
use std::time::Duration;

use load::{Baseline, LoadShape};
use narvaro::JoinTimes;
use process::{CorePlan, LoadAverage, Machine};
use run::{RunError, RunResult, SfuKind};

/// Everything one benchmark command does.
#[derive(Debug, Clone)]
pub struct Options {
    pub shape: LoadShape,
    /// Runs per SFU; the report gives the median of each figure.
    pub runs: usize,
    /// Joins timed for the join-latency figures.
    pub joins: usize,
    pub calibration_secs: f64,
    pub baseline_secs: f64,
    pub narvaro_binary: PathBuf,
    /// Whether to measure Janus (when it is installed).
    pub janus: bool,
    /// Where `perf record` puts a profile of each SFU's first window; none when `None`.
    pub profile_dir: Option<PathBuf>,
}

impl Options {
    /// The documented benchmark: 10 one-to-one meetings (20 participants) added in 5 steps,
    /// 1.5 Mbit/s video each way, a 15 s window, three runs per SFU, 50 joins.
    pub fn full(narvaro_binary: PathBuf) -> Options {
        Options {
            shape: LoadShape {
                rooms_per_step: 2,
                steps: 5,
                participants_per_room: 2,
                video_bits_per_second: 1_500_000,
                keyframe_every_secs: 3.0,
                settle_secs: 2.0,
                window_secs: 15.0,
            },
            runs: 3,
            joins: 50,
            calibration_secs: 3.0,
            baseline_secs: 10.0,
            narvaro_binary,
            janus: true,
            profile_dir: None,
        }
    }

    /// The same path in seconds, for the test suite: one run of two meetings in two steps.
    pub fn smoke(narvaro_binary: PathBuf) -> Options {
        Options {
            shape: LoadShape {
                rooms_per_step: 1,
                steps: 2,
                participants_per_room: 2,
                video_bits_per_second: 300_000,
                keyframe_every_secs: 3.0,
                settle_secs: 0.5,
                window_secs: 2.0,
            },
            runs: 1,
            joins: 3,
            calibration_secs: 0.2,
            baseline_secs: 1.0,
            narvaro_binary,
            janus: true,
            profile_dir: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("calibration: {0}")]
    Calibration(#[from] calibrate::CalibrationError),
    #[error("baseline: {0}")]
    Baseline(#[from] narvaro_tests::rtc_peer::PeerError),
    #[error("{0}")]
    Run(#[from] RunError),
    #[error("join measurement: {0}")]
    Joins(#[from] narvaro::NarvaroError),
    #[error("the calibration thread panicked")]
    CalibrationThread,
}

/// What the command measured, before it is reduced to the report.
#[derive(Debug, Clone)]
pub struct Measurements {
    pub machine: Machine,
    pub cores: CorePlan,
    pub ceiling: calibrate::Ceiling,
    pub baseline: Baseline,
    pub runs: Vec<RunResult>,
    pub joins: JoinTimes,
    /// Why Janus was not measured, when it was not.
    pub janus_skipped: Option<String>,
    pub load_average: LoadAverage,
}

/// Runs calibration, the baseline, the runs (Närvaro and Janus in turn, so drift on a shared
/// machine falls on both) and the join measurement. `progress` hears what is happening.
pub async fn measure(
    options: &Options,
    progress: impl Fn(&str),
) -> Result<Measurements, BenchError> {
    let machine = Machine::this();
    let load_at_start = process::load_average_now();
    let cores = CorePlan::for_this_machine();
    // The generator (this process) keeps off the SFU's core.
    if cores.separated() {
        let _ = process::pin(0, &cores.generator);
    }

    progress("calibration: copy + AES-128-GCM + sendmmsg on the SFU's core");
    // The VP8 payload: descriptor (4), filler, send stamp (12).
    let video_payload = options.shape.media_profile().vp8_filler_bytes + 16;
    let calibration_cores = cores.sfu.clone();
    let calibration_secs = options.calibration_secs;
    let ceiling = std::thread::spawn(move || {
        let _ = process::pin(0, &calibration_cores);
        calibrate::measure(Duration::from_secs_f64(calibration_secs), video_payload)
    })
    .join()
    .map_err(|_| BenchError::CalibrationThread)??;

    progress("baseline: two webrtc-rs peers connected directly");
    let baseline = load::direct_baseline(
        options.shape.media_profile(),
        Duration::from_secs_f64(options.baseline_secs),
    )
    .await?;

    let janus_skipped = if !options.janus {
        Some("not asked for (--no-janus)".to_owned())
    } else if janus::installed().is_none() {
        Some("janus is not installed (apt-get install janus)".to_owned())
    } else {
        None
    };
    let mut kinds = vec![SfuKind::Narvaro];
    if janus_skipped.is_none() {
        kinds.push(SfuKind::Janus);
    }
    let mut runs = Vec::new();
    for run in 0..options.runs {
        for &kind in &kinds {
            progress(&format!(
                "run {}/{} {kind}: {} participants",
                run + 1,
                options.runs,
                options.shape.participants()
            ));
            let profile_dir = options.profile_dir.as_deref().filter(|_| run == 0);
            let result = run::run_once(
                kind,
                &options.shape,
                &cores,
                &options.narvaro_binary,
                profile_dir,
            )
            .await?;
            progress(&format!(
                "  {:.0} egress packets per CPU-second, {:.2} cores busy, p99 {:.2} ms, loss {:.3} %",
                result.egress_packets_per_cpu_second,
                result.sfu_cores_busy,
                result.latency_p99_ms,
                result.loss_ratio * 100.0
            ));
            runs.push(result);
        }
    }

    progress(&format!("joins: {} into a Närvaro meeting", options.joins));
    let mut server = narvaro::NarvaroServer::start(&options.narvaro_binary, &cores.sfu).await?;
    let joins = server
        .measure_joins(options.joins, options.shape.media_profile())
        .await?;
    drop(server);

    Ok(Measurements {
        machine,
        cores,
        ceiling,
        baseline,
        runs,
        joins,
        janus_skipped,
        load_average: LoadAverage {
            at_start: load_at_start,
            at_end: process::load_average_now(),
        },
    })
}
