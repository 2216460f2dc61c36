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
import tempfile
import time
from importlib import metadata
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PLAN = "/api/plan"
LOOPBACK = "127.0.0.1"
GNU_TIME = "/usr/bin/time"


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


def napkin_process() -> tuple[str, dict[str, str]]:
    """Return the `napkin` executable and an environment for timing it as a user runs it: the
    package's bytecode compiled beforehand, and written bytecode not switched off."""
    import compileall
    import shutil

    import napkin

    compileall.compile_dir(str(Path(napkin.__file__).parent), quiet=1)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return shutil.which("napkin") or str(Path(sys.executable).with_name("napkin")), env


def time_process(command: list[str], env: dict[str, str] | None = None) -> float:
    """Run `command` to completion and return its wall-clock seconds; raise CalledProcessError on failure."""
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def peak_rss_bytes(command: list[str], env: dict[str, str] | None = None, runs: int = 3) -> int | None:
    """Return the largest peak RSS of `runs` runs of `command`, or None without GNU time.

    The command runs under /usr/bin/time, which reports the child's ru_maxrss. Linux carries the
    high-water mark of the address space that fork or vfork shares across exec. So a child
    started by this Python process would report at least this process's RSS, while GNU time, a
    small C program, passes on a floor far below any Python process's RSS.
    """
    if not os.access(GNU_TIME, os.X_OK):
        return None
    peaks = []
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as report:
        for _ in range(runs):
            subprocess.run([GNU_TIME, "-f", "%M", "-o", report.name, *command], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            report.seek(0)
            peaks.append(int(report.read().split()[-1]) * 1024)  # %M is in KiB
    return max(peaks)


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
        "load_average_1min": round(os.getloadavg()[0], 2),
        **figures,
    }
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
    return path


def mib(size_bytes: int | None) -> str:
    return "n/a" if size_bytes is None else f"{size_bytes / 2**20:.1f} MiB"
