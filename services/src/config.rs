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

use std::collections::{BTreeMap, HashSet};
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
    /// Directory holding the SQLite store (unless `[store] url` names a PostgreSQL one), the
    /// index, images and dictionaries (relative paths are relative to the config file's
    /// directory). Each node has its own.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Where the store of record is: the data directory's SQLite file, or PostgreSQL.
    #[serde(default)]
    pub store: StoreConfig,
    /// HTTP server settings.
    #[serde(default)]
    pub server: ServerConfig,
    /// Who may call the API and how often.
    #[serde(default)]
    pub api: ApiConfig,
    /// Search statistics.
    #[serde(default)]
    pub analytics: AnalyticsConfig,
    /// Curators' sessions and images, and the fetching of harvested records' images.
    #[serde(default)]
    pub curation: CurationConfig,
    /// The OAI-PMH provider at `/oai`.
    #[serde(default)]
    pub oai: OaiConfig,
    /// The citizen pages.
    #[serde(default)]
    pub pages: PagesConfig,
    /// The institutions whose collections we catalogue.
    #[serde(default)]
    pub institutions: Vec<Institution>,
    /// Where their records come from.
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// Branches (分馆) with their districts: a copy held at a branch counts under the
    /// branch's district in the region filter and facet. Changing this list reaches records
    /// indexed before the change after `jincheng reindex`.
    #[serde(default)]
    pub branches: Vec<schemas::Branch>,
    /// Mobile services (流动图书车, 舞台车, 文化车) with their stops and schedules.
    #[serde(default)]
    pub mobile_routes: Vec<schemas::MobileRoute>,
    /// Readers' purchase suggestions (读者荐购).
    #[serde(default)]
    pub suggestions: SuggestionsConfig,
    /// Who may read `/metrics`.
    #[serde(default)]
    pub metrics: MetricsConfig,
}

/// `[metrics]`: who may read the Prometheus metrics at `/metrics`.
///
/// ```toml
/// [metrics]
/// public = false                       # the default
/// token_env = "JINCHENG_METRICS_TOKEN" # the default
/// ```
///
/// Unless `public`, `/metrics` answers only clients on the loopback interface and requests
/// with `Authorization: Bearer <token>`, where the token is the value of the environment
/// variable named by `token_env` (read by [`Config::load`]; unset or empty, no token opens
/// it). Anyone else gets `404 not_found`, the answer of a route that does not exist.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Anyone may read `/metrics` (false by default).
    #[serde(default)]
    pub public: bool,
    /// The environment variable holding the bearer token (`JINCHENG_METRICS_TOKEN` by
    /// default). The token itself never goes in the config file.
    #[serde(default = "default_metrics_token_env")]
    pub token_env: String,
    /// The token read from `token_env`, if it is set and not empty.
    #[serde(skip)]
    pub token: Option<MetricsToken>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            public: false,
            token_env: default_metrics_token_env(),
            token: None,
        }
    }
}

impl MetricsConfig {
    /// Reads the token from the environment variable `token_env`.
    pub fn read_token_from_env(&mut self) {
        self.token = std::env::var(&self.token_env).ok().and_then(MetricsToken::new);
    }
}

fn default_metrics_token_env() -> String {
    "JINCHENG_METRICS_TOKEN".to_string()
}

/// The bearer token that opens `/metrics`. Its `Debug` shows no part of it, so a logged
/// config never reveals it.
#[derive(Clone, PartialEq, Eq)]
pub struct MetricsToken(String);

impl MetricsToken {
    /// The token, unless `token` is empty or only spaces.
    pub fn new(token: String) -> Option<MetricsToken> {
        let token = token.trim();
        (!token.is_empty()).then(|| MetricsToken(token.to_string()))
    }

    /// The token, to compare in constant time (`auth::secret::equal`); never to log.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(…)")
    }
}

/// `[store]`: the store of record. Without `url`, the SQLite file `jincheng.db` of the data
/// directory (one node). With a PostgreSQL `url`, any number of nodes share the store, each
/// with its own data directory and index, kept current from the store's change log.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `postgres://user@host:port/database`. Keep the password out of the file: it is read
    /// from the variable named by `password_env`.
    #[serde(default)]
    pub url: Option<String>,
    /// The environment variable holding the PostgreSQL password
    /// (`JINCHENG_STORE_PASSWORD` by default; unset: no password, or the one in `url`).
    #[serde(default = "default_password_env")]
    pub password_env: String,
    /// Connections each node opens to PostgreSQL at most (16 by default).
    #[serde(default = "default_store_connections")]
    pub connections: usize,
    /// This node's name in harvest leases (the host name and process id by default).
    #[serde(default)]
    pub node: Option<String>,
    /// How long a node's hold on a source's harvest lasts without renewal (`60s` by
    /// default); a node renews it every third of that while it harvests. When a node dies,
    /// another takes the source over once this has passed, and resumes from its checkpoint.
    #[serde(default = "default_harvest_lease", with = "humantime_serde_compat")]
    pub harvest_lease: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            url: None,
            password_env: default_password_env(),
            connections: default_store_connections(),
            node: None,
            harvest_lease: default_harvest_lease(),
        }
    }
}

