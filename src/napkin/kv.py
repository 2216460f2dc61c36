"""KV-cache sizes and capacity: bytes per token and per request, requests that fit, GPUs needed.

Under tensor parallelism of size t, each GPU keeps a_kv ÷ t of the key/value heads. When t
exceeds a_kv, heads are replicated so that each GPU keeps one. Either t divides a_kv or a_kv
divides t, as vLLM's QKVParallelLinear requires (vllm/model_executor/layers/linear.py), so
the split is even. An MLA latent is shared by all heads, so every GPU keeps all of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .arch import ModelArch
from .derivation import Step, num
from .errors import OptionError
from .hardware import GPU
from .memory import (
    DTYPE_BYTES,
    INT4_GROUP_SIZE,
    cached_tokens,
    kv_cache_bytes,
    kv_cache_bytes_per_token,
    kv_cache_bytes_per_token_per_layer,
    weight_bytes,
)
from .params import count_params
from .units import format_bytes

__all__ = [
    "KVCapacity",
    "KVSize",
    "check_tensor_parallel",
    "fewest_tensor_parallel_gpus",
    "kv_capacity",
    "kv_dtype_bytes",
    "kv_per_token_step",
    "kv_shards",
    "kv_size",
    "tensor_parallel_sizes",
]


def kv_dtype_bytes(kv_dtype: str) -> float:
    """Return the bytes per element of a KV-cache type name."""
    if kv_dtype not in DTYPE_BYTES or kv_dtype == "int4":
        raise OptionError(f"unknown KV-cache type {kv_dtype!r}: use bf16, fp16, fp8, int8 or fp32")
    return DTYPE_BYTES[kv_dtype]


def kv_shards(arch: ModelArch, gpus: int) -> int:
    """Return how many ways tensor parallelism over `gpus` splits the KV cache: min(t, a_kv), or 1 for MLA."""
    att = arch.attention
    if att.kind == "mla":
        return 1
    return min(gpus, att.num_kv_heads)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def tensor_parallel_sizes(arch: ModelArch) -> list[int]:
    """Return the GPU counts tensor parallelism can use: divisors t of the attention heads with
    t dividing the KV heads or the KV heads dividing t (any divisor for MLA)."""
    att = arch.attention
    sizes = []
    for size in _divisors(att.num_heads):
        if att.kind == "mla" or att.num_kv_heads % size == 0 or size % att.num_kv_heads == 0:
            sizes.append(size)
    return sizes


def check_tensor_parallel(arch: ModelArch, gpus: int) -> None:
    """Raise unless tensor parallelism can split `arch` over `gpus` GPUs evenly."""
    if not (isinstance(gpus, int) and gpus >= 1):
        raise OptionError(f"invalid GPU count {gpus!r}: must be a whole number, 1 or more")
    sizes = tensor_parallel_sizes(arch)
    if gpus not in sizes:
        att = arch.attention
        larger = [size for size in sizes if size > gpus]
        suggestion = f"such as {larger[0]}" if larger else f"(at most {sizes[-1]})"
        raise OptionError(
            f"--gpus {gpus} cannot split the {att.num_heads} attention heads and {att.num_kv_heads} KV heads "
            f"of {arch.name} evenly (tensor parallelism): use one of {', '.join(map(str, sizes))} {suggestion}"
        )


def fewest_tensor_parallel_gpus(
    arch: ModelArch, gpu: GPU, weights_bytes: float, kv_bytes: float, activation_bytes: float = 0.0
) -> int | None:
    """Return the fewest GPUs that tensor parallelism can use and whose memory each has room for its share.

    Per GPU: weights ÷ t + KV ÷ kv_shards(t) + activations ÷ t. None when no tensor-parallel
    size fits, which leaves pipeline parallelism or GPUs with more memory.
    """
    for size in tensor_parallel_sizes(arch):
        per_gpu = weights_bytes / size + kv_bytes / kv_shards(arch, size) + activation_bytes / size
        if per_gpu <= gpu.hbm_bytes:
            return size
    return None


@dataclass(frozen=True)
class KVSize:
    """KV bytes per token and per request of one model at one context."""

    context: int
    kv_dtype: str
    kv_cache_bytes_per_token: float
    kv_cache_bytes_per_request: float
    steps: tuple[Step, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "context": self.context,
            "kv_dtype": self.kv_dtype,
            "kv_cache_bytes_per_token": self.kv_cache_bytes_per_token,
            "kv_cache_bytes_per_request": self.kv_cache_bytes_per_request,
            "derivation": [step.to_dict() for step in self.steps],
        }


def kv_per_token_step(arch: ModelArch, kv_dtype: str) -> Step:
    """Return the derivation of KV bytes per token: 2·L·a_kv·d·bytes, or L·(r_kv + d_rope)·bytes for MLA."""
    element = kv_dtype_bytes(kv_dtype)
    att = arch.attention
    if att.kind == "mla":
        formula = "L · (r_kv + d_rope) · bytes"
        numbers = f"{arch.num_layers} · ({att.kv_lora_rank} + {att.qk_rope_head_dim}) · {element:g}"
    else:
        formula = "2 · L · a_kv · d · bytes"
        numbers = f"2 · {arch.num_layers} · {att.num_kv_heads} · {att.head_dim} · {element:g}"
    per_token = kv_cache_bytes_per_token(arch, element)
    return Step(f"KV cache/token ({kv_dtype})", formula, numbers, f"{per_token:,.0f} bytes")


def kv_size(arch: ModelArch, context: int, kv_dtype: str = "bf16", binary: bool = False) -> KVSize:
    """Return KV bytes per token (every layer) and per request of `context` tokens (windows capped)."""
    if not (isinstance(context, int) and context >= 1):
        raise OptionError(f"invalid context {context!r}: must be a whole number of tokens, 1 or more")
    element = kv_dtype_bytes(kv_dtype)
    per_token = kv_cache_bytes_per_token(arch, element)
    per_request = kv_cache_bytes(arch, context, element)

    if any(layer.sliding_window and layer.sliding_window <= context for layer in arch.layers):
        groups: dict[tuple[float, int], int] = {}
        for layer in arch.layers:
            key = (kv_cache_bytes_per_token_per_layer(layer, element), cached_tokens(context, layer.sliding_window))
            groups[key] = groups.get(key, 0) + 1
        request_formula = "Σ_layers bytes/token/layer · min(context, window − 1)"
        request_numbers = " + ".join(f"{count} · {size:,.0f} · {tokens:,}" for (size, tokens), count in groups.items())
    else:
        request_formula, request_numbers = "bytes/token · context", f"{per_token:,.0f} · {context:,}"
    steps = (
        kv_per_token_step(arch, kv_dtype),
        Step("KV cache/request", request_formula, request_numbers, format_bytes(per_request, binary)),
    )
    return KVSize(context, kv_dtype, per_token, per_request, steps)


@dataclass(frozen=True)
class KVCapacity:
    """How many requests of a given context fit in the memory left after the weights."""

    size: KVSize
    gpus: int
    gpu: GPU
    weights_dtype: str
    weights_bytes: float
    free_bytes_per_gpu: float
    kv_cache_bytes_per_request_per_gpu: float
    max_requests: int
    steps: tuple[Step, ...]
    requests: int | None = None
    min_gpus_for_requests: int | None = None

    @property
    def context(self) -> int:
        return self.size.context

    @property
    def kv_cache_bytes_per_token(self) -> float:
        return self.size.kv_cache_bytes_per_token

    @property
    def kv_cache_bytes_per_request(self) -> float:
        return self.size.kv_cache_bytes_per_request

    @property
    def free_bytes(self) -> float:
        """Memory left for KV on all GPUs together (negative when the weights do not fit)."""
        return self.free_bytes_per_gpu * self.gpus

    def to_dict(self) -> dict[str, object]:
        return {
            "gpu": self.gpu.name,
            "gpus": self.gpus,
            "context": self.size.context,
            "weights_dtype": self.weights_dtype,
            "kv_dtype": self.size.kv_dtype,
            "hbm_bytes_total": self.gpu.hbm_bytes * self.gpus,
            "weights_bytes": self.weights_bytes,
            "free_bytes": self.free_bytes,
            "kv_cache_bytes_per_token": self.size.kv_cache_bytes_per_token,
            "kv_cache_bytes_per_request": self.size.kv_cache_bytes_per_request,
            "kv_cache_bytes_per_request_per_gpu": self.kv_cache_bytes_per_request_per_gpu,
            "max_requests": self.max_requests,
            "weights_fit": self.free_bytes >= 0,
            "requests": self.requests,
            "min_gpus_for_requests": self.min_gpus_for_requests,
            "derivation": [step.to_dict() for step in self.steps],
        }


def kv_capacity(
    arch: ModelArch,
    gpu: GPU,
    context: int,
    *,
    gpus: int = 1,
    weights_dtype: str = "bf16",
    kv_dtype: str = "bf16",
    requests: int | None = None,
    int4_group_size: int = INT4_GROUP_SIZE,
    binary: bool = False,
) -> KVCapacity:
    """Return the KV sizes and the requests that fit beside the weights on `gpus` GPUs.

    With tensor parallelism over `gpus`, each GPU keeps weights ÷ t and KV ÷ kv_shards(t), so
    max requests = ⌊(HBM − weights ÷ t) ÷ (KV/request ÷ kv_shards(t))⌋. With `requests`, also
    the fewest tensor-parallel GPUs that hold that many requests. Both ignore activations and
    framework overhead, which a serving engine subtracts first.
    """
    check_tensor_parallel(arch, gpus)
    if requests is not None and requests < 1:
        raise OptionError(f"invalid request count {requests}: must be 1 or more")
    size = kv_size(arch, context, kv_dtype, binary)
    fmt = lambda value: format_bytes(value, binary)  # noqa: E731

    # 1. Weights and the memory left beside them on each GPU.
    params = count_params(arch).total
    weights = weight_bytes(params, weights_dtype, int4_group_size)
    free_per_gpu = gpu.hbm_bytes - weights / gpus

    # 2. Each GPU's share of one request's KV, and how many requests fit.
    shards = kv_shards(arch, gpus)
    per_request_per_gpu = size.kv_cache_bytes_per_request / shards
    fitting = max(0, math.floor(free_per_gpu / per_request_per_gpu)) if per_request_per_gpu > 0 else 0

    steps = list(size.steps)
    steps += [
        Step(f"weights ({weights_dtype})", "N · bytes", f"{num(params)} · {weight_bytes(1, weights_dtype, int4_group_size):.4g}", fmt(weights)),
        Step("free for KV per GPU", "HBM − weights ÷ GPUs", f"{num(gpu.hbm_bytes)} − {num(weights)} ÷ {gpus}", fmt(free_per_gpu)),
    ]
    if shards != gpus:
        reason = "the MLA latent is kept whole on every GPU" if arch.attention.kind == "mla" else (
            f"{arch.attention.num_kv_heads} KV heads are replicated over {gpus} GPUs"
        )
        steps.append(Step("KV/request per GPU", f"KV/request ÷ {shards} ({reason})", "", fmt(per_request_per_gpu)))
    if free_per_gpu < 0:
        steps.append(Step("max requests", "weights alone do not fit", f"short by {fmt(-free_per_gpu * gpus)}", "0 (add GPUs or quantise the weights)"))
    else:
        steps.append(
            Step("max requests", "⌊free per GPU ÷ KV/request per GPU⌋", f"⌊{num(free_per_gpu)} ÷ {num(per_request_per_gpu)}⌋", f"{fitting:,}")
        )

    # 3. With a request count: the fewest tensor-parallel GPUs that hold it.
    needed = None
    if requests is not None:
        needed = fewest_tensor_parallel_gpus(arch, gpu, weights, requests * size.kv_cache_bytes_per_request)
        steps.append(
            Step(
                f"GPUs for {requests:,} requests",
                "smallest tensor-parallel t with weights ÷ t + requests · KV/request ÷ kv_shards(t) ≤ HBM",
                f"t in {', '.join(map(str, tensor_parallel_sizes(arch)))}",
                f"{needed:,} × {gpu.name}" if needed else "none: needs pipeline parallelism or GPUs with more memory",
            )
        )
    return KVCapacity(
        size=size,
        gpus=gpus,
        gpu=gpu,
        weights_dtype=weights_dtype,
        weights_bytes=weights,
        free_bytes_per_gpu=free_per_gpu,
        kv_cache_bytes_per_request_per_gpu=per_request_per_gpu,
        max_requests=fitting,
        steps=tuple(steps),
        requests=requests,
        min_gpus_for_requests=needed,
    )
