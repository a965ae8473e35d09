//! A model-based test (issue 18): random sequences of what happens to a data directory —
//! OAI-PMH harvests (paged, with updates, re-sent versions and deleted records), whole-dump
//! CSV harvests (a record missing from the dump is deleted), curated creates, edits, deletions
//! and restores, full reindexes, and restarts — each checked against a small in-memory model
//! of which records are live and what their titles are.
//!
//! Harvests go through the real harvest path: a loopback OAI-PMH repository and a CSV file
//! whose contents the test sets before each run. Curated changes go through the curation
//! service with a curator's principal, as the JSON API does. After every step the test waits
//! for the index follower and then checks that the store's live records, a browse of
//! everything, and a search for every title token ever issued (each title carries a unique
//! ASCII token) agree exactly with the model.
//!
//! 20 cases of up to 11 steps by default; `MODEL_CASES=200 cargo test --test model` looks
//! harder. A failure prints the shortest sequence of steps proptest found that still fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use jincheng::Instance;
use proptest::prelude::*;
use services::auth::{AuthMethod, Principal, Role};
use services::config::Config;
use services::curate::{self, CurateError, IfMatch};
use services::search::SearchParams;

/// Chinese words the titles start with (each title adds a unique ASCII token).
const WORDS: &[&str] = &[
    "黄河铁桥",
    "白塔山",
    "牛肉面",
    "敦煌",
    "丝绸之路",
    "水车",
    "羊皮筏子",
    "五泉山",
];
/// Local ids an OAI-PMH harvest and the CSV dump pick from (few, so they collide often).
const OAI_IDS: u8 = 5;
const CSV_IDS: u8 = 4;
const OAI_SOURCE: &str = "model-oai";
const CSV_SOURCE: &str = "model-csv";
const WAIT: Duration = Duration::from_secs(60);

/// The title a harvested item carries: a new one, or the last one its source sent for the
/// same local id (an unchanged re-send, or a deleted record coming back as it was).
#[derive(Debug, Clone, Copy)]
enum Title {
    Fresh(usize),
    Same,
}

#[derive(Debug, Clone, Copy)]
enum OaiItem {
    Record(u8, Title),
    Deleted(u8),
}

#[derive(Debug, Clone)]
enum Op {
    /// One OAI-PMH run over these pages (chained by resumption tokens); with `Some(n)`, the
    /// repository answers an error instead of one of the pages after the first it serves
    /// (chosen by `n`), so the run fails there and the next run resumes from its checkpoint.
    HarvestOai(Vec<Vec<OaiItem>>, Option<usize>),
    /// One CSV run over a dump holding these local ids (`None`: not in the dump).
    HarvestCsv(Vec<Option<Title>>),
    CuratedCreate(usize),
    /// Edits the n-th curated record created so far (modulo), with its current ETag, or
    /// (`true`) with the one before, which must be refused and change nothing.
    CuratedEdit(usize, usize, bool),
    CuratedDelete(usize),
    CuratedRestore(usize),
    /// Stops the instance, rebuilds the index from the store (`jincheng reindex`), reopens.
    Reindex,
    /// Stops the instance and opens it again; with a word, a curated record is created just
    /// before the stop, without waiting for the follower.
    Restart(Option<usize>),
}

fn title() -> impl Strategy<Value = Title> {
    prop_oneof![
        2 => (0..WORDS.len()).prop_map(Title::Fresh),
        1 => Just(Title::Same),
    ]
}

