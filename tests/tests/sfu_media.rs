//! Media through the SFU, end to end: real WebRTC peers join over signalling and exchange
//! synthetic Opus and VP8.

use std::time::Duration;

use narvaro_tests::api::Meeting;
use narvaro_tests::app::TestApp;
use narvaro_tests::media::Kind;
use narvaro_tests::peer::TestPeer;
use narvaro_tests::rtc_peer::PeerOptions;
use signalling::ids::RoomId;
use signalling::token::Role;

/// Safety net only: on loopback the packets counted below take about two seconds.
const MEDIA_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread")]
async fn two_webrtc_peers_exchange_audio_and_video_through_the_sfu() {
    let app = TestApp::start().await;
    let mut meeting = Meeting::book_and_start(app.http_addr()).await.unwrap();
    let officer_grant = meeting.officer_token().await.unwrap();
    let citizen_grant = meeting.citizen_token().await.unwrap();
    assert_eq!(officer_grant.room_id, meeting.room_id);
    assert_eq!(citizen_grant.room_id, meeting.room_id);

    let officer = TestPeer::join(
        app.http_addr(),
        &meeting.room_id,
        &officer_grant.token,
        "officer",
    )
    .await
    .unwrap();
    let citizen = TestPeer::join(
        app.http_addr(),
        &meeting.room_id,
        &citizen_grant.token,
        "citizen",
    )
    .await
    .unwrap();
    assert_eq!(officer.joined().role, Role::Officer);
    assert_eq!(citizen.joined().role, Role::Citizen);
    officer.start_publishing().await.unwrap();
    citizen.start_publishing().await.unwrap();

    for (me, publisher) in [(&officer, &citizen), (&citizen, &officer)] {
        let (audio, video) = me
            .wait_for_media_from(publisher.participant_id(), 100, 100, MEDIA_TIMEOUT)
            .await
            .unwrap();
        me.assert_forwarded_cleanly(&audio).await;
        me.assert_forwarded_cleanly(&video).await;
        assert!(
            video.keyframes() >= 1,
            "{}: no VP8 key frame arrived intact",
            me.label()
        );
        assert!(
            me.failures().is_empty(),
            "{}: {:?}",
            me.label(),
            me.failures()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn three_peers_share_the_one_configured_udp_port() {
    let app = TestApp::start().await;
    let room = RoomId::from("bk-three-peers");
    let mut peers = Vec::new();
    for (label, role) in [
        ("citizen", Role::Citizen),
        ("officer", Role::Officer),
        ("interpreter", Role::Interpreter),
    ] {
        let token = app.join_token(&room, role);
        peers.push(
            TestPeer::join(app.http_addr(), &room, &token, label)
                .await
                .unwrap(),
        );
    }

    let sfu = app.udp_addr();
    let mut local_ports = Vec::new();
    for peer in &peers {
        let (local, remote) = peer.media().selected_candidate_pair().await.unwrap();
        assert_eq!(
            remote.port(),
            sfu.port(),
            "{} talks to {remote}, the SFU listens on {sfu}",
            peer.label()
        );
        assert!(remote.ip().is_loopback(), "{}: {remote}", peer.label());
        local_ports.push(local.port());
    }
    local_ports.sort_unstable();
    local_ports.dedup();
    assert_eq!(
        local_ports.len(),
        3,
        "three distinct peers: {local_ports:?}"
    );

    // And the one port carries everyone's media to everyone.
    for peer in &peers {
        peer.start_publishing().await.unwrap();
    }
    for me in &peers {
        for publisher in peers
            .iter()
            .filter(|p| p.participant_id() != me.participant_id())
        {
            let (audio, video) = me
                .wait_for_media_from(publisher.participant_id(), 50, 50, MEDIA_TIMEOUT)
                .await
                .unwrap();
            me.assert_forwarded_cleanly(&audio).await;
            me.assert_forwarded_cleanly(&video).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarded_media_carries_each_receivers_payload_types_when_publishers_number_codecs_differently()
 {
    let app = TestApp::start().await;
    let room = RoomId::from("bk-payload-types");
    // Browsers differ in how they number codecs; these are legal but not the usual 111 and 96.
    let unusual = PeerOptions {
        opus_payload_type: 109,
        vp8_payload_type: 120,
    };
    let usual = TestPeer::join(
        app.http_addr(),
        &room,
        &app.join_token(&room, Role::Officer),
        "usual",
    )
    .await
    .unwrap();
    let odd = TestPeer::join_with(
        app.http_addr(),
        &room,
        &app.join_token(&room, Role::Citizen),
        "unusual",
        unusual,
    )
    .await
    .unwrap();
    usual.start_publishing().await.unwrap();
    odd.start_publishing().await.unwrap();
    let sent: Vec<(Kind, u8)> = odd
        .media()
        .sent()
        .iter()
        .map(|t| (t.kind, t.payload_type))
        .collect();
    assert_eq!(
        sent,
        vec![(Kind::Audio, 109), (Kind::Video, 120)],
        "the SFU accepted the unusual numbering"
    );

    for (me, publisher) in [(&usual, &odd), (&odd, &usual)] {
        let (audio, video) = me
            .wait_for_media_from(publisher.participant_id(), 100, 100, MEDIA_TIMEOUT)
            .await
            .unwrap();
        me.assert_forwarded_cleanly(&audio).await;
        me.assert_forwarded_cleanly(&video).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscribers_keyframe_request_reaches_the_publisher() {
    let app = TestApp::start().await;
    let room = RoomId::from("bk-keyframes");
    let publisher = TestPeer::join(
        app.http_addr(),
        &room,
        &app.join_token(&room, Role::Officer),
        "publisher",
    )
    .await
    .unwrap();
    publisher.start_publishing().await.unwrap();
    let subscriber = TestPeer::join(
        app.http_addr(),
        &room,
        &app.join_token(&room, Role::Citizen),
        "subscriber",
    )
    .await
    .unwrap();
    // The subscriber sends a PLI when the forwarded video starts (as a decoder would); the SFU
    // passes it, or its own FIR for a new subscriber, to the publisher.
    let (_, video) = subscriber
        .wait_for_media_from(publisher.participant_id(), 1, 30, MEDIA_TIMEOUT)
        .await
        .unwrap();
    publisher
        .media()
        .wait_for_keyframe_requests(1, MEDIA_TIMEOUT)
        .await
        .unwrap();
    subscriber.assert_forwarded_cleanly(&video).await;
}
