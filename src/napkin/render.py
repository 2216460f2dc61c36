"""Rich tables and derivations for the terminal. Imported only when output is not JSON."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.table import Table

from .derivation import Step
from .fit import MemoryEstimate
from .hardware import GPU
from .kv import KVCapacity, KVSize
from .roofline import Roofline
from .serving import ServingCost
from .summary import ModelSummary, describe_layers
from .training import TrainingBill
from .units import format_bytes, format_count, format_duration, format_flop, format_number, format_rate, format_usd

__all__ = [
    "render_gpus",
    "render_kv",
    "render_kv_size",
    "render_memory",
    "render_model",
    "render_models",
    "render_roofline",
    "render_serving",
    "render_training",
]

_console = Console(highlight=False)


def _figures(title: str, rows: Iterable[tuple[str, str]]) -> None:
    if title:
        _console.print(f"[bold]{title}[/bold]")
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold", overflow="fold")
    table.add_column(justify="right", overflow="fold")
    for label, value in rows:
        table.add_row(label, value)
    _console.print(table)


def _derivation(steps: Iterable[Step]) -> None:
    table = Table(title="How each number was obtained", title_justify="left", show_header=False, box=None, padding=(0, 2))
    table.add_column(style="dim", overflow="fold")
    table.add_column(overflow="fold")
    for step in steps:
        numbers = " = ".join(p for p in (step.substituted, step.result) if p)
        text = f"{step.formula}\n  = {numbers}" if step.formula and numbers else (step.formula or numbers)
        table.add_row(step.label, text)
    _console.print()
    _console.print(table)


def render_model(summary: ModelSummary, binary: bool) -> None:
    arch, params = summary.arch, summary.params
    _console.print(f"[bold]{arch.name}[/bold] ({arch.model_type}): {arch.num_layers:,} layers, h = {arch.hidden_size:,}, V = {arch.vocab_size:,}")
    for line in describe_layers(arch):
        _console.print(f"  {line}")
    for note in arch.notes:
        _console.print(f"  note: {note}")
    _console.print()
    rows = [
        ("parameters, total", f"{params.total:,} ({format_count(params.total)})"),
        ("  embedding", f"{params.embedding:,}"),
        ("  non-embedding", f"{params.non_embedding:,}"),
    ]
    if params.active != params.total:
        rows.append(("parameters, active per token", f"{params.active:,} ({format_count(params.active)})"))
    if params.vision:
        rows.append(("vision tower + projector (not in total)", f"{params.vision + params.projector:,}"))
    rows += [
        ("forward FLOPs/token (2N)", format_flop(summary.forward_flop_per_token)),
        ("training FLOPs/token (6N)", format_flop(summary.train_flop_per_token)),
        (f"forward FLOPs/token at s = {summary.flops.seq:,}", format_flop(summary.flops.forward_flop_per_token_at_seq)),
        ("  with a causal mask", format_flop(summary.flops.forward_flop_per_token_causal)),
        (f"KV cache per token ({summary.kv_dtype})", f"{summary.kv_cache_bytes_per_token:,.0f} bytes"),
    ]
    rows += [(f"weights, {dtype}", format_bytes(value, binary)) for dtype, value in summary.weights_bytes.items()]
    _figures("", rows)
    _derivation(summary.steps)


def render_models(rows: list[dict[str, object]]) -> None:
    table = Table(title="Model presets", title_justify="left")
    table.add_column("name", style="bold")
    table.add_column("params", justify="right")
    table.add_column("active", justify="right")
    table.add_column("HuggingFace id")
    for row in rows:
        total, active = float(row["params_total"]), float(row["params_active"])  # type: ignore[arg-type]
        table.add_row(str(row["name"]), format_count(total), format_count(active) if active != total else "", str(row["hf_id"] or row["source"]))
    _console.print(table)


def render_gpus(gpus: list[GPU], binary: bool) -> None:
    memory_unit, memory_scale = ("GiB", 2.0**30) if binary else ("GB", 1e9)
    table = Table(title="GPU spec sheet (dense peaks, no sparsity)", title_justify="left")
    headers = ("name", f"memory ({memory_unit})", "bandwidth (TB/s)", "bf16 (TFLOP/s)", "fp8 (TFLOP/s)", "ridge (FLOP/B)", "$/h")
    for header in headers:
        table.add_column(header, justify="left" if header == "name" else "right", overflow="fold")
    for gpu in gpus:
        table.add_row(
            gpu.name,
            format_number(gpu.hbm_bytes / memory_scale),
            format_number(gpu.hbm_bandwidth_bytes_per_s / 1e12),
            format_number(gpu.bf16_flop_per_s / 1e12),
            format_number(gpu.fp8_flop_per_s / 1e12) if gpu.fp8_flop_per_s else "—",
            format_number(gpu.ridge_flop_per_byte),
            f"{gpu.usd_per_hour:.2f}" if gpu.usd_per_hour is not None else "—",
        )
    _console.print(table)
    _console.print("Prices are rough on-demand defaults; pass --price to use yours. Sources: napkin gpus --json.")


def render_training(bill: TrainingBill, model: str, gpu: GPU) -> None:
    _figures(
        f"Training {model} on {bill.gpus:,} × {gpu.name}",
        [
            ("total compute", format_flop(bill.total_flop)),
            ("usable rate", f"{format_rate(bill.usable_flop_per_s, 'FLOP/s')} ({bill.mfu:.1%} MFU)"),
            ("wall-clock", format_duration(bill.wall_clock_s)),
            ("GPU-hours", format_number(bill.gpu_hours)),
            ("cost", f"{format_usd(bill.cost_usd)} at {format_usd(bill.usd_per_gpu_hour)}/GPU-hour"),
        ],
    )
    _derivation(bill.steps)


def render_memory(estimate: MemoryEstimate, model: str, binary: bool) -> None:
    fmt = lambda value: format_bytes(value, binary)  # noqa: E731
    activations = "not estimated" if estimate.activations_bytes is None else fmt(estimate.activations_bytes)
    verdict = "fits" if estimate.fits else "does NOT fit"
    fewest = f"{estimate.min_gpus:,}" if estimate.min_gpus is not None else "none at these settings"
    settings = estimate.settings
    if estimate.mode == "train":
        rows = [
            ("sequence × micro-batch", f"{settings['seq']:,} tokens × {settings['micro_batch']:,}"),
            ("weights", fmt(estimate.weights_bytes)),
            ("gradients", fmt(estimate.gradients_bytes)),
            ("optimizer state", fmt(estimate.optimizer_bytes)),
            ("activations", activations),
        ]
    else:
        rows = [
            ("context × requests", f"{settings['context']:,} tokens × {settings['requests']:,}"),
            ("weights", fmt(estimate.weights_bytes)),
            ("KV cache", "not estimated" if estimate.kv_cache_bytes is None else fmt(estimate.kv_cache_bytes)),
            ("activations", activations),
        ]
    fewest_label = "fewest GPUs" if estimate.mode == "train" else "fewest GPUs, memory alone"
    rows += [("total per GPU", f"{fmt(estimate.total_bytes)} ({verdict})"), (fewest_label, fewest)]
    if estimate.mode == "infer" and estimate.kv_cache_bytes is not None:
        tensor_parallel = estimate.min_gpus_tensor_parallel
        rows.append(("fewest GPUs for tensor parallelism", f"{tensor_parallel:,}" if tensor_parallel else "none fits"))
    title = "Training" if estimate.mode == "train" else "Inference"
    _figures(f"{title} memory per GPU: {model} on {estimate.gpu.name} ({fmt(estimate.gpu.hbm_bytes)})", rows)
    _derivation(estimate.steps)


def render_kv_size(size: KVSize, model: str, binary: bool) -> None:
    _figures(
        f"KV cache: {model}, context {size.context:,} ({size.kv_dtype})",
        [
            ("KV per token (before any window cap)", f"{size.kv_cache_bytes_per_token:,.0f} bytes"),
            ("KV per request", format_bytes(size.kv_cache_bytes_per_request, binary)),
        ],
    )
    _derivation(size.steps)
    _console.print("Add --gpu NAME for the requests that fit beside the weights.")


def render_kv(capacity: KVCapacity, model: str, binary: bool) -> None:
    fmt = lambda value: format_bytes(value, binary)  # noqa: E731
    size = capacity.size
    free = fmt(capacity.free_bytes) if capacity.free_bytes >= 0 else f"none (short by {fmt(-capacity.free_bytes)})"
    rows = [
        ("KV per token (before any window cap)", f"{size.kv_cache_bytes_per_token:,.0f} bytes"),
        ("KV per request", fmt(size.kv_cache_bytes_per_request)),
        ("weights", fmt(capacity.weights_bytes)),
        ("free for KV", free),
        ("max concurrent requests", f"{capacity.max_requests:,}"),
    ]
    if capacity.requests is not None:
        needed = capacity.min_gpus_for_requests
        rows.append((f"GPUs for {capacity.requests:,} requests", f"{needed:,}" if needed else "no tensor-parallel size fits"))
    _figures(f"KV cache: {model}, context {size.context:,}, {capacity.gpus} × {capacity.gpu.name}", rows)
    _derivation(capacity.steps)


def render_roofline(result: Roofline, model: str | None) -> None:
    gpu = result.gpu
    _console.print(
        f"[bold]{gpu.name}[/bold]: {format_rate(gpu.bf16_flop_per_s, 'FLOP/s')} bf16, "
        f"{format_rate(gpu.hbm_bandwidth_bytes_per_s, 'B/s')}, ridge {format_number(result.ridge_flop_per_byte)} FLOP/byte"
    )
    if result.decode:
        table = Table(title=f"{model}: decode (context {result.context:,}) and prefill ({result.prompt:,} tokens)", title_justify="left")
        for name in ("batch", "decode FLOP/B", "bound", "step time", "tokens/s", "prefill FLOP/B", "bound"):
            table.add_column(name, justify="right", overflow="fold")
        for decode, prefill in zip(result.decode, result.prefill):
            table.add_row(
                f"{decode.batch:,}",
                format_number(decode.intensity_flop_per_byte),
                decode.bound,
                format_duration(decode.time_s),
                format_number(decode.tokens_per_s),
                format_number(prefill.intensity_flop_per_byte),
                prefill.bound,
            )
        _console.print(table)
    _derivation(result.steps)


def render_serving(cost: ServingCost) -> None:
    _figures(
        "Serving cost",
        [
            ("throughput", f"{format_number(cost.tokens_per_s_per_gpu)} tokens/s per GPU"),
            ("price", f"{format_usd(cost.usd_per_gpu_hour)}/GPU-hour"),
            ("cost", f"{format_usd(cost.usd_per_million_tokens)} per 1M tokens"),
        ],
    )
    _derivation(cost.steps)
