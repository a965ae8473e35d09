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

pub mod analytics;
pub mod api;
pub mod auth;
pub mod bench;
pub mod config;
pub mod curate;
pub mod demo;
pub mod harvest;
pub mod indexing;
mod instance;
pub mod jsonld;
pub mod oai;
pub mod remote_images;
pub mod server;
pub mod store;
pub mod web;

pub use crate::instance::{Instance, open_index};
