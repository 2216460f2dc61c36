"""The roofline: ridge point, arithmetic intensity of prefill and decode, and which roof binds.

time = max(FLOP ÷ peak FLOP/s, bytes ÷ bandwidth); ridge = peak ÷ bandwidth (FLOP/byte).
Williams, Waterman and Patterson 2009, "Roofline: an insightful visual performance model".
"""

from __future__ import annotations

from dataclasses import dataclass

from .arch import ModelArch, MoE
from .derivation import Step, num
from .errors import OptionError
from .flops import count_flops
from .hardware import GPU
from .memory import cached_tokens, kv_cache_bytes
from .params import count_params, mlp_params

__all__ = ["Roofline", "RooflinePoint", "decode_point", "prefill_point", "analyze_roofline", "weights_read_bytes"]


@dataclass(frozen=True)
class RooflinePoint:
    """One forward step placed on the roofline."""

    phase: str
    batch: int
    tokens: int
    flop: float
    bytes: float
    compute_s: float
    memory_s: float

    @property
    def intensity_flop_per_byte(self) -> float:
        return self.flop / self.bytes

    @property
    def time_s(self) -> float:
        return max(self.compute_s, self.memory_s)

    @property
    def bound(self) -> str:
        return "compute" if self.compute_s >= self.memory_s else "memory"

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.time_s

    def to_dict(self) -> dict[str, object]:
        return {
            "phase": self.phase,
            "batch": self.batch,
            "tokens": self.tokens,
            "flop": self.flop,
            "bytes": self.bytes,
            "intensity_flop_per_byte": self.intensity_flop_per_byte,
            "bound": self.bound,
            "compute_s": self.compute_s,
            "memory_s": self.memory_s,
            "time_s": self.time_s,
            "tokens_per_s": self.tokens_per_s,
        }


def weights_read_bytes(arch: ModelArch, tokens: int, dtype_bytes: float = 2) -> float:
    """Return the weight bytes one forward step over `tokens` tokens reads from memory.

    Dense weights are read once. Each MoE block reads only the experts its tokens are routed
    to: E·(1 − (1 − k/E)^tokens) distinct experts in expectation, assuming uniform routing.
    """
    params = count_params(arch)
    unread = 0.0
    h = arch.hidden_size
    for layer in arch.layers:
        if isinstance(layer.mlp, MoE):
            moe = layer.mlp
            touched = moe.num_experts * (1 - (1 - moe.experts_per_token / moe.num_experts) ** tokens)
            unread += (moe.num_experts - touched) * mlp_params(moe.expert, h)
    return (params.total - unread) * dtype_bytes


def _point(phase: str, batch: int, tokens: int, flop: float, read: float, gpu: GPU) -> RooflinePoint:
    return RooflinePoint(
        phase=phase,
        batch=batch,
        tokens=tokens,
        flop=flop,
        bytes=read,
        compute_s=flop / gpu.bf16_flop_per_s,
        memory_s=read / gpu.hbm_bandwidth_bytes_per_s,
    )


def decode_point(arch: ModelArch, gpu: GPU, batch: int, context: int, weight_dtype_bytes: float = 2, kv_dtype_bytes: float = 2) -> RooflinePoint:
    """Return one decode step for `batch` requests, each with `context` tokens already cached.

    FLOP: every request's new token through all matmuls plus attention over its context.
    Bytes: the weights read once, plus every request's KV cache.
    """
    flops = count_flops(arch, 1)
    attention = sum(
        2 * layer.attention.num_heads * (layer.attention.qk_head_dim + layer.attention.value_head_dim) * cached_tokens(context, layer.sliding_window)
        for layer in arch.layers
    )
    flop = batch * (flops.matmul_flop_per_token + attention)
    read = weights_read_bytes(arch, batch, weight_dtype_bytes) + batch * kv_cache_bytes(arch, context, kv_dtype_bytes)
    return _point("decode", batch, batch, flop, read, gpu)


def prefill_point(arch: ModelArch, gpu: GPU, batch: int, prompt: int, weight_dtype_bytes: float = 2, kv_dtype_bytes: float = 2) -> RooflinePoint:
    """Return the prefill of `batch` prompts of `prompt` tokens under a causal mask.

    Bytes: the weights read once and the KV cache written; activations are assumed to stay on chip.
    """
    flops = count_flops(arch, prompt)
    tokens = batch * prompt
    flop = tokens * flops.forward_flop_per_token_causal
    read = weights_read_bytes(arch, tokens, weight_dtype_bytes) + batch * kv_cache_bytes(arch, prompt, kv_dtype_bytes)
    return _point("prefill", batch, tokens, flop, read, gpu)