impl StoreConfig {
    /// This node's name in harvest leases.
    pub fn node_name(&self) -> String {
        self.node.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_owned())
                .unwrap_or_else(|_| "node".into());
            format!("{host}-{}", std::process::id())
        })
    }

    /// The PostgreSQL password from the environment, if set.
    pub fn password(&self) -> Option<String> {
        std::env::var(&self.password_env).ok().filter(|p| !p.is_empty())
    }
}

fn default_password_env() -> String {
    "JINCHENG_STORE_PASSWORD".into()
}

fn default_store_connections() -> usize {
    16
}

fn default_harvest_lease() -> Duration {
    Duration::from_secs(60)
}

/// `[suggestions]`: readers' purchase suggestions.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuggestionsConfig {
    /// Days a contact left for a reply is kept (90 by default); then it is deleted.
    #[serde(default = "default_contact_retention_days")]
    pub contact_retention_days: u32,
    /// Suggestions one client address may send, e.g. `"10/h"` (pages and API together).
    #[serde(default = "default_suggestion_rate")]
    pub rate_per_ip: Rate,
}

impl Default for SuggestionsConfig {
    fn default() -> Self {
        SuggestionsConfig {
            contact_retention_days: default_contact_retention_days(),
            rate_per_ip: default_suggestion_rate(),
        }
    }
}

fn default_contact_retention_days() -> u32 {
    90
}

fn default_suggestion_rate() -> Rate {
    Rate {
        requests: 10,
        per: Duration::from_secs(3600),
    }
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
    /// Most connections open at once (1024 by default). One more is answered `503` with a
    /// JSON error and closed, so file descriptors never run out.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Time a client has to send a request's headers, `10s` by default: from accepting the
    /// connection to the first request (protocol detection included), and between requests
    /// on an idle HTTP/1 keep-alive connection. A connection that sends nothing is closed.
    #[serde(default = "default_header_read_timeout", with = "humantime_serde_compat")]
    pub header_read_timeout: Duration,
    /// Time a connection may stay open with no request in flight, `60s` by default (HTTP/2
    /// connections are then told to go away; HTTP/1 ones are bounded by `header_read_timeout`
    /// already).
    #[serde(default = "default_idle_timeout", with = "humantime_serde_compat")]
    pub idle_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: default_bind(),
            request_timeout: default_request_timeout(),
            max_connections: default_max_connections(),
            header_read_timeout: default_header_read_timeout(),
            idle_timeout: default_idle_timeout(),
        }
    }
}

impl ServerConfig {
    fn check(&self) -> anyhow::Result<()> {
        if !(1..=MAX_CONNECTIONS).contains(&self.max_connections) {
            bail!("[server] max_connections must be from 1 to {MAX_CONNECTIONS}");
        }
        if self.header_read_timeout.is_zero() || self.idle_timeout.is_zero() {
            bail!("[server] header_read_timeout and idle_timeout must be longer than 0s");
        }
        Ok(())
    }
}

/// Largest `[server] max_connections` (far beyond any file-descriptor limit).
pub const MAX_CONNECTIONS: usize = 1_000_000;

fn default_max_connections() -> usize {
    1024
}

fn default_header_read_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_idle_timeout() -> Duration {
    Duration::from_secs(60)
}

/// `[analytics]`: how long raw search events are kept before they are rolled up into daily
/// aggregates (which are kept).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsConfig {
    /// Days of raw events (at least 1).
    #[serde(default = "default_retention_days")]
    pub raw_retention_days: u32,
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        AnalyticsConfig {
            raw_retention_days: default_retention_days(),
        }
    }
}

/// `[pages]`: the citizen pages.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagesConfig {
    /// A notice shown at the top of every citizen page, e.g. that the holdings are sample
    /// data (the demo sets one); at most [`MAX_NOTICE_CHARS`] characters of plain text.
    #[serde(default)]
    pub notice: Option<String>,
}

/// Longest `[pages] notice`.
pub const MAX_NOTICE_CHARS: usize = 500;

/// `[oai]`: the provider at `/oai` that higher levels harvest.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OaiConfig {
    /// Records (or headers) per ListRecords / ListIdentifiers page, 1 to
    /// [`MAX_OAI_PAGE_SIZE`]; 100 by default. Larger pages mean fewer requests for a
    /// harvester and longer responses.
    #[serde(default = "default_oai_page_size")]
    pub page_size: usize,
}

/// Largest `[oai] page_size`.
pub const MAX_OAI_PAGE_SIZE: usize = 1_000;

impl Default for OaiConfig {
    fn default() -> Self {
        OaiConfig {
            page_size: default_oai_page_size(),
        }
    }
}

fn default_oai_page_size() -> usize {
    100
}

/// Raw search events older than this many days are rolled up into daily aggregates and
/// removed, unless `[analytics] raw_retention_days` says otherwise.
pub const RAW_RETENTION_DAYS: u32 = 90;

fn default_retention_days() -> u32 {
    RAW_RETENTION_DAYS
}

