"""GPU memory: weights, training state (optimizer and gradients), activations and KV cache.

Sizes are in bytes. "Per GPU" figures divide what is shardable by the sharding that is named.
Nothing here adds framework overhead (CUDA context, allocator fragmentation), and the functions
that form a total state that they leave it out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from .arch import Layer, ModelArch, MoE
from .errors import OptionError

__all__ = [
    "ActivationParts",
    "DTYPE_BYTES",
    "OPTIMIZERS",
    "OptimizerBytes",
    "SavedTensorProfile",
    "FUSED_KERNELS",
    "TrainingState",
    "activation_bytes_per_layer",
    "activation_bytes_total",
    "cached_tokens",
    "int4_bytes_per_param",
    "kv_cache_bytes",
    "kv_cache_bytes_per_token",
    "kv_cache_bytes_per_token_per_layer",
    "min_gpus",
    "training_state",
    "transformers_profile",
    "weight_bytes",
]

Recompute = Literal["none", "selective", "full"]
AttentionKernel = Literal["flash", "eager"]

DTYPE_BYTES: dict[str, float] = {"fp32": 4, "bf16": 2, "fp16": 2, "fp8": 1, "int8": 1, "int4": 0.5}
"""Bytes per element of each storage type; int4 excludes its group scales (see `int4_bytes_per_param`)."""

INT4_GROUP_SIZE = 128
"""Default int4 quantisation group, as AWQ and GPTQ checkpoints commonly use."""


def int4_bytes_per_param(group_size: int = INT4_GROUP_SIZE) -> float:
    """Return bytes per parameter of group-wise int4: 0.5 + (2 + 0.5) / g.

    Each group of g weights stores a 16-bit scale and a 4-bit zero point (the asymmetric
    AWQ/GPTQ layout), so g = 128 gives 0.5195 bytes per parameter.
    """
    if group_size < 1:
        raise OptionError(f"invalid int4 group size {group_size}: must be 1 or more, e.g. 128")
    return 0.5 + 2.5 / group_size


def weight_bytes(params: float, dtype: str, group_size: int = INT4_GROUP_SIZE) -> float:
    """Return the bytes of `params` weights stored as `dtype` (every parameter at that type)."""
    if dtype not in DTYPE_BYTES:
        raise OptionError(f"unknown dtype {dtype!r}: use one of {', '.join(DTYPE_BYTES)}")
    if not (math.isfinite(params) and params >= 0):
        raise OptionError(f"invalid parameter count {params!r}: must be a finite number, 0 or more")
    per_param = int4_bytes_per_param(group_size) if dtype == "int4" else DTYPE_BYTES[dtype]
    return params * per_param


# --- training state ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OptimizerBytes:
    """Bytes per parameter of an optimizer setup: weights, gradients, optimizer state.

    `optimizer` includes an fp32 master copy of the weights where the setup keeps one.
    """

    name: str
    weights: float
    gradients: float
    optimizer: float
    description: str

    @property
    def total(self) -> float:
        return self.weights + self.gradients + self.optimizer


OPTIMIZERS: dict[str, OptimizerBytes] = {
    # Rajbhandari et al. 2020 (ZeRO), section 3.1: (2 + 2 + K)·Ψ with K = 12 for mixed-precision Adam.
    "adam": OptimizerBytes(
        "adam", 2, 2, 12, "mixed-precision Adam: bf16 weights and gradients, fp32 master weights, momentum and variance"
    ),
    "adam-fp32": OptimizerBytes("adam-fp32", 4, 4, 8, "fp32 Adam: fp32 weights and gradients, fp32 momentum and variance"),
    # Dettmers et al. 2022, "8-bit Optimizers via Block-wise Quantization": 1 byte per state;
    # the per-block quantisation constants (one per 2,048 values) are left out.
    "adam-8bit": OptimizerBytes(
        "adam-8bit", 2, 2, 6, "8-bit Adam in mixed precision: bf16 weights and gradients, fp32 master, 8-bit momentum and variance"
    ),
    "sgd": OptimizerBytes("sgd", 2, 2, 8, "SGD with momentum in mixed precision: bf16 weights and gradients, fp32 master and momentum"),
    "sgd-fp32": OptimizerBytes("sgd-fp32", 4, 4, 4, "fp32 SGD with momentum: fp32 weights, gradients and momentum"),
}


@dataclass(frozen=True)
class TrainingState:
    """Per-GPU bytes of weights, gradients and optimizer state under ZeRO sharding."""

    weights_bytes: float
    gradients_bytes: float
    optimizer_bytes: float
    zero_stage: int
    dp: int

    @property
    def total_bytes(self) -> float:
        return self.weights_bytes + self.gradients_bytes + self.optimizer_bytes


def training_state(params: float, optimizer: str = "adam", zero_stage: int = 0, dp: int = 1) -> TrainingState:
    """Return per-GPU training state bytes for `params` parameters.

    ZeRO (Rajbhandari et al. 2020, Figure 1): stage 1 shards the optimizer state over the `dp`
    data-parallel ranks, stage 2 also the gradients, stage 3 (and FSDP full sharding) also the
    weights.
    """
    if optimizer not in OPTIMIZERS:
        raise OptionError(f"unknown optimizer {optimizer!r}: use one of {', '.join(OPTIMIZERS)}")
    if zero_stage not in (0, 1, 2, 3):
        raise OptionError(f"invalid ZeRO stage {zero_stage}: use 0, 1, 2 or 3")
    if dp < 1:
        raise OptionError(f"invalid data-parallel size {dp}: must be 1 or more")
    spec = OPTIMIZERS[optimizer]
    optimizer_shards = dp if zero_stage >= 1 else 1
    gradient_shards = dp if zero_stage >= 2 else 1
    weight_shards = dp if zero_stage >= 3 else 1
    return TrainingState(
        weights_bytes=params * spec.weights / weight_shards,
        gradients_bytes=params * spec.gradients / gradient_shards,
        optimizer_bytes=params * spec.optimizer / optimizer_shards,
        zero_stage=zero_stage,
        dp=dp,
    )


# --- activations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivationParts:
    """Bytes one block saves for the backward pass, by part."""

    norms: float
    attention: float
    attention_scores: float
    mlp: float
    dropout_masks: float

    @property
    def total(self) -> float:
        return self.norms + self.attention + self.attention_scores + self.mlp + self.dropout_masks


@dataclass(frozen=True)
class SavedTensorProfile:
    """Bytes that one implementation's norm, activation and softmax code keeps for backward.

    `norm_bytes_per_element` and `norm_bytes_per_row` are what each h-wide norm keeps besides
    the 16-bit output that the next projection saves as its input. The q/k-norm fields are the
    same for the norms on queries and keys. `activation_extra_tensors` counts f-wide 16-bit
    tensors an MLP activation keeps beyond its input and output. `softmax_bytes_per_score` is
    what eager attention keeps per entry of the s×s score matrix, before dropout. The MoE fields
    are what an experts implementation keeps per element of each routed expert's h-wide output
    and per (token, expert) pair for the routing (indices and weights). `eager_repeats_kv` is
    true when eager attention multiplies (and so keeps) keys and values repeated to all query
    heads. `fused_qkv_keeps_qk` is true when the values kept for backward are a view of one fused
    q/k/v projection output, which keeps its q and k parts alive too. `flash_output_copied` is
    true when the SDPA output and the output projection's input are two copies.
    `router_input_fp32` is true when the MoE router multiplies (and keeps) an fp32 copy of its input.
    """

    name: str
    norm_bytes_per_element: float = 2
    norm_bytes_per_row: float = 0
    qk_norm_bytes_per_element: float = 0
    qk_norm_bytes_per_row: float = 0
    activation_extra_tensors: int = 0
    softmax_bytes_per_score: float = 2
    expert_output_bytes_per_element: float = 0
    routing_bytes_per_pair: float = 0
    eager_repeats_kv: bool = False
    fused_qkv_keeps_qk: bool = False
    flash_output_copied: bool = False
    router_input_fp32: bool = False


FUSED_KERNELS = SavedTensorProfile("fused")
"""Korthikanti et al. 2022's count: fused norm and activation kernels (Megatron-LM) keep only
their 16-bit input, and eager attention keeps the 16-bit softmax output.

