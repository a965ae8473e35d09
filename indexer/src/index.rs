//! [`Index`]: opening or creating the index, its reader, and the handle everything shares.

use std::path::Path;
use std::sync::Arc;

use tantivy::directory::MmapDirectory;
use tantivy::{IndexReader, ReloadPolicy, Searcher};

use crate::analysis::ChineseAnalyzer;
use crate::error::{Error, Result};
use crate::schema::{Fields, SCHEMA_VERSION, build_schema, tokenizer_name};
use crate::search::{SearchRequest, SearchResults};
use crate::writer::RecordWriter;

/// The search index: a cheap, cloneable handle (an `Arc` inside) that any number of threads
/// search through. Writing goes through the one [`RecordWriter`] from [`Index::writer`].
#[derive(Clone)]
pub struct Index {
    pub(crate) inner: Arc<IndexInner>,
}

pub(crate) struct IndexInner {
    pub(crate) index: tantivy::Index,
    /// Reloaded explicitly after each commit ([`ReloadPolicy::Manual`]), so a commit's
    /// changes are visible when `commit` returns, not some milliseconds later.
    pub(crate) reader: IndexReader,
    pub(crate) fields: Fields,
    pub(crate) analyzer: ChineseAnalyzer,
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
            tantivy::Index::create(directory, schema, tantivy::IndexSettings::default())?
        };
        Index::from_tantivy(index, fields)
    }

    /// Creates an empty index in memory (tests, benches, the demo).
    pub fn create_in_ram() -> Result<Index> {
        let (schema, fields) = build_schema();
        Index::from_tantivy(tantivy::Index::create_in_ram(schema), fields)
    }

    fn from_tantivy(index: tantivy::Index, fields: Fields) -> Result<Index> {
        let analyzer = ChineseAnalyzer::shared();
        index
            .tokenizers()
            .register(&tokenizer_name(), analyzer.text_analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Index {
            inner: Arc::new(IndexInner {
                index,
                reader,
                fields,
                analyzer,
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

    /// The Chinese analyser the index uses (to show how a text is tokenized).
    pub fn analyzer(&self) -> &ChineseAnalyzer {
        &self.inner.analyzer
    }

    pub(crate) fn searcher(&self) -> Searcher {
        self.inner.reader.searcher()
    }
}
