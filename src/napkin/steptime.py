"""Step time of a parallel layout: compute, communication, pipeline bubble; MFU and HFU.

Vectorized like `napkin.parallel`: every function takes arrays with one entry per layout.

Conventions. Model FLOPs per token are 3 × the forward matmul FLOPs at the sequence length,
with attention scores over the full s × s matrix: 72·B·L·s·h²·(1 + s/(6h) + V/(12hL)) per
iteration for a GPT (Korthikanti et al. 2022, Eq. 7), and 6·N + 12·L·H·Q·T per token in PaLM's
form (Chowdhery et al. 2022, Appendix B). Hardware FLOPs add what recomputation repeats: one more
forward of the blocks with full recomputation (Narayanan et al. 2021, Eq. 3), one more forward
of attention scores and values with selective recomputation (Korthikanti et al. 2022, Eq. 8).

Communication is timed as ring collectives on the slower link a group spans: the intra-node link
(one direction, half the catalog's both-direction figure) when the group fits in one node, the
per-GPU network share otherwise. Ranks are laid out tp first, then cp, then dp, then pp, as in
Megatron-LM, so tensor parallelism stays inside a node when tp ≤ GPUs per node. What overlaps
with compute is stated where each volume is timed.
"""

from __future__ import annotations

import numpy as np

from .flops import count_flops
from .hardware import GPU
from .parallel import ModelShape

__all__ = [
    "COMPUTE_EFFICIENCY",
    "flop_per_token",
    "mfu_from_throughput",
    "pipeline_bubble",
    "step_time_arrays",
]

COMPUTE_EFFICIENCY = 0.55
"""Fraction of the dense bf16 peak that a block's kernels sustain on large shapes, communication
and bubble aside. An editable estimate. Megatron-LM sustained 52% of the A100 peak end to end,
communication and bubble included, on its largest runs (Narayanan et al. 2021, Table 1: 163 of
312 TFLOP/s), so the kernels alone reach at least that."""

ACTIVATION_BYTES = 2
"""bf16 activations and gradients sent between ranks."""

GRADIENT_BYTES = 2
"""Bytes per gradient element in the data-parallel reduction (ZeRO paper's 2Ψ count for fp16)."""


def flop_per_token(shape: ModelShape, seq: int) -> dict[str, float]:
    """Return model and hardware FLOPs per training token, by recomputation mode.

    Keys: ``model`` (3 × forward), ``none``, ``selective``, ``full`` (hardware FLOPs),
    ``attention`` (the forward score and value FLOPs, which selective recomputation repeats),
    ``head`` (the forward FLOPs of the output head, which full recomputation does not repeat).
    """
    flops = count_flops(shape.arch, seq)
    forward = flops.forward_flop_per_token_at_seq
    attention = flops.attention_flop_per_token
    head = 2.0 * shape.vocab_size * shape.hidden_size
    model = 3.0 * forward
    return {
        "model": model,
        "none": model,
        "selective": model + attention,
        "full": model + forward - head,
        "attention": attention,
        "head": head,
    }


def pipeline_bubble(pp: np.ndarray, micro_batches: np.ndarray, interleave: np.ndarray) -> np.ndarray:
    """Return the fraction of a step the pipeline idles: (p − 1) ÷ (v·m + p − 1).

    For 1F1B (v = 1) this is (p − 1)/(m + p − 1); interleaving v chunks per GPU divides the
    bubble time by v (Narayanan et al. 2021, section 2.2).
    """
    pp = np.asarray(pp, dtype=float)
    return (pp - 1) / (interleave * micro_batches + pp - 1)


def mfu_from_throughput(tokens_per_s: float, model_flop_per_token: float, gpus: int, peak_flop_per_s: float) -> float:
    """Return MFU: tokens/s × model FLOPs per token ÷ (GPUs × peak), as PaLM defines it."""
    return tokens_per_s * model_flop_per_token / (gpus * peak_flop_per_s)


def _link_bandwidth(gpu: GPU, span: np.ndarray) -> np.ndarray:
    """Return one-direction bytes/s per GPU for a group spanning `span` consecutive ranks."""
    intra = (gpu.intra_node_bytes_per_s or gpu.inter_node_bytes_per_s or 25e9) / 2
    inter = gpu.inter_node_bytes_per_s or intra
    return np.where(span <= gpu.gpus_per_node, intra, inter)


