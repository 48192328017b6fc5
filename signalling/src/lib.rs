//! Signalling: the client-facing WebSocket protocol of a media node.
//!
//! Owns the wire protocol ([`protocol`]), join-token verification ([`token`]) and the per-connection
//! state machine that turns client messages into commands for the SFU. It does not issue tokens
//! (booking does), and it does not touch media packets (the SFU does).

pub mod ids;
pub mod protocol;
mod server;
pub mod token;

pub use server::Signalling;
