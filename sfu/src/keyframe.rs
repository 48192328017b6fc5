//! Does an RTP payload begin a keyframe? The SFU never decodes video, but it must know where a
//! subscriber can start: a decoder given the middle of a frame, or a delta frame, shows nothing
//! (or garbage) until the next keyframe anyway, so forwarding starts at one.

use str0m::format::Codec;

use crate::vp8::Vp8Descriptor;

/// True when this packet is the first packet of a keyframe. Unknown codecs answer true: better
/// to forward than to hold a stream the SFU cannot inspect.
pub fn starts_keyframe(codec: Codec, payload: &[u8]) -> bool {
    match codec {
        Codec::Vp8 => vp8_starts_keyframe(payload),
        Codec::H264 => h264_starts_keyframe(payload),
        Codec::Vp9 => vp9_starts_keyframe(payload),
        Codec::Av1 => av1_starts_keyframe(payload),
        _ => true,
    }
}

/// RFC 9628: the first byte of the VP9 payload descriptor is I P L F B E V Z. A keyframe's first
/// packet begins a frame (B) that is not inter-picture predicted (P clear); with spatial layers
/// (L), it is the base layer's (spatial id 0) that starts it.
fn vp9_starts_keyframe(payload: &[u8]) -> bool {
    let Some(&first) = payload.first() else {
        return false;
    };
    let picture_id = first & 0x80 != 0;
    let inter_predicted = first & 0x40 != 0;
    let layer_indices = first & 0x20 != 0;
    let begins_frame = first & 0x08 != 0;
    if inter_predicted || !begins_frame {
        return false;
    }
    if !layer_indices {
        return true;
    }
    let mut at = 1;
    if picture_id {
        let Some(&pid) = payload.get(at) else {
            return false;
        };
        at += if pid & 0x80 != 0 { 2 } else { 1 };
    }
    // Layer indices: TID (3 bits), U, SID (3 bits), D.
    payload.get(at).is_some_and(|l| (l >> 1) & 0x07 == 0)
}

/// The AV1 RTP payload format's aggregation header is Z Y W W N - - -; N marks the first packet
/// of a coded video sequence, which begins with a keyframe.
fn av1_starts_keyframe(payload: &[u8]) -> bool {
    payload.first().is_some_and(|h| h & 0x08 != 0)
}

/// RFC 7741: the payload descriptor, then (at the start of partition 0) the VP8 payload header,
/// whose lowest bit P is 0 for a keyframe.
fn vp8_starts_keyframe(payload: &[u8]) -> bool {
    Vp8Descriptor::parse(payload).is_some_and(|d| d.starts_keyframe(payload))
}

const H264_IDR: u8 = 5;
const H264_SPS: u8 = 7;
const H264_STAP_A: u8 = 24;
const H264_FU_A: u8 = 28;

