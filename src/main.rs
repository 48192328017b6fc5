//! `narvaro [serve] [--config FILE]`: runs web, booking, signalling and the SFU in one process.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: narvaro [serve] [--config FILE]\n\n\
Runs Närvaro: web pages, booking API, signalling and the SFU in one process.\n\
Configuration: defaults, then FILE (TOML, see narvaro.sample.toml), then NARVARO_* variables.";

fn main() -> ExitCode {
    let mut config_file: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "serve" => {}
            "--config" => match args.next() {
                Some(path) => config_file = Some(PathBuf::from(path)),
                None => return usage_error("--config needs a file"),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return usage_error(&format!("unknown argument {other:?}")),
        }
    }
    let config = match narvaro::Config::load(config_file.as_deref(), std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("narvaro: {e}");
            return ExitCode::from(2);
        }
    };
    narvaro::init_tracing(config.server.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("narvaro: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        match narvaro::start(config).await {
            Ok(running) => match running.until_signal().await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!(error = %e, "server failed");
                    ExitCode::FAILURE
                }
            },
            Err(e) => {
                tracing::error!(error = %e, "cannot start");
                eprintln!("narvaro: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("narvaro: {message}\n\n{USAGE}");
    ExitCode::from(2)
}
