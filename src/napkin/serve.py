"""Serving capacity and its inverse questions: concurrency at a context, longest context, GPUs for a request rate.

One replica is `tp` tensor-parallel GPUs (optionally with `ep`-way expert parallelism); `gpus`
GPUs make gpus ÷ tp replicas. KV capacity comes from `napkin.engine.kv_budget`. A request of
c tokens takes ⌈cached tokens ÷ block⌉ blocks in every layer, and a sliding-window layer caches
at most w − 1 tokens (`napkin.memory.cached_tokens`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from .arch import ModelArch
from .derivation import Step, num
from .engine import EngineSettings, KVBudget, kv_budget
from .errors import OptionError
from .hardware import GPU
from .kv import kv_dtype_bytes, kv_shards, tensor_parallel_sizes
from .latency import LatencySettings, ceil_replicas, latency_row, requests_per_s
from .memory import INT4_GROUP_SIZE, cached_tokens, kv_cache_bytes_per_token_per_layer
from .units import format_bytes

__all__ = ["FleetOption", "ServeSize", "cheapest_fleet", "request_kv_bytes_per_gpu", "serve_size"]


def request_kv_bytes_per_gpu(arch: ModelArch, context: int, kv_dtype: str, tp: int, block_size: int) -> float:
    """Return one request's KV bytes on each GPU, in whole blocks: Σ_layers bytes/token · ⌈cached ÷ block⌉ · block ÷ shards."""
    element = kv_dtype_bytes(kv_dtype)
    total = 0.0
    for layer in arch.layers:
        tokens = cached_tokens(context, layer.sliding_window)
        total += kv_cache_bytes_per_token_per_layer(layer, element) * math.ceil(tokens / block_size) * block_size
    return total / kv_shards(arch, tp)


def _longest_context(arch: ModelArch, budget: KVBudget, batch: int, limit: int) -> int:
    """Return the longest context, at most `limit`, of which `batch` requests fit in the KV blocks."""
    room = budget.gpu_blocks * budget.block_bytes_per_gpu
    fits = lambda c: batch * request_kv_bytes_per_gpu(arch, c, budget.kv_dtype, budget.tp, budget.block_size) <= room  # noqa: E731
    if not fits(1):
        return 0
    low, high = 1, limit
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


@dataclass(frozen=True)
class ServeSize:
    """Weights, KV budget and capacity of one replica at one context."""

    model: str
    budget: KVBudget
    gpus: int
    tp: int
    ep: int
    context: int
    kv_bytes_per_request_per_gpu: float
    max_concurrency: float
    batch: int
    max_context_tokens: int
    max_context_binding: str
    steps: tuple[Step, ...]
    options: tuple[FleetOption, ...] = field(default_factory=tuple)

    @property
    def replicas(self) -> int:
        return self.gpus // self.tp

    @property
    def fits(self) -> bool:
        return self.max_concurrency >= 1

    def to_dict(self) -> dict[str, object]:
        budget = self.budget
        payload: dict[str, object] = {
            "model": self.model,
            "gpu": budget.gpu.name,
            "engine": budget.engine,
            "gpus": self.gpus,
            "tp": self.tp,
            "ep": self.ep,
            "replicas": self.replicas,
            "context": self.context,
            "weights_dtype": budget.weights.dtype,
            "kv_dtype": budget.kv_dtype,
            "gpu_total_bytes": budget.gpu_total_bytes,
            "gpu_memory_utilization": budget.gpu_memory_utilization,
            "weights_bytes_per_gpu": budget.weights.per_gpu_bytes,
            "activation_peak_bytes": budget.activation_peak_bytes,
            "non_torch_bytes": budget.non_torch_bytes,
            "cuda_graph_bytes": budget.cuda_graph_bytes,
            "kv_cache_bytes_per_gpu": budget.kv_cache_bytes_per_gpu,
            "kv_cache_bytes_per_token_per_gpu": budget.kv_bytes_per_token_per_gpu,
            "block_size": budget.block_size,
            "gpu_blocks": budget.gpu_blocks,
            "kv_cache_tokens": budget.kv_cache_tokens,
            "kv_cache_bytes_per_request_per_gpu": self.kv_bytes_per_request_per_gpu,
            "max_concurrency": self.max_concurrency,
            "max_requests": math.floor(self.max_concurrency),
            "max_requests_all_replicas": math.floor(self.max_concurrency) * self.replicas,
            "batch": self.batch,
            "max_context_tokens": self.max_context_tokens,
            "max_context_binding": self.max_context_binding,
            "fits": self.fits,
            "sources": budget.sources,
            "derivation": [step.to_dict() for step in self.steps],
        }
        if self.options:
            payload["options"] = [option.to_dict() for option in self.options]
        return payload


