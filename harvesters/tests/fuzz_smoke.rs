//! A stable-toolchain stand-in for the cargo-fuzz targets in `fuzz/`: every target's entry
//! point (the very functions the libFuzzer targets call, from `fuzz/src/lib.rs`) runs over
//! the committed fixtures and a few thousand inputs mutated from them with a fixed seed.
//! Nothing is asserted but that no parser panics; the run is deterministic, so a failure
//! here reproduces with `cargo test --test fuzz_smoke`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../fuzz/src/lib.rs"]
mod targets;

use std::path::Path;

/// Mutated inputs per target.
const MUTATIONS: usize = 3_000;
/// Seeds larger than this are run once but not mutated (to keep the test quick).
const MAX_MUTATED_SEED: usize = 16 * 1024;

/// xorshift64*: a fixed, dependency-free sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes that mean something to one of the parsers.
const INTERESTING: &[u8] = b"\x1d\x1e\x1f<>&;/\"'=:,\n\r\x00\xff\x80\xc3\x819{}[]0";

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 => {
                let byte = INTERESTING[rng.below(INTERESTING.len())];
                data.insert(rng.below(len + 1), byte);
            }
            2 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(64)).min(len);
                data.drain(start..end);
            }
            3 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(64)).min(len);
                let copy = data[start..end].to_vec();
                let at = rng.below(data.len() + 1);
                data.splice(at..at, copy);
            }
            4 => data.truncate(rng.below(len + 1)),
            5 if len > 0 => {
                // Overwrite with an ASCII digit: leader and directory numbers.
                let i = rng.below(len);
                data[i] = b'0' + rng.below(10) as u8;
            }
            _ => {
                let i = rng.below(len + 1);
                data.insert(i, rng.next() as u8);
            }
        }
    }
    data
}

fn fixtures(dir: &str, extra: &[&[u8]]) -> Vec<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let mut seeds: Vec<Vec<u8>> = extra.iter().map(|s| s.to_vec()).collect();
    if let Ok(entries) = std::fs::read_dir(&path) {
        let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for file in files {
            if file.extension().is_some_and(|e| e != "py" && e != "md") {
                seeds.push(std::fs::read(&file).unwrap());
            }
        }
    }
    assert!(!seeds.is_empty(), "no seeds for {dir}");
    seeds
}

/// Hostile nesting, inside a record (`record_open` … `record_close`) and around the whole
/// document: 60,000 levels (under quick-xml's own limit of 65,535, over the ≈ 40,000 that
/// overflowed a worker's stack in a recursive walk), run once as seeds too large to mutate;
/// and 300 levels, just past the readers' limit of 256, small enough to be mutated around it.
fn deep_nesting(record_open: &str, record_close: &str) -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for depth in [300, 60_000] {
        let nesting = format!("{}x{}", "<a>".repeat(depth), "</a>".repeat(depth));
        seeds.push(format!("{record_open}{nesting}{record_close}").into_bytes());
        seeds.push(format!("{nesting}{record_open}{record_close}").into_bytes());
    }
    seeds
}

fn smoke(name: &str, seeds: &[Vec<u8>], target: fn(&[u8])) {
    let mut rng = Rng(0x5EED_0000_0000_0001 ^ name.len() as u64);
    for seed in seeds {
        target(seed);
    }
    let small: Vec<&Vec<u8>> = seeds.iter().filter(|s| s.len() <= MAX_MUTATED_SEED).collect();
    for _ in 0..MUTATIONS {
        let seed = small[rng.below(small.len())];
        let input = mutate(&mut rng, seed);
        target(&input);
    }
}

#[test]
fn marc_iso2709_survives_mutations() {
    let seeds = fixtures("marc", &[b"", b"00024nam a2200025 i 4500\x1e\x1d"]);
    smoke("marc_iso2709", &seeds, targets::marc_iso2709);
}

#[test]
fn marcxml_survives_mutations() {
    let mut seeds = deep_nesting(
        "<collection><record><leader>00000nam a2200000 i 4500</leader>",
        "</record></collection>",
    );
    seeds.extend(fixtures(
        "marc",
        &[br#"<collection xmlns="http://www.loc.gov/MARC21/slim"><record><leader>00000nam a2200000 i 4500</leader><controlfield tag="001">1</controlfield><datafield tag="245" ind1="1" ind2="0"><subfield code="a">x</subfield></datafield></record></collection>"#],
    ));
    smoke("marcxml", &seeds, targets::marcxml);
}

#[test]
fn csv_survives_mutations() {
    smoke(
        "csv",
        &fixtures("csv", &[b"id,title,creator\n1,a,b\n"]),
        targets::csv,
    );
}

#[test]
fn feed_survives_mutations() {
    let mut seeds = deep_nesting(
        "<rss><channel><item><guid>1</guid><title>t</title>",
        "</item></channel></rss>",
    );
    seeds.extend(fixtures("feed", &[]));
    smoke("feed", &seeds, targets::feed);
}

#[test]
fn lido_survives_mutations() {
    let mut seeds = deep_nesting(
        r#"<lido:lido xmlns:lido="http://www.lido-schema.org"><lido:lidoRecID>1</lido:lidoRecID>"#,
        "</lido:lido>",
    );
    seeds.extend(fixtures("lido", &[]));
    smoke("lido", &seeds, targets::lido);
}

#[test]
fn json_survives_mutations() {
    smoke(
        "json",
        &fixtures("json", &[br#"{"items":[{"id":1,"title":"x"}]}"#]),
        targets::json,
    );
}

#[test]
fn oai_pmh_survives_mutations() {
    // The OAI-PMH fixtures lie at the top of the fixtures directory, beside the others' folders.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    let mut seeds = deep_nesting(
        "<OAI-PMH><ListRecords><record><header><identifier>a</identifier></header><metadata>",
        "</metadata></record></ListRecords></OAI-PMH>",
    );
    seeds.extend(files.iter().map(|f| std::fs::read(f).unwrap()));
    seeds.extend(fixtures("native", &[]));
    smoke("oai_pmh", &seeds, targets::oai_pmh);
}

#[test]
fn native_survives_mutations() {
    let seeds = fixtures("native", &[]);
    // The fixture is a whole record in the format: it must read, or the mutations prove little.
    targets::native(&seeds[0]);
    assert!(jincheng_harvesters::read_jincheng_record(std::str::from_utf8(&seeds[0]).unwrap()).is_ok());
    let mut seeds = seeds;
    seeds.extend(deep_nesting(
        r#"<jincheng xmlns="urn:jincheng:record:1"><id>a:1</id><institution>x</institution><title>"#,
        "</title></jincheng>",
    ));
    smoke("native", &seeds, targets::native);
}
