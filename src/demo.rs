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
    config.pages.notice = Some(jincheng_demo::SAMPLE_NOTICE.to_string());
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
    let store = std::sync::Arc::clone(&instance.store);
    let suggestions = instance.config.suggestions;
    tokio::task::spawn_blocking(move || {
        seed_sample_suggestions(&store, &suggestions)?;
        store_sample_statistics(&store)
    })
    .await??;
    instance.spawn_popularity_refresh();
    Ok(Demo {
        instance,
        base_url,
        runs,
        server,
    })
}

/// The demo's sample purchase suggestions (读者荐购): `(library, title, creator, ISBN,
/// requesters)`. Their reason says they are sample data.
const SAMPLE_SUGGESTIONS: &[(&str, &str, &str, &str, usize)] = &[
    ("lzlib", "三体", "刘慈欣", "978-7-5366-9293-0", 3),
    ("lzlib", "敦煌石窟艺术简史", "", "", 1),
    ("yzlib", "农村电商实务", "", "", 2),
];

/// Adds each sample suggestion its library does not have yet (a restarted demo keeps what
/// it has), through the same service as the pages, so they are de-duplicated and counted alike.
fn seed_sample_suggestions(
    store: &store::Store,
    config: &services::config::SuggestionsConfig,
) -> anyhow::Result<()> {
    use store::suggestions::SuggestionOrder;
    let now = time::OffsetDateTime::now_utc();
    for (library, title, creator, isbn, requesters) in SAMPLE_SUGGESTIONS {
        let seeded = store
            .suggestions_of(
                library,
                SuggestionOrder::Newest,
                services::suggestions::MAX_LISTED,
            )?
            .iter()
            .any(|s| s.title == *title);
        if seeded {
            continue;
        }
        let input = services::suggestions::SuggestionInput {
            library: (*library).into(),
            title: (*title).into(),
            creator: (*creator).into(),
            isbn: (*isbn).into(),
            reason: "（示例数据）演示用的读者荐购，并非真实读者的请求。".into(),
            ..Default::default()
        };
        for _ in 0..*requesters {
            services::suggestions::submit(store, config, &input, now)
                .map_err(|err| anyhow::anyhow!("sample suggestion {title}: {err}"))?;
        }
    }
    Ok(())
}

/// Clearly sample service statistics (`reported_by` says so) for every institution over the
/// last 30 days, so the dashboard's service charts show something. Deterministic: a restart
/// on the same day changes nothing, and the next day adds that day.
fn store_sample_statistics(store: &store::Store) -> anyhow::Result<()> {
    let sample = sample_statistics(&store.institutions()?, services::analytics::today(), 30);
    store.put_service_days("demo (sample data)", &sample)?;
    Ok(())
}

/// Figures for every institution, each of the `days` days up to `today`, varying by weekday
/// and institution (weekends busier).
fn sample_statistics(
    institutions: &[schemas::Institution],
    today: time::Date,
    days: i64,
) -> Vec<store::ServiceDay> {
    let mut out = Vec::new();
    for (n, institution) in institutions.iter().enumerate() {
        let scale = 40 + (n as u64 * 37) % 160;
        for back in 0..days {
            let date = today - time::Duration::days(back);
            let weekend = date.weekday().number_days_from_monday() >= 5;
            let wiggle = (date.to_julian_day() as u64 * 7 + n as u64 * 13) % 23;
            let visits = scale * if weekend { 3 } else { 2 } + wiggle * 5;
            let library = institution.institution_type == schemas::InstitutionType::Library;
            out.push(store::ServiceDay {
                institution: institution.id.clone(),
                day: store::analytics::format_day(date),
                loans: library.then_some(visits / 2 + wiggle),
                visits: Some(visits),
                event_attendance: Some(if weekend { scale / 2 + wiggle } else { wiggle }),
                online_views: Some(visits * 3 + wiggle * 11),
            });
        }
    }
    out
}