def _short_by_message(arch: ModelArch, gpu: GPU, budget: KVBudget, context: int, gpus: int, fixes: list[str]) -> str:
    need = budget.weights.per_gpu_bytes
    usable = budget.requested_bytes - budget.activation_peak_bytes - budget.non_torch_bytes - budget.cuda_graph_bytes
    if budget.kv_cache_bytes_per_gpu <= 0:
        what = (
            f"{budget.weights.dtype} weights need {format_bytes(need, True)} per GPU, and {format_bytes(usable, True)} "
            f"is left after the engine's overheads (short by {format_bytes(need - usable, True)})"
        )
    else:
        what = f"one request of {context:,} tokens needs more KV than the {budget.kv_cache_tokens:,} tokens that fit"
    change = "; ".join(fixes) if fixes else "no tensor-parallel size on one node fits: use GPUs with more memory"
    return f"{arch.name} does not fit on {gpus} × {gpu.name}: {what}. Smallest changes that fit: {change}"


def serve_size(
    arch: ModelArch,
    gpu: GPU,
    context: int,
    settings: EngineSettings,
    *,
    gpus: int = 1,
    tp: int | None = None,
    ep: int = 1,
    weights_dtype: str = "bf16",
    kv_dtype: str = "bf16",
    batch: int = 1,
    context_limit: int | None = None,
    int4_group_size: int = INT4_GROUP_SIZE,
    binary: bool = False,
    raise_if_short: bool = True,
) -> ServeSize:
    """Return weights per GPU, the KV budget and blocks, max concurrency at `context`, and the longest context at `batch`.

    `context_limit` caps the longest context (the model's maximum positions unless the caller
    allows more). With `raise_if_short`, a model that cannot hold one request raises an
    `OptionError` that names the shortfall and the smallest changes that fit.
    """
    tp = gpus if tp is None else tp
    if tp < 1 or gpus < 1 or batch < 1 or context < 1:
        raise OptionError(f"invalid --gpus {gpus}, --tp {tp}, --batch {batch} or context {context}: each must be 1 or more")
    if tp > gpus:
        raise OptionError(f"--tp {tp} is larger than --gpus {gpus}: give at least {tp} GPUs or lower --tp")
    if gpus % tp:
        raise OptionError(f"--gpus {gpus} is not a multiple of --tp {tp}: replicas need whole groups of {tp} GPUs")
    if ep > gpus:
        raise OptionError(f"--ep {ep} is larger than --gpus {gpus}: expert parallelism spreads experts over the GPUs given")
    if ep > 1 and ep % tp:
        # vLLM's --enable-expert-parallel sets the EP size to tp × dp, so the expert groups span
        # whole replicas (https://docs.vllm.ai/en/v0.10.1.1/serving/expert_parallel_deployment.html).
        raise OptionError(
            f"--ep {ep} is not a multiple of --tp {tp}: expert parallelism spans whole tensor-parallel groups, "
            f"so use --ep {tp} or a multiple of it up to --gpus {gpus}"
        )
    sizes = tensor_parallel_sizes(arch)
    if tp not in sizes:
        att = arch.attention
        raise OptionError(
            f"--tp {tp} cannot split the {att.num_heads} attention heads and {att.num_kv_heads} KV heads of {arch.name} evenly: "
            f"use one of {', '.join(map(str, sizes))}"
        )
    budget = kv_budget(arch, gpu, settings, tp=tp, ep=ep, weights_dtype=weights_dtype, kv_dtype=kv_dtype, int4_group_size=int4_group_size, binary=binary)
    per_request = request_kv_bytes_per_gpu(arch, context, kv_dtype, tp, budget.block_size)
    room = budget.gpu_blocks * budget.block_bytes_per_gpu
    concurrency = room / per_request if per_request > 0 else math.inf

    limit = context_limit or arch.max_position_embeddings or context
    longest = _longest_context(arch, budget, batch, limit)
    binding = "KV cache memory" if longest < limit else f"the model's maximum positions ({limit:,})"

    if raise_if_short and concurrency < 1:
        fixes = _fixes(arch, gpu, context, settings, gpus=gpus, tp=tp, ep=ep, weights_dtype=weights_dtype, kv_dtype=kv_dtype, budget=budget, longest=longest)
        raise OptionError(_short_by_message(arch, gpu, budget, context, gpus, fixes))

    fmt = lambda value: format_bytes(value, binary)  # noqa: E731
    steps = list(budget.steps)
    steps += [
        Step(
            f"KV per request of {context:,} tokens, per GPU",
            "Σ_layers bytes/token · ⌈cached tokens ÷ block⌉ · block ÷ KV shards",
            f"shards {kv_shards(arch, tp)}, block {budget.block_size}",
            fmt(per_request),
        ),
        Step("max concurrency", "blocks · block bytes ÷ KV per request", f"{num(room)} ÷ {num(per_request)}", f"{concurrency:,.2f}×"),
        Step(f"longest context at batch {batch:,}", "largest c with batch · KV(c) ≤ KV blocks", "", f"{longest:,} tokens (bound by {binding})"),
    ]
    if gpus > tp:
        steps.append(Step("replicas", "GPUs ÷ tp", f"{gpus} ÷ {tp}", f"{gpus // tp} replicas, {math.floor(concurrency) * (gpus // tp):,} requests"))
    return ServeSize(arch.name, budget, gpus, tp, ep, context, per_request, concurrency, batch, longest, binding, tuple(steps))


