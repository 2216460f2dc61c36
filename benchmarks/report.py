"""Render docs/BENCHMARKS.md from the result files in benchmarks/results/.

Each benchmark script writes its own result file; this script only formats them, so a section
of the page changes when its script is rerun. A missing result file becomes a "not measured"
line with the command that produces it.

Usage: python benchmarks/report.py
"""

from __future__ import annotations

import json
from pathlib import Path

from benchlib import PLAN, RESULTS_DIR

DOC = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"

COMMANDS = {
    "cli": "python benchmarks/bench_cli.py",
    "peers": "python benchmarks/bench_peers.py",
    "plan": "python benchmarks/bench_plan.py",
    "load": "python benchmarks/bench_load.py",
}

# Reasons the two tools' answers to the peer question differ, by figure. Checked against
# llm-analysis 0.2.2's analysis.py and its model_configs/NousResearch_Llama-2-7b-hf.json.
DIFFERENCES = {
    "parameters": "llm-analysis's shipped config has a two-matrix MLP 16,384 wide and shares the input "
                  "embedding with the output layer; napkin reads the Hugging Face config (SwiGLU MLP 11,008 "
                  "wide, separate 131M-parameter output layer).",
    "training compute": "napkin counts 6 FLOP per non-embedding parameter and token plus PaLM's attention term "
                        "12·L·H·Q·T; llm-analysis counts each matrix multiply of its config.",
    "weights + gradients + optimizer per GPU": "llm-analysis keeps gradients in fp32 (18 bytes per parameter in all); "
                                               "napkin keeps them in bf16 (16 bytes).",
    "activations per GPU": "llm-analysis stores the layer-norm inputs in fp32 (4.3 GB of its figure) and adds the embedding output.",
    "memory per GPU": "napkin adds the weights ZeRO-3 gathers for one layer, communication buffers and a framework reserve "
                      "(4.9 GB together), which llm-analysis leaves out.",
    "step time": "Both run the step's FLOPs at 40% of the A100's 312 TFLOP/s, so the step times differ as the FLOPs do.",
    "wall-clock": "Follows the step time.",
    "GPU-hours": "Follows the step time.",
}


def _load(name: str) -> dict | None:
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _mib(size: int | None) -> str:
    return "n/a" if size is None else f"{size / 2**20:,.1f} MiB"


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "not reached"
    if unit == "bytes":
        return f"{value / 1e9:,.3f} GB"
    if unit in ("s", "days"):
        return f"{value:,.3f} {unit}"
    if unit == "GPU-h":
        return f"{value:,.0f} GPU-h"
    if unit == "count":
        return f"{value / 1e9:,.3f} B"
    return f"{value:.4g} {unit}"


def _not_measured(name: str) -> list[str]:
    return [f"Not measured yet: run `{COMMANDS[name]}`.", ""]


def machine_section(results: dict[str, dict | None]) -> list[str]:
    measured = [result for result in results.values() if result]
    if not measured:
        return ["No results yet.", ""]
    machine = measured[0]["machine"]
    packages = ", ".join(f"{name} {version}" for name, version in machine["packages"].items())
    peers = results.get("peers") or {}
    lines = [
        "## Machine",
        "",
        f"- CPU: {machine['cpu']}, {machine['logical_cpus']} logical CPUs ({machine['usable_cpus']} usable by the benchmarks)",
        f"- Memory: {machine['memory_gib']} GiB",
        f"- OS: {machine['os']}, Linux {machine['kernel']}",
        f"- Python {machine['python']}; {packages}",
        f"- llm-analysis: {peers.get('llm_analysis_version') or 'not reached'}",
        f"- Measured: {', '.join(sorted({result['date_utc'] for result in measured}))}",
        f"- 1-minute load average when each result was written, including the benchmark itself, on "
        f"{machine['logical_cpus']} logical CPUs: " + ", ".join(f"{name} {result['load_average_1min']}" for name, result in results.items()
                                                  if result and "load_average_1min" in result),
        "",
    ]
    if any(result["machine"] != machine for result in measured):
        lines += ["NOTE: the result files come from different machines or package versions; rerun them all on one.", ""]
    return lines


