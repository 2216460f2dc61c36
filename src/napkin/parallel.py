"""Parallel training layouts and their memory per GPU, vectorized over many layouts at once.

A layout splits a model over tp × cp × dp × pp GPUs: tensor parallel (tp), context parallel
(cp), data parallel (dp, with ZeRO sharding over dp·cp) and pipeline parallel (pp, with
`interleave` virtual stages per GPU). Expert parallelism (ep) divides the routed experts of MoE
blocks over ep ranks taken from the dp·cp ranks, as Megatron-Core does; attention stays
replicated. Every function here takes NumPy arrays with one entry per layout, so `napkin plan`
can evaluate millions of layouts, and a single layout is an array of length one.

Memory per GPU counts what per-GPU estimates often leave out: the activations of every
micro-batch in flight on the busiest pipeline stage, the gathered weights of the largest block
under ZeRO-3, the gradient-reduction bucket, and a framework reserve.
"""

from __future__ import annotations

import math

from dataclasses import dataclass, field

import numpy as np

from .arch import ModelArch, MoE
from .errors import OptionError
from .kv import tensor_parallel_sizes
from .memory import OPTIMIZERS, activation_bytes_total, training_state
from .params import layer_params, mlp_params

__all__ = [
    "FRAMEWORK_RESERVE_BYTES",
    "GRADIENT_REDUCE_BYTES",
    "RECOMPUTE_MODES",
    "Layout",
    "ModelShape",
    "check_layout",
    "check_model_split",
    "layout_memory_arrays",
    "model_shape",
    "valid_layouts",
]

RECOMPUTE_MODES = ("none", "selective", "full")
"""Recomputation modes in the order of their integer codes in layout arrays."""

# --- editable defaults ---------------------------------------------------------------------------

FRAMEWORK_RESERVE_BYTES = 2e9
"""Per-GPU memory outside the model's tensors: CUDA context and kernels, cuBLAS and NCCL
workspaces, allocator fragmentation. An estimate; DeepSpeed's ZeRO-3 report
github.com/deepspeedai/DeepSpeed/issues/4093 (about 13 GB used where model states alone were
estimated at 0.77 GB) shows how much such parts and activations can add."""

DDP_BUCKET_MIN_PARAMS = 40_000_000
DDP_BUCKET_PARAMS_PER_RANK = 1_000_000
"""Megatron-Core's default gradient bucket: max(40,000,000, 1,000,000 · dp) parameters
(DistributedDataParallelConfig.bucket_size in megatron/core/distributed)."""

GRADIENT_REDUCE_BYTES = 2
"""Bytes per element of the bucket being reduced (bf16 gradients, as the optimizers here keep them).

NOTE: counted as a staging copy, as PyTorch DDP and DeepSpeed make; Megatron-Core reduces its
gradient buffer in place, so for it this part overstates memory by one bucket."""

ZERO3_GATHERED_BLOCKS = 2
"""Blocks whose full weights ZeRO-3 holds at once: the one computing and the one prefetched
(FSDP's BACKWARD_PRE prefetch, DeepSpeed's stage3_prefetch_bucket_size)."""

WEIGHT_BYTES = 2
"""bf16 weights, as gathered under ZeRO-3 and as sent in communication."""


@dataclass(frozen=True)
class Layout:
    """One parallel layout of a training run.

    `global_batch` and `micro_batch` count sequences of `seq` tokens. The GPU count is
    tp · cp · dp · pp, and ep takes its ranks from dp · cp. `interleave` is the number of
    model chunks (virtual pipeline stages) per GPU, 1 for plain 1F1B. Sequence parallelism is
    on whenever tp ≥ 2.
    """

    tp: int = 1
    pp: int = 1
    dp: int = 1
    ep: int = 1
    cp: int = 1
    zero: int = 1
    micro_batch: int = 1
    global_batch: int = 1
    seq: int = 4096
    recompute: str = "selective"
    interleave: int = 1
    optimizer: str = "adam"
    attention_kernel: str = "flash"

    @property
    def gpus(self) -> int:
        return self.tp * self.cp * self.dp * self.pp

    @property
    def micro_batches(self) -> int:
        """Micro-batches per step on each pipeline: global batch ÷ (dp · micro-batch)."""
        return self.global_batch // (self.dp * self.micro_batch)

    def arrays(self) -> dict[str, np.ndarray]:
        """Return this layout as arrays of length one, the form the vectorized functions take."""
        values = {
            "tp": self.tp, "pp": self.pp, "dp": self.dp, "ep": self.ep, "cp": self.cp, "zero": self.zero,
            "micro_batch": self.micro_batch, "interleave": self.interleave,
            "recompute": RECOMPUTE_MODES.index(self.recompute),
        }
        return {key: np.array([value], dtype=np.int64) for key, value in values.items()}