fn oai_item() -> impl Strategy<Value = OaiItem> {
    prop_oneof![
        3 => (0..OAI_IDS, title()).prop_map(|(id, t)| OaiItem::Record(id, t)),
        1 => (0..OAI_IDS).prop_map(OaiItem::Deleted),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let word = 0..WORDS.len();
    prop_oneof![
        4 => (
            prop::collection::vec(prop::collection::vec(oai_item(), 1..4), 1..4),
            prop::option::weighted(0.3, any::<usize>()),
        )
            .prop_map(|(pages, stop)| Op::HarvestOai(pages, stop)),
        2 => prop::collection::vec(prop::option::weighted(0.7, title()), CSV_IDS as usize)
            .prop_map(Op::HarvestCsv),
        2 => word.clone().prop_map(Op::CuratedCreate),
        2 => (any::<usize>(), word.clone(), prop::bool::weighted(0.2))
            .prop_map(|(n, w, stale)| Op::CuratedEdit(n, w, stale)),
        1 => any::<usize>().prop_map(Op::CuratedDelete),
        1 => any::<usize>().prop_map(Op::CuratedRestore),
        1 => Just(Op::Reindex),
        1 => prop::option::of(word).prop_map(Op::Restart),
    ]
}

/// What must be stored and searchable.
#[derive(Default)]
struct Model {
    /// Live records: id → current title.
    live: BTreeMap<String, String>,
    /// Every title token issued so far.
    tokens: Vec<String>,
    /// The last title each source sent for each record id (deleted or not).
    last_sent: HashMap<String, String>,
    /// Curated record ids in creation order, with their current title.
    curated: Vec<String>,
    /// The page the OAI-PMH checkpoint resumes from (a run stopped before it).
    oai_resume: Option<usize>,
    curated_titles: HashMap<String, String>,
}

impl Model {
    /// A new title: the word and a token no other title has. Tokens are four consonants of
    /// the same length, so none is another's prefix or stem, and shorter than the five
    /// letters from which search tolerates a typo; they start with `v`, which begins no
    /// pinyin syllable, so no title's pinyin or initials match one either.
    fn fresh_title(&mut self, word: usize) -> String {
        const LETTERS: &[u8] = b"bcfhjkmpqrtvwxz";
        let mut n = self.tokens.len();
        let mut token = String::from("v");
        for _ in 0..3 {
            token.push(char::from(LETTERS[n % LETTERS.len()]));
            n /= LETTERS.len();
        }
        let title = format!("{} {token}", WORDS[word]);
        self.tokens.push(token);
        title
    }

    fn harvested_title(&mut self, id: &str, title: Title) -> String {
        let title = match (title, self.last_sent.get(id)) {
            (Title::Same, Some(last)) => last.clone(),
            (Title::Fresh(word), _) => self.fresh_title(word),
            (Title::Same, None) => self.fresh_title(0),
        };
        self.last_sent.insert(id.to_string(), title.clone());
        title
    }
}

/// The loopback OAI-PMH repository: serves the pages the test set for the next run (page
/// `n` for resumption token `pn`), and an error instead of page `stop`.
#[derive(Clone, Default)]
struct Repository(Arc<Mutex<(Vec<String>, Option<usize>)>>);

fn oai_error(code: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-01-05T08:00:00Z</responseDate>
<request verb="ListRecords">http://127.0.0.1/oai</request><error code="{code}">as the test wants</error></OAI-PMH>"#
    )
}

const IDENTIFY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
  <responseDate>2026-01-05T08:00:00Z</responseDate>
  <request verb="Identify">http://127.0.0.1/oai</request>
  <Identify>
    <repositoryName>model</repositoryName>
    <baseURL>http://127.0.0.1/oai</baseURL>
    <protocolVersion>2.0</protocolVersion>
    <adminEmail>model@example.invalid</adminEmail>
    <earliestDatestamp>2000-01-01T00:00:00Z</earliestDatestamp>
    <deletedRecord>persistent</deletedRecord>
    <granularity>YYYY-MM-DDThh:mm:ssZ</granularity>
  </Identify>
</OAI-PMH>"#;

