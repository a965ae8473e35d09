//! `jincheng bench dump`: the scale run of issue #14. Writes N synthetic bibliographic
//! records as one MARC 21 or CNMARC file (the shapes of [`synthetic_record`]: Chinese titles,
//! creators, 中图法 classes, ISBNs, dynasty dates for old books, copies in several branches),
//! harvests it through the real path (`jincheng harvest`'s: the dump streamed into the store,
//! the follower indexing behind it), and reports harvest time, the time until everything is
//! searchable, store and index size, peak RSS, the cost of harvesting the same file again,
//! the first search after a restart, search p50/p99 in process, and RSS while serving.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use schemas::{Record, ResourceType};
use services::config::Config;

use super::{DataDir, dir_size, ms, percentile, query_mix, synthetic_institutions, synthetic_record};
use crate::Instance;

/// What to run.
#[derive(Debug, Clone)]
pub struct DumpBenchOptions {
    /// Records in the file.
    pub records: usize,
    /// CNMARC (UNIMARC tags, as Chinese libraries export) instead of MARC 21.
    pub cnmarc: bool,
    /// Times each query of the mix runs after the restart.
    pub rounds: usize,
    /// Where to put the file and the data; a temporary directory when `None`.
    pub data_dir: Option<PathBuf>,
    /// A PostgreSQL store (`postgres://…`, an empty database) instead of the data
    /// directory's SQLite file; the run then also times a second node's bootstrap from it.
    pub store_url: Option<String>,
}

const BRANCHES: &[&str] = &["总馆", "城关分馆", "七里河分馆", "安宁分馆", "流动图书车"];
const OLD_DATES: &[&str] = &[
    "清光绪二十年",
    "明万历年间",
    "民国二十三年",
    "清乾隆刻本",
    "唐开元年间",
];
const SERIES: &[&str] = &[
    "西北史地丛书",
    "陇上文化丛书",
    "丝绸之路研究丛书",
    "甘肃地方文献丛刊",
    "敦煌学研究文库",
];
const NOTES: &[&str] = &[
    "本书据作者多年田野调查资料整理而成，附有大量插图和统计表格，可供研究者和普通读者参考。",
    "本书系统梳理了相关历史文献与考古发现，兼顾学术性与可读性，书末附参考文献与索引。",
    "本书分上下两编，上编为专题研究，下编为资料汇编，收录了大量首次公开的档案与口述史料。",
];
/// MARC 21 008 (fixed-length data elements, 40 characters) of a Chinese book of 2023.
const FIXED_008: &str = "240315s2023    ch a     b    001 0 chi d";
const CLASSES: &[&str] = &[
    "K294.2", "I222.742", "G127.42", "K878.6", "J292.1", "F127.42", "X321.242",
];

fn subfields(indicators: &str, pairs: &[(char, &str)]) -> String {
    let mut out = indicators.to_owned();
    for (code, value) in pairs {
        out.push('\x1f');
        out.push(*code);
        out.push_str(value);
    }
    out
}

fn iso2709(leader_tail: &str, fields: &[(&str, String)]) -> Vec<u8> {
    let fields: Vec<(&str, &[u8])> = fields
        .iter()
        .map(|(tag, content)| (*tag, content.as_bytes()))
        .collect();
    harvesters::write_iso2709(leader_tail, &fields)
}

