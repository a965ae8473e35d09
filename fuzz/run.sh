#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser on the stable toolchain (see README.md):
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
# Builds the targets with SanitizerCoverage, seeds each corpus from the committed fixtures,
# runs libFuzzer for the given time (default 600 s) per target, one after the other, and
# stops at the first crash (its input is left as fuzz/artifacts/TARGET/crash-*).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(marc_iso2709 marcxml csv feed lido json oai_pmh native)

export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
triple=x86_64-unknown-linux-gnu
CARGO_TARGET_DIR=target/sancov cargo build --release --target "$triple"

fixtures=../harvesters/tests/fixtures
seed() { # target, then the fixture files that seed it
    local target=$1
    shift
    mkdir -p "corpus/$target"
    for file in "$@"; do
        [ -f "$file" ] && cp -n "$file" "corpus/$target/"
    done
    return 0
}
seed marc_iso2709 "$fixtures"/marc/*.mrc
seed marcxml "$fixtures"/marc/*.xml
seed csv "$fixtures"/csv/*
seed feed "$fixtures"/feed/*
seed lido "$fixtures"/lido/*
seed json "$fixtures"/json/*
seed oai_pmh "$fixtures"/*.xml "$fixtures"/native/*
seed native "$fixtures"/native/*

for target in "${targets[@]}"; do
    echo "== $target: ${seconds} s"
    mkdir -p "artifacts/$target"
    "target/sancov/$triple/release/$target" "corpus/$target" -max_len=65536 -rss_limit_mb=2048 \
        -timeout=10 -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="artifacts/$target/"
done
