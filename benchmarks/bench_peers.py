"""Time napkin against llm-analysis and `python -c pass` on one training question, side by side.

The question: pretraining Llama-2-7B on 2T tokens with 1,024 A100 SXM 80GB GPUs, pure data
parallelism with ZeRO-3, 4,096-token sequences, 1,024 sequences per step, micro-batch 1, no
activation recomputation, at 40% MFU. Both tools report memory per GPU, step time and
wall-clock, and llm-analysis ships configs for this model (NousResearch_Llama-2-7b-hf) and GPU
(a100-sxm-80gb), so it needs no download.

llm-analysis goes into its own virtual environment (benchmarks/.venv-llm-analysis, created with
pip on the first run), because it pins transformers 4.31, which conflicts with napkin's verify
extra. The three commands run alternately in one loop, so machine load affects them alike. The
script records each command's median wall-clock and peak RSS (from GNU time, in separate runs), the
ratios of the medians, and both tools' answers. When llm-analysis cannot be installed or run,
it says so and records it as not reached.

Usage: python benchmarks/bench_peers.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import benchlib

LLM_ANALYSIS_VERSION = "0.2.2"
VENV = Path(__file__).resolve().parent / ".venv-llm-analysis"

NAPKIN_ARGS = ["train", "llama-2-7b", "--tokens", "2T", "--gpu", "a100-80gb", "--gpus", "1024", "--mfu", "40%",
               "--tp", "1", "--pp", "1", "--dp", "1024", "--zero", "3", "--micro-batch", "1", "--global-batch", "4M",
               "--seq", "4096", "--recompute", "none", "--json"]
LLM_ANALYSIS_ARGS = ["-m", "llm_analysis.analysis", "train", "--model_name=NousResearch_Llama-2-7b-hf",
                     "--gpu_name=a100-sxm-80gb", "--total_num_tokens=2000000000000", "--total_num_gpus=1024",
                     "--flops_efficiency=0.4", "--tp_size=1", "--pp_size=1", "--ds_zero=3", "--batch_size_per_gpu=1",
                     "--global_batch_size=1024", "--seq_len=4096", "--activation_recomputation=0"]
QUESTION = ("Llama-2-7B, 2T tokens, 1,024 × A100 SXM 80GB, data parallel with ZeRO-3, seq 4,096, "
            "1,024 sequences per step, micro-batch 1, no recomputation, 40% MFU")
SEQUENCES = 2e12 / 4096  # training sequences; llm-analysis reports FLOPs per micro-batch of one sequence


def llm_analysis_python() -> tuple[Path | None, str]:
    """Return the llm-analysis environment's python, creating the environment when missing, or None and the reason."""
    python = VENV / "bin" / "python"
    check = [str(python), "-c", "import importlib.metadata as m; print(m.version('llm-analysis'))"]
    if python.exists() and subprocess.run(check, capture_output=True, text=True).stdout.strip() == LLM_ANALYSIS_VERSION:
        return python, ""
    print(f"creating {VENV} with llm-analysis=={LLM_ANALYSIS_VERSION} ...", file=sys.stderr)
    steps = [[sys.executable, "-m", "venv", "--clear", str(VENV)],
             [str(python), "-m", "pip", "install", "-q", f"llm-analysis=={LLM_ANALYSIS_VERSION}"]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            return None, f"{' '.join(step[:4])} failed: {lines[-1] if lines else f'exit status {done.returncode}'}"
    return python, ""


def _answer(command: list[str], env: dict[str, str]) -> dict:
    """Run `command` once and return the JSON object it prints (llm-analysis prints log lines before it)."""
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(output[output.index("{"):])


def compare_answers(napkin: dict, peer: dict | None) -> list[dict[str, object]]:
    """Return rows of the same figures from both tools: label, unit, napkin value, llm-analysis value."""
    parts = napkin["memory_parts_bytes"]

    def row(label: str, unit: str, ours: float, theirs_key: str | None, scale: float = 1.0) -> dict[str, object]:
        theirs = None if peer is None or theirs_key is None else peer[theirs_key] * scale
        return {"figure": label, "unit": unit, "napkin": ours, "llm_analysis": theirs}

    return [
        row("parameters", "count", napkin["params"], "num_params_total"),
        row("training compute", "FLOP", napkin["total_flop"], "num_flops_total_per_micro_batch", SEQUENCES),
        row("weights + gradients + optimizer per GPU", "bytes", parts["weights"] + parts["gradients"] + parts["optimizer"],
            "(weight+op_state+grad)_memory_per_gpu"),
        row("activations per GPU", "bytes", parts["activations"], "activation_memory_per_gpu"),
        row("memory per GPU", "bytes", napkin["memory_per_gpu_bytes"], "(weight+op_state+grad+act)_memory_per_gpu"),
        row("step time", "s", napkin["step_time_s"], "latency_per_iter"),
        row("wall-clock", "days", napkin["wall_clock_days"], "total_training_latency", 1 / 86400),
        row("GPU-hours", "GPU-h", napkin["gpu_hours"], "gpu_hours"),
    ]




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="Runs of each command (default 20).")
    args = parser.parse_args()

    napkin_exe, env = benchlib.napkin_process()
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")  # llm-analysis must use its shipped configs
    commands = {"python -c pass": [sys.executable, "-c", "pass"], "napkin": [napkin_exe, *NAPKIN_ARGS]}

    peer_python, reason = llm_analysis_python()
    peer_answer = None
    if peer_python is not None:
        commands["llm-analysis"] = [str(peer_python), *LLM_ANALYSIS_ARGS]
        try:
            peer_answer = _answer(commands["llm-analysis"], env)
        except (subprocess.CalledProcessError, ValueError) as error:
            reason = f"llm-analysis failed on the question: {error}"
            del commands["llm-analysis"]
    if reason:
        print(f"llm-analysis: not reached ({reason})")
    napkin_answer = _answer(commands["napkin"], env)

    times: dict[str, list[float]] = {name: [] for name in commands}
    for run in range(args.runs + 1):  # the first round is a warm-up and is not recorded
        for name, command in commands.items():
            seconds = benchlib.time_process(command, env)
            if run:
                times[name].append(seconds)

    results = {name: {"median_ms": round(statistics.median(times[name]) * 1e3, 2),
                      "peak_rss_bytes": benchlib.peak_rss_bytes(command, env)} for name, command in commands.items()}
    baseline = results["python -c pass"]["median_ms"]
    for name, figures in results.items():
        figures["over_python"] = round(figures["median_ms"] / baseline, 2)
    if "llm-analysis" in results:
        results["napkin"]["over_llm_analysis"] = round(results["napkin"]["median_ms"] / results["llm-analysis"]["median_ms"], 3)

    print(f"question: {QUESTION}; {args.runs} runs of each, alternating")
    for name, figures in results.items():
        print(f"{name:<16} median {figures['median_ms']:7.1f} ms  {figures['over_python']:5.2f}x python -c pass  "
              f"peak RSS {benchlib.mib(figures['peak_rss_bytes'])}")
    if "over_llm_analysis" in results["napkin"]:
        print(f"napkin / llm-analysis: {results['napkin']['over_llm_analysis']:.3f}")
    answers = compare_answers(napkin_answer, peer_answer)
    for item in answers:
        theirs = "not reached" if item["llm_analysis"] is None else f"{item['llm_analysis']:.4g}"
        print(f"  {item['figure']:<42} napkin {item['napkin']:.4g}  llm-analysis {theirs}  ({item['unit']})")

    benchlib.write_result("peers", {
        "question": QUESTION,
        "runs": args.runs,
        "napkin_command": "napkin " + " ".join(NAPKIN_ARGS),
        "llm_analysis_command": "python " + " ".join(LLM_ANALYSIS_ARGS),
        "llm_analysis_version": LLM_ANALYSIS_VERSION if "llm-analysis" in results else None,
        "llm_analysis_not_reached": reason or None,
        "processes": results,
        "answers": answers,
    }, f"python benchmarks/bench_peers.py --runs {args.runs}")


if __name__ == "__main__":
    main()
