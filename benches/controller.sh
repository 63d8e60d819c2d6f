#!/usr/bin/env bash
# The controller benchmarks of BENCHMARKS.md: idle CPU of a controller with nothing to do, and
# its resident memory across 1,000 runs (each started by SIGHUP, the next one sent when the run
# before it is recorded in /metrics). Against the emulator in another process, USERS users in one
# organization (20 by default), all matching the files after the first run. For figures only: not used by tests
# or CI. Needs curl.
#
#   cargo build [--release]
#   benches/controller.sh [BINARY] [IDLE_SECONDS] [RUNS] [USERS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-${CARGO_TARGET_DIR:-target}/debug/workmail-reconcile}"
idle_seconds="${2:-60}"
runs="${3:-1000}"
users="${4:-20}"
org=m-0123456789abcdef0123456789abcdef

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# The seed and the files: every user with a display name and an office; the files want another
# office for each, so the first run updates all of them and every later run finds nothing to do.
{
    echo "organizations:"
    echo "  - id: $org"
    echo "    alias: acme"
    echo "    default_mail_domain: acme.example"
    echo "    users:"
    for i in $(seq -w 1 "$users"); do
        echo "      - {name: user$i, email: user$i@acme.example, display_name: User $i, office: Old}"
    done
} >"$work/seed.yaml"
mkdir "$work/users"
{
    echo "organization: acme"
    echo "users:"
    for i in $(seq -w 1 "$users"); do
        printf '  user%s:\n    display_name: User %s\n    office: New\n' "$i" "$i"
    done
} >"$work/users/acme.yaml"

"$bin" emulator --seed "$work/seed.yaml" >"$work/emulator.out" 2>/dev/null &
pids+=($!)
while [ ! -s "$work/emulator.out" ]; do sleep 0.1; done
emulator=$(head -n1 "$work/emulator.out")

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
"$bin" --endpoint-url "$emulator" -q controller "$work/users" --mode self-heal --interval 1h \
    --max-changes "$users" --listen 127.0.0.1:0 >"$work/controller.out" 2>"$work/controller.err" &
controller=$!
pids+=("$controller")
while [ ! -s "$work/controller.out" ]; do sleep 0.1; done
url=$(head -n1 "$work/controller.out")

# Runs finished so far, from the metrics.
runs_done() {
    curl -sf "$url/metrics" | awk '/^workmail_reconcile_runs_total/ { n += $2 } END { print n + 0 }'
}
wait_runs() {
    while [ "$(runs_done)" -lt "$1" ]; do sleep 0.01; done
}
rss_kib() {
    awk '/^VmRSS/ { print $2 }' "/proc/$controller/status"
}
cpu_ticks() {
    # utime + stime, fields 14 and 15 of /proc/PID/stat (the name in field 2 has no spaces).
    awk '{ print $14 + $15 }' "/proc/$controller/stat"
}

wait_runs 1
echo "first run: $(curl -sf "$url/status" | grep -m1 '"result"')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# Idle: the interval is an hour, so nothing runs; only the source is looked at every 2 s.
hz=$(getconf CLK_TCK)
before=$(cpu_ticks)
calls_before=$(curl -sf "$emulator/_emulator/counters")
sleep "$idle_seconds"
after=$(cpu_ticks)
calls_after=$(curl -sf "$emulator/_emulator/counters")
awk -v t="$((after - before))" -v hz="$hz" -v s="$idle_seconds" \
    'BEGIN { printf "idle: %d ticks of CPU in %d s = %.3f %% of a core\n", t, s, 100 * t / hz / s }'
[ "$calls_before" = "$calls_after" ] && echo "idle: no API call in $idle_seconds s" \
    || echo "idle: API calls changed: $calls_before -> $calls_after"

# Memory across runs: one SIGHUP, wait for its run, again.
printf '%8s %10s\n' runs "RSS KiB"
printf '%8d %10d\n' 1 "$(rss_kib)"
start=$(date +%s.%N)
for n in $(seq 2 "$runs"); do
    kill -HUP "$controller"
    wait_runs "$n"
    if [ $((n % 100)) -eq 0 ]; then printf '%8d %10d\n' "$n" "$(rss_kib)"; fi
done
end=$(date +%s.%N)
awk -v a="$start" -v b="$end" -v n="$((runs - 1))" \
    'BEGIN { printf "%d runs in %.1f s (%.1f ms each, HTTP polling included)\n", n, b - a, 1000 * (b - a) / n }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
curl -sf "$url/metrics" | grep -E '^workmail_reconcile_(runs_total|api_requests_total)'
