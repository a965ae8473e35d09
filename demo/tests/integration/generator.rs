//! The committed sample files are exactly what `demo/generate.py` writes.

use std::path::Path;
use std::process::Command;

#[test]
fn generate_py_reproduces_the_committed_files() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let status = Command::new("python3")
        .arg(demo.join("generate.py"))
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("python3 is needed to check that demo/generate.py reproduces the sample data");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let mut files = vec!["institutions.json".to_string()];
    files.extend(
        jincheng_demo::collections()
            .iter()
            .map(|c| format!("collections/{c}.jsonl")),
    );
    // The files of the other formats (GBK, GB18030 and ISO 2709 among them): compared as bytes.
    let mut names: Vec<String> = std::fs::read_dir(demo.join("files"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(names.len() >= 6, "{names:?}");
    files.extend(names.into_iter().map(|name| format!("files/{name}")));
    for file in files {
        let committed = std::fs::read(demo.join(&file)).unwrap();
        let generated = std::fs::read(out.path().join(&file)).unwrap();
        assert!(
            committed == generated,
            "demo/{file} differs from what generate.py writes: run `python3 demo/generate.py`"
        );
    }
}
