#!/usr/bin/env bash
# Runs Baton's whole test suite: unit tests, and the HTTP API tests against both backends
# (SQLite in a temporary directory, PostgreSQL in a fresh database per test).
#
# Needs PostgreSQL on 127.0.0.1:5432 with trust auth (override with BATON_TEST_PG_URL, e.g.
# postgres://postgres@127.0.0.1:5432/test); installs nothing else a fresh machine lacks.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required: install Rust from your distribution or rustup" >&2
  exit 1
fi

export BATON_TEST_PG_URL="${BATON_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
cargo test --locked --all-targets "$@"