async fn oai_endpoint(
    State(repository): State<Repository>,
    Query(query): Query<HashMap<String, String>>,
) -> axum::response::Response {
    let body = if query.get("verb").map(String::as_str) == Some("Identify") {
        IDENTIFY.to_string()
    } else {
        let page = query
            .get("resumptionToken")
            .and_then(|t| t.strip_prefix('p'))
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
        let (pages, stop) = &*repository.0.lock().unwrap();
        match pages.get(page) {
            _ if *stop == Some(page) => oai_error("badArgument"),
            Some(page) => page.clone(),
            None => oai_error("badResumptionToken"),
        }
    };
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

impl Repository {
    async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/oai", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/oai", axum::routing::get(oai_endpoint))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    /// Sets the pages of the next run: `(local id, Some(title) or None for deleted)`.
    fn set_pages(&self, pages: &[Vec<(String, Option<String>)>], stop: Option<usize>) {
        let xml = pages
            .iter()
            .enumerate()
            .map(|(n, items)| {
                let records: String = items
                    .iter()
                    .map(|(id, title)| match title {
                        Some(title) => format!(
                            r#"<record><header><identifier>{id}</identifier><datestamp>2026-01-01T00:00:00Z</datestamp></header>
<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title></oai_dc:dc></metadata></record>"#
                        ),
                        None => format!(
                            r#"<record><header status="deleted"><identifier>{id}</identifier><datestamp>2026-01-01T00:00:00Z</datestamp></header></record>"#
                        ),
                    })
                    .collect();
                let token = if n + 1 < pages.len() {
                    format!("<resumptionToken>p{}</resumptionToken>", n + 1)
                } else {
                    String::new()
                };
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-01-05T08:00:00Z</responseDate>
<request verb="ListRecords">http://127.0.0.1/oai</request><ListRecords>{records}{token}</ListRecords></OAI-PMH>"#
                )
            })
            .collect();
        *self.0.lock().unwrap() = (xml, stop);
    }
}

fn config(data_dir: &Path, oai_url: &str, csv_path: &Path) -> Config {
    let mut config = Config::parse(&format!(
        r#"
[[institutions]]
id = "lzlib"
name = "兰州市图书馆"
type = "library"

[[institutions]]
id = "lzmuseum"
name = "兰州市博物馆"
type = "museum"

[[sources]]
id = "{OAI_SOURCE}"
institution = "lzlib"
protocol = "oai-pmh"
url = "{oai_url}"

[[sources]]
id = "{CSV_SOURCE}"
institution = "lzmuseum"
protocol = "csv"
path = {csv_path:?}
id_field = "编号"
resource_type = "artefact"
[sources.mapping]
title = "名称"
"#,
        csv_path = csv_path.display().to_string()
    ))
    .unwrap();
    config.data_dir = data_dir.to_path_buf();
    config
}

fn curator() -> Principal {
    Principal {
        user_id: 1,
        username: "curator".into(),
        role: Role::Curator,
        institutions: ["lzmuseum".to_string()].into(),
        method: AuthMethod::Token { id: 0 },
    }
}

/// One case: a data directory, a repository, an instance, and the model they must match.
struct Case {
    config: Config,
    repository: Repository,
    csv_path: std::path::PathBuf,
    instance: Option<Instance>,
    model: Model,
}

impl Case {
    fn instance(&self) -> &Instance {
        self.instance.as_ref().unwrap()
    }

    fn source(&self, id: &str) -> services::config::SourceConfig {
        self.config.sources.iter().find(|s| s.id == id).unwrap().clone()
    }

    fn stop(&mut self) {
        let instance = self.instance.take().unwrap();
        instance.indexing.shutdown();
    }

    fn open(&mut self) {
        self.instance = Some(Instance::open(self.config.clone()).unwrap());
    }

    /// The curated record an op picks, if any was created.
    fn pick(&self, n: usize) -> Option<String> {
        let curated = &self.model.curated;
        (!curated.is_empty()).then(|| curated[n % curated.len()].clone())
    }

    fn create_curated(&mut self, word: usize) {
        let title = self.model.fresh_title(word);
        let body =
            serde_json::json!({"institution": "lzmuseum", "title": title, "resource_type": "artefact"});
        let change = curate::create(&self.instance().store, &curator(), body).unwrap();
        self.instance().indexing.wake();
        let id = change.row.id;
        self.model.live.insert(id.clone(), title.clone());
        self.model.curated.push(id.clone());
        self.model.curated_titles.insert(id, title);
    }

