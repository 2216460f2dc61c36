"""Measure how many layouts per second the `napkin plan` search evaluates on one core.

Times `plan.evaluate_grid` (divisibility filter, memory per GPU, step time, cost) over the full
candidate grid of a model on one GPU type, repeated, and prints the median rate. The first pass
fills the activation cache and is not timed. The target is at least 1,000,000 layouts per
second. Set OMP_NUM_THREADS=1 (the script does) so NumPy stays on one core. The rate and the
peak RSS of this process, which runs the sweep, go to benchmarks/results/plan.json.

Usage: python benchmarks/bench_plan.py [--model llama-3-70b] [--gpu h100] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import statistics  # noqa: E402
import time  # noqa: E402

import benchlib  # noqa: E402
import numpy as np  # noqa: E402

from napkin.hardware import get_gpu  # noqa: E402
from napkin.parallel import model_shape  # noqa: E402
from napkin.plan import candidate_grid, evaluate_grid  # noqa: E402
from napkin.presets import load_model  # noqa: E402

TARGET_LAYOUTS_PER_S = 1_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="llama-3-70b")
    parser.add_argument("--gpu", default="h100")
    parser.add_argument("--max-gpus", type=int, default=4096)
    parser.add_argument("--seq", type=int, default=8192)
    parser.add_argument("--global-batch", type=int, default=512, help="Sequences per step.")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    shape = model_shape(load_model(args.model))
    gpu = get_gpu(args.gpu)
    grid = candidate_grid(shape, gpu, args.max_gpus, args.global_batch)
    size = len(grid["tp"])

    def run() -> dict[str, np.ndarray]:
        return evaluate_grid(shape, gpu, grid, args.seq, args.global_batch, 15e12, gpu.usd_per_hour or 2.0, args.max_gpus)

    warm = run()
    rates = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        run()
        rates.append(size / (time.perf_counter() - start))
    rate = statistics.median(rates)
    divisible = len(warm["grid"]["tp"])
    print(f"{args.model} on {args.gpu}: {size:,} layouts per pass, {divisible:,} divide evenly")
    print(f"median {rate:,.0f} layouts/s over {args.repeats} passes (target: at least {TARGET_LAYOUTS_PER_S:,})")
    print(f"  of which {rate * divisible / size:,.0f}/s pass divisibility and get memory, step time and cost")
    peak = benchlib.self_peak_rss_bytes()
    print(f"peak RSS of this process: {peak / 2**20:.1f} MiB")
    benchlib.write_result("plan", {
        "model": args.model,
        "gpu": args.gpu,
        "max_gpus": args.max_gpus,
        "layouts_per_pass": size,
        "divisible_layouts_per_pass": divisible,
        "repeats": args.repeats,
        "layouts_per_s": round(rate),
        "divisible_layouts_per_s": round(rate * divisible / size),
        "target_layouts_per_s": TARGET_LAYOUTS_PER_S,
        "peak_rss_bytes": peak,
    }, f"python benchmarks/bench_plan.py --model {args.model} --gpu {args.gpu} --repeats {args.repeats}")


if __name__ == "__main__":
    main()
