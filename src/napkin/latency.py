"""Serving latency and cost on one tensor-parallel replica: TTFT, TPOT, tokens/s per GPU, $/1M tokens.

Each step takes max(FLOP ÷ (peak · compute efficiency), bytes ÷ (bandwidth · bandwidth
efficiency)) per GPU, plus the tensor-parallel all-reduces, which are assumed not to overlap
with compute. A decode step reads the weights once and every active request's KV cache
(`napkin.roofline.decode_point`); a prefill processes one whole prompt (`prefill_point`).

Assumptions: TTFT is one prompt's prefill with no queueing. TPOT is the decode step at the mean
context, prompt + output ÷ 2. A replica alternates between prefilling B prompts and decoding B
requests for `output` steps, so cost splits between input and output tokens by time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .arch import ModelArch
from .derivation import Step, num
from .errors import OptionError
from .hardware import GPU
from .kv import kv_dtype_bytes, kv_shards
from .memory import kv_cache_bytes
from .roofline import decode_point, prefill_point
from .units import format_usd
from .weights import ServingWeights

__all__ = ["EFFICIENCY_SOURCES", "LatencyRow", "LatencySettings", "StepTime", "decode_step", "latency_row", "prefill_step"]

EFFICIENCY_SOURCES = {
    "compute_efficiency": "1.0: the roofline's bound (Williams, Waterman and Patterson 2009); measured kernels reach less",
    "bandwidth_efficiency": "1.0: the roofline's bound (Williams, Waterman and Patterson 2009); measured kernels reach less",
    "all_reduce": "ring all-reduce, 2·(t − 1)/t · bytes over one direction of the GPU's scale-up link (catalog intra_node_bytes_per_s ÷ 2)",
}


@dataclass(frozen=True)
class LatencySettings:
    """Efficiency factors applied to the roofline; 1.0 is the hardware bound."""

    compute_efficiency: float = 1.0
    bandwidth_efficiency: float = 1.0

    def __post_init__(self) -> None:
        for label, value in (("--compute-efficiency", self.compute_efficiency), ("--bandwidth-efficiency", self.bandwidth_efficiency)):
            if not (0 < value <= 1):
                raise OptionError(f"invalid {label} {value!r}: must be above 0 and at most 1, e.g. 0.7")


@dataclass(frozen=True)
class StepTime:
    """One forward step on one GPU of a replica, by roof."""

    flop_per_gpu: float
    bytes_per_gpu: float
    compute_s: float
    memory_s: float
    all_reduce_s: float

    @property
    def time_s(self) -> float:
        return max(self.compute_s, self.memory_s) + self.all_reduce_s

    @property
    def bound(self) -> str:
        return "compute" if self.compute_s >= self.memory_s else "memory"


def _peak_flop_per_s(gpu: GPU, weights: ServingWeights) -> float:
    """Return the matmul peak: fp8 tensor cores for fp8 weights (W8A8), bf16 otherwise (weight-only int4/int8 dequantise to bf16)."""
    if weights.dtype == "fp8" and gpu.fp8_flop_per_s:
        return gpu.fp8_flop_per_s
    return gpu.bf16_flop_per_s


def _all_reduce_s(arch: ModelArch, gpu: GPU, tp: int, tokens: int) -> float:
    """Return the time of a step's all-reduces: 2 per block of tokens · h bf16 values, ring algorithm."""
    if tp == 1:
        return 0.0
    link = gpu.intra_node_bytes_per_s
    if not link:
        raise OptionError(f"{gpu.name} has no link bandwidth in the catalog, so tensor parallelism cannot be timed: use --tp 1")
    message = tokens * arch.hidden_size * 2
    return 2 * arch.num_layers * 2 * (tp - 1) / tp * message / (link / 2)


