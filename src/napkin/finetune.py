"""Fine-tuning memory: full, LoRA and QLoRA, with optimizer state only on trainable parameters.

LoRA (Hu et al. 2021) freezes the base weights and trains a pair of rank-r matrices A (in × r)
and B (r × out) beside each targeted linear layer, r · (in + out) parameters each. QLoRA
(Dettmers et al. 2023) stores the frozen linear weights as 4-bit NormalFloat with double
quantization and trains bf16 adapters.
"""

from __future__ import annotations

from dataclasses import dataclass

from .arch import DenseMLP, Layer, ModelArch, MoE
from .derivation import Step, num
from .errors import OptionError
from .hardware import GPU
from .memory import Recompute, activation_bytes_total, training_state
from .params import count_params
from .parallel import FRAMEWORK_RESERVE_BYTES
from .units import format_bytes

__all__ = ["FINETUNE_METHODS", "LORA_TARGETS", "FinetuneMemory", "finetune_memory", "lora_trainable_params"]

FINETUNE_METHODS = ("full", "lora", "qlora")
LORA_TARGETS = ("q", "k", "v", "o", "gate", "up", "down")
"""Linear layers LoRA can target. The default is all of them, as Dettmers et al. 2023 (section
4) found that adapting every linear layer is needed to match full fine-tuning."""

NF4_BYTES_PER_PARAM = 0.5 + 1 / 64 + 4 / (64 * 256)
"""QLoRA storage per quantized weight: 4 bits, an 8-bit absmax per block of 64 and an fp32
scale per 256 blocks (Dettmers et al. 2023, section 3, double quantization): 0.5159 bytes."""

BASE_WEIGHT_BYTES = 2
"""Frozen base weights in bf16 for LoRA, and QLoRA's unquantized parts (embeddings, norms, head)."""


def _attention_shapes(layer: Layer, h: int) -> dict[str, list[tuple[int, int]]]:
    att = layer.attention
    if att.kind == "mla":
        # NOTE: MLA's projections have other names (q_a/q_b, kv_a/kv_b); k maps to the
        # down-projection of keys and values, v to their up-projection.
        qk = att.qk_head_dim
        q = [(h, att.q_lora_rank), (att.q_lora_rank, att.num_heads * qk)] if att.q_lora_rank else [(h, att.num_heads * qk)]
        return {
            "q": q,
            "k": [(h, att.kv_lora_rank + att.qk_rope_head_dim)],
            "v": [(att.kv_lora_rank, att.num_heads * (att.qk_nope_head_dim + att.v_head_dim))],
            "o": [(att.num_heads * att.v_head_dim, h)],
        }
    d = att.head_dim
    return {
        "q": [(h, att.num_heads * d)],
        "k": [(h, att.num_kv_heads * d)],
        "v": [(h, att.num_kv_heads * d)],
        "o": [(att.num_heads * d, h)],
    }


def _mlp_shapes(mlp: DenseMLP, h: int, copies: int) -> dict[str, list[tuple[int, int]]]:
    f = mlp.intermediate_size
    shapes: dict[str, list[tuple[int, int]]] = {"up": [(h, f)] * copies, "down": [(f, h)] * copies}
    shapes["gate"] = [(h, f)] * copies if mlp.gated else []
    return shapes


def _layer_shapes(layer: Layer, h: int) -> dict[str, list[tuple[int, int]]]:
    shapes = _attention_shapes(layer, h)
    mlps: list[tuple[DenseMLP, int]] = []
    if isinstance(layer.mlp, MoE):
        mlps.append((layer.mlp.expert, layer.mlp.num_experts))
        if layer.mlp.shared:
            mlps.append((layer.mlp.shared, 1))
    else:
        mlps.append((layer.mlp, 1))
    for mlp, copies in mlps:
        for name, matrices in _mlp_shapes(mlp, h, copies).items():
            shapes.setdefault(name, []).extend(matrices)
    return shapes


