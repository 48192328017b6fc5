//! Synthetic media to publish and a record of media received. Pure: no sockets, no clock.
//!
//! The sources make RTP that an SFU has no reason to refuse: an Opus packet every 20 ms, and VP8
//! frames of a few packets each with a real payload descriptor and key frames that say so. Each
//! source numbers its own packets, starting close to the 16-bit (and 32-bit timestamp) wrap so
//! that every run also checks that wraps survive forwarding.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::OnceLock;
use std::time::Instant;

use bytes::{BufMut, BytesMut};
use rtc::rtp::{Header, Packet};

/// Opus clock rate (RFC 7587: always 48 kHz on the wire).
pub const OPUS_CLOCK_RATE: u32 = 48_000;
/// One Opus packet per 20 ms: 50 packets a second.
pub const OPUS_FRAME_MS: u64 = 20;
/// RTP timestamp step of one 20 ms Opus packet.
pub const OPUS_TIMESTAMP_STEP: u32 = OPUS_CLOCK_RATE / 1000 * OPUS_FRAME_MS as u32;
/// Video clock rate (RFC 7741).
pub const VIDEO_CLOCK_RATE: u32 = 90_000;
/// Frames a second of the synthetic video.
pub const VIDEO_FPS: u32 = 30;
/// RTP timestamp step of one video frame.
pub const VP8_TIMESTAMP_STEP: u32 = VIDEO_CLOCK_RATE / VIDEO_FPS;
/// Packets each VP8 frame is split into.
pub const VP8_PACKETS_PER_FRAME: usize = 3;
/// A key frame every this many frames (and always the first).
pub const VP8_KEYFRAME_INTERVAL: u32 = 30;

/// First sequence number of a source: 100 packets (two seconds of audio) before the wrap.
pub const FIRST_SEQUENCE_NUMBER: u16 = u16::MAX - 99;
/// First timestamp of a source: two seconds (of 48 kHz) before the 32-bit wrap.
pub const FIRST_TIMESTAMP: u32 = u32::MAX - 2 * OPUS_CLOCK_RATE + 1;

/// How a publisher's synthetic media is shaped. The default is what the interop tests send: small
/// three-packet VP8 frames, a key frame a second, no send stamps. The load generator
/// (`narvaro-bench`) asks for real bitrates and stamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaProfile {
    /// Packets each VP8 frame is split into.
    pub vp8_packets_per_frame: usize,
    /// Filler bytes in each VP8 packet after the descriptor (and frame header).
    pub vp8_filler_bytes: usize,
    /// A key frame every this many frames (and always the first).
    pub keyframe_interval_frames: u32,
    /// Whether every payload ends in a send stamp ([`send_stamp`]), for latency measurement.
    pub send_stamps: bool,
}

impl Default for MediaProfile {
    fn default() -> Self {
        Self {
            vp8_packets_per_frame: VP8_PACKETS_PER_FRAME,
            vp8_filler_bytes: 24,
            keyframe_interval_frames: VP8_KEYFRAME_INTERVAL,
            send_stamps: false,
        }
    }
}

/// Largest VP8 payload the load profile puts in one packet: below a 1200-byte path MTU once the
/// RTP header, SRTP tag and header extensions are added, as browsers packetise.
pub const MAX_VP8_PAYLOAD: usize = 1100;

impl MediaProfile {
    /// VP8 at `bits_per_second` (30 fps, split into packets of at most [`MAX_VP8_PAYLOAD`]
    /// bytes), a key frame every `keyframe_every` and send stamps on every packet.
    pub fn load(bits_per_second: u32, keyframe_every: std::time::Duration) -> Self {
        let frame_bytes = (bits_per_second / 8 / VIDEO_FPS).max(64) as usize;
        let packets = frame_bytes.div_ceil(MAX_VP8_PAYLOAD);
        // Descriptor (4) and stamp (12) are part of each packet's payload budget.
        let filler = (frame_bytes / packets).saturating_sub(4 + SEND_STAMP_LEN);
        let frames = (keyframe_every.as_secs_f64() * VIDEO_FPS as f64).round() as u32;
        Self {
            vp8_packets_per_frame: packets,
            vp8_filler_bytes: filler,
            keyframe_interval_frames: frames.max(1),
            send_stamps: true,
        }
    }

    /// VP8 packets a second this profile sends.
    pub fn video_packets_per_second(&self) -> u32 {
        self.vp8_packets_per_frame as u32 * VIDEO_FPS
    }
}

