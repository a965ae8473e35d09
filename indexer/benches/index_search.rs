//! Indexing 20,000 generated records, and Chinese queries with facets over them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod corpus;

use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use jincheng_indexer::{Filters, Index, SearchRequest};
use schemas::InstitutionType;
use std::hint::black_box;

const RECORDS: usize = 20_000;

fn build(records: &[(schemas::Record, usize)]) -> Index {
    let institutions = corpus::institutions();
    let index = Index::create_in_ram().unwrap();
    let mut writer = index.writer().unwrap();
    for (record, which) in records {
        writer.upsert(record, &institutions[*which]).unwrap();
    }
    writer.commit(1).unwrap();
    index
}

fn indexing(c: &mut Criterion) {
    let records = corpus::records(RECORDS);
    let mut group = c.benchmark_group("index");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function("upsert_and_commit_20k", |b| {
        b.iter_batched(|| (), |()| black_box(build(&records)), BatchSize::PerIteration)
    });
    group.finish();
}

fn searching(c: &mut Criterion) {
    let index = build(&corpus::records(RECORDS));
    let mut group = c.benchmark_group("search_20k");
    let request = |query: &str, filters: Filters| SearchRequest {
        query: query.into(),
        filters,
        offset: 0,
        limit: 20,
        collapse: true,
        ..SearchRequest::default()
    };
    let cases = [
        ("word", request("黄河", Filters::default())),
        ("two_words", request("敦煌 壁画", Filters::default())),
        ("traditional", request("蘭州歷史", Filters::default())),
        ("phrase", request("\"丝绸之路\"", Filters::default())),
        ("or_fallback", request("秦腔 恐龙", Filters::default())),
        (
            "word_filtered",
            request(
                "文化",
                Filters {
                    institution_types: vec![InstitutionType::Library, InstitutionType::Museum],
                    year_from: Some(1950),
                    year_to: Some(2000),
                    ..Filters::default()
                },
            ),
        ),
        ("browse", request("", Filters::default())),
        ("pinyin", request("dunhuang bihua", Filters::default())),
        ("initials", request("dhbh", Filters::default())),
        ("synonym", request("铜奔马", Filters::default())),
        (
            "syntax",
            request("title:敦煌 -壁画 \"丝绸之路\"", Filters::default()),
        ),
        (
            "worst_case",
            request(&"jingyesi 铜奔马 -\"明月\" ".repeat(12), Filters::default()),
        ),
    ];
    for (name, request) in &cases {
        if !name.starts_with("worst") && *name != "synonym" {
            assert!(index.search(request).unwrap().total > 0, "{name}");
        }
        group.bench_function(*name, |b| {
            b.iter(|| black_box(index.search(black_box(request)).unwrap()))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("suggest_20k");
    for prefix in ["敦", "敦煌", "d", "dun", "dh", "蘭"] {
        index.suggest(prefix, 10).unwrap();
        group.bench_function(prefix, |b| {
            b.iter(|| black_box(index.suggest(black_box(prefix), 10).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, indexing, searching);
criterion_main!(benches);