def lora_trainable_params(arch: ModelArch, rank: int, targets: tuple[str, ...] = LORA_TARGETS) -> int:
    """Return LoRA's trainable parameters: Σ over targeted linear layers of r · (in + out)."""
    if rank < 1:
        raise OptionError(f"invalid LoRA rank {rank}: must be 1 or more, e.g. 16")
    unknown = [t for t in targets if t not in LORA_TARGETS]
    if unknown or not targets:
        raise OptionError(f"unknown LoRA target {', '.join(unknown) or '(none)'}: use a comma-separated subset of {','.join(LORA_TARGETS)}")
    total = 0
    smallest = None
    for layer in arch.layers:
        shapes = _layer_shapes(layer, arch.hidden_size)
        matrices = [shape for target in targets for shape in shapes.get(target, [])]
        total += sum(rank * (n_in + n_out) for n_in, n_out in matrices)
        smallest = min([smallest or rank, *(min(shape) for shape in matrices)])
    # B·A has rank at most min(in, out), so a larger r only adds parameters that raise nothing.
    if smallest is not None and rank > smallest:
        raise OptionError(
            f"invalid LoRA rank {rank:,}: the smallest targeted matrix of {arch.name} has a dimension of {smallest:,}, "
            f"which bounds the rank of its update; use --rank {smallest:,} or less"
        )
    return total


def _linear_params(arch: ModelArch) -> int:
    """Return the parameters of every block's linear weights, the part QLoRA quantizes."""
    return sum(
        n_in * n_out for layer in arch.layers for matrices in _layer_shapes(layer, arch.hidden_size).values() for n_in, n_out in matrices
    )


@dataclass(frozen=True)
class FinetuneMemory:
    """Per-GPU memory of a fine-tuning run, by tenant, with trainable parameters and the derivation."""

    method: str
    gpu: GPU
    trainable_params: int
    weights_bytes: float
    gradients_bytes: float
    optimizer_bytes: float
    activations_bytes: float
    dequantization_bytes: float
    framework_reserve_bytes: float
    steps: tuple[Step, ...]
    settings: dict[str, object]

    @property
    def total_bytes(self) -> float:
        return (self.weights_bytes + self.gradients_bytes + self.optimizer_bytes + self.activations_bytes
                + self.dequantization_bytes + self.framework_reserve_bytes)

    @property
    def fits(self) -> bool:
        return self.total_bytes <= self.gpu.hbm_bytes

    def to_dict(self) -> dict[str, object]:
        return {
            "mode": "finetune",
            "method": self.method,
            "gpu": self.gpu.name,
            "hbm_bytes": self.gpu.hbm_bytes,
            **self.settings,
            "trainable_params": self.trainable_params,
            "weights_bytes": self.weights_bytes,
            "gradients_bytes": self.gradients_bytes,
            "optimizer_bytes": self.optimizer_bytes,
            "activations_bytes": self.activations_bytes,
            "kv_cache_bytes": 0.0,
            "dequantization_bytes": self.dequantization_bytes,
            "framework_reserve_bytes": self.framework_reserve_bytes,
            "total_bytes": self.total_bytes,
            "memory_per_gpu_bytes": self.total_bytes,
            "fits": self.fits,
            "derivation": [step.to_dict() for step in self.steps],
        }


