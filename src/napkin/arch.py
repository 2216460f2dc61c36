"""The model architecture: small frozen types that every estimate reads.

Symbols used across the package:

- N parameters, D training tokens, V vocabulary;
- L layers, h hidden size, f MLP intermediate size;
- a query heads, a_kv key/value heads, d head dimension;
- s sequence length, b micro-batch;
- E experts, k experts per token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Attention", "DenseMLP", "Layer", "ModelArch", "MoE"]

QKNorm = Literal["none", "per_head", "full"]


@dataclass(frozen=True)
class Attention:
    """One layer's attention: multi-head (MHA, GQA, MQA) or multi-head latent attention (MLA).

    For MHA-style attention, `head_dim` is both the query/key and the value width. For MLA
    (DeepSeek-V2/V3), queries and keys have `qk_nope_head_dim + qk_rope_head_dim` channels per
    head, values `v_head_dim`, and the cache stores the `kv_lora_rank` latent plus the shared
    rope key.
    """

    num_heads: int
    num_kv_heads: int
    head_dim: int
    qkv_bias: bool = False
    out_bias: bool = False
    qk_norm: QKNorm = "none"
    sinks: bool = False
    kind: Literal["mha", "mla"] = "mha"
    q_lora_rank: int | None = None
    kv_lora_rank: int = 0
    qk_nope_head_dim: int = 0
    qk_rope_head_dim: int = 0
    v_head_dim: int = 0

    @property
    def qk_head_dim(self) -> int:
        """Channels per head in the query-key dot product."""
        if self.kind == "mla":
            return self.qk_nope_head_dim + self.qk_rope_head_dim
        return self.head_dim

    @property
    def value_head_dim(self) -> int:
        """Channels per head of the values (and of the attention output)."""
        return self.v_head_dim if self.kind == "mla" else self.head_dim


@dataclass(frozen=True)
class DenseMLP:
    """A feed-forward block: gated (SwiGLU/GeGLU, three matrices) or plain (two matrices)."""

    intermediate_size: int
    gated: bool = True
    bias: bool = False


@dataclass(frozen=True)
class MoE:
    """A mixture-of-experts block: E routed experts, k of them per token, plus shared experts."""

    num_experts: int
    experts_per_token: int
    expert: DenseMLP
    shared: DenseMLP | None = None
    router_bias: bool = False


@dataclass(frozen=True)
class Layer:
    """One transformer block.

    `sliding_window` is the number of most recent tokens the layer attends to (None for full
    attention). `norms` counts the h-wide normalisation weight vectors in the block (2 for
    pre-norm Llama, 4 for Gemma 2/3's pre- and post-norms), each with a bias when `norm_bias`.
    """

    attention: Attention
    mlp: DenseMLP | MoE
    sliding_window: int | None = None
    norms: int = 2
    norm_bias: bool = False

    @property
    def is_moe(self) -> bool:
        return isinstance(self.mlp, MoE)


@dataclass(frozen=True)
class ModelArch:
    """A decoder-only language model, as read from a config.json or a preset.

    `layers` holds one entry per block, so models that mix dense and MoE blocks (DeepSeek) or
    sliding-window and full-attention blocks (Gemma, gpt-oss) are described exactly.
    `vision_params` and `projector_params` count a vision tower and its projection into the text
    width; both are reported beside, not inside, the language model.
    """

    name: str
    model_type: str
    hidden_size: int
    vocab_size: int
    layers: tuple[Layer, ...]
    tie_word_embeddings: bool = False
    learned_positions: int = 0
    final_norm_bias: bool = False
    max_position_embeddings: int | None = None
    vision_params: int = 0
    projector_params: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @property
    def is_moe(self) -> bool:
        return any(layer.is_moe for layer in self.layers)

    @property
    def attention(self) -> Attention:
        """The first layer's attention, which every supported family uses in all layers."""
        return self.layers[0].attention

    def __repr__(self) -> str:
        first = self.layers[0]
        return (
            f"ModelArch(name={self.name!r}, model_type={self.model_type!r}, L={self.num_layers}, "
            f"h={self.hidden_size}, a={first.attention.num_heads}, a_kv={first.attention.num_kv_heads}, "
            f"V={self.vocab_size}, moe={self.is_moe})"
        )