    async fn apply(&mut self, op: &Op) {
        match op {
            Op::HarvestOai(pages, stop) => {
                // A run resumes from the checkpoint's page, if this list has it; otherwise the
                // repository answers badResumptionToken and the run starts the list again.
                let first = self.model.oai_resume.filter(|&p| p < pages.len()).unwrap_or(0);
                let stop = stop
                    .filter(|_| pages.len() - first > 1)
                    .map(|n| first + 1 + n % (pages.len() - first - 1));
                let mut served = Vec::new();
                for (n, page) in pages.iter().enumerate() {
                    if n < first || stop.is_some_and(|stop| n >= stop) {
                        // Not served in this run: only its shape matters.
                        served.push(Vec::new());
                        continue;
                    }
                    let mut items = Vec::new();
                    for item in page {
                        let (local, title) = match *item {
                            OaiItem::Record(n, title) => {
                                let local = format!("oai:model:{n}");
                                let id = format!("{OAI_SOURCE}:{local}");
                                let title = self.model.harvested_title(&id, title);
                                self.model.live.insert(id, title.clone());
                                (local, Some(title))
                            }
                            OaiItem::Deleted(n) => {
                                let local = format!("oai:model:{n}");
                                self.model.live.remove(&format!("{OAI_SOURCE}:{local}"));
                                (local, None)
                            }
                        };
                        items.push((local, title));
                    }
                    served.push(items);
                }
                self.repository.set_pages(&served, stop);
                let run = self
                    .instance()
                    .harvest(&self.source(OAI_SOURCE), |_| {})
                    .await
                    .unwrap();
                let status = if stop.is_some() { "failed" } else { "complete" };
                assert_eq!(run.status.as_str(), status, "{run:?}");
                self.model.oai_resume = stop;
            }
            Op::HarvestCsv(rows) => {
                let mut csv = String::from("编号,名称\n");
                let mut present = BTreeSet::new();
                let mut next = Vec::new();
                for (n, row) in rows.iter().enumerate() {
                    if let Some(title) = row {
                        let local = format!("c{n}");
                        let id = format!("{CSV_SOURCE}:{local}");
                        let title = self.model.harvested_title(&id, *title);
                        csv.push_str(&format!("{local},{title}\n"));
                        present.insert(id.clone());
                        next.push((id, title));
                    }
                }
                std::fs::write(&self.csv_path, csv).unwrap();
                let run = self
                    .instance()
                    .harvest(&self.source(CSV_SOURCE), |_| {})
                    .await
                    .unwrap();
                let prefix = format!("{CSV_SOURCE}:");
                let stored: Vec<String> = self
                    .model
                    .live
                    .keys()
                    .filter(|id| id.starts_with(&prefix))
                    .cloned()
                    .collect();
                if present.is_empty() && !stored.is_empty() {
                    // A dump without a usable record is taken for a broken export: the run
                    // fails and deletes nothing.
                    assert_eq!(run.status.as_str(), "failed", "{run:?}");
                } else {
                    assert_eq!(run.status.as_str(), "complete", "{run:?}");
                    for id in stored.iter().filter(|id| !present.contains(*id)) {
                        self.model.live.remove(id);
                    }
                    self.model.live.extend(next);
                }
            }
            Op::CuratedCreate(word) => self.create_curated(*word),
            Op::CuratedEdit(n, word, stale) => {
                let Some(id) = self.pick(*n) else { return };
                let title = self.model.fresh_title(*word);
                let store = &self.instance().store;
                let row = curate::get(store, &curator(), &id).unwrap();
                let version = if *stale { row.version - 1 } else { row.version };
                let if_match = IfMatch::Tags(vec![curate::etag(version)]);
                let body = serde_json::json!({"title": title, "resource_type": "artefact"});
                let result = curate::update(store, &curator(), &id, Some(&if_match), body);
                self.instance().indexing.wake();
                if *stale {
                    let refused = matches!(result, Err(CurateError::PreconditionFailed { .. }));
                    assert!(refused, "{result:?}");
                } else if self.model.live.contains_key(&id) {
                    result.unwrap();
                    self.model.live.insert(id.clone(), title.clone());
                    self.model.curated_titles.insert(id, title);
                } else {
                    assert!(matches!(result, Err(CurateError::NotFound(_))), "{result:?}");
                }
            }
            Op::CuratedDelete(n) | Op::CuratedRestore(n) => {
                let Some(id) = self.pick(*n) else { return };
                let deleted = matches!(op, Op::CuratedDelete(_));
                let store = &self.instance().store;
                curate::set_deleted(store, &curator(), &id, None, deleted).unwrap();
                self.instance().indexing.wake();
                if deleted {
                    self.model.live.remove(&id);
                } else {
                    let title = self.model.curated_titles[&id].clone();
                    self.model.live.insert(id, title);
                }
            }
            Op::Reindex => {
                self.stop();
                let data_dir = &self.config.data_dir;
                let store = jincheng::open_store(&self.config).unwrap();
                let index = jincheng::open_index(data_dir).unwrap();
                services::indexing::rebuild(&store, &index, &self.config.branches).unwrap();
                drop((store, index));
                self.open();
            }
            Op::Restart(create) => {
                if let Some(word) = create {
                    self.create_curated(*word);
                }
                self.stop();
                self.open();
            }
        }
    }