def _fixes(
    arch: ModelArch, gpu: GPU, context: int, settings: EngineSettings, *, gpus: int, tp: int, ep: int,
    weights_dtype: str, kv_dtype: str, budget: KVBudget, longest: int,
) -> list[str]:
    """Return the smallest single changes under which one request of `context` tokens fits."""

    def fits(engine: EngineSettings = settings, **changes: object) -> bool:
        values = {"gpus": gpus, "tp": tp, "ep": ep, "weights_dtype": weights_dtype, "kv_dtype": kv_dtype, **changes}
        try:
            size = serve_size(arch, gpu, context, engine, raise_if_short=False, **values)  # type: ignore[arg-type]
        except OptionError:
            return False
        return size.fits

    fixes = []
    for size in tensor_parallel_sizes(arch):
        if size > tp and size <= max(gpu.gpus_per_node, 8) and fits(gpus=size, tp=size):
            fixes.append(f"--gpus {size} --tp {size}")
            break
    for dtype in ("fp8", "int4"):
        if weights_dtype in ("bf16", "fp16") and fits(weights_dtype=dtype):
            fixes.append(f"--weights-dtype {dtype}")
            break
    if kv_dtype in ("bf16", "fp16") and budget.kv_cache_bytes_per_gpu > 0 and fits(kv_dtype="fp8"):
        fixes.append("--kv-dtype fp8")
    if budget.kv_cache_bytes_per_gpu > 0 and longest >= 1:
        fixes.append(f"a context of at most {longest:,} tokens")
    fixes += _engine_fixes(settings, budget, fits)
    return fixes


