//! A MARC dump larger than the old 64 MiB limit is harvested by `jincheng harvest` in memory
//! that does not grow with the file (issue #14): the same records padded to ten times the
//! size cost the process (its peak RSS, which it reports) less than half the extra bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;

/// One ISO 2709 record: a control number, a title, and `padding` bytes in local fields (a
/// field holds at most 9,999 bytes).
fn marc(id: usize, padding: usize) -> Vec<u8> {
    let mut fields = vec![
        ("001", format!("{id}")),
        ("245", format!("10\x1fa大型书目第{id}种")),
    ];
    for start in (0..padding).step_by(9_000) {
        fields.push((
            "999",
            format!("  \x1fa{}", "x".repeat(9_000.min(padding - start))),
        ));
    }
    let fields: Vec<(&str, &[u8])> = fields
        .iter()
        .map(|(tag, content)| (*tag, content.as_bytes()))
        .collect();
    harvesters::write_iso2709("nam a22   4500", &fields)
}

/// Harvests `records` records of `padding` bytes each into a fresh data directory; returns
/// the file's size and the peak RSS the command reported, in MiB.
fn harvest(dir: &Path, records: usize, padding: usize) -> (u64, u64) {
    let dump = dir.join("catalogue.mrc");
    let mut file = BufWriter::new(std::fs::File::create(&dump).unwrap());
    for id in 0..records {
        file.write_all(&marc(id, padding)).unwrap();
    }
    file.into_inner().unwrap().sync_all().unwrap();
    let config = dir.join("jincheng.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n[[institutions]]\nid = \"lzlib\"\nname = \"兰州市图书馆\"\ntype = \"library\"\n\
             [[sources]]\nid = \"big\"\ninstitution = \"lzlib\"\nprotocol = \"marc\"\nformat = \"marc21\"\npath = {:?}\n",
            dir.join("data").display().to_string(),
            dump.display().to_string()
        ),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_jincheng"))
        .args(["harvest", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(&format!("{records} added")), "{stdout}");
    let peak = stdout
        .lines()
        .find_map(|line| line.strip_prefix("peak memory (RSS): "))
        .and_then(|rest| rest.strip_suffix(" MiB"))
        .and_then(|mib| mib.parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in {stdout}"));
    let size = std::fs::metadata(&dump).unwrap().len() >> 20;
    std::fs::remove_file(&dump).unwrap();
    (size, peak)
}

#[test]
fn a_dump_over_the_old_limit_is_harvested_in_memory_that_does_not_grow_with_it() {
    let root = tempfile::tempdir().unwrap();
    let small = root.path().join("small");
    let large = root.path().join("large");
    std::fs::create_dir_all(&small).unwrap();
    std::fs::create_dir_all(&large).unwrap();
    let records = 1_500;
    let (small_size, small_peak) = harvest(&small, records, 9_000);
    let (large_size, large_peak) = harvest(&large, records, 90_000);
    println!("peak RSS {small_peak} MiB for {small_size} MiB, {large_peak} MiB for {large_size} MiB");
    assert!(large_size > 64, "the dump is only {large_size} MiB");
    assert!(
        large_size >= 9 * small_size,
        "{small_size} MiB → {large_size} MiB"
    );
    // Ten times the bytes; what grows is bounded by the pages in flight (at most 4 MiB of
    // records each, a few of them at once: 13–32 MiB measured), not by the file: holding the
    // file would add all of it.
    assert!(
        large_peak < small_peak + large_size / 2,
        "peak RSS {small_peak} MiB for {small_size} MiB, {large_peak} MiB for {large_size} MiB"
    );
}
