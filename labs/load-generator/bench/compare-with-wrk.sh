#!/usr/bin/env bash
# Compares the workbench's load generator with wrk (and oha, when installed) in one sitting, on this machine:
#   1. capacity: closed model, 1 thread, 50 connections, against the baseline lab's bare-hyper server;
#   2. CPU time per request of each generator in that run (GNU time), and its peak RSS;
#   3. fixed rate at 20k req/s: CPU per request (goal ≤ 10 µs) and send lag p99 (promise < 1 ms);
#   4. memory over a long fixed-rate run: 60 s at 20k req/s must stay under 16 MiB.
# It is a benchmark, not a test: numbers vary run to run, so it prints them for a person to read and copy into
# labs/load-generator/README.md. Loopback only; every process it starts is stopped on exit.
#
# Usage: bash labs/load-generator/bench/compare-with-wrk.sh [SECONDS]     (default 10 s per capacity run)
set -euo pipefail
cd "$(dirname "$0")/../../.."
SECONDS_PER_RUN="${1:-10}"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk || [ ! -x /usr/bin/time ]; then
  echo "installing wrk and GNU time (Debian packages)…" >&2
  apt-get update -qq && apt-get install -y -qq wrk time >/dev/null
fi
need oha || echo "oha not found: it is left out (install it with: cargo install oha)" >&2

cargo build --quiet --release -p xtask -p lab-baseline
XTASK=target/release/xtask
SERVER_BIN=target/release/lab-baseline

SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# Start the server on an ephemeral port and read its address from its first line.
coproc SERVER { exec "$SERVER_BIN" --variant hyper-multi-thread --port 0; }
SERVER_PID=$SERVER_PID
read -r first_line <&"${SERVER[0]}"
ADDR="${first_line#listening on }"
URL="http://$ADDR/"
echo "server: bare hyper, multi-thread, at $URL; $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

# measure NAME COMMAND…: runs it under GNU time; sets RPS (parsed by the caller), CPU (s) and RSS (KiB).
measure() {
  local out
  out=$( { /usr/bin/time -f 'TIME %U %S %M' "$@" 2>&1; } )
  LAST_OUTPUT="$out"
  CPU=$(awk '/^TIME/ {print $2 + $3}' <<<"$out")
  RSS=$(awk '/^TIME/ {print $4}' <<<"$out")
}

# generator_field KEY…: a field of the last run's JSON report under "generator".
generator_field() {
  python3 -c 'import json, sys
text = sys.stdin.read()
value = json.loads(text[text.index("{"):text.rindex("}") + 1])["generator"]
for key in sys.argv[1:]:
    value = value[key]
print(value)' "$@" <<<"$LAST_OUTPUT"
}

printf '\n%-12s %12s %16s %12s\n' generator "req/s" "CPU µs/request" "peak RSS"
for round in 1 2; do
  measure wrk -t1 -c50 -d"${SECONDS_PER_RUN}s" "$URL"
  RPS=$(awk '/Requests\/sec/ {print $2}' <<<"$LAST_OUTPUT")
  printf '%-12s %12.0f %16.2f %9.1f MiB\n' "wrk#$round" "$RPS" "$(echo "$CPU * 1000000 / ($RPS * $SECONDS_PER_RUN)" | bc -l)" "$(echo "$RSS/1024" | bc -l)"

  measure "$XTASK" load "$URL" --connections 50 --duration "${SECONDS_PER_RUN}s" --json
  RPS=$(grep -m1 '"achieved_rps"' <<<"$LAST_OUTPUT" | tr -dc '0-9.')
  printf '%-12s %12.0f %16.2f %9.1f MiB\n' "workbench#$round" "$RPS" "$(echo "$CPU * 1000000 / ($RPS * $SECONDS_PER_RUN)" | bc -l)" "$(echo "$RSS/1024" | bc -l)"

  if need oha; then
    measure oha -c 50 -z "${SECONDS_PER_RUN}s" --no-tui "$URL"
    RPS=$(awk '/Requests\/sec/ {print $2}' <<<"$LAST_OUTPUT")
    printf '%-12s %12.0f %16.2f %9.1f MiB\n' "oha#$round" "$RPS" "$(echo "$CPU * 1000000 / ($RPS * $SECONDS_PER_RUN)" | bc -l)" "$(echo "$RSS/1024" | bc -l)"
  fi
done

printf '\n%-12s %12s %16s %14s %8s\n' "fixed rate" "req/s" "CPU µs/request" "send lag p99" valid
for round in 1 2; do
  measure "$XTASK" load "$URL" --rate 20000 --duration "${SECONDS_PER_RUN}s" --json
  RPS=$(grep -m1 '"achieved_rps"' <<<"$LAST_OUTPUT" | tr -dc '0-9.')
  LAG=$(generator_field send_lag_us p99)
  VALID=$(generator_field valid)
  printf '%-12s %12.0f %16.2f %11s µs %8s\n' "20k#$round" "$RPS" "$(echo "$CPU * 1000000 / ($RPS * $SECONDS_PER_RUN)" | bc -l)" "$LAG" "$VALID"
done

echo
echo "memory: fixed rate, 20000 req/s for 60 s (histograms, not per-request vectors)…"
measure "$XTASK" load "$URL" --rate 20000 --duration 60s --json
echo "peak RSS $(echo "$RSS/1024" | bc -l | xargs printf '%.1f') MiB (limit 16 MiB); $(grep -m1 '"achieved_rps"' <<<"$LAST_OUTPUT" | xargs)"
