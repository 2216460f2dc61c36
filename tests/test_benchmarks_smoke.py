"""Smoke test of benchmarks/bench_load.py: a few seconds of load, so a broken script fails CI.

The benchmark's figures are not checked here; they are measured by running the script itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_load.py"


def test_bench_load_short_run(tmp_path) -> None:
    output = tmp_path / "load.json"
    # Windows of one second show nothing about memory growth, so any RSS change is accepted here.
    done = subprocess.run([sys.executable, str(SCRIPT), "--duration", "3", "--connections", "4", "--rss-tolerance", "100",
                           "--output", str(output)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(output.read_text())
    assert result["errors"] == 0
    assert result["requests"] > 0
    assert result["per_endpoint"]["/api/model"]["requests"] > 0
    assert result["per_endpoint"]["/api/plan"]["requests"] > 0
    assert result["estimates"]["p50_ms"] <= result["estimates"]["p99_ms"]
    assert result["server_rss"]["samples"]
    assert result["server_peak_rss_bytes"] > 0
    assert result["generator_peak_rss_bytes"] > 0
    assert result["passed"] is True


def test_bench_load_rejects_other_hosts() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--host", "0.0.0.0"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "invalid --host 0.0.0.0" in done.stderr
