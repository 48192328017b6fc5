//! Configuration of the signalling service.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SignallingConfig {
    /// How long a participant whose WebSocket dropped (without leaving) stays in the meeting,
    /// media flowing, for its client to `resume` on a new connection. After that it has left.
    pub resume_grace_secs: u64,
    /// Origins (`https://host[:port]`) besides the server's own whose pages may open the
    /// WebSocket. A browser always sends `Origin`; a page of any other origin is refused, so
    /// another site cannot drive a meeting from a visitor's browser. Clients that are not
    /// browsers send none and are let through: they hold a join token or nothing.
    pub allowed_origins: Vec<String>,
    /// Booking's JWKS (`https://booking.example/.well-known/jwks.json`) for a media node apart
    /// from booking. Empty: the keys of booking in this process, read in memory.
    pub jwks_url: String,
    /// How often the keys at `jwks_url` are fetched again (a key booking retired leaves then).
    pub jwks_refresh_secs: u64,
    /// A token naming a key not among those fetched makes signalling fetch them again at once,
    /// but at most once per this many seconds: a `kid` is the client's to choose.
    pub jwks_min_refetch_secs: u64,
}

impl Default for SignallingConfig {
    fn default() -> Self {
        Self {
            resume_grace_secs: 30,
            allowed_origins: Vec::new(),
            jwks_url: String::new(),
            jwks_refresh_secs: 300,
            jwks_min_refetch_secs: 10,
        }
    }
}
