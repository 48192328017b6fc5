//! The process configuration: defaults, then a TOML file (`--config`), then `NARVARO_*`
//! environment variables. Unknown keys are rejected at every layer, so a typo is an error at start
//! rather than a setting silently ignored. `narvaro.sample.toml` documents every key.
//!
//! Environment variables: `NARVARO_ENV` sets `env`; `NARVARO_<SECTION>__<KEY>` sets `key` in
//! `[section]` (e.g. `NARVARO_MEDIA__UDP_PORT=50000`). Values are read as TOML values when they
//! parse as one (`true`, `8080`, `["a", "b"]`), otherwise as strings. Other `NARVARO_*` variables
//! are not configuration (the test suite uses a few) and are left alone.

use std::net::SocketAddr;
use std::path::Path;

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
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            log_format: LogFormat::Text,
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
        table
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))
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
}