/// A send stamp: this marker and then microseconds on [`stamp_now_micros`]'s clock, big-endian,
/// as the last bytes of a payload. The SFU forwards payloads untouched, so a receiver in the same
/// process can tell how long a packet took.
pub const SEND_STAMP_MAGIC: [u8; 4] = *b"NVts";
/// Length of a send stamp.
pub const SEND_STAMP_LEN: usize = 12;

/// Microseconds since this process first asked: one monotonic clock for senders and receivers.
pub fn stamp_now_micros() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// The send stamp at the end of `payload`, if it has one.
pub fn send_stamp(payload: &[u8]) -> Option<u64> {
    let at = payload.len().checked_sub(SEND_STAMP_LEN)?;
    let (magic, micros) = payload[at..].split_at(4);
    if magic != SEND_STAMP_MAGIC {
        return None;
    }
    // `split_at(4)` of 12 bytes leaves exactly 8.
    Some(u64::from_be_bytes(micros.try_into().expect("8 bytes")))
}

fn put_send_stamp(buf: &mut BytesMut) {
    buf.put_slice(&SEND_STAMP_MAGIC);
    buf.put_u64(stamp_now_micros());
}

/// Opus "silence" frame as libwebrtc sends it in DTX: TOC 0xf8 (CELT FB 20 ms, mono, one frame)
/// and two payload bytes. A real decoder accepts it.
const OPUS_SILENCE: [u8; 3] = [0xf8, 0xff, 0xfe];

/// Makes one Opus packet per call, as a 20 ms encoder would.
#[derive(Debug, Clone)]
pub struct OpusSource {
    ssrc: u32,
    payload_type: u8,
    sequence_number: u16,
    timestamp: u32,
    send_stamps: bool,
}

impl OpusSource {
    pub fn new(ssrc: u32, payload_type: u8) -> Self {
        Self::with_profile(ssrc, payload_type, MediaProfile::default())
    }

    /// A source that stamps its payloads when `profile` says so.
    pub fn with_profile(ssrc: u32, payload_type: u8, profile: MediaProfile) -> Self {
        Self {
            ssrc,
            payload_type,
            sequence_number: FIRST_SEQUENCE_NUMBER,
            timestamp: FIRST_TIMESTAMP,
            send_stamps: profile.send_stamps,
        }
    }

    /// The next 20 ms packet. The marker bit is set on the first (start of a talk spurt).
    pub fn next_packet(&mut self) -> Packet {
        let marker =
            self.sequence_number == FIRST_SEQUENCE_NUMBER && self.timestamp == FIRST_TIMESTAMP;
        let mut payload = BytesMut::with_capacity(OPUS_SILENCE.len() + 2 + SEND_STAMP_LEN);
        payload.put_slice(&OPUS_SILENCE);
        // Extra bytes carry the sequence number so a forwarded payload can be traced back.
        payload.put_u16(self.sequence_number);
        if self.send_stamps {
            put_send_stamp(&mut payload);
        }
        let packet = Packet {
            header: header(
                self.ssrc,
                self.payload_type,
                self.sequence_number,
                self.timestamp,
                marker,
            ),
            payload: payload.freeze(),
        };
        self.sequence_number = self.sequence_number.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(OPUS_TIMESTAMP_STEP);
        packet
    }
}

/// Makes one VP8 frame (several RTP packets) per call, as a 30 fps encoder would.
#[derive(Debug, Clone)]
pub struct Vp8Source {
    ssrc: u32,
    payload_type: u8,
    sequence_number: u16,
    timestamp: u32,
    picture_id: u16,
    frames: u32,
    force_keyframe: bool,
    profile: MediaProfile,
}

impl Vp8Source {
    pub fn new(ssrc: u32, payload_type: u8) -> Self {
        Self::with_profile(ssrc, payload_type, MediaProfile::default())
    }

    /// A source whose frame size, key frame interval and stamps follow `profile`.
    pub fn with_profile(ssrc: u32, payload_type: u8, profile: MediaProfile) -> Self {
        Self {
            ssrc,
            payload_type,
            sequence_number: FIRST_SEQUENCE_NUMBER,
            timestamp: FIRST_TIMESTAMP,
            picture_id: 0x7f00,
            frames: 0,
            force_keyframe: false,
            profile,
        }
    }

    /// Makes the next frame a key frame (the answer to a PLI or FIR).
    pub fn request_keyframe(&mut self) {
        self.force_keyframe = true;
    }

