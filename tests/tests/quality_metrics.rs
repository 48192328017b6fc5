//! Connection quality through the whole app: each client is told its own, and `/metrics` shows
//! every participant's gauges, labelled by pseudonymous room and participant ids only, until the
//! participant leaves.

use std::time::Duration;

use narvaro_tests::api::ApiClient;
use narvaro_tests::app::TestApp;
use narvaro_tests::peer::TestPeer;
use signalling::ids::{ParticipantId, RoomId};
use signalling::protocol::{ConnectionQuality, ServerMessage};
use signalling::token::Role;

/// Safety net only: quality comes every two seconds and metrics refresh every second.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Polls `/metrics` until `done` holds for its text; returns that text.
async fn metrics_until(api: &mut ApiClient, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let (status, text) = api.get_text("/metrics").await.unwrap();
        assert_eq!(status, 200);
        if done(&text) {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} never happened; /metrics:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn publishing(app: &TestApp, room: &RoomId, role: Role, label: &str) -> TestPeer {
    let token = app.join_token(room, role);
    let peer = TestPeer::join(app.http_addr(), room, &token, label)
        .await
        .unwrap();
    peer.start_publishing().await.unwrap();
    peer
}

/// The label set of one participant's gauges.
fn labels(room: &RoomId, participant: &ParticipantId) -> String {
    format!(r#"room_id="{room}",participant_id="{participant}""#)
}

#[tokio::test(flavor = "multi_thread")]
async fn per_participant_quality_is_in_metrics_until_the_participant_leaves() {
    let app = TestApp::start().await;
    let room = RoomId::from("bk-quality-metrics");
    let officer = publishing(&app, &room, Role::Officer, "officer").await;
    let citizen = publishing(&app, &room, Role::Citizen, "citizen").await;
    let officer_id = officer.participant_id().clone();
    let citizen_id = citizen.participant_id().clone();

    // The client is told its own quality; on loopback it is good. (Loss of what the client sends
    // is known from the SFU's first receiver report on it, a few seconds in.)
    let (level, loss_up) = officer
        .wait_for_event(TIMEOUT, |m| match m {
            ServerMessage::Quality {
                level,
                loss_up: Some(loss_up),
                rtt_ms: Some(_),
                bitrate_up_kbps: 1..,
                bitrate_down_kbps: 1..,
                ..
            } => Some((*level, *loss_up)),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(level, ConnectionQuality::Good);
    assert!(loss_up < 0.02, "{loss_up}");

    let mut api = app.api();
    let officer_labels = labels(&room, &officer_id);
    let citizen_labels = labels(&room, &citizen_id);
    let bitrate = |l: &str| {
        format!(r#"narvaro_sfu_participant_bitrate_bits_per_second{{{l},direction="up"}}"#)
    };
    let officers_layer_of_citizen = format!(
        r#"narvaro_sfu_participant_video_layer{{{officer_labels},publisher_id="{citizen_id}"}} 0"#
    );
    let gauge_of = |text: &str, gauge: &str, labels: &str| {
        text.lines()
            .any(|l| l.starts_with(gauge) && l.contains(labels))
    };
    metrics_until(&mut api, "both participants' gauges", |text| {
        text.contains(&bitrate(&officer_labels))
            && text.contains(&bitrate(&citizen_labels))
            && text.contains(&officers_layer_of_citizen)
            && [
                "narvaro_sfu_participant_rtt_seconds{",
                "narvaro_sfu_participant_loss_ratio{",
                "narvaro_sfu_participant_quality_level{",
            ]
            .iter()
            .all(|gauge| gauge_of(text, gauge, &citizen_labels))
    })
    .await;

    citizen.leave().await.unwrap();
    let text = metrics_until(&mut api, "the citizen's gauges going", |text| {
        !text.contains(citizen_id.as_str())
    })
    .await;
    assert!(
        text.contains(&bitrate(&officer_labels)),
        "the officer is still there:\n{text}"
    );
}
