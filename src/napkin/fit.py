"""Will it fit: the four tenants of GPU memory per GPU, for training and for inference."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .arch import ModelArch
from .derivation import Step, num
from .errors import OptionError
from .hardware import GPU
from .kv import check_tensor_parallel, fewest_tensor_parallel_gpus, kv_dtype_bytes, kv_shards, tensor_parallel_sizes
from .memory import (
    FUSED_KERNELS,
    INT4_GROUP_SIZE,
    OPTIMIZERS,
    AttentionKernel,
    Recompute,
    activation_bytes_per_layer,
    activation_bytes_total,
    kv_cache_bytes,
    min_gpus,
    training_state,
    transformers_profile,
    weight_bytes,
)
from .params import count_params
from .units import format_bytes

__all__ = ["MemoryEstimate", "inference_memory", "training_memory"]


@dataclass(frozen=True)
class MemoryEstimate:
    """The four tenants of GPU memory, per GPU, with the total and the fewest GPUs that hold them.

    `activations_bytes` (and, for inference, `kv_cache_bytes`) is None when no architecture was
    given (a bare parameter count), so it could not be estimated. `total_bytes` then leaves it
    out, and the derivation states it.
    """

    mode: str
    gpu: GPU
    weights_bytes: float
    optimizer_bytes: float
    gradients_bytes: float
    activations_bytes: float | None
    kv_cache_bytes: float | None
    min_gpus: int | None
    steps: tuple[Step, ...]
    settings: dict[str, object] = field(default_factory=dict)
    min_gpus_tensor_parallel: int | None = None

    @property
    def total_bytes(self) -> float:
        activations = self.activations_bytes or 0.0
        kv_cache = self.kv_cache_bytes or 0.0
        return self.weights_bytes + self.optimizer_bytes + self.gradients_bytes + activations + kv_cache

    @property
    def fits(self) -> bool:
        return self.total_bytes <= self.gpu.hbm_bytes

    def to_dict(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "gpu": self.gpu.name,
            "hbm_bytes": self.gpu.hbm_bytes,
            **self.settings,
            "weights_bytes": self.weights_bytes,
            "optimizer_bytes": self.optimizer_bytes,
            "gradients_bytes": self.gradients_bytes,
            "activations_bytes": self.activations_bytes,
            "kv_cache_bytes": self.kv_cache_bytes,
            "total_bytes": self.total_bytes,
            "fits": self.fits,
            "min_gpus": self.min_gpus,
            "min_gpus_tensor_parallel": self.min_gpus_tensor_parallel,
            "derivation": [step.to_dict() for step in self.steps],
        }


_RECOMPUTE_LABELS = {"none": "no recomputation", "selective": "selective recomputation", "full": "full recomputation"}


def _positive(label: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise OptionError(f"invalid {label} {value!r}: must be a positive finite number")


def training_memory(
    gpu: GPU,
    *,
    params: float | None = None,
    arch: ModelArch | None = None,
    optimizer: str = "adam",
    zero_stage: int = 0,
    dp: int = 1,
    micro_batch: int = 1,
    seq: int = 4096,
    recompute: Recompute = "none",
    attention_kernel: AttentionKernel = "flash",
    tp: int = 1,
    sequence_parallel: bool = False,
    saved_tensors: str = "fused",
    binary: bool = False,
) -> MemoryEstimate:
    """Return per-GPU training memory: weights, gradients and optimizer state (split over `tp`
    tensor-parallel ranks and ZeRO-sharded over `dp`), and one micro-batch of activations
    (needs `arch`).

    `min_gpus` is the fewest GPUs that hold the state fully sharded beside one micro-batch of
    activations each, rounded up to a multiple of `tp`, or None when the activations alone
    exceed a GPU. Leaves out the CUDA context, allocator fragmentation and communication buffers
    (together often a few GB per GPU). `saved_tensors` is "fused" (the fused kernels of
    Korthikanti et al. 2022) or "transformers" (what transformers' eager code keeps).
    """
    if arch is None and params is None:
        raise OptionError("no model given: pass a model name, a config.json or --params")
    n = count_params(arch).total if arch is not None else float(params)  # type: ignore[arg-type]
    _positive("parameter count", n)
    if tp < 1:
        raise OptionError(f"invalid tensor-parallel size {tp}: must be 1 or more")
    if arch is not None and arch.attention.num_heads % tp:
        raise OptionError(
            f"--tp {tp} does not divide the {arch.attention.num_heads} attention heads of {arch.name}: "
            "use a divisor of the head count"
        )
    # NOTE: treats every parameter as split over tp; norms and biases are in fact replicated,
    # which is well under 1% of a large model.
    state = training_state(n / tp, optimizer, zero_stage, dp)
    spec = OPTIMIZERS[optimizer]
    fmt = lambda value: format_bytes(value, binary)  # noqa: E731

    def state_step(label: str, per_param: float, sharded: bool, value: float) -> Step:
        formula = f"N · {per_param:g} bytes"
        numbers = f"{num(n)} · {per_param:g}"
        if tp > 1:
            formula += " ÷ tp"
            numbers += f" ÷ {tp}"
        if sharded:
            formula += " ÷ dp"
            numbers += f" ÷ {dp}"
        return Step(label, formula, numbers, fmt(value))

    steps = [
        state_step("weights", spec.weights, zero_stage >= 3, state.weights_bytes),
        state_step("gradients", spec.gradients, zero_stage >= 2, state.gradients_bytes),
        state_step("optimizer state", spec.optimizer, zero_stage >= 1, state.optimizer_bytes),
    ]

    activations: float | None = None
    if saved_tensors not in ("fused", "transformers"):
        raise OptionError(f"invalid saved-tensor profile {saved_tensors!r}: use fused or transformers")
    if arch is not None:
        profile = FUSED_KERNELS if saved_tensors == "fused" else transformers_profile(arch.model_type)
        parts = activation_bytes_total(
            arch, seq, micro_batch, recompute, attention_kernel, tp=tp, sequence_parallel=sequence_parallel, profile=profile
        )
        activations = sum(parts.values())
        layer = activation_bytes_per_layer(
            arch.layers[-1], arch.hidden_size, seq, micro_batch, recompute, attention_kernel, tp=tp,
            sequence_parallel=sequence_parallel, profile=profile,
        )
        steps.append(
            Step(
                f"activations ({_RECOMPUTE_LABELS[recompute]}, {attention_kernel} attention, {saved_tensors} kernels)",
                "Σ_layers per-block bytes + output logits (fp32) + recompute peak",
                f"{arch.num_layers} · ~{num(layer.total)} + {num(parts['output'])} + {num(parts['recompute_peak'])}",
                fmt(activations),
            )
        )
    else:
        steps.append(Step("activations", "not estimated: a bare parameter count has no architecture", "", "—"))

    per_gpu_state = state.total_bytes
    total = per_gpu_state + (activations or 0.0)
    # Fewest GPUs: shard the whole state (as ZeRO-3 would) and keep one micro-batch of activations each.
    full_state = training_state(n, optimizer, 0, 1).total_bytes
    room = gpu.hbm_bytes - (activations or 0.0)
    steps.append(Step("total per GPU", "weights + gradients + optimizer + activations", "", fmt(total)))
    fewest: int | None
    if room <= 0:
        fewest = None
        steps.append(
            Step(
                "fewest GPUs",
                "none: activations alone exceed HBM",
                f"{fmt(activations or 0)} > {fmt(gpu.hbm_bytes)}",
                "lower --batch or --seq, raise --tp, or use --recompute full",
            )
        )
    else:
        fewest = math.ceil(min_gpus(full_state, room) / tp) * tp
        formula = "⌈unsharded state ÷ (HBM − activations)⌉" if activations else "⌈unsharded state ÷ HBM⌉"
        numbers = f"⌈{num(full_state)} ÷ {num(room)}⌉"
        if tp > 1:
            formula += ", rounded up to a multiple of tp"
            numbers += f", multiple of {tp}"
        steps.append(Step("fewest GPUs", formula, numbers, f"{fewest:,} × {gpu.name}"))
    settings = {
        "params": n,
        "optimizer": optimizer,
        "zero_stage": zero_stage,
        "dp": dp,
        "micro_batch": micro_batch,
        "seq": seq,
        "recompute": recompute,
        "attention_kernel": attention_kernel,
        "tp": tp,
        "sequence_parallel": sequence_parallel,
    }
    return MemoryEstimate(
        mode="train",
        gpu=gpu,
        weights_bytes=state.weights_bytes,
        optimizer_bytes=state.optimizer_bytes,
        gradients_bytes=state.gradients_bytes,
        activations_bytes=activations,
        kv_cache_bytes=0.0,
        min_gpus=fewest,
        steps=tuple(steps),
        settings=settings,
    )


def inference_memory(
    gpu: GPU,
    *,
    params: float | None = None,
    arch: ModelArch | None = None,
    context: int = 4096,
    requests: int = 1,
    weights_dtype: str = "bf16",
    kv_dtype: str = "bf16",
    gpus: int = 1,
    int4_group_size: int = INT4_GROUP_SIZE,
    binary: bool = False,
) -> MemoryEstimate:
    """Return per-GPU inference memory for `requests` concurrent requests of `context` tokens,
    with weights split evenly over `gpus` and the KV cache over kv_shards(gpus) (tensor
    parallelism, see `napkin.kv`).

    Activations are bounded above by what one block would save for backward over one request's
    prefill, because inference frees its tensors block by block. The KV cache needs `arch`.
    """
    if arch is None and params is None:
        raise OptionError("no model given: pass a model name, a config.json or --params")
    if arch is not None and params is not None:
        raise OptionError("give an architecture or a parameter count, not both")
    if gpus < 1 or requests < 1:
        raise OptionError(f"invalid count: --gpus {gpus} and --requests {requests} must be 1 or more")
    if arch is not None:
        check_tensor_parallel(arch, gpus)
    element = kv_dtype_bytes(kv_dtype)
    if not (isinstance(context, int) and context >= 1):
        raise OptionError(f"invalid context {context!r}: must be a whole number of tokens, 1 or more")
    n = count_params(arch).total if arch is not None else float(params)  # type: ignore[arg-type]
    _positive("parameter count", n)
    fmt = lambda value: format_bytes(value, binary)  # noqa: E731

    weights = weight_bytes(n, weights_dtype, int4_group_size)
    per_param = weight_bytes(1, weights_dtype, int4_group_size)
    steps = [Step(f"weights ({weights_dtype})", "N · bytes ÷ GPUs", f"{num(n)} · {per_param:.4g} ÷ {gpus}", fmt(weights / gpus))]
    kv_per_gpu: float | None = None
    activations_all: float | None = None
    if arch is not None:
        per_request = kv_cache_bytes(arch, context, element)
        kv = per_request * requests
        shards = kv_shards(arch, gpus)
        kv_per_gpu = kv / shards
        steps.append(Step("KV cache", "requests · KV bytes(context) ÷ KV shards", f"{requests:,} · {num(per_request)} ÷ {shards}", fmt(kv_per_gpu)))
        activations_all = max(
            activation_bytes_per_layer(layer, arch.hidden_size, context, 1, "none", "flash").total for layer in arch.layers
        )
        steps.append(Step("activations", "one block's tensors for one prefill ÷ GPUs", "", fmt(activations_all / gpus)))
    else:
        kv = None
        steps.append(Step("KV cache and activations", "not estimated: a bare parameter count has no architecture", "", "—"))

    total = weights + (kv or 0.0) + (activations_all or 0.0)
    fewest = min_gpus(total, gpu.hbm_bytes)
    steps += [
        Step("total per GPU", "weights ÷ GPUs + KV cache + activations", "", fmt(weights / gpus + (kv_per_gpu or 0.0) + (activations_all or 0.0) / gpus)),
        Step(
            "fewest GPUs, memory alone",
            "⌈(weights + KV + activations) ÷ HBM⌉, a lower bound",
            f"⌈{num(total)} ÷ {num(gpu.hbm_bytes)}⌉",
            f"{fewest:,} × {gpu.name}",
        ),
    ]
    tensor_parallel = None
    if arch is not None:
        tensor_parallel = fewest_tensor_parallel_gpus(arch, gpu, weights, kv or 0.0, activations_all or 0.0)
        steps.append(
            Step(
                "fewest GPUs for tensor parallelism",
                "smallest tensor-parallel t with weights ÷ t + KV ÷ kv_shards(t) + activations ÷ t ≤ HBM",
                f"t in {', '.join(map(str, tensor_parallel_sizes(arch)))}",
                f"{tensor_parallel:,} × {gpu.name}" if tensor_parallel else "none: needs pipeline parallelism or GPUs with more memory",
            )
        )
    settings = {
        "params": n,
        "context": context,
        "requests": requests,
        "gpus": gpus,
        "weights_dtype": weights_dtype,
        "kv_dtype": kv_dtype,
    }
    return MemoryEstimate(
        mode="infer",
        gpu=gpu,
        weights_bytes=weights / gpus,
        optimizer_bytes=0.0,
        gradients_bytes=0.0,
        activations_bytes=None if activations_all is None else activations_all / gpus,
        kv_cache_bytes=kv_per_gpu,
        min_gpus=fewest,
        steps=tuple(steps),
        settings=settings,
        min_gpus_tensor_parallel=tensor_parallel,
    )