    /// The packets of the next frame. All share one timestamp; the last carries the marker bit.
    pub fn next_frame(&mut self) -> Vec<Packet> {
        let profile = self.profile;
        let keyframe = self.force_keyframe
            || self
                .frames
                .is_multiple_of(profile.keyframe_interval_frames.max(1));
        self.force_keyframe = false;
        let count = profile.vp8_packets_per_frame.max(1);
        let mut packets = Vec::with_capacity(count);
        for index in 0..count {
            let first = index == 0;
            let last = index + 1 == count;
            let mut payload =
                BytesMut::with_capacity(16 + profile.vp8_filler_bytes + SEND_STAMP_LEN);
            // Payload descriptor (RFC 7741 §4.2): X=1, S on the first packet, partition 0;
            // I=1 with a 15-bit picture id (M=1).
            payload.put_u8(0x80 | if first { 0x10 } else { 0x00 });
            payload.put_u8(0x80);
            payload.put_u16(0x8000 | (self.picture_id & 0x7fff));
            if first {
                put_vp8_frame_header(&mut payload, keyframe);
            }
            payload.put_u16(self.sequence_number);
            payload.put_bytes(if keyframe { 0xaa } else { 0x55 }, profile.vp8_filler_bytes);
            if profile.send_stamps {
                put_send_stamp(&mut payload);
            }
            packets.push(Packet {
                header: header(
                    self.ssrc,
                    self.payload_type,
                    self.sequence_number,
                    self.timestamp,
                    last,
                ),
                payload: payload.freeze(),
            });
            self.sequence_number = self.sequence_number.wrapping_add(1);
        }
        self.timestamp = self.timestamp.wrapping_add(VP8_TIMESTAMP_STEP);
        self.picture_id = (self.picture_id + 1) & 0x7fff;
        self.frames += 1;
        packets
    }
}

/// The VP8 frame header (RFC 6386 §9.1) at the start of partition 0: a 3-byte tag, and for a
/// key frame the start code and a 320x240 size.
fn put_vp8_frame_header(buf: &mut BytesMut, keyframe: bool) {
    // Tag: P (bit 0) is 0 for a key frame; version 0; show_frame 1; first partition size 0x40.
    let size: u32 = 0x40;
    let tag: u32 = (if keyframe { 0 } else { 1 }) | (1 << 4) | (size << 5);
    buf.put_u8(tag as u8);
    buf.put_u8((tag >> 8) as u8);
    buf.put_u8((tag >> 16) as u8);
    if keyframe {
        buf.put_slice(&[0x9d, 0x01, 0x2a]);
        buf.put_u16_le(320);
        buf.put_u16_le(240);
    }
}

/// Whether a VP8 RTP payload starts a key frame: S=1, partition 0, and P=0 in the frame tag.
pub fn vp8_is_keyframe(payload: &[u8]) -> bool {
    let Some(&first) = payload.first() else {
        return false;
    };
    if first & 0x10 == 0 || first & 0x0f != 0 {
        return false;
    }
    let mut at = 1;
    if first & 0x80 != 0 {
        let Some(&ext) = payload.get(1) else {
            return false;
        };
        at = 2;
        if ext & 0x80 != 0 {
            at += if payload.get(at).is_some_and(|b| b & 0x80 != 0) {
                2
            } else {
                1
            };
        }
        if ext & 0x40 != 0 {
            at += 1;
        }
        if ext & 0x30 != 0 {
            at += 1;
        }
    }
    payload.get(at).is_some_and(|tag| tag & 0x01 == 0)
}

fn header(
    ssrc: u32,
    payload_type: u8,
    sequence_number: u16,
    timestamp: u32,
    marker: bool,
) -> Header {
    Header {
        version: 2,
        marker,
        payload_type,
        sequence_number,
        timestamp,
        ssrc,
        ..Default::default()
    }
}

/// Audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Audio,
    Video,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Audio => "audio",
            Kind::Video => "video",
        })
    }
}

/// What the receiver saw of one RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceivedPacket {
    pub sequence_number: u16,
    pub ssrc: u32,
    pub payload_type: u8,
    pub timestamp: u32,
    pub marker: bool,
    pub keyframe: bool,
}

impl ReceivedPacket {
    pub fn from_rtp(packet: &Packet, kind: Kind) -> Self {
        Self {
            sequence_number: packet.header.sequence_number,
            ssrc: packet.header.ssrc,
            payload_type: packet.header.payload_type,
            timestamp: packet.header.timestamp,
            marker: packet.header.marker,
            keyframe: kind == Kind::Video && vp8_is_keyframe(&packet.payload),
        }
    }
}

