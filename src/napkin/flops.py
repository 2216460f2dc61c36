"""FLOPs per token: the 2N/6N rules, the exact matmul count, and PaLM's model FLOPs.

A FLOP count counts a multiply-add as 2. A matmul of (m×k)·(k×n) costs 2·m·k·n FLOP.
"""

from __future__ import annotations

from dataclasses import dataclass

from .arch import Attention, DenseMLP, Layer, ModelArch, MoE
from .errors import OptionError

__all__ = [
    "FlopCount",
    "attention_keys_per_query",
    "count_flops",
    "matmul_params_per_token",
    "palm_model_flop_per_token",
]


@dataclass(frozen=True)
class FlopCount:
    """Forward FLOPs per token of a model at sequence length `seq`.

    `matmul_flop_per_token` is 2 × the weights a token multiplies (projections, active experts,
    router, LM head). The embedding lookup, norms, biases and activations are not matmuls, so
    they are left out, as PyTorch's FlopCounterMode leaves them out. `attention_flop_per_token`
    adds the score (Q·Kᵀ) and value (P·V) matmuls over the full s×s score matrix;
    `attention_flop_per_token_causal` counts only the query-key pairs a causal mask (and any
    sliding window) lets through.
    """

    seq: int
    matmul_flop_per_token: float
    attention_flop_per_token: float
    attention_flop_per_token_causal: float

    @property
    def forward_flop_per_token_at_seq(self) -> float:
        return self.matmul_flop_per_token + self.attention_flop_per_token

    @property
    def forward_flop_per_token_causal(self) -> float:
        return self.matmul_flop_per_token + self.attention_flop_per_token_causal

    @property
    def train_flop_per_token_at_seq(self) -> float:
        """Forward plus backward: 3 × the forward count, because the backward pass of each matmul
        computes two products of the forward's size, one for the input gradient and one for
        the weight (or second operand) gradient."""
        return 3 * self.forward_flop_per_token_at_seq


def _attention_matmul_params(att: Attention, h: int) -> int:
    a = att.num_heads
    if att.kind == "mla":
        qk = att.qk_nope_head_dim + att.qk_rope_head_dim
        q = (h * att.q_lora_rank + att.q_lora_rank * a * qk) if att.q_lora_rank else h * a * qk
        kv = h * (att.kv_lora_rank + att.qk_rope_head_dim) + att.kv_lora_rank * a * (att.qk_nope_head_dim + att.v_head_dim)
        return q + kv + a * att.v_head_dim * h
    d = att.head_dim
    return h * a * d + 2 * h * att.num_kv_heads * d + a * d * h


def _mlp_matmul_params(mlp: DenseMLP, h: int) -> int:
    return (3 if mlp.gated else 2) * h * mlp.intermediate_size


def _ffn_matmul_params(layer: Layer, h: int) -> int:
    mlp = layer.mlp
    if isinstance(mlp, MoE):
        shared = _mlp_matmul_params(mlp.shared, h) if mlp.shared else 0
        return h * mlp.num_experts + mlp.experts_per_token * _mlp_matmul_params(mlp.expert, h) + shared
    return _mlp_matmul_params(mlp, h)


def matmul_params_per_token(arch: ModelArch) -> int:
    """Return the weights one token multiplies in a forward pass (active experts only, LM head included)."""
    h = arch.hidden_size
    blocks = sum(_attention_matmul_params(layer.attention, h) + _ffn_matmul_params(layer, h) for layer in arch.layers)
    return blocks + arch.vocab_size * h


def attention_keys_per_query(seq: int, window: int | None, causal: bool) -> float:
    """Return the mean number of keys each of `seq` queries is scored against.

    Full score matrix: s. Causal: (s + 1) / 2, the lower triangle with its diagonal. Causal
    with a sliding window of w: the mean of min(i, w) over positions i = 1..s.
    """
    if not causal:
        return float(seq)
    if window is None or window >= seq:
        return (seq + 1) / 2
    # Positions 1..w see i keys; positions w+1..s see w keys.
    return (window * (window + 1) / 2 + (seq - window) * window) / seq


def _attention_flop_per_token(layer: Layer, keys: float) -> float:
    att = layer.attention
    return 2 * att.num_heads * (att.qk_head_dim + att.value_head_dim) * keys


def count_flops(arch: ModelArch, seq: int) -> FlopCount:
    """Count forward FLOPs per token at sequence length `seq`, with full and causal attention."""
    if not seq >= 1:
        raise OptionError(f"invalid sequence length {seq!r}: must be 1 token or more")
    matmul = 2.0 * matmul_params_per_token(arch)
    full = sum(_attention_flop_per_token(layer, float(seq)) for layer in arch.layers)
    causal = sum(
        _attention_flop_per_token(layer, attention_keys_per_query(seq, layer.sliding_window, causal=True))
        for layer in arch.layers
    )
    return FlopCount(seq, matmul, full, causal)


def palm_model_flop_per_token(params: float, layers: int, heads: int, head_dim: float, seq: int) -> float:
    """Return model FLOPs per training token, 6·N + 12·L·H·Q·T.

    Chowdhery et al. 2022 (PaLM), Appendix B: N parameters, L layers, H heads, Q head
    dimension, T sequence length. The attention term counts the full score matrix (no causal
    halving), forward and backward; this is the numerator of MFU.
    """
    if min(params, layers, heads, head_dim, seq) < 0:
        raise OptionError("invalid PaLM FLOPs inputs: parameters, layers, heads, head width and sequence must be 0 or more")
    return 6.0 * params + 12.0 * layers * heads * head_dim * seq