# An engine setting changed from its default, and the option that sets it.
_ENGINE_OPTIONS = {
    "gpu_total_bytes": "--gpu-total", "block_size": "--block-size", "max_num_batched_tokens": "--max-num-batched-tokens", "max_num_seqs": "--max-num-seqs",
    "non_torch_bytes": "--non-torch-memory", "activation_peak_bytes": "--activation-peak", "cuda_graph_bytes": "--cuda-graph-memory",
}


def _engine_fixes(settings: EngineSettings, budget: KVBudget, fits: Callable[..., bool]) -> list[str]:
    """Return the engine settings whose default, or a higher --gpu-memory-utilization, would fit."""
    fixes = []
    if settings.kv_cache_memory_bytes is None and budget.gpu_memory_utilization < 1:
        for step in range(math.ceil(budget.gpu_memory_utilization * 100) + 1, 101):
            if fits(dataclasses.replace(settings, gpu_memory_utilization=step / 100)):
                fixes.append(f"--gpu-memory-utilization {step / 100:g}")
                break
    defaults = EngineSettings(engine=settings.engine)
    for name, option in _ENGINE_OPTIONS.items():
        default = getattr(defaults, name)
        if getattr(settings, name) != default and fits(dataclasses.replace(settings, **{name: default})):
            fixes.append(f"{option} {default:g}" if isinstance(default, int) else f"drop {option}")
    return fixes


@dataclass(frozen=True)
class FleetOption:
    """The cheapest layout of one GPU type that serves a request rate at a TPOT target."""

    gpu: str
    gpus: int
    tp: int
    replicas: int
    batch: int
    binding: str
    tpot_s: float
    usd_per_hour: float

    def to_dict(self) -> dict[str, object]:
        return {
            "gpu": self.gpu,
            "gpus": self.gpus,
            "tp": self.tp,
            "replicas": self.replicas,
            "batch": self.batch,
            "binding": self.binding,
            "tpot_s": self.tpot_s,
            "usd_per_hour": self.usd_per_hour,
        }


def _fleet_for_tp(
    arch: ModelArch, gpu: GPU, tp: int, qps: float, tpot_target_s: float, prompt: int, output: int, settings: EngineSettings,
    latency: LatencySettings, weights_dtype: str, kv_dtype: str, price: float,
) -> FleetOption | None:
    """Return the fleet of tp-way replicas for `qps`, or None when no batch meets the target or fits."""
    size = serve_size(arch, gpu, prompt + output, settings, gpus=tp, tp=tp, weights_dtype=weights_dtype, kv_dtype=kv_dtype, raise_if_short=False)
    max_batch = math.floor(size.max_concurrency)
    if max_batch < 1:
        return None
    weights = size.budget.weights

    def row(batch: int):
        return latency_row(arch, gpu, batch, prompt, output, tp, weights, kv_dtype, latency, price)

    if row(1).tpot_s > tpot_target_s:
        return None
    low, high = 1, max_batch
    while low < high:
        middle = (low + high + 1) // 2
        if row(middle).tpot_s <= tpot_target_s:
            low = middle
        else:
            high = middle - 1
    best = row(low)
    replicas = ceil_replicas(qps, requests_per_s(best, output, tp))
    binding = "KV cache memory" if low == max_batch else "TPOT target"
    return FleetOption(gpu.name, replicas * tp, tp, replicas, low, binding, best.tpot_s, replicas * tp * price)


