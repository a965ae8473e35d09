//! [`Index`]: opening or creating the index, its reader, and the handle everything shares.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tantivy::directory::MmapDirectory;
use tantivy::{IndexReader, ReloadPolicy, Searcher};

use crate::analysis::ChineseAnalyzer;
use crate::collector::WorkNumbers;
use crate::dictionary::{AnalysisOptions, DictionaryStats};
use crate::error::{Error, Result};
use crate::generation::{Generations, PopularitySources};
use crate::pinyin::{PinyinMode, PinyinTokenizer};
use crate::schema::{Fields, SCHEMA_VERSION, build_schema, pinyin_tokenizer_name, tokenizer_name};
use crate::search::{SearchRequest, SearchResults};
use crate::suggest::{Suggester, Suggestion};
use crate::writer::RecordWriter;

/// Bytes of stored documents compressed together. A page of hits reads ten stored documents
/// from ten places, and each read decompresses its whole block: tantivy's default 16 KiB
/// holds a dozen poems or records.
const DOCSTORE_BLOCK_BYTES: usize = 4096;

/// Settings of a new index, in effect for its whole life.
fn index_settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings {
        docstore_blocksize: DOCSTORE_BLOCK_BYTES,
        ..Default::default()
    }
}

/// Least time between two background builds of the suggestion table.
const SUGGESTIONS_WARM_INTERVAL: Duration = Duration::from_secs(10);

/// The search index: a cheap, cloneable handle (an `Arc` inside) that any number of threads
/// search through. Writing goes through the one [`RecordWriter`] from [`Index::writer`].
#[derive(Clone)]
pub struct Index {
    pub(crate) inner: Arc<IndexInner>,
}

pub(crate) struct IndexInner {
    pub(crate) index: tantivy::Index,
    /// Reloaded explicitly after each commit, so a commit's changes are visible when
    /// `commit` returns, not some milliseconds later; and by tantivy when `meta.json` changes
    /// otherwise ([`ReloadPolicy::OnCommitWithDelay`]), so that segments merged in the
    /// background after the last commit are searched too.
    pub(crate) reader: IndexReader,
    pub(crate) fields: Fields,
    pub(crate) analyzer: ChineseAnalyzer,
    /// The suggestion table of the latest reader generation that asked for one.
    suggester: Mutex<Option<Arc<Suggester>>>,
    /// Clicks per record id ([`Index::set_clicks`]).
    clicks: Mutex<Arc<HashMap<String, u64>>>,
    /// Held while a suggestion table is built, so that concurrent callers build it once.
    suggester_build: Mutex<()>,
    /// A background rebuild is running (see [`Index::warm_suggestions`]).
    warming: AtomicBool,
    /// A bulk load is under way: no background rebuilds (see [`Index::set_bulk_loading`]).
    bulk_loading: AtomicBool,
    /// When the background rebuild last built the suggestion table.
    suggestions_warmed: Mutex<Option<Instant>>,
    /// The numbering of works across segments, for collapsing (see [`WorkNumbers`]).
    pub(crate) work_numbers: WorkNumbers,
    /// Segment columns and per-generation statistics (see [`Generations`]).
    pub(crate) generations: Generations,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("num_docs", &self.num_docs())
            .finish_non_exhaustive()
    }
}

impl Index {
    /// Opens the index in `dir`, or creates an empty one (and the directory) if there is none.
    ///
    /// An index built with another schema or [`crate::SCHEMA_VERSION`] is not opened:
    /// [`Error::SchemaMismatch`] tells the caller to rebuild it.
    pub fn open_or_create(dir: &Path) -> Result<Index> {
        Index::open_or_create_with(dir, &AnalysisOptions::default())
    }