NOTE: this profile leaves out the q/k norms of Qwen 3, Gemma 3 and OLMo 2, which keep at least
their 16-bit input, 2·s·b·(a + a_kv)·d bytes."""

# transformers 5.25 eager code, measured with saved_tensors_hooks (napkin verify):
# - LlamaRMSNorm and its copies upcast the input to fp32 and keep that copy (4 bytes per
#   element), the fp32 reciprocal RMS per row (4 bytes), and the normalised 16-bit tensor
#   that the weight multiplies (2 bytes);
# - Gemma's RMSNorm also normalises in fp32 and multiplies by (1 + weight) in fp32, so it
#   keeps the fp32 input and the fp32 normalised tensor (8 bytes per element);
# - nn.LayerNorm (GPT-2, Falcon) keeps its 16-bit input and a mean and reciprocal standard
#   deviation per row (fp32 on CUDA; the CPU kernel keeps them in the input type);
# - GPT-2's "gelu_new" is written out in Python: besides its input it keeps the tanh output,
#   0.5·x and 1 + tanh(…), three more f-wide tensors;
# - eager attention keeps the fp32 softmax output and its 16-bit copy that multiplies V
#   (6 bytes per score); Gemma 2's soft-capping also keeps the tanh output (2 more bytes);
# - the grouped_mm experts implementation keeps each routed expert's 16-bit output for the
#   routing-weight gradient (2 bytes per element), and per (token, expert) pair the int64
#   top-k index, three int64 sort and offset indices, the fp32 top-k weight and its 16-bit
#   copy (38 bytes);
# - eager attention repeats GQA keys and values to every query head (repeat_kv) before the
#   matmuls, so it keeps a·d-wide keys and values;
# - gpt-oss and OLMo 2 multiply the RMSNorm weight in fp32 (8 bytes per element, as Gemma);
# - gpt-oss computes its sink softmax in 16 bits (2 bytes per score), and its clamped SwiGLU
#   keeps three more f-wide tensors than SwiGLU (the clamped gate and up projections and the
#   sigmoid);
# - Phi-3 slices q, k and v from one fused projection. Rotary embedding makes new q and k, but
#   v stays a view, so SDPA keeps the whole fused output. With the query sliced that way, CPU
#   SDPA returns its output in (b, a, s, d) layout, so the reshape before the output projection
#   copies it and both copies are kept;
# - DeepSeek's router computes its scores in fp32, so it keeps an fp32 copy of its input.
_LLAMA_RMSNORM = SavedTensorProfile("transformers", 6, 4, 6, 4, 0, 6, 2, 38, True)
_TRANSFORMERS_PROFILES = {
    "gemma2": SavedTensorProfile("transformers", 8, 4, 8, 4, 0, 8, 2, 38, True),
    "gemma3": SavedTensorProfile("transformers", 8, 4, 8, 4, 0, 6, 2, 38, True),
    "gemma3_text": SavedTensorProfile("transformers", 8, 4, 8, 4, 0, 6, 2, 38, True),
    "gpt2": SavedTensorProfile("transformers", 2, 8, 0, 0, 3, 6, 2, 38, True),
    "falcon": SavedTensorProfile("transformers", 2, 8, 0, 0, 0, 6, 2, 38, True),
    "gpt_oss": SavedTensorProfile("transformers", 8, 4, 0, 0, 3, 2, 2, 38, True),
    "olmo2": SavedTensorProfile("transformers", 8, 4, 8, 4, 0, 6, 2, 38, True),
    "deepseek_v2": replace(_LLAMA_RMSNORM, router_input_fp32=True),
    "deepseek_v3": replace(_LLAMA_RMSNORM, router_input_fp32=True),
    "phi3": SavedTensorProfile(
        "transformers", 6, 4, 6, 4, 0, 6, 2, 38, True, fused_qkv_keeps_qk=True, flash_output_copied=True
    ),
}


def transformers_profile(model_type: str) -> SavedTensorProfile:
    """Return what transformers' eager code of a model family keeps for backward (see above)."""
    return _TRANSFORMERS_PROFILES.get(model_type, _LLAMA_RMSNORM)


