"""Serving dollars: $/1M tokens from throughput per GPU and $/GPU-hour."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .derivation import Step, num
from .errors import OptionError
from .units import format_usd

__all__ = ["ServingCost", "serving_cost"]


@dataclass(frozen=True)
class ServingCost:
    """Dollars per million tokens at a sustained throughput."""

    tokens_per_s_per_gpu: float
    usd_per_gpu_hour: float
    usd_per_million_tokens: float
    steps: tuple[Step, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "tokens_per_s_per_gpu": self.tokens_per_s_per_gpu,
            "usd_per_gpu_hour": self.usd_per_gpu_hour,
            "usd_per_million_tokens": self.usd_per_million_tokens,
            "derivation": [step.to_dict() for step in self.steps],
        }


def serving_cost(tokens_per_s_per_gpu: float, usd_per_gpu_hour: float) -> ServingCost:
    """Return $/1M tokens = $/GPU-hour ÷ (tokens/s/GPU · 3600) · 10^6 (assumes the GPU is busy all hour)."""
    if not (tokens_per_s_per_gpu > 0 and math.isfinite(tokens_per_s_per_gpu)):
        raise OptionError(f"invalid throughput {tokens_per_s_per_gpu!r} tokens/s: must be a positive finite number")
    if not (usd_per_gpu_hour >= 0 and math.isfinite(usd_per_gpu_hour)):
        raise OptionError(f"invalid price {usd_per_gpu_hour!r}: must be zero or more USD per GPU-hour")
    tokens_per_hour = tokens_per_s_per_gpu * 3600
    cost = usd_per_gpu_hour / tokens_per_hour * 1e6
    steps = (
        Step("tokens per GPU-hour", "tokens/s/GPU · 3,600", f"{num(tokens_per_s_per_gpu)} · 3,600", num(tokens_per_hour)),
        Step("$/1M tokens", "$/GPU-hour ÷ tokens per GPU-hour · 10^6", f"{num(usd_per_gpu_hour)} ÷ {num(tokens_per_hour)} · 1e6", format_usd(cost)),
    )
    return ServingCost(tokens_per_s_per_gpu, usd_per_gpu_hour, cost, steps)
