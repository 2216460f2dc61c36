"""The training bill: 6·N·D FLOPs turned into wall-clock, GPU-hours and dollars."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .arch import ModelArch
from .derivation import Step, num
from .errors import OptionError
from .units import format_count, format_duration, format_flop, format_rate, format_usd

__all__ = ["TrainingBill", "palm_flop_per_token", "training_bill"]

SECONDS_PER_DAY = 86400.0

DEFAULT_PLAN_DAYS = 90.0
"""Longest wall-clock a layout search accepts when the user sets no limit, in days."""


@dataclass(frozen=True)
class TrainingBill:
    """Total compute, time and cost of a training run at a given MFU.

    Formula: time = 6·N·D ÷ (GPUs · peak · MFU); cost = GPUs · time · $/GPU-hour. It assumes
    the MFU holds for the whole run (no restarts, no evaluation, no idle GPUs).
    """

    params: float
    tokens: float
    gpus: int
    peak_flop_per_s: float
    mfu: float
    usd_per_gpu_hour: float
    flop_per_token: float
    total_flop: float
    usable_flop_per_s: float
    wall_clock_s: float
    gpu_hours: float
    cost_usd: float
    steps: tuple[Step, ...]

    @property
    def wall_clock_days(self) -> float:
        return self.wall_clock_s / SECONDS_PER_DAY

    def to_dict(self) -> dict[str, object]:
        return {
            "params": self.params,
            "tokens": self.tokens,
            "gpus": self.gpus,
            "peak_flop_per_s": self.peak_flop_per_s,
            "mfu": self.mfu,
            "usd_per_gpu_hour": self.usd_per_gpu_hour,
            "flop_per_token": self.flop_per_token,
            "total_flop": self.total_flop,
            "usable_flop_per_s": self.usable_flop_per_s,
            "wall_clock_s": self.wall_clock_s,
            "wall_clock_days": self.wall_clock_days,
            "gpu_hours": self.gpu_hours,
            "cost_usd": self.cost_usd,
            "derivation": [step.to_dict() for step in self.steps],
        }


def palm_flop_per_token(arch: ModelArch, seq: int) -> tuple[float, str]:
    """Return the training FLOPs per token of `arch` at sequence length `seq`, and the formula's label.

    PaLM's 6·N + 12·L·H·Q·T (Chowdhery et al. 2022, Appendix B), with N the active parameters
    and Q the mean of the query-key and value head widths, so that MLA models whose two widths
    differ count the score and value matmuls each at its own width.
    """
    from .flops import palm_model_flop_per_token
    from .params import count_params

    att = arch.attention
    width = (att.qk_head_dim + att.value_head_dim) / 2
    per_token = palm_model_flop_per_token(count_params(arch).active, arch.num_layers, att.num_heads, width, seq)
    return per_token, f"6 · N + 12 · L · H · Q · T, T = {seq:,}"


def training_bill(
    params: float,
    tokens: float,
    gpus: int,
    peak_flop_per_s: float,
    mfu: float,
    usd_per_gpu_hour: float,
    flop_per_token: float | None = None,
    flop_per_token_formula: str = "6 · N",
) -> TrainingBill:
    """Return the training bill for `tokens` tokens on `gpus` GPUs.

    `flop_per_token` defaults to the 6·N rule (forward 2N plus backward 4N, attention ignored);
    pass PaLM's 6·N + 12·L·H·Q·T to include attention at a sequence length.
    """
    for label, value in (("parameter count", params), ("token count", tokens), ("peak FLOP/s", peak_flop_per_s)):
        if not (value > 0 and math.isfinite(value)):
            raise OptionError(f"invalid {label} {value!r}: must be a positive finite number")
    if gpus < 1:
        raise OptionError(f"invalid GPU count {gpus}: must be 1 or more")
    if not 0 < mfu <= 1:
        raise OptionError(f"invalid MFU {mfu!r}: must be above 0% and at most 100%")
    if not (usd_per_gpu_hour >= 0 and math.isfinite(usd_per_gpu_hour)):
        raise OptionError(f"invalid price {usd_per_gpu_hour!r}: must be zero or more USD per GPU-hour")

    # 1. Total compute.
    per_token = 6.0 * params if flop_per_token is None else flop_per_token
    total_flop = per_token * tokens
    # 2. The FLOP rate the cluster sustains.
    usable = gpus * peak_flop_per_s * mfu
    # 3. Time, GPU-hours, dollars.
    seconds = total_flop / usable
    gpu_hours = gpus * seconds / 3600.0
    cost = gpu_hours * usd_per_gpu_hour

    if flop_per_token is None:
        total_step = Step("total compute", "6 · N · D", f"6 · {num(params)} · {num(tokens)}", format_flop(total_flop))
    else:
        total_step = Step(
            "total compute",
            f"({flop_per_token_formula}) · D",
            f"{num(per_token)} · {num(tokens)}",
            format_flop(total_flop),
        )
    steps = (
        Step("parameters", "N", "", format_count(params)),
        total_step,
        Step("usable rate", "GPUs · peak · MFU", f"{gpus:,} · {num(peak_flop_per_s)} · {mfu:.3g}", format_rate(usable, "FLOP/s")),
        Step("wall-clock", "total ÷ rate", f"{num(total_flop)} ÷ {num(usable)}", f"{num(seconds)} s = {format_duration(seconds)}"),
        Step("GPU-hours", "GPUs · seconds ÷ 3,600", f"{gpus:,} · {num(seconds)} ÷ 3,600", f"{num(gpu_hours)} GPU-h"),
        Step("cost", "GPU-hours · $/GPU-hour", f"{num(gpu_hours)} · {num(usd_per_gpu_hour)}", format_usd(cost)),
    )
    return TrainingBill(
        params=params,
        tokens=tokens,
        gpus=gpus,
        peak_flop_per_s=peak_flop_per_s,
        mfu=mfu,
        usd_per_gpu_hour=usd_per_gpu_hour,
        flop_per_token=per_token,
        total_flop=total_flop,
        usable_flop_per_s=usable,
        wall_clock_s=seconds,
        gpu_hours=gpu_hours,
        cost_usd=cost,
        steps=steps,
    )
