#!/usr/bin/env python3
"""Charts how the cost of a decision grows with the agent pool, and how the
queue operations grow with the number of waiting contacts, from one
routing_benchmarks JSON file (Google Benchmark, with repetitions and
aggregates: the medians are plotted). Renders PNG with gnuplot.

  bazel run --config=bench //bench:routing_benchmarks -- \
      --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
      --benchmark_out=/tmp/suite.json --benchmark_out_format=json
  bench/plot_scaling.py /tmp/suite.json docs/scaling.png

Exits 2 with a message if the file is unreadable or holds none of the
benchmarks charted, 1 if gnuplot is missing or fails.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

UNIT_TO_US = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}


def fail(message, code):
    print(f"plot_scaling: {message}", file=sys.stderr)
    sys.exit(code)


def medians(path):
    """{benchmark name without the aggregate suffix: median real time in us}"""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"cannot read {path}: {e}", 2)
    out = {}
    for b in data.get("benchmarks", []):
        if b.get("aggregate_name", "median") != "median":
            continue
        name = b.get("run_name", b["name"])
        out[name] = b["real_time"] * UNIT_TO_US[b.get("time_unit", "ns")]
    return out


def series(times, pattern):
    """[(x, us)] for names matching pattern, whose group 1 is x."""
    points = []
    for name, us in times.items():
        m = re.fullmatch(pattern, name)
        if m:
            points.append((int(m.group(1)), us))
    return sorted(points)


def main():
    if len(sys.argv) != 3:
        fail("usage: plot_scaling.py SUITE.json OUT.png", 2)
    times = medians(sys.argv[1])
    pools = {
        "built-in policy": series(times, r"BM_RulesDecision/agents:(\d+)/policy:0"),
        "same policy as LuaJIT rules": series(
            times, r"BM_RulesDecision/agents:(\d+)/policy:1"),
    }
    queues = {
        "queue a contact (insert + cancel)": series(
            times, r"BM_QueueInsert/waiting:(\d+)"),
        "agent frees up: pick the best waiting contact": series(
            times, r"BM_PickBestContact/waiting:(\d+)/manual_time"),
    }
    if not any(pools.values()) and not any(queues.values()):
        fail("no BM_RulesDecision, BM_QueueInsert or BM_PickBestContact "
             "medians in the file", 2)
    if shutil.which("gnuplot") is None:
        fail("gnuplot is not installed (tools/setup.sh installs it)", 1)
    with tempfile.TemporaryDirectory() as tmp:
        plots = []
        for panel in (pools, queues):
            curves = []
            for label, points in panel.items():
                if not points:
                    continue
                data = os.path.join(tmp, f"{len(plots)}-{len(curves)}.dat")
                with open(data, "w") as f:
                    f.writelines(f"{x} {us}\n" for x, us in points)
                curves.append(f"'{data}' using 1:2 with linespoints "
                              f"title \"{label}\"")
            plots.append(", ".join(curves))
        script = f"""
set terminal pngcairo size 1000,800 font 'sans,10'
set output '{os.path.abspath(sys.argv[2])}'
set multiplot layout 2,1 title 'Median cost (real time), {os.path.basename(sys.argv[1])}'
set grid
set logscale xy
set key top left
set ylabel 'microseconds'
set xlabel 'agents in the pool (10% available, 50 skills)'
set title 'One decision (route + release)'
plot {plots[0] or "1/0 notitle"}
set xlabel 'contacts waiting in the queue'
set title 'Queue operations'
plot {plots[1] or "1/0 notitle"}
unset multiplot
"""
        result = subprocess.run(["gnuplot"], input=script, text=True,
                                capture_output=True)
        if result.returncode != 0:
            fail(f"gnuplot failed: {result.stderr}", 1)


if __name__ == "__main__":
    main()
