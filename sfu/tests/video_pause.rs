//! Audio is never starved: on a link too poor for even the lowest video layer, the subscriber's
//! video pauses (and it is told why), audio goes on, and video resumes when the link recovers.

mod common;

use std::time::Duration;

use common::{Meeting, THREE_LAYERS};
use str0m::media::MediaKind;

fn audio_packets(m: &Meeting, idx: usize) -> usize {
    m.clients[idx]
        .packets_of(MediaKind::Audio)
        .iter()
        .map(|s| s.len())
        .sum()
}

fn video_packets(m: &Meeting, idx: usize) -> usize {
    m.clients[idx].video_log.values().map(Vec::len).sum()
}

#[test]
fn video_pauses_on_a_link_too_poor_for_it_and_audio_keeps_flowing() {
    pause_and_resume_after(Duration::from_secs(5));
}

/// With ten seconds at the top layer first, the link's transport-wide feedback showed no loss at
/// all once capped; the receiver's reports did (90 %), and are what the SFU goes by then.
#[test]
fn video_pauses_after_a_long_time_on_the_top_layer_too() {
    pause_and_resume_after(Duration::from_secs(10));
}

fn pause_and_resume_after(warm_up: Duration) {
    let mut m = Meeting::new();
    let booth = m.join("booth");
    let officer = m.join_with_layers("officer", &THREE_LAYERS);
    m.run(warm_up);
    assert!(video_packets(&m, booth) > 100);

    // 120 kbit/s: Opus (~50 kbit/s with headers) and the congestion controller's keep-alive
    // padding (up to 50 kbit/s) fit; the lowest video layer (~90) on top does not.
    m.set_downlink_rate(booth, Some(120_000));
    m.run(Duration::from_secs(8));
    let officer_id = m.clients[officer].participant.clone();
    assert_eq!(
        m.clients[booth].video_paused.last(),
        Some(&(officer_id.clone(), true)),
        "the booth is told the officer's video is paused: {:?}",
        m.clients[booth].video_paused
    );
    let (audio_before, video_before) = (audio_packets(&m, booth), video_packets(&m, booth));
    let dropped_before = m.dropped;
    m.run(Duration::from_secs(10));
    let audio = audio_packets(&m, booth) - audio_before;
    let video = video_packets(&m, booth) - video_before;
    println!(
        "paused for 10 s: {audio} audio packets (500 sent), {video} video packets, {} datagrams dropped by the link",
        m.dropped - dropped_before
    );
    assert!(
        audio >= 495,
        "audio keeps at least 99 % of its packets: {audio} of 500"
    );
    assert!(
        video < 50,
        "video stays paused but for probing: {video} packets"
    );

    m.set_downlink_rate(booth, None);
    let lifted = m.now;
    m.run(Duration::from_secs(15));
    assert_eq!(
        m.clients[booth].video_paused.last(),
        Some(&(officer_id, false)),
        "the booth is told the video resumed"
    );
    println!(
        "resumed within {:?} of the cap being lifted",
        m.now - lifted
    );
    let resumed = video_packets(&m, booth);
    m.run(Duration::from_secs(1));
    assert!(video_packets(&m, booth) - resumed > 25, "video flows again");
}