/// The `i`-th synthetic record as a MARC 21 or CNMARC record.
pub fn marc_record(i: usize, record: &Record, cnmarc: bool) -> Vec<u8> {
    let year = record
        .date
        .as_ref()
        .map(|d| d.display.clone())
        .unwrap_or_default();
    let date = if record.resource_type == ResourceType::AncientBook {
        OLD_DATES[i % OLD_DATES.len()].to_owned()
    } else {
        year
    };
    let isbn = record.isbns.first().cloned().unwrap_or_default();
    let creator = record.creators.first().cloned().unwrap_or_default();
    let publisher = record.publisher.clone().unwrap_or_default();
    let description = record.description.clone().unwrap_or_default();
    let class = CLASSES[i % CLASSES.len()];
    let copies: Vec<(&str, String)> = (0..1 + i % 3)
        .map(|k| (BRANCHES[(i + k) % BRANCHES.len()], format!("{:08}", i * 3 + k)))
        .collect();
    // What a real record also carries (fixed fields, cataloguing source, pages, series,
    // notes, a bibliography note, an editor), so that a record is about as long as in a
    // library's export: 250,000 records make a file of about 240 MB, as the issue's.
    let series = SERIES[i % SERIES.len()];
    let note = NOTES[i % NOTES.len()];
    let (pages, height) = (format!("{}页", 120 + i % 480), format!("{}cm", 21 + i % 6));
    let bibliography = format!("参考文献：第{}-{}页", 100 + i % 380, 110 + i % 380);
    let editor = format!(
        "{}{}",
        super::SURNAMES[(i / 7) % super::SURNAMES.len()],
        super::GIVEN[(i / 3) % super::GIVEN.len()]
    );
    let mut fields: Vec<(&str, String)> = vec![("001", format!("{i:08}"))];
    if cnmarc {
        fields.push(("005", format!("2024{:02}{:02}093015.0", 1 + i % 12, 1 + i % 28)));
        fields.push(("010", subfields("  ", &[('a', &isbn), ('d', "CNY68.00")])));
        fields.push((
            "100",
            subfields("  ", &[('a', "20240315d2023    em y0chiy50      ea")]),
        ));
        fields.push(("101", subfields("0 ", &[('a', "chi")])));
        fields.push(("102", subfields("  ", &[('a', "CN"), ('b', "620000")])));
        fields.push(("200", subfields("1 ", &[('a', &record.title), ('f', &creator)])));
        fields.push((
            "210",
            subfields("  ", &[('a', "兰州"), ('c', &publisher), ('d', &date)]),
        ));
        fields.push((
            "215",
            subfields("  ", &[('a', &pages), ('c', "图"), ('d', &height)]),
        ));
        fields.push(("225", subfields("2 ", &[('a', series)])));
        fields.push(("300", subfields("  ", &[('a', note)])));
        fields.push(("320", subfields("  ", &[('a', &bibliography)])));
        fields.push(("330", subfields("  ", &[('a', &description)])));
        for subject in &record.subjects {
            fields.push(("606", subfields("0 ", &[('a', subject)])));
        }
        fields.push(("690", subfields("  ", &[('a', class), ('v', "5")])));
        fields.push(("701", subfields(" 0", &[('a', &creator), ('4', "著")])));
        fields.push(("702", subfields(" 0", &[('a', &editor), ('4', "主编")])));
        fields.push((
            "801",
            subfields(" 0", &[('a', "CN"), ('b', "LZLIB"), ('c', "20240315")]),
        ));
        for (branch, barcode) in &copies {
            fields.push((
                "905",
                subfields("  ", &[('a', branch), ('b', barcode), ('d', class), ('e', "1")]),
            ));
        }
        iso2709("nam0 22   450 ", &fields)
    } else {
        fields.push(("005", format!("2024{:02}{:02}093015.0", 1 + i % 12, 1 + i % 28)));
        fields.push(("008", FIXED_008.to_owned()));
        fields.push(("020", subfields("  ", &[('a', &isbn), ('c', "CNY68.00")])));
        fields.push((
            "040",
            subfields("  ", &[('a', "LZLIB"), ('b', "chi"), ('c', "LZLIB")]),
        ));
        fields.push(("041", subfields("0 ", &[('a', "chi")])));
        fields.push(("084", subfields("  ", &[('a', class), ('2', "clc")])));
        fields.push(("100", subfields("1 ", &[('a', &creator)])));
        fields.push(("245", subfields("10", &[('a', &record.title), ('c', &creator)])));
        fields.push((
            "264",
            subfields(" 1", &[('a', "兰州"), ('b', &publisher), ('c', &date)]),
        ));
        fields.push((
            "300",
            subfields("  ", &[('a', &pages), ('b', "图"), ('c', &height)]),
        ));
        fields.push(("490", subfields("0 ", &[('a', series)])));
        fields.push(("500", subfields("  ", &[('a', note)])));
        fields.push(("504", subfields("  ", &[('a', &bibliography)])));
        fields.push(("520", subfields("  ", &[('a', &description)])));
        for subject in &record.subjects {
            fields.push(("650", subfields(" 7", &[('a', subject), ('2', "cct")])));
        }
        fields.push(("700", subfields("1 ", &[('a', &editor), ('e', "主编")])));
        for (branch, barcode) in &copies {
            fields.push((
                "852",
                subfields("  ", &[('b', branch), ('h', class), ('p', barcode)]),
            ));
        }
        iso2709("nam a22 i 4500", &fields)
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

/// Everything under `path` (the index has a folder of segment files).
fn tree_size(path: &Path) -> u64 {
    let mut total = dir_size(path);
    if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                total += tree_size(&entry.path());
            }
        }
    }
    total
}

