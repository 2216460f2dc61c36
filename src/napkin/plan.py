"""`napkin plan`: search parallel layouts for the cheapest (or fastest) one that fits.

The search enumerates tp × pp × interleave × cp × dp × ep × ZeRO stage × recomputation ×
micro-batch over each GPU type as NumPy arrays. It drops layouts that break divisibility,
exceed memory or miss the limits, and ranks the rest. One pass over a few hundred thousand layouts
takes a fraction of a second (see benchmarks/bench_plan.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .arch import ModelArch
from .errors import OptionError
from .hardware import GPU
from .layout import check_tokens_fill_a_step
from .parallel import RECOMPUTE_MODES, Layout, ModelShape, divisors, layout_memory_arrays, model_shape, valid_layouts
from .steptime import step_time_arrays
from .training import SECONDS_PER_DAY
from .units import format_bytes, format_usd

__all__ = ["Plan", "PlanError", "PlannedLayout", "candidate_grid", "evaluate_grid", "plan_layouts"]

MICRO_BATCHES = (1, 2, 4, 8)
CONTEXT_PARALLEL = (1, 2, 4, 8, 16)
INTERLEAVE = (1, 2, 4)
ZERO_STAGES = (0, 1, 2, 3)
CHUNK_LAYOUTS = 262_144
"""Layouts evaluated per NumPy pass: large enough to amortise Python overhead, small enough to
keep the temporaries of one pass to tens of MB."""

MAX_GPU_SCALE = 64
"""How far above --max-gpus the infeasible-plan hint looks for the smallest cluster that fits."""


class PlanError(OptionError):
    """Raised when no layout fits or meets the limits; the message names the smallest change that would."""


@dataclass(frozen=True)
class PlannedLayout:
    """One ranked layout with its memory, step time and bill."""

    gpu: str
    layout: Layout
    memory_per_gpu_bytes: float
    step_time_s: float
    mfu: float
    days: float
    cost_usd: float
    bubble_fraction: float
    exposed_communication_s: float

    def describe(self) -> str:
        layout = self.layout
        parts = [f"tp {layout.tp}", f"pp {layout.pp}"]
        if layout.interleave > 1:
            parts.append(f"v {layout.interleave}")
        parts.append(f"dp {layout.dp}")
        if layout.ep > 1:
            parts.append(f"ep {layout.ep}")
        if layout.cp > 1:
            parts.append(f"cp {layout.cp}")
        recompute = "no recomputation" if layout.recompute == "none" else f"{layout.recompute} recomputation"
        parts += [f"ZeRO {layout.zero}", recompute, f"micro-batch {layout.micro_batch}"]
        return f"{layout.gpus:,} × {self.gpu} ({', '.join(parts)})"

    def to_dict(self) -> dict[str, object]:
        layout = self.layout
        return {
            "gpu": self.gpu, "gpus": layout.gpus, "tp": layout.tp, "pp": layout.pp, "dp": layout.dp, "ep": layout.ep,
            "cp": layout.cp, "zero": layout.zero, "recompute": layout.recompute, "micro_batch": layout.micro_batch,
            "interleave": layout.interleave, "memory_per_gpu_bytes": self.memory_per_gpu_bytes,
            "step_time_s": self.step_time_s, "mfu": self.mfu, "days": self.days, "cost_usd": self.cost_usd,
            "bubble_fraction": self.bubble_fraction, "exposed_communication_s": self.exposed_communication_s,
        }


@dataclass(frozen=True)
class Plan:
    """The ranked layouts, with counts and the reasons for the winner and for the best rejected layouts."""

    evaluated: int
    feasible: int
    layouts: tuple[PlannedLayout, ...]
    why_winner: tuple[str, ...]
    rejected: tuple[str, ...]
    rank_by: str

    def to_dict(self) -> dict[str, object]:
        return {
            "evaluated": self.evaluated,
            "feasible": self.feasible,
            "rank_by": self.rank_by,
            "layouts": [layout.to_dict() for layout in self.layouts],
            "why_winner": list(self.why_winner),
            "rejected": list(self.rejected),
        }


def candidate_grid(shape: ModelShape, gpu: GPU, max_gpus: int, global_batch: int) -> dict[str, np.ndarray]:
    """Return every layout to try on `gpu` as flat int64 arrays (the Cartesian product of the axes).

    Tensor parallelism stays within a node (tp ≤ GPUs per node), as it is on the critical path.
    """
    axes = {
        "tp": [t for t in shape.tensor_parallel_sizes if t <= gpu.gpus_per_node],
        "pp": divisors(shape.layers, max_gpus),
        "interleave": list(INTERLEAVE),
        "cp": [c for c in CONTEXT_PARALLEL if c <= max_gpus],
        "dp": divisors(global_batch, max_gpus),
        "ep": divisors(shape.num_experts, max_gpus) if shape.moe_layers else [1],
        "zero": list(ZERO_STAGES),
        "recompute": list(range(len(RECOMPUTE_MODES))),
        "micro_batch": [b for b in MICRO_BATCHES if b <= global_batch],
    }
    mesh = np.meshgrid(*(np.asarray(values, dtype=np.int64) for values in axes.values()), indexing="ij")
    return {key: array.reshape(-1) for key, array in zip(axes, mesh)}


def evaluate_grid(
    shape: ModelShape, gpu: GPU, grid: dict[str, np.ndarray], seq: int, global_batch: int, tokens: float,
    usd_per_gpu_hour: float, max_gpus: int, optimizer: str = "adam",
) -> dict[str, np.ndarray]:
    """Return memory, step time, MFU, days and cost of the valid layouts in `grid`.

    Layouts that break divisibility or use more GPUs than `max_gpus` are dropped before the
    arithmetic. The result's ``grid`` entry contains the layouts kept, in the order of the arrays.
    """
    gpus = grid["tp"] * grid["pp"] * grid["dp"] * grid["cp"]
    keep = valid_layouts(shape, grid, seq, global_batch) & (gpus <= max_gpus)
    valid = {key: array[keep] for key, array in grid.items()}
    if not len(valid["tp"]):
        return {"grid": valid}
    memory = layout_memory_arrays(shape, valid, seq, global_batch, optimizer)
    timing = step_time_arrays(shape, gpu, valid, seq, global_batch)
    seconds = tokens / timing["tokens_per_s"]
    gpu_count = timing["gpus"]
    return {
        "grid": valid,
        "memory": memory["total"],
        "step_time": timing["step_time"],
        "mfu": timing["mfu"],
        "bubble": timing["bubble_fraction"],
        "exposed": timing["exposed_communication"],
        "days": seconds / SECONDS_PER_DAY,
        "cost": gpu_count * seconds / 3600 * usd_per_gpu_hour,
        "gpus": gpu_count,
    }


def _layout_at(grid: dict[str, np.ndarray], index: int, seq: int, global_batch: int, optimizer: str) -> Layout:
    return Layout(
        tp=int(grid["tp"][index]), pp=int(grid["pp"][index]), dp=int(grid["dp"][index]), ep=int(grid["ep"][index]),
        cp=int(grid["cp"][index]), zero=int(grid["zero"][index]), micro_batch=int(grid["micro_batch"][index]),
        global_batch=global_batch, seq=seq, recompute=RECOMPUTE_MODES[int(grid["recompute"][index])],
        interleave=int(grid["interleave"][index]), optimizer=optimizer,
    )


def _search(
    arch: ModelArch, gpus: Sequence[GPU], prices: Sequence[float], tokens: float, seq: int, global_batch: int,
    max_gpus: int, optimizer: str, progress: Callable[[int, int], None] | None,
) -> tuple[int, dict[str, np.ndarray]]:
    """Evaluate every candidate on every GPU type; return (layouts enumerated, results of the valid ones)."""
    shape = model_shape(arch)
    grids = [candidate_grid(shape, gpu, max_gpus, global_batch) for gpu in gpus]
    total = sum(len(grid["tp"]) for grid in grids)
    done = 0
    pieces: list[dict[str, np.ndarray]] = []
    for gpu_index, (gpu, price, grid) in enumerate(zip(gpus, prices, grids)):
        size = len(grid["tp"])
        for start in range(0, size, CHUNK_LAYOUTS):
            chunk = {key: array[start:start + CHUNK_LAYOUTS] for key, array in grid.items()}
            result = evaluate_grid(shape, gpu, chunk, seq, global_batch, tokens, price, max_gpus, optimizer)
            if "memory" in result:
                result["fits"] = result["memory"] <= gpu.hbm_bytes
                result["gpu_index"] = np.full(len(result["memory"]), gpu_index)
                grid_part = result.pop("grid")
                result.update({f"grid_{key}": value for key, value in grid_part.items()})
                pieces.append(result)
            done += len(chunk["tp"])
            if progress is not None:
                progress(done, total)
    if not pieces:
        return total, {}
    merged = {key: np.concatenate([piece[key] for piece in pieces]) for key in pieces[0]}
    return total, merged


def _planned(results: dict[str, np.ndarray], index: int, gpus: Sequence[GPU], seq: int, global_batch: int, optimizer: str) -> PlannedLayout:
    grid = {key[5:]: value for key, value in results.items() if key.startswith("grid_")}
    return PlannedLayout(
        gpu=gpus[int(results["gpu_index"][index])].name,
        layout=_layout_at(grid, index, seq, global_batch, optimizer),
        memory_per_gpu_bytes=float(results["memory"][index]),
        step_time_s=float(results["step_time"][index]),
        mfu=float(results["mfu"][index]),
        days=float(results["days"][index]),
        cost_usd=float(results["cost"][index]),
        bubble_fraction=float(results["bubble"][index]),
        exposed_communication_s=float(results["exposed"][index]),
    )


def _runner_up(results: dict[str, np.ndarray], ranked: np.ndarray) -> int | None:
    """Return the best layout that differs from the winner in GPU type, GPU count, tp or pp.

    Layouts that only trade dp for cp or micro-batch size often tie with the winner, so they
    explain little about why it wins.
    """
    keys = ("gpu_index", "gpus", "grid_tp", "grid_pp")
    winner = ranked[0]
    differs = np.zeros(len(ranked), dtype=bool)
    for key in keys:
        differs |= results[key][ranked] != results[key][winner]
    others = np.flatnonzero(differs)
    return int(ranked[others[0]]) if len(others) else None


def _why_winner(best: PlannedLayout, runner_up: PlannedLayout | None, rank_by: str) -> list[str]:
    if runner_up is None:
        return [f"{best.describe()} is the only layout that fits and meets the limits"]
    if rank_by == "cost" and best.cost_usd == 0:
        # At $0 per GPU-hour every layout ties on cost, and the ranking falls back to wall-clock.
        lead = f"cheapest at $0 and the fastest of those: {best.days:.1f} days against {runner_up.days:.1f} for the best layout with another GPU count, tp or pp"
    elif rank_by == "cost":
        margin = runner_up.cost_usd / best.cost_usd - 1
        lead = f"cheapest: {format_usd(best.cost_usd)}, {margin:.2%} less than the best layout with another GPU count, tp or pp"
    else:
        margin = runner_up.days / best.days - 1
        lead = f"fastest: {best.days:.1f} days, {margin:.2%} sooner than the best layout with another GPU count, tp or pp"
    reasons = [f"{best.describe()} is the {lead}, {runner_up.describe()}"]
    reasons.append(
        f"its MFU is {best.mfu:.1%} against {runner_up.mfu:.1%}: pipeline bubble {best.bubble_fraction:.1%} against "
        f"{runner_up.bubble_fraction:.1%}, exposed communication {best.exposed_communication_s / best.step_time_s:.1%} "
        f"against {runner_up.exposed_communication_s / runner_up.step_time_s:.1%} of the step"
    )
    return reasons


def _rejections(
    results: dict[str, np.ndarray], order_key: np.ndarray, reasons: dict[str, np.ndarray], gpus: Sequence[GPU],
    seq: int, global_batch: int, optimizer: str, days: float | None, budget: float | None,
) -> list[str]:
    """Explain the best-ranked layout dropped for each limit alone (memory, days, budget)."""
    names = ("memory", "days", "budget")
    best = []
    for name in names:
        others = np.logical_and.reduce([reasons[other] for other in names if other != name])
        candidates = np.flatnonzero(~reasons[name] & others)
        if len(candidates):
            best.append(candidates[np.argmin(order_key[candidates])])
    lines = []
    for index in best:
        planned = _planned(results, int(index), gpus, seq, global_batch, optimizer)
        hbm = gpus[int(results["gpu_index"][index])].hbm_bytes
        if not reasons["memory"][index]:
            why = f"would cost {format_usd(planned.cost_usd)} in {planned.days:.1f} days but needs {format_bytes(planned.memory_per_gpu_bytes)} per GPU, more than {format_bytes(hbm)}"
        elif not reasons["days"][index]:
            why = f"would cost {format_usd(planned.cost_usd)} but takes {planned.days:.1f} days, more than --days {days:g}"
        else:
            why = f"would take {planned.days:.1f} days but costs {format_usd(planned.cost_usd)}, more than --budget {format_usd(budget or 0)}"
        lines.append(f"{planned.describe()} {why}")
    return lines


def plan_layouts(
    arch: ModelArch,
    gpus: Sequence[GPU],
    prices: Sequence[float],
    tokens: float,
    seq: int,
    global_batch: int,
    max_gpus: int,
    days: float | None = None,
    budget: float | None = None,
    rank_by: str = "cost",
    top: int = 10,
    optimizer: str = "adam",
    progress: Callable[[int, int], None] | None = None,
) -> Plan:
    """Return the `top` layouts that fit in memory and meet `days` and `budget`, best first.

    `global_batch` counts sequences of `seq` tokens. Raises PlanError naming the smallest change
    that would make a layout fit (more GPUs, a larger GPU) or meet a limit.
    """
    check_tokens_fill_a_step(tokens, global_batch * seq)
    if rank_by not in ("cost", "time"):
        raise OptionError(f"unknown ranking {rank_by!r}: use cost or time")
    for label, value in (("--max-gpus", max_gpus), ("--top", top), ("--global-batch", global_batch)):
        if value < 1:
            raise OptionError(f"invalid {label} {value}: must be 1 or more")
    for label, value in (("--days", days), ("--budget", budget)):
        if value is not None and not (value > 0 and math.isfinite(value)):
            raise OptionError(f"invalid {label} {value!r}: must be a positive number")

    evaluated, results = _search(arch, gpus, prices, tokens, seq, global_batch, max_gpus, optimizer, progress)
    if not results:
        raise PlanError(
            f"no layout of {arch.name} on at most {max_gpus:,} GPUs divides evenly with a global batch of {global_batch:,} sequences: "
            "use a global batch with more small factors (a power of two), or raise --max-gpus"
        )
    reasons = {
        "memory": results["fits"],
        "days": results["days"] <= days if days is not None else np.ones_like(results["fits"]),
        "budget": results["cost"] <= budget if budget is not None else np.ones_like(results["fits"]),
    }
    primary = results["cost"] if rank_by == "cost" else results["step_time"]
    secondary = results["step_time"] if rank_by == "cost" else results["cost"]
    feasible = np.flatnonzero(reasons["memory"] & reasons["days"] & reasons["budget"])

    if not len(feasible):
        raise PlanError(_smallest_change(arch, gpus, prices, tokens, seq, global_batch, max_gpus, optimizer, results, reasons, days, budget))

    # Ties (such as ZeRO 2 and 3 when communication hides behind compute) go to the lower stage.
    ranked = feasible[np.lexsort((results["grid_zero"][feasible], secondary[feasible], primary[feasible]))]
    order = ranked[:top]
    layouts = tuple(_planned(results, int(index), gpus, seq, global_batch, optimizer) for index in order)
    rival = _runner_up(results, ranked)
    runner_up = _planned(results, rival, gpus, seq, global_batch, optimizer) if rival is not None else None
    why = _why_winner(layouts[0], runner_up, rank_by)
    rejected = _rejections(results, primary, reasons, gpus, seq, global_batch, optimizer, days, budget)
    return Plan(
        evaluated=evaluated,
        feasible=len(feasible),
        layouts=layouts,
        why_winner=tuple(why),
        rejected=tuple(rejected),
        rank_by=rank_by,
    )


def _smallest_change(
    arch: ModelArch, gpus: Sequence[GPU], prices: Sequence[float], tokens: float, seq: int, global_batch: int,
    max_gpus: int, optimizer: str, results: dict[str, np.ndarray], reasons: dict[str, np.ndarray],
    days: float | None, budget: float | None,
) -> str:
    """Return the error message for a search with no feasible layout, naming the smallest change."""
    fits = reasons["memory"]
    if not fits.any():
        smallest = float(results["memory"].min())
        hint = f"use a GPU with at least {format_bytes(smallest)} of memory"
        scale = 2
        while scale <= MAX_GPU_SCALE:
            _, larger = _search(arch, gpus, prices, tokens, seq, global_batch, max_gpus * scale, optimizer, None)
            if larger and larger["fits"].any():
                needed = int(larger["gpus"][larger["fits"]].min())
                hint = f"raise --max-gpus to {needed:,}, or {hint}"
                break
            scale *= 2
        return (
            f"no layout of {arch.name} fits in memory on at most {max_gpus:,} × {'/'.join(g.name for g in gpus)}: "
            f"the leanest needs {format_bytes(smallest)} per GPU; {hint}, or shorten --seq"
        )
    if days is not None and not (fits & reasons["days"]).any():
        fastest = float(results["days"][fits].min())
        more_gpus = "raise --max-gpus"
        scale = 2
        while scale <= MAX_GPU_SCALE:
            _, larger = _search(arch, gpus, prices, tokens, seq, global_batch, max_gpus * scale, optimizer, None)
            in_time = larger["fits"] & (larger["days"] <= days) if larger else None
            if in_time is not None and in_time.any():
                more_gpus = f"raise --max-gpus to {int(larger['gpus'][in_time].min()):,}"
                break
            scale *= 2
        return (
            f"no layout that fits finishes within --days {days:g}: the fastest takes {fastest:.1f} days; "
            f"raise --days to {math.ceil(fastest)} or {more_gpus}"
        )
    meets_time = fits & reasons["days"]
    cheapest = float(results["cost"][meets_time].min())
    # Round the suggested budget up to three significant digits, so that the printed value is enough.
    step = 10 ** (math.floor(math.log10(cheapest)) - 2) if cheapest > 0 else 1
    enough = math.ceil(cheapest / step) * step
    return (
        f"no layout that fits{' within --days' if days is not None else ''} costs at most --budget {format_usd(budget or 0)}: "
        f"the cheapest costs {format_usd(cheapest)}; raise --budget to {format_usd(enough)}"
        + (" or relax --days" if days is not None else "")
    )
