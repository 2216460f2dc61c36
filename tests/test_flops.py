"""FLOPs per token: the 2N/6N rules, the exact matmul count and PaLM's model FLOPs."""

from __future__ import annotations

import pytest

from napkin.flops import attention_keys_per_query, count_flops, matmul_params_per_token, palm_model_flop_per_token
from napkin.params import count_params
from napkin.presets import load_model
from napkin.summary import summarize_model


def test_flops_gpt2_matmul_count_by_hand() -> None:
    # GPT-2 small: 12 blocks of 12h² matmul weights plus the tied LM head V·h.
    h, L, V = 768, 12, 50257
    assert matmul_params_per_token(load_model("gpt2")) == 12 * L * h * h + V * h


def test_flops_attention_term_full_matrix() -> None:
    # Per token and layer, scores and values cost 2·a·d·s each: 4·L·h·s for MHA.
    arch = load_model("gpt2")
    flops = count_flops(arch, 1024)
    assert flops.attention_flop_per_token == 4 * 12 * 768 * 1024


def test_flops_causal_counts_lower_triangle() -> None:
    arch = load_model("gpt2")
    flops = count_flops(arch, 1024)
    assert flops.attention_flop_per_token_causal == pytest.approx(flops.attention_flop_per_token * (1025 / 2) / 1024)


def test_flops_causal_about_half_of_full() -> None:
    flops = count_flops(load_model("llama-3-8b"), 32768)
    ratio = flops.attention_flop_per_token_causal / flops.attention_flop_per_token
    assert ratio == pytest.approx(0.5, abs=1e-4)


def test_flops_sliding_window_keys() -> None:
    # Positions 1..w see i keys, later ones w: mean over s = 8 with w = 4 is (1+2+3+4+4·4)/8.
    assert attention_keys_per_query(8, 4, causal=True) == pytest.approx(26 / 8)
    assert attention_keys_per_query(8, None, causal=True) == pytest.approx(4.5)
    assert attention_keys_per_query(8, 4, causal=False) == 8


def test_flops_moe_counts_active_experts() -> None:
    # Mixtral: 2 of 8 experts per token, plus the router (h·E per layer).
    arch = load_model("mixtral-8x7b")
    h, f, L, E = 4096, 14336, 32, 8
    expert = 3 * h * f
    attention = 2 * h * h + 2 * h * 1024
    expected = L * (attention + h * E + 2 * expert) + 32000 * h
    assert matmul_params_per_token(arch) == expected


def test_flops_rules_use_active_params() -> None:
    summary = summarize_model(load_model("deepseek-v3"))
    active = count_params(summary.arch).active
    assert summary.forward_flop_per_token == 2 * active
    assert summary.train_flop_per_token == 6 * active


def test_flops_exact_close_to_2n_for_dense() -> None:
    # The matmul count equals 2N minus the embedding lookup; at short sequences it is near 2N.
    summary = summarize_model(load_model("llama-3-70b"), seq=512)
    ratio = summary.flops.forward_flop_per_token_at_seq / summary.forward_flop_per_token
    assert 0.98 < ratio < 1.01


def test_flops_palm_540b_mfu() -> None:
    # Chowdhery et al. 2022 (PaLM), Table 3 and Appendix B: 540B params, L = 118, H = 48,
    # Q = 256, T = 2048; 238.3K tokens/s on 6,144 TPU v4 chips (275 TFLOP/s bf16) is 46.2% MFU.
    per_token = palm_model_flop_per_token(540e9, 118, 48, 256, 2048)
    mfu = per_token * 238.3e3 / (6144 * 275e12)
    assert mfu == pytest.approx(0.462, abs=0.001)


def test_flops_megatron_equation_3_matches() -> None:
    # Narayanan et al. 2021, Eq. 3: F = 96·B·s·l·h²·(1 + s/(6h) + V/(16·l·h)) per iteration
    # with recomputation. The block terms run 4 times (forward, recomputed forward, backward
    # at 2×); the logits term 6·B·s·h·V runs 3 times (not recomputed). Taking one forward
    # pass out of each, with the full score matrix as the paper counts it:
    arch = load_model("megatron-18.4b")
    l, h, V, s, B = 40, 6144, 51200, 2048, 1
    equation = 96 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h))
    logits = 6 * B * s * h * V
    forward_per_token = ((equation - logits) / 4 + logits / 3) / (B * s)
    assert count_flops(arch, s).forward_flop_per_token_at_seq == pytest.approx(forward_per_token, rel=1e-12)