/// `[curation]`: session cookies, the limits every image is decoded under (curators'
/// uploads and harvested records' image links alike), and the background fetching of those
/// links.
///
/// ```toml
/// [curation]
/// secure_cookies = true          # behind HTTPS
/// max_image_bytes = 10485760
/// max_image_width = 12000
/// max_image_height = 12000
/// max_image_megapixels = 40
/// [curation.remote_images]
/// enabled = true
/// concurrency = 2
/// max_attempts = 5
/// retry_after = "60s"            # doubles with each failed attempt, up to 6 h
/// allow_internal_addresses = false
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurationConfig {
    /// Whether session and CSRF cookies get the `Secure` attribute: set it when the server is
    /// reached over HTTPS (typically behind a TLS-terminating proxy).
    #[serde(default)]
    pub secure_cookies: bool,
    /// Largest image accepted, in bytes (an upload, or a fetched image link).
    #[serde(default = "default_max_image_bytes")]
    pub max_image_bytes: usize,
    /// Widest image decoded, in pixels.
    #[serde(default = "default_max_image_side")]
    pub max_image_width: u32,
    /// Tallest image decoded, in pixels.
    #[serde(default = "default_max_image_side")]
    pub max_image_height: u32,
    /// The pixel budget: most pixels (width × height, in millions) an image may have to be
    /// decoded at all. 40 megapixels is more than any camera photo of an exhibit needs and
    /// bounds one decode at about 265 MB (measured: the pixels, the resize buffers and the
    /// two stored sizes).
    #[serde(default = "default_max_image_megapixels")]
    pub max_image_megapixels: u32,
    /// Fetching harvested records' image links in the background.
    #[serde(default)]
    pub remote_images: RemoteImagesConfig,
}

impl Default for CurationConfig {
    fn default() -> Self {
        CurationConfig {
            secure_cookies: false,
            max_image_bytes: default_max_image_bytes(),
            max_image_width: default_max_image_side(),
            max_image_height: default_max_image_side(),
            max_image_megapixels: default_max_image_megapixels(),
            remote_images: RemoteImagesConfig::default(),
        }
    }
}

impl CurationConfig {
    /// The limits images are decoded under.
    pub fn image_limits(&self) -> ImageLimits {
        ImageLimits {
            max_bytes: self.max_image_bytes,
            max_width: self.max_image_width,
            max_height: self.max_image_height,
            max_pixels: u64::from(self.max_image_megapixels) * 1_000_000,
            ..ImageLimits::default()
        }
    }

    /// The environment variables of earlier versions (`JINCHENG_SECURE_COOKIES=1`,
    /// `JINCHENG_MAX_IMAGE_BYTES=…`), still honoured when set; the config file is the
    /// documented way.
    fn apply_legacy_env(&mut self) {
        if std::env::var("JINCHENG_SECURE_COOKIES").is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes")) {
            self.secure_cookies = true;
        }
        if let Some(bytes) = std::env::var("JINCHENG_MAX_IMAGE_BYTES")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|&b: &usize| b > 0)
        {
            self.max_image_bytes = bytes;
        }
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.max_image_bytes == 0 {
            bail!("[curation] max_image_bytes must be at least 1");
        }
        if self.max_image_width == 0 || self.max_image_height == 0 {
            bail!("[curation] max_image_width and max_image_height must be at least 1");
        }
        if !(1..=MAX_IMAGE_MEGAPIXELS).contains(&self.max_image_megapixels) {
            bail!("[curation] max_image_megapixels must be between 1 and {MAX_IMAGE_MEGAPIXELS}");
        }
        let remote = &self.remote_images;
        if !(1..=MAX_IMAGE_FETCH_CONCURRENCY).contains(&remote.concurrency) {
            bail!("[curation.remote_images] concurrency must be between 1 and {MAX_IMAGE_FETCH_CONCURRENCY}");
        }
        if remote.max_attempts == 0 {
            bail!("[curation.remote_images] max_attempts must be at least 1");
        }
        Ok(())
    }
}

/// Limits on images: curators' uploads and harvested records' fetched image links alike.
/// Set in the config's `[curation]` section ([`CurationConfig::image_limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest upload, in bytes.
    pub max_bytes: usize,
    /// Widest image, in pixels.
    pub max_width: u32,
    /// Tallest image, in pixels.
    pub max_height: u32,
    /// The pixel budget: most pixels (width × height) decoded.
    pub max_pixels: u64,
    /// Most memory a decode may allocate, in bytes.
    pub max_alloc: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            max_bytes: 10 * 1024 * 1024,
            max_width: 12_000,
            max_height: 12_000,
            max_pixels: u64::from(default_max_image_megapixels()) * 1_000_000,
            max_alloc: 256 * 1024 * 1024,
        }
    }
}

/// Largest `[curation] max_image_megapixels`: the decoder's allocation cap (256 MiB at four
/// bytes a pixel) is the ceiling anyway.
const MAX_IMAGE_MEGAPIXELS: u32 = 64;

fn default_max_image_megapixels() -> u32 {
    40
}

/// Most image links fetched at once.
const MAX_IMAGE_FETCH_CONCURRENCY: usize = 16;

