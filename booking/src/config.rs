//! Booking's configuration: one typed struct with defaults; unknown keys are rejected so a typo in
//! a config file is an error, not a silently ignored setting.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

use signalling::token::MAX_JOIN_TOKEN_LIFETIME_SECS;

use crate::ids::{AgencyId, CentreId};

/// Where the process runs. Chosen by the caller (the root binary), not by booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// Local machine or pilot: development e-ID, generated keys and demo data are allowed.
    Development,
    /// Real citizens: every secret must be configured and development shortcuts are refused.
    Production,
}

/// A secret string (base64 key material). `Debug` never shows it.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BookingConfig {
    /// `sqlite://path?mode=rwc` (embedded) or `postgres://…` (scaled out). The directory of a
    /// SQLite file is created when missing.
    pub database_url: String,
    /// Seed demo agencies, centre, booths, people on first start of an empty database.
    pub demo_data: bool,
    /// 32 bytes, base64: encrypts personnummer and keys their look-up hash. Absent in development:
    /// generated and kept in `data.key` beside the SQLite database. Absent in production: an error.
    pub data_key: Option<Secret>,
    /// `iss` of join tokens; signalling must be configured with the same value.
    pub token_issuer: String,
    /// Handed out with join tokens. Relative means the same host as the page.
    pub signalling_url: String,
    /// Lifetime of join tokens; at most [`MAX_JOIN_TOKEN_LIFETIME_SECS`].
    pub join_token_lifetime_secs: i64,
    /// How often a new key starts signing join tokens (the one before stays in the JWKS until
    /// its tokens have expired). 0: never; the key made at start signs until the process ends.
    pub join_key_rotation_hours: u64,
    /// The development e-ID provider. Unset: on in development, off in production. Set to `true`
    /// in production: a startup error.
    pub dev_eid: Option<bool>,
    /// SMTP relay for officers' and interpreters' calendar invitations. Unset: no email is
    /// queued. Plain SMTP without TLS or login: a relay on the local network.
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    /// Sender and iCalendar ORGANIZER of invitations, `Name <address>` or `address`.
    pub mail_from: String,
    /// `http://…` endpoint taking `POST {"reference", "to", "text"}` for citizens' SMS. Unset: no
    /// SMS is queued.
    pub sms_url: Option<String>,
    /// How long before a meeting the citizen's SMS reminder is sent.
    pub reminder_before_secs: i64,
    /// How often the outbox worker looks for due messages.
    pub outbox_poll_secs: u64,
    /// BankID's RP API, e.g. `https://appapi2.bankid.com/rp/v6.0`, or `"simulator"` for the
    /// built-in simulator (development only). Unset: the simulator in development, no BankID in
    /// production.
    pub bankid_url: Option<String>,
    /// PEM files: the relying party's certificate chain and key (from the bank), and the CA
    /// BankID's server certificate must chain to (BankID's own root, nothing else is trusted).
    pub bankid_client_cert: Option<PathBuf>,
    pub bankid_client_key: Option<PathBuf>,
    pub bankid_ca_cert: Option<PathBuf>,
    /// A header in which a trusted reverse proxy puts the client's address (its last value is
    /// used), e.g. `X-Forwarded-For`. Unset: the TCP peer's address. BankID is told this address.
    pub client_ip_header: Option<String>,
    /// Rate limits on sign-in, identification, enrolment codes and join tokens
    /// (`booking/src/limits.rs`). Off only for load tests that make thousands of joins from one
    /// address.
    pub rate_limits: bool,
    /// Personal data of a meeting is removed this many days after it (how the citizen was
    /// identified, delivered messages, and the citizen's name and personnummer once they have no
    /// later booking); the anonymous figures stay. At least 1.
    pub retention_days: i64,
    /// Where browsers reach this service: scheme, host and port, no path. OpenID providers send
    /// people back to `{public_url}/api/v1/{name}/callback`, exactly.
    pub public_url: String,
    /// OpenID Connect providers (`[[booking.oidc_providers]]`): an e-ID broker for citizens,
    /// single sign-on for an agency's officers or a centre's guides.
    pub oidc_providers: Vec<OidcProviderConfig>,
}

