//! The client-facing signalling protocol, version 1: JSON text frames over one WebSocket.
//!
//! Every frame is one object tagged by `"type"` (snake_case). `signalling/PROTOCOL.md` is the
//! written description of the same messages; keep the two in step.

use serde::{Deserialize, Serialize};
use sfu::quality::{Quality, QualityLevel};

use crate::ids::{ParticipantId, RoomId};
use crate::token::Role;

/// The protocol version this server speaks; sent in [`ServerMessage::Joined`].
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest text frame the server accepts. An SDP offer with many codecs is about 10 KiB;
/// anything far beyond that is a mistake or an attack.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// What a client may send.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// First message on a connection: the room to enter and a join token from booking for it.
    /// Nothing else is accepted before it (but `resume`).
    Join { room_id: RoomId, token: String },
    /// First message on a new connection after the previous one dropped: carry on as the same
    /// participant, whose media never stopped, with the credential from `joined` or the last
    /// `resumed`. Never the join token, which is spent.
    Resume {
        room_id: RoomId,
        resume_token: String,
    },
    /// The client's offer for what it publishes (audio, video). Sent once, after `joined`.
    Offer { sdp: String },
    /// The client's answer to a server [`ServerMessage::Offer`] (new tracks to receive).
    Answer { sdp: String },
    /// A trickled ICE candidate of the client (`candidate` line as in `RTCIceCandidate.candidate`).
    /// Optional: the SFU is ICE-lite and also learns addresses from connectivity checks.
    Candidate { candidate: String },
    /// The client muted or unmuted a source; relayed to the others as `participant_updated`.
    Mute { kind: MediaKind, muted: bool },
    /// The client shows the video it receives on m-line `mid` at this size in CSS pixels times
    /// the device pixel ratio (0 x 0: not shown). The SFU sends no bigger simulcast layer than
    /// that needs, and nothing for a hidden video. Send again when the layout changes.
    VideoSize {
        mid: String,
        width: u32,
        height: u32,
    },
    /// Leave the meeting; the server closes the connection after `left`.
    Leave,
    /// Keep-alive; answered with `pong`.
    Ping,
}

/// What the server sends.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The join token was accepted.
    Joined {
        protocol_version: u32,
        room_id: RoomId,
        participant_id: ParticipantId,
        role: Role,
        /// The others already in the room.
        participants: Vec<ParticipantInfo>,
        /// Single-use credential to `resume` this participant on a new connection if this one
        /// drops. Keep it in memory only.
        resume_token: String,
    },
    /// The session carries on over this connection: same participant, media untouched.
    /// `participants` is the room as it is now (the client missed what happened meanwhile);
    /// `resume_token` replaces the one just used.
    Resumed {
        participant_id: ParticipantId,
        participants: Vec<ParticipantInfo>,
        resume_token: String,
    },
    /// The SFU's answer to the client's `offer`.
    Answer { sdp: String },
    /// An ICE candidate of the SFU (`candidate:…`), for `RTCPeerConnection.addIceCandidate` on
    /// m-line 0 (everything is bundled). The SFU's answer carries its UDP candidates; its TCP
    /// candidates follow this way one second later if UDP has not connected by then.
    Candidate { candidate: String },
    /// The SFU offers new media to receive (a participant started publishing). Answer with `answer`.
    /// Each forwarded track's `MediaStream.id` (msid) is the publisher's `participant_id`, so the
    /// client can put the right label on a video tile.
    Offer { sdp: String },
    /// Someone entered the room.
    ParticipantJoined { participant: ParticipantInfo },
    /// Someone's state changed (mute).
    ParticipantUpdated { participant: ParticipantInfo },
    /// Someone left the room (or their connection was lost).
    ParticipantLeft { participant_id: ParticipantId },
    /// This client's link is too poor for even the lowest quality of `participant_id`'s video, so
    /// the SFU has paused it (`paused: true`) to keep audio clear; `paused: false` when it
    /// resumes. Show "video paused – poor connection" on that tile meanwhile.
    VideoPaused {
        participant_id: ParticipantId,
        paused: bool,
    },
    /// The room's active speaker changed: `participant_id` has the floor (it may be this client),
    /// or nobody (`null`) because the speaker left, muted or stopped sending. Silence does not
    /// change it: the last to speak keeps the floor. Sent again when this client's media connects,
    /// so a newcomer knows who speaks. Highlight that participant's tile.
    ActiveSpeaker {
        participant_id: Option<ParticipantId>,
    },
    /// This client's connection as the SFU sees it, every two seconds once media is connected.
    /// Each figure is `null` while unknown. Loss is a share (0 to 1): up is what the client sends
    /// the SFU, down what it receives. Show `level` to the person.
    Quality {
        rtt_ms: Option<u32>,
        loss_up: Option<f32>,
        loss_down: Option<f32>,
        /// The worse of the two directions' audio jitter.
        jitter_ms: Option<u32>,
        bitrate_up_kbps: u32,
        bitrate_down_kbps: u32,
        level: ConnectionQuality,
    },
    /// The meeting is over for everyone: its booking was cancelled (`reason: "cancelled"`) or
    /// ended by the officer (`"ended"`). The connection closes next (code 1000); joining or
    /// resuming the meeting again is refused with 4091. Show that the meeting has ended.
    MeetingEnded { reason: EndReason },
    /// Answer to `ping`.
    Pong,
    /// The server confirms `leave`; the connection closes next.
    Left,
    /// A request was refused. `fatal` errors close the connection; others leave it usable.
    Error {
        code: ErrorCode,
        message: String,
        fatal: bool,
    },
}

