//! Retransmission: video lost on either side of the SFU is repaired with NACK and RTX; audio is
//! not retransmitted (a late audio packet is worse than a lost one).

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{Link, Meeting};
use str0m::media::MediaKind;

/// How many of the stream's sequence numbers, from its first to its last, never arrived.
fn missing(packets: &[(u16, u8)]) -> usize {
    // Unwrap the 16-bit numbers relative to the first; a 5 s run stays far from a wrap's ambiguity.
    let first = packets[0].0;
    let seen: BTreeSet<u16> = packets.iter().map(|(s, _)| s.wrapping_sub(first)).collect();
    let last = *seen.iter().next_back().unwrap();
    usize::from(last) + 1 - seen.len()
}

fn run_with_loss(link: Link) -> Meeting {
    let mut m = Meeting::new();
    let booth = m.join("booth");
    m.join("officer");
    m.run(Duration::from_secs(1));
    m.set_loss(booth, link, 0.10);
    m.run(Duration::from_secs(5));
    // The loss stops; the last retransmissions arrive.
    m.set_loss(booth, link, 0.0);
    m.run(Duration::from_millis(500));
    assert!(
        m.dropped > 20,
        "the emulated network dropped {} datagrams",
        m.dropped
    );
    m
}

#[test]
fn video_lost_between_the_booth_and_the_sfu_is_retransmitted_to_the_officer() {
    let m = run_with_loss(Link::Up);
    let officer = &m.clients[1];
    let video = officer.packets_of(MediaKind::Video);
    assert_eq!(
        missing(video[0]),
        0,
        "every video packet reached the officer in the end"
    );
    // Audio has no retransmission: what the booth's uplink lost stays lost.
    let audio = officer.packets_of(MediaKind::Audio);
    assert!(missing(audio[0]) > 0, "audio loss is not repaired");
}

#[test]
fn video_lost_between_the_sfu_and_the_booth_is_retransmitted_by_the_sfu() {
    let m = run_with_loss(Link::Down);
    let booth = &m.clients[0];
    let video = booth.packets_of(MediaKind::Video);
    assert_eq!(
        missing(video[0]),
        0,
        "the SFU resent what the booth's downlink lost"
    );
    let audio = booth.packets_of(MediaKind::Audio);
    assert!(missing(audio[0]) > 0, "audio loss is not repaired");
}
