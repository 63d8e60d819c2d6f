#!/usr/bin/env python3
"""Baseline for BENCHMARKS.md: what a plain 10-thread boto3 script achieves against the same
emulator settings as `bench_plan plan` (one DescribeUser per user, botocore's default retry mode
"legacy" unless AWS_RETRY_MODE says otherwise). For figures only: not used by tests or CI.

    cargo run --release --example bench_emulator -- --users 2000 --max-rps 200 --latency-ms 20
    python3 benches/baseline_boto3.py --endpoint URL --users 2000 --rps 200 [--retry-mode adaptive]

Calls and throttles are read from the emulator's control endpoint, like the Rust benchmark reads
the emulator's counters.
"""

import argparse
import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config


def organization_id(index):
    return f"m-{index:032x}"


def user_name(org, index):
    return f"o{org}u{index:06}"


def control(endpoint, path, method="GET"):
    request = urllib.request.Request(f"{endpoint}/_emulator/{path}", method=method)
    with urllib.request.urlopen(request) as response:
        body = response.read()
    return json.loads(body) if body else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--rps", type=float, default=200.0, help="the emulator's cap, for the ideal time")
    parser.add_argument("--threads", type=int, default=10)
    parser.add_argument("--retry-mode", default="standard", choices=["legacy", "standard", "adaptive"])
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
    org = organization_id(0)
    # Warm up the connection pool and credentials outside the measurement, then reset counters.
    client.describe_user(OrganizationId=org, UserId=user_name(0, 0))
    time.sleep(1.5)  # let the emulator's bucket refill, as the Rust benchmark starts with it full
    control(args.endpoint, "journal", "DELETE")

    failed = 0

    def describe(index):
        return client.describe_user(OrganizationId=org, UserId=user_name(0, index))

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        futures = [pool.submit(describe, i) for i in range(args.users)]
        for future in futures:
            try:
                future.result()
            except Exception:  # noqa: BLE001 - a failed user is counted, not fatal
                failed += 1
    wall = time.monotonic() - started

    counters = control(args.endpoint, "counters")
    calls = sum(counters["calls"].values())
    throttled = counters["throttled"]
    ideal = args.users / args.rps
    print(f"| boto3 {args.threads} threads, retry mode {args.retry_mode} | {args.users} | {calls} | "
          f"{throttled} | {100 * throttled / max(calls, 1):.2f} | {wall:.2f} | {ideal:.2f} | "
          f"{ideal / wall:.3f} | {failed} |")


if __name__ == "__main__":
    main()
