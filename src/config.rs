//! The process configuration: defaults, then a TOML file (`--config`), then `NARVARO_*`
//! environment variables. Unknown keys are rejected at every layer, so a typo is an error at start
//! rather than a setting silently ignored. `narvaro.sample.toml` documents every key.
//!
//! Environment variables: `NARVARO_ENV` sets `env`; `NARVARO_<SECTION>__<KEY>` sets `key` in
//! `[section]` (e.g. `NARVARO_MEDIA__UDP_PORT=50000`). Values are read as TOML values when they
//! parse as one (`true`, `8080`, `["a", "b"]`), otherwise as strings. Other `NARVARO_*` variables
//! are not configuration (the test suite uses a few) and are left alone.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use booking::Environment;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `development` (default) or `production`. Production refuses development shortcuts.
    pub env: Environment,
    pub server: ServerConfig,
    pub media: sfu::SfuConfig,
    pub signalling: signalling::SignallingConfig,
    pub booking: booking::BookingConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            env: Environment::Development,
            server: ServerConfig::default(),
            media: sfu::SfuConfig::default(),
            signalling: signalling::SignallingConfig::default(),
            booking: booking::BookingConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// HTTP listener for pages, the API and the signalling WebSocket.
    pub listen: SocketAddr,
    /// `text` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// Whether `listen` speaks HTTPS, and with which certificate. Flat `tls_*` keys rather than a
    /// `[server.tls]` table so that `NARVARO_SERVER__TLS=self_signed` sets them too.
    pub tls: TlsMode,
    /// PEM certificate chain (leaf first) and its private key, for `tls = "files"`.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Where `tls = "self_signed"` keeps its certificate and key (`cert.pem`, `key.pem`), made on
    /// the first start and reused after, so a booth that accepted the certificate once keeps
    /// working.
    pub tls_dir: PathBuf,
    /// Names (DNS names or IP addresses) the self-signed certificate covers besides `localhost`,
    /// `127.0.0.1`, `::1`, this machine's hostname and `<hostname>.local`: for example the
    /// address booths on the LAN type. From the environment: one string, names separated by
    /// commas.
    #[serde(deserialize_with = "one_or_many_names")]
    pub tls_names: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            log_format: LogFormat::Text,
            tls: TlsMode::Off,
            tls_cert: None,
            tls_key: None,
            tls_dir: PathBuf::from("data/tls"),
            tls_names: Vec::new(),
        }
    }
}

fn one_or_many_names<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<String>),
        Text(String),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::Many(names) => names,
        OneOrMany::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// What the HTTP listener speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// Plain HTTP: on localhost, or behind a reverse proxy that terminates TLS.
    Off,
    /// HTTPS with the certificate and key in `tls_cert` and `tls_key`.
    Files,
    /// HTTPS with a certificate made here and trusted by nobody until someone accepts it in the
    /// browser: development and pilots on a LAN only, refused in production.
    SelfSigned,
}

impl ServerConfig {
    /// Checks the keys against each other; the files themselves are read at start.
    pub fn validate(&self, env: Environment) -> Result<(), ConfigError> {
        let invalid = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        match self.tls {
            TlsMode::Off | TlsMode::SelfSigned
                if self.tls_cert.is_some() || self.tls_key.is_some() =>
            {
                invalid("server.tls_cert and server.tls_key are for server.tls = \"files\"")
            }
            TlsMode::Files if self.tls_cert.is_none() || self.tls_key.is_none() => {
                invalid("server.tls = \"files\" needs server.tls_cert and server.tls_key")
            }
            TlsMode::SelfSigned if env == Environment::Production => invalid(
                "server.tls = \"self_signed\" is for development: in production use \"files\" \
                 with a certificate browsers trust, or \"off\" behind a proxy that terminates TLS",
            ),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Reads the layers: the file (if given), then the environment variables given.
    pub fn load(
        file: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Invalid(format!("{}: {e}", path.display())))?
            }
            None => toml::Table::new(),
        };
        for (name, value) in vars {
            let Some(rest) = name.strip_prefix("NARVARO_") else {
                continue;
            };
            let value = parse_env_value(&value);
            if rest == "ENV" {
                table.insert("env".into(), value);
            } else if let Some((section, key)) = rest.split_once("__") {
                let section = table
                    .entry(section.to_ascii_lowercase())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                let toml::Value::Table(section) = section else {
                    return Err(ConfigError::Invalid(format!(
                        "{name}: {} is not a section",
                        section
                    )));
                };
                section.insert(key.to_ascii_lowercase(), value);
            }
        }
        let config: Config = table
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks this crate's own sections; each service checks its own when it starts.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.server.validate(self.env)
    }
}

