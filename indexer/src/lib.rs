//! Indexer (work in progress).
