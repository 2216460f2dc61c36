"""Command-line options of a parallel training layout for `napkin train`, and the budget type of `napkin plan`."""

from __future__ import annotations

from typing import Any

import click

from .options import LENGTH, WHOLE, UnitType
from . import units

FLOP_PER_S = UnitType("TFLOP/S", lambda text, label: units.parse_count(text, label) * 1e12, "achieved TFLOP/s")

BUDGET = UnitType("USD", lambda text, label: units.parse_count(text.strip().lstrip("$"), label), "budget")

LAYOUT_PARAMS = ("tp", "pp", "dp", "ep", "cp", "zero", "fsdp", "micro_batch", "global_batch", "recompute", "interleave",
                 "achieved_tflops", "optimizer")
"""Parameter names whose presence on the command line switches `napkin train` to one layout."""


def layout_options(func: Any) -> Any:
    """Add the layout options to a command (applied bottom-up, so listed here in reverse)."""
    options = [
        click.option("--achieved-tflops", type=FLOP_PER_S, help="Achieved hardware TFLOP/s per GPU, recomputation included (as Megatron-LM reports), instead of --mfu."),
        click.option("--optimizer", type=click.Choice(["adam", "adam-fp32", "adam-8bit", "sgd", "sgd-fp32"]), default="adam", show_default=True, help="Optimizer and precision (adam = mixed-precision Adam, 16 bytes/param)."),
        click.option("--interleave", type=WHOLE, default="1", show_default=True, help="Model chunks per GPU (interleaved 1F1B pipeline schedule)."),
        click.option("--recompute", type=click.Choice(["none", "selective", "full"]), default="selective", show_default=True, help="Activation recomputation (Korthikanti et al. 2022)."),
        click.option("--global-batch", type=LENGTH, default="4M", show_default=True, help="Tokens per optimizer step (4M = 4,194,304); a multiple of --seq."),
        click.option("--micro-batch", type=WHOLE, default="1", show_default=True, help="Sequences per micro-batch on each pipeline."),
        click.option("--fsdp", is_flag=True, help="FSDP full sharding (same memory as --zero 3)."),
        click.option("--zero", type=click.IntRange(0, 3), default=1, show_default=True, help="ZeRO stage over dp · cp: 1 optimizer state, 2 also gradients, 3 also weights."),
        click.option("--cp", type=WHOLE, default="1", show_default=True, help="Context-parallel size (splits each sequence)."),
        click.option("--ep", type=WHOLE, default="1", show_default=True, help="Expert-parallel size (MoE; taken from dp · cp)."),
        click.option("--dp", type=WHOLE, help="Data-parallel size [default: --gpus ÷ (tp · cp · pp)]."),
        click.option("--pp", type=WHOLE, default="1", show_default=True, help="Pipeline-parallel size (divides the layers)."),
        click.option("--tp", type=WHOLE, default="1", show_default=True, help="Tensor-parallel size (divides the attention heads); sequence parallelism is on when it is 2 or more."),
    ]
    for option in options:
        func = option(func)
    return func


__all__ = ["BUDGET", "FLOP_PER_S", "LAYOUT_PARAMS", "layout_options"]