def _split_step(
    arch: ModelArch, gpu: GPU, point_flop: float, point_bytes: float, kv_bytes: float, tokens: int,
    tp: int, weights: ServingWeights, settings: LatencySettings,
) -> StepTime:
    # Each GPU reads its share of the touched weights (under expert parallelism, its experts).
    weight_read = (point_bytes - kv_bytes) * weights.per_gpu_bytes / weights.total_bytes
    flop = point_flop / tp
    read = weight_read + kv_bytes / kv_shards(arch, tp)
    return StepTime(
        flop_per_gpu=flop,
        bytes_per_gpu=read,
        compute_s=flop / (_peak_flop_per_s(gpu, weights) * settings.compute_efficiency),
        memory_s=read / (gpu.hbm_bandwidth_bytes_per_s * settings.bandwidth_efficiency),
        all_reduce_s=_all_reduce_s(arch, gpu, tp, tokens),
    )


def decode_step(
    arch: ModelArch, gpu: GPU, batch: int, context: int, tp: int, weights: ServingWeights, kv_dtype: str, settings: LatencySettings
) -> StepTime:
    """Return one decode step of `batch` requests at `context` cached tokens, per GPU of a tp-way replica."""
    element = kv_dtype_bytes(kv_dtype)
    point = decode_point(arch, gpu, batch, context, weights.bytes_per_param, element)
    kv = batch * kv_cache_bytes(arch, context, element)
    return _split_step(arch, gpu, point.flop, point.bytes, kv, batch, tp, weights, settings)


def prefill_step(
    arch: ModelArch, gpu: GPU, prompt: int, tp: int, weights: ServingWeights, kv_dtype: str, settings: LatencySettings
) -> StepTime:
    """Return the prefill of one prompt of `prompt` tokens, per GPU of a tp-way replica."""
    element = kv_dtype_bytes(kv_dtype)
    point = prefill_point(arch, gpu, 1, prompt, weights.bytes_per_param, element)
    kv = kv_cache_bytes(arch, prompt, element)
    return _split_step(arch, gpu, point.flop, point.bytes, kv, prompt, tp, weights, settings)


@dataclass(frozen=True)
class LatencyRow:
    """Latency, throughput and cost of one replica at one decode batch size."""

    batch: int
    ttft_s: float
    tpot_s: float
    tokens_per_s_per_gpu: float
    input_tokens_per_s_per_gpu: float
    bound: str
    usd_per_million_output_tokens: float | None
    usd_per_million_input_tokens: float | None
    decode: StepTime
    prefill: StepTime
    fits: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "batch": self.batch,
            "ttft_s": self.ttft_s,
            "tpot_s": self.tpot_s,
            "tokens_per_s_per_gpu": self.tokens_per_s_per_gpu,
            "input_tokens_per_s_per_gpu": self.input_tokens_per_s_per_gpu,
            "bound": self.bound,
            "usd_per_million_output_tokens": self.usd_per_million_output_tokens,
            "usd_per_million_input_tokens": self.usd_per_million_input_tokens,
            "decode_compute_s": self.decode.compute_s,
            "decode_memory_s": self.decode.memory_s,
            "decode_all_reduce_s": self.decode.all_reduce_s,
            "fits": self.fits,
        }