def activation_bytes_per_layer(
    layer: Layer,
    hidden_size: int,
    seq: int,
    micro_batch: int,
    recompute: Recompute = "none",
    attention_kernel: AttentionKernel = "flash",
    dropout: bool = False,
    tp: int = 1,
    sequence_parallel: bool = False,
    profile: SavedTensorProfile = FUSED_KERNELS,
) -> ActivationParts:
    """Return the bytes one block keeps for backward, with 16-bit activations.

    Generalises Korthikanti et al. 2022, "Reducing Activation Recomputation in Large
    Transformer Models", Table 2. For a GPT block (MLP width 4h, a heads, dropout, eager
    attention) the paper gives s·b·h·(34 + 5·a·s/h) with no recomputation, s·b·h·34 with
    selective recomputation and s·b·h·2 with full recomputation. Tensor parallelism of size t
    divides the parts inside attention and MLP by t, and sequence parallelism divides the rest
    too. Here each saved tensor is sized from the architecture: GQA keys and values, gated MLPs (four
    f-wide tensors), MoE experts (k copies of each routed token), Gemma's extra norms.

    With ``attention_kernel="flash"`` the s×s scores are not stored: the kernel keeps its
    output, already counted as the output projection's input, and an fp32 log-sum-exp per
    query and head. Dropout masks (1 byte per element) are counted only with `dropout`, since
    current models train without dropout.

    `profile` says what the norm, activation and softmax code keeps. The default is the
    paper's fused kernels; ``transformers_profile(model_type)`` gives what transformers' eager
    code keeps (an fp32 copy of each RMSNorm input, for one).
    """
    if seq < 1 or micro_batch < 1 or tp < 1:
        raise OptionError(f"invalid sequence {seq}, micro-batch {micro_batch} or tp {tp}: each must be 1 or more")
    if recompute not in ("none", "selective", "full"):
        raise OptionError(f"unknown recompute mode {recompute!r}: use none, selective or full")
    if attention_kernel not in ("flash", "eager"):
        raise OptionError(f"unknown attention kernel {attention_kernel!r}: use flash or eager")
    s, b, h, t = seq, micro_batch, hidden_size, tp
    sb = s * b
    att = layer.attention
    replicated = 1 if not sequence_parallel else t  # divisor of the parts TP leaves whole

    if recompute == "full":
        # Only the block input is kept; the block is recomputed during backward.
        return ActivationParts(norms=2 * sb * h / replicated, attention=0, attention_scores=0, mlp=0, dropout_masks=0)

    # 1. Norm inputs and the (shared) inputs of the attention and MLP projections.
    norms = layer.norms * sb * (profile.norm_bytes_per_element * h + profile.norm_bytes_per_row) / replicated
    projection_inputs = 2 * (2 * sb * h) / replicated

    # 2. Attention: Q and K for the scores, V, the output projection's input.
    if att.kind == "mla":
        # NOTE: with q/k width ≠ v width, PyTorch 2.13's CPU SDPA falls back to its math backend,
        # which keeps fp32 Q, K, V and the fp32 s×s softmax output. That backend is not modelled,
        # so `napkin verify` measures MLA with eager attention.
        # Each latent (query, if compressed, and key-value) passes a norm and feeds an up-projection.
        latent_width = (att.q_lora_rank or 0) + att.kv_lora_rank
        latent_norms = 2 if att.q_lora_rank else 1
        latent = sb * (latent_width * (profile.norm_bytes_per_element + 2) + latent_norms * profile.norm_bytes_per_row)
        q_and_k = 2 * sb * 2 * att.num_heads * att.qk_head_dim / t
        values = 2 * sb * att.num_heads * att.value_head_dim / t
        attention = latent / replicated + q_and_k + values
    else:
        kept_kv_heads = att.num_kv_heads
        if attention_kernel == "eager" and profile.eager_repeats_kv and recompute == "none":
            kept_kv_heads = att.num_heads
        q_and_k = 2 * sb * (att.num_heads + kept_kv_heads) * att.head_dim / t
        values = 2 * sb * kept_kv_heads * att.head_dim / t
        attention = q_and_k + values
        if profile.fused_qkv_keeps_qk:
            attention += 2 * sb * (att.num_heads + att.num_kv_heads) * att.head_dim / t
        # NOTE: Falcon's CPU SDPA keeps about 2·s·b·h bytes more than this without recomputation
        # (measured at 512 tokens); the tensor is not traced.
        if profile.flash_output_copied and attention_kernel == "flash" and recompute == "none":
            attention += 2 * sb * att.num_heads * att.head_dim / t
    attention += 2 * sb * att.num_heads * att.value_head_dim / t + projection_inputs / 2
    if att.qk_norm != "none":
        normed_heads = att.num_heads + att.num_kv_heads
        rows = normed_heads if att.qk_norm == "per_head" else 2
        per_token = profile.qk_norm_bytes_per_element * normed_heads * att.head_dim + profile.qk_norm_bytes_per_row * rows
        attention += sb * per_token / t

    # 3. Scores: eager attention keeps the softmax output (and dropout's mask and output);
    #    flash attention keeps only the fp32 log-sum-exp. Selective recomputation drops both.
    heads_per_rank = att.num_heads / t
    if recompute == "selective":
        scores = 0.0
    elif attention_kernel == "eager":
        scores = (profile.softmax_bytes_per_score + (3 if dropout else 0)) * heads_per_rank * s * s * b
    else:
        scores = 4 * heads_per_rank * sb

    # 4. MLP: its input, then per expert (or the one dense MLP) the f-wide tensors.
    mlp_input = projection_inputs / 2
    if isinstance(layer.mlp, MoE):
        moe = layer.mlp
        per_token_tensors = (8 if moe.expert.gated else 4) + 2 * profile.activation_extra_tensors
        per_pair = (2 + profile.expert_output_bytes_per_element) * h + per_token_tensors * moe.expert.intermediate_size
        routed = moe.experts_per_token * (per_pair + profile.routing_bytes_per_pair)
        shared = 0
        if moe.shared:
            shared = ((8 if moe.shared.gated else 4) + 2 * profile.activation_extra_tensors) * moe.shared.intermediate_size
        # NOTE: DeepSeek's group-limited router keeps a few more small tensors than this
        # (measured: 2-3% of a DeepSeek block), which are not modelled.
        router = 4 * moe.num_experts  # fp32 router probabilities per token
        if profile.router_input_fp32:
            router += 4 * h
        mlp = mlp_input + sb * (routed + shared) / t + sb * router / replicated
    else:
        per_token_tensors = (8 if layer.mlp.gated else 4) + 2 * profile.activation_extra_tensors
        mlp = mlp_input + per_token_tensors * sb * layer.mlp.intermediate_size / t

    # 5. Dropout masks after attention and after the MLP.
    masks = (2 * sb * h / replicated) if dropout else 0.0
    return ActivationParts(norms=norms, attention=attention, attention_scores=scores, mlp=mlp, dropout_masks=masks)


