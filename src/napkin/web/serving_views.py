"""Figures and charts of the serving endpoints, `/api/serve-size` and `/api/latency`, formatted as the CLI prints them."""

from __future__ import annotations

from typing import Any

from ..units import format_bytes, format_number, format_usd
from . import charts


def size_formatted(size: Any) -> dict[str, str]:
    """Return the rows of `napkin serve-size`, keyed for the page."""
    budget = size.budget
    layout = f"tp {size.tp}" + (f", ep {size.ep}" if size.ep > 1 else "")
    formatted = {
        "title": f"Serving {size.model} on {size.gpus:,} × {budget.gpu.name} ({layout}, {budget.engine} accounting)",
        "weights_per_gpu": format_bytes(budget.weights.per_gpu_bytes),
        "kv_cache_per_gpu": format_bytes(budget.kv_cache_bytes_per_gpu),
        "kv_cache_tokens": f"{budget.kv_cache_tokens:,} tokens",
        "gpu_blocks": f"{budget.gpu_blocks:,} × {budget.block_size} tokens",
        "max_concurrency": f"{size.max_concurrency:,.2f}×",
        "max_context": f"{size.max_context_tokens:,} tokens at batch {size.batch:,}",
    }
    if size.replicas > 1:
        formatted["replicas"] = f"{size.replicas:,} ({size.gpus:,} GPUs ÷ tp {size.tp})"
    return formatted


def chart_contexts(context: int, limit: int) -> list[int]:
    """Return the contexts of the capacity chart: powers of two from 1,024 to `limit`, and `context`."""
    contexts = {context}
    length = 1024
    while length <= max(limit, context):
        contexts.add(length)
        length *= 2
    return sorted(contexts)


def concurrency_chart(arch: Any, size: Any) -> dict[str, Any]:
    """Return max concurrency against context, on the engine's KV blocks (`napkin.serve.request_kv_bytes_per_gpu`)."""
    from ..serve import request_kv_bytes_per_gpu

    budget = size.budget
    room = budget.gpu_blocks * budget.block_bytes_per_gpu
    limit = min(arch.max_position_embeddings or 131072, 1 << 20)
    contexts = chart_contexts(size.context, limit)
    fitting = [room / request_kv_bytes_per_gpu(arch, c, budget.kv_dtype, size.tp, budget.block_size) for c in contexts]
    return {
        "title": "Requests that fit against context length",
        "x": charts.axis("context (tokens)", contexts[0], contexts[-1], lambda v: f"{v:,.0f}", scale="log", base=2),
        "y": charts.axis("max concurrency per replica", 0.0, max(max(fitting), 1.0) * 1.1, lambda v: f"{v:,.0f}"),
        "lines": [{"name": "max requests", "points": [[c, n] for c, n in zip(contexts, fitting)]}],
        "points": [
            {
                "x": size.context,
                "y": size.max_concurrency,
                "label": f"{size.context:,} tokens: {size.max_concurrency:,.2f}×",
                "kind": "chosen",
            }
        ],
    }


def _usd(value: float | None) -> str:
    return format_usd(value) if value is not None else "—"


def latency_rows(table: Any) -> list[dict[str, Any]]:
    """Return the rows of the `napkin latency` table as text."""
    return [
        {
            "batch": f"{row.batch:,}",
            "ttft": f"{row.ttft_s * 1e3:.3g} ms",
            "tpot": f"{row.tpot_s * 1e3:.3g} ms",
            "tokens_per_s_per_gpu": f"{row.tokens_per_s_per_gpu:,.0f}",
            "bound": row.bound,
            "usd_per_million_output_tokens": _usd(row.usd_per_million_output_tokens),
            "usd_per_million_input_tokens": _usd(row.usd_per_million_input_tokens),
            "fits": "yes" if row.fits else "no",
        }
        for row in table.rows
    ]


def latency_formatted(table: Any) -> dict[str, str]:
    size = table.size
    first = table.rows[0]
    formatted = {
        "title": f"{table.model} on {size.gpus:,} × {table.gpu.name} (tp {size.tp}), {table.prompt:,} in, {table.output:,} out",
        "max_batch": f"{table.max_batch:,} requests ({size.budget.engine} accounting)",
        "crossover": f"batch {table.decode_crossover_batch:,}" if table.decode_crossover_batch else "no batch",
        "ttft": f"{first.ttft_s * 1e3:.3g} ms",
        "price": f"{format_usd(table.usd_per_gpu_hour)}/GPU-hour" if table.usd_per_gpu_hour is not None else "no price",
    }
    return formatted


def throughput_chart(table: Any) -> dict[str, Any]:
    """Return output tokens/s per GPU against batch size, with the KV-cache batch limit as a rule."""
    batches = [row.batch for row in table.rows]
    rates = [row.tokens_per_s_per_gpu for row in table.rows]
    low, high = charts.padded_log_range(batches, floor=1.0)
    points = [
        {
            "x": row.batch,
            "y": row.tokens_per_s_per_gpu,
            "kind": "fits" if row.fits else "overflows",
            "tag": f"{row.tpot_s * 1e3:.3g} ms",
            "label": f"batch {row.batch:,}: {row.tokens_per_s_per_gpu:,.0f} tokens/s per GPU, TPOT {row.tpot_s * 1e3:.3g} ms, "
            f"{row.bound}-bound{'' if row.fits else ', does not fit the KV cache'}",
        }
        for row in table.rows
    ]
    spec: dict[str, Any] = {
        "title": "Output tokens/s per GPU against batch (tags: TPOT)",
        "x": charts.axis("decode batch", low, high, lambda v: f"{v:,.0f}", scale="log"),
        "y": charts.axis("output tokens/s per GPU", 0.0, max(rates) * 1.15, format_number),
        "lines": [{"name": "tokens/s", "points": [[b, r] for b, r in zip(batches, rates)]}],
        "points": points,
        "point_labels": {"fits": "fits the KV cache", "overflows": "exceeds the KV cache"},
    }
    if low <= table.max_batch <= high:
        spec["rules"] = [{"axis": "x", "value": table.max_batch, "label": f"KV cache holds {table.max_batch:,}"}]
    return spec
