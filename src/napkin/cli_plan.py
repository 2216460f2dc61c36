"""Training layouts on the command line: `napkin train` with a layout, `napkin plan`, `napkin finetune`.

Imports only click and light napkin modules at import time; NumPy, the search and rich load
inside the commands.
"""

from __future__ import annotations

import time
from typing import Any

import click

from .cli import _emit_json, _given, _load_model, _price, _resolve_gpu, _tokens, main
from .errors import OptionError
from .options import LENGTH, PRICE, TOKENS, WHOLE, json_option
from .options_layout import BUDGET
from .training import DEFAULT_PLAN_DAYS

DEFAULT_SEQ = 8192  # the same default as `napkin plan --seq`
PROGRESS_AFTER_S = 1.0


def _layout_from_options(arch: Any, seq: int, gpus: int, layout: dict[str, Any]):
    """Return the Layout the options describe, checking GPU count and batch arithmetic."""
    from .parallel import Layout

    zero = layout["zero"]
    if layout["fsdp"]:
        if _given("zero") and zero != 3:
            raise OptionError(f"--fsdp shards like ZeRO stage 3 and contradicts --zero {zero}: drop one of them")
        zero = 3
    tp, pp, cp = layout["tp"], layout["pp"], layout["cp"]
    model_parallel = tp * pp * cp
    dp = layout["dp"]
    if dp is None and not _given("gpus"):
        dp = 1
    elif dp is None:
        if gpus % model_parallel:
            raise OptionError(
                f"--gpus {gpus:,} is not a multiple of tp · cp · pp = {model_parallel:,}: give --gpus as a multiple of {model_parallel:,}, or --dp"
            )
        dp = gpus // model_parallel
    elif _given("gpus") and gpus != model_parallel * dp:
        raise OptionError(
            f"--gpus {gpus:,} differs from the {model_parallel * dp:,} GPUs the layout uses (tp {tp} · cp {cp} · dp {dp} · pp {pp}): "
            f"set --gpus {model_parallel * dp:,} or change the layout"
        )
    batch_tokens = layout["global_batch"]
    if batch_tokens % seq:
        raise OptionError(
            f"--global-batch {batch_tokens:,} tokens is not a whole number of {seq:,}-token sequences: use a multiple of --seq, "
            f"e.g. {max(1, round(batch_tokens / seq)) * seq:,}"
        )
    return Layout(
        tp=tp, pp=pp, dp=dp, ep=layout["ep"], cp=cp, zero=zero, micro_batch=layout["micro_batch"],
        global_batch=batch_tokens // seq, seq=seq, recompute=layout["recompute"], interleave=layout["interleave"],
        optimizer=layout["optimizer"],
    )


def train_with_layout(model, params, tokens, gpu_name, peak, bandwidth, hbm, gpus, mfu, price, seq, allow_long_context, as_json, layout) -> None:
    """Run `napkin train` for one parallel layout: memory per GPU, step time, MFU, days and dollars."""
    from .layout import estimate_layout, layout_training_bill

    arch, _ = _load_model(model, params, required_arch="a parallel layout (--tp, --pp, --dp, ...)")
    gpu = _resolve_gpu(gpu_name, peak, bandwidth, hbm)
    price = _price(gpu, price)
    seq = _tokens(arch, "seq", seq or DEFAULT_SEQ, allow_long_context)
    achieved = layout["achieved_tflops"]
    if _given("mfu") and achieved is not None:
        raise OptionError("--mfu and --achieved-tflops both set the step time: give one of them")
    from .parallel import check_model_split, model_shape

    shape = model_shape(arch)
    check_model_split(shape, layout["tp"], layout["pp"], layout["interleave"], layout["ep"])
    chosen = _layout_from_options(arch, seq, gpus, layout)
    estimate = estimate_layout(arch, gpu, chosen, tokens, price, mfu=mfu if _given("mfu") else None, achieved_flop_per_s=achieved,
                               shape=shape)

    bill = layout_training_bill(arch, estimate)
    if as_json:
        layout_dict = estimate.to_dict()
        steps = [step.to_dict() for step in bill.steps + estimate.steps]
        _emit_json({"model": arch.name, "gpu": gpu.name, **bill.to_dict(), **layout_dict, "derivation": steps})
        return
    from .render_plan import render_layout

    render_layout(estimate, bill, arch.name)