def cheapest_fleet(
    arch: ModelArch,
    gpus: list[GPU],
    qps: float,
    tpot_target_s: float,
    settings: EngineSettings,
    *,
    prompt: int = 2048,
    output: int = 512,
    latency: LatencySettings | None = None,
    weights_dtype: str = "bf16",
    kv_dtype: str = "bf16",
) -> tuple[FleetOption, ...]:
    """Return, per GPU type, the cheapest fleet that serves `qps` requests/s at TPOT ≤ target, cheapest first.

    For each tensor-parallel size on one node, the batch is the largest that meets the TPOT
    target and fits the KV cache. Replicas = ⌈qps ÷ requests/s per replica⌉; a replica completes
    B ÷ (B · TTFT + output · TPOT) requests per second. GPU types without a price, or on which
    no layout meets the target, are left out. When that leaves none, raises an `OptionError`
    that names the lowest TPOT reachable.
    """
    if not (qps > 0 and math.isfinite(qps)):
        raise OptionError(f"invalid --qps {qps!r}: must be a positive number of requests per second, e.g. 20")
    if not (tpot_target_s > 0 and math.isfinite(tpot_target_s)):
        raise OptionError(f"invalid --tpot {tpot_target_s!r}: must be a positive time, e.g. 50ms")
    latency = latency or LatencySettings()
    options = []
    for gpu in gpus:
        if gpu.usd_per_hour is None:
            continue
        best = None
        for tp in _node_tp_sizes(arch, gpu):
            option = _fleet_for_tp(arch, gpu, tp, qps, tpot_target_s, prompt, output, settings, latency, weights_dtype, kv_dtype, gpu.usd_per_hour)
            if option and (best is None or option.usd_per_hour < best.usd_per_hour):
                best = option
        if best:
            options.append(best)
    if not options:
        raise OptionError(_no_fleet_message(arch, gpus, tpot_target_s, prompt, output, settings, latency, weights_dtype, kv_dtype))
    return tuple(sorted(options, key=lambda option: option.usd_per_hour))


def _node_tp_sizes(arch: ModelArch, gpu: GPU) -> list[int]:
    """Return the tensor-parallel sizes of `arch` that fit in one node of `gpu`."""
    return [tp for tp in tensor_parallel_sizes(arch) if tp <= gpu.gpus_per_node and (tp == 1 or gpu.intra_node_bytes_per_s)]


def _no_fleet_message(
    arch: ModelArch, gpus: list[GPU], tpot_target_s: float, prompt: int, output: int, settings: EngineSettings,
    latency: LatencySettings, weights_dtype: str, kv_dtype: str,
) -> str:
    """Explain why no GPU type serves the rate: no price, no room for one request, or the TPOT target."""
    names = ", ".join(gpu.name for gpu in gpus)
    priced = [gpu for gpu in gpus if gpu.usd_per_hour is not None]
    if not priced:
        return f"no price for {names}: name a GPU type with a catalog price (run 'napkin gpus')"
    fastest = None
    for gpu in priced:
        for tp in _node_tp_sizes(arch, gpu):
            size = serve_size(arch, gpu, prompt + output, settings, gpus=tp, tp=tp, weights_dtype=weights_dtype, kv_dtype=kv_dtype, raise_if_short=False)
            if size.max_concurrency < 1:
                continue
            tpot = latency_row(arch, gpu, 1, prompt, output, tp, size.budget.weights, kv_dtype, latency, None).tpot_s
            if fastest is None or tpot < fastest[0]:
                fastest = (tpot, gpu.name, tp)
    if fastest is None:
        return (f"{arch.name} cannot hold one request of {prompt + output:,} tokens on one node of {names}: use a GPU type "
                "with more memory, a lower-precision --weights-dtype or --kv-dtype, or shorter --prompt and --output")
    tpot, name, tp = fastest
    # Round the suggestion up so that the value printed is reachable.
    reachable_ms = math.ceil(tpot * 1e5) / 100
    return (f"no GPU type reaches TPOT ≤ {tpot_target_s * 1e3:.3g} ms on one node: the lowest is {tpot * 1e3:.3g} ms "
            f"({name}, tp {tp}, batch 1); raise --tpot to {reachable_ms:g}ms or more")
