//! The SFU: Närvaro's selective forwarding unit, built on str0m (sans-IO WebRTC) in RTP mode.
//!
//! It owns media: one UDP port shared by all peers (and one TCP port, passive ICE-TCP, for
//! networks that block UDP), ICE-lite, DTLS-SRTP, and forwarding each participant's RTP to every
//! other participant in the room with per-subscriber rewriting of SSRC, sequence numbers,
//! timestamps and payload types, and keyframe requests passed back to the publisher. Simulcast
//! layers are chosen per subscriber from its congestion controller's estimate; video pauses
//! before audio suffers. It follows who is speaking, from the audio levels publishers put in their
//! packets, and how each participant's connection is doing. It never decodes media. It does not
//! authenticate anyone or speak to clients: signalling verifies join tokens and relays SDP through
//! a [`PeerHandle`].
//!
//! The room logic ([`room`]) is sans-IO and testable with a fake clock; [`Sfu`] is the thin driver
//! that owns the sockets and the clock.

pub mod config;
mod driver;
pub mod forward;
mod ids;
pub mod keyframe;
pub mod layers;
pub mod metrics;
pub mod quality;
pub mod room;
mod socket;
pub mod speaker;
mod tcp;
pub mod vp8;

pub use config::SfuConfig;
pub use driver::{PeerEvent, PeerHandle, Sfu};
pub use ids::{ParticipantId, RoomId};
pub use metrics::SfuMetrics;

#[derive(Debug, thiserror::Error)]
pub enum SfuError {
    #[error("participant is not in the room")]
    UnknownParticipant,
    #[error("participant is already in the room")]
    AlreadyInRoom,
    #[error("room is full")]
    RoomFull,
    #[error("an offer from the SFU awaits an answer")]
    NegotiationInProgress,
    #[error("no offer is awaiting an answer")]
    NoOfferPending,
    #[error("invalid SDP: {0}")]
    InvalidSdp(String),
    #[error("no such track")]
    UnknownTrack,
    #[error("invalid ICE candidate")]
    InvalidCandidate,
    #[error("no address to advertise for media")]
    NoAddress,
    #[error("the media task has stopped")]
    Stopped,
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
}