def activation_bytes_total(
    arch: ModelArch,
    seq: int,
    micro_batch: int,
    recompute: Recompute = "none",
    attention_kernel: AttentionKernel = "flash",
    dropout: bool = False,
    tp: int = 1,
    sequence_parallel: bool = False,
    profile: SavedTensorProfile = FUSED_KERNELS,
) -> dict[str, float]:
    """Return a model's activation bytes for one micro-batch, by part.

    Parts: ``layers`` (all blocks), ``output`` (final norm input, LM head input and the fp32
    log-probabilities that cross-entropy keeps, 4·s·b·V), and ``recompute_peak`` (with full
    recomputation, one block's activations rebuilt during its backward pass).
    """
    s, b = seq, micro_batch
    layers = sum(
        activation_bytes_per_layer(
            layer, arch.hidden_size, s, b, recompute, attention_kernel, dropout, tp, sequence_parallel, profile
        ).total
        for layer in arch.layers
    )
    output = 2 * 2 * s * b * arch.hidden_size + 4 * s * b * arch.vocab_size / tp
    peak = 0.0
    if recompute == "full":
        peak = max(
            activation_bytes_per_layer(
                layer, arch.hidden_size, s, b, "none", attention_kernel, dropout, tp, sequence_parallel, profile
            ).total
            for layer in arch.layers
        )
    return {"layers": layers, "output": output, "recompute_peak": peak}


