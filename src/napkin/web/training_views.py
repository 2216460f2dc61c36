"""Figures and charts of the training-layout endpoints, `/api/layout` and `/api/plan`, formatted as the CLI prints them."""

from __future__ import annotations

from typing import Any

from ..layout_labels import MEMORY_LABELS, compact_layout
from ..units import format_bytes, format_count, format_duration, format_usd
from . import charts

def layout_formatted(estimate: Any, bill: Any, model: str) -> dict[str, str]:
    """Return the rows of `napkin train` with a layout, keyed for the page."""
    layout = estimate.layout
    sizes = [f"tp {layout.tp}", f"pp {layout.pp}", f"dp {layout.dp}"]
    sizes += [f"ep {layout.ep}"] if layout.ep > 1 else []
    sizes += [f"cp {layout.cp}"] if layout.cp > 1 else []
    sizes += [f"ZeRO {layout.zero}", f"{layout.recompute} recompute"]
    verdict = "fits" if estimate.fits else "does not fit"
    return {
        "title": f"Training {model} on {layout.gpus:,} × {estimate.gpu.name}: {', '.join(sizes)}",
        "gpus": f"{layout.gpus:,}",
        "memory_per_gpu": f"{format_bytes(estimate.memory_per_gpu_bytes)} of {format_bytes(estimate.gpu.hbm_bytes)} ({verdict})",
        "step_time": f"{estimate.step_time_s:.3g} s",
        "rate_source": estimate.rate_source,
        "tokens_per_s": f"{estimate.tokens_per_s:,.0f}",
        "mfu": f"{estimate.mfu:.1%}",
        "hfu": f"{estimate.hfu:.1%}",
        "wall_clock": format_duration(bill.wall_clock_s),
        "days": f"{bill.wall_clock_days:,.1f} days",
        "gpu_hours": f"{bill.gpu_hours:,.0f}",
        "cost": format_usd(bill.cost_usd),
        "price": f"{format_usd(bill.usd_per_gpu_hour)}/GPU-hour",
    }


def memory_chart(estimate: Any) -> dict[str, Any]:
    """Return the memory parts per GPU as a stacked bar, with the GPU's HBM as a rule."""
    parts = [(label, estimate.memory_bytes[key]) for key, label in MEMORY_LABELS.items() if estimate.memory_bytes[key] > 0]
    return charts.memory_bar("Memory per GPU of the layout", parts, estimate.memory_per_gpu_bytes, estimate.gpu)


def plan_rows(plan: Any) -> list[dict[str, str]]:
    return [
        {
            "rank": str(rank),
            "gpus": f"{planned.layout.gpus:,} × {planned.gpu}",
            "layout": compact_layout(planned.layout),
            "memory_per_gpu": format_bytes(planned.memory_per_gpu_bytes),
            "mfu": f"{planned.mfu:.1%}",
            "days": f"{planned.days:.1f}",
            "cost": format_usd(planned.cost_usd),
        }
        for rank, planned in enumerate(plan.layouts, start=1)
    ]


def plan_formatted(plan: Any, model: str, tokens: float) -> dict[str, str]:
    best = plan.layouts[0]
    return {
        "title": f"Layouts for {model} on {format_count(tokens)} tokens: {plan.feasible:,} of {plan.evaluated:,} fit and meet the limits",
        "best": best.describe(),
        "best_cost": format_usd(best.cost_usd),
        "best_days": f"{best.days:.1f} days",
        "why_winner": "\n".join(plan.why_winner),
        "rejected": "\n".join(plan.rejected),
    }
