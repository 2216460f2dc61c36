"""The latency table of `napkin latency`: one replica's TTFT, TPOT, tokens/s and $/1M tokens at several batch sizes.

The command line and the web API both build their output from `latency_table`, so their keys
and figures are the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .arch import ModelArch
from .derivation import Step
from .engine import EngineSettings
from .hardware import GPU
from .latency import EFFICIENCY_SOURCES, LatencyRow, LatencySettings, crossover_batch, latency_row, latency_steps
from .memory import INT4_GROUP_SIZE
from .serve import ServeSize, serve_size

__all__ = ["LatencyTable", "latency_table"]


@dataclass(frozen=True)
class LatencyTable:
    """Latency rows of one replica, with the KV capacity (as the engine counts it) that marks rows as fitting."""

    model: str
    gpu: GPU
    size: ServeSize
    prompt: int
    output: int
    weights_dtype: str
    kv_dtype: str
    usd_per_gpu_hour: float | None
    settings: LatencySettings
    decode_crossover_batch: int | None
    max_batch: int
    rows: tuple[LatencyRow, ...]
    steps: tuple[Step, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "gpu": self.gpu.name,
            "gpus": self.size.gpus,
            "tp": self.size.tp,
            "prompt": self.prompt,
            "output": self.output,
            "weights_dtype": self.weights_dtype,
            "kv_dtype": self.kv_dtype,
            "usd_per_gpu_hour": self.usd_per_gpu_hour,
            "compute_efficiency": self.settings.compute_efficiency,
            "bandwidth_efficiency": self.settings.bandwidth_efficiency,
            "decode_crossover_batch": self.decode_crossover_batch,
            "max_batch": self.max_batch,
            "rows": [row.to_dict() for row in self.rows],
            "sources": EFFICIENCY_SOURCES,
            "derivation": [step.to_dict() for step in self.steps],
        }


def latency_table(
    arch: ModelArch,
    gpu: GPU,
    batches: Sequence[int],
    prompt: int,
    output: int,
    usd_per_gpu_hour: float | None,
    engine: EngineSettings,
    settings: LatencySettings,
    *,
    gpus: int = 1,
    tp: int | None = None,
    ep: int = 1,
    weights_dtype: str = "bf16",
    kv_dtype: str = "bf16",
    int4_group_size: int = INT4_GROUP_SIZE,
    kv_context: int | None = None,
) -> LatencyTable:
    """Return a latency row per batch size, the batch where decode turns compute-bound, and the KV-cache batch limit.

    The KV cache stores requests of `kv_context` tokens (default prompt + output), which sets the
    batch limit. The derivation is the first row's. `usd_per_gpu_hour` None leaves the $/1M
    columns empty.
    """
    total = prompt + output if kv_context is None else kv_context
    size = serve_size(arch, gpu, total, engine, gpus=gpus, tp=tp, ep=ep, weights_dtype=weights_dtype, kv_dtype=kv_dtype,
                      int4_group_size=int4_group_size)
    weights = size.budget.weights
    max_batch = int(size.max_concurrency)
    rows = tuple(
        latency_row(arch, gpu, batch, prompt, output, size.tp, weights, kv_dtype, settings, usd_per_gpu_hour, max_batch)
        for batch in batches
    )
    mean_context = prompt + output // 2
    crossover = crossover_batch(arch, gpu, mean_context, size.tp, weights, kv_dtype, settings)
    steps = list(latency_steps(rows[0], prompt, output, size.tp, usd_per_gpu_hour))
    steps.append(
        Step(
            "decode turns compute-bound at",
            "smallest batch with FLOP ÷ peak ≥ bytes ÷ bandwidth",
            f"context {mean_context:,}",
            f"batch {crossover:,}" if crossover else "no batch (KV reads grow as fast as FLOPs)",
        )
    )
    steps.append(Step("max batch in the KV cache", f"{size.budget.engine} accounting at {total:,} tokens", "", f"{max_batch:,}"))
    return LatencyTable(arch.name, gpu, size, prompt, output, weights_dtype, kv_dtype, usd_per_gpu_hour, settings, crossover,
                        max_batch, rows, tuple(steps))
