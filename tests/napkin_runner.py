"""Run the napkin CLI in process and capture its exit status and output."""

from __future__ import annotations

import json
from typing import Any

import pytest

from napkin.cli import main


def run_napkin(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Return (exit status, stdout, stderr) of ``napkin ARGS``."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    captured = capsys.readouterr()
    code = exit_info.value.code
    return (0 if code is None else int(code)), captured.out, captured.err


def napkin_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    """Return the parsed JSON that ``napkin ARGS --json`` prints; fail on a non-zero exit."""
    code, out, err = run_napkin(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)