/// Who signs in through an OpenID provider, and so how the ID token is mapped to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OidcPurpose {
    /// Citizens through an e-ID broker (Freja eID): found or added by personnummer.
    Citizen,
    /// Officers of `agency_id`, found by email address.
    Officer,
    /// Guides of `centre_id`, found by email address.
    Guide,
}

impl OidcPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            OidcPurpose::Citizen => "citizen",
            OidcPurpose::Officer => "officer",
            OidcPurpose::Guide => "guide",
        }
    }
}

/// The Swedish OpenID Connect profile's claim for a personnummer
/// (<https://www.oidc.se/specifications/swedish-oidc-claims-specification.html>).
pub const PERSONAL_IDENTITY_NUMBER_CLAIM: &str = "https://id.oidc.se/claim/personalIdentityNumber";
/// The profile's scope that asks for it.
pub const NATURAL_PERSON_NUMBER_SCOPE: &str = "https://id.oidc.se/scope/naturalPersonNumber";

/// One OpenID provider, as a relying party registered with it (authorization code flow with
/// PKCE, `client_secret_basic` at its token endpoint).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OidcProviderConfig {
    /// Path segment of its routes, `/api/v1/{name}/login` and `/callback`: lowercase letters,
    /// digits and `-`.
    pub name: String,
    /// What the sign-in button says after "Logga in med". Unset: `name`.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The provider's issuer identifier, exactly as its discovery document and ID tokens say it.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub purpose: OidcPurpose,
    /// The agency whose officers sign in (purpose `officer`).
    #[serde(default)]
    pub agency_id: Option<AgencyId>,
    /// The centre whose guides sign in (purpose `guide`).
    #[serde(default)]
    pub centre_id: Option<CentreId>,
    /// Scopes asked for; must include `openid`. Unset: `openid` with
    /// [`NATURAL_PERSON_NUMBER_SCOPE`] and `profile` for citizens, `openid email profile` for
    /// staff.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Levels of assurance asked for (`acr_values`) and the only ones accepted in the ID token's
    /// `acr`. Required for citizens, e.g. `http://id.elegnamnden.se/loa/1.0/loa3`; for staff, when
    /// set, checked the same way.
    #[serde(default)]
    pub acr_values: Vec<String>,
    /// The ID token claim holding a citizen's personnummer.
    #[serde(default = "default_personal_number_claim")]
    pub personal_number_claim: String,
}

fn default_personal_number_claim() -> String {
    PERSONAL_IDENTITY_NUMBER_CLAIM.to_owned()
}

impl OidcProviderConfig {
    /// The scopes to ask for: as configured, or the purpose's default.
    pub fn scopes(&self) -> Vec<String> {
        if let Some(scopes) = &self.scopes {
            return scopes.clone();
        }
        let defaults: &[&str] = match self.purpose {
            OidcPurpose::Citizen => &["openid", NATURAL_PERSON_NUMBER_SCOPE, "profile"],
            OidcPurpose::Officer | OidcPurpose::Guide => &["openid", "email", "profile"],
        };
        defaults.iter().map(|s| (*s).to_owned()).collect()
    }

    pub fn display_name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.name)
    }

    fn validate(&self, reserved: &[String]) -> Result<(), String> {
        let name = &self.name;
        let what = |m: &str| format!("oidc_providers: {name}: {m}");
        if name.is_empty()
            || name.len() > 40
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(format!(
                "oidc_providers: name {name:?} must be 1 to 40 lowercase letters, digits or -"
            ));
        }
        if reserved.iter().any(|r| r == name) {
            return Err(what("the name is taken by another part of the API"));
        }
        check_url("issuer", &self.issuer, true).map_err(|e| what(&e))?;
        if self.client_id.is_empty() || self.client_secret.expose().is_empty() {
            return Err(what("client_id and client_secret must be set"));
        }
        match (self.purpose, self.agency_id, self.centre_id) {
            (OidcPurpose::Citizen, None, None) => {
                if self.acr_values.is_empty() {
                    return Err(what(
                        "a citizen provider needs acr_values (the accepted levels of assurance)",
                    ));
                }
            }
            (OidcPurpose::Officer, Some(_), None) | (OidcPurpose::Guide, None, Some(_)) => {}
            (OidcPurpose::Citizen, ..) => {
                return Err(what("a citizen provider has no agency_id or centre_id"));
            }
            (OidcPurpose::Officer, ..) => {
                return Err(what("an officer provider needs agency_id and no centre_id"));
            }
            (OidcPurpose::Guide, ..) => {
                return Err(what("a guide provider needs centre_id and no agency_id"));
            }
        }
        let scopes = self.scopes();
        if !scopes.iter().any(|s| s == "openid") {
            return Err(what("scopes must include openid"));
        }
        let spaced = |v: &String| v.is_empty() || v.chars().any(|c| c.is_whitespace());
        if scopes.iter().any(spaced) || self.acr_values.iter().any(spaced) {
            return Err(what("scopes and acr_values are single words"));
        }
        if self.personal_number_claim.is_empty() {
            return Err(what("personal_number_claim must not be empty"));
        }
        Ok(())
    }
}

