"""Memory tenants: weights, training state with ZeRO, activations, KV cache, fewest GPUs."""

from __future__ import annotations

import pytest

from napkin.arch import Attention, DenseMLP, Layer
from napkin.errors import OptionError
from napkin.hardware import get_gpu
from napkin.memory import (
    OPTIMIZERS,
    activation_bytes_per_layer,
    int4_bytes_per_param,
    kv_cache_bytes,
    kv_cache_bytes_per_token,
    min_gpus,
    training_state,
    weight_bytes,
)
from napkin.presets import load_model

GiB = 2**30


@pytest.mark.parametrize(("params", "gigabytes"), [(7e9, 14), (70e9, 140), (405e9, 810)])
def test_weights_bf16_worked_example(params: float, gigabytes: float) -> None:
    # 2 bytes per parameter in bf16: 7B → 14 GB, 70B → 140 GB, 405B → 810 GB.
    assert weight_bytes(params, "bf16") == gigabytes * 1e9


@pytest.mark.parametrize(("params", "gpus"), [(70e9, 2), (405e9, 11)])
def test_weights_min_h100s_worked_example(params: float, gpus: int) -> None:
    assert min_gpus(weight_bytes(params, "bf16"), get_gpu("h100").hbm_bytes) == gpus


def test_weights_int4_group_overhead() -> None:
    # 4-bit values plus a 16-bit scale and a 4-bit zero point per group of 128.
    assert int4_bytes_per_param(128) == pytest.approx(0.5 + 2.5 / 128)
    assert weight_bytes(1e9, "int4") == pytest.approx(1e9 * (0.5 + 2.5 / 128))


def test_weights_int4_not_truncated_to_zero() -> None:
    assert weight_bytes(1, "int4") > 0


def test_training_state_70b_worked_example() -> None:
    # Mixed-precision Adam keeps 16 bytes per parameter (ZeRO paper, section 3.1), so 70B needs
    # 1.12 TB, the memory of 14 H100s.
    state = training_state(70e9, "adam")
    assert state.total_bytes == pytest.approx(1.12e12)
    assert min_gpus(state.total_bytes, get_gpu("h100").hbm_bytes) == 14


def test_training_state_parts_add_up() -> None:
    state = training_state(70e9, "adam")
    assert state.weights_bytes == 140e9
    assert state.gradients_bytes == 140e9
    assert state.optimizer_bytes == 840e9


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_training_state_zero3_times_dp_equals_unsharded(optimizer: str) -> None:
    full = training_state(13e9, optimizer, 0, 1).total_bytes
    sharded = training_state(13e9, optimizer, 3, 64).total_bytes
    assert sharded * 64 == pytest.approx(full)


# ZeRO paper (Rajbhandari et al. 2020, arXiv:1910.02054) Table 1: model-state GB per GPU.
ZERO_TABLE_1 = [
    (7.5e9, 1, 1, 120),
    (7.5e9, 4, 1, 52.5),
    (7.5e9, 16, 1, 35.6),
    (7.5e9, 64, 1, 31.4),
    (7.5e9, 1024, 1, 30.1),
    (7.5e9, 4, 2, 41.3),
    (7.5e9, 64, 2, 16.6),
    (7.5e9, 1024, 2, 15.1),
    (7.5e9, 4, 3, 30),
    (7.5e9, 64, 3, 1.88),
    (7.5e9, 1024, 3, 0.12),
    (128e9, 64, 1, 536),
    (128e9, 64, 2, 284),
    (128e9, 64, 3, 32),
    (1e12, 1024, 3, 15.6),
]


@pytest.mark.parametrize(("params", "dp", "stage", "gigabytes"), ZERO_TABLE_1)
def test_training_state_zero_paper_table_1(params: float, dp: int, stage: int, gigabytes: float) -> None:
    state = training_state(params, "adam", stage, dp)
    # The table prints three significant digits.
    assert state.total_bytes / 1e9 == pytest.approx(gigabytes, rel=0.01, abs=0.005)