/// `[curation.remote_images]`: the background fetching of harvested records' image links,
/// so that pages show local thumbnails instead of hot-linking the institutions' servers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteImagesConfig {
    /// Whether links are fetched at all (they are always recorded).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Links fetched at the same time (1-16).
    #[serde(default = "default_image_fetch_concurrency")]
    pub concurrency: usize,
    /// Attempts per link before a temporary failure (timeout, 5xx) becomes final.
    #[serde(default = "default_image_fetch_attempts")]
    pub max_attempts: u32,
    /// The wait before the first retry of a temporary failure; it doubles with each failed
    /// attempt, up to six hours.
    #[serde(default = "default_image_fetch_retry", with = "humantime_serde_compat")]
    pub retry_after: Duration,
    /// Whether links may point at loopback and private addresses. Links come from harvested
    /// records, which anyone who can edit a source's catalogue controls, so by default only
    /// public addresses are fetched (the SSRF guard of `harvesters::AddressPolicy`); the
    /// loopback demo and tests turn this on.
    #[serde(default)]
    pub allow_internal_addresses: bool,
}

impl Default for RemoteImagesConfig {
    fn default() -> Self {
        RemoteImagesConfig {
            enabled: true,
            concurrency: default_image_fetch_concurrency(),
            max_attempts: default_image_fetch_attempts(),
            retry_after: default_image_fetch_retry(),
            allow_internal_addresses: false,
        }
    }
}

impl RemoteImagesConfig {
    /// The address policy the fetches run under.
    pub fn address_policy(&self) -> harvesters::AddressPolicy {
        if self.allow_internal_addresses {
            harvesters::AddressPolicy::AllowAll
        } else {
            harvesters::AddressPolicy::PublicOnly
        }
    }
}

fn yes() -> bool {
    true
}

fn default_max_image_bytes() -> usize {
    10 * 1024 * 1024
}

fn default_max_image_side() -> u32 {
    12_000
}

fn default_image_fetch_concurrency() -> usize {
    2
}

fn default_image_fetch_attempts() -> u32 {
    5
}

fn default_image_fetch_retry() -> Duration {
    Duration::from_secs(60)
}

/// `[api]`: API keys, rate limits, proxies and CORS.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Whether the public read routes need an `X-API-Key`.
    #[serde(default)]
    pub keys: KeyPolicy,
    /// Route areas that always need a key (e.g. `["export"]`).
    #[serde(default)]
    pub keys_required_for: Vec<String>,
    /// Limit per API key, e.g. `"1200/min"`.
    #[serde(default = "default_rate_per_key")]
    pub rate_per_key: Rate,
    /// Limit per client address for requests without a key, e.g. `"300/min"`.
    #[serde(default = "default_rate_per_ip")]
    pub rate_per_ip: Rate,
    /// Limit per client address on the pages (`/`, `/search`, `/records/…`, `/curator/…`,
    /// the login form included) and the OAI-PMH provider at `/oai`, counted apart from the
    /// API's.
    #[serde(default = "default_rate_per_ip")]
    pub rate_per_ip_pages: Rate,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Origins allowed to call the API from a browser (CORS); none by default.
    #[serde(default)]
    pub cors_origins: Vec<String>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            keys: KeyPolicy::default(),
            keys_required_for: Vec::new(),
            rate_per_key: default_rate_per_key(),
            rate_per_ip: default_rate_per_ip(),
            rate_per_ip_pages: default_rate_per_ip(),
            trusted_proxies: Vec::new(),
            cors_origins: Vec::new(),
        }
    }
}

/// Whether API keys are needed on the public read routes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyPolicy {
    /// Anyone may search; a key raises the client's limit to the per-key one.
    #[default]
    Optional,
    /// Every public read needs a key.
    Required,
}

/// A rate: `requests` per `per`, written `"300/min"` (`/s`, `/min`, `/h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per period (also the burst size).
    pub requests: u32,
    /// The period.
    pub per: Duration,
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Rate, D::Error> {
        let text = String::deserialize(d)?;
        let bad =
            || serde::de::Error::custom(format!("rate {text:?} must look like \"300/min\" (/s, /min, /h)"));
        let (n, unit) = text.split_once('/').ok_or_else(bad)?;
        let requests: u32 = n.trim().parse().map_err(|_| bad())?;
        let per = match unit.trim() {
            "s" => Duration::from_secs(1),
            "min" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        if requests == 0 {
            return Err(bad());
        }
        Ok(Rate { requests, per })
    }
}

fn default_rate_per_key() -> Rate {
    Rate {
        requests: 6000,
        per: Duration::from_secs(60),
    }
}

fn default_rate_per_ip() -> Rate {
    Rate {
        requests: 600,
        per: Duration::from_secs(60),
    }
}

/// The protocols a source can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// OAI-PMH 2.0 (`metadata_prefix` `oai_dc`, `marcxml` or `jincheng`).
    OaiPmh,
    /// A MARC21 or CNMARC file, ISO 2709 or MARCXML (`format`, optional `encoding`).
    Marc,
    /// A LIDO XML file of museum objects.
    Lido,
    /// A CSV export (`id_field`, `[sources.mapping]` columns, optional `separators`, `encoding`).
    Csv,
    /// A paged JSON API (`records_path`, `id_field`, `[sources.mapping]` paths, `paging`).
    Json,
    /// An RSS 2.0 or Atom activity feed.
    Feed,
}