/// Why a meeting ended for everyone in it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The booking was cancelled while the meeting was live.
    Cancelled,
    /// The booking was ended (with an outcome).
    Ended,
}

/// One participant as the others see it. Carries a display name, never a personnummer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParticipantInfo {
    pub participant_id: ParticipantId,
    pub role: Role,
    pub display_name: String,
    /// How they were identified, in words (from their join token); empty when not said.
    #[serde(default)]
    pub identified: String,
    pub audio_muted: bool,
    pub video_muted: bool,
}

/// How a client's connection is doing, for a person: `poor` when loss either way is over 5 %, the
/// round trip over 400 ms, jitter over 50 ms, or a video it receives is paused for its link;
/// `fair` when loss is over 2 %, the round trip over 250 ms or jitter over 30 ms; else `good`.
/// A better level is reported only once it has held for 4 seconds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionQuality {
    Good,
    Fair,
    Poor,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Audio,
    Video,
}

/// Numbered, stable error codes. The number is the contract; the `message` is for people.
/// 4xxx: the client's fault (do not retry the same request); 5xxx: the server's (retry later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum ErrorCode {
    /// The frame is not valid JSON, or not an object of a known shape.
    MalformedMessage = 4000,
    /// The `type` is not one this server knows.
    UnknownMessageType = 4001,
    /// The frame is larger than [`MAX_MESSAGE_BYTES`].
    MessageTooLarge = 4002,
    /// A message other than `join` arrived before a successful join.
    NotJoined = 4003,
    /// `join` arrived on a connection that has already joined.
    AlreadyJoined = 4004,
    /// The message is not valid in the current negotiation state (e.g. a second `offer`).
    InvalidState = 4005,
    /// The SDP could not be parsed or negotiated.
    InvalidSdp = 4006,
    /// No token, or not a parseable JWT.
    TokenMissing = 4010,
    /// Signature invalid, unknown key, or a disallowed algorithm (including `none`).
    TokenInvalid = 4011,
    /// `exp` is in the past (or `nbf` in the future) beyond the allowed leeway.
    TokenExpired = 4012,
    /// The token was issued for another room than the one this connection asked for.
    TokenWrongRoom = 4013,
    /// The token's `jti` has been used before: join tokens are single use.
    TokenReused = 4014,
    /// Issuer, audience, `typ` or role is not acceptable.
    TokenClaimsInvalid = 4015,
    /// The token's lifetime (`exp - iat`) is longer than signalling accepts.
    TokenLifetimeTooLong = 4016,
    /// `resume` refused: the credential is unknown, used already, for another room, or its
    /// participant's grace period is over (join again with a new join token).
    ResumeRefused = 4017,
    /// The room is full.
    RoomFull = 4090,
    /// `join` or `resume` of a meeting that has ended (its booking was cancelled or ended).
    MeetingEnded = 4091,
    /// The server could not complete the request (media engine unavailable, etc.).
    Internal = 5000,
}

