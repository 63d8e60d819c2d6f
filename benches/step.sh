#!/usr/bin/env bash
# The `step` benchmark of BENCHMARKS.md in both directions, workmail-reconcile and the boto3
# baseline in the same session: a cap raised from 100/s to 400/s after 5 s (3,000 users), then
# one cut from 400/s to 100/s after 3 s (2,000 users), 20 ms latency, default flags.
# For figures only: not used by tests or CI. Needs python3 with boto3.
#
#   cargo build --release --examples
#   benches/step.sh [REPEAT]
set -euo pipefail
cd "$(dirname "$0")/.."
repeat="${1:-3}"
bin="${CARGO_TARGET_DIR:-target}/release/examples"

scenario() {
    local users=$1 from=$2 to=$3 after=$4
    echo "## $users users, cap $from/s → $to/s after $after s; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    "$bin/bench_plan" step --users "$users" --rps "$from" --to "$to" --switch-after "$after" \
        --latency-ms 20 --repeat "$repeat"
    local out url pid
    out=$(mktemp)
    "$bin/bench_emulator" --users "$users" --max-rps "$from" --latency-ms 20 >"$out" &
    pid=$!
    trap 'kill "$pid" 2>/dev/null; rm -f "$out"' RETURN
    while [ ! -s "$out" ]; do sleep 0.1; done
    url=$(head -n1 "$out")
    python3 benches/baseline_boto3.py --endpoint "$url" --users "$users" --rps "$from" \
        --to "$to" --switch-after "$after" --repeat "$repeat"
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

scenario 3000 100 400 5
scenario 2000 400 100 3
