"""The KV-cache budget of one GPU as a serving engine counts it, in paged blocks.

Two accountings share one formula, KV budget = total × utilization − weights − activation peak
− non-torch memory − CUDA graphs, and differ only in their defaults:

- ``plain``: the nominal memory, all of it, and no overheads. This is the napkin bound that
  `napkin kv` prints.
- ``vllm``: what vLLM's start-up profiling subtracts (vllm/v1/worker/gpu_worker.py,
  ``determine_available_memory``). The total is the CUDA runtime's figure
  (``torch.cuda.mem_get_info()[1]``), multiplied by ``--gpu-memory-utilization``. The weights
  are what the model loader allocated. The activation peak comes from a profiling forward pass
  over ``max_num_batched_tokens`` tokens, and the non-torch memory is what CUDA allocated
  outside PyTorch (cuBLAS workspaces, NCCL buffers). Each default below names its source; every
  one can be overridden.

The budget is then cut into blocks of ``block_size`` tokens: blocks = ⌊budget ÷ (block_size ·
KV bytes per token per GPU)⌋, and vLLM's "GPU KV cache size" is blocks · block_size tokens.

NOTE: a block here spans every layer, as in vLLM's V0 engine. vLLM's V1 hybrid allocator gives
sliding-window layers fewer blocks, so for such models its token count differs from this one.
Concurrency (`napkin.serve`) caps each window either way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .arch import ModelArch, MoE
from .derivation import Step, num
from .errors import OptionError
from .hardware import GPU
from .kv import kv_dtype_bytes, kv_shards
from .memory import INT4_GROUP_SIZE, kv_cache_bytes_per_token
from .units import format_bytes
from .weights import ServingWeights, serving_weights

__all__ = [
    "ENGINES",
    "EngineSettings",
    "KVBudget",
    "VLLM_SOURCES",
    "gpu_total_bytes",
    "kv_budget",
    "profile_activation_bytes",
]

ENGINES = ("plain", "vllm")

GIB = 2.0**30

_VLLM = "https://github.com/vllm-project/vllm/blob/v0.10.1.1/vllm"
VLLM_SOURCES: dict[str, str] = {
    "accounting": f"{_VLLM}/v1/worker/gpu_worker.py (determine_available_memory)",
    "gpu_memory_utilization": "0.9, the default of --gpu-memory-utilization (https://docs.vllm.ai/en/v0.6.4/models/engine_args.html)",
    "activation_peak": (
        f"{_VLLM}/v1/worker/gpu_model_runner.py (profile_run): one forward pass over max_num_batched_tokens tokens and "
        "a sampler pass over max_num_seqs rows; estimated here as the widest block's live bf16 tensors per token plus "
        "fp32 logits and probabilities per row"
    ),
    "max_num_batched_tokens": (
        "2,048, the chunked-prefill budget that `vllm serve` 0.10.1.1 logs on an A100 80GB "
        "(github.com/dennislee22/vLLM-benchmarking log/vllm-7B-1gpuA10080GB-0.25GRAM.log)"
    ),
    "max_num_seqs": "256, vLLM's default --max-num-seqs",
    "non_torch": (
        "0.15 GiB on one GPU, 0.40 GiB with tensor parallelism (NCCL and custom all-reduce buffers): what vLLM 0.10.1.1 "
        "subtracted beyond this module's activation estimate in github.com/dennislee22/vLLM-benchmarking's logs; "
        "vLLM 0.6 logged 0.35 GiB on one RTX 3090 (github.com/vllm-project/vllm issue 10517)"
    ),
    "cuda_graphs": (
        "0: vLLM 0.10 captures CUDA graphs after it sizes the KV cache, so their memory (0.50 GiB in the log above) "
        "comes out of the utilization headroom, not the KV budget"
    ),
    "block_size": "16 tokens, vLLM's default --block-size on CUDA GPUs",
}

_NON_TORCH_ONE_GPU = 0.15 * GIB
_NON_TORCH_TENSOR_PARALLEL = 0.40 * GIB


@dataclass(frozen=True)
class EngineSettings:
    """An engine's memory settings; None takes the engine's default (see `VLLM_SOURCES`)."""

    engine: str = "vllm"
    gpu_memory_utilization: float | None = None
    gpu_total_bytes: float | None = None
    max_num_batched_tokens: int = 2048
    max_num_seqs: int = 256
    non_torch_bytes: float | None = None
    activation_peak_bytes: float | None = None
    cuda_graph_bytes: float = 0.0
    kv_cache_memory_bytes: float | None = None
    block_size: int = 16

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise OptionError(f"unknown engine {self.engine!r}: use {' or '.join(ENGINES)}")
        utilization = self.gpu_memory_utilization
        if utilization is not None and not (0 < utilization <= 1):
            raise OptionError(f"invalid --gpu-memory-utilization {utilization!r}: must be above 0 and at most 1, e.g. 0.9")
        if not (isinstance(self.block_size, int) and self.block_size >= 1):
            raise OptionError(f"invalid --block-size {self.block_size!r}: must be a whole number of tokens, e.g. 16")
        if self.max_num_batched_tokens < 1 or self.max_num_seqs < 1:
            raise OptionError("invalid --max-num-batched-tokens or --max-num-seqs: each must be 1 or more")
        for label, value in (
            ("--gpu-total", self.gpu_total_bytes),
            ("--non-torch-memory", self.non_torch_bytes),
            ("--activation-peak", self.activation_peak_bytes),
            ("--cuda-graph-memory", self.cuda_graph_bytes),
            ("--kv-cache-memory", self.kv_cache_memory_bytes),
        ):
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise OptionError(f"invalid {label} {value!r}: must be a finite number of bytes, 0 or more")


def gpu_total_bytes(gpu: GPU, engine: str) -> tuple[float, str]:
    """Return the memory total an engine starts from and where the figure comes from.

    ``plain`` takes the nominal capacity. ``vllm`` takes the CUDA runtime's total, then the
    nvidia-smi total (a few hundred MiB more than CUDA reports), then the nominal capacity.
    """
    if engine == "plain":
        return gpu.hbm_bytes, "nominal capacity"
    if gpu.hbm_cuda_bytes:
        return gpu.hbm_cuda_bytes, "CUDA-visible total from the catalog"
    if gpu.hbm_reported_bytes:
        return gpu.hbm_reported_bytes, "nvidia-smi total (the catalog has no CUDA figure; give --gpu-total to correct it)"
    return gpu.hbm_bytes, "nominal capacity (the catalog has no CUDA figure; give --gpu-total to correct it)"


def profile_activation_bytes(arch: ModelArch, tokens: int, seqs: int, tp: int = 1) -> float:
    """Return an estimate of the torch memory peak of vLLM's profiling pass on one GPU, in bytes.

    Peak = tokens · 2 · (2·h + w) + seqs · V · 8. Here w is the widest per-token tensor of a
    block: 3·f ÷ tp for a gated MLP (its gate-up and activation outputs), k · (3·f_e ÷ tp + h)
    for an MoE block, or the q, k, v and attention outputs. 2·h counts the hidden state and the
    residual, and seqs · V · 8 counts the sampler's fp32 logits and probabilities.

    NOTE: an estimate. It comes within 0.1-0.3 GiB of the peaks that vLLM 0.6 logged for
    Llama-3-8B (1.26 GiB at 8,192 tokens, 2.07 GiB at 20,000). With torch.compile or other
    versions the peak may differ.
    """
    h = arch.hidden_size
    widest = 0.0
    for layer in arch.layers:
        att = layer.attention
        if att.kind == "mla":
            attention = att.num_heads * (2 * att.qk_head_dim + 2 * att.value_head_dim) / tp
        else:
            attention = (2 * att.num_heads + 2 * att.num_kv_heads) * att.head_dim / tp
        if isinstance(layer.mlp, MoE):
            moe = layer.mlp
            mlp = moe.experts_per_token * (3 * moe.expert.intermediate_size / tp + h)
            if moe.shared:
                mlp += 3 * moe.shared.intermediate_size / tp
        else:
            mlp = 3 * layer.mlp.intermediate_size / tp
        widest = max(widest, attention, mlp)
    return tokens * 2 * (2 * h + widest) + seqs * arch.vocab_size * 8


@dataclass(frozen=True)
class KVBudget:
    """One GPU's memory, what comes off it, and the KV blocks left, for one tensor-parallel rank."""

    engine: str
    gpu: GPU
    tp: int
    gpu_total_bytes: float
    gpu_total_source: str
    gpu_memory_utilization: float
    weights: ServingWeights
    activation_peak_bytes: float
    non_torch_bytes: float
    cuda_graph_bytes: float
    kv_cache_bytes_per_gpu: float
    kv_dtype: str
    kv_bytes_per_token_per_gpu: float
    block_size: int
    gpu_blocks: int
    steps: tuple[Step, ...]
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def requested_bytes(self) -> float:
        """The memory the engine may use on each GPU: total × utilization."""
        return self.gpu_total_bytes * self.gpu_memory_utilization

    @property
    def kv_cache_tokens(self) -> int:
        """Tokens the blocks hold; every GPU of the replica keeps its share of each token."""
        return self.gpu_blocks * self.block_size

    @property
    def block_bytes_per_gpu(self) -> float:
        return self.block_size * self.kv_bytes_per_token_per_gpu