impl Protocol {
    /// The name used in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::OaiPmh => "oai-pmh",
            Protocol::Marc => "marc",
            Protocol::Lido => "lido",
            Protocol::Csv => "csv",
            Protocol::Json => "json",
            Protocol::Feed => "feed",
        }
    }
}

/// MARC flavours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MarcFlavour {
    /// MARC 21.
    Marc21,
    /// CNMARC (China's UNIMARC).
    Cnmarc,
}

/// How a JSON API pages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PagingConfig {
    /// `?page=1&size=50`, `page=2`, …
    PageNumber {
        /// Page parameter name.
        param: String,
        /// First page number (usually 1 or 0).
        #[serde(default = "one")]
        start: u64,
        /// Page size parameter name, if any.
        size_param: Option<String>,
        /// Page size.
        #[serde(default = "fifty")]
        size: u64,
    },
    /// `?offset=0&limit=50`, `offset=50`, …
    Offset {
        /// Offset parameter name.
        param: String,
        /// Page size parameter name, if any.
        size_param: Option<String>,
        /// Page size.
        #[serde(default = "fifty")]
        size: u64,
    },
    /// Each page names the next one's URL at this JSON path.
    NextLink {
        /// Dotted path of the next URL, e.g. `links.next`.
        path: String,
    },
}

fn one() -> u64 {
    1
}

fn fifty() -> u64 {
    50
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
    /// Where it is on the web (OAI-PMH base URL, file URL, API URL, feed URL)…
    #[serde(default)]
    pub url: Option<url::Url>,
    /// …or on disk (relative to the config file), for file-based protocols.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// OAI-PMH metadata format.
    #[serde(default = "default_metadata_prefix")]
    pub metadata_prefix: String,
    /// OAI-PMH set to harvest selectively.
    #[serde(default)]
    pub set: Option<String>,
    /// MARC flavour.
    #[serde(default)]
    pub format: Option<MarcFlavour>,
    /// Character encoding when it cannot be detected (`utf-8`, `gb18030`, `marc-8`).
    #[serde(default)]
    pub encoding: Option<String>,
    /// CSV column or JSON path holding the record's id.
    #[serde(default)]
    pub id_field: Option<String>,
    /// JSON path of the array of records in a page, e.g. `data.items`.
    #[serde(default)]
    pub records_path: Option<String>,
    /// JSON paging.
    #[serde(default)]
    pub paging: Option<PagingConfig>,
    /// Record field → CSV column or JSON path (`title = "题名"`).
    #[serde(default)]
    pub mapping: BTreeMap<String, String>,
    /// Record field → separator of multiple values in one cell (`creators = "；"`).
    #[serde(default)]
    pub separators: BTreeMap<String, String>,
    /// CSV delimiter (default `,`).
    #[serde(default)]
    pub delimiter: Option<char>,
    /// Fields a CSV row or JSON record must have (understood), else it is quarantined; the
    /// title always is.
    #[serde(default)]
    pub required: Vec<String>,
    /// Resource type of CSV/JSON records that do not say (a museum's export: `artefact`).
    #[serde(default)]
    pub resource_type: Option<schemas::ResourceType>,
    /// The largest remote dump file downloaded for it, in bytes (default 8 GiB); local
    /// files have no limit. Dumps are streamed, never held in memory, whatever their size.
    #[serde(default)]
    pub max_bytes: Option<u64>,
    /// How often `serve` harvests it again (`30m`, `6h`, `1d`); absent means only at start.
    #[serde(default, with = "humantime_serde_compat::option")]
    pub interval: Option<Duration>,
}

