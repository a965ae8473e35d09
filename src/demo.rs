//! `jincheng demo`: the bundled sample collections (crate `jincheng-demo`), served by OAI-PMH
//! providers mounted on our own server under `/demo/…`, harvested over real HTTP through the
//! real harvester, indexed, and searchable.

use std::path::PathBuf;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::Instance;
use services::config::Config;
use store::HarvestRun;

/// A running demo.
pub struct Demo {
    /// The instance serving it.
    pub instance: Instance,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// One run per sample collection, in config order.
    pub runs: Vec<HarvestRun>,
    /// The server task; it ends when `shutdown` resolves.
    pub server: JoinHandle<std::io::Result<()>>,
}

/// Serves on `listener`, harvests every sample collection from ourselves, and returns once
/// everything harvested is searchable. A data directory from an earlier start is reused and
/// the harvest is then incremental.
pub async fn start(
    listener: TcpListener,
    data_dir: PathBuf,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Demo> {
    let base_url = format!("http://{}", listener.local_addr()?);
    let mut config = Config::parse(&jincheng_demo::config_toml(&base_url))?;
    config.data_dir = data_dir;
    // The sample pictures are served by this very server, on loopback: the demo lets the
    // image fetcher reach it (a real deployment keeps the default, public addresses only).
    config.curation.remote_images.allow_internal_addresses = true;
    let instance = Instance::open(config)?;
    let router = instance.router().merge(jincheng_demo::router());
    let limits = crate::server::ConnectionLimits::from(&instance.config.server);
    let server = tokio::spawn(crate::server::serve_with(listener, router, limits, shutdown));
    let mut runs = Vec::new();
    for source in instance.config.sources.iter() {
        runs.push(instance.harvest(source, |_| {}).await?);
    }
    instance.wait_indexed(Duration::from_secs(120)).await?;
    store_sample_statistics(&instance)?;
    instance.spawn_popularity_refresh();
    Ok(Demo {
        instance,
        base_url,
        runs,
        server,
    })
}

/// Clearly sample service statistics (`reported_by` says so) for every institution over the
/// last 30 days, so the dashboard's service charts show something. Deterministic: a restart
/// on the same day changes nothing, and the next day adds that day.
fn store_sample_statistics(instance: &Instance) -> anyhow::Result<()> {
    let institutions = instance.store.institutions()?;
    let sample = services::statistics::demo_sample(&institutions, services::analytics::today(), 30);
    instance.store.put_service_days("demo (sample data)", &sample)?;
    Ok(())
}
