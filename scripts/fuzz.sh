#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ (libFuzzer, coverage-guided) for a bounded time each.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to $FUZZ_SECONDS, else 60; TARGETs default to all of them
# (`cargo fuzz list`). Not part of CI (that is scripts/test.sh).
#
# Each target starts from its committed seeds (fuzz/seeds/<target>) and the corpus kept from
# earlier runs (fuzz/corpus/<target>, git-ignored). Exits non-zero if any target crashes,
# panics, times out or runs out of memory; the failing input is saved in
# fuzz/artifacts/<target>/ and printed, with the command that replays it.
#
# Environment:
#   FUZZ_SECONDS       seconds per target (the first argument wins)
#   FUZZ_SANITIZER     address (default) or none: none builds and runs faster; Baton has no
#                      unsafe code of its own, so a panic is what the targets look for
#   FUZZ_ARGS          extra libFuzzer flags for every target, e.g. "-max_len=20000 -jobs=2"
#   FUZZ_VERBOSE=1     stream libFuzzer's output instead of a summary line per target
#   CARGO_TARGET_DIR   where to build (default fuzz/target)
# Stable Rust is enough: RUSTC_BOOTSTRAP=1 lets it take the -Z flags cargo-fuzz passes.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
  seconds="$1"
  shift
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "fuzz.sh: seconds per target must be a positive integer, not '$seconds'" >&2
  exit 2
fi
sanitizer="${FUZZ_SANITIZER:-address}"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "Installing cargo-fuzz…"
  cargo install cargo-fuzz --locked
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets found in fuzz/" >&2
  exit 2
fi

echo "Building ${#targets[@]} fuzz targets (sanitizer: $sanitizer)…"
build_start=$SECONDS
cargo fuzz build --sanitizer "$sanitizer"
echo "Built in $((SECONDS - build_start)) s. Fuzzing each target for $seconds s: ${targets[*]}"

# Renders a crashing input readably: a Rust-style escaped string when it is UTF-8, else bytes.
show_input() {
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$1" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
try:
    text = data.decode("utf-8")
    print("    as a string (%d bytes): %s" % (len(data), '"' + text.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'))
except UnicodeDecodeError:
    print("    as bytes (%d): %s" % (len(data), list(data)))
EOF
  else
    od -An -c "$1" | head -20
  fi
}

logs="fuzz/artifacts/logs"
mkdir -p "$logs"
failed=()
# shellcheck disable=SC2206 # FUZZ_ARGS is a list of flags
extra=(${FUZZ_ARGS:-})
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  corpora=("fuzz/corpus/$t")
  [ -d "fuzz/seeds/$t" ] && corpora+=("fuzz/seeds/$t")
  marker="$(mktemp)"
  log="$logs/$t.log"
  start=$SECONDS
  args=(run --sanitizer "$sanitizer" "$t" "${corpora[@]}" --
    "-max_total_time=$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${extra[@]}")
  status=0
  if [ "${FUZZ_VERBOSE:-0}" = 1 ]; then
    cargo fuzz "${args[@]}" 2>&1 | tee "$log" || status=$?
  else
    cargo fuzz "${args[@]}" >"$log" 2>&1 || status=$?
  fi
  took=$((SECONDS - start))
  runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)"
  corpus_size="$(find "fuzz/corpus/$t" -type f | wc -l)"
  if [ "$status" -eq 0 ]; then
    echo "ok    $t: ${took} s, ${runs:-?} runs, ${cov:-cov: ?}, corpus $corpus_size inputs"
  else
    failed+=("$t")
    echo "FAIL  $t: exit $status after ${took} s (full log: $log)"
    if grep -q "panicked at" "$log"; then
      # The panic message, up to the backtrace.
      sed -n '/panicked at/,/^stack backtrace:\|^note: /p' "$log" | head -20 | sed 's/^/    /'
    else
      grep -E -A12 "ERROR: (AddressSanitizer|libFuzzer)" "$log" | head -30 | sed 's/^/    /' || true
    fi
    found=0
    while IFS= read -r artifact; do
      found=1
      echo "  crashing input saved at: $artifact"
      show_input "$artifact"
      echo "  replay: ${BATON_FUZZ_STRICT:+BATON_FUZZ_STRICT=$BATON_FUZZ_STRICT }RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer $sanitizer $t $artifact"
    done < <(find "fuzz/artifacts/$t" -type f -newer "$marker" | sort)
    [ "$found" = 1 ] || { echo "  no input was saved; the end of the log:"; tail -20 "$log" | sed 's/^/    /'; }
  fi
  rm -f "$marker"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "Fuzzing found failures in: ${failed[*]}" >&2
  exit 1
fi
echo "All ${#targets[@]} fuzz targets ran ${seconds} s each without a failure."
