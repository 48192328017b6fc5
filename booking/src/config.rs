//! Booking's configuration: one typed struct with defaults; unknown keys are rejected so a typo in
//! a config file is an error, not a silently ignored setting.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

use signalling::token::MAX_JOIN_TOKEN_LIFETIME_SECS;

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
        if self.outbox_poll_secs == 0 {
            return Err(Config("outbox_poll_secs must be at least 1".into()));
        }
        if self.token_issuer.is_empty() {
            return Err(Config("token_issuer must not be empty".into()));
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
}
