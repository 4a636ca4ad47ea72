#!/usr/bin/env bash
# Runs schemathesis against the OpenAPI document a real Baton serves, with every check on: no
# 5xx, every answer's status documented, every body matching its schema, bad input refused and
# good input accepted. Agent operations run with a personal API token; widget operations with
# a visitor token. Installs schemathesis into a local virtual environment (tests/contract/.venv).
#
#   BATON_BIN=target/debug/baton tests/contract/run.sh [max examples per operation, default 30]
set -euo pipefail
cd "$(dirname "$0")"
here="$PWD"
bin="${BATON_BIN:-$here/../../target/debug/baton}"
examples="${1:-${CONTRACT_EXAMPLES:-30}}"

if [ ! -x .venv/bin/schemathesis ]; then
  echo "Installing schemathesis into tests/contract/.venv…"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
fi

data="$(mktemp -d)"
log="$data/baton.log"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
# Limits off: the run makes thousands of calls from one address in a minute.
"$bin" serve --data-dir "$data" --listen 127.0.0.1:0 --login-per-minute 0 --widget-per-minute 0 \
  --widget-address-per-minute 0 --connections-per-address 0 --allow-private-webhooks >"$log" 2>&1 &
pid=$!
base=""
for _ in $(seq 1 200); do
  base="$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$log" | head -1 || true)"
  [ -n "$base" ] && break
  sleep 0.05
done
[ -n "$base" ] || { echo "baton did not start:"; cat "$log"; exit 1; }

# A set-up instance: an owner with a token, a bot and a visitor.
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
curl -sf -X POST -H 'content-type: application/json' "$base/api/setup" \
  -d '{"email":"owner@contract.test","password":"contract-pass-1","first_name":"Olga","last_name":"Owner","team_name":"Contract"}' >/dev/null
token="$(curl -sf -X POST -H 'content-type: application/json' "$base/api/auth/login" -d '{"email":"owner@contract.test","password":"contract-pass-1"}' -c "$data/jar" | json '["csrf_token"]')"
csrf="$token"
api_token="$(curl -sf -X POST -b "$data/jar" -H "x-csrf-token: $csrf" -H 'content-type: application/json' "$base/api/tokens" -d '{"name":"contract"}' | json '["token"]')"
team="$(curl -sf -H "authorization: Bearer $api_token" "$base/api/me" | json '["active_team_id"]')"
bot="$(curl -sf -X POST -H "authorization: Bearer $api_token" -H 'content-type: application/json' "$base/api/teams/$team/bots" -d '{"name":"Shop"}' | json '["id"]')"
visitor="$(curl -sf -X POST -H 'content-type: application/json' "$base/api/widget/bots/$bot/visitors" -d '{}' | json '["visitor_token"]')"

common=(--url "$base" --checks all --exclude-checks positive_data_acceptance --max-examples "$examples" --seed 20261122 --generation-deterministic
        --suppress-health-check all --request-timeout 10 --exclude-operation-id operations_metrics)
status=0
echo "== agent operations"
.venv/bin/schemathesis run "$base/api/openapi.json" "${common[@]}" -H "authorization: Bearer $api_token" \
  --exclude-tag widget --exclude-tag "real time" --exclude-path /api/auth/logout --exclude-path /api/auth/logout-everywhere \
  --exclude-path /api/me/password || status=1
echo "== widget operations"
.venv/bin/schemathesis run "$base/api/openapi.json" "${common[@]}" -H "authorization: Bearer $visitor" \
  --include-tag widget || status=1
if grep -q "panicked" "$log"; then echo "baton panicked:"; grep -A5 panicked "$log"; status=1; fi
exit $status
