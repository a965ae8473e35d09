#!/bin/sh
# The poetry benchmark of issue #16, rerunnable anywhere: fetches the chinese-poetry corpus
# (345,721 poems, traditional characters) from the npm registry once, into
# ${XDG_CACHE_HOME:-$HOME/.cache}/jincheng/, builds Jincheng in release, and runs
# `jincheng bench http` on it (OAI-PMH harvest through the real path, then searches over HTTP
# at 1, 4 and 16 connections beside the bare-tantivy floor, then the 20 everyday queries).
# Extra arguments go to the bench, e.g. `benches/poetry.sh --duration 10s`.
set -eu
cd "$(dirname "$0")/.."
version=2.0.1
cache="${XDG_CACHE_HOME:-$HOME/.cache}/jincheng/chinese-poetry-$version"
if [ ! -d "$cache/package/dist" ]; then
    mkdir -p "$cache"
    (cd "$cache" && npm pack "chinese-poetry@$version" >/dev/null && tar -xzf "chinese-poetry-$version.tgz")
fi
cargo build --release --bin jincheng
exec nice -n 5 target/release/jincheng bench http --corpus "$cache/package" "$@"