/// Whether `host` (as in a URL, IPv6 in brackets) is this machine.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// An absolute `http(s)://` URL without query or fragment. Plain `http://` only to this machine
/// when `https_or_loopback`: what comes over it (an OpenID provider's keys and tokens) can be
/// changed by anyone on the way, and on the loopback interface nobody else is on the way — that
/// is where development and the tests run their provider.
pub fn check_url(key: &str, url: &str, https_or_loopback: bool) -> Result<(), String> {
    let uri: axum::http::Uri = url.parse().map_err(|_| format!("{key} is not a URL"))?;
    let host = uri.host().ok_or_else(|| format!("{key} has no host"))?;
    if url.contains('#') || uri.query().is_some() {
        return Err(format!("{key} has a query or fragment"));
    }
    match uri.scheme_str() {
        Some("https") => Ok(()),
        Some("http") if !https_or_loopback || is_loopback_host(host) => Ok(()),
        Some("http") => Err(format!(
            "{key} must be https:// (plain http:// only to localhost or 127.0.0.1)"
        )),
        _ => Err(format!("{key} must be an http:// or https:// URL")),
    }
}

impl Default for BookingConfig {
    fn default() -> Self {
        BookingConfig {
            database_url: "sqlite://data/narvaro.db?mode=rwc".to_owned(),
            demo_data: true,
            data_key: None,
            token_issuer: "narvaro-booking".to_owned(),
            signalling_url: "/signal".to_owned(),
            join_token_lifetime_secs: 60,
            join_key_rotation_hours: 24,
            dev_eid: None,
            smtp_host: None,
            smtp_port: 25,
            mail_from: "Närvaro <narvaro@localhost>".to_owned(),
            sms_url: None,
            reminder_before_secs: 86_400,
            outbox_poll_secs: 10,
            bankid_url: None,
            bankid_client_cert: None,
            bankid_client_key: None,
            bankid_ca_cert: None,
            client_ip_header: None,
            rate_limits: true,
            retention_days: 365,
            public_url: "http://localhost:8080".to_owned(),
            oidc_providers: Vec::new(),
        }
    }
}