@dataclass(frozen=True)
class ModelShape:
    """The figures of a model that layout arithmetic needs, computed once per model.

    Parameters are split into dense ones (attention, norms, dense MLPs, shared experts,
    routers), which tensor and pipeline parallelism divide, and routed-expert ones, which expert
    parallelism divides too.
    """

    arch: ModelArch
    layers: int
    hidden_size: int
    vocab_size: int
    heads: int
    kv_heads: int
    head_dim: int
    dense_block_params: float
    expert_params: float
    input_embedding_params: float
    output_params: float
    largest_dense_block_params: float
    largest_expert_block_params: float
    moe_layers: int
    num_experts: int
    experts_per_token: int
    intermediate_size: int
    expert_intermediate_size: int
    tensor_parallel_sizes: tuple[int, ...]
    activation_cache: dict = field(default_factory=dict, compare=False, repr=False)


def model_shape(arch: ModelArch) -> ModelShape:
    """Return the layout-relevant figures of `arch` (parameter split, widths, expert counts)."""
    h = arch.hidden_size
    dense_blocks, experts = 0, 0
    largest_dense, largest_expert = 0, 0
    moe_layers, num_experts, top_k, expert_width = 0, 1, 1, 0
    dense_width = 0

    # 1. Per block: routed-expert parameters apart from the rest.
    for layer in arch.layers:
        block = layer_params(layer, h)
        routed = 0
        if isinstance(layer.mlp, MoE):
            moe = layer.mlp
            routed = moe.num_experts * mlp_params(moe.expert, h)
            moe_layers += 1
            num_experts, top_k, expert_width = moe.num_experts, moe.experts_per_token, moe.expert.intermediate_size
            if moe.shared:
                dense_width = max(dense_width, moe.shared.intermediate_size)
        else:
            dense_width = max(dense_width, layer.mlp.intermediate_size)
        dense_blocks += block - routed
        experts += routed
        largest_dense = max(largest_dense, block - routed)
        largest_expert = max(largest_expert, routed)

    # 2. Embeddings, which the first and the last pipeline stage keep.
    input_embedding = (arch.vocab_size + arch.learned_positions) * h
    output = (0 if arch.tie_word_embeddings else arch.vocab_size * h) + h  # untied head and final norm
    # ZeRO-3 gathers the embedding table and the output head whole too (vocabulary-parallel over tp).
    largest_dense = max(largest_dense, arch.vocab_size * h)
    att = arch.attention
    return ModelShape(
        arch=arch,
        layers=arch.num_layers,
        hidden_size=h,
        vocab_size=arch.vocab_size,
        heads=att.num_heads,
        kv_heads=att.num_kv_heads if att.kind != "mla" else att.num_heads,
        head_dim=att.qk_head_dim,
        dense_block_params=float(dense_blocks),
        expert_params=float(experts),
        input_embedding_params=float(input_embedding),
        output_params=float(output),
        largest_dense_block_params=float(largest_dense),
        largest_expert_block_params=float(largest_expert),
        moe_layers=moe_layers,
        num_experts=num_experts,
        experts_per_token=top_k,
        intermediate_size=dense_width or expert_width,
        expert_intermediate_size=expert_width,
        tensor_parallel_sizes=tuple(tensor_parallel_sizes(arch)),
    )


# --- divisibility ------------------------------------------------------------------------------


