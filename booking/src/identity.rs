//! Who someone is: [`Identity`], how they proved it ([`IdMethod`]), and the seam where identity
//! providers plug in ([`IdentityProvider`]).
//!
//! A provider proves who someone is in its own way (its own routes) and then calls
//! [`crate::sessions::Sessions::sign_in`], which is the only way a session is made. The development
//! e-ID ([`crate::dev_eid`]) is one such provider; BankID ([`crate::bankid`]) and each configured
//! OpenID provider ([`crate::oidc`]: Freja eID for citizens, staff single sign-on) are others.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::config::Environment;
use crate::ids::{CitizenId, GuideId, OfficerId};

/// The person an identity is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Subject {
    Citizen(CitizenId),
    Officer(OfficerId),
    Guide(GuideId),
}

impl Subject {
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::Citizen(_) => "citizen",
            Subject::Officer(_) => "officer",
            Subject::Guide(_) => "guide",
        }
    }

    pub fn id_string(&self) -> String {
        match self {
            Subject::Citizen(id) => id.to_string(),
            Subject::Officer(id) => id.to_string(),
            Subject::Guide(id) => id.to_string(),
        }
    }

    pub fn from_parts(kind: &str, id: &str) -> Option<Subject> {
        Some(match kind {
            "citizen" => Subject::Citizen(id.parse().ok()?),
            "officer" => Subject::Officer(id.parse().ok()?),
            "guide" => Subject::Guide(id.parse().ok()?),
            _ => return None,
        })
    }

    pub fn is_staff(&self) -> bool {
        !matches!(self, Subject::Citizen(_))
    }
}

/// How an identity was established. Shown to the officer ("identified with BankID").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdMethod {
    /// The development e-ID: anyone can be anyone. Never in production.
    DevEid,
    BankId,
    FrejaEid,
    /// A guide checked an ID document, under the guide's own name.
    AssistedByGuide,
    /// Staff single sign-on.
    StaffLogin,
}

impl IdMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            IdMethod::DevEid => "dev_eid",
            IdMethod::BankId => "bank_id",
            IdMethod::FrejaEid => "freja_eid",
            IdMethod::AssistedByGuide => "assisted_by_guide",
            IdMethod::StaffLogin => "staff_login",
        }
    }
}

impl IdMethod {
    /// In Swedish, for the people who see it ("identifierad med …").
    pub fn label(self) -> &'static str {
        match self {
            IdMethod::DevEid => "utvecklingsinloggning (ingen riktig identifiering)",
            IdMethod::BankId => "BankID",
            IdMethod::FrejaEid => "Freja eID",
            IdMethod::AssistedByGuide => "ID-handling kontrollerad av servicevägledare",
            IdMethod::StaffLogin => "myndighetens inloggning",
        }
    }
}

impl fmt::Display for IdMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IdMethod {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "dev_eid" => IdMethod::DevEid,
            "bank_id" => IdMethod::BankId,
            "freja_eid" => IdMethod::FrejaEid,
            "assisted_by_guide" => IdMethod::AssistedByGuide,
            "staff_login" => IdMethod::StaffLogin,
            _ => return Err(()),
        })
    }
}

/// A signed-in person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identity {
    pub subject: Subject,
    pub display_name: String,
    pub method: IdMethod,
}

/// An identity provider: proves who someone is through its own HTTP routes and then signs them in
/// with [`crate::sessions::Sessions::sign_in`].
pub trait IdentityProvider: Send + Sync + 'static {
    /// Path segment under `/api/v1/`, e.g. `dev-eid`, `bankid`, a configured OpenID provider's.
    fn name(&self) -> &str;
    /// The method recorded on identities this provider establishes.
    fn method(&self) -> IdMethod;
    /// Whether this provider may be mounted in `env`.
    fn allowed_in(&self, env: Environment) -> bool;
    /// The provider's routes, state applied, to be nested under `/api/v1/{name}`.
    fn routes(&self, booking: crate::Booking) -> axum::Router;
    /// The rate limit on the provider's routes, per client address.
    fn limit(&self) -> &'static crate::limits::Limit {
        &crate::limits::SIGN_IN
    }
    /// `(method, path under /api/v1/{name}, summary)` of each route, for the OpenAPI document.
    fn documented_routes(&self) -> &'static [(&'static str, &'static str, &'static str)];
}

/// Whether `path` may be used as a redirect target after sign-in: a path on this origin, and
/// nothing a browser could read as another origin (`//host`, `/\host`) or a scheme.
pub fn is_safe_return_to(path: &str) -> bool {
    path.len() <= 1024
        && path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_control() || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_accepts_paths_on_this_origin() {
        for ok in ["/", "/guide", "/booth/b-1", "/officer?x=1#y"] {
            assert!(is_safe_return_to(ok), "{ok}");
        }
    }

    #[test]
    fn return_to_refuses_other_origins_and_schemes() {
        for bad in [
            "",
            "guide",
            "//evil.example",
            "/\\evil.example",
            "/ok\\..\\x",
            "https://evil.example/",
            "javascript:alert(1)",
            "/ /x",
            "/\n//evil",
            "/\t/evil.example",
        ] {
            assert!(!is_safe_return_to(bad), "{bad:?}");
        }
    }
}