impl BookingConfig {
    /// Checks what can be checked without touching the database.
    pub fn validate(&self, env: Environment) -> Result<(), crate::BookingError> {
        use crate::BookingError::Config;
        if self.join_token_lifetime_secs < 1
            || self.join_token_lifetime_secs > MAX_JOIN_TOKEN_LIFETIME_SECS
        {
            return Err(Config(format!(
                "join_token_lifetime_secs must be between 1 and {MAX_JOIN_TOKEN_LIFETIME_SECS}"
            )));
        }
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(Config("mail_from must be an email address".into()));
        }
        if self.smtp_port == 0 {
            return Err(Config("smtp_port must not be 0".into()));
        }
        if let Some(url) = &self.sms_url {
            crate::outbox::HttpSms::new(url).map_err(Config)?;
        }
        if !(0..=14 * 86_400).contains(&self.reminder_before_secs) {
            return Err(Config("reminder_before_secs must be 0 to 14 days".into()));
        }
        if !(1..=3650).contains(&self.retention_days) {
            return Err(Config("retention_days must be 1 to 3650".into()));
        }
        if self.outbox_poll_secs == 0 {
            return Err(Config("outbox_poll_secs must be at least 1".into()));
        }
        if self.token_issuer.is_empty() {
            return Err(Config("token_issuer must not be empty".into()));
        }
        if self.join_key_rotation_hours > 8760 {
            return Err(Config(
                "join_key_rotation_hours must be 0 (never) to 8760 (a year)".into(),
            ));
        }
        check_url(
            "public_url",
            &self.public_url,
            env == Environment::Production,
        )
        .map_err(Config)?;
        if !matches!(self.public_url.parse::<axum::http::Uri>(), Ok(u) if matches!(u.path(), "" | "/"))
        {
            return Err(Config(
                "public_url is scheme, host and port only, no path".into(),
            ));
        }
        let mut reserved = crate::api::routes::first_segments();
        reserved.extend(["dev-eid".to_owned(), "bankid".to_owned()]);
        for provider in &self.oidc_providers {
            provider.validate(&reserved).map_err(Config)?;
            reserved.push(provider.name.clone());
        }
        if env == Environment::Production {
            if self.dev_eid == Some(true) {
                return Err(crate::BookingError::DevEidInProduction);
            }
            if self.bankid_url.as_deref() == Some(crate::bankid::SIMULATOR) {
                return Err(crate::BookingError::BankIdSimulatorInProduction);
            }
            if self.data_key.is_none() {
                return Err(Config("data_key must be set in production".into()));
            }
        }
        Ok(())
    }

    /// `public_url` without a trailing slash.
    pub fn public_base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    /// Whether cookies carry `Secure`: in production, whenever browsers reach this service over
    /// https (`public_url`, e.g. behind a proxy that terminates TLS) and whenever the process
    /// serves TLS itself (`over_tls`). Plain http elsewhere keeps it off, or a browser on another
    /// host would drop the cookie. The one place this is decided.
    pub fn secure_cookies(&self, env: Environment, over_tls: bool) -> bool {
        env == Environment::Production
            || over_tls
            || self.public_url.to_ascii_lowercase().starts_with("https://")
    }

    /// Whether the development e-ID provider is mounted.
    pub fn dev_eid_enabled(&self, env: Environment) -> bool {
        env == Environment::Development && self.dev_eid.unwrap_or(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_redacted_in_debug() {
        let c = BookingConfig {
            data_key: Some(Secret::new("c2VjcmV0")),
            ..Default::default()
        };
        let s = format!("{c:?}");
        assert!(s.contains("[redacted]") && !s.contains("c2VjcmV0"), "{s}");
    }

    #[test]
    fn cookies_are_secure_over_https_and_in_production_only() {
        let plain = BookingConfig::default();
        assert!(!plain.secure_cookies(Environment::Development, false));
        assert!(plain.secure_cookies(Environment::Development, true));
        assert!(plain.secure_cookies(Environment::Production, false));
        let proxied = BookingConfig {
            public_url: "HTTPS://narvaro.example".into(),
            ..Default::default()
        };
        assert!(proxied.secure_cookies(Environment::Development, false));
    }

    #[test]
    fn lifetime_over_the_signalling_maximum_is_rejected() {
        let c = BookingConfig {
            join_token_lifetime_secs: 121,
            ..Default::default()
        };
        assert!(c.validate(Environment::Development).is_err());
        assert!(
            BookingConfig::default()
                .validate(Environment::Development)
                .is_ok()
        );
    }

    #[test]
    fn production_needs_a_data_key_and_refuses_dev_eid() {
        let key = Some(Secret::new("x"));
        assert!(
            BookingConfig::default()
                .validate(Environment::Production)
                .is_err()
        );
        let c = BookingConfig {
            data_key: key.clone(),
            dev_eid: Some(true),
            ..Default::default()
        };
        assert!(matches!(
            c.validate(Environment::Production),
            Err(crate::BookingError::DevEidInProduction)
        ));
        let c = BookingConfig {
            data_key: key,
            ..Default::default()
        };
        assert!(c.validate(Environment::Production).is_ok());
        assert!(!c.dev_eid_enabled(Environment::Production));
        let c = BookingConfig {
            bankid_url: Some("simulator".into()),
            ..c
        };
        assert!(matches!(
            c.validate(Environment::Production),
            Err(crate::BookingError::BankIdSimulatorInProduction)
        ));
    }

    fn officer_provider(issuer: &str) -> OidcProviderConfig {
        OidcProviderConfig {
            name: "fk".into(),
            display_name: None,
            issuer: issuer.into(),
            client_id: "narvaro".into(),
            client_secret: Secret::new("s"),
            purpose: OidcPurpose::Officer,
            agency_id: Some(AgencyId::new()),
            centre_id: None,
            scopes: None,
            acr_values: vec![],
            personal_number_claim: PERSONAL_IDENTITY_NUMBER_CLAIM.into(),
        }
    }

    fn with_providers(providers: Vec<OidcProviderConfig>) -> BookingConfig {
        BookingConfig {
            oidc_providers: providers,
            ..Default::default()
        }
    }

    #[test]
    fn an_openid_issuer_is_https_or_this_machine() {
        let env = Environment::Development;
        for ok in [
            "https://login.fk.example",
            "https://login.fk.example/realms/staff",
            "http://localhost:9000",
            "http://127.0.0.1:9000",
            "http://[::1]:9000",
        ] {
            assert!(
                with_providers(vec![officer_provider(ok)])
                    .validate(env)
                    .is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "http://login.fk.example",
            "http://10.0.0.5",
            "ftp://login.fk.example",
            "login.fk.example",
            "https://login.fk.example/?x=1",
        ] {
            assert!(
                with_providers(vec![officer_provider(bad)])
                    .validate(env)
                    .is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn each_openid_provider_says_whom_it_signs_in() {
        let env = Environment::Development;
        let base = officer_provider("https://idp.example");
        let refused = |p: OidcProviderConfig| with_providers(vec![p]).validate(env).is_err();
        assert!(refused(OidcProviderConfig {
            agency_id: None,
            ..base.clone()
        }));
        assert!(refused(OidcProviderConfig {
            centre_id: Some(CentreId::new()),
            ..base.clone()
        }));
        assert!(refused(OidcProviderConfig {
            purpose: OidcPurpose::Guide,
            ..base.clone()
        }));
        let citizen = OidcProviderConfig {
            purpose: OidcPurpose::Citizen,
            agency_id: None,
            ..base.clone()
        };
        assert!(
            refused(citizen.clone()),
            "a citizen provider without acr_values"
        );
        let citizen = OidcProviderConfig {
            acr_values: vec!["http://id.elegnamnden.se/loa/1.0/loa3".into()],
            ..citizen
        };
        assert!(!refused(citizen.clone()));
        assert_eq!(citizen.scopes()[1], NATURAL_PERSON_NUMBER_SCOPE);
        for name in ["", "FK", "f k", "bookings", "bankid", "dev-eid", "session"] {
            assert!(
                refused(OidcProviderConfig {
                    name: name.into(),
                    ..base.clone()
                }),
                "{name:?}"
            );
        }
        assert!(refused(OidcProviderConfig {
            scopes: Some(vec!["email".into()]),
            ..base.clone()
        }));
        assert!(refused(OidcProviderConfig {
            client_secret: Secret::new(""),
            ..base.clone()
        }));
        // Two providers cannot share a name.
        assert!(
            with_providers(vec![base.clone(), base.clone()])
                .validate(env)
                .is_err()
        );
        let s = format!("{:?}", with_providers(vec![base]));
        assert!(!s.contains("client_secret: \"s\""), "{s}");
    }

    #[test]
    fn the_public_url_is_an_origin_and_https_in_production() {
        let c = |url: &str| BookingConfig {
            public_url: url.into(),
            data_key: Some(Secret::new("x")),
            ..Default::default()
        };
        assert!(
            c("https://narvaro.example")
                .validate(Environment::Production)
                .is_ok()
        );
        assert!(
            c("http://localhost:8080")
                .validate(Environment::Production)
                .is_ok()
        );
        assert!(
            c("http://narvaro.example")
                .validate(Environment::Production)
                .is_err()
        );
        assert!(
            c("http://narvaro.example")
                .validate(Environment::Development)
                .is_ok()
        );
        assert!(
            c("https://narvaro.example/app")
                .validate(Environment::Development)
                .is_err()
        );
        assert_eq!(
            c("https://narvaro.example/").public_base(),
            "https://narvaro.example"
        );
    }
}
