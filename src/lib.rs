//! Jincheng (金城): a federated catalogue and Chinese search engine for the public cultural
//! institutions of Lanzhou.
//!
//! This crate is the application: it reads the [`config`], keeps the [`store`] of record
//! (SQLite), runs [`harvest`]s through the `harvesters` crate, keeps the tantivy index of the
//! `indexer` crate in step with the store ([`indexing`]), and serves the HTTP [`api`]
//! ([`server`]). An [`Instance`] ties them together; `src/main.rs` is the command line.
//!
//! Data flows one way: source → harvester → store → index follower → index → API. See
//! ARCHITECTURE.md for the invariants.

pub mod access;
pub mod api;
pub mod bench;
pub mod demo;
pub mod error;
pub mod extract;
pub mod ical;
mod instance;
pub mod jsonld;
pub mod metrics;
pub mod oai;
pub mod response_policy;
pub mod server;
pub mod state;
pub mod web;

pub use crate::instance::{Instance, index_path, open_index, open_store, store_path};