# --- napkin plan ---------------------------------------------------------------------------------


def _progress_bar():
    """Return a progress callback that shows a rich bar on stderr once a search passes one second."""
    started = time.perf_counter()
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if "bar" not in state:
            if time.perf_counter() - started < PROGRESS_AFTER_S or done >= total:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            bar = Progress(TextColumn("searching layouts"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                           console=Console(stderr=True), transient=True)
            bar.start()
            state["bar"], state["task"] = bar, bar.add_task("search", total=total)
            update.shown = True  # type: ignore[attr-defined]
        state["bar"].update(state["task"], completed=done)
        if done >= total:
            state["bar"].stop()

    def close() -> None:
        if "bar" in state:
            state["bar"].stop()

    update.close = close  # type: ignore[attr-defined]
    return update


@main.command("plan", short_help="Search parallel layouts: the cheapest that fits, with reasons.")
@click.argument("model")
@click.option("--tokens", type=TOKENS, required=True, help="Training tokens D, e.g. 15T.")
@click.option("--gpu", "gpu_names", required=True, metavar="NAMES", help="GPU name, or several separated by commas (e.g. h100,h200,b200).")
@click.option("--max-gpus", type=WHOLE, required=True, help="Most GPUs a layout may use.")
@click.option("--days", type=float, help=f"Longest acceptable wall-clock in days [default: {DEFAULT_PLAN_DAYS:g}].")
@click.option("--budget", type=BUDGET, help="Most USD the run may cost, e.g. 10M.")
@click.option("--top", type=WHOLE, default="10", show_default=True, help="Layouts to show.")
@click.option("--rank", "rank_by", type=click.Choice(["cost", "time"]), default="cost", show_default=True, help="Order layouts by dollars or by wall-clock.")
@click.option("--seq", type=LENGTH, default="8k", show_default=True, help="Tokens per sequence.")
@click.option("--global-batch", type=LENGTH, default="4M", show_default=True, help="Tokens per optimizer step (4M = 4,194,304); a multiple of --seq.")
@click.option("--price", type=PRICE, help="USD per GPU-hour for every GPU type [default: each GPU's catalog rate].")
@click.option("--optimizer", type=click.Choice(["adam", "adam-fp32", "adam-8bit", "sgd", "sgd-fp32"]), default="adam", show_default=True, help="Optimizer and precision.")
@click.option("--allow-long-context", is_flag=True, help="Estimate a context longer than the model's maximum positions.")
@json_option
def plan_command(model, tokens, gpu_names, max_gpus, days, budget, top, rank_by, seq, global_batch, price, optimizer, allow_long_context, as_json) -> None:
    """Rank parallel layouts (tp, pp, dp, ep, cp, ZeRO, recompute, micro-batch) by cost or time.

    Drops layouts that do not divide the model, exceed GPU memory, or miss --days or --budget,
    and says why the winner wins and why the best rejected layouts were rejected.

    Example: napkin plan llama-3-70b --tokens 15T --gpu h100 --max-gpus 4096 --days 90
    """
    from .hardware import get_gpu
    from .plan import plan_layouts
    from .presets import load_model

    arch = load_model(model)
    names = [name.strip() for name in gpu_names.split(",")]
    if any(not name for name in names):
        raise OptionError(f"invalid --gpu {gpu_names!r}: empty entry; give names separated by commas, e.g. h100,h200")
    # An alias or a repeated name would search the same GPU type twice.
    gpus = list({gpu.name: gpu for gpu in map(get_gpu, names)}.values())
    prices = [_price(gpu, price) for gpu in gpus]
    seq = _tokens(arch, "seq", seq, allow_long_context)
    if global_batch % seq:
        raise OptionError(
            f"--global-batch {global_batch:,} tokens is not a whole number of {seq:,}-token sequences: use a multiple of --seq, "
            f"e.g. {max(1, round(global_batch / seq)) * seq:,}"
        )
    days = DEFAULT_PLAN_DAYS if days is None else days
    progress = _progress_bar()
    try:
        plan = plan_layouts(arch, gpus, prices, tokens, seq, global_batch // seq, max_gpus, days=days, budget=budget,
                            rank_by=rank_by, top=top, optimizer=optimizer, progress=progress)
    finally:
        progress.close()  # type: ignore[attr-defined]
    if as_json:
        _emit_json({"model": arch.name, "tokens": tokens, "seq": seq, "global_batch_tokens": global_batch, "days_limit": days,
                    "budget_usd": budget, **plan.to_dict()})
        return
    from .render_plan import render_plan

    render_plan(plan, arch.name, tokens)


# --- napkin finetune -----------------------------------------------------------------------------


@main.command("finetune", short_help="Fine-tuning memory per GPU: full, LoRA or QLoRA.")
@click.argument("model")
@click.option("--gpu", "gpu_name", required=True, metavar="NAME", help="GPU name from 'napkin gpus' (e.g. l4).")
@click.option("--method", type=click.Choice(["full", "lora", "qlora"]), default="lora", show_default=True, help="Full fine-tuning, LoRA (bf16 base), or QLoRA (4-bit NF4 base, bf16 adapters).")
@click.option("--rank", type=WHOLE, default="16", show_default=True, help="LoRA rank r.")
@click.option("--targets", default="q,k,v,o,gate,up,down", show_default=True, help="Linear layers LoRA adapts, comma-separated.")
@click.option("--seq", type=LENGTH, default="2k", show_default=True, help="Tokens per sequence (2k = 2,048).")
@click.option("--micro-batch", type=WHOLE, default="1", show_default=True, help="Sequences per micro-batch.")
@click.option("--recompute", type=click.Choice(["none", "selective", "full"]), default="full", show_default=True, help="Activation recomputation (gradient checkpointing is full).")
@click.option("--optimizer", type=click.Choice(["adam", "adam-fp32", "adam-8bit", "sgd", "sgd-fp32"]), default="adam", show_default=True, help="Optimizer for the trainable parameters.")
@click.option("--gpus", type=WHOLE, default="1", show_default=True, help="Data-parallel GPUs that ZeRO shards over.")
@click.option("--zero", type=click.IntRange(0, 3), default=0, show_default=True, help="ZeRO stage over --gpus.")
@click.option("--allow-long-context", is_flag=True, help="Estimate a context longer than the model's maximum positions.")
@json_option
def finetune_command(model, gpu_name, method, rank, targets, seq, micro_batch, recompute, optimizer, gpus, zero, allow_long_context, as_json) -> None:
    """Memory per GPU of full fine-tuning, LoRA or QLoRA; optimizer state only on trainable parameters.

    Example: napkin finetune llama-3-8b --gpu l4 --method lora --rank 16 --seq 2k
    """
    from .finetune import finetune_memory
    from .hardware import get_gpu
    from .presets import load_model

    if method == "full" and _given("rank", "targets"):
        raise OptionError(f"{', '.join(_given('rank', 'targets'))} applies to --method lora or qlora: drop it for full fine-tuning")
    arch = load_model(model)
    gpu = get_gpu(gpu_name)
    seq = _tokens(arch, "seq", seq, allow_long_context)
    target_names = tuple(name.strip() for name in targets.split(","))
    if "" in target_names:
        raise OptionError(f"invalid --targets {targets!r}: empty name in the list; give names separated by commas, e.g. q,v")
    result = finetune_memory(arch, gpu, method, rank, target_names, seq, micro_batch, recompute, optimizer, gpus, zero)
    if as_json:
        _emit_json({"model": arch.name, **result.to_dict()})
        return
    from .render_plan import render_finetune

    render_finetune(result, arch.name)


__all__ = ["finetune_command", "plan_command", "train_with_layout"]
