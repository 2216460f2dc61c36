"""Time one `napkin train ... --json` process against `python -c pass`, side by side.

Both commands run alternately in one process of this script, so machine load affects them
alike; the script prints each median, their ratio and each process's peak RSS, and writes them
to benchmarks/results/cli.json. Byte-code is compiled first, as a
regular `pip install` does, so that the first run does not pay for compilation.

Usage: python benchmarks/bench_cli.py [--runs 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys

import benchlib

NAPKIN_ARGS = ["train", "llama-3-70b", "--tokens", "15T", "--gpu", "h100", "--gpus", "1024",
               "--mfu", "40%", "--price", "2", "--json"]
TARGET_RATIO = 6.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="Runs of each command (default 30).")
    args = parser.parse_args()

    napkin_exe, env = benchlib.napkin_process()
    baseline_cmd = [sys.executable, "-c", "pass"]
    napkin_cmd = [napkin_exe, *NAPKIN_ARGS]

    # One warm-up run of each, then alternate.
    benchlib.time_process(baseline_cmd, env)
    benchlib.time_process(napkin_cmd, env)
    baseline, estimate = [], []
    for _ in range(args.runs):
        baseline.append(benchlib.time_process(baseline_cmd, env))
        estimate.append(benchlib.time_process(napkin_cmd, env))
    baseline_peak = benchlib.peak_rss_bytes(baseline_cmd, env)
    napkin_peak = benchlib.peak_rss_bytes(napkin_cmd, env)

    base_ms = statistics.median(baseline) * 1e3
    napkin_ms = statistics.median(estimate) * 1e3
    print(f"python -c pass              median {base_ms:6.1f} ms over {args.runs} runs, peak RSS {benchlib.mib(baseline_peak)}")
    print(f"napkin train ... --json     median {napkin_ms:6.1f} ms over {args.runs} runs, peak RSS {benchlib.mib(napkin_peak)}")
    print(f"ratio                       {napkin_ms / base_ms:6.2f}x (target: at most {TARGET_RATIO:g}x)")
    benchlib.write_result("cli", {
        "runs": args.runs,
        "napkin_command": "napkin " + " ".join(NAPKIN_ARGS),
        "python_median_ms": round(base_ms, 2),
        "napkin_median_ms": round(napkin_ms, 2),
        "ratio": round(napkin_ms / base_ms, 2),
        "target_ratio": TARGET_RATIO,
        "python_peak_rss_bytes": baseline_peak,
        "napkin_peak_rss_bytes": napkin_peak,
    }, f"python benchmarks/bench_cli.py --runs {args.runs}")

if __name__ == "__main__":
    main()
