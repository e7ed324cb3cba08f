#!/usr/bin/env python3
"""Compares two Google Benchmark JSON files (before, after).

Prints, per benchmark name, real_time and cpu_time before and after and their
ratio after/before, flags every ratio above 1 + threshold as a regression, and
lists the benchmarks found in only one file.

  bazel run --config=bench //bench:decision_benchmark -- \\
      --benchmark_repetitions=5 --benchmark_out=$PWD/before.json
  ... change the code, run again with --benchmark_out=$PWD/after.json ...
  bench/compare_benchmarks.py before.json after.json --threshold 3

(bazel run starts the benchmark in its runfiles directory, hence $PWD.)

Which number stands for a benchmark: the "median" aggregate when the file has
one (runs with --benchmark_repetitions); otherwise its plain iteration run, or
the median of its iteration runs when it was repeated without aggregates.
Times are converted to one unit before dividing, so files written with
different --benchmark_time_unit compare correctly. Runs that reported an error
are left out and listed.

Exit codes: 0 compared, 1 a regression beyond the threshold with
--fail-on-regression, 2 bad input (missing file, not JSON, not a Google
Benchmark file, bad arguments).
"""

import argparse
import json
import statistics
import sys

NANOSECONDS_PER_UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
METRICS = ("real_time", "cpu_time")


class BadInput(Exception):
    """A file that cannot be compared; the message names it and why."""


def load_runs(path):
    """Returns {name: {"real_time": ns, "cpu_time": ns, "unit": str}} and the
    sorted names of runs that reported an error. Raises BadInput."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise BadInput(f"{path}: cannot read: {e.strerror}") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: not JSON: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        raise BadInput(f"{path}: not a Google Benchmark file "
                       "(no top-level \"benchmarks\" list)")

    medians, iterations, errored = {}, {}, set()
    for i, run in enumerate(doc["benchmarks"]):
        if not isinstance(run, dict) or not isinstance(run.get("name"), str):
            raise BadInput(f"{path}: benchmarks[{i}] has no \"name\"")
        name = run.get("run_name", run["name"])
        if run.get("error_occurred"):
            errored.add(name)
            continue
        run_type = run.get("run_type", "iteration")
        if run_type == "aggregate" and run.get("aggregate_name") != "median":
            continue  # mean, stddev, cv, BigO, RMS: not what we compare
        unit = run.get("time_unit", "ns")
        if unit not in NANOSECONDS_PER_UNIT:
            raise BadInput(f"{path}: {run['name']}: unknown time_unit {unit!r}")
        times = {}
        for metric in METRICS:
            value = run.get(metric)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise BadInput(f"{path}: {run['name']}: {metric} is not a number")
            times[metric] = value * NANOSECONDS_PER_UNIT[unit]
        times["unit"] = unit
        if run_type == "aggregate":
            medians[name] = times
        else:
            iterations.setdefault(name, []).append(times)

    runs = dict(medians)
    for name, repeats in iterations.items():
        if name not in runs:
            runs[name] = {m: statistics.median(r[m] for r in repeats)
                          for m in METRICS}
            runs[name]["unit"] = repeats[0]["unit"]
    return runs, sorted(errored - runs.keys())


def format_time(ns, unit):
    return f"{ns / NANOSECONDS_PER_UNIT[unit]:.4g} {unit}"


def ratio(before, after):
    return after / before if before > 0 else None


def compare(before, after, threshold):
    """Prints the table; returns the names of regressed benchmarks."""
    common = [name for name in before if name in after]
    header = ["benchmark"]
    for metric in METRICS:
        header += [f"{metric} before", "after", "ratio"]
    rows, regressed = [], []
    for name in common:
        row, flags = [name], []
        for metric in METRICS:
            b, a = before[name][metric], after[name][metric]
            r = ratio(b, a)
            unit = before[name]["unit"]  # both columns in one unit
            row += [format_time(b, unit), format_time(a, unit),
                    "n/a" if r is None else f"{r:.3f}"]
            if r is not None and r > 1 + threshold:
                flags.append(metric.split("_")[0])
        if flags:
            regressed.append(name)
        row.append(f"<< REGRESSION ({', '.join(flags)})" if flags else "")
        rows.append(row)

    if rows:
        widths = [max(len(r[i]) for r in rows + [header])
                  for i in range(len(header))]
        print("  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                        for i, (h, w) in enumerate(zip(header, widths))))
        for row in rows:
            cells = [c.ljust(w) if i == 0 else c.rjust(w)
                     for i, (c, w) in enumerate(zip(row, widths))]
            print("  ".join(cells + [row[-1]]).rstrip())
    else:
        print("no benchmark is in both files")
    return regressed


def main(argv):
    parser = argparse.ArgumentParser(
        description="Compare two Google Benchmark JSON files: ratios "
        "after/before of real_time and cpu_time per benchmark.",
        epilog="Exit codes: 0 compared; 1 regression with "
        "--fail-on-regression; 2 bad input.")
    parser.add_argument("before", help="JSON from --benchmark_out (baseline)")
    parser.add_argument("after", help="JSON from --benchmark_out (candidate)")
    parser.add_argument("--threshold", type=float, default=5.0, metavar="PCT",
                        help="flag ratios above 1 + PCT/100 (default: 5)")
    parser.add_argument("--fail-on-regression", action="store_true",
                        help="exit 1 when any benchmark regressed")
    args = parser.parse_args(argv)
    if not args.threshold >= 0:
        parser.error(f"--threshold must be >= 0, got {args.threshold}")

    try:
        before, before_errors = load_runs(args.before)
        after, after_errors = load_runs(args.after)
    except BadInput as e:
        print(f"compare_benchmarks: {e}", file=sys.stderr)
        return 2

    print(f"before: {args.before}\nafter:  {args.after}\n"
          f"threshold: {args.threshold:g}% "
          f"(ratio > {1 + args.threshold / 100:.3f} is a regression)\n")
    regressed = compare(before, after, args.threshold / 100)
    for label, names in (
            (f"only in before ({args.before})",
             [n for n in before if n not in after]),
            (f"only in after ({args.after})",
             [n for n in after if n not in before]),
            ("errored in before", before_errors),
            ("errored in after", after_errors)):
        if names:
            print(f"\n{label}:")
            for name in names:
                print(f"  {name}")
    if regressed:
        print(f"\n{len(regressed)} regression(s) beyond {args.threshold:g}%: "
              f"{', '.join(regressed)}")
        if args.fail_on_regression:
            return 1
    else:
        print(f"\nno regression beyond {args.threshold:g}%")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
