//! The one error type of the crate.

/// What can go wrong opening, writing or searching the index.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The index on disk was built with another schema or analysis version. Its content cannot
    /// be searched correctly: rebuild it (delete the directory and re-index from the store).
    #[error("the index at {path} has a different schema (this build expects schema version {expected})")]
    SchemaMismatch {
        /// Directory of the index.
        path: String,
        /// [`crate::SCHEMA_VERSION`] of this build.
        expected: u32,
    },

    /// [`crate::Index::writer`] was called while another [`crate::RecordWriter`] is alive
    /// (in this process or another one). The index has exactly one writer.
    #[error("the index already has a writer")]
    WriterInUse,

    /// A record was rejected before it reached the index; the writer is unaffected and the
    /// other records of the batch can still be written.
    #[error("record {id:?} was not indexed: {reason}")]
    InvalidRecord {
        /// The record's id, as given.
        id: String,
        /// Why it was rejected.
        reason: String,
    },

    /// The writer failed and was recreated; the changes since the last commit were lost and
    /// must be sent again (from the last watermark).
    #[error("the index writer failed and was restarted; uncommitted changes were lost: {0}")]
    WriterRestarted(String),

    /// The query is longer than [`crate::MAX_QUERY_CHARS`] characters.
    #[error("the query has {chars} characters; at most {max} are allowed")]
    QueryTooLong {
        /// Characters in the query.
        chars: usize,
        /// The limit.
        max: usize,
    },

    /// `offset + limit` is past [`crate::MAX_RESULT_WINDOW`]: deep pages are not served.
    #[error("offset + limit is {requested}; at most {max} results can be paged through")]
    ResultWindowTooLarge {
        /// `offset + limit` as requested.
        requested: usize,
        /// The limit.
        max: usize,
    },

    /// The last commit's payload is not a watermark: the index was written by something else.
    #[error("the index commit payload {0:?} is not a watermark")]
    BadWatermark(String),

    /// A stored document lacks a field every document has: the index is damaged.
    #[error("stored document is missing {0}")]
    CorruptDocument(&'static str),

    /// A dictionary file exists but cannot be read (permissions, not UTF-8, too large). The
    /// dictionaries in use are kept.
    #[error("cannot read the dictionary {path}: {reason}")]
    Dictionary {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },

    /// Creating the index directory failed.
    #[error("cannot create the index directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },

    /// An error inside tantivy (I/O, corruption, a failed writer thread).
    #[error(transparent)]
    Tantivy(#[from] tantivy::TantivyError),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
