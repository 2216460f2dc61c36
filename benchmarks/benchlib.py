"""Helpers shared by the benchmark scripts: request bodies, the loopback server, whole-process
timing with peak memory, and the JSON result files that `report.py` renders.

The scripts import this module as `benchlib`, which works because Python puts the directory of
the script it runs (benchmarks/) first on sys.path.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PLAN = "/api/plan"
LOOPBACK = "127.0.0.1"


def bodies(i: int) -> dict[str, dict]:
    """Return one request body per API endpoint; `i` varies an input so every request computes anew."""
    mfu = f"{20 + i % 40}%"
    context = 1024 + 16 * (i % 400)
    tokens = f"{10 + i % 10}T"
    return {
        "/api/train": {"model": "llama-3-70b", "tokens": "15T", "gpu": "h100", "gpus": 1024, "mfu": mfu, "price": 2},
        "/api/memory": {"model": "llama-3-70b", "gpu": "h100", "mode": "train", "zero_stage": 3, "dp": 64, "tp": 8,
                        "sequence_parallel": True, "seq": context, "recompute": "selective"},
        "/api/kv": {"model": "llama-3-70b", "gpu": "h100", "context": context, "gpus": 2},
        "/api/roofline": {"model": "llama-3-70b", "gpu": "h100", "batches": [1, 8, 64, 512], "context": context},
        "/api/serve-cost": {"tokens_per_s_per_gpu": 1000 + i, "price": 2},
        "/api/model": {"model": "llama-3-70b", "seq": context},
        "/api/compare": {"a": {"model": "llama-3-70b", "gpu": "h100"}, "b": {"model": "llama-3-70b", "gpu": "h200"},
                         "tokens": "15T", "gpus": 1024, "mfu": mfu, "context": context},
        "/api/serve-size": {"model": "llama-3-70b", "gpu": "h100", "gpus": 2, "context": context},
        "/api/latency": {"model": "llama-3-70b", "gpu": "h100", "gpus": 2, "batches": [1, 8, 32, 128], "prompt": context},
        "/api/layout": {"model": "llama-3-70b", "gpu": "h100", "tokens": tokens, "tp": 8, "pp": 4, "dp": 32, "seq": "8k"},
        PLAN: {"model": "llama-3-70b", "gpu": "h100", "tokens": tokens, "max_gpus": 4096},
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def wait_until_up(base: str, server: subprocess.Popen, timeout_s: float = 20.0) -> None:
    """Poll `base`/api/meta until it returns 200; exit when the server dies or `timeout_s` passes."""
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with status {server.returncode}")
        try:
            if httpx.get(f"{base}/api/meta", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"the server did not respond within {timeout_s:.0f} s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def percentile(samples: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of `samples` (fraction 0.5 is the median, 0.99 is p99)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_measured(command: list[str], env: dict[str, str] | None = None, stdout: int | None = subprocess.DEVNULL) -> tuple[float, int]:
    """Run `command` to completion; return its wall-clock seconds and its peak RSS in bytes.

    The peak RSS is the child's own ru_maxrss, read with os.wait4 on its pid, so it is not mixed
    with earlier children as RUSAGE_CHILDREN would be. Raise CalledProcessError on a non-zero exit.
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=stdout, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command)
    return elapsed, usage.ru_maxrss * 1024  # Linux reports ru_maxrss in KiB


def self_peak_rss_bytes() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _first_line(path: str, prefix: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip() if ":" in line else line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, object]:
    """Describe the machine and software a result was measured on."""
    mem_kib = _first_line("/proc/meminfo", "MemTotal").split()[0]
    return {
        "cpu": _first_line("/proc/cpuinfo", "model name"),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "memory_gib": round(int(mem_kib) / 2**20, 1) if mem_kib.isdigit() else None,
        "os": _first_line("/etc/os-release", "PRETTY_NAME="),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in ("napkin-ml", "numpy", "click", "rich", "fastapi", "uvicorn", "pydantic")},
    }


def write_result(name: str, figures: dict[str, object], command: str, path: Path | None = None) -> Path:
    """Write `figures` with the machine, the date and the command to `path` (default results/<name>.json)."""
    path = path or RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": name,
        "command": command,
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        **figures,
    }
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
    return path