    /// [`Index::open_or_create`] with analysis options: the dictionary directory holding the
    /// user dictionary and the synonyms (see [`AnalysisOptions`]; missing files fall back to
    /// the embedded defaults, unreadable ones are an [`Error::Dictionary`]).
    pub fn open_or_create_with(dir: &Path, options: &AnalysisOptions) -> Result<Index> {
        let analyzer = ChineseAnalyzer::with_options(options)?;
        std::fs::create_dir_all(dir).map_err(|source| Error::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
        let directory = MmapDirectory::open(dir).map_err(tantivy::TantivyError::from)?;
        let (schema, fields) = build_schema();
        let exists = tantivy::Index::exists(&directory).map_err(tantivy::TantivyError::from)?;
        let index = if exists {
            let index = tantivy::Index::open(directory)?;
            if index.schema() != schema {
                return Err(Error::SchemaMismatch {
                    path: dir.display().to_string(),
                    expected: SCHEMA_VERSION,
                });
            }
            index
        } else {
            tantivy::Index::create(directory, schema, index_settings())?
        };
        Index::from_tantivy(index, fields, analyzer)
    }

    /// Creates an empty index in memory (tests, benches, the demo).
    pub fn create_in_ram() -> Result<Index> {
        Index::create_in_ram_with(&AnalysisOptions::default())
    }

    /// [`Index::create_in_ram`] with analysis options.
    pub fn create_in_ram_with(options: &AnalysisOptions) -> Result<Index> {
        let analyzer = ChineseAnalyzer::with_options(options)?;
        let (schema, fields) = build_schema();
        let index = tantivy::Index::builder()
            .schema(schema)
            .settings(index_settings())
            .create_in_ram()?;
        Index::from_tantivy(index, fields, analyzer)
    }

    fn from_tantivy(index: tantivy::Index, fields: Fields, analyzer: ChineseAnalyzer) -> Result<Index> {
        let tokenizers = index.tokenizers();
        tokenizers.register(&tokenizer_name(), analyzer.text_analyzer());
        for mode in [PinyinMode::Syllables, PinyinMode::Initials] {
            tokenizers.register(
                &pinyin_tokenizer_name(mode),
                tantivy::tokenizer::TextAnalyzer::from(PinyinTokenizer::new(mode)),
            );
        }
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()?;
        Ok(Index {
            inner: Arc::new(IndexInner {
                index,
                reader,
                fields,
                analyzer,
                suggester: Mutex::new(None),
                clicks: Mutex::new(Arc::default()),
                suggester_build: Mutex::new(()),
                warming: AtomicBool::new(false),
                bulk_loading: AtomicBool::new(false),
                suggestions_warmed: Mutex::new(None),
                work_numbers: WorkNumbers::default(),
                generations: Generations::default(),
            }),
        })
    }

    /// The index's one writer. While it lives, another call fails with
    /// [`Error::WriterInUse`] (tantivy's lock file also keeps other processes out).
    pub fn writer(&self) -> Result<RecordWriter> {
        RecordWriter::new(self.clone())
    }

    /// The watermark stored by the last [`RecordWriter::commit`], 0 if nothing was committed.
    pub fn watermark(&self) -> Result<u64> {
        let metas = self.inner.index.load_metas()?;
        match metas.payload {
            None => Ok(0),
            Some(payload) => payload.trim().parse().map_err(|_| Error::BadWatermark(payload)),
        }
    }

    /// Number of documents visible to searches.
    pub fn num_docs(&self) -> u64 {
        self.searcher().num_docs()
    }

    /// Runs a search (see [`SearchRequest`] for the query language and the filters).
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults> {
        crate::search::run(self, request)
    }

    /// Rereads the user dictionary and the synonyms from the dictionary directory given at
    /// opening and uses them from now on, for queries at once and for documents written
    /// after this call (see [`crate::dictionary`] for what that means for documents indexed
    /// before). On an error the dictionaries in use are kept. An index opened without a
    /// dictionary directory keeps the embedded defaults and reports them.
    pub fn reload_dictionaries(&self) -> Result<DictionaryStats> {
        self.inner.analyzer.reload()
    }

    /// Completions of `prefix` from titles, creators and subjects: by Chinese prefix (folded,
    /// so `靜` finds `静夜思`), by pinyin (`jing`) and by initials (`jy`); the values held by
    /// most records first; at most `limit` (capped at [`crate::MAX_SUGGEST_LIMIT`]). A
    /// prefix over [`crate::MAX_SUGGEST_PREFIX_CHARS`] characters is
    /// [`Error::QueryTooLong`]; an empty one has no completions.
    pub fn suggest(&self, prefix: &str, limit: usize) -> Result<Vec<Suggestion>> {
        self.suggester()?.suggest(prefix, limit)
    }

    /// Sets the clicks per record id that searches count in the popularity factor (see
    /// [`crate::CLICKS_PER_HOLDER`]): the app reads them from its search statistics and sets
    /// them again from time to time. Records not listed have none.
    pub fn set_clicks(&self, clicks: HashMap<String, u64>) {
        *self.inner.clicks.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(clicks);
    }

    /// What lifts records above their own copies and holders: the dictionaries' canonical
    /// works and the clicks.
    pub(crate) fn popularity_sources(&self) -> PopularitySources {
        PopularitySources {
            canonical: self.inner.analyzer.canonical(),
            clicks: self
                .inner
                .clicks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }

    /// The latest suggestion table, of whatever reader generation (built if there is none):
    /// enough to read a pinyin query as characters. It is at most one warm-up interval
    /// behind the index.
    pub(crate) fn latest_suggester(&self) -> Result<Arc<Suggester>> {
        let latest = self
            .inner
            .suggester
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match latest {
            Some(suggester) => Ok(suggester),
            None => self.suggester(),
        }
    }

    /// The suggestion table of the current reader generation, built if needed.
    fn suggester(&self) -> Result<Arc<Suggester>> {
        let searcher = self.searcher();
        let generation = searcher.generation().generation_id();
        let current = |slot: &Mutex<Option<Arc<Suggester>>>| {
            slot.lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .filter(|s| s.generation == generation)
                .cloned()
        };
        if let Some(suggester) = current(&self.inner.suggester) {
            return Ok(suggester);
        }
        let _building = self
            .inner
            .suggester_build
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(suggester) = current(&self.inner.suggester) {
            return Ok(suggester);
        }
        let built = Arc::new(Suggester::build(&searcher)?);
        *self.inner.suggester.lock().unwrap_or_else(|e| e.into_inner()) = Some(built.clone());
        Ok(built)
    }

    /// Says whether a bulk load is under way that nobody searches meanwhile (`jincheng
    /// harvest`, which holds the writer's lock: no server runs). While it is, commits do not
    /// rebuild the suggestion table, the numbering of works and the segments' search tables
    /// in the background: each is built from the whole index, so during a bulk load they cost
    /// time and memory that grow with the index, for searches that do not come. The first
    /// search afterwards builds what it needs, as after a restart.
    pub fn set_bulk_loading(&self, on: bool) {
        self.inner.bulk_loading.store(on, Ordering::Release);
    }

    /// Builds, in a background thread, what searches reuse (the suggestion table, which also
    /// reads pinyin queries as characters, the numbering of works, the segments' search
    /// tables), so that the first searches after opening an index do not wait for them. A
    /// server calls it once at start; commits do the same by themselves.
    pub fn warm_up(&self) {
        self.warm_suggestions();
    }

    /// Rebuilds the numbering of works and the new segments' search tables (see
    /// [`crate::generation`]), and the suggestion table at most every
    /// [`SUGGESTIONS_WARM_INTERVAL`], in a background thread (after a commit), so that the
    /// next collapsing search (and usually the next [`Index::suggest`]) finds them ready. At
    /// most one such thread runs; a commit during its run is picked up by the next call.
    ///
    /// The suggestion table is built from every document of the index: during a bulk load,
    /// with a commit every second or so, rebuilding it after each commit halved the speed of
    /// a harvest on two cores (`jincheng bench load-during-harvest`). A [`Index::suggest`] that
    /// finds the table older than the reader still builds it on demand, as before.
    pub(crate) fn warm_suggestions(&self) {
        if self.inner.bulk_loading.load(Ordering::Acquire) || self.inner.warming.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let index = self.clone();
        let spawned = std::thread::Builder::new()
            .name("suggest-warmup".into())
            .spawn(move || {
                let due = {
                    let mut warmed = index
                        .inner
                        .suggestions_warmed
                        .lock()
                        .unwrap_or_else(|e| e.into_inner());
                    let due = warmed.is_none_or(|at| at.elapsed() >= SUGGESTIONS_WARM_INTERVAL);
                    if due {
                        *warmed = Some(Instant::now());
                    }
                    due
                };
                if due && let Err(e) = index.suggester() {
                    tracing::warn!(error = %e, "could not rebuild the suggestions");
                }
                let searcher = index.searcher();
                if let Err(e) = index.inner.work_numbers.numbering(&searcher) {
                    tracing::warn!(error = %e, "could not number the works");
                }
                // New segments' facet and id tables, so that searches do not build them.
                match index.inner.generations.of(&searcher) {
                    Ok(generation) => generation.columns.iter().for_each(|c| c.warm()),
                    Err(e) => tracing::warn!(error = %e, "could not open the segments' columns"),
                }
                index.inner.warming.store(false, Ordering::Release);
            });
        if spawned.is_err() {
            self.inner.warming.store(false, Ordering::Release);
        }
    }

    /// The Chinese analyser the index uses (to show how a text is tokenized).
    pub fn analyzer(&self) -> &ChineseAnalyzer {
        &self.inner.analyzer
    }

    pub(crate) fn searcher(&self) -> Searcher {
        self.inner.reader.searcher()
    }
}
