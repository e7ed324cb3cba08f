#!/usr/bin/python3
"""Checks the output of one smoke run of bench/telephony/call_setup_compare.sh
(tests/bench/telephony/call_setup_compare_smoke_test.sh).

The output is one JSON line per measurement ({"label": ...}), then the
summary ({"medians": ...}, indented). Checked:
  - each variant measured once, and every call placed was measured: SIPp's
    successful calls, the INVITEs and 180s in the capture and SIPp's
    response times all equal --calls, no failed call, SIPp exited 0;
  - call setup p50 and p99 from the capture: positive, p50 <= p99, and below
    kSaneMs (1 s: a call setup on loopback takes milliseconds; a second means
    a retransmission or a stall, not a slow machine);
  - the summary has every variant and its comparison (VARIANT_minus_plain_ms
    with p50 and p99);
  - nothing the run started is still running (every process it started
    inherits the environment variable --marker, set for this run only; any
    found is reported and killed by its PID), and its work directory is gone.
Exits 1 with one line per failure.
"""

import argparse
import json
import os
import signal
import sys
import time

kSaneMs = 1000.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", required=True, help="the script's stdout")
    parser.add_argument("--calls", type=int, required=True, help="calls placed per variant")
    parser.add_argument("--variants", nargs="+", required=True)
    parser.add_argument("--tmpdir", required=True, help="the run's TEST_TMPDIR")
    parser.add_argument("--marker", required=True,
                        help="NAME=VALUE in the environment of every process of the run")
    args = parser.parse_args()
    failures = []
    fail = failures.append

    lines = open(args.output).read().splitlines()
    rows = [json.loads(line) for line in lines if line.startswith('{"label"')]
    start = next((i for i, line in enumerate(lines) if line == "{"), None)
    summary = json.loads("\n".join(lines[start:]))["medians"] if start is not None else {}

    for variant in args.variants:
        measured = [r for r in rows if r.get("variant") == variant and r.get("kind") == "fixed"]
        if len(measured) != 1:
            fail(f"{variant}: {len(measured)} measurements, expected 1")
            continue
        r = measured[0]
        for key in ("calls", "successful", "invites", "ringing", "sipp_calls"):
            if r.get(key) != args.calls:
                fail(f"{variant}: {key} = {r.get(key)}, expected {args.calls} (every call placed, measured)")
        if r.get("failed") != 0 or r.get("sipp_rc") != 0:
            fail(f"{variant}: failed calls {r.get('failed')}, SIPp exit {r.get('sipp_rc')}")
        p50, p99 = r.get("p50_ms"), r.get("p99_ms")
        if not all(isinstance(v, (int, float)) and 0 < v < kSaneMs for v in (p50, p99)):
            fail(f"{variant}: call setup p50 {p50} ms, p99 {p99} ms: not in (0, {kSaneMs:g})")
        elif p50 > p99:
            fail(f"{variant}: p50 {p50} ms above p99 {p99} ms")
        if r.get("retransmissions"):
            print(f"note: {variant}: {r['retransmissions']} SIP retransmissions (a loaded machine)")
        s = summary.get(variant, {})
        if not all(isinstance(s.get(k), (int, float)) and s[k] > 0 for k in ("p50_ms", "p99_ms")):
            fail(f"summary: {variant} has no p50/p99: {s}")
    comparisons = {}
    for variant in args.variants:
        if variant == "plain":
            continue
        key = f"{variant}_minus_plain_ms"
        comparisons[key] = summary.get(key, {})
        if not all(isinstance(comparisons[key].get(k), (int, float)) for k in ("p50_ms", "p99_ms")):
            fail(f"summary: no comparison {key} p50/p99: {comparisons[key]}")

    # Every process the script started inherited the marker; none may remain.
    time.sleep(0.5)
    marker = args.marker.encode()
    me, pid = set(), os.getpid()  # this check and its ancestors (the test's shells)
    while pid > 1 and pid not in me:
        me.add(pid)
        try:
            pid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            break
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in me:
            continue
        try:
            environ = open(f"/proc/{entry}/environ", "rb").read().split(b"\0")
            cmdline = open(f"/proc/{entry}/cmdline", "rb").read().replace(b"\0", b" ")
        except OSError:
            continue
        if marker in environ:
            fail(f"left running: PID {entry}: {cmdline.decode(errors='replace')[:200]}")
            try:
                os.kill(int(entry), signal.SIGKILL)
            except OSError:
                pass
    left = [n for n in os.listdir(args.tmpdir) if n.startswith("call_setup.")]
    if left:
        fail(f"work directory left behind: {left}")

    for line in failures:
        print("FAIL:", line)
    if not failures:
        print(f"ok: {', '.join(args.variants)}: {args.calls} calls each, "
              + ", ".join(f"{v} p50 {summary[v]['p50_ms']} ms p99 {summary[v]['p99_ms']} ms"
                          for v in args.variants)
              + f"; against plain: {comparisons}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