def _ring(size: np.ndarray) -> np.ndarray:
    """Return the share of a buffer that each rank sends in a ring all-gather or reduce-scatter."""
    size = np.asarray(size, dtype=float)
    return (size - 1) / size


def _gemm_efficiency(shape: ModelShape, gpu: GPU, tokens: np.ndarray, tp: np.ndarray, ep: np.ndarray) -> np.ndarray:
    """Return COMPUTE_EFFICIENCY, lowered where the thinnest per-rank matmul is memory-bound.

    A bf16 (M×K)·(K×N) matmul does 2MKN FLOP over 2(MK + KN + MN) bytes. Below the GPU's
    ridge point its rate falls in proportion to that intensity, as the roofline model predicts.
    """

    def intensity(m: np.ndarray, k: float, n: np.ndarray) -> np.ndarray:
        return m * k * n / (m * k + k * n + m * n)

    h = float(shape.hidden_size)
    width = np.minimum(shape.heads * shape.head_dim, shape.intermediate_size) / tp
    worst = intensity(tokens, h, width)
    if shape.moe_layers:
        expert_tokens = tokens * shape.experts_per_token * ep / shape.num_experts
        worst = np.minimum(worst, intensity(expert_tokens, h, shape.expert_intermediate_size / tp))
    return COMPUTE_EFFICIENCY * np.minimum(1.0, worst / gpu.ridge_flop_per_byte)