@dataclass(frozen=True)
class Roofline:
    """A GPU's roofline with a model's decode and prefill steps at several batch sizes."""

    gpu: GPU
    context: int
    prompt: int
    decode: tuple[RooflinePoint, ...]
    prefill: tuple[RooflinePoint, ...]
    crossover_batch: int | None
    steps: tuple[Step, ...]

    @property
    def ridge_flop_per_byte(self) -> float:
        return self.gpu.ridge_flop_per_byte

    def to_dict(self) -> dict[str, object]:
        rows = []
        for decode, prefill in zip(self.decode, self.prefill):
            row = {"batch": decode.batch, **{k: v for k, v in decode.to_dict().items() if k not in ("phase", "batch")}}
            row["prefill"] = {k: v for k, v in prefill.to_dict().items() if k not in ("phase", "batch")}
            rows.append(row)
        return {
            "gpu": self.gpu.name,
            "peak_flop_per_s": self.gpu.bf16_flop_per_s,
            "hbm_bandwidth_bytes_per_s": self.gpu.hbm_bandwidth_bytes_per_s,
            "ridge_flop_per_byte": self.ridge_flop_per_byte,
            "context": self.context,
            "prompt": self.prompt,
            "decode_crossover_batch": self.crossover_batch,
            "rows": rows,
            "derivation": [step.to_dict() for step in self.steps],
        }


def _crossover_batch(arch: ModelArch, gpu: GPU, context: int, limit: int = 1 << 20) -> int | None:
    """Return the smallest decode batch whose step is compute-bound, or None below `limit`."""
    if decode_point(arch, gpu, limit, context).bound == "memory":
        return None
    low, high = 1, limit
    while low < high:
        middle = (low + high) // 2
        if decode_point(arch, gpu, middle, context).bound == "compute":
            high = middle
        else:
            low = middle + 1
    return low


def analyze_roofline(
    gpu: GPU, arch: ModelArch | None = None, batches: tuple[int, ...] = (1,), context: int = 0, prompt: int = 2048
) -> Roofline:
    """Place a model's decode and prefill steps on `gpu`'s roofline at each batch size.

    Decode steps read each request's `context` cached tokens. With context 0 they read only the
    weights, which gives the classic intensity of about B FLOP/byte at batch B in bf16. Prefill
    steps process `prompt` tokens per request.
    """
    if any(b < 1 for b in batches):
        raise OptionError(f"invalid batch sizes {list(batches)}: each must be 1 or more")
    ridge = gpu.ridge_flop_per_byte
    steps = [
        Step(
            "ridge",
            "peak FLOP/s ÷ bandwidth",
            f"{num(gpu.bf16_flop_per_s)} ÷ {num(gpu.hbm_bandwidth_bytes_per_s)}",
            f"{num(ridge)} FLOP/byte",
        )
    ]
    if arch is None:
        return Roofline(gpu, context, prompt, (), (), None, tuple(steps))
    if context < 0 or prompt < 1:
        raise OptionError(f"invalid context {context} or prompt {prompt}: context must be 0 or more, prompt 1 or more")
    decode = tuple(decode_point(arch, gpu, b, context) for b in batches)
    prefill = tuple(prefill_point(arch, gpu, b, prompt) for b in batches)
    crossover = _crossover_batch(arch, gpu, context)
    for point in decode:
        steps.append(
            Step(
                f"decode, batch {point.batch:,}, context {context:,}",
                "FLOP ÷ bytes (weights + KV of every request)" if context else "FLOP ÷ bytes (weights only)",
                f"{num(point.flop)} ÷ {num(point.bytes)}",
                f"{num(point.intensity_flop_per_byte)} FLOP/byte → {point.bound}-bound, {point.time_s * 1e3:.3g} ms/step",
            )
        )
    for point in prefill:
        steps.append(
            Step(
                f"prefill, batch {point.batch:,} × {prompt:,} tokens",
                "FLOP ÷ bytes",
                f"{num(point.flop)} ÷ {num(point.bytes)}",
                f"{num(point.intensity_flop_per_byte)} FLOP/byte → {point.bound}-bound",
            )
        )
    steps.append(
        Step(
            f"decode at context {context:,} turns compute-bound at",
            "smallest batch with FLOP ÷ peak ≥ bytes ÷ bandwidth",
            "",
            f"batch {crossover:,}" if crossover else "no batch (KV reads grow as fast as FLOPs)",
        )
    )
    return Roofline(gpu, context, prompt, decode, prefill, crossover, tuple(steps))
