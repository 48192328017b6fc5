//! Typed identifiers. UUIDs on the wire and in the database (as text), distinct types in code so an
//! officer id can never be passed where a booth id is meant.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random id.
            pub fn new() -> Self {
                $name(Uuid::new_v4())
            }

            /// For compile-time constants (demo data).
            pub const fn from_u128(v: u128) -> Self {
                $name(Uuid::from_u128(v))
            }

            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }
    };
}

uuid_id!(
    /// An agency (myndighet / huvudman).
    AgencyId
);
uuid_id!(
    /// A type of matter an agency handles.
    ServiceId
);
uuid_id!(
    /// A case officer (handläggare).
    OfficerId
);
uuid_id!(
    /// A service centre.
    CentreId
);
uuid_id!(
    /// A booth (mötesrum) at a centre.
    BoothId
);
uuid_id!(
    /// A service guide (servicevägledare).
    GuideId
);
uuid_id!(
    /// An interpreter (tolk), spoken or sign language; works for every agency.
    InterpreterId
);
uuid_id!(
    /// A citizen. Internal only: never put in a join token, URL or log line meant for the media side.
    CitizenId
);
uuid_id!(
    /// A booked meeting.
    BookingId
);
uuid_id!(
    /// A drop-in queue ticket.
    TicketId
);
uuid_id!(
    /// A booth's call for the guide.
    HelpCallId
);
uuid_id!(
    /// A message in the outbox; the SMS provider gets it as a reference to deduplicate by.
    MessageId
);

impl BookingId {
    /// The meeting room of this booking on the media side. Derived, not secret: knowing it grants
    /// nothing without a join token for it.
    pub fn room_id(&self) -> signalling::ids::RoomId {
        signalling::ids::RoomId(format!("bk-{}", self.0))
    }
}

/// A server-side session: the hex SHA-256 of the cookie secret, so a leaked database row cannot be
/// replayed as a cookie. Debug shows only a prefix.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SessionId(pub String);

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix: String = self.0.chars().take(8).collect();
        write!(f, "SessionId({prefix}…)")
    }
}

impl SessionId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
