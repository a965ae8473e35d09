//! Throughput of the document tokenizer (normalisation + jieba search mode + characters) against
//! plain `jieba.cut_for_search` on the same text, in the same run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod corpus;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jincheng_indexer::ChineseAnalyzer;
use std::hint::black_box;
use tantivy::tokenizer::TokenStream;

fn analysis(c: &mut Criterion) {
    let text = corpus::text(64 * 1024);
    let jieba = jieba_rs::Jieba::new();
    let analyzer = ChineseAnalyzer::shared();
    let mut tokenizer = analyzer.text_analyzer();

    let mut group = c.benchmark_group("analysis");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("jieba_cut_for_search", |b| {
        b.iter(|| black_box(jieba.cut_for_search(black_box(&text), true).len()))
    });
    group.bench_function("jincheng_document_tokenizer", |b| {
        b.iter(|| {
            let mut stream = tokenizer.token_stream(black_box(&text));
            let mut n = 0usize;
            while stream.advance() {
                n += stream.token().text.len();
            }
            black_box(n)
        })
    });
    group.bench_function("jincheng_query_tokens", |b| {
        b.iter(|| black_box(analyzer.query_tokens(black_box(&text)).len()))
    });
    group.finish();
}

criterion_group!(benches, analysis);
criterion_main!(benches);