def cli_section(result: dict | None) -> list[str]:
    lines = ["## CLI start-up", ""]
    if result is None:
        return lines + _not_measured("cli")
    lines += [
        f"`{result['napkin_command']}` as a whole process, against `python -c pass`, "
        f"alternating, {result['runs']} runs each (`{result['command']}`).",
        "",
        "| process | median, × `python -c pass` | median | peak RSS |",
        "|---|---:|---:|---:|",
        f"| `python -c pass` | 1.00 | {result['python_median_ms']:.1f} ms | {_mib(result['python_peak_rss_bytes'])} |",
        f"| napkin train | {result['ratio']:.2f} (target: at most {result['target_ratio']:g}) | "
        f"{result['napkin_median_ms']:.1f} ms | {_mib(result['napkin_peak_rss_bytes'])} |",
        "",
    ]
    return lines


def peers_section(result: dict | None) -> list[str]:
    lines = ["## napkin and llm-analysis on one question", ""]
    if result is None:
        return lines + _not_measured("peers")
    processes = result["processes"]
    lines += [
        f"Question: {result['question']}. Both tools answer it from the configs they ship, and the "
        f"commands run alternately, {result['runs']} runs each (`{result['command']}`).",
        "",
        f"- napkin: `{result['napkin_command']}`",
        f"- llm-analysis: `{result['llm_analysis_command']}`",
        "",
    ]
    if result["llm_analysis_not_reached"]:
        lines += [f"llm-analysis was not reached: {result['llm_analysis_not_reached']}", ""]
    lines += ["| process | median, × `python -c pass` | median | peak RSS |", "|---|---:|---:|---:|"]
    for name, figures in processes.items():
        lines.append(f"| {name} | {figures['over_python']:.2f} | {figures['median_ms']:.1f} ms | {_mib(figures['peak_rss_bytes'])} |")
    if "over_llm_analysis" in processes["napkin"]:
        lines += ["", f"napkin's median is {processes['napkin']['over_llm_analysis']:.2f} × llm-analysis's. This question "
                  "takes napkin's layout path, which imports NumPy (`napkin.parallel`); that import is most of the "
                  "difference from the start-up figure above (`python -X importtime`)."]
    lines += ["", "Their answers:", "", "| figure | napkin | llm-analysis | why they differ |", "|---|---:|---:|---|"]
    for row in result["answers"]:
        lines.append(f"| {row['figure']} | {_figure(row['napkin'], row['unit'])} | {_figure(row['llm_analysis'], row['unit'])} | "
                     f"{DIFFERENCES.get(row['figure'], '') if row['llm_analysis'] is not None else ''} |")
    return lines + [""]


def plan_section(result: dict | None) -> list[str]:
    lines = ["## Plan sweep", ""]
    if result is None:
        return lines + _not_measured("plan")
    share = result["divisible_layouts_per_s"] / result["layouts_per_s"]
    return lines + [
        f"`napkin plan`'s search evaluates {result['layouts_per_s'] / result['target_layouts_per_s']:.1f} × its target of "
        f"{result['target_layouts_per_s']:,} layouts per second on one core: {result['layouts_per_s']:,} layouts/s over "
        f"{result['layouts_per_pass']:,} candidates of {result['model']} on {result['gpu']} (up to {result['max_gpus']:,} GPUs), "
        f"median of {result['repeats']} passes (`{result['command']}`). {share:.0%} of them divide evenly and get the memory, "
        f"step-time and cost arithmetic. Peak RSS of the sweep process: {_mib(result['peak_rss_bytes'])}.",
        "",
    ]


