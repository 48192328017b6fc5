//! The SFU benchmark in a few seconds, so it cannot rot: the same command path as
//! `cargo run --release -p narvaro-bench -- sfu`, with a small load and one run. It asserts that
//! the benchmark measures something real (packets arrive in order, figures are non-zero and
//! consistent, the report has every key), never how fast anything was.
//!
//! It needs the `narvaro` binary of this build (`cargo build --bin narvaro`; tests/run.sh builds
//! it first). The Janus half runs when `janus` is installed (tests/run.sh installs it as root)
//! and says it is skipped otherwise.

use std::path::PathBuf;

use narvaro_bench::report::Report;
use narvaro_bench::run::SfuKind;
use narvaro_bench::{Options, janus, measure};

/// `target/<profile>/narvaro`, beside this test's own `deps/` directory.
fn narvaro_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binaries live in target/<profile>/deps");
    let binary = profile_dir.join("narvaro");
    assert!(
        binary.is_file(),
        "{} is missing: build it first with `cargo build --bin narvaro` (tests/run.sh does)",
        binary.display()
    );
    binary
}

#[tokio::test(flavor = "multi_thread")]
async fn smoke_benchmark_measures_both_sfus_and_writes_every_key() {
    let mut options = Options::smoke(narvaro_binary());
    let janus_installed = janus::installed().is_some();
    if !janus_installed {
        eprintln!(
            "janus is not installed: the Janus half of the benchmark smoke is skipped (apt-get install janus; tests/run.sh does as root)"
        );
        options.janus = false;
    }
    let measurements = measure(&options, |line| eprintln!("{line}"))
        .await
        .unwrap_or_else(|e| panic!("the benchmark failed: {e}"));

    assert!(measurements.ceiling.packets > 0);
    assert!(measurements.ceiling.packets_per_cpu_second.is_finite());
    assert!(
        measurements.baseline.samples > 0,
        "the direct baseline received no stamped packets"
    );

    let kinds: Vec<SfuKind> = measurements.runs.iter().map(|r| r.sfu).collect();
    let mut expected = vec![SfuKind::Narvaro];
    if janus_installed {
        expected.push(SfuKind::Janus);
    }
    assert_eq!(kinds, expected);
    for run in &measurements.runs {
        let sfu = run.sfu;
        assert!(
            run.egress_packets > 0,
            "{sfu}: no packet reached a subscriber: {run:?}"
        );
        assert!(run.cpu_seconds > 0.0, "{sfu}: the SFU used no CPU: {run:?}");
        assert!(
            run.latency_samples > 0,
            "{sfu}: no latency measured: {run:?}"
        );
        assert!(run.latency_p50_ms <= run.latency_p99_ms, "{sfu}: {run:?}");
        // A run of a few seconds loses nothing on loopback; a few packets in a burst at most.
        assert!(
            run.loss_ratio < 0.05,
            "{sfu}: {:.3} of packets missing",
            run.loss_ratio
        );
        // The subscribers cannot receive more than every publisher sent to every subscriber
        // (retransmissions aside), and receive a real part of it.
        let delivered = run.egress_packets as f64 / run.expected_egress_packets;
        assert!(
            (0.5..1.2).contains(&delivered),
            "{sfu}: delivered {delivered:.2} of the load"
        );
        assert_eq!(run.rss_steps.len(), options.shape.steps);
        assert!(run.rss_steps.iter().all(|&(n, bytes)| n > 0 && bytes > 0));
        assert!(
            run.srtp_profile
                .as_deref()
                .is_some_and(|p| p.starts_with("SRTP_")),
            "{sfu}: no SRTP profile: {:?}",
            run.srtp_profile
        );
    }

    let joins = &measurements.joins;
    assert_eq!(joins.joins, options.joins);
    for s in &joins.samples {
        // Each stage follows the one before it.
        let stages = [
            s.token_ms,
            s.signalling_joined_ms,
            s.ice_connected_ms,
            s.dtls_connected_ms,
            s.first_rtp_ms,
        ];
        assert!(stages.iter().all(|t| t.is_finite() && *t > 0.0), "{s:?}");
        assert!(stages.windows(2).all(|w| w[0] <= w[1]), "{s:?}");
    }

    let report = Report::new(&measurements, &options.shape, "smoke".into());
    let json = serde_json::to_value(&report).expect("report serializes");
    for key in [
        "narvaro_egress_pkts_per_cpu_s",
        "janus_egress_pkts_per_cpu_s",
        "ceiling_egress_pkts_per_cpu_s",
        "narvaro_p99_added_latency_ms",
        "janus_p99_added_latency_ms",
        "narvaro_rss_per_participant_mb",
        "janus_rss_per_participant_mb",
        "narvaro_join_p50_ms",
        "narvaro_join_p95_ms",
        "max_one_to_one_meetings_per_core",
        "srtp_profile",
        "machine",
        "load_average",
    ] {
        assert!(json.get(key).is_some(), "report lacks {key}: {json}");
    }
    assert!(
        json["narvaro_egress_pkts_per_cpu_s"]
            .as_f64()
            .is_some_and(|v| v > 0.0)
    );
    assert_eq!(
        json["janus_egress_pkts_per_cpu_s"].is_number(),
        janus_installed
    );
    assert!(json["machine"]["cores"].as_u64().is_some_and(|c| c >= 1));
    let table = report.table();
    assert!(
        table.contains("Närvaro") && table.contains("ceiling"),
        "{table}"
    );
}
