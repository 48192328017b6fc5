//! Signalling: the client-facing WebSocket protocol of a media node.
//!
//! Owns the wire protocol ([`protocol`]), join-token verification ([`token`]) with the cache of a
//! remote issuer's keys ([`jwks`]), and the per-connection state machine that turns client
//! messages into commands for the SFU, including resuming a session whose WebSocket dropped while
//! its media went on. It does not issue tokens (booking does), it does not speak HTTP to booking
//! itself (the caller hands [`jwks::RemoteJwks`] a fetcher), and it does not touch media packets
//! (the SFU does).

mod config;
pub mod ids;
pub mod jwks;
pub mod protocol;
mod server;
pub mod token;

pub use config::SignallingConfig;
pub use server::{MeetingEnds, Signalling};
