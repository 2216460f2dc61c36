"""Exact parameter counts from a `ModelArch`.

Counts follow the tensors that ``transformers`` builds for each family: biases, norm weights
(and LayerNorm biases), attention sinks and router biases are included. Tied input and output
embeddings are counted once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .arch import Attention, DenseMLP, Layer, ModelArch, MoE

__all__ = ["ParamCount", "attention_params", "count_params", "layer_params", "mlp_params"]


@dataclass(frozen=True)
class ParamCount:
    """Parameter counts of a language model (a vision tower is reported separately).

    `total = embedding + non_embedding`; `embedding` counts the input embedding, learned position
    embeddings and an untied output head. `active` counts what one token uses: all shared weights
    plus the k routed experts (and shared experts) of each MoE block. `input_embedding` is the
    input table plus learned positions, the part of `embedding` that a token only looks up.
    """

    total: int
    embedding: int
    non_embedding: int
    active: int
    attention: int
    mlp: int
    norms: int
    input_embedding: int
    vision: int = 0
    projector: int = 0

    @property
    def active_excluding_input_embedding(self) -> int:
        """Active parameters less the input embedding table, whose lookup does no arithmetic.

        gpt-oss and DeepSeek publish their "active" figures in this convention."""
        return self.active - self.input_embedding


def attention_params(att: Attention, h: int) -> int:
    """Return the parameters of one attention block (projections, biases, q/k norms, sinks)."""
    a, a_kv = att.num_heads, att.num_kv_heads
    if att.kind == "mla":
        qk = att.qk_nope_head_dim + att.qk_rope_head_dim
        if att.q_lora_rank:
            q = h * att.q_lora_rank + att.q_lora_rank + att.q_lora_rank * a * qk
        else:
            q = h * a * qk
        kv_down = h * (att.kv_lora_rank + att.qk_rope_head_dim) + att.kv_lora_rank
        kv_up = att.kv_lora_rank * a * (att.qk_nope_head_dim + att.v_head_dim)
        out = a * att.v_head_dim * h
        return q + kv_down + kv_up + out

    d = att.head_dim
    q_width, kv_width = a * d, a_kv * d
    projections = h * q_width + 2 * h * kv_width + q_width * h
    biases = 0
    if att.qkv_bias:
        biases += q_width + 2 * kv_width
    if att.out_bias:
        biases += h
    if att.qk_norm == "per_head":
        norms = 2 * d
    elif att.qk_norm == "full":
        norms = q_width + kv_width
    else:
        norms = 0
    sinks = a if att.sinks else 0
    return projections + biases + norms + sinks


def mlp_params(mlp: DenseMLP, h: int) -> int:
    """Return the parameters of one dense MLP: 3·h·f when gated, 2·h·f otherwise, plus biases."""
    f = mlp.intermediate_size
    matrices = 3 if mlp.gated else 2
    biases = 0
    if mlp.bias:
        biases = (2 * f if mlp.gated else f) + h
    return matrices * h * f + biases


def _moe_params(moe: MoE, h: int, experts: int) -> int:
    router = h * moe.num_experts + (moe.num_experts if moe.router_bias else 0)
    shared = mlp_params(moe.shared, h) if moe.shared else 0
    return router + experts * mlp_params(moe.expert, h) + shared


def _ffn_params(layer: Layer, h: int, active: bool) -> int:
    if isinstance(layer.mlp, MoE):
        experts = layer.mlp.experts_per_token if active else layer.mlp.num_experts
        return _moe_params(layer.mlp, h, experts)
    return mlp_params(layer.mlp, h)


def _norm_params(layer: Layer, h: int) -> int:
    return layer.norms * h * (2 if layer.norm_bias else 1)


def layer_params(layer: Layer, h: int, active: bool = False) -> int:
    """Return one block's parameters; with `active`, only the experts a token is routed to."""
    return attention_params(layer.attention, h) + _ffn_params(layer, h, active) + _norm_params(layer, h)


@lru_cache(maxsize=64)
def count_params(arch: ModelArch) -> ParamCount:
    """Count a model's parameters exactly: total, embedding, non-embedding and active per token.

    Cached per architecture, because the planner, the charts and every estimate call it again for
    the same frozen model.
    """
    h, V = arch.hidden_size, arch.vocab_size

    # 1. Embeddings: input table, learned positions, and the output head when it is untied.
    input_embedding = V * h + arch.learned_positions * h
    embedding = input_embedding + (0 if arch.tie_word_embeddings else V * h)

    # 2. Blocks, split by part so the parts can be checked against the total.
    attention = sum(attention_params(layer.attention, h) for layer in arch.layers)
    mlp = sum(_ffn_params(layer, h, active=False) for layer in arch.layers)
    mlp_active = sum(_ffn_params(layer, h, active=True) for layer in arch.layers)
    final_norm = h * (2 if arch.final_norm_bias else 1)
    norms = sum(_norm_params(layer, h) for layer in arch.layers) + final_norm

    # 3. Totals.
    non_embedding = attention + mlp + norms
    total = embedding + non_embedding
    active = total - (mlp - mlp_active)
    return ParamCount(
        total=total,
        embedding=embedding,
        non_embedding=non_embedding,
        active=active,
        attention=attention,
        mlp=mlp,
        norms=norms,
        input_embedding=input_embedding,
        vision=arch.vision_params,
        projector=arch.projector_params,
    )
