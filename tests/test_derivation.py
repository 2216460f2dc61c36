"""Numbers substituted into derivation formulas."""

from __future__ import annotations

import pytest

from napkin.derivation import Step, num


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (123_456, "123,456"),
        (1.5e7, "1.5e7"),
        (6.3e24, "6.3e24"),
        (0.4, "0.4"),
        (0.0005, "0.0005"),
        (2.5e-9, "2.5e-9"),
        (float("inf"), "inf"),
    ],
)
def test_num_formats(value: float, text: str) -> None:
    assert num(value) == text


def test_step_str_joins_parts() -> None:
    step = Step("total compute", "6 · N · D", "6 · 7e10 · 1.5e13", "6.30e24 FLOP")
    assert str(step) == "total compute: 6 · N · D = 6 · 7e10 · 1.5e13 = 6.30e24 FLOP"