impl ErrorCode {
    pub fn number(self) -> u16 {
        self as u16
    }

    fn from_number(n: u16) -> Option<Self> {
        use ErrorCode::*;
        [
            MalformedMessage,
            UnknownMessageType,
            MessageTooLarge,
            NotJoined,
            AlreadyJoined,
            InvalidState,
            InvalidSdp,
            TokenMissing,
            TokenInvalid,
            TokenExpired,
            TokenWrongRoom,
            TokenReused,
            TokenClaimsInvalid,
            TokenLifetimeTooLong,
            ResumeRefused,
            RoomFull,
            MeetingEnded,
            Internal,
        ]
        .into_iter()
        .find(|c| c.number() == n)
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u16(self.number())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u16::deserialize(d)?;
        ErrorCode::from_number(n)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error code {n}")))
    }
}

/// Why a text frame could not become a [`ClientMessage`].
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DecodeError {
    #[error("message larger than {MAX_MESSAGE_BYTES} bytes")]
    TooLarge,
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error("unknown message type {0:?}")]
    UnknownType(String),
}

impl DecodeError {
    pub fn code(&self) -> ErrorCode {
        match self {
            DecodeError::TooLarge => ErrorCode::MessageTooLarge,
            DecodeError::Malformed(_) => ErrorCode::MalformedMessage,
            DecodeError::UnknownType(_) => ErrorCode::UnknownMessageType,
        }
    }
}

const CLIENT_TYPES: &[&str] = &[
    "join",
    "resume",
    "offer",
    "answer",
    "candidate",
    "mute",
    "video_size",
    "leave",
    "ping",
];

impl ClientMessage {
    /// Decodes one text frame, telling an unknown `type` apart from a malformed message so the
    /// client gets the right error code.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(DecodeError::TooLarge);
        }
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| DecodeError::Malformed(e.to_string()))?;
        let kind = value
            .get("type")
            .and_then(|t| t.as_str())
            .ok_or_else(|| DecodeError::Malformed("missing string field \"type\"".into()))?;
        if !CLIENT_TYPES.contains(&kind) {
            // Truncated so a hostile client cannot make us echo a large string.
            let shown: String = kind.chars().take(32).collect();
            return Err(DecodeError::UnknownType(shown));
        }
        // serde's deny_unknown_fields does not reach the unit variants of a tagged enum.
        let fields = value.as_object().map_or(0, |o| o.len());
        let message: ClientMessage =
            serde_json::from_value(value).map_err(|e| DecodeError::Malformed(e.to_string()))?;
        if matches!(message, ClientMessage::Leave | ClientMessage::Ping) && fields > 1 {
            return Err(DecodeError::Malformed("unknown field".into()));
        }
        Ok(message)
    }
}

impl ServerMessage {
    pub fn error(code: ErrorCode, message: impl Into<String>, fatal: bool) -> Self {
        ServerMessage::Error {
            code,
            message: message.into(),
            fatal,
        }
    }