def check_model_split(shape: ModelShape, tp: int, pp: int, interleave: int = 1, ep: int = 1) -> None:
    """Raise OptionError unless tp divides the heads, pp · interleave the layers and ep the experts."""
    name = shape.arch.name
    for label, value in (("--tp", tp), ("--pp", pp), ("--ep", ep), ("--interleave", interleave)):
        if value < 1:
            raise OptionError(f"invalid {label} {value}: must be 1 or more")
    if tp not in shape.tensor_parallel_sizes:
        sizes = ", ".join(map(str, shape.tensor_parallel_sizes))
        raise OptionError(
            f"--tp {tp} does not divide the {shape.heads} attention heads and {shape.kv_heads} KV heads of {name}: use one of {sizes}"
        )
    stages = pp * interleave
    if shape.layers % stages:
        what = f"--pp {pp} × --interleave {interleave}" if interleave > 1 else f"--pp {pp}"
        divisors = [d for d in range(1, shape.layers + 1) if shape.layers % d == 0]
        raise OptionError(f"{what} does not divide the {shape.layers} layers of {name}: use a divisor of {shape.layers} ({', '.join(map(str, divisors))})")
    if interleave > 1 and pp < 2:
        raise OptionError("--interleave needs pipeline parallelism: add --pp N with N ≥ 2, or drop --interleave")
    if shape.moe_layers == 0 and ep > 1:
        raise OptionError(f"--ep {ep} needs a mixture-of-experts model, and {name} is dense: drop --ep")
    if ep > 1 and shape.num_experts % ep:
        raise OptionError(f"--ep {ep} does not divide the {shape.num_experts} experts of {name}: use a divisor of {shape.num_experts}")


