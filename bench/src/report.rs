//! The benchmark's report: medians over runs, figures as ratios against Janus and fractions of
//! the ceiling, a table for the terminal and the JSON written to `docs/benchmarks/sfu-latest.json`.

use std::fmt::Write as _;

use serde::Serialize;

use crate::Measurements;
use crate::load::{LoadShape, median};
use crate::narvaro::JoinSample;
use crate::process::{CorePlan, LoadAverage, Machine};
use crate::run::{RunResult, SfuKind};

/// Loss above which a load no longer counts as carried (the limit for meetings per core).
pub const MAX_LOSS_RATIO: f64 = 0.01;
/// p99 latency above which a load no longer counts as carried.
pub const MAX_P99_MS: f64 = 50.0;

/// Medians of one SFU's runs.
#[derive(Debug, Clone, Serialize)]
pub struct SfuFigures {
    pub runs: usize,
    pub egress_pkts_per_cpu_s: f64,
    pub p50_added_latency_ms: f64,
    pub p99_added_latency_ms: f64,
    pub rss_per_participant_mb: f64,
    pub loss_ratio: f64,
    pub sfu_cores_busy: f64,
    /// Received over expected egress packets in the window: below 1, the SFU did not send
    /// everything the load asked for.
    pub delivered_ratio: f64,
    /// One-to-one meetings at the load's bitrate one core would carry at the measured cost per
    /// packet; `None` when the measured load itself broke the loss or latency limit.
    pub one_to_one_meetings_per_core: Option<f64>,
    pub srtp_profile: Option<String>,
}

fn figures(
    runs: &[&RunResult],
    baseline_p50: f64,
    baseline_p99: f64,
    shape: &LoadShape,
) -> SfuFigures {
    let m = |f: fn(&RunResult) -> f64| {
        median(&runs.iter().map(|r| f(r)).collect::<Vec<_>>()).unwrap_or(f64::NAN)
    };
    let egress = m(|r| r.egress_packets_per_cpu_second);
    let loss = m(|r| r.loss_ratio);
    let p99 = m(|r| r.latency_p99_ms);
    let per_meeting = 2.0 * (50.0 + shape.media_profile().video_packets_per_second() as f64);
    SfuFigures {
        runs: runs.len(),
        egress_pkts_per_cpu_s: egress,
        p50_added_latency_ms: m(|r| r.latency_p50_ms) - baseline_p50,
        p99_added_latency_ms: p99 - baseline_p99,
        rss_per_participant_mb: m(|r| r.rss_per_participant_mb),
        loss_ratio: loss,
        sfu_cores_busy: m(|r| r.sfu_cores_busy),
        delivered_ratio: m(|r| r.egress_packets as f64 / r.expected_egress_packets),
        one_to_one_meetings_per_core: (loss <= MAX_LOSS_RATIO
            && p99 <= MAX_P99_MS
            && egress.is_finite())
        .then(|| (egress / per_meeting).floor()),
        srtp_profile: runs.iter().find_map(|r| r.srtp_profile.clone()),
    }
}

/// The JSON report. The flat keys first are the ones the issue asks for; the rest say how
/// they were obtained.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub narvaro_egress_pkts_per_cpu_s: f64,
    pub janus_egress_pkts_per_cpu_s: Option<f64>,
    pub ceiling_egress_pkts_per_cpu_s: f64,
    pub narvaro_p99_added_latency_ms: f64,
    pub janus_p99_added_latency_ms: Option<f64>,
    pub narvaro_rss_per_participant_mb: f64,
    pub janus_rss_per_participant_mb: Option<f64>,
    pub narvaro_join_p50_ms: f64,
    pub narvaro_join_p95_ms: f64,
    pub max_one_to_one_meetings_per_core: Option<f64>,
    pub srtp_profile: Option<String>,
    pub machine: Machine,
    pub load_average: LoadAverage,

    pub narvaro_to_janus_egress_ratio: Option<f64>,
    pub narvaro_share_of_ceiling: f64,
    pub narvaro: SfuFigures,
    pub janus: Option<SfuFigures>,
    pub janus_skipped: Option<String>,
    pub join_stages_p50_ms: JoinSample,
    pub joins: usize,
    pub baseline_p50_ms: f64,
    pub baseline_p99_ms: f64,
    pub ceiling: crate::calibrate::Ceiling,
    pub load: LoadShape,
    pub cores: CorePlan,
    pub command: String,
    pub generated_at: String,
    pub runs: Vec<RunResult>,
}

