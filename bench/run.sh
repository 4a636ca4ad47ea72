#!/usr/bin/env bash
# Runs Baton's whole benchmark suite on this machine and writes docs/BENCHMARKS.md:
#   ./bench/run.sh            the full run (about ten minutes)
#   ./bench/run.sh --quick    a seconds-long smoke run of the suite itself
# Needs Node.js and npm for the Socket.IO baseline (better-sqlite3 builds from source).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bins -p baton -p baton-bench
if [ ! -d bench/socketio/node_modules ]; then
  # Build native modules against this machine's Node headers, never a download.
  [ -d /usr/include/node ] && export npm_config_nodedir=/usr
  (cd bench/socketio && npm ci --no-audit --no-fund --loglevel=error)
fi
exec target/release/baton-bench all "$@"
