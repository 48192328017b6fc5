//! Identifiers that cross the signalling edge. They are defined by the SFU (the lowest layer that
//! names rooms and participants) and re-exported here so clients of signalling need one import.

pub use sfu::{ParticipantId, RoomId};