impl Report {
    pub fn new(m: &Measurements, shape: &LoadShape, command: String) -> Report {
        let of = |kind| m.runs.iter().filter(|r| r.sfu == kind).collect::<Vec<_>>();
        let (b50, b99) = (m.baseline.p50_ms, m.baseline.p99_ms);
        let narvaro = figures(&of(SfuKind::Narvaro), b50, b99, shape);
        let janus_runs = of(SfuKind::Janus);
        let janus = (!janus_runs.is_empty()).then(|| figures(&janus_runs, b50, b99, shape));
        let ceiling = m.ceiling.packets_per_cpu_second;
        Report {
            narvaro_egress_pkts_per_cpu_s: narvaro.egress_pkts_per_cpu_s,
            janus_egress_pkts_per_cpu_s: janus.as_ref().map(|j| j.egress_pkts_per_cpu_s),
            ceiling_egress_pkts_per_cpu_s: ceiling,
            narvaro_p99_added_latency_ms: narvaro.p99_added_latency_ms,
            janus_p99_added_latency_ms: janus.as_ref().map(|j| j.p99_added_latency_ms),
            narvaro_rss_per_participant_mb: narvaro.rss_per_participant_mb,
            janus_rss_per_participant_mb: janus.as_ref().map(|j| j.rss_per_participant_mb),
            narvaro_join_p50_ms: m.joins.p50_ms,
            narvaro_join_p95_ms: m.joins.p95_ms,
            max_one_to_one_meetings_per_core: narvaro.one_to_one_meetings_per_core,
            srtp_profile: narvaro.srtp_profile.clone(),
            machine: m.machine.clone(),
            load_average: m.load_average,
            narvaro_to_janus_egress_ratio: janus
                .as_ref()
                .map(|j| narvaro.egress_pkts_per_cpu_s / j.egress_pkts_per_cpu_s),
            narvaro_share_of_ceiling: narvaro.egress_pkts_per_cpu_s / ceiling,
            narvaro,
            janus,
            janus_skipped: m.janus_skipped.clone(),
            join_stages_p50_ms: m.joins.stages_p50_ms,
            joins: m.joins.joins,
            baseline_p50_ms: b50,
            baseline_p99_ms: b99,
            ceiling: m.ceiling.clone(),
            load: shape.clone(),
            cores: m.cores.clone(),
            command,
            generated_at: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            runs: m.runs.clone(),
        }
    }

