"""The model summary: architecture, exact parameters, FLOPs per token, weights and KV bytes."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .arch import DenseMLP, ModelArch, MoE
from .derivation import Step, num
from .errors import OptionError
from .flops import FlopCount, count_flops, palm_model_flop_per_token
from .kv import kv_per_token_step
from .memory import DTYPE_BYTES, INT4_GROUP_SIZE, kv_cache_bytes_per_token, weight_bytes
from .params import ParamCount, count_params
from .units import format_bytes, format_count, format_flop

__all__ = ["WEIGHT_DTYPES", "ModelSummary", "describe_layers", "summarize_model"]

WEIGHT_DTYPES = ("fp32", "bf16", "fp8", "int8", "int4")


@dataclass(frozen=True)
class ModelSummary:
    """Everything `napkin model` reports for one model at one sequence length."""

    arch: ModelArch
    params: ParamCount
    flops: FlopCount
    forward_flop_per_token: float
    train_flop_per_token: float
    palm_model_flop_per_token: float
    kv_cache_bytes_per_token: float
    kv_dtype: str
    weights_bytes: dict[str, float]
    int4_group_size: int
    steps: tuple[Step, ...]

    def to_dict(self) -> dict[str, object]:
        arch = self.arch
        att = arch.attention
        sliding = sorted({layer.sliding_window for layer in arch.layers if layer.sliding_window})
        return {
            "model": arch.name,
            "model_type": arch.model_type,
            "seq": self.flops.seq,
            "architecture": {
                "layers": arch.num_layers,
                "hidden_size": arch.hidden_size,
                "vocab_size": arch.vocab_size,
                "attention": att.kind,
                "num_heads": att.num_heads,
                "num_kv_heads": att.num_kv_heads,
                "head_dim": att.qk_head_dim,
                "moe_layers": sum(layer.is_moe for layer in arch.layers),
                "sliding_window_layers": sum(layer.sliding_window is not None for layer in arch.layers),
                "sliding_windows": sliding,
                "tie_word_embeddings": arch.tie_word_embeddings,
                "max_position_embeddings": arch.max_position_embeddings,
            },
            "params_total": self.params.total,
            "params_active": self.params.active,
            "params_embedding": self.params.embedding,
            "params_non_embedding": self.params.non_embedding,
            "params_active_excluding_input_embedding": self.params.active_excluding_input_embedding,
            "params_vision": self.params.vision,
            "params_vision_projector": self.params.projector,
            "forward_flop_per_token": self.forward_flop_per_token,
            "train_flop_per_token": self.train_flop_per_token,
            "forward_flop_per_token_at_seq": self.flops.forward_flop_per_token_at_seq,
            "forward_flop_per_token_causal": self.flops.forward_flop_per_token_causal,
            "model_flop_per_token_palm": self.palm_model_flop_per_token,
            "kv_cache_bytes_per_token": self.kv_cache_bytes_per_token,
            "kv_dtype": self.kv_dtype,
            "weights_bytes": dict(self.weights_bytes),
            "int4_group_size": self.int4_group_size,
            "notes": list(arch.notes),
            "derivation": [step.to_dict() for step in self.steps],
        }


def describe_layers(arch: ModelArch) -> list[str]:
    """Return short lines describing the block types of a model, grouped."""
    groups: dict[str, int] = {}
    for layer in arch.layers:
        att = layer.attention
        if att.kind == "mla":
            attention = f"MLA {att.num_heads} heads, latent {att.kv_lora_rank}+{att.qk_rope_head_dim}"
        else:
            if att.num_kv_heads == att.num_heads:
                kind = "MHA"
            elif att.num_kv_heads == 1:
                kind = "MQA"
            else:
                kind = "GQA"
            attention = f"{kind} {att.num_heads}q/{att.num_kv_heads}kv × {att.head_dim}"
        if layer.sliding_window:
            attention += f", window {layer.sliding_window:,}"
        mlp = layer.mlp
        if isinstance(mlp, MoE):
            shared = f" + shared {mlp.shared.intermediate_size:,}" if mlp.shared else ""
            ffn = f"MoE {mlp.experts_per_token} of {mlp.num_experts} experts × {mlp.expert.intermediate_size:,}{shared}"
        else:
            assert isinstance(mlp, DenseMLP)
            ffn = f"{'gated' if mlp.gated else 'plain'} MLP {mlp.intermediate_size:,}"
        key = f"{attention}; {ffn}"
        groups[key] = groups.get(key, 0) + 1
    return [f"{count} × [{key}]" for key, count in groups.items()]


def summarize_model(
    arch: ModelArch,
    seq: int = 4096,
    *,
    kv_dtype: str = "bf16",
    int4_group_size: int = INT4_GROUP_SIZE,
) -> ModelSummary:
    """Summarise a model: exact parameters, FLOPs per token at `seq`, weights per dtype, KV bytes per token."""
    if kv_dtype not in DTYPE_BYTES or kv_dtype == "int4":
        raise OptionError(f"unknown KV-cache type {kv_dtype!r}: use bf16, fp16, fp8, int8 or fp32")
    kv_dtype_bytes = DTYPE_BYTES[kv_dtype]
    params = count_params(arch)
    flops = count_flops(arch, seq)
    n_active = params.active
    att = arch.attention

    forward = 2.0 * n_active
    train = 6.0 * n_active
    # PaLM's Q is the head width of both scores and values; MLA's differ, so Q is their mean.
    head_width = (att.qk_head_dim + att.value_head_dim) / 2
    palm = palm_model_flop_per_token(n_active, arch.num_layers, att.num_heads, head_width, seq)
    kv_per_token = kv_cache_bytes_per_token(arch, kv_dtype_bytes)
    weights = {dtype: weight_bytes(params.total, dtype, int4_group_size) for dtype in WEIGHT_DTYPES}

    L, h, V = arch.num_layers, arch.hidden_size, arch.vocab_size
    tables = 1 if arch.tie_word_embeddings else 2
    head = "V · h (output head tied to the input)" if tables == 1 else "2 · V · h (untied output head)"
    numbers = f"{V:,} · {h:,}" if tables == 1 else f"2 · {V:,} · {h:,}"
    if arch.learned_positions:
        head += " + P · h (learned positions)"
        numbers += f" + {arch.learned_positions:,} · {h:,}"
    steps = [
        Step("embedding", head, numbers, f"{params.embedding:,}"),
        Step(
            "blocks",
            "attention + MLP/experts + norms",
            f"{num(params.attention)} + {num(params.mlp)} + {num(params.norms)}",
            f"{params.non_embedding:,}",
        ),
        Step("total parameters", "embedding + blocks", f"{num(params.embedding)} + {num(params.non_embedding)}", f"{params.total:,} ({format_count(params.total)})"),
    ]
    if params.active != params.total:
        steps.append(
            Step("active parameters", "total − unused routed experts", f"{num(params.total)} − {num(params.total - params.active)}", f"{params.active:,} ({format_count(params.active)})")
        )
    if params.vision:
        steps.append(Step("vision tower (not in total)", "SigLIP encoder + projector", f"{num(params.vision)} + {num(params.projector)}", f"{params.vision + params.projector:,}"))
    steps += [
        Step("forward FLOPs/token", "2 · N_active", f"2 · {num(n_active)}", format_flop(forward)),
        Step("training FLOPs/token", "6 · N_active", f"6 · {num(n_active)}", format_flop(train)),
        Step(
            f"forward FLOPs/token at s = {seq:,}",
            "2 · (matmul weights per token) + Σ_layers 2 · a · (d_qk + d_v) · s",
            f"{num(flops.matmul_flop_per_token)} + {num(flops.attention_flop_per_token)}",
            format_flop(flops.forward_flop_per_token_at_seq),
        ),
        Step(
            "  with a causal mask",
            "same, scores only over the keys each query sees ((s + 1)/2 on average, at most the window)",
            f"{num(flops.matmul_flop_per_token)} + {num(flops.attention_flop_per_token_causal)}",
            format_flop(flops.forward_flop_per_token_causal),
        ),
        Step(
            "PaLM model FLOPs/token",
            "6 · N + 12 · L · H · Q · T",
            f"6 · {num(n_active)} + 12 · {L} · {att.num_heads} · {num(head_width)} · {seq:,}",
            format_flop(palm),
        ),
    ]
    windows = sorted({layer.sliding_window for layer in arch.layers if layer.sliding_window})
    kv_step = kv_per_token_step(arch, kv_dtype)
    if windows:
        count = sum(1 for layer in arch.layers if layer.sliding_window)
        limits = ", ".join(f"{w - 1:,}" for w in windows)
        kv_step = replace(kv_step, label=f"{kv_step.label} ({count} sliding-window layers keep at most {limits} tokens)")
    steps.append(kv_step)
    for dtype in WEIGHT_DTYPES:
        if dtype == "int4":
            per = f"(0.5 + 2.5/{int4_group_size}) (16-bit scale and 4-bit zero point per group of {int4_group_size})"
        else:
            per = f"{weight_bytes(1, dtype):g}"
        steps.append(Step(f"weights {dtype}", "N · bytes/param", f"{num(params.total)} · {per}", format_bytes(weights[dtype])))

    return ModelSummary(
        arch=arch,
        params=params,
        flops=flops,
        forward_flop_per_token=forward,
        train_flop_per_token=train,
        palm_model_flop_per_token=palm,
        kv_cache_bytes_per_token=kv_per_token,
        kv_dtype=kv_dtype,
        weights_bytes=weights,
        int4_group_size=int4_group_size,
        steps=tuple(steps),
    )
