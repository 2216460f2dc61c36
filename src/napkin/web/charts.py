"""Chart specs in data coordinates, with tick labels formatted as the command line formats figures.

The page draws these specs as SVG and computes nothing but pixel positions, so every number and
label on a chart comes from here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Formatter = Callable[[float], str]


def linear_ticks(low: float, high: float, fmt: Formatter, count: int = 5, integer: bool = False) -> list[dict[str, object]]:
    """Return about `count` ticks at 1, 2 or 5 × 10^k steps covering [low, high]; whole numbers only when `integer`."""
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if integer:
        step = max(1.0, round(step))
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append({"value": value, "label": fmt(value)})
        value = first + len(ticks) * step
    return ticks


def log_ticks(low: float, high: float, fmt: Formatter, base: int = 10) -> list[dict[str, object]]:
    """Return ticks at the powers of `base` within [low, high], thinned to at most 8."""
    first = math.ceil(math.log(low, base) - 1e-9)
    last = math.floor(math.log(high, base) + 1e-9)
    exponents = list(range(first, last + 1))
    stride = max(1, math.ceil(len(exponents) / 8))
    return [{"value": float(base**e), "label": fmt(float(base**e))} for e in exponents[::stride]]


def axis(
    label: str, low: float, high: float, fmt: Formatter, scale: str = "linear", base: int = 10, integer: bool = False
) -> dict[str, object]:
    ticks = log_ticks(low, high, fmt, base) if scale == "log" else linear_ticks(low, high, fmt, integer=integer)
    if scale == "linear" and ticks:
        low, high = min(low, ticks[0]["value"]), max(high, ticks[-1]["value"])  # type: ignore[type-var]
    return {"label": label, "scale": scale, "min": low, "max": high, "ticks": ticks}


def padded_log_range(values: list[float], floor: float | None = None) -> tuple[float, float]:
    """Return a range that spans `values` with a margin of a factor of 3 on both ends, in whole decades."""
    positive = [v for v in values if v > 0]
    low = 10 ** math.floor(math.log10(min(positive) / 3))
    high = 10 ** math.ceil(math.log10(max(positive) * 3))
    if floor is not None:
        low = max(low, floor)
    return low, high


def memory_bar(title: str, parts: list[tuple[str, float]], total_bytes: float, gpu: Any) -> dict[str, object]:
    """Return a chart of one stacked bar of memory parts (name, bytes) per GPU, with the GPU's HBM as a rule."""
    from ..units import format_bytes

    segments = [{"name": name, "value": value, "label": f"{name} {format_bytes(value)}"} for name, value in parts]
    hbm = gpu.hbm_bytes
    top = max(total_bytes, hbm) * 1.08
    return {
        "title": title,
        "x": axis("bytes per GPU", 0.0, top, format_bytes),
        "bars": [{"label": "per GPU", "segments": segments, "total_label": f"total {format_bytes(total_bytes)}"}],
        "rules": [{"axis": "x", "value": hbm, "label": f"{gpu.name} HBM {format_bytes(hbm)}"}],
    }
