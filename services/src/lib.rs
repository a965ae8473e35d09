//! Jincheng's services: the rules of the catalogue, each in one place, called by every face
//! (the JSON API, the web pages, the OAI-PMH provider and the command line).
//!
//! - [`config`]: the configuration file, one section per service.
//! - [`search`]: the one search path of the API and the pages: parameters, the index, and
//!   each hit's thumbnail.
//! - [`harvest`]: harvest runs: a source's pages through a harvester (`harvesters`) into the
//!   [`store`], each page with its checkpoint.
//! - [`indexing`]: the index follower, the one owner of the tantivy writer (`indexer`); it
//!   tails the store's change log.
//! - [`auth`]: accounts, passwords (argon2id), sessions, tokens, lockout, and the
//!   [`auth::Principal`] every write is checked against.
//! - [`institutions`]: who holds the collections; a change re-enters their records into the
//!   change log so the index follows.
//! - [`curate`]: curated records and their images: validation, per-institution rights,
//!   versions and audit.
//! - [`remote_images`]: the background fetcher of harvested records' image links.
//! - [`analytics`]: search statistics, written off the request path, and their reports.
//! - [`suggestions`]: readers' purchase suggestions (读者荐购): validation, de-duplication,
//!   contacts with consent and their retention, the curators' merges and answers.
//! - [`statistics`]: service statistics institutions report (loans, visits, event
//!   attendance, online views per day): CSV and JSON checked row by row, and their daily
//!   aggregates per institution and district.
//!
//! # What this crate does not know
//!
//! Nothing of HTTP routing, HTML or JSON response shapes: the app translates requests into
//! calls here and results into responses. It reaches SQLite only through the `store` crate
//! and tantivy only through the `indexer` crate.

pub mod analytics;
pub mod auth;
pub mod config;
pub mod curate;
pub mod harvest;
pub mod indexing;
pub mod institutions;
pub mod remote_images;
pub mod search;
pub mod statistics;
pub mod suggestions;