/// RFC 6184: a single NAL unit, an aggregate (STAP-A) or the first fragment (FU-A) carrying an
/// IDR slice or a sequence parameter set (which browsers send right before the IDR).
fn h264_starts_keyframe(payload: &[u8]) -> bool {
    let Some(&header) = payload.first() else {
        return false;
    };
    match header & 0x1f {
        H264_IDR | H264_SPS => true,
        H264_STAP_A => {
            let mut at = 1;
            while let (Some(&hi), Some(&lo)) = (payload.get(at), payload.get(at + 1)) {
                let size = usize::from(u16::from_be_bytes([hi, lo]));
                if let Some(&nal) = payload.get(at + 2)
                    && matches!(nal & 0x1f, H264_IDR | H264_SPS)
                {
                    return true;
                }
                at += 2 + size;
            }
            false
        }
        H264_FU_A => payload
            .get(1)
            .is_some_and(|fu| fu & 0x80 != 0 && matches!(fu & 0x1f, H264_IDR | H264_SPS)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vp8_keyframe_start_is_found_with_and_without_extensions() {
        assert!(starts_keyframe(Codec::Vp8, &[0x10, 0x00, 0x9d]));
        assert!(
            !starts_keyframe(Codec::Vp8, &[0x10, 0x01, 0x9d]),
            "P bit set: a delta frame"
        );
        assert!(
            !starts_keyframe(Codec::Vp8, &[0x00, 0x00]),
            "not the start of a partition"
        );
        assert!(!starts_keyframe(Codec::Vp8, &[0x11, 0x00]), "partition 1");
        // X, I with a 15-bit picture id, L, T: four extension bytes before the payload header.
        assert!(starts_keyframe(
            Codec::Vp8,
            &[0x90, 0xe0, 0x81, 0x23, 0x07, 0x40, 0x00]
        ));
        assert!(!starts_keyframe(
            Codec::Vp8,
            &[0x90, 0xe0, 0x81, 0x23, 0x07, 0x40, 0x01]
        ));
        // 7-bit picture id only.
        assert!(starts_keyframe(Codec::Vp8, &[0x90, 0x80, 0x05, 0x00]));
    }

    #[test]
    fn truncated_payloads_are_not_keyframes_and_do_not_panic() {
        for len in 0..4 {
            let p = [0x90, 0xe0, 0x81, 0x23][..len].to_vec();
            assert!(!starts_keyframe(Codec::Vp8, &p));
        }
        assert!(!starts_keyframe(Codec::H264, &[]));
        assert!(!starts_keyframe(Codec::H264, &[28]));
        assert!(!starts_keyframe(Codec::H264, &[24, 0xff, 0xff]));
    }

    #[test]
    fn h264_idr_sps_aggregates_and_first_fragments_start_keyframes() {
        assert!(starts_keyframe(Codec::H264, &[0x65, 0x88]), "IDR slice");
        assert!(starts_keyframe(Codec::H264, &[0x67, 0x42]), "SPS");
        assert!(
            !starts_keyframe(Codec::H264, &[0x41, 0x9a]),
            "non-IDR slice"
        );
        // STAP-A: an SPS of 2 bytes, then a PPS.
        assert!(starts_keyframe(
            Codec::H264,
            &[0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x01, 0x68]
        ));
        // FU-A: the first fragment of an IDR, then a middle one.
        assert!(starts_keyframe(Codec::H264, &[0x7c, 0x85, 0x00]));
        assert!(!starts_keyframe(Codec::H264, &[0x7c, 0x05, 0x00]));
    }

    #[test]
    fn vp9_keyframes_start_at_the_base_layer_of_an_unpredicted_frame() {
        // B set, P clear, no layer indices.
        assert!(starts_keyframe(Codec::Vp9, &[0x08]));
        assert!(!starts_keyframe(Codec::Vp9, &[0x48]), "inter-predicted");
        assert!(
            !starts_keyframe(Codec::Vp9, &[0x00]),
            "not the beginning of a frame"
        );
        // I with a 15-bit picture ID, L: spatial id 0 starts the keyframe, 1 does not.
        assert!(starts_keyframe(Codec::Vp9, &[0xa8, 0x81, 0x02, 0x00]));
        assert!(!starts_keyframe(Codec::Vp9, &[0xa8, 0x81, 0x02, 0x02]));
        assert!(!starts_keyframe(Codec::Vp9, &[0xa8, 0x81]), "truncated");
    }

    #[test]
    fn av1_keyframes_start_a_coded_video_sequence() {
        assert!(starts_keyframe(Codec::Av1, &[0x18, 0x0a]));
        assert!(!starts_keyframe(Codec::Av1, &[0x10, 0x32]));
        assert!(!starts_keyframe(Codec::Av1, &[]));
    }

    #[test]
    fn codecs_the_sfu_cannot_inspect_are_never_held() {
        assert!(starts_keyframe(Codec::Opus, &[]));
    }
}