def load_section(result: dict | None) -> list[str]:
    lines = ["## Web API under load", ""]
    if result is None:
        return lines + _not_measured("load")
    rss = result["server_rss"]
    estimates = result["estimates"]
    plan = result["per_endpoint"][PLAN]
    lines += [
        f"`napkin web` on 127.0.0.1, {result['connections']} keep-alive connections for {result['duration_s']:g} s "
        f"(`{result['command']}`). {result['connections'] - result['plan_connections']} connections rotate through the ten "
        f"estimate endpoints in equal shares; {result['plan_connections']} sends only `{PLAN}` requests, which search "
        "hundreds of thousands of layouts each, so their latency is reported apart. The load generator is asyncio in "
        "the benchmark process and runs on the same cores as the server.",
        "",
        f"- Result: **{'PASS' if result['passed'] else 'FAIL'}**: {result['errors']} errors in {result['requests']:,} requests "
        f"(non-2xx or connection error), {result['throughput_rps']:,.0f} requests/s.",
        f"- Estimates: p50 {estimates['p50_ms']:.1f} ms, p99 {estimates['p99_ms']:.1f} ms, p99 = "
        f"{estimates['p99_ms'] / estimates['p50_ms']:.2f} × p50. With every connection sending its next request as soon "
        "as the last returns, the latency is mostly queueing: about connections ÷ throughput.",
    ]
    if plan["requests"]:
        lines.append(f"- `{PLAN}`: {plan['requests']} requests, p50 {plan['p50_ms']:.0f} ms, p99 {plan['p99_ms']:.0f} ms.")
    if "last_over_first" in rss:
        lines.append(f"- Server RSS: mean of the last {rss['window_s']:g} s ÷ mean of the first {rss['window_s']:g} s = "
                     f"{rss['last_over_first']:.3f} ({'flat' if rss['flat'] else 'not flat'}: the limit is ±{rss['tolerance']:.0%}); "
                     f"{_mib(rss['first_mean_bytes'])} → {_mib(rss['last_mean_bytes'])}.")
    lines += [
        f"- Peak RSS: server {_mib(result['server_peak_rss_bytes'])}, load generator {_mib(result['generator_peak_rss_bytes'])}.",
        f"- CPU: the load generator used {result['generator_cpu_share']:.0%} of the CPU time of server and generator together.",
        "",
        "| endpoint | requests | errors | p50 | p99 |",
        "|---|---:|---:|---:|---:|",
    ]
    for path, row in result["per_endpoint"].items():
        if row["requests"]:
            lines.append(f"| `{path}` | {row['requests']:,} | {row['errors']} | {row['p50_ms']:.1f} ms | {row['p99_ms']:.1f} ms |")
    return lines + [""]


def memory_section(results: dict[str, dict | None]) -> list[str]:
    rows = []
    if results["cli"]:
        rows += [("`python -c pass`", results["cli"]["python_peak_rss_bytes"]),
                 ("napkin train (CLI start-up question)", results["cli"]["napkin_peak_rss_bytes"])]
    if results["peers"]:
        for name, figures in results["peers"]["processes"].items():
            rows.append((f"{name} (llm-analysis question)", figures["peak_rss_bytes"]))
    if results["plan"]:
        rows.append(("plan sweep process", results["plan"]["peak_rss_bytes"]))
    if results["load"]:
        rows += [("server under load", results["load"]["server_peak_rss_bytes"]),
                 ("load generator", results["load"]["generator_peak_rss_bytes"])]
    lines = ["## Peak memory", "", "Peak resident set size of each whole process (GNU time's %M for the CLI processes, "
             "VmHWM for the server, ru_maxrss of the process itself for the sweep and the load generator).", "",
             "| process | peak RSS |", "|---|---:|"]
    return lines + [f"| {label} | {_mib(size)} |" for label, size in rows] + [""]


def render() -> str:
    results = {name: _load(name) for name in COMMANDS}
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python benchmarks/report.py` from the result files in `benchmarks/results/`. Each section names "
        "the one command that measures it; rerun that command, then the report. Times are quoted as ratios to a "
        "baseline measured in the same run where one exists, because absolute times depend on the machine and its load.",
        "",
        *machine_section(results),
        *cli_section(results["cli"]),
        *peers_section(results["peers"]),
        *plan_section(results["plan"]),
        *load_section(results["load"]),
        *memory_section(results),
    ]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