def latency_row(
    arch: ModelArch, gpu: GPU, batch: int, prompt: int, output: int, tp: int, weights: ServingWeights, kv_dtype: str,
    settings: LatencySettings, usd_per_gpu_hour: float | None, max_batch: int | None = None,
) -> LatencyRow:
    """Return TTFT, TPOT, output tokens/s per GPU and $/1M tokens for `batch` concurrent requests.

    A replica of tp GPUs spends B · prefill + output · TPOT per round of B requests, so output
    tokens/s per GPU = B · output ÷ round ÷ tp. $/1M output = $/h · tp · TPOT ÷ B ÷ 3,600 · 10^6,
    and $/1M input = $/h · tp · prefill ÷ prompt ÷ 3,600 · 10^6.
    """
    if batch < 1 or prompt < 1 or output < 1:
        raise OptionError(f"invalid batch {batch}, prompt {prompt} or output {output}: each must be 1 or more")
    prefill = prefill_step(arch, gpu, prompt, tp, weights, kv_dtype, settings)
    decode = decode_step(arch, gpu, batch, prompt + output // 2, tp, weights, kv_dtype, settings)
    round_s = batch * prefill.time_s + output * decode.time_s
    output_rate = batch * output / round_s / tp
    input_rate = batch * prompt / round_s / tp
    usd_output = usd_input = None
    if usd_per_gpu_hour is not None:
        usd_output = usd_per_gpu_hour * tp * decode.time_s / batch / 3600 * 1e6
        usd_input = usd_per_gpu_hour * tp * prefill.time_s / prompt / 3600 * 1e6
    fits = max_batch is None or batch <= max_batch
    return LatencyRow(batch, prefill.time_s, decode.time_s, output_rate, input_rate, decode.bound, usd_output, usd_input, decode, prefill, fits)


def crossover_batch(
    arch: ModelArch, gpu: GPU, context: int, tp: int, weights: ServingWeights, kv_dtype: str, settings: LatencySettings,
    limit: int = 1 << 16,
) -> int | None:
    """Return the smallest decode batch whose step is compute-bound at `context`, or None below `limit`."""
    if decode_step(arch, gpu, limit, context, tp, weights, kv_dtype, settings).bound == "memory":
        return None
    low, high = 1, limit
    while low < high:
        middle = (low + high) // 2
        if decode_step(arch, gpu, middle, context, tp, weights, kv_dtype, settings).bound == "compute":
            high = middle
        else:
            low = middle + 1
    return low


def latency_steps(row: LatencyRow, prompt: int, output: int, tp: int, usd_per_gpu_hour: float | None) -> list[Step]:
    """Return the derivation of one row's figures."""
    decode, prefill = row.decode, row.prefill
    steps = [
        Step(
            f"prefill, {prompt:,} tokens (TTFT)",
            "max(FLOP ÷ peak, bytes ÷ bandwidth) + all-reduce, per GPU",
            f"max({num(prefill.compute_s * 1e3)}, {num(prefill.memory_s * 1e3)}) + {num(prefill.all_reduce_s * 1e3)} ms",
            f"{row.ttft_s * 1e3:.3g} ms",
        ),
        Step(
            f"decode step, batch {row.batch:,}, context {prompt + output // 2:,} (TPOT)",
            "max(FLOP ÷ peak, (weights + batch · KV) ÷ bandwidth) + all-reduce, per GPU",
            f"max({num(decode.compute_s * 1e3)}, {num(decode.memory_s * 1e3)}) + {num(decode.all_reduce_s * 1e3)} ms",
            f"{row.tpot_s * 1e3:.3g} ms, {row.bound}-bound",
        ),
        Step(
            "output tokens/s per GPU",
            "B · output ÷ (B · TTFT + output · TPOT) ÷ tp",
            f"{row.batch} · {output} ÷ ({row.batch} · {num(row.ttft_s)} + {output} · {num(row.tpot_s)}) ÷ {tp}",
            f"{row.tokens_per_s_per_gpu:,.0f}",
        ),
    ]
    if usd_per_gpu_hour is not None and row.usd_per_million_output_tokens is not None:
        steps.append(
            Step(
                "$/1M output tokens",
                "$/GPU-hour · tp · TPOT ÷ B ÷ 3,600 · 10^6",
                f"{num(usd_per_gpu_hour)} · {tp} · {num(row.tpot_s)} ÷ {row.batch} ÷ 3,600 · 1e6",
                format_usd(row.usd_per_million_output_tokens),
            )
        )
    return steps


def requests_per_s(row: LatencyRow, output: int, tp: int) -> float:
    """Return the requests per second one replica completes: B ÷ (B · TTFT + output · TPOT)."""
    return row.tokens_per_s_per_gpu * tp / output


def ceil_replicas(qps: float, per_replica: float) -> int:
    """Return the replicas a request rate needs: ⌈qps ÷ requests/s per replica⌉."""
    return max(1, math.ceil(qps / per_replica - 1e-9))
