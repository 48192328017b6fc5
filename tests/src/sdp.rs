//! Just enough SDP reading to check what was negotiated: per media section its kind, mid,
//! direction, msid and payload types. Deliberately independent of the webrtc crate's own parser,
//! so a test does not take the peer's word for what the SDP says.

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MediaSection {
    /// `audio`, `video` or `application`.
    pub kind: String,
    /// The port on the `m=` line (0 means rejected).
    pub port: u16,
    pub mid: Option<String>,
    /// `sendrecv`, `sendonly`, `recvonly` or `inactive` (`sendrecv` when absent).
    pub direction: String,
    /// `a=msid:<stream id> <track id>`.
    pub msid: Option<(String, String)>,
    /// `a=rtpmap:<pt> <name>/<clock>[/<channels>]` as (pt, name), in order.
    pub rtpmaps: Vec<(u8, String)>,
    pub ssrcs: Vec<u32>,
    pub candidates: Vec<String>,
}

impl MediaSection {
    /// The payload type mapped to `codec` (case-insensitive name, e.g. `opus`, `VP8`).
    pub fn payload_type_of(&self, codec: &str) -> Option<u8> {
        self.rtpmaps
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(codec))
            .map(|(pt, _)| *pt)
    }
}

/// The media sections of `sdp`, in order.
pub fn media_sections(sdp: &str) -> Vec<MediaSection> {
    let mut sections: Vec<MediaSection> = Vec::new();
    for line in sdp.lines().map(str::trim_end) {
        if let Some(rest) = line.strip_prefix("m=") {
            let mut parts = rest.split_whitespace();
            sections.push(MediaSection {
                kind: parts.next().unwrap_or_default().to_owned(),
                port: parts.next().and_then(|p| p.parse().ok()).unwrap_or(0),
                direction: "sendrecv".to_owned(),
                ..Default::default()
            });
            continue;
        }
        let Some(section) = sections.last_mut() else {
            continue;
        };
        let Some(attr) = line.strip_prefix("a=") else {
            continue;
        };
        let (name, value) = attr.split_once(':').unwrap_or((attr, ""));
        match name {
            "mid" => section.mid = Some(value.to_owned()),
            "sendrecv" | "sendonly" | "recvonly" | "inactive" => {
                section.direction = name.to_owned()
            }
            "msid" => {
                let mut ids = value.split_whitespace();
                if let (Some(stream), Some(track)) = (ids.next(), ids.next()) {
                    section.msid = Some((stream.to_owned(), track.to_owned()));
                }
            }
            "rtpmap" => {
                if let Some((pt, codec)) = value.split_once(' ')
                    && let Ok(pt) = pt.parse()
                {
                    let name = codec.split('/').next().unwrap_or_default().to_owned();
                    section.rtpmaps.push((pt, name));
                }
            }
            "ssrc" => {
                if let Some(ssrc) = value.split_whitespace().next().and_then(|s| s.parse().ok())
                    && !section.ssrcs.contains(&ssrc)
                {
                    section.ssrcs.push(ssrc);
                }
            }
            "candidate" => section.candidates.push(format!("candidate:{value}")),
            _ => {}
        }
    }
    sections
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\na=msid:alice a1\r\n\
        a=rtpmap:111 opus/48000/2\r\na=ssrc:11 cname:x\r\na=ssrc:11 msid:alice a1\r\n\
        a=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:1\r\na=recvonly\r\n\
        a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\n";

    #[test]
    fn reads_kind_mid_direction_msid_and_payload_types() {
        let s = media_sections(OFFER);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].kind, "audio");
        assert_eq!(s[0].mid.as_deref(), Some("0"));
        assert_eq!(s[0].direction, "sendonly");
        assert_eq!(s[0].msid, Some(("alice".into(), "a1".into())));
        assert_eq!(s[0].payload_type_of("OPUS"), Some(111));
        assert_eq!(s[0].ssrcs, vec![11]);
        assert_eq!(s[0].candidates.len(), 1);
        assert_eq!(s[1].direction, "recvonly");
        assert_eq!(s[1].payload_type_of("vp8"), Some(96));
        assert_eq!(s[1].msid, None);
    }
}