def kv_budget(
    arch: ModelArch,
    gpu: GPU,
    settings: EngineSettings,
    *,
    tp: int = 1,
    ep: int = 1,
    weights_dtype: str = "bf16",
    kv_dtype: str = "bf16",
    int4_group_size: int = INT4_GROUP_SIZE,
    binary: bool = False,
) -> KVBudget:
    """Return the per-GPU KV budget and block count of one tensor-parallel rank (see the module docstring)."""
    fmt = lambda value: format_bytes(value, binary)  # noqa: E731
    vllm = settings.engine == "vllm"
    weights = serving_weights(arch, weights_dtype, tp=tp, ep=ep, int4_group_size=int4_group_size)
    element = kv_dtype_bytes(kv_dtype)
    per_token = kv_cache_bytes_per_token(arch, element) / kv_shards(arch, tp)
    sources = dict(VLLM_SOURCES) if vllm else {}

    # 1. The memory the engine may use.
    if settings.gpu_total_bytes is not None:
        total, total_source = settings.gpu_total_bytes, "given with --gpu-total"
    else:
        total, total_source = gpu_total_bytes(gpu, settings.engine)
    utilization = settings.gpu_memory_utilization or (0.9 if vllm else 1.0)
    steps = [
        Step("GPU memory", total_source, "", fmt(total)),
        Step("memory the engine may use", "total × utilization", f"{num(total)} × {utilization:g}", fmt(total * utilization)),
        Step(
            f"weights per GPU ({weights_dtype})",
            "(embeddings + other layers) ÷ tp + experts ÷ (ep or tp)",
            f"({num(weights.embedding_bytes)} + {num(weights.other_bytes)}) ÷ {tp} + {num(weights.expert_bytes)} ÷ {ep if ep > 1 else tp}",
            fmt(weights.per_gpu_bytes),
        ),
    ]

    # 2. The overheads the engine subtracts before the KV cache.
    if settings.activation_peak_bytes is not None:
        activation = settings.activation_peak_bytes
        steps.append(Step("activation peak", "given with --activation-peak", "", fmt(activation)))
    elif vllm:
        activation = profile_activation_bytes(arch, settings.max_num_batched_tokens, settings.max_num_seqs, tp)
        steps.append(
            Step(
                "activation peak (profiling pass)",
                "tokens · 2 · (2·h + widest block tensor) + seqs · V · 8",
                f"tokens {settings.max_num_batched_tokens:,}, seqs {settings.max_num_seqs:,}",
                fmt(activation),
            )
        )
    else:
        activation = 0.0
    if settings.non_torch_bytes is not None:
        non_torch = settings.non_torch_bytes
    elif vllm:
        non_torch = _NON_TORCH_TENSOR_PARALLEL if tp > 1 else _NON_TORCH_ONE_GPU
    else:
        non_torch = 0.0
    if non_torch:
        steps.append(Step("non-torch memory", "CUDA allocations outside PyTorch", "", fmt(non_torch)))
    if settings.cuda_graph_bytes:
        steps.append(Step("CUDA graphs", "given with --cuda-graph-memory", "", fmt(settings.cuda_graph_bytes)))

    # 3. The KV budget, cut into blocks.
    if settings.kv_cache_memory_bytes is not None:
        budget = settings.kv_cache_memory_bytes
        room = total - weights.per_gpu_bytes
        if budget > room:
            # Round the suggestion down so that the value printed fits.
            unit, suffix = (2**30, "GiB") if binary else (1e9, "GB")
            largest = math.floor(max(room, 0) / unit * 100) / 100
            raise OptionError(
                f"--kv-cache-memory {fmt(budget)} does not fit beside {fmt(weights.per_gpu_bytes)} of weights per GPU "
                f"in {gpu.name}'s {fmt(total)}: use --kv-cache-memory {largest:g}{suffix} or less"
            )
        steps.append(Step("KV cache per GPU", "given with --kv-cache-memory", "", fmt(budget)))
    else:
        budget = total * utilization - weights.per_gpu_bytes - activation - non_torch - settings.cuda_graph_bytes
        steps.append(
            Step(
                "KV cache per GPU",
                "total × utilization − weights − activation peak − non-torch − CUDA graphs",
                f"{num(total * utilization)} − {num(weights.per_gpu_bytes)} − {num(activation)} − {num(non_torch)} − {num(settings.cuda_graph_bytes)}",
                fmt(budget),
            )
        )
    block_bytes = settings.block_size * per_token
    blocks = max(0, math.floor(budget / block_bytes)) if block_bytes > 0 else 0
    steps.append(
        Step(
            "GPU blocks",
            "⌊KV per GPU ÷ (block size · KV bytes/token/GPU)⌋",
            f"⌊{num(budget)} ÷ ({settings.block_size} · {num(per_token)})⌋",
            f"{blocks:,} blocks = {blocks * settings.block_size:,} tokens",
        )
    )
    return KVBudget(
        engine=settings.engine,
        gpu=gpu,
        tp=tp,
        gpu_total_bytes=total,
        gpu_total_source=total_source,
        gpu_memory_utilization=utilization,
        weights=weights,
        activation_peak_bytes=activation,
        non_torch_bytes=non_torch,
        cuda_graph_bytes=settings.cuda_graph_bytes,
        kv_cache_bytes_per_gpu=budget,
        kv_dtype=kv_dtype,
        kv_bytes_per_token_per_gpu=per_token,
        block_size=settings.block_size,
        gpu_blocks=blocks,
        steps=tuple(steps),
        sources=sources,
    )