fn parse_env_value(raw: &str) -> toml::Value {
    match format!("v = {raw}").parse::<toml::Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.to_owned())),
        Err(_) => toml::Value::String(raw.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_serve_on_8080_with_media_on_50000() {
        let c = Config::load(None, vars(&[])).unwrap();
        assert_eq!(c.server.listen.port(), 8080);
        assert_eq!(c.media.udp_port, 50000);
        assert!(c.media.ice_tcp);
        assert_eq!(c.media.tcp_port, 50000);
        assert_eq!(c.env, Environment::Development);
    }

    #[test]
    fn file_then_environment_each_override_the_layer_below() {
        let dir = std::env::temp_dir().join(format!("narvaro-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(&file, "[media]\nudp_port = 40000\npublic_ips = [\"10.1.2.3\"]\n[server]\nlisten = \"127.0.0.1:9000\"\n").unwrap();
        let c = Config::load(
            Some(&file),
            vars(&[
                ("NARVARO_MEDIA__UDP_PORT", "41000"),
                ("NARVARO_ENV", "production"),
                ("NARVARO_TEST_DATABASE_URL", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(c.media.udp_port, 41000);
        assert_eq!(
            c.media.public_ips,
            vec!["10.1.2.3".parse::<std::net::IpAddr>().unwrap()]
        );
        assert_eq!(c.server.listen.port(), 9000);
        assert_eq!(c.env, Environment::Production);
    }

    #[test]
    fn unknown_keys_are_rejected_from_file_and_environment() {
        let err = Config::load(None, vars(&[("NARVARO_MEDIA__UDP_PROT", "1")])).unwrap_err();
        assert!(err.to_string().contains("udp_prot"), "{err}");
        let err = Config::load(None, vars(&[("NARVARO_MEDIAS__UDP_PORT", "1")])).unwrap_err();
        assert!(err.to_string().contains("medias"), "{err}");
    }

    #[test]
    fn a_single_address_in_the_environment_is_a_list_of_one() {
        let c = Config::load(None, vars(&[("NARVARO_MEDIA__PUBLIC_IPS", "127.0.0.1")])).unwrap();
        assert_eq!(c.media.public_ips.len(), 1);
    }

    #[test]
    fn the_sample_config_is_valid_and_says_the_defaults() {
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("narvaro.sample.toml");
        let c = Config::load(Some(&sample), vars(&[])).unwrap();
        let d = Config::default();
        assert_eq!(c.server.listen, d.server.listen);
        assert_eq!(c.server.tls, d.server.tls);
        assert_eq!(c.server.tls_dir, d.server.tls_dir);
        assert_eq!(c.server.tls_names, d.server.tls_names);
        assert_eq!(c.media, d.media);
        assert_eq!(c.signalling, d.signalling);
        assert_eq!(c.booking.database_url, d.booking.database_url);
        assert_eq!(c.booking.public_url, d.booking.public_url);
        assert_eq!(
            c.booking.join_key_rotation_hours,
            d.booking.join_key_rotation_hours
        );
        assert!(c.booking.oidc_providers.is_empty());
    }

    #[test]
    fn tls_mode_is_set_from_the_environment() {
        let c = Config::load(
            None,
            vars(&[
                ("NARVARO_SERVER__TLS", "self_signed"),
                ("NARVARO_SERVER__TLS_NAMES", "narvaro.lan, 192.168.1.20"),
            ]),
        )
        .unwrap();
        assert_eq!(c.server.tls, TlsMode::SelfSigned);
        assert_eq!(c.server.tls_names, ["narvaro.lan", "192.168.1.20"]);
        assert_eq!(Config::default().server.tls, TlsMode::Off);
    }

    #[test]
    fn production_refuses_a_self_signed_certificate() {
        let err = Config::load(
            None,
            vars(&[
                ("NARVARO_ENV", "production"),
                ("NARVARO_SERVER__TLS", "self_signed"),
            ]),
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::Invalid(_)), "{err}");
        assert!(err.to_string().contains("self_signed"), "{err}");
        // The same certificate mode is fine in development, and files are fine in production.
        assert!(Config::load(None, vars(&[("NARVARO_SERVER__TLS", "self_signed")])).is_ok());
        assert!(
            Config::load(
                None,
                vars(&[
                    ("NARVARO_ENV", "production"),
                    ("NARVARO_SERVER__TLS", "files"),
                    ("NARVARO_SERVER__TLS_CERT", "/etc/narvaro/cert.pem"),
                    ("NARVARO_SERVER__TLS_KEY", "/etc/narvaro/key.pem"),
                ]),
            )
            .is_ok()
        );
    }

    #[test]
    fn files_mode_needs_both_paths_and_other_modes_take_none() {
        let err = Config::load(
            None,
            vars(&[
                ("NARVARO_SERVER__TLS", "files"),
                ("NARVARO_SERVER__TLS_CERT", "/c.pem"),
            ]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("tls_key"), "{err}");
        let err = Config::load(None, vars(&[("NARVARO_SERVER__TLS_CERT", "/c.pem")])).unwrap_err();
        assert!(err.to_string().contains("\"files\""), "{err}");
    }
}