    /// Waits for the follower, then compares the store and the search with the model.
    async fn check(&self, step: usize, op: &Op) {
        let instance = self.instance();
        let store = &instance.store;
        let target = store.max_seq().unwrap();
        assert!(
            instance.indexing.wait_for(target, WAIT).await,
            "step {step} ({op:?}): the index did not reach change {target}"
        );
        let model = &self.model.live;

        // The store: every record row, live ones with their title.
        let stored: BTreeMap<String, String> = store
            .changes_since(0, 100_000)
            .unwrap()
            .into_iter()
            .filter_map(|c| c.record.map(|r| (c.id, r.title)))
            .collect();
        assert_eq!(&stored, model, "step {step} ({op:?}): the store's live records");
        assert_eq!(store.live_records().unwrap(), model.len() as u64);

        // Browsing everything finds exactly the live records, with their current titles.
        let (total, all) = search(instance, "");
        assert_eq!(total, model.len(), "step {step} ({op:?}): total of q=");
        assert_eq!(&all, model, "step {step} ({op:?}): q=");

        // Each token ever issued finds the live record whose title has it, and nothing else.
        for token in &self.model.tokens {
            let expected: BTreeMap<String, String> = model
                .iter()
                .filter(|(_, title)| title.ends_with(&format!(" {token}")))
                .map(|(id, title)| (id.clone(), title.clone()))
                .collect();
            let (total, found) = search(instance, token);
            assert_eq!(found, expected, "step {step} ({op:?}): q={token}");
            assert_eq!(total, expected.len(), "step {step} ({op:?}): total of q={token}");
        }
    }
}

/// Searches without collapsing: the total, and the hits as id → title.
fn search(instance: &Instance, q: &str) -> (usize, BTreeMap<String, String>) {
    let params = SearchParams::parse(Some(&format!("q={q}&page_size=100&collapse=false"))).unwrap();
    let found = instance.state().search.search(&params.request).unwrap();
    let hits = found.results.hits.into_iter().map(|h| (h.id, h.title)).collect();
    (found.results.total, hits)
}

fn run_case(ops: &[Op]) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let repository = Repository::default();
        let url = repository.start().await;
        let csv_path = dir.path().join("dump.csv");
        std::fs::write(&csv_path, "编号,名称\n").unwrap();
        let config = config(&dir.path().join("data"), &url, &csv_path);
        let mut case = Case {
            instance: Some(Instance::open(config.clone()).unwrap()),
            config,
            repository,
            csv_path,
            model: Model::default(),
        };
        for (step, op) in ops.iter().enumerate() {
            case.apply(op).await;
            case.check(step, op).await;
        }
        case.stop();
    });
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("MODEL_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(20),
        // Shrinking reruns whole cases; a few hundred is plenty to reach a short sequence.
        max_shrink_iters: 300,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_store_and_the_search_follow_the_model(ops in prop::collection::vec(op(), 1..12)) {
        run_case(&ops);
    }
}