def _gpt_layer(h: int, heads: int) -> Layer:
    return Layer(Attention(heads, heads, h // heads), DenseMLP(4 * h, gated=False, bias=True), norms=2, norm_bias=True)


# Korthikanti et al. 2022, Table 2: activation bytes per layer / (s·b·h) for a GPT block with
# dropout and stored attention scores (eager).
KORTHIKANTI_TABLE_2 = [
    ("none", 1, False, lambda a, s, h, t: 34 + 5 * a * s / h),
    ("none", 8, False, lambda a, s, h, t: 10 + 24 / t + 5 * a * s / (h * t)),
    ("none", 8, True, lambda a, s, h, t: 34 / t + 5 * a * s / (h * t)),
    ("selective", 8, False, lambda a, s, h, t: 10 + 24 / t),
    ("selective", 8, True, lambda a, s, h, t: 34 / t),
    ("full", 1, False, lambda a, s, h, t: 2),
]


@pytest.mark.parametrize(("recompute", "tp", "sp", "formula"), KORTHIKANTI_TABLE_2)
def test_activations_korthikanti_table_2(recompute, tp, sp, formula) -> None:
    h, a, s, b = 12288, 96, 2048, 1
    layer = _gpt_layer(h, a)
    parts = activation_bytes_per_layer(layer, h, s, b, recompute, "eager", dropout=True, tp=tp, sequence_parallel=sp)
    assert parts.total / (s * b * h) == pytest.approx(formula(a, s, h, tp))


def test_activations_flash_drops_scores() -> None:
    h, a, s = 4096, 32, 4096
    layer = _gpt_layer(h, a)
    eager = activation_bytes_per_layer(layer, h, s, 1, "none", "eager", dropout=False)
    flash = activation_bytes_per_layer(layer, h, s, 1, "none", "flash", dropout=False)
    assert eager.attention_scores == 2 * a * s * s
    assert flash.attention_scores == 4 * a * s  # fp32 log-sum-exp per query and head


def test_activations_parts_sum_to_total() -> None:
    arch = load_model("mixtral-8x7b")
    parts = activation_bytes_per_layer(arch.layers[0], arch.hidden_size, 4096, 2, "none", "flash")
    assert parts.norms + parts.attention + parts.attention_scores + parts.mlp + parts.dropout_masks == parts.total


def test_kv_llama3_70b_worked_example() -> None:
    # Llama-3-70B config: 80 layers, 8 KV heads of 128; 2 · 80 · 8 · 128 · 2 = 327,680 bytes
    # per token in bf16, so an 8K context takes about 2.7 GB.
    arch = load_model("llama-3-70b")
    assert kv_cache_bytes_per_token(arch) == 327_680
    assert kv_cache_bytes(arch, 8192) == pytest.approx(2.68e9, rel=0.01)


def test_kv_uses_kv_heads_not_query_heads() -> None:
    # A common calculator error multiplies by the 64 query heads: 8× too large.
    arch = load_model("llama-3-70b")
    assert kv_cache_bytes_per_token(arch) == 2 * 80 * arch.attention.num_kv_heads * 128 * 2
    assert arch.attention.num_kv_heads == 8


def test_kv_gemma3_27b_sliding_window() -> None:
    # unslothai/unsloth PR 4757: 10.41 GiB at 131,072 tokens in bf16, not 81.38 GiB. The 52 local
    # layers keep 1,024 tokens and the 10 global layers keep all, with head_dim 128 from the config.
    arch = load_model("gemma-3-27b")
    assert kv_cache_bytes(arch, 131072) / GiB == pytest.approx(10.41, abs=0.005)


def test_kv_deepseek_v3_mla_latent() -> None:
    # unslothai/unsloth PR 4757: 10.72 GiB at 163,840 tokens in bf16, from the 512 + 64 latent.
    arch = load_model("deepseek-v3")
    assert kv_cache_bytes(arch, 163840) / GiB == pytest.approx(10.72, abs=0.005)


def test_kv_qwen25_window_inactive() -> None:
    # Qwen2.5 configs carry sliding_window but use_sliding_window is false: all layers are full.
    arch = load_model("qwen2.5-7b")
    assert kv_cache_bytes(arch, 131072) == kv_cache_bytes_per_token(arch) * 131072


def test_kv_explicit_head_dim() -> None:
    # Gemma 2 9B: head_dim 256 while hidden/heads = 3584/16 = 224.
    arch = load_model("gemma-2-9b")
    assert kv_cache_bytes_per_token(arch) == 2 * 42 * 8 * 256 * 2


def test_kv_fp8_halves_bf16() -> None:
    arch = load_model("llama-3-70b")
    assert kv_cache_bytes(arch, 8192, dtype_bytes=1) * 2 == kv_cache_bytes(arch, 8192)


def test_min_gpus_exact_fit_is_one() -> None:
    assert min_gpus(80e9, 80e9) == 1


def test_min_gpus_rejects_zero_memory() -> None:
    with pytest.raises(OptionError, match="GPU memory"):
        min_gpus(1e9, 0)


def test_weight_bytes_rejects_negative_count() -> None:
    with pytest.raises(OptionError, match="parameter count"):
        weight_bytes(-1e9, "bf16")