/// Every packet received on one remote track, in arrival order.
#[derive(Debug, Clone)]
pub struct TrackLog {
    /// The msid stream id: for a track forwarded by the SFU, the publisher's participant id.
    pub stream_id: String,
    pub track_id: String,
    pub kind: Kind,
    pub packets: Vec<ReceivedPacket>,
}

/// Sequence numbers missing from a stream: `first..=last` (extended, see [`extend_sequence_numbers`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub ssrc: u32,
    pub first: u64,
    pub last: u64,
}

impl Gap {
    /// How many packets are missing.
    pub fn missing(&self) -> u64 {
        self.last - self.first + 1
    }
}

impl TrackLog {
    pub fn new(stream_id: impl Into<String>, track_id: impl Into<String>, kind: Kind) -> Self {
        Self {
            stream_id: stream_id.into(),
            track_id: track_id.into(),
            kind,
            packets: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.packets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    pub fn ssrcs(&self) -> BTreeSet<u32> {
        self.packets.iter().map(|p| p.ssrc).collect()
    }

    pub fn payload_types(&self) -> BTreeSet<u8> {
        self.packets.iter().map(|p| p.payload_type).collect()
    }

    pub fn keyframes(&self) -> usize {
        self.packets.iter().filter(|p| p.keyframe).count()
    }

    /// Sequence numbers missing between the first and the last packet received, per SSRC.
    /// Reordering and duplicates (retransmissions) are not gaps; 16-bit wraps are followed.
    pub fn gaps(&self) -> Vec<Gap> {
        let mut by_ssrc: BTreeMap<u32, Vec<u16>> = BTreeMap::new();
        for p in &self.packets {
            by_ssrc.entry(p.ssrc).or_default().push(p.sequence_number);
        }
        by_ssrc
            .into_iter()
            .flat_map(|(ssrc, seqs)| sequence_gaps(ssrc, &seqs))
            .collect()
    }
}

impl TrackLog {
    /// Places where RTP timing disagrees with what the synthetic sources send: between packets
    /// with consecutive sequence numbers, Opus advances 960 ticks; VP8 keeps the timestamp
    /// within a frame and advances one frame (3000 ticks) right after a marker bit. An SFU that
    /// rewrites timestamps or drops marker bits shows up here.
    pub fn timing_errors(&self) -> Vec<String> {
        let mut errors = Vec::new();
        let mut by_ssrc: BTreeMap<u32, Vec<&ReceivedPacket>> = BTreeMap::new();
        for p in &self.packets {
            by_ssrc.entry(p.ssrc).or_default().push(p);
        }
        for packets in by_ssrc.values() {
            let seqs: Vec<u16> = packets.iter().map(|p| p.sequence_number).collect();
            let mut ordered: BTreeMap<u64, &ReceivedPacket> = BTreeMap::new();
            for (ext, p) in extend_sequence_numbers(&seqs)
                .into_iter()
                .zip(packets.iter())
            {
                ordered.entry(ext).or_insert(p);
            }
            let ordered: Vec<(u64, &ReceivedPacket)> = ordered.into_iter().collect();
            for pair in ordered.windows(2) {
                let ((a_seq, a), (b_seq, b)) = (pair[0], pair[1]);
                if b_seq != a_seq + 1 {
                    continue;
                }
                let delta = b.timestamp.wrapping_sub(a.timestamp);
                let expected = match self.kind {
                    Kind::Audio => OPUS_TIMESTAMP_STEP,
                    Kind::Video if a.marker => VP8_TIMESTAMP_STEP,
                    Kind::Video => 0,
                };
                if delta != expected {
                    errors.push(format!(
                        "ssrc {} seq {} -> {}: timestamp {} -> {} (step {delta}, expected {expected}, marker {})",
                        a.ssrc, a.sequence_number, b.sequence_number, a.timestamp, b.timestamp, a.marker
                    ));
                }
            }
        }
        errors
    }
}

/// Unwraps 16-bit sequence numbers in arrival order into a monotonic 64-bit space: each one is
/// placed at the extended value nearest the previous one. The first lands at `2^16 + seq`, so a
/// reordered packet from before it stays positive.
pub fn extend_sequence_numbers(seqs: &[u16]) -> Vec<u64> {
    let mut out = Vec::with_capacity(seqs.len());
    let mut last: Option<i64> = None;
    for &seq in seqs {
        let ext = match last {
            None => (1 << 16) + seq as i64,
            Some(prev) => prev + (seq.wrapping_sub(prev as u16) as i16) as i64,
        };
        out.push(ext as u64);
        // Follow the newest packet, not a late one, so one old retransmission cannot pull the
        // window back.
        last = Some(last.map_or(ext, |prev| prev.max(ext)));
    }
    out
}

fn sequence_gaps(ssrc: u32, seqs: &[u16]) -> Vec<Gap> {
    let seen: BTreeSet<u64> = extend_sequence_numbers(seqs).into_iter().collect();
    let mut gaps = Vec::new();
    let mut prev: Option<u64> = None;
    for &ext in &seen {
        if let Some(p) = prev
            && ext > p + 1
        {
            gaps.push(Gap {
                ssrc,
                first: p + 1,
                last: ext - 1,
            });
        }
        prev = Some(ext);
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_of(seqs: &[u16]) -> TrackLog {
        let mut log = TrackLog::new("s", "t", Kind::Audio);
        for &sequence_number in seqs {
            log.packets.push(ReceivedPacket {
                sequence_number,
                ssrc: 7,
                payload_type: 111,
                timestamp: 0,
                marker: false,
                keyframe: false,
            });
        }
        log
    }

    #[test]
    fn consecutive_sequence_numbers_across_the_wrap_have_no_gaps() {
        assert_eq!(log_of(&[65533, 65534, 65535, 0, 1, 2]).gaps(), vec![]);
    }

    #[test]
    fn a_missing_packet_at_the_wrap_is_one_gap() {
        let gaps = log_of(&[65534, 65535, 1, 2]).gaps();
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert_eq!(gaps[0].missing(), 1);
        assert_eq!(gaps[0].first as u16, 0);
    }

    #[test]
    fn reordering_and_duplicates_are_not_gaps() {
        assert_eq!(log_of(&[10, 12, 11, 11, 13, 12]).gaps(), vec![]);
        assert_eq!(log_of(&[65535, 1, 0, 2]).gaps(), vec![]);
    }

    #[test]
    fn a_run_of_lost_packets_is_one_gap_of_that_length() {
        let gaps = log_of(&[100, 101, 105, 106]).gaps();
        assert_eq!(
            gaps,
            vec![Gap {
                ssrc: 7,
                first: (1 << 16) + 102,
                last: (1 << 16) + 104
            }]
        );
    }

    #[test]
    fn several_wraps_extend_monotonically() {
        let seqs: Vec<u16> = (0..200_000u32).map(|i| (i % 65536) as u16).collect();
        let ext = extend_sequence_numbers(&seqs);
        assert!(ext.windows(2).all(|w| w[1] == w[0] + 1));
        assert_eq!(log_of(&seqs).gaps(), vec![]);
    }

    #[test]
    fn gaps_are_counted_per_ssrc() {
        let mut log = log_of(&[1, 2, 3]);
        log.packets.push(ReceivedPacket {
            ssrc: 8,
            ..log.packets[0]
        });
        log.packets.push(ReceivedPacket {
            ssrc: 8,
            sequence_number: 3,
            ..log.packets[0]
        });
        let gaps = log.gaps();
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].ssrc, 8);
    }

    fn log_from(kind: Kind, packets: Vec<Packet>) -> TrackLog {
        let mut log = TrackLog::new("s", "t", kind);
        log.packets = packets
            .iter()
            .map(|p| ReceivedPacket::from_rtp(p, kind))
            .collect();
        log
    }

    #[test]
    fn synthetic_media_has_no_timing_errors_even_reordered() {
        let mut opus = OpusSource::new(1, 111);
        let mut audio: Vec<Packet> = (0..150).map(|_| opus.next_packet()).collect();
        audio.swap(10, 11);
        assert_eq!(
            log_from(Kind::Audio, audio).timing_errors(),
            Vec::<String>::new()
        );
        let mut vp8 = Vp8Source::new(2, 96);
        let video: Vec<Packet> = (0..40).flat_map(|_| vp8.next_frame()).collect();
        assert_eq!(
            log_from(Kind::Video, video).timing_errors(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_shifted_timestamp_or_a_lost_marker_is_a_timing_error() {
        let mut opus = OpusSource::new(1, 111);
        let mut audio: Vec<Packet> = (0..10).map(|_| opus.next_packet()).collect();
        audio[5].header.timestamp += 1;
        assert_eq!(log_from(Kind::Audio, audio).timing_errors().len(), 2);
        let mut vp8 = Vp8Source::new(2, 96);
        let mut video: Vec<Packet> = (0..3).flat_map(|_| vp8.next_frame()).collect();
        video[VP8_PACKETS_PER_FRAME - 1].header.marker = false;
        assert_eq!(log_from(Kind::Video, video).timing_errors().len(), 1);
    }

    #[test]
    fn opus_source_steps_20_ms_and_wraps() {
        let mut src = OpusSource::new(1, 111);
        let packets: Vec<Packet> = (0..150).map(|_| src.next_packet()).collect();
        assert!(packets[0].header.marker);
        assert!(!packets[1].header.marker);
        for w in packets.windows(2) {
            assert_eq!(
                w[1].header.sequence_number,
                w[0].header.sequence_number.wrapping_add(1)
            );
            assert_eq!(
                w[1].header.timestamp,
                w[0].header.timestamp.wrapping_add(960)
            );
        }
        assert!(
            packets.iter().any(|p| p.header.sequence_number == 0),
            "wraps within 150 packets"
        );
        assert!(
            packets
                .iter()
                .all(|p| p.header.payload_type == 111 && p.payload[0] == 0xf8)
        );
    }

    #[test]
    fn vp8_frames_share_a_timestamp_and_mark_their_last_packet() {
        let mut src = Vp8Source::new(2, 96);
        let first = src.next_frame();
        let second = src.next_frame();
        assert_eq!(first.len(), VP8_PACKETS_PER_FRAME);
        assert!(
            first
                .iter()
                .all(|p| p.header.timestamp == first[0].header.timestamp)
        );
        assert_eq!(first.iter().filter(|p| p.header.marker).count(), 1);
        assert!(first.last().unwrap().header.marker);
        assert_eq!(
            second[0].header.timestamp,
            first[0].header.timestamp.wrapping_add(3000)
        );
        assert_eq!(
            second[0].header.sequence_number,
            first.last().unwrap().header.sequence_number.wrapping_add(1)
        );
    }

    #[test]
    fn load_profile_sends_the_bitrate_asked_for_with_stamps_on_every_packet() {
        let profile = MediaProfile::load(1_500_000, std::time::Duration::from_secs(3));
        assert_eq!(profile.keyframe_interval_frames, 90);
        let mut src = Vp8Source::with_profile(2, 96, profile);
        let frames: Vec<Vec<Packet>> = (0..VIDEO_FPS).map(|_| src.next_frame()).collect();
        let bytes: usize = frames.iter().flatten().map(|p| p.payload.len()).sum();
        let bits = bytes * 8;
        assert!(
            (1_400_000..=1_600_000).contains(&bits),
            "{bits} bits in one second of frames"
        );
        assert!(
            frames
                .iter()
                .flatten()
                .all(|p| p.payload.len() <= MAX_VP8_PAYLOAD + 16)
        );
        assert!(
            frames
                .iter()
                .flatten()
                .all(|p| send_stamp(&p.payload).is_some())
        );
        assert!(vp8_is_keyframe(&frames[0][0].payload));
        let mut opus = OpusSource::with_profile(1, 111, profile);
        let stamp = send_stamp(&opus.next_packet().payload).expect("stamped");
        assert!(stamp <= stamp_now_micros());
        assert_eq!(
            send_stamp(&OpusSource::new(1, 111).next_packet().payload),
            None
        );
    }

    #[test]
    fn vp8_key_frames_are_marked_in_the_payload() {
        let mut src = Vp8Source::new(2, 96);
        let frames: Vec<Vec<Packet>> = (0..VP8_KEYFRAME_INTERVAL + 1)
            .map(|_| src.next_frame())
            .collect();
        assert!(vp8_is_keyframe(&frames[0][0].payload));
        assert!(
            !vp8_is_keyframe(&frames[0][1].payload),
            "only the first packet starts the frame"
        );
        assert!(!vp8_is_keyframe(&frames[1][0].payload));
        assert!(vp8_is_keyframe(
            &frames[VP8_KEYFRAME_INTERVAL as usize][0].payload
        ));
        src.request_keyframe();
        assert!(vp8_is_keyframe(&src.next_frame()[0].payload));
        assert!(!vp8_is_keyframe(&src.next_frame()[0].payload));
    }
}
