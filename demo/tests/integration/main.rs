//! Integration tests of the demo crate, built as one test binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;
mod files;
mod generator;
mod oai_client;
mod oai_pmh;
