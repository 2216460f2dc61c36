"""Rich output of training layouts, plans and fine-tuning memory. Imported only for table output."""

from __future__ import annotations

from rich import box
from rich.table import Table

from .finetune import FinetuneMemory
from .layout import LayoutEstimate
from .layout_labels import MEMORY_LABELS, compact_layout
from .plan import Plan
from .render import _console, _derivation, _figures
from .training import TrainingBill
from .units import format_bytes, format_count, format_duration, format_usd

__all__ = ["render_finetune", "render_layout", "render_plan"]

def render_layout(estimate: LayoutEstimate, bill: TrainingBill, model: str) -> None:
    layout = estimate.layout
    sizes = [f"tp {layout.tp}", f"pp {layout.pp}", f"dp {layout.dp}"]
    if layout.ep > 1:
        sizes.append(f"ep {layout.ep}")
    if layout.cp > 1:
        sizes.append(f"cp {layout.cp}")
    sizes += [f"ZeRO {layout.zero}", f"{layout.recompute} recompute"]
    title = f"Training {model} on {layout.gpus:,} × {estimate.gpu.name}: {', '.join(sizes)}"
    rows = [(label, format_bytes(estimate.memory_bytes[key])) for key, label in MEMORY_LABELS.items()]
    verdict = "fits" if estimate.fits else "does not fit"
    rows.append(("memory per GPU", f"{format_bytes(estimate.memory_per_gpu_bytes)} of {format_bytes(estimate.gpu.hbm_bytes)} ({verdict})"))
    rows += [
        ("step time", f"{estimate.step_time_s:.3g} s ({estimate.rate_source})"),
        ("  compute", f"{estimate.time_s['compute']:.3g} s"),
        ("  pipeline bubble", f"{estimate.time_s['bubble_time']:.3g} s ({estimate.bubble_fraction:.1%})"),
        ("  exposed communication", f"{estimate.time_s['exposed_communication']:.3g} s of {estimate.communication_s_per_step:.3g} s"),
        ("tokens/s", f"{estimate.tokens_per_s:,.0f}"),
        ("MFU / HFU", f"{estimate.mfu:.1%} / {estimate.hfu:.1%}"),
        ("wall-clock", format_duration(bill.wall_clock_s)),
        ("GPU-hours", f"{bill.gpu_hours:,.0f}"),
        ("cost", f"{format_usd(bill.cost_usd)} at ${bill.usd_per_gpu_hour:.2f}/GPU-hour"),
    ]
    _figures(title, rows)
    _derivation(estimate.steps)


def render_plan(plan: Plan, model: str, tokens: float) -> None:
    _console.print(f"[bold]Layouts for {model} on {format_count(tokens)} tokens[/bold]: {plan.feasible:,} of {plan.evaluated:,} fit and meet the limits")
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True, pad_edge=False)
    for column in ("#", "layout", "mem/GPU", "MFU", "days", "cost"):
        table.add_column(column, justify="left" if column == "layout" else "right", no_wrap=True)
    for rank, planned in enumerate(plan.layouts, start=1):
        layout = planned.layout
        table.add_row(
            str(rank), f"{layout.gpus:,} {planned.gpu} {compact_layout(layout)}", format_bytes(planned.memory_per_gpu_bytes),
            f"{planned.mfu:.1%}", f"{planned.days:.1f}", format_usd(planned.cost_usd),
        )
    _console.print(table)
    _console.print("[dim]Sizes of 1 are left out. Z: ZeRO stage. none, sel, full: recomputation. mb: micro-batch.[/dim]")
    _console.print("[bold]Why the winner wins[/bold]")
    for line in plan.why_winner:
        _console.print(f"  {line}")
    if plan.rejected:
        _console.print("[bold]Best rejected layouts[/bold]")
        for line in plan.rejected:
            _console.print(f"  {line}")


def render_finetune(result: FinetuneMemory, model: str) -> None:
    rows = [
        ("trainable parameters", f"{result.trainable_params:,.0f} ({result.settings['trainable_fraction']:.2%})"),
        ("weights", format_bytes(result.weights_bytes)),
        ("gradients", format_bytes(result.gradients_bytes)),
        ("optimizer state", format_bytes(result.optimizer_bytes)),
        ("activations", format_bytes(result.activations_bytes)),
    ]
    if result.dequantization_bytes:
        rows.append(("dequantization buffer", format_bytes(result.dequantization_bytes)))
    rows += [
        ("framework reserve", format_bytes(result.framework_reserve_bytes)),
        ("total per GPU", f"{format_bytes(result.total_bytes)} of {format_bytes(result.gpu.hbm_bytes)} ({'fits' if result.fits else 'does not fit'})"),
    ]
    _figures(f"Fine-tuning {model} ({result.method}) on {result.gpu.name}", rows)
    _derivation(result.steps)
