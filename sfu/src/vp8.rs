//! Reading the VP8 RTP payload descriptor (RFC 7741 §4.2) and, in a keyframe, the frame size.
//!
//! The SFU needs three things from a VP8 packet without decoding it: where a keyframe starts (a
//! subscriber can only begin there), the picture ID and TL0PICIDX (rewritten per subscriber so
//! they run on without a jump when the subscriber is moved to another simulcast layer), and a
//! keyframe's width and height (to know which layer suits the size a subscriber shows it at).

/// The parts of a VP8 payload descriptor the SFU uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vp8Descriptor {
    /// Picture ID and whether it is the 15-bit form (else 7-bit).
    pub picture_id: Option<(u16, bool)>,
    pub tl0_pic_idx: Option<u8>,
    /// The packet starts partition 0 of a frame: the VP8 payload header follows the descriptor.
    pub starts_frame: bool,
    /// Where the VP8 payload (after the descriptor) begins.
    payload_offset: usize,
}

impl Vp8Descriptor {
    /// `None` for a payload too short to hold the descriptor it announces.
    pub fn parse(payload: &[u8]) -> Option<Self> {
        let first = *payload.first()?;
        let extended = first & 0x80 != 0;
        let start_of_partition = first & 0x10 != 0;
        let partition_index = first & 0x07;
        let mut at = 1;
        let mut picture_id = None;
        let mut tl0_pic_idx = None;
        if extended {
            let x = *payload.get(at)?;
            at += 1;
            if x & 0x80 != 0 {
                let hi = *payload.get(at)?;
                if hi & 0x80 != 0 {
                    let lo = *payload.get(at + 1)?;
                    picture_id = Some((u16::from_be_bytes([hi & 0x7f, lo]), true));
                    at += 2;
                } else {
                    picture_id = Some((u16::from(hi), false));
                    at += 1;
                }
            }
            if x & 0x40 != 0 {
                tl0_pic_idx = Some(*payload.get(at)?);
                at += 1;
            }
            if x & 0x30 != 0 {
                at += 1; // TID / Y / KEYIDX
            }
        }
        if at > payload.len() {
            return None;
        }
        Some(Self {
            picture_id,
            tl0_pic_idx,
            starts_frame: start_of_partition && partition_index == 0,
            payload_offset: at,
        })
    }

    /// True when this packet begins a keyframe: the payload header's P bit is clear.
    pub fn starts_keyframe(&self, payload: &[u8]) -> bool {
        self.starts_frame
            && payload
                .get(self.payload_offset)
                .is_some_and(|header| header & 0x01 == 0)
    }

    /// Width and height from a keyframe's first packet (RFC 6386 §9.1: a 3-byte frame tag, the
    /// start code 9d 01 2a, then 14-bit width and height, little-endian).
    pub fn keyframe_size(&self, payload: &[u8]) -> Option<(u16, u16)> {
        if !self.starts_keyframe(payload) {
            return None;
        }
        let frame = payload.get(self.payload_offset..)?;
        if frame.get(3..6)? != [0x9d, 0x01, 0x2a] {
            return None;
        }
        let width = u16::from_le_bytes([*frame.get(6)?, *frame.get(7)?]) & 0x3fff;
        let height = u16::from_le_bytes([*frame.get(8)?, *frame.get(9)?]) & 0x3fff;
        Some((width, height))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fifteen_and_seven_bit_picture_ids_and_tl0picidx() {
        let d = Vp8Descriptor::parse(&[0x90, 0xe0, 0x81, 0x23, 0x07, 0x40, 0x00]).unwrap();
        assert_eq!(d.picture_id, Some((0x0123, true)));
        assert_eq!(d.tl0_pic_idx, Some(0x07));
        assert!(d.starts_frame);
        let d = Vp8Descriptor::parse(&[0x90, 0x80, 0x05, 0x00]).unwrap();
        assert_eq!(d.picture_id, Some((5, false)));
        assert_eq!(d.tl0_pic_idx, None);
        let d = Vp8Descriptor::parse(&[0x10, 0x00]).unwrap();
        assert_eq!(d.picture_id, None);
    }

    #[test]
    fn keyframe_size_is_read_from_the_frame_header() {
        // Descriptor (X, I with 15-bit id), frame tag with P clear, start code, 640 x 360.
        let payload = [
            0x90, 0x80, 0x80, 0x01, 0x50, 0x2a, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01,
        ];
        let d = Vp8Descriptor::parse(&payload).unwrap();
        assert!(d.starts_keyframe(&payload));
        assert_eq!(d.keyframe_size(&payload), Some((640, 360)));
        let mut delta = payload;
        delta[4] |= 0x01;
        assert_eq!(
            Vp8Descriptor::parse(&delta).unwrap().keyframe_size(&delta),
            None
        );
    }

    #[test]
    fn truncated_descriptors_are_refused_without_panicking() {
        for len in 0..4 {
            assert_eq!(Vp8Descriptor::parse(&[0x90, 0xe0, 0x81, 0x23][..len]), None);
        }
    }
}
