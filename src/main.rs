//! The `jincheng` command line. Thin: everything it does lives in the library.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use jincheng::Instance;
use jincheng::bench::{self, BenchOptions};
use jincheng::config::Config;
use jincheng::store::HarvestRun;
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(
    name = "jincheng",
    version,
    about = "金城 — federated catalogue and Chinese search for Lanzhou"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the bundled sample collections: harvest them over HTTP, index, then serve search.
    Demo {
        /// Port to listen on (127.0.0.1).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Data directory (reused by the next start, which then harvests incrementally).
        #[arg(long, default_value = "data/demo")]
        data: PathBuf,
    },
    /// Serve search for the institutions and sources of a config file, harvesting on schedule.
    Serve {
        /// The TOML config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Harvest all sources (or one) once into the store, print a report and exit.
    Harvest {
        /// The TOML config file.
        #[arg(long)]
        config: PathBuf,
        /// Only this source.
        source: Option<String>,
    },
    /// Rebuild the index from the store (stop the server first).
    Reindex {
        /// The TOML config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Show the last harvest runs and quarantined records.
    Report {
        /// The TOML config file.
        #[arg(long)]
        config: PathBuf,
        /// Only this source.
        source: Option<String>,
        /// How many entries of each kind.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Benchmark indexing and searching on synthetic records.
    Bench {
        /// Number of synthetic records.
        #[arg(long, default_value_t = 100_000)]
        records: usize,
        /// Times each query of the mix runs.
        #[arg(long, default_value_t = 200)]
        rounds: usize,
        /// Keep the data here instead of a temporary directory.
        #[arg(long)]
        data: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Demo { port, data } => run_demo(port, data).await,
        Command::Serve { config } => serve(Config::load(&config)?).await,
        Command::Harvest { config, source } => harvest(Config::load(&config)?, source).await,
        Command::Reindex { config } => {
            let config = Config::load(&config)?;
            let store = jincheng::store::Store::open(&config.data_dir.join("jincheng.db"))?;
            let index = indexer::Index::open_or_create(&config.data_dir.join("index"))?;
            let watermark = jincheng::indexing::rebuild(&store, &index)?;
            println!(
                "reindexed {} records (up to change {watermark})",
                index.num_docs()
            );
            Ok(())
        }
        Command::Report {
            config,
            source,
            limit,
        } => report(Config::load(&config)?, source, limit),
        Command::Bench {
            records,
            rounds,
            data,
        } => {
            tokio::task::spawn_blocking(move || {
                bench::run(&BenchOptions {
                    records,
                    rounds,
                    data_dir: data,
                })
            })
            .await?
        }
    }
}

async fn run_demo(port: u16, data: PathBuf) -> anyhow::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{port}"))?;
    println!(
        "金城 demo: harvesting the bundled sample collections over HTTP (sample data, not real holdings)…"
    );
    let demo = jincheng::demo::start(listener, data, shutdown_signal()).await?;
    for run in &demo.runs {
        print_run(run);
    }
    let base_url = &demo.base_url;
    println!("{} records searchable. Try:", demo.instance.store.live_records()?);
    println!("  {base_url}/api/v1/search?q=%E9%9D%99%E5%A4%9C%E6%80%9D   (静夜思)");
    println!("  {base_url}/api/v1/institutions");
    println!("Serving on {base_url} — Ctrl-C to stop.");
    demo.server.await??;
    demo.instance.indexing.shutdown();
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let bind = config.server.bind;
    let instance = Instance::open(config)?;
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding {bind}"))?;
    println!("金城 serving on http://{}", listener.local_addr()?);
    instance.spawn_scheduled_harvests();
    jincheng::server::serve(listener, instance.router(), shutdown_signal()).await?;
    instance.indexing.shutdown();
    Ok(())
}

async fn harvest(config: Config, only: Option<String>) -> anyhow::Result<()> {
    if let Some(id) = &only {
        anyhow::ensure!(
            config.sources.iter().any(|s| &s.id == id),
            "no source {id:?} in the config"
        );
    }
    let instance = Instance::open(config)?;
    let mut failed = false;
    for source in instance
        .config
        .sources
        .iter()
        .filter(|s| only.as_ref().is_none_or(|id| &s.id == id))
    {
        let run = instance
            .harvest(source, |p| {
                let total = p.total.map(|t| format!("/{t}")).unwrap_or_default();
                eprint!("\r{}: {}{total} items", source.id, p.items);
            })
            .await?;
        eprintln!();
        failed |= run.status != "complete";
        print_run(&run);
    }
    instance.wait_indexed(Duration::from_secs(600)).await?;
    instance.indexing.shutdown();
    anyhow::ensure!(!failed, "some harvests failed; see `jincheng report`");
    Ok(())
}

fn print_run(run: &HarvestRun) {
    let c = &run.counts;
    println!(
        "{}: {} — {} pages; {} added, {} updated, {} deleted, {} unchanged, {} quarantined{}",
        run.source,
        run.status,
        run.pages,
        c.added,
        c.updated,
        c.deleted,
        c.unchanged,
        c.quarantined,
        run.error.as_ref().map(|e| format!(" — {e}")).unwrap_or_default()
    );
}

fn report(config: Config, source: Option<String>, limit: usize) -> anyhow::Result<()> {
    let store = jincheng::store::Store::open(&config.data_dir.join("jincheng.db"))?;
    println!("Harvest runs (newest first):");
    for run in store.runs(source.as_deref(), limit)? {
        print!(
            "  #{} {} → {}  ",
            run.id,
            run.started_at,
            run.finished_at.as_deref().unwrap_or("…")
        );
        print_run(&run);
    }
    println!("Quarantined records (newest first):");
    for item in store.quarantine(source.as_deref(), limit)? {
        println!(
            "  {} {} run #{}: {}",
            item.at,
            item.local_id,
            item.run_id.unwrap_or(0),
            item.reason
        );
    }
    Ok(())
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
