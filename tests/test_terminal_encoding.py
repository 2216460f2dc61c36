"""Output on a stream whose encoding lacks napkin's symbols: ASCII stand-ins, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from napkin.terminal import ERROR_HANDLER


def _napkin(*args: str, encoding: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    return subprocess.run([sys.executable, "-m", "napkin", *args], env=env, capture_output=True, timeout=60)


def test_stand_in_handler_writes_ascii() -> None:
    assert "⌈2 × 3 · 4 − 1⌉ ✓".encode("ascii", errors=ERROR_HANDLER) == b"ceil(2 x 3 * 4 - 1) ?"


@pytest.mark.parametrize("args", [["model", "mixtral-8x7b"], ["latency", "llama-3-8b", "--gpu", "h100"]])
def test_ascii_stdout_prints_table(args: list[str]) -> None:
    # PYTHONIOENCODING=ascii once raised UnicodeEncodeError at the first "×".
    result = _napkin(*args, encoding="ascii")
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert b"Traceback" not in result.stderr
    result.stdout.decode("ascii")


def test_ascii_stdout_json_stays_exact() -> None:
    result = _napkin("model", "mixtral-8x7b", "--json", encoding="ascii")
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    payload = json.loads(result.stdout.decode("ascii"))
    assert payload["derivation"][0]["formula"] == "2 · V · h (untied output head)"


def test_ascii_stderr_error_is_one_line() -> None:
    result = _napkin("model", "llama-3-70b", "--kv-dtype", "bf16×", encoding="ascii")
    assert result.returncode == 2
    lines = result.stderr.decode("ascii").splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("napkin model: error:")