    /// The `quality` message for an SFU quality snapshot: whole milliseconds and kbit/s, loss to
    /// a tenth of a percent.
    pub fn quality(q: &Quality) -> Self {
        let ms = |d: std::time::Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX);
        let share = |loss: f32| (loss * 1000.0).round() / 1000.0;
        let kbps = |bps: u64| u32::try_from(bps.saturating_add(500) / 1000).unwrap_or(u32::MAX);
        ServerMessage::Quality {
            rtt_ms: q.rtt.map(ms),
            loss_up: q.loss_up.map(share),
            loss_down: q.loss_down.map(share),
            jitter_ms: q.jitter_up.max(q.jitter_down).map(ms),
            bitrate_up_kbps: kbps(q.bitrate_up),
            bitrate_down_kbps: kbps(q.bitrate_down),
            level: match q.level {
                QualityLevel::Good => ConnectionQuality::Good,
                QualityLevel::Fair => ConnectionQuality::Fair,
                QualityLevel::Poor => ConnectionQuality::Poor,
            },
        }
    }

    pub fn encode(&self) -> String {
        // Serializing these plain data enums cannot fail: no maps with non-string keys, no custom
        // serializers that error.
        serde_json::to_string(self).expect("server messages always serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_type_is_listed_for_decoding() {
        for text in [
            r#"{"type":"join","room_id":"r","token":"x"}"#,
            r#"{"type":"resume","room_id":"r","resume_token":"x"}"#,
            r#"{"type":"offer","sdp":"v=0"}"#,
            r#"{"type":"answer","sdp":"v=0"}"#,
            r#"{"type":"candidate","candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host"}"#,
            r#"{"type":"mute","kind":"audio","muted":true}"#,
            r#"{"type":"video_size","mid":"2","width":640,"height":360}"#,
            r#"{"type":"leave"}"#,
            r#"{"type":"ping"}"#,
        ] {
            ClientMessage::decode(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
    }

    #[test]
    fn unknown_type_is_told_apart_from_malformed() {
        assert_eq!(
            ClientMessage::decode(r#"{"type":"dance"}"#),
            Err(DecodeError::UnknownType("dance".into()))
        );
        assert!(matches!(
            ClientMessage::decode("{not json"),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            ClientMessage::decode(r#"{"type":"join"}"#),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            ClientMessage::decode(r#"{"type":"ping","x":1}"#),
            Err(DecodeError::Malformed(_))
        ));
    }

    #[test]
    fn oversized_frames_are_refused_before_parsing() {
        let big = format!(
            r#"{{"type":"offer","sdp":"{}"}}"#,
            "a".repeat(MAX_MESSAGE_BYTES)
        );
        assert_eq!(ClientMessage::decode(&big), Err(DecodeError::TooLarge));
    }

    #[test]
    fn quality_and_active_speaker_encode_unknowns_as_null() {
        let q = Quality {
            rtt: Some(std::time::Duration::from_micros(48_700)),
            loss_up: Some(0.123_456),
            bitrate_up: 301_200,
            level: QualityLevel::Fair,
            ..Quality::default()
        };
        let text = ServerMessage::quality(&q).encode();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            serde_json::json!({
                "type": "quality",
                "rtt_ms": 48,
                "loss_up": 0.123,
                "loss_down": null,
                "jitter_ms": null,
                "bitrate_up_kbps": 301,
                "bitrate_down_kbps": 0,
                "level": "fair",
            })
        );
        let nobody = ServerMessage::ActiveSpeaker {
            participant_id: None,
        };
        assert_eq!(
            nobody.encode(),
            r#"{"type":"active_speaker","participant_id":null}"#
        );
    }

    #[test]
    fn error_codes_serialize_as_numbers_and_round_trip() {
        let msg = ServerMessage::error(ErrorCode::TokenReused, "used", true);
        let text = msg.encode();
        assert!(text.contains(r#""code":4014"#), "{text}");
        assert_eq!(serde_json::from_str::<ServerMessage>(&text).unwrap(), msg);
    }
}