/// Samples the process's anonymous RSS (`RssAnon`: heap and stacks, not mapped files) every
/// 100 ms on a thread of its own, keeping the highest.
struct HeapSampler {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl HeapSampler {
    fn start() -> HeapSampler {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = std::thread::spawn({
            let stop = std::sync::Arc::clone(&stop);
            move || {
                let mut peak = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    peak = peak.max(super::http::status_bytes("RssAnon:"));
                    std::thread::sleep(Duration::from_millis(100));
                }
                peak
            }
        });
        HeapSampler { stop, thread }
    }

    fn stop(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap_or(0)
    }
}

/// Runs the scale run and prints its report.
pub async fn run(options: &DumpBenchOptions) -> anyhow::Result<()> {
    let dir = DataDir::new(options.data_dir.as_ref(), "dump")?;
    let institutions = synthetic_institutions();
    let flavour = if options.cnmarc { "cnmarc" } else { "marc21" };
    let dump = dir.path.join(format!("catalogue-{flavour}.mrc"));

    let started = Instant::now();
    let mut file = BufWriter::new(std::fs::File::create(&dump)?);
    for i in 0..options.records {
        let record = synthetic_record(i, &institutions);
        file.write_all(&marc_record(i, &record, options.cnmarc))?;
    }
    file.into_inner()?.sync_all()?;
    let size = std::fs::metadata(&dump)?.len();
    println!(
        "{} {flavour} records written: {:.1} MiB in {:.1} s",
        options.records,
        mib(size),
        secs(started.elapsed())
    );

    let data_dir = dir.path.join("data");
    let mut config = format!(
        "data_dir = {:?}\n[[sources]]\nid = \"dump\"\ninstitution = \"b-lzlib\"\nprotocol = \"marc\"\n\
         format = {flavour:?}\npath = {:?}\n",
        data_dir.display().to_string(),
        dump.display().to_string()
    );
    if let Some(url) = &options.store_url {
        config.push_str(&format!("[store]\nurl = {url:?}\n"));
    }
    for institution in &institutions {
        config.push_str(&format!(
            "[[institutions]]\nid = {:?}\nname = {:?}\ntype = {:?}\n",
            institution.id,
            institution.name,
            institution.institution_type.as_str()
        ));
    }
    let config = Config::parse(&config)?;
    let source = config.sources[0].clone();

    let instance = Instance::open(config.clone())?;
    let heap = HeapSampler::start();
    let started = Instant::now();
    let mut next_report = Instant::now() + Duration::from_secs(10);
    let run = instance
        .harvest_in_bulk(&source, |p| {
            if Instant::now() >= next_report {
                next_report += Duration::from_secs(10);
                eprintln!(
                    "  … {} items, {:.0} MiB of {:.0} MiB read",
                    p.items,
                    mib(p.bytes_read.unwrap_or(0)),
                    mib(p.bytes_total.unwrap_or(0))
                );
            }
        })
        .await?;
    let harvested = started.elapsed();
    anyhow::ensure!(
        run.status == store::RunStatus::Complete,
        "the harvest failed: {:?}",
        run.error
    );
    instance.wait_indexed(Duration::from_secs(24 * 3600)).await?;
    let searchable = started.elapsed();
    let harvest_peak = super::http::status_bytes("VmHWM:");
    let heap_peak = heap.stop();
    println!(
        "harvest: {} added, {} quarantined; stored in {:.1} s ({:.0} records/s, {:.1} MiB/s), \
         all searchable after {:.1} s ({:.0} records/s)",
        run.counts.added,
        run.counts.quarantined,
        secs(harvested),
        options.records as f64 / secs(harvested),
        mib(size) / secs(harvested),
        secs(searchable),
        options.records as f64 / secs(searchable)
    );
    println!(
        "peak RSS while harvesting and indexing: {:.0} MiB, of which anonymous memory (the heap) \
         at most {:.0} MiB; the rest is index files mapped in (page cache the kernel can reclaim)",
        mib(harvest_peak),
        mib(heap_peak)
    );
    let store_size = instance.store.disk_bytes()?
        + std::fs::metadata(data_dir.join("jincheng.db-wal")).map_or(0, |m| m.len());
    println!(
        "on disk: store {:.0} MiB, index {:.0} MiB (the dump itself {:.0} MiB)",
        mib(store_size),
        mib(tree_size(&data_dir.join("index"))),
        mib(size)
    );

    let started = Instant::now();
    let again = instance.harvest_in_bulk(&source, |_| {}).await?;
    println!(
        "the same file again: {} unchanged, {} added in {:.1} s",
        again.counts.unchanged,
        again.counts.added,
        secs(started.elapsed())
    );
    instance.indexing.shutdown();
    drop(instance);

    // A restart: open the data directory again, then search.
    let started = Instant::now();
    let instance = Instance::open(config.clone())?;
    let opened = started.elapsed();
    let mix = query_mix();
    // Searched as the API searches: through the search service (thumbnails included).
    let search = instance.state().search;
    let started = Instant::now();
    let first = search.search(&mix[0].1)?.results;
    println!(
        "restart: opened in {:.0} ms; first search {:.1} ms ({} hits)",
        ms(opened),
        ms(started.elapsed()),
        first.total
    );
    let mut all = Vec::new();
    for (label, request) in &mix {
        let mut times = Vec::with_capacity(options.rounds);
        let mut total = 0;
        for _ in 0..options.rounds {
            let started = Instant::now();
            total = search.search(request)?.results.total;
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "  {label:<28} {total:>8} hits  p50 {:>7.2} ms  p99 {:>7.2} ms",
            ms(percentile(&times, 50.0)),
            ms(percentile(&times, 99.0))
        );
        all.extend(times);
    }
    all.sort();
    println!(
        "search in process ({} searches): p50 {:.2} ms, p99 {:.2} ms; RSS while serving {:.0} MiB",
        all.len(),
        ms(percentile(&all, 50.0)),
        ms(percentile(&all, 99.0)),
        mib(super::http::status_bytes("VmRSS:"))
    );
    throughput(&search, &mix);
    instance.indexing.shutdown();
    drop(instance);

    if options.store_url.is_some() {
        // A node added to a running deployment: an empty data directory on the same store.
        let mut node = config;
        node.data_dir = dir.path.join("second-node");
        let started = Instant::now();
        let instance = Instance::open(node)?;
        instance.wait_indexed(Duration::from_secs(24 * 3600)).await?;
        println!(
            "a second node, started with an empty data directory: all {} records searchable after {:.1} s",
            instance.indexing.index().num_docs(),
            secs(started.elapsed())
        );
        instance.indexing.shutdown();
    }
    Ok(())
}

