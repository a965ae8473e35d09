//! The configuration file: where data lives, what to bind, which institutions and sources.
//!
//! ```toml
//! data_dir = "data"
//! [server]
//! bind = "127.0.0.1:8080"
//! [[institutions]]
//! id = "lzlib"
//! name = "兰州市图书馆"
//! type = "library"
//! district = "城关区"
//! [[sources]]
//! id = "lzlib-oai"
//! institution = "lzlib"
//! protocol = "oai-pmh"
//! url = "http://127.0.0.1:8765/oai"
//! metadata_prefix = "oai_dc"
//! interval = "6h"
//! ```

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use schemas::Institution;
use serde::Deserialize;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Directory holding the SQLite store and the index (relative paths are relative to the
    /// config file's directory).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// HTTP server settings.
    #[serde(default)]
    pub server: ServerConfig,
    /// The institutions whose collections we catalogue.
    #[serde(default)]
    pub institutions: Vec<Institution>,
    /// Where their records come from.
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on.
    #[serde(default = "default_bind")]
    pub bind: SocketAddr,
    /// Longest time a request may take, e.g. `10s`.
    #[serde(default = "default_request_timeout", with = "humantime_serde_compat")]
    pub request_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: default_bind(),
            request_timeout: default_request_timeout(),
        }
    }
}

/// The protocols a source can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Protocol {
    /// OAI-PMH 2.0.
    #[serde(rename = "oai-pmh")]
    OaiPmh,
}

/// `[[sources]]`: one remote collection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Stable id, used in record ids (`{source}:{local id}`): letters, digits, `-`, `_`.
    pub id: String,
    /// The institution whose records these are.
    pub institution: String,
    /// How to talk to it.
    pub protocol: Protocol,
    /// Base URL.
    pub url: url::Url,
    /// OAI-PMH metadata format.
    #[serde(default = "default_metadata_prefix")]
    pub metadata_prefix: String,
    /// OAI-PMH set to harvest selectively.
    #[serde(default)]
    pub set: Option<String>,
    /// How often `serve` harvests it again (`30m`, `6h`, `1d`); absent means only at start.
    #[serde(default, with = "humantime_serde_compat::option")]
    pub interval: Option<Duration>,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

fn default_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_request_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_metadata_prefix() -> String {
    "oai_dc".to_string()
}

impl Config {
    /// Reads and checks a config file; a relative `data_dir` is taken from the file's folder.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut config = Config::parse(&text).with_context(|| format!("in {}", path.display()))?;
        if config.data_dir.is_relative() {
            let base = path.parent().unwrap_or(Path::new("."));
            config.data_dir = base.join(&config.data_dir);
        }
        Ok(config)
    }

    /// Parses and checks config text.
    pub fn parse(text: &str) -> anyhow::Result<Config> {
        let config: Config = toml::from_str(text)?;
        config.check()?;
        Ok(config)
    }

    /// Cross-checks: unique ids, sources pointing at declared institutions, valid ids.
    fn check(&self) -> anyhow::Result<()> {
        let mut institutions = HashSet::new();
        for institution in &self.institutions {
            if let Err(errors) = institution.validate() {
                bail!("institution {:?}: {errors}", institution.id);
            }
            if !institutions.insert(institution.id.as_str()) {
                bail!("institution {:?} is declared twice", institution.id);
            }
        }
        let mut sources = HashSet::new();
        for source in &self.sources {
            let slug = !source.id.is_empty()
                && source.id.len() <= 64
                && source
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !slug {
                bail!(
                    "source id {:?} must be 1-64 ASCII letters, digits, - or _",
                    source.id
                );
            }
            if !sources.insert(source.id.as_str()) {
                bail!("source {:?} is declared twice", source.id);
            }
            if !institutions.contains(source.institution.as_str()) {
                bail!(
                    "source {:?} names institution {:?}, which is not declared",
                    source.id,
                    source.institution
                );
            }
            if !matches!(source.url.scheme(), "http" | "https") {
                bail!("source {:?}: url must be http or https", source.id);
            }
        }
        Ok(())
    }

    /// The institution with this id.
    pub fn institution(&self, id: &str) -> Option<&Institution> {
        self.institutions.iter().find(|i| i.id == id)
    }
}

/// Durations written the human way (`10s`, `6h`) in TOML.
mod humantime_serde_compat {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(serde::de::Error::custom)
    }

    pub mod option {
        use super::*;

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
            super::deserialize(d).map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
data_dir = "data"
[server]
bind = "127.0.0.1:8080"
[[institutions]]
id = "lzlib"
name = "兰州市图书馆"
type = "library"
district = "城关区"
[[sources]]
id = "lzlib-oai"
institution = "lzlib"
protocol = "oai-pmh"
url = "http://127.0.0.1:8765/oai"
metadata_prefix = "oai_dc"
set = "nlc"
interval = "6h"
"#;

    #[test]
    fn readme_example_parses() {
        let config = Config::parse(EXAMPLE).unwrap();
        assert_eq!(
            config.institutions[0].district,
            Some(schemas::District::Chengguan)
        );
        assert_eq!(config.sources[0].set.as_deref(), Some("nlc"));
        assert_eq!(config.sources[0].interval, Some(Duration::from_secs(6 * 3600)));
        assert_eq!(config.server.request_timeout, Duration::from_secs(10));
    }

    #[test]
    fn mistakes_are_named() {
        let unknown_institution = EXAMPLE.replace("institution = \"lzlib\"", "institution = \"nope\"");
        let err = Config::parse(&unknown_institution).unwrap_err().to_string();
        assert!(err.contains("\"nope\""), "{err}");

        let bad_type = EXAMPLE.replace("type = \"library\"", "type = \"zoo\"");
        let err = format!("{:#}", Config::parse(&bad_type).unwrap_err());
        assert!(err.contains("zoo"), "{err}");

        let typo = EXAMPLE.replace("metadata_prefix", "metadata_prefx");
        assert!(Config::parse(&typo).is_err());
    }
}