    /// The terminal table: Närvaro | Janus | ratio | ceiling.
    pub fn table(&self) -> String {
        let n = &self.narvaro;
        let j = self.janus.as_ref();
        let mut rows: Vec<[String; 5]> = vec![[
            "figure (median of runs)".into(),
            "Närvaro".into(),
            "Janus".into(),
            "ratio N/J".into(),
            "ceiling".into(),
        ]];
        let num = |v: f64, digits: usize| {
            if v.is_finite() {
                format!("{v:.digits$}")
            } else {
                "n/a".into()
            }
        };
        let opt = |v: Option<f64>, digits: usize| v.map_or("—".to_owned(), |v| num(v, digits));
        let ratio = |a: f64, b: Option<f64>| opt(b.map(|b| a / b), 2);
        // A figure both SFUs have, with their ratio; no ceiling.
        let compared = |label: &str, figure: fn(&SfuFigures) -> f64, digits: usize| {
            [
                label.to_owned(),
                num(figure(n), digits),
                opt(j.map(figure), digits),
                ratio(figure(n), j.map(figure)),
                "—".to_owned(),
            ]
        };
        rows.push([
            "egress RTP packets per SFU CPU-second".into(),
            num(n.egress_pkts_per_cpu_s, 0),
            opt(j.map(|j| j.egress_pkts_per_cpu_s), 0),
            ratio(n.egress_pkts_per_cpu_s, j.map(|j| j.egress_pkts_per_cpu_s)),
            format!(
                "{} ({}% of it)",
                num(self.ceiling_egress_pkts_per_cpu_s, 0),
                num(self.narvaro_share_of_ceiling * 100.0, 1)
            ),
        ]);
        rows.push(compared(
            "added latency p50 (ms)",
            |f| f.p50_added_latency_ms,
            2,
        ));
        rows.push(compared(
            "added latency p99 (ms)",
            |f| f.p99_added_latency_ms,
            2,
        ));
        rows.push(compared(
            "RSS per participant (MB)",
            |f| f.rss_per_participant_mb,
            3,
        ));
        rows.push([
            "loss in received streams (%)".into(),
            num(n.loss_ratio * 100.0, 3),
            opt(j.map(|j| j.loss_ratio * 100.0), 3),
            "—".into(),
            "—".into(),
        ]);
        rows.push([
            "delivered / expected egress".into(),
            num(n.delivered_ratio, 3),
            opt(j.map(|j| j.delivered_ratio), 3),
            "—".into(),
            "—".into(),
        ]);
        rows.push(compared(
            "SFU cores busy at this load",
            |f| f.sfu_cores_busy,
            3,
        ));
        rows.push([
            "1:1 meetings per core (extrapolated)".into(),
            opt(n.one_to_one_meetings_per_core, 0),
            opt(j.and_then(|j| j.one_to_one_meetings_per_core), 0),
            ratio(
                n.one_to_one_meetings_per_core.unwrap_or(f64::NAN),
                j.and_then(|j| j.one_to_one_meetings_per_core),
            ),
            "—".into(),
        ]);
        rows.push([
            "join → first RTP p50 / p95 (ms)".into(),
            format!(
                "{} / {}",
                num(self.narvaro_join_p50_ms, 0),
                num(self.narvaro_join_p95_ms, 0)
            ),
            "—".into(),
            "—".into(),
            "—".into(),
        ]);
        rows.push([
            "SRTP profile".into(),
            n.srtp_profile.clone().unwrap_or_else(|| "?".into()),
            j.map_or("—".into(), |j| {
                j.srtp_profile.clone().unwrap_or_else(|| "?".into())
            }),
            "—".into(),
            self.ceiling.srtp_profile.into(),
        ]);
        let widths: Vec<usize> = (0..5)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for (i, row) in rows.iter().enumerate() {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
                .collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
            if i == 0 {
                let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
                let _ = writeln!(out, "|-{}-|", rule.join("-|-"));
            }
        }
        let _ = writeln!(
            out,
            "\nmachine: {}; SFU on cores {:?}, generator on {:?}; load average {}",
            self.machine, self.cores.sfu, self.cores.generator, self.load_average
        );
        let _ = writeln!(
            out,
            "load: {} one-to-one meetings ({} participants) in {} steps, {} bit/s video + Opus each way, {} s window; baseline (direct) p50 {:.2} ms, p99 {:.2} ms",
            self.load.rooms(),
            self.load.participants(),
            self.load.steps,
            self.load.video_bits_per_second,
            self.load.window_secs,
            self.baseline_p50_ms,
            self.baseline_p99_ms
        );
        let s = &self.join_stages_p50_ms;
        let _ = writeln!(
            out,
            "join stages p50 (ms from asking for the token): token {:.0}, signalling joined {:.0}, ICE connected {:.0}, DTLS connected {:.0}, first RTP {:.0}",
            s.token_ms,
            s.signalling_joined_ms,
            s.ice_connected_ms,
            s.dtls_connected_ms,
            s.first_rtp_ms
        );
        if let Some(why) = &self.janus_skipped {
            let _ = writeln!(out, "Janus not measured: {why}");
        }
        out
    }
}