/// Searches per second of the mix, two threads searching at once for ten seconds (the
/// machine's two cores), through the search service as the API calls it.
fn throughput(search: &services::search::SearchService, mix: &[(&str, indexer::SearchRequest)]) {
    const THREADS: usize = 2;
    const FOR: Duration = Duration::from_secs(10);
    let started = Instant::now();
    let searches: usize = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                scope.spawn(move || {
                    let mut done = 0;
                    for (_, request) in mix.iter().cycle().skip(t) {
                        if started.elapsed() >= FOR || search.search(request).is_err() {
                            break;
                        }
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap_or(0)).sum()
    });
    println!(
        "throughput, {THREADS} threads searching the mix for {} s: {:.0} searches/s",
        FOR.as_secs(),
        searches as f64 / secs(started.elapsed())
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use harvesters::{ItemOutcome, MarcFormat, MarcOptions};

    #[test]
    fn synthetic_records_read_back_through_the_marc_reader_at_a_catalogue_s_size() {
        let institutions = synthetic_institutions();
        for (cnmarc, format) in [(false, MarcFormat::Marc21), (true, MarcFormat::Cnmarc)] {
            let records: Vec<Record> = (0..300).map(|i| synthetic_record(i, &institutions)).collect();
            let file: Vec<u8> = records
                .iter()
                .enumerate()
                .flat_map(|(i, r)| marc_record(i, r, cnmarc))
                .collect();
            // 250,000 records ≈ 240 MB, as the real export.
            let per_record = file.len() / records.len();
            assert!((850..1100).contains(&per_record), "{per_record} bytes a record");
            let options = MarcOptions {
                format,
                source_id: "bench".into(),
                institution: "b-lzlib".into(),
                ..MarcOptions::default()
            };
            let items: Vec<_> = harvesters::read_iso2709_stream(&file[..], options)
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(items.len(), records.len());
            for (i, (item, record)) in items.iter().zip(&records).enumerate() {
                let ItemOutcome::Record(read) = &item.outcome else {
                    panic!("record {i} ({cnmarc}): {:?}", item.outcome);
                };
                assert_eq!(read.title, record.title, "cnmarc {cnmarc}");
                assert_eq!(read.creators.first(), record.creators.first(), "cnmarc {cnmarc}");
                assert_eq!(read.isbns, record.isbns, "cnmarc {cnmarc}");
                assert_eq!(read.holdings.len(), 1 + i % 3, "cnmarc {cnmarc}");
            }
        }
    }
}