def step_time_arrays(
    shape: ModelShape,
    gpu: GPU,
    grid: dict[str, np.ndarray],
    seq: int,
    global_batch: int,
    mfu: float | None = None,
    achieved_flop_per_s: float | None = None,
) -> dict[str, np.ndarray]:
    """Return step time and its parts (seconds), FLOPs per step, MFU and HFU of every layout.

    With `mfu` or `achieved_flop_per_s` (hardware FLOP/s per GPU, as Megatron-LM reports) the
    step time follows from that rate, and the modelled communication and bubble are reported
    as already inside it. Otherwise step time = compute ÷ (1 − bubble) + exposed communication,
    with compute at the peak × `_gemm_efficiency`.
    """
    tp, pp, dp, ep, cp, zero, mb, v, rc = (
        grid[k] for k in ("tp", "pp", "dp", "ep", "cp", "zero", "micro_batch", "interleave", "recompute")
    )
    gpus = (tp * pp * dp * cp).astype(float)
    micro_batches = global_batch // (dp * mb)
    tokens_per_step = float(global_batch * seq)

    # 1. FLOPs per step.
    per_token = flop_per_token(shape, seq)
    hardware_per_token = np.array([per_token["none"], per_token["selective"], per_token["full"]])[rc]
    model_flop = tokens_per_step * per_token["model"]
    hardware_flop = tokens_per_step * hardware_per_token

    # 2. Compute on one GPU, and the pipeline bubble around it. The last pipeline stage also runs
    #    the output head, so with pp > 1 it is the slowest stage and sets the pace of every stage.
    #    NOTE: assumes even layer counts per stage. Real runs (Llama 3 405B) give the first and
    #    last stages fewer blocks to even out the load, which this leaves out.
    tokens_per_rank = (mb * seq / cp).astype(float)
    efficiency = _gemm_efficiency(shape, gpu, tokens_per_rank, tp, ep)
    head_per_token = 3.0 * per_token["head"]
    stage_imbalance = (hardware_per_token - head_per_token + pp * head_per_token) / hardware_per_token
    compute = hardware_flop * stage_imbalance / (gpus * gpu.bf16_flop_per_s * efficiency)
    bubble = pipeline_bubble(pp, micro_batches, v)
    compute_per_micro_batch = compute / micro_batches

    # 3. Communication volumes per GPU per step, each over the link its group spans.
    h = shape.hidden_size
    stage_layers = shape.layers / pp
    layer_activation = tokens_per_rank * h * ACTIVATION_BYTES
    # Tensor parallel: 2 all-reduces forward and 2 backward per block (2 more forward with full
    # recomputation); all-gather plus reduce-scatter under sequence parallelism moves the same.
    tp_collectives = 4 + 2 * (rc == 2)
    tp_bytes = tp_collectives * 2 * _ring(tp) * layer_activation * stage_layers * micro_batches
    tp_s = tp_bytes / _link_bandwidth(gpu, tp)
    # Context parallel: ring attention passes K and V (forward), then K, V and their gradients.
    kv_bytes = 2 * tokens_per_rank * shape.kv_heads * shape.head_dim * ACTIVATION_BYTES / tp
    cp_s = 3 * (cp - 1) * kv_bytes * stage_layers * micro_batches / _link_bandwidth(gpu, tp * cp)
    # Expert parallel: dispatch and combine all-to-alls, forward and backward, per MoE block.
    moe_stage_layers = shape.moe_layers / pp
    routed = tokens_per_rank / tp * shape.experts_per_token * h * ACTIVATION_BYTES
    ep_s = 4 * _ring(ep) * routed * moe_stage_layers * micro_batches / _link_bandwidth(gpu, tp * cp * ep)
    # Pipeline: each micro-batch's activations forward and gradients backward, at v boundaries.
    pp_bytes = np.where(pp > 1, 2 * v * layer_activation / tp * micro_batches, 0.0)
    pp_s = pp_bytes / _link_bandwidth(gpu, tp * cp * dp * pp)
    # Data parallel: gradient all-reduce (2Ψ) or reduce-scatter plus all-gather for ZeRO-1/2
    # (also 2Ψ); ZeRO-3 gathers weights for forward and backward and reduce-scatters gradients
    # on every micro-batch (3Ψ each; Rajbhandari et al. 2020, section 7).
    dense_params = (shape.dense_block_params / pp + shape.input_embedding_params) / tp
    expert_params = shape.expert_params / (pp * tp * ep)
    group = dp * cp
    dp_volume = GRADIENT_BYTES * (dense_params * _ring(group) + expert_params * _ring(group / ep))
    dp_link = _link_bandwidth(gpu, tp * group)
    dp_s = np.where(zero == 3, 3 * dp_volume * micro_batches, 2 * dp_volume) / dp_link

    # 4. Exposed communication. Data-parallel reduction overlaps the backward pass of the last
    #    micro-batch (Megatron-LM --overlap-grad-reduce). ZeRO-3 gathers are prefetched during
    #    compute, and ring attention overlaps the attention kernel. Tensor-parallel collectives,
    #    all-to-alls and pipeline sends are assumed not to overlap at all.
    last_backward = compute_per_micro_batch * 2 / 3
    attention_share = 3 * per_token["attention"] / hardware_per_token
    exposed_dp = np.where(zero == 3, np.maximum(0.0, dp_s - compute), np.maximum(0.0, dp_s - last_backward))
    exposed_cp = np.maximum(0.0, cp_s - compute * attention_share)
    exposed = tp_s + ep_s + pp_s + exposed_dp + exposed_cp

    modelled = compute / (1 - bubble) + exposed
    if mfu is not None:
        step = model_flop / (gpus * gpu.bf16_flop_per_s * mfu)
    elif achieved_flop_per_s is not None:
        step = hardware_flop / (gpus * achieved_flop_per_s)
    else:
        step = modelled
    busy = gpus * gpu.bf16_flop_per_s * step
    return {
        "step_time": step,
        "compute": compute,
        "bubble_time": compute * bubble / (1 - bubble),
        "bubble_fraction": bubble,
        "communication": tp_s + cp_s + ep_s + pp_s + dp_s,
        "exposed_communication": exposed,
        "tp_comm": tp_s,
        "cp_comm": cp_s,
        "ep_comm": ep_s,
        "pp_comm": pp_s,
        "dp_comm": dp_s,
        "efficiency": efficiency,
        "model_flop": np.broadcast_to(model_flop, step.shape),
        "hardware_flop": hardware_flop,
        "tokens_per_s": tokens_per_step / step,
        "mfu": model_flop / busy,
        "hfu": hardware_flop / busy,
        "gpus": gpus,
        "micro_batches": micro_batches,
    }
