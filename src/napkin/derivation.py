"""Derivation steps: how each result was obtained, formula first, then the numbers substituted."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Step", "num"]


@dataclass(frozen=True)
class Step:
    """One line of a derivation: ``label: formula = substituted = result``."""

    label: str
    formula: str
    substituted: str
    result: str

    def __str__(self) -> str:
        parts = [p for p in (self.formula, self.substituted, self.result) if p]
        return f"{self.label}: {' = '.join(parts)}"

    def to_dict(self) -> dict[str, str]:
        return {"label": self.label, "formula": self.formula, "substituted": self.substituted, "result": self.result}


def num(value: float) -> str:
    """Format a number for a substituted formula: integers below 10^6 in full, others as 3-digit scientific."""
    if isinstance(value, bool):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e6:
        return f"{int(value):,}"
    if 1e-3 <= abs(value) < 1e6:
        text = f"{value:,.{max(0, 3 - math.floor(math.log10(abs(value))))}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    text = f"{value:.3g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return f"{mantissa}e{int(exponent)}"