def finetune_memory(
    arch: ModelArch,
    gpu: GPU,
    method: str = "lora",
    rank: int = 16,
    targets: tuple[str, ...] = LORA_TARGETS,
    seq: int = 2048,
    micro_batch: int = 1,
    recompute: Recompute = "full",
    optimizer: str = "adam",
    gpus: int = 1,
    zero: int = 0,
) -> FinetuneMemory:
    """Return per-GPU fine-tuning memory for `method` full, lora or qlora.

    Optimizer state and gradients exist only for trainable parameters; ZeRO shards them (and,
    at stage 3, the frozen base weights) over `gpus` data-parallel ranks. Activations are one
    micro-batch with `recompute`, plus the rank-r intermediate that each adapter keeps.
    """
    if method not in FINETUNE_METHODS:
        raise OptionError(f"unknown fine-tuning method {method!r}: use full, lora or qlora")
    if gpus < 1:
        raise OptionError(f"invalid GPU count {gpus}: must be 1 or more")
    if zero and gpus < 2:
        raise OptionError(f"ZeRO stage {zero} shards over GPUs: add --gpus N with N ≥ 2, or drop --zero")
    n = count_params(arch).total
    steps: list[Step] = []
    base_shards = gpus if zero >= 3 else 1

    # 1. Trainable parameters and their state.
    if method == "full":
        trainable = n
        state = training_state(float(trainable), optimizer, zero, gpus)
        base = 0.0
        steps.append(Step("trainable parameters", "N", "", f"{n:,}"))
    else:
        trainable = lora_trainable_params(arch, rank, targets)
        state = training_state(float(trainable), optimizer, zero, gpus)
        steps.append(Step("trainable parameters", "Σ r · (in + out) over targeted linear layers", f"r = {rank}, targets {','.join(targets)}",
                          f"{trainable:,} ({trainable / n:.2%} of N)"))
        # 2. Frozen base weights: bf16 for LoRA; NF4 for QLoRA's block linears, bf16 for the rest.
        if method == "lora":
            base = n * BASE_WEIGHT_BYTES / base_shards
            steps.append(Step("frozen base weights (bf16)", "N · 2 bytes", f"{num(n)} · 2", format_bytes(base)))
        else:
            linear = _linear_params(arch)
            base = (linear * NF4_BYTES_PER_PARAM + (n - linear) * BASE_WEIGHT_BYTES) / base_shards
            steps.append(Step("frozen base weights (NF4 + bf16)", "linear · 0.5159 + rest · 2 bytes",
                              f"{num(linear)} · 0.5159 + {num(n - linear)} · 2", format_bytes(base)))

    # 3. Activations of one micro-batch, and the adapters' rank-r intermediates.
    parts = activation_bytes_total(arch, seq, micro_batch, recompute)
    activations = sum(parts.values())
    if method != "full" and recompute != "full":
        adapters_per_layer = sum(len(_layer_shapes(arch.layers[0], arch.hidden_size).get(t, [])) for t in targets)
        activations += arch.num_layers * adapters_per_layer * seq * micro_batch * rank * 2
    steps.append(Step(f"activations ({recompute} recomputation)", "one micro-batch of every layer + logits", f"s = {seq:,}, b = {micro_batch}",
                      format_bytes(activations)))

    # 4. QLoRA dequantizes one weight at a time to bf16 for its matmul.
    dequantization = 0.0
    if method == "qlora":
        dequantization = max(n_in * n_out for layer in arch.layers for m in _layer_shapes(layer, arch.hidden_size).values() for n_in, n_out in m) * 2
        steps.append(Step("dequantization buffer", "largest linear weight · 2 bytes", "", format_bytes(dequantization)))

    weights = base + state.weights_bytes
    steps += [
        Step("adapter weights, gradients, optimizer" if method != "full" else "weights, gradients, optimizer",
             "trainable · bytes/param (ZeRO-sharded)", f"{num(trainable)} params", format_bytes(state.total_bytes)),
        Step("framework reserve", "CUDA context, workspaces, fragmentation (editable default)", "", format_bytes(FRAMEWORK_RESERVE_BYTES)),
    ]
    total = weights + state.gradients_bytes + state.optimizer_bytes + activations + dequantization + FRAMEWORK_RESERVE_BYTES
    steps.append(Step("total per GPU", "sum of the tenants", "", f"{format_bytes(total)} of {format_bytes(gpu.hbm_bytes)}"))
    settings = {
        "params": n, "rank": rank if method != "full" else None, "targets": list(targets) if method != "full" else None,
        "seq": seq, "micro_batch": micro_batch, "recompute": recompute, "optimizer": optimizer, "gpus": gpus, "zero_stage": zero,
        "trainable_fraction": trainable / n,
    }
    return FinetuneMemory(
        method=method,
        gpu=gpu,
        trainable_params=trainable,
        weights_bytes=weights,
        gradients_bytes=state.gradients_bytes,
        optimizer_bytes=state.optimizer_bytes,
        activations_bytes=activations,
        dequantization_bytes=dequantization,
        framework_reserve_bytes=FRAMEWORK_RESERVE_BYTES,
        steps=tuple(steps),
        settings=settings,
    )
