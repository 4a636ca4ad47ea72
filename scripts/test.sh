#!/usr/bin/env bash
# Runs Baton's whole test suite:
#   1. cargo tests: unit tests, and the HTTP/WebSocket tests against both backends (SQLite in a
#      temporary directory, PostgreSQL in a fresh database per test); the cluster tests run two
#      or three nodes on PostgreSQL and Redis (a key prefix per test, or a redis-server of their
#      own), and docs/DEPLOY.md's nginx configuration in front of two nodes;
#   2. the contract test: schemathesis against the OpenAPI document a running Baton serves
#      (tests/contract; installs schemathesis into a local virtual environment);
#   3. the browser tests: the inbox, the widget and the admin pages in headless Chromium
#      (tests/browser).
#
# Needs PostgreSQL on 127.0.0.1:5432 with trust auth (override with BATON_TEST_PG_URL) and Redis
# on 127.0.0.1:6379 (override with BATON_TEST_REDIS_URL).
# Installs what a fresh Debian machine lacks: Chromium, nginx and redis-server (apt) and the
# test's npm package.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need_apt+=(nginx)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "Installing ${need_apt[*]} with apt-get…"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

export BATON_TEST_PG_URL="${BATON_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
cargo test --locked --all-targets "$@"
# The benchmark (./bench/run.sh) is not run here, but it must keep building.
cargo check --locked -p baton-bench --all-targets

target="${CARGO_TARGET_DIR:-$PWD/target}"
BATON_BIN="$target/debug/baton" tests/contract/run.sh
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
BATON_BIN="$target/debug/baton" CHROMIUM="$(command -v chromium)" \
  node --test --test-concurrency=1 tests/browser/e2e.test.js tests/browser/widget.test.js tests/browser/agent.test.js tests/browser/ops.test.js tests/browser/sso.test.js