/// Where a source's data is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location<'a> {
    /// On the web.
    Url(&'a url::Url),
    /// On disk.
    Path(&'a Path),
}

impl SourceConfig {
    /// Where its data is (the config check guarantees exactly one).
    pub fn location(&self) -> Option<Location<'_>> {
        match (&self.url, &self.path) {
            (Some(url), _) => Some(Location::Url(url)),
            (None, Some(path)) => Some(Location::Path(path)),
            (None, None) => None,
        }
    }

    /// Checks the keys its protocol needs.
    fn check(&self) -> anyhow::Result<()> {
        let id = &self.id;
        match (&self.url, &self.path) {
            (Some(_), Some(_)) => bail!("source {id:?}: give url or path, not both"),
            (None, None) => bail!("source {id:?}: needs a url or a path"),
            (Some(url), None) if !matches!(url.scheme(), "http" | "https") => {
                bail!("source {id:?}: url must be http or https")
            }
            _ => {}
        }
        let needs_url = matches!(self.protocol, Protocol::OaiPmh | Protocol::Json);
        if needs_url && self.url.is_none() {
            bail!("source {id:?}: protocol {} needs a url", self.protocol.as_str());
        }
        match self.protocol {
            Protocol::Marc if self.format.is_none() => {
                bail!("source {id:?}: protocol marc needs format = \"marc21\" or \"cnmarc\"")
            }
            Protocol::Csv | Protocol::Json => {
                if self.id_field.is_none() {
                    bail!(
                        "source {id:?}: protocol {} needs id_field",
                        self.protocol.as_str()
                    );
                }
                if !self.mapping.contains_key("title") {
                    bail!("source {id:?}: [sources.mapping] needs at least title");
                }
                if self.protocol == Protocol::Json && self.records_path.is_none() {
                    bail!("source {id:?}: protocol json needs records_path");
                }
            }
            _ => {}
        }
        Ok(())
    }
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
        config.curation.apply_legacy_env();
        config.metrics.read_token_from_env();
        let base = path.parent().unwrap_or(Path::new("."));
        if config.data_dir.is_relative() {
            config.data_dir = base.join(&config.data_dir);
        }
        for source in &mut config.sources {
            if let Some(file) = source.path.as_mut().filter(|p| p.is_relative()) {
                *file = base.join(&*file);
            }
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
        if let Some(url) = &self.store.url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            bail!(
                "[store] url must be a postgres:// URL (without it, the store is the data directory's SQLite file)"
            );
        }
        if self.store.connections == 0 || self.store.harvest_lease < Duration::from_secs(1) {
            bail!("[store] connections must be at least 1 and harvest_lease at least 1s");
        }
        if let Some(notice) = &self.pages.notice
            && (notice.trim().is_empty() || notice.chars().count() > MAX_NOTICE_CHARS)
        {
            bail!("[pages] notice must be 1 to {MAX_NOTICE_CHARS} characters");
        }
        let mut institutions = HashSet::new();
        for institution in &self.institutions {
            if let Err(errors) = institution.validate() {
                bail!("institution {:?}: {errors}", institution.id);
            }
            if !institutions.insert(institution.id.as_str()) {
                bail!("institution {:?} is declared twice", institution.id);
            }
        }
        if let Some(problem) = schemas::network_problem(&self.institutions) {
            bail!("{problem}");
        }
        let mut routes = HashSet::new();
        for route in &self.mobile_routes {
            if let Err(errors) = route.validate() {
                bail!("mobile route {:?}: {errors}", route.id);
            }
            if !routes.insert(route.id.as_str()) {
                bail!("mobile route {:?} is declared twice", route.id);
            }
            if !institutions.contains(route.institution.as_str()) {
                bail!(
                    "mobile route {:?} names institution {:?}, which is not declared",
                    route.id,
                    route.institution
                );
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
            if source.id.starts_with("curated-") {
                bail!(
                    "source id {:?}: ids starting with curated- are reserved for curated records",
                    source.id
                );
            }
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
            source.check()?;
        }
        let mut branches = HashSet::new();
        for branch in &self.branches {
            if !institutions.contains(branch.institution.as_str()) {
                bail!(
                    "branch {:?} names institution {:?}, which is not declared",
                    branch.name,
                    branch.institution
                );
            }
            if branch.name.trim().is_empty() {
                bail!("a branch of {:?} has no name", branch.institution);
            }
            if !branches.insert((branch.institution.as_str(), branch.name.trim())) {
                bail!(
                    "branch {:?} of {:?} is declared twice",
                    branch.name,
                    branch.institution
                );
            }
        }
        if !(1..=MAX_OAI_PAGE_SIZE).contains(&self.oai.page_size) {
            bail!("[oai] page_size must be from 1 to {MAX_OAI_PAGE_SIZE}");
        }
        if self.analytics.raw_retention_days == 0 {
            bail!("[analytics] raw_retention_days must be at least 1");
        }
        self.server.check()?;
        self.curation.check()?;
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
    fn a_page_notice_is_plain_text_of_bounded_length() {
        assert_eq!(Config::parse(EXAMPLE).unwrap().pages.notice, None);
        let with = |notice: &str| Config::parse(&format!("{EXAMPLE}\n[pages]\nnotice = {notice:?}\n"));
        assert_eq!(
            with("示例数据").unwrap().pages.notice.as_deref(),
            Some("示例数据")
        );
        assert!(with("  ").is_err());
        assert!(with(&"长".repeat(MAX_NOTICE_CHARS + 1)).is_err());
    }

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
        assert_eq!(config.server.max_connections, 1024);
        assert_eq!(config.server.header_read_timeout, Duration::from_secs(10));
        assert_eq!(config.server.idle_timeout, Duration::from_secs(60));
        let limited = EXAMPLE.replace(
            "[server]\n",
            "[server]\nmax_connections = 8\nheader_read_timeout = \"2s\"\nidle_timeout = \"5s\"\n",
        );
        let server = Config::parse(&limited).unwrap().server;
        assert_eq!(
            (
                server.max_connections,
                server.header_read_timeout,
                server.idle_timeout
            ),
            (8, Duration::from_secs(2), Duration::from_secs(5))
        );
        assert!(Config::parse(&EXAMPLE.replace("[server]\n", "[server]\nmax_connections = 0\n")).is_err());
        assert_eq!(config.api.keys, KeyPolicy::Optional);

        let with_api = format!(
            "{EXAMPLE}\n[api]\nkeys = \"required\"\nrate_per_ip = \"30/s\"\ntrusted_proxies = [\"127.0.0.1\"]\n"
        );
        let config = Config::parse(&with_api).unwrap();
        assert_eq!(config.api.keys, KeyPolicy::Required);
        assert_eq!(
            config.api.rate_per_ip,
            Rate {
                requests: 30,
                per: Duration::from_secs(1)
            }
        );
        assert!(Config::parse(&with_api.replace("30/s", "lots")).is_err());
    }

    #[test]
    fn metrics_are_closed_by_default_and_the_token_stays_out_of_the_file() {
        let config = Config::parse(EXAMPLE).unwrap();
        assert!(!config.metrics.public);
        assert_eq!(config.metrics.token_env, "JINCHENG_METRICS_TOKEN");
        assert!(config.metrics.token.is_none());
        let open = Config::parse(&format!(
            "{EXAMPLE}\n[metrics]\npublic = true\ntoken_env = \"SCRAPE_TOKEN\"\n"
        ))
        .unwrap();
        assert!(open.metrics.public);
        assert_eq!(open.metrics.token_env, "SCRAPE_TOKEN");
        assert!(Config::parse(&format!("{EXAMPLE}\n[metrics]\ntoken = \"s3cret\"\n")).is_err());
        assert!(MetricsToken::new("  ".into()).is_none());
        let token = MetricsToken::new(" s3cret ".into()).unwrap();
        assert_eq!(token.expose(), "s3cret");
        assert!(!format!("{token:?}").contains("s3cret"));
    }

    /// The venue shape the README documents.
    const VENUES: &str = r#"
[[institutions]]
id = "lzlib"
name = "兰州市图书馆"
type = "library"
district = "城关区"
[institutions.venue]
kind = "main"
address = "兰州市城关区（示例地址）"
geo = { lat = 36.06, lon = 103.83 }
phone = "0931-0000000"
website = "https://example.cn"
facilities = ["blind_reading_seats", "step_free_access", "self_service_loans"]
admission = { kind = "free", note = "凭身份证入馆" }
[institutions.venue.hours]
note = "周一闭馆"
weekly = { tue = ["09:00-12:00", "14:00-21:00"], wed = ["09:00-21:00"], sun = ["09:00-17:00"] }
[[institutions.venue.hours.seasons]]
name = "夏季"
from = "07-01"
until = "08-31"
weekly = { mon = ["08:00-22:00"], tue = ["08:00-22:00"] }
[[institutions.venue.hours.exceptions]]
date = "2026-10-01"
until = "2026-10-07"
note = "国庆节闭馆"

[[institutions]]
id = "lzlib-hp"
name = "和平镇服务点"
type = "library"
district = "榆中县"
level = "village"
[institutions.venue]
kind = "service_point"
parent = "lzlib"
hours = { weekly = { sat = ["00:00-24:00"] } }

[[mobile_routes]]
id = "lzlib-bus"
name = "流动图书车"
kind = "mobile_library"
institution = "lzlib"
[[mobile_routes.stops]]
name = "和平镇广场"
district = "榆中县"
geo = { lat = 35.95, lon = 104.05 }
schedule = [{ weekday = "wed", time = "10:00-11:30" }, { dates = ["2026-12-24"], time = "14:00-15:00" }]
"#;

    #[test]
    fn venues_and_mobile_routes_parse_and_are_checked() {
        let config = Config::parse(VENUES).unwrap();
        let venue = config.institutions[0].venue.as_ref().unwrap();
        assert_eq!(venue.facilities.len(), 3);
        assert_eq!(venue.geo.unwrap().lat, 36.06);
        let hours = venue.hours.as_ref().unwrap();
        assert_eq!(hours.weekly.tue, ["09:00-12:00", "14:00-21:00"]);
        assert_eq!(hours.exceptions[0].until.as_deref(), Some("2026-10-07"));
        assert_eq!(
            config.institutions[1].venue.as_ref().unwrap().kind,
            Some(schemas::ServicePointKind::ServicePoint)
        );
        assert_eq!(config.mobile_routes[0].stops[0].schedule.len(), 2);

        let past_midnight = VENUES.replace("\"09:00-21:00\"", "\"20:00-02:00\"");
        let err = Config::parse(&past_midnight).unwrap_err().to_string();
        assert!(
            err.contains("venue.hours.weekly.wed[0]") && err.contains("24:00"),
            "{err}"
        );
        let orphan = VENUES.replace("parent = \"lzlib\"", "parent = \"nope\"");
        let err = Config::parse(&orphan).unwrap_err().to_string();
        assert!(err.contains("\"nope\""), "{err}");
        let far = VENUES.replace("lat = 36.06", "lat = 136.06");
        let err = Config::parse(&far).unwrap_err().to_string();
        assert!(err.contains("venue.geo.lat"), "{err}");
        let unknown_facility = VENUES.replace("\"step_free_access\"", "\"swimming_pool\"");
        assert!(Config::parse(&unknown_facility).is_err());
        let stray_route = VENUES.replace(
            "institution = \"lzlib\"\n[[mobile_routes.stops]]",
            "institution = \"x\"\n[[mobile_routes.stops]]",
        );
        let err = Config::parse(&stray_route).unwrap_err().to_string();
        assert!(err.contains("mobile route"), "{err}");
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

        let marc_without_format = EXAMPLE.replace("protocol = \"oai-pmh\"", "protocol = \"marc\"");
        let err = Config::parse(&marc_without_format).unwrap_err().to_string();
        assert!(err.contains("format"), "{err}");
    }

    #[test]
    fn every_protocol_has_its_keys() {
        let text = r#"
[[institutions]]
id = "m"
name = "兰州市博物馆"
type = "museum"
[[sources]]
id = "m-csv"
institution = "m"
protocol = "csv"
path = "exports/objects.csv"
encoding = "gb18030"
id_field = "藏品编号"
[sources.mapping]
title = "名称"
date = "年代"
[sources.separators]
creators = "；"
[[sources]]
id = "m-json"
institution = "m"
protocol = "json"
url = "https://museum.example/api/objects"
records_path = "data.items"
id_field = "id"
paging = { kind = "page_number", param = "page", size_param = "size", size = 100 }
[sources.mapping]
title = "name"
[[sources]]
id = "m-marc"
institution = "m"
protocol = "marc"
format = "cnmarc"
url = "https://museum.example/export.mrc"
[[sources]]
id = "m-feed"
institution = "m"
protocol = "feed"
url = "https://museum.example/events.rss"
"#;
        let config = Config::parse(text).unwrap();
        assert_eq!(config.sources[0].mapping["title"], "名称");
        assert_eq!(
            config.sources[0].location(),
            Some(Location::Path(Path::new("exports/objects.csv")))
        );
        assert_eq!(
            config.sources[1].paging,
            Some(PagingConfig::PageNumber {
                param: "page".into(),
                start: 1,
                size_param: Some("size".into()),
                size: 100
            })
        );
        assert_eq!(config.sources[2].format, Some(MarcFlavour::Cnmarc));
        assert_eq!(config.sources[3].protocol, Protocol::Feed);
    }

    #[test]
    fn curation_defaults_when_absent() {
        let config = Config::parse(EXAMPLE).unwrap();
        assert_eq!(config.curation, CurationConfig::default());
        assert!(!config.curation.secure_cookies);
        let limits = config.curation.image_limits();
        assert_eq!(limits.max_bytes, 10 * 1024 * 1024);
        assert_eq!((limits.max_width, limits.max_height), (12_000, 12_000));
        let remote = &config.curation.remote_images;
        assert!(remote.enabled);
        assert_eq!((remote.concurrency, remote.max_attempts), (2, 5));
        assert_eq!(remote.address_policy(), harvesters::AddressPolicy::PublicOnly);
    }

    #[test]
    fn curation_section_parses() {
        let text = format!(
            "{EXAMPLE}\n[curation]\nsecure_cookies = true\nmax_image_bytes = 2048\nmax_image_width = 800\nmax_image_height = 600\nmax_image_megapixels = 12\n[curation.remote_images]\nenabled = false\nconcurrency = 4\nmax_attempts = 2\nallow_internal_addresses = true\n"
        );
        let curation = Config::parse(&text).unwrap().curation;
        assert!(curation.secure_cookies);
        let limits = curation.image_limits();
        assert_eq!(
            (
                limits.max_bytes,
                limits.max_width,
                limits.max_height,
                limits.max_pixels
            ),
            (2048, 800, 600, 12_000_000)
        );
        let remote = curation.remote_images;
        assert!(!remote.enabled);
        assert_eq!((remote.concurrency, remote.max_attempts), (4, 2));
        assert_eq!(remote.address_policy(), harvesters::AddressPolicy::AllowAll);

        // Only the keys given change.
        let partial = format!("{EXAMPLE}\n[curation.remote_images]\nconcurrency = 3\n");
        let curation = Config::parse(&partial).unwrap().curation;
        assert_eq!(curation.remote_images.concurrency, 3);
        assert_eq!(curation.max_image_bytes, 10 * 1024 * 1024);
    }

    #[test]
    fn curation_mistakes_are_named() {
        for (section, needle) in [
            ("[curation]\nmax_image_bytes = 0", "max_image_bytes"),
            ("[curation]\nmax_image_width = 0", "max_image_width"),
            ("[curation]\nmax_image_megapixels = 0", "max_image_megapixels"),
            ("[curation]\nmax_image_megapixels = 1000", "max_image_megapixels"),
            ("[curation]\nsecure_cookie = true", "secure_cookie"),
            ("[curation]\nmax_image_bytes = -1", "max_image_bytes"),
            ("[curation]\nsecure_cookies = \"yes\"", "secure_cookies"),
            ("[curation.remote_images]\nconcurrency = 0", "concurrency"),
            ("[curation.remote_images]\nconcurrency = 100", "concurrency"),
            ("[curation.remote_images]\nmax_attempts = 0", "max_attempts"),
            ("[curation.remote_images]\nparallel = 2", "parallel"),
            ("[oai]\npage_size = 0", "page_size"),
            ("[oai]\npage_size = 100000", "page_size"),
            ("[oai]\npagesize = 10", "pagesize"),
        ] {
            let err = format!(
                "{:#}",
                Config::parse(&format!("{EXAMPLE}\n{section}\n")).unwrap_err()
            );
            assert!(err.contains(needle), "{section}: {err}");
        }
    }
}