def divisors(n: int, limit: int) -> list[int]:
    """Return the divisors of `n` up to `limit`, testing candidates only up to min(limit, √n) so
    that a global batch of 10^12 sequences does not loop 10^12 times."""
    found: set[int] = set()
    for d in range(1, min(limit, math.isqrt(n)) + 1):
        if n % d == 0:
            found.add(d)
            if n // d <= limit:
                found.add(n // d)
    return sorted(found)


def check_layout(shape: ModelShape, layout: Layout) -> None:
    """Raise OptionError naming the first size of `layout` that does not divide what it splits."""
    for label, value in (("--dp", layout.dp), ("--cp", layout.cp), ("--micro-batch", layout.micro_batch),
                         ("--global-batch", layout.global_batch)):
        if value < 1:
            raise OptionError(f"invalid {label} {value}: must be 1 or more")
    check_model_split(shape, layout.tp, layout.pp, layout.interleave, layout.ep)
    if (layout.dp * layout.cp) % layout.ep:
        raise OptionError(f"--ep {layout.ep} must divide --dp × --cp = {layout.dp * layout.cp}: expert parallelism takes its ranks from them")
    if layout.seq % (2 * layout.cp) and layout.cp > 1:
        raise OptionError(f"--cp {layout.cp} needs a sequence divisible by 2 · cp = {2 * layout.cp} (each rank takes two balanced chunks): change --seq or --cp")
    per_step = layout.dp * layout.micro_batch
    if layout.global_batch % per_step:
        fix = f"use a multiple of {per_step:,}, or change --dp or --micro-batch"
        if layout.global_batch % layout.dp == 0:
            # Each data-parallel rank takes global_batch / dp sequences; the nearest micro-batch below
            # the given one that splits them evenly is the smallest change.
            per_rank = layout.global_batch // layout.dp
            fitting = max(divisors(per_rank, layout.micro_batch))
            fix = f"use --micro-batch {fitting:,}, a multiple of {per_step:,} sequences, or another --dp"
        raise OptionError(
            f"--global-batch {layout.global_batch:,} sequences is not a multiple of --dp × --micro-batch = {per_step:,}: {fix}"
        )
    if layout.interleave > 1 and layout.micro_batches % layout.pp:
        raise OptionError(f"the interleaved schedule needs micro-batches per step ({layout.micro_batches}) to be a multiple of --pp {layout.pp}")
    if layout.zero not in (0, 1, 2, 3):
        raise OptionError(f"invalid ZeRO stage {layout.zero}: use 0, 1, 2 or 3")
    if layout.recompute not in RECOMPUTE_MODES:
        raise OptionError(f"unknown recompute mode {layout.recompute!r}: use none, selective or full")


def valid_layouts(shape: ModelShape, grid: dict[str, np.ndarray], seq: int, global_batch: int) -> np.ndarray:
    """Return a boolean mask of the layouts in `grid` that `check_layout` would accept."""
    tp, pp, dp, ep, cp, mb, v = (grid[k] for k in ("tp", "pp", "dp", "ep", "cp", "micro_batch", "interleave"))
    ok = np.isin(tp, shape.tensor_parallel_sizes)
    ok &= shape.layers % (pp * v) == 0
    ok &= (v == 1) | (pp > 1)
    ok &= (shape.num_experts % ep == 0) & ((dp * cp) % ep == 0)
    if shape.moe_layers == 0:
        ok &= ep == 1
    ok &= (cp == 1) | (seq % (2 * cp) == 0)
    per_step = dp * mb
    ok &= global_batch % per_step == 0
    micro_batches = global_batch // per_step
    ok &= (v == 1) | (micro_batches % pp == 0)
    return ok


# --- activations -------------------------------------------------------------------------------


def _activation_parts(shape: ModelShape, micro_batch: int, seq: int, tp: int, recompute: str, kernel: str) -> tuple[float, float, float]:
    """Return (mean bytes per layer, output bytes, full-recompute peak) for one micro-batch.

    Calls `memory.activation_bytes_total` once per distinct combination, so its formula is the
    single source. Sequence parallelism is on whenever tp > 1.

    NOTE: a stage's layers are costed at the model's mean per layer, which evens out models that
    mix dense and MoE blocks (DeepSeek) over the stages.
    """
    key = (micro_batch, seq, tp, recompute, kernel)
    cached = shape.activation_cache.get(key)
    if cached is None:
        parts = activation_bytes_total(shape.arch, seq, micro_batch, recompute, kernel, tp=tp, sequence_parallel=tp > 1)
        cached = (parts["layers"] / shape.layers, parts["output"], parts["recompute_peak"])
        shape.activation_cache[key] = cached
    return cached


def activation_tables(shape: ModelShape, grid: dict[str, np.ndarray], seq: int, kernel: str = "flash") -> tuple[np.ndarray, ...]:
    """Return per-layout arrays (bytes per layer, output bytes, recompute peak) for one micro-batch.

    The core is called once per unique (micro-batch, seq ÷ cp, tp, recompute) and the results
    are broadcast to every layout with NumPy indexing.
    """
    # One int64 key per layout (each field below 2^15), so np.unique sorts a flat array.
    key = ((grid["micro_batch"] << 45) | (grid["cp"] << 30) | (grid["tp"] << 15) | grid["recompute"]).astype(np.int64)
    unique, inverse = np.unique(key, return_inverse=True)
    table = np.empty((len(unique), 3))
    mask = (1 << 15) - 1
    for row, packed in enumerate(unique.tolist()):
        mb, cp, tp, code = packed >> 45, (packed >> 30) & mask, (packed >> 15) & mask, packed & mask
        table[row] = _activation_parts(shape, mb, seq // cp, tp, RECOMPUTE_MODES[code], kernel)
    inverse = inverse.reshape(-1)
    return table[inverse, 0], table[inverse, 1], table[inverse, 2]


# --- memory per GPU ------------------------------------------------------------------------------


def _state_coefficients(optimizer: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Return, per part and per ZeRO stage 0–3, the unsharded and the sharded bytes per parameter.

    Read off `memory.training_state` at dp = 1 and dp = 2: a part that halves is sharded.
    """
    coefficients = {}
    for part in ("weights_bytes", "gradients_bytes", "optimizer_bytes"):
        whole, sharded = np.empty(4), np.empty(4)
        for stage in range(4):
            one = getattr(training_state(1.0, optimizer, stage, 1), part)
            two = getattr(training_state(1.0, optimizer, stage, 2), part)
            sharded[stage] = 2 * (one - two)
            whole[stage] = one - sharded[stage]
        coefficients[part] = (whole, sharded)
    return coefficients


def in_flight_micro_batches(pp: np.ndarray, interleave: np.ndarray, micro_batches: np.ndarray) -> np.ndarray:
    """Return the micro-batches whose activations the first pipeline stage holds, in stage-layer units.

    1F1B: min(m, p). Interleaved with v chunks: p · (1 + (p − 1)/(p · v)), from the warm-up of
    Megatron-LM's interleaved schedule (Korthikanti et al. 2022, section 4.2.3).
    """
    plain = np.minimum(micro_batches, pp)
    interleaved = np.minimum(micro_batches, pp + (pp - 1) / interleave)
    return np.where(interleave > 1, interleaved, plain)


def layout_memory_arrays(
    shape: ModelShape, grid: dict[str, np.ndarray], seq: int, global_batch: int, optimizer: str = "adam", kernel: str = "flash"
) -> dict[str, np.ndarray]:
    """Return per-GPU memory parts (bytes) of every layout in `grid`, on its busiest pipeline stage.

    Parts: weights, gradients, optimizer state (split over tp · pp, experts also over ep, and
    ZeRO-sharded over dp · cp, or dp · cp ÷ ep for experts), activations, gathered weights
    (ZeRO-3), the gradient bucket and the framework reserve.
    """
    if optimizer not in OPTIMIZERS:
        raise OptionError(f"unknown optimizer {optimizer!r}: use one of {', '.join(OPTIMIZERS)}")
    tp, pp, dp, ep, cp, zero, mb, v = (grid[k] for k in ("tp", "pp", "dp", "ep", "cp", "zero", "micro_batch", "interleave"))
    tp_f, pp_f = tp.astype(float), pp.astype(float)

    # 1. Parameters on one GPU of the first and of the last pipeline stage.
    blocks = shape.dense_block_params / (tp_f * pp_f)
    experts = shape.expert_params / (tp_f * pp_f * ep)
    single_stage = pp == 1
    first_dense = blocks + shape.input_embedding_params / tp_f + np.where(single_stage, shape.output_params / tp_f, 0.0)
    last_dense = blocks + shape.output_params / tp_f + np.where(single_stage, shape.input_embedding_params / tp_f, 0.0)

    # 2. Training state: ZeRO shards over the data-parallel group of each kind of parameter.
    dense_group = (dp * cp).astype(float)
    expert_group = dense_group / ep
    state_first, state_last = {}, {}
    for part, (whole, sharded) in _state_coefficients(optimizer).items():
        expert_part = experts * (whole[zero] + sharded[zero] / expert_group)
        state_first[part] = first_dense * (whole[zero] + sharded[zero] / dense_group) + expert_part
        state_last[part] = last_dense * (whole[zero] + sharded[zero] / dense_group) + expert_part

    # 3. Activations: the first stage keeps every micro-batch in flight, the last one the logits.
    per_layer, output, peak = activation_tables(shape, grid, seq, kernel)
    micro_batches = global_batch // (dp * mb)
    stage_layers = shape.layers / pp_f
    first_act = in_flight_micro_batches(pp, v, micro_batches) * stage_layers * per_layer + peak
    last_act = stage_layers * per_layer + output + peak
    first_act = np.where(single_stage, last_act, first_act)

    # 4. What else sits in memory: gathered blocks (ZeRO-3), the reduction bucket, the reserve.
    largest_block = shape.largest_dense_block_params / tp_f + shape.largest_expert_block_params / (tp_f * ep)
    gathered = np.where(zero == 3, ZERO3_GATHERED_BLOCKS * largest_block * WEIGHT_BYTES, 0.0)
    bucket_params = np.maximum(DDP_BUCKET_MIN_PARAMS, DDP_BUCKET_PARAMS_PER_RANK * dense_group)
    bucket = np.where(dense_group > 1, np.minimum(bucket_params, first_dense + experts) * GRADIENT_REDUCE_BYTES, 0.0)

    # 5. The busiest stage: the first, unless the last one's logits outweigh its in-flight micro-batches.
    use_last = sum(state_last.values()) + last_act > sum(state_first.values()) + first_act
    weights, gradients, optimizer_state = (np.where(use_last, state_last[p], state_first[p]) for p in state_first)
    activations = np.where(use_last, last_act, first_act)
    total = weights + gradients + optimizer_state + activations + gathered + bucket + FRAMEWORK_RESERVE_BYTES
    return {
        "weights": weights,
        "gradients": gradients,
        "optimizer": optimizer_state,
        "activations": activations,
        "gathered_weights": gathered,
        "communication_buffers": bucket,
        "framework_reserve": np.full_like(total, FRAMEWORK_RESERVE_BYTES),
        "total": total,
        "last_stage": use_last,
        "params_per_gpu": np.where(use_last, last_dense, first_dense) + experts,
    }

