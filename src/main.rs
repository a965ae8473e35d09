//! The `jincheng` command line. Thin: everything it does lives in the library.

use std::path::PathBuf;
use std::time::Duration;
use store::RunStatus;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use jincheng::Instance;
use jincheng::bench::{self, BenchOptions, http as bench_http, load_during_harvest};
use services::config::Config;
use store::HarvestRun;
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
    /// Create or upgrade the store's tables and exit (what every start does first; run it
    /// once before starting several nodes on a new PostgreSQL database, or after an upgrade).
    Migrate {
        /// The TOML config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Rebuild the index from the store (stop the server first).
    Reindex {
        /// The TOML config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Copy the store to a file while the server keeps serving (SQLite's online backup: one
    /// consistent state, every write acknowledged before it began). A PostgreSQL store is
    /// backed up with `pg_dump` (docs/deploy.md).
    Backup {
        /// The TOML config file.
        #[arg(long)]
        config: PathBuf,
        /// The backup file to write.
        #[arg(long)]
        to: PathBuf,
    },
    /// Replace the store by a backup and rebuild the index from it (stop the server first).
    Restore {
        /// The TOML config file.
        #[arg(long)]
        config: PathBuf,
        /// The backup file to restore.
        #[arg(long)]
        from: PathBuf,
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
    /// Manage curator and admin accounts.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Manage API keys for apps and partners.
    Apikey {
        #[command(subcommand)]
        action: ApiKeyCommand,
    },
    /// Benchmark indexing and searching on synthetic records (or, with
    /// `load-during-harvest`, search and curation latency during a large harvest).
    Bench {
        #[command(subcommand)]
        mode: Option<BenchMode>,
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

#[derive(Subcommand)]
enum BenchMode {
    /// The chinese-poetry corpus harvested over OAI-PMH, then searched over HTTP at 1, 4 and
    /// 16 connections with 5,000+ distinct queries by class, beside the bare-tantivy floor,
    /// and the 20 everyday queries (issue #16; `benches/poetry.sh` fetches the corpus).
    Http {
        /// The unpacked `chinese-poetry` npm package (`package/`, or its `dist/`); without
        /// it, a small synthetic corpus.
        #[arg(long)]
        corpus: Option<PathBuf>,
        /// Poems of the synthetic corpus, when there is no `--corpus`.
        #[arg(long, default_value_t = 2_000)]
        poems: usize,
        /// How long each connection count (and the everyday queries) is measured.
        #[arg(long, default_value = "20s")]
        duration: humantime::Duration,
        /// Connection counts to measure, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,4,16")]
        connections: Vec<usize>,
        /// Distinct queries to draw for the mix.
        #[arg(long, default_value_t = 6_000)]
        queries: usize,
        /// Keep the data here instead of a temporary directory.
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// The scale run (issue #14): N synthetic records written as one MARC 21 (or CNMARC)
    /// file, harvested through the real path, then searched after a restart.
    Dump {
        /// Records in the file.
        #[arg(long, default_value_t = 1_000_000)]
        records: usize,
        /// Write CNMARC (UNIMARC tags) instead of MARC 21.
        #[arg(long)]
        cnmarc: bool,
        /// Times each query of the mix runs after the restart.
        #[arg(long, default_value_t = 50)]
        rounds: usize,
        /// Keep the file and the data here instead of a temporary directory.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Store in this (empty) PostgreSQL database instead of a SQLite file, and time a
        /// second node's bootstrap from it.
        #[arg(long)]
        store_url: Option<String>,
    },
    /// Search p50/p99 over HTTP idle and during a harvest of synthetic OAI-PMH records, and
    /// curated write-to-searchable times (issue #18).
    LoadDuringHarvest {
        /// Records the synthetic OAI-PMH provider serves (all harvested).
        #[arg(long, default_value_t = 1_000_000)]
        records: usize,
        /// Records stored and indexed before the measurement starts.
        #[arg(long, default_value_t = 100_000)]
        seed: usize,
        /// Concurrent search clients.
        #[arg(long, default_value_t = 4)]
        clients: usize,
        /// Pause of each search client between requests.
        #[arg(long, default_value = "20ms")]
        search_pause: humantime::Duration,
        /// Pause of the curator between writes.
        #[arg(long, default_value = "250ms")]
        write_pause: humantime::Duration,
        /// Length of the idle phases before and after the harvest.
        #[arg(long, default_value = "15s")]
        idle: humantime::Duration,
        /// Keep the data here instead of a temporary directory.
        #[arg(long)]
        data: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Issue a key; it is printed once and only its hash is kept.
    Add {
        /// The TOML config file.
        #[arg(long)]
        config: PathBuf,
        /// Who it is for, e.g. "省阅读App".
        #[arg(long)]
        name: String,
        /// The institution (id) whose service statistics the key reports, if any.
        #[arg(long)]
        institution: Option<String>,
    },
    /// List issued keys (without secrets).
    List {
        /// The TOML config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Revoke a key by id; it stops working at once.
    Revoke {
        /// The TOML config file.
        #[arg(long)]
        config: PathBuf,
        /// Key id, from `apikey list`.
        id: i64,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account. The password is read from stdin (one line), never from the
    /// command line, where other users and shell history could see it.
    Add {
        /// The TOML config file.
        #[arg(long)]
        config: PathBuf,
        /// Login name.
        #[arg(long)]
        username: String,
        /// `admin` (every institution) or `curator` (the `--institution`s given).
        #[arg(long)]
        role: services::auth::Role,
        /// An institution the curator may edit (repeatable).
        #[arg(long = "institution")]
        institutions: Vec<String>,
    },
    /// List the accounts.
    List {
        /// The TOML config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Disable an account; its sessions end and its tokens stop working.
    Disable {
        /// The TOML config file.
        #[arg(long)]
        config: PathBuf,
        /// Login name.
        #[arg(long)]
        username: String,
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
        Command::Migrate { config } => {
            let config = Config::load(&config)?;
            let store = jincheng::open_store(&config)?;
            println!(
                "the store is up to date: {} live records, last change {}",
                store.live_records()?,
                store.max_seq()?
            );
            Ok(())
        }
        Command::Reindex { config } => {
            let config = Config::load(&config)?;
            let store = jincheng::open_store(&config)?;
            let index = jincheng::open_index(&config.data_dir)?;
            let watermark = services::indexing::rebuild(&store, &index, &config.branches)?;
            println!(
                "reindexed {} records (up to change {watermark})",
                index.num_docs()
            );
            Ok(())
        }
        Command::Backup { config, to } => {
            let config = Config::load(&config)?;
            postgres_has_its_own_tools(&config, "back it up with pg_dump")?;
            let copied = store::backup::backup(&jincheng::store_path(&config.data_dir), &to)?;
            println!(
                "backed up {} records (up to change {}, {} pages) to {}",
                copied.records,
                copied.last_change,
                copied.pages,
                to.display()
            );
            Ok(())
        }
        Command::Restore { config, from } => {
            let config = Config::load(&config)?;
            postgres_has_its_own_tools(
                &config,
                "restore it with pg_restore, then run `jincheng reindex` on every node",
            )?;
            restore(config, &from)
        }
        Command::Report {
            config,
            source,
            limit,
        } => report(Config::load(&config)?, source, limit),
        Command::User { action } => user(action),
        Command::Apikey { action } => apikey(action),
        Command::Bench {
            mode:
                Some(BenchMode::Http {
                    corpus,
                    poems,
                    duration,
                    connections,
                    queries,
                    data,
                }),
            ..
        } => {
            let report = bench_http::run(&bench_http::HttpBenchOptions {
                corpus,
                synthetic_poems: poems,
                connections,
                duration: duration.into(),
                mix_size: queries,
                data_dir: data,
            })
            .await?;
            print!("{report}");
            Ok(())
        }
        Command::Bench {
            mode:
                Some(BenchMode::LoadDuringHarvest {
                    records,
                    seed,
                    clients,
                    search_pause,
                    write_pause,
                    idle,
                    data,
                }),
            ..
        } => {
            let report = load_during_harvest::run(&load_during_harvest::LoadOptions {
                records,
                seed_records: seed,
                search_clients: clients,
                search_pause: search_pause.into(),
                write_pause: write_pause.into(),
                idle: idle.into(),
                data_dir: data,
            })
            .await?;
            print!("{report}");
            Ok(())
        }
        Command::Bench {
            mode:
                Some(BenchMode::Dump {
                    records,
                    cnmarc,
                    rounds,
                    data,
                    store_url,
                }),
            ..
        } => {
            bench::dump::run(&bench::dump::DumpBenchOptions {
                records,
                cnmarc,
                rounds,
                data_dir: data,
                store_url,
            })
            .await
        }
        Command::Bench {
            mode: None,
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
    println!("  {base_url}/api/v1/institutions?open_now=true");
    println!("  {base_url}/institutions?open_now=1   (venues open now, sample hours)");
    println!("  {base_url}/mobile-stops   (the sample mobile library's next stops)");
    println!("Serving on {base_url} — Ctrl-C to stop.");
    demo.server.await??;
    demo.instance.indexing.shutdown();
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let bind = config.server.bind;
    let instance = Instance::open(config)?;
    instance.indexing.index().warm_up();
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding {bind}"))?;
    println!("金城 serving on http://{}", listener.local_addr()?);
    instance.spawn_scheduled_harvests();
    instance.spawn_popularity_refresh();
    instance.spawn_suggestion_contact_sweep();
    spawn_dictionary_reload_on_sighup(instance.clone());
    let limits = jincheng::server::ConnectionLimits::from(&instance.config.server);
    jincheng::server::serve_with(listener, instance.router(), limits, shutdown_signal()).await?;
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
        let bar = ProgressBar::new_spinner().with_prefix(source.id.clone());
        let style = |template: &str| {
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
        };
        bar.set_style(style(
            "{prefix}: {spinner} {pos}/{len} items [{elapsed_precise}] {per_sec} ETA {eta} {msg}",
        ));
        let by_bytes = style(
            "{prefix}: {spinner} {binary_bytes}/{binary_total_bytes} [{elapsed_precise}] {binary_bytes_per_sec} ETA {eta} {msg}",
        );
        let run = instance
            .harvest_in_bulk(source, |p| {
                // A dump file: progress by bytes read (the number of records is unknown).
                let (position, length) = match (p.bytes_read, p.bytes_total) {
                    (Some(read), Some(total)) => {
                        if bar.length() != Some(total) {
                            bar.set_style(by_bytes.clone());
                        }
                        (read, Some(total))
                    }
                    _ => (p.items, p.total),
                };
                if let Some(length) = length {
                    bar.set_length(length);
                }
                bar.set_position(position);
                let rate = p.items as f64 / bar.elapsed().as_secs_f64().max(0.001);
                bar.set_message(format!(
                    "{} items ({rate:.0}/s), {} quarantined",
                    p.items, p.counts.quarantined
                ));
            })
            .await?;
        bar.finish_and_clear();
        failed |= run.status != RunStatus::Complete;
        print_run(&run);
    }
    instance.wait_indexed(Duration::from_secs(600)).await?;
    instance.indexing.shutdown();
    let peak = jincheng::bench::http::status_bytes("VmHWM:");
    if peak > 0 {
        println!("peak memory (RSS): {} MiB", peak >> 20);
    }
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
    let mib = |bytes: u64| bytes as f64 / (1 << 20) as f64;
    if let Some(read) = run.bytes_read {
        let of = run
            .bytes_total
            .map(|t| format!(" of {:.1}", mib(t)))
            .unwrap_or_default();
        let eta = run
            .eta_seconds()
            .map(|s| format!(", ETA {s:.0} s"))
            .unwrap_or_default();
        println!(
            "    read {:.1}{of} MiB in {:.1} s, {:.0} items/s{eta}",
            mib(read),
            run.elapsed_seconds,
            run.items_per_second()
        );
    }
}

/// Opens the store of a config (without the index: a server may be running) with the
/// config's institutions recorded.
fn open_accounts_store(config: &std::path::Path) -> anyhow::Result<store::Store> {
    let config = Config::load(config)?;
    let store = jincheng::open_store(&config)?;
    store.upsert_institutions(&config.institutions)?;
    Ok(store)
}

fn user(action: UserCommand) -> anyhow::Result<()> {
    use services::auth::accounts::{AccountError, create_user};
    use std::io::{BufRead, IsTerminal};
    match action {
        UserCommand::Add {
            config,
            username,
            role,
            institutions,
        } => {
            let store = open_accounts_store(&config)?;
            if std::io::stdin().is_terminal() {
                eprint!("Password for {username} (visible as you type; pipe it in to avoid that): ");
            }
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from stdin")?;
            let password = services::auth::Password::new(line.trim_end_matches(['\r', '\n']));
            let new = services::auth::NewUser {
                username,
                password,
                role,
                institutions,
            };
            match create_user(&store, &new) {
                Ok(user) => {
                    store.audit(
                        "cli",
                        None,
                        store::curated::AuditAction::CreateUser,
                        &serde_json::json!(user),
                    )?;
                    println!(
                        "created {} ({}) {}",
                        user.username,
                        user.role,
                        user.institutions.join(", ")
                    );
                    Ok(())
                }
                Err(AccountError::Invalid(errors)) => anyhow::bail!("invalid account: {errors}"),
                Err(err) => Err(err.into()),
            }
        }
        UserCommand::List { config } => {
            let store = open_accounts_store(&config)?;
            for user in store.users()? {
                println!(
                    "{}\t{}\t{}\t{}",
                    user.username,
                    user.role,
                    if user.disabled { "disabled" } else { "active" },
                    user.institutions.join(",")
                );
            }
            Ok(())
        }
        UserCommand::Disable { config, username } => {
            let store = open_accounts_store(&config)?;
            let username = services::auth::accounts::normalise_username(&username);
            anyhow::ensure!(store.set_user_disabled(&username, true)?, "no user {username:?}");
            store.audit(
                "cli",
                None,
                store::curated::AuditAction::DisableUser,
                &serde_json::json!({ "username": username }),
            )?;
            println!("disabled {username}");
            Ok(())
        }
    }
}

/// Refuses SQLite's file backup and restore for a PostgreSQL store, saying what to do.
fn postgres_has_its_own_tools(config: &Config, what: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        config.store.url.is_none(),
        "the store is a PostgreSQL database ([store] url): {what} (see docs/deploy.md)"
    );
    Ok(())
}

/// `jincheng restore`: the index writer is taken first (no server may use the data
/// directory meanwhile), then the store is replaced and the index rebuilt from it.
fn restore(config: Config, from: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let index = jincheng::open_index(&config.data_dir)?;
    let mut writer = index
        .writer()
        .context("a server is using this data directory: stop it before restoring")?;
    let copied = store::backup::restore(from, &jincheng::store_path(&config.data_dir))?;
    let store = jincheng::open_store(&config)?;
    let watermark = services::indexing::rebuild_with(&store, &mut writer, &config.branches)?;
    println!(
        "restored {} records (up to change {}) from {}; index rebuilt up to change {watermark}",
        copied.records,
        copied.last_change,
        from.display()
    );
    Ok(())
}

fn report(config: Config, source: Option<String>, limit: usize) -> anyhow::Result<()> {
    let store = jincheng::open_store(&config)?;
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

fn apikey(action: ApiKeyCommand) -> anyhow::Result<()> {
    let open = |config: &PathBuf| -> anyhow::Result<store::Store> {
        let config = Config::load(config)?;
        jincheng::open_store(&config)
    };
    match action {
        ApiKeyCommand::Add {
            config,
            name,
            institution,
        } => {
            let (id, key) = open(&config)?.create_institution_api_key(&name, institution.as_deref())?;
            println!("key {id} for {name}: {key}");
            println!("Send it as the X-API-Key header. It is not stored and cannot be shown again.");
        }
        ApiKeyCommand::List { config } => {
            for key in open(&config)?.api_keys()? {
                let state = key
                    .revoked_at
                    .map(|at| format!("revoked {at}"))
                    .unwrap_or_else(|| "live".into());
                println!("{:>4}  {}  created {}  {state}", key.id, key.name, key.created_at);
            }
        }
        ApiKeyCommand::Revoke { config, id } => {
            anyhow::ensure!(open(&config)?.revoke_api_key(id)?, "no live key {id}");
            println!("key {id} revoked");
        }
    }
    Ok(())
}

/// `kill -HUP` reloads the user dictionary, synonyms and names without a restart.
fn spawn_dictionary_reload_on_sighup(instance: Instance) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
            return;
        };
        while hangups.recv().await.is_some() {
            match instance.indexing.index().reload_dictionaries() {
                Ok(stats) => tracing::info!("dictionaries reloaded: {stats:?}"),
                Err(err) => tracing::error!("dictionary reload failed, keeping the old ones: {err}"),
            }
        }
    });
}