# --- KV cache ----------------------------------------------------------------------------------


def kv_cache_bytes_per_token_per_layer(layer: Layer, dtype_bytes: float = 2) -> float:
    """Return the KV bytes one layer stores per token: 2·a_kv·d·bytes, or (r_kv + d_rope)·bytes for MLA.

    MLA (DeepSeek-V2, arXiv:2405.04434, section 2.1) caches the compressed latent of width
    kv_lora_rank and one shared rope key of width qk_rope_head_dim, instead of per-head keys
    and values.
    """
    att = layer.attention
    if att.kind == "mla":
        return (att.kv_lora_rank + att.qk_rope_head_dim) * dtype_bytes
    return 2 * att.num_kv_heads * att.head_dim * dtype_bytes


def kv_cache_bytes_per_token(arch: ModelArch, dtype_bytes: float = 2) -> float:
    """Return the KV bytes per token summed over all layers (each layer stores every token
    while the context is within its window)."""
    return sum(kv_cache_bytes_per_token_per_layer(layer, dtype_bytes) for layer in arch.layers)


def cached_tokens(context: int, window: int | None) -> int:
    """Return the tokens a layer keeps cached after `context` tokens.

    A full-attention layer keeps all of them. A sliding window of w keeps at most w − 1, because
    the next query brings its own key. The sliding cache of ``transformers`` keeps as many.
    """
    if window is None:
        return context
    return min(context, window - 1)


def kv_cache_bytes(arch: ModelArch, context: int, dtype_bytes: float = 2) -> float:
    """Return the KV bytes of one request of `context` tokens; sliding-window layers keep at most w − 1."""
    if not context >= 0:
        raise OptionError(f"invalid context {context!r}: must be 0 tokens or more")
    return sum(
        kv_cache_bytes_per_token_per_layer(layer, dtype_bytes) * cached_tokens(context, layer.sliding_window)
        for layer in arch.layers
    )


def min_gpus(total_bytes: float, hbm_bytes: float) -> int:
    """Return the fewest GPUs whose memory adds up to `total_bytes`: ⌈total / HBM⌉ (ignores sharding overhead)."""
    if not (math.isfinite(total_bytes) and total_bytes >= 0):
        raise OptionError(f"invalid memory total {total_bytes!r}: must be a finite number of bytes, 0 or more")
    if not (math.isfinite(hbm_bytes) and hbm_bytes > 0):
        raise OptionError(f"invalid GPU memory {hbm_bytes!r}: must be a positive finite number of bytes")
    return max(1, math.ceil(total_bytes / hbm_bytes - 1e-12))
