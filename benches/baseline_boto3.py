#!/usr/bin/env python3
"""Baseline for BENCHMARKS.md: what a plain 10-thread boto3 script achieves against the same
emulator settings as `bench_plan plan` and `bench_plan step` (one DescribeUser per user,
botocore's retry mode "standard" unless --retry-mode says otherwise). For figures only: not used
by tests or CI.

    cargo run --release --example bench_emulator -- --users 2000 --max-rps 200 --latency-ms 20
    python3 benches/baseline_boto3.py --endpoint URL --users 2000 --rps 200 [--retry-mode adaptive]

With --to and --switch-after, the script switches the emulator's cap from --rps to --to that
many seconds after its first call, through the emulator's control endpoint, as `bench_plan step`
does in process, and puts the cap back after the run:

    cargo run --release --example bench_emulator -- --users 3000 --max-rps 100 --latency-ms 20
    python3 benches/baseline_boto3.py --endpoint URL --users 3000 --rps 100 --to 400 --switch-after 5

Calls and throttles are read from the emulator's control endpoint, like the Rust benchmark reads
the emulator's counters and journal.
"""

import argparse
import json
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config


def organization_id(index):
    return f"m-{index:032x}"


def user_name(org, index):
    return f"o{org}u{index:06}"


def control(endpoint, path, method="GET", body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{endpoint}/_emulator/{path}", data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request) as response:
        payload = response.read()
    return json.loads(payload) if payload else None


def set_cap(endpoint, faults, rps):
    """Replace the emulator's cap (and refill its bucket, as `Emulator::set_faults` does)."""
    control(endpoint, "faults", "PUT", dict(faults, max_rps=rps))


def reached(admitted, switch, rate, window=0.25):
    """Seconds from the switch to the end of the first quarter second admitting `rate`/s."""
    admitted = sorted(admitted)
    start = switch
    while admitted and start + window <= admitted[-1]:
        count = sum(1 for at in admitted if start <= at < start + window)
        if count >= rate * window:
            return start + window - switch
        start += 0.01
    return None


def run_once(args, client, faults, run):
    org = organization_id(0)
    # Warm up the connection pool and credentials outside the measurement, let the emulator's
    # bucket refill (the Rust benchmark starts with it full), then clear the journal.
    client.describe_user(OrganizationId=org, UserId=user_name(0, 0))
    set_cap(args.endpoint, faults, args.rps)
    time.sleep(1.5)
    control(args.endpoint, "journal", "DELETE")

    failed = 0

    def describe(index):
        return client.describe_user(OrganizationId=org, UserId=user_name(0, index))

    started = time.monotonic()
    started_at = time.time()
    switch = None
    if args.to is not None:
        switch = threading.Timer(args.switch_after, set_cap, (args.endpoint, faults, args.to))
        switch.start()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        futures = [pool.submit(describe, i) for i in range(args.users)]
        for future in futures:
            try:
                future.result()
            except Exception:  # noqa: BLE001 - a failed user is counted, not fatal
                failed += 1
    wall = time.monotonic() - started
    if switch is not None:
        switch.cancel()

    journal = control(args.endpoint, "journal")
    admitted = [e["at"] - started_at for e in journal if e["outcome"]["kind"] != "throttled"]
    throttled = [e["at"] - started_at for e in journal if e["outcome"]["kind"] == "throttled"]
    calls = len(admitted) + len(throttled)
    label = f"boto3 {args.threads} threads, {args.retry_mode}"
    if args.to is None:
        ideal = args.users / args.rps
        print(f"| {label} | {run} | {args.users} | {calls} | {len(throttled)} | "
              f"{100 * len(throttled) / max(calls, 1):.2f} | {wall:.2f} | {ideal:.2f} | "
              f"{ideal / wall:.3f} | {failed} |")
        return
    before = args.rps * args.switch_after
    if args.users <= before:
        ideal = args.users / args.rps
    else:
        ideal = args.switch_after + (args.users - before) / args.to
    after_switch = sum(1 for at in throttled if at >= args.switch_after)
    if args.to > args.rps:
        found = reached(admitted, args.switch_after, 0.9 * args.to)
        found = "never" if found is None else f"{found:.2f}"
    else:
        found = "–"
    print(f"| {label} | {run} | {args.rps:g} → {args.to:g} | {args.users} | {calls} | "
          f"{len(throttled)} | {100 * len(throttled) / max(calls, 1):.2f} | {after_switch} | "
          f"{wall:.2f} | {ideal:.2f} | {ideal / wall:.3f} | {found} | {failed} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--rps", type=float, default=200.0,
                        help="the emulator's cap (before the switch, with --to)")
    parser.add_argument("--to", type=float, help="the cap after the switch")
    parser.add_argument("--switch-after", type=float, default=5.0,
                        help="seconds after the first call when the cap switches to --to")
    parser.add_argument("--threads", type=int, default=10)
    parser.add_argument("--retry-mode", default="standard", choices=["legacy", "standard", "adaptive"])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    client = boto3.client(
        "workmail",
        endpoint_url=args.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(
            retries={"mode": args.retry_mode, "max_attempts": 12},
            max_pool_connections=args.threads,
        ),
    )
    faults = control(args.endpoint, "faults")
    try:
        for run in range(1, args.repeat + 1):
            run_once(args, client, faults, run)
    finally:
        set_cap(args.endpoint, faults, args.rps)


if __name__ == "__main__":
    main()
