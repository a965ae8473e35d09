//! [`AppState`]: what every handler of the API, the pages and the OAI-PMH provider can
//! reach — the services and the settings they answer with.

use std::sync::Arc;

use services::indexing::IndexService;

use crate::access::Access;
use store::Store;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The store of record.
    pub store: Arc<Store>,
    /// The index and its follower.
    pub indexing: IndexService,
    /// The one search path of the API and the pages.
    pub search: services::search::SearchService,
    /// API keys and rate limits.
    pub access: Arc<Access>,
    /// Search analytics (events are queued, never written on the request path).
    pub analytics: Arc<services::analytics::Analytics>,
    /// The `[curation]` settings: cookies and image limits.
    pub curation: Arc<services::config::CurationConfig>,
    /// The data directory (the store, the index, `images/`, `dictionaries/`).
    pub data_dir: Arc<std::path::Path>,
    /// The `[oai]` settings.
    pub oai: services::config::OaiConfig,
    /// The notice at the top of every citizen page (`[pages] notice`), if any.
    pub notice: Option<Arc<str>>,
    /// The `[suggestions]` settings (readers' purchase suggestions).
    pub suggestions: services::config::SuggestionsConfig,
    /// The request metrics that `/metrics` reports.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The `[metrics]` settings: who may read `/metrics`.
    pub metrics_access: Arc<services::config::MetricsConfig>,
}
