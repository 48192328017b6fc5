//! `narvaro-bench sfu`: calibrates this machine, loads Närvaro's SFU and Janus VideoRoom with the
//! same webrtc-rs peers, prints the table and writes `docs/benchmarks/sfu-latest.json`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use narvaro_bench::report::Report;
use narvaro_bench::{Options, measure};

const USAGE: &str = "usage: narvaro-bench sfu [options]

Calibrates this machine (copy + AES-128-GCM + sendmmsg), then measures Närvaro's SFU (the real
`narvaro` binary, built here first) and Janus VideoRoom (Debian's `janus`) under the same load of
webrtc-rs peers, prints a table and writes the JSON report.

options:
  --runs N             runs per SFU, the report gives medians (3)
  --steps N            load steps; memory is sampled after each (5)
  --rooms-per-step N   one-to-one meetings added per step (2)
  --bitrate BPS        video bitrate of every publisher (1500000)
  --window SECS        steady-state measurement window (15)
  --joins N            joins timed for join latency (50)
  --no-janus           measure Närvaro only
  --smoke              the test suite's few-second version
  --narvaro-bin PATH   use this narvaro binary instead of building one
  --json PATH          where to write the report (docs/benchmarks/sfu-latest.json; with
                       --profile, DIR/report.json)
  --profile DIR        perf-record each SFU during its first window into DIR (costs the
                       SFU CPU: use a separate run for figures)";

fn workspace_root() -> PathBuf {
    // This crate lives one level below the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Builds the `narvaro` binary with this benchmark's profile into the same target directory and
/// returns its path: the binary under test is always the current source.
fn build_narvaro() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("own path: {e}"))?;
    let dir = exe
        .parent()
        .ok_or("the benchmark binary has no directory")?
        .to_path_buf();
    let release = dir.file_name().is_some_and(|n| n == "release");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(workspace_root())
        .args(["build", "--locked", "--bin", "narvaro"]);
    if release {
        build.arg("--release");
    }
    let status = build
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building narvaro failed ({status})"));
    }
    Ok(dir.join("narvaro"))
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() != Some("sfu") {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let mut smoke = false;
    let mut janus = true;
    let mut binary: Option<PathBuf> = None;
    let mut profile: Option<PathBuf> = None;
    let mut json: Option<PathBuf> = None;
    let mut numbers: Vec<(String, f64)> = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => smoke = true,
            "--no-janus" => janus = false,
            "--narvaro-bin" | "--json" | "--profile" => {
                let Some(value) = args.next() else {
                    eprintln!("{arg} needs a value\n\n{USAGE}");
                    return ExitCode::from(2);
                };
                if arg == "--json" {
                    json = Some(PathBuf::from(value));
                } else if arg == "--profile" {
                    profile = Some(PathBuf::from(value));
                } else {
                    binary = Some(PathBuf::from(value));
                }
            }
            "--runs" | "--steps" | "--rooms-per-step" | "--bitrate" | "--window" | "--joins" => {
                match args.next().and_then(|v| v.parse::<f64>().ok()) {
                    Some(v) if v > 0.0 => numbers.push((arg.clone(), v)),
                    _ => {
                        eprintln!("{arg} needs a positive number\n\n{USAGE}");
                        return ExitCode::from(2);
                    }
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other:?}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let binary = match binary {
        Some(b) => b,
        None => match build_narvaro() {
            Ok(b) => b,
            Err(e) => {
                eprintln!("narvaro-bench: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let mut options = if smoke {
        Options::smoke(binary)
    } else {
        Options::full(binary)
    };
    options.janus = janus;
    if let Some(dir) = &profile
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("narvaro-bench: {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    // A profiled run's figures carry the profiler's cost: they never replace the benchmark's.
    let json = json.unwrap_or_else(|| match &profile {
        Some(dir) => dir.join("report.json"),
        None => workspace_root().join("docs/benchmarks/sfu-latest.json"),
    });
    options.profile_dir = profile;
    for (flag, v) in numbers {
        match flag.as_str() {
            "--runs" => options.runs = v as usize,
            "--steps" => options.shape.steps = v as usize,
            "--rooms-per-step" => options.shape.rooms_per_step = v as usize,
            "--bitrate" => options.shape.video_bits_per_second = v as u32,
            "--window" => options.shape.window_secs = v,
            "--joins" => options.joins = v as usize,
            _ => {}
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("narvaro-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let command = std::iter::once("narvaro-bench".to_owned())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let measured = runtime.block_on(measure(&options, |line| eprintln!("{line}")));
    let measurements = match measured {
        Ok(m) => m,
        Err(e) => {
            eprintln!("narvaro-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = Report::new(&measurements, &options.shape, command);
    println!("{}", report.table());
    // A report is plain data; serializing it cannot fail.
    let text = serde_json::to_string_pretty(&report).expect("report serializes");
    if let Some(dir) = json.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = std::fs::write(&json, text + "\n") {
        eprintln!("narvaro-bench: cannot write {}: {e}", json.display());
        return ExitCode::FAILURE;
    }
    println!("written: {}", json.display());
    ExitCode::SUCCESS
}
