//! Configuration of the signalling service.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SignallingConfig {
    /// How long a participant whose WebSocket dropped (without leaving) stays in the meeting,
    /// media flowing, for its client to `resume` on a new connection. After that it has left.
    pub resume_grace_secs: u64,
}

impl Default for SignallingConfig {
    fn default() -> Self {
        Self {
            resume_grace_secs: 30,
        }
    }
}
