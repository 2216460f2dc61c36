"""The training bill's FLOPs per token: PaLM's attention term, shared by the CLI and the web API."""

from __future__ import annotations

import pytest
from napkin_runner import napkin_json

from napkin.params import count_params
from napkin.presets import load_model
from napkin.training import palm_flop_per_token


def test_palm_flop_per_token_llama_3_70b() -> None:
    # Chowdhery et al. 2022 (PaLM), Appendix B: 6·N + 12·L·H·Q·T. Llama 3 70B's config.json
    # gives L = 80 layers, H = 64 heads of Q = 128 channels; T = 8,192.
    arch = load_model("llama-3-70b")
    per_token, formula = palm_flop_per_token(arch, 8192)
    attention = 12 * 80 * 64 * 128 * 8192
    assert per_token - 6 * count_params(arch).active == pytest.approx(attention, rel=1e-12)
    assert formula == "6 · N + 12 · L · H · Q · T, T = 8,192"


def test_palm_flop_per_token_mla_mean_width() -> None:
    # MLA scores with qk width (nope + rope) and reads values of v_head_dim, so Q is their mean.
    arch = load_model("deepseek-v2-lite")
    att = arch.attention
    per_token, _ = palm_flop_per_token(arch, 4096)
    width = (att.qk_nope_head_dim + att.qk_rope_head_dim + att.v_head_dim) / 2
    attention = 12 * arch.num_layers * att.num_heads * width * 4096
    assert per_token - 6 * count_params(arch).active == pytest.approx(attention, rel=1e-12)
    assert att.qk_nope_head_dim + att.qk_rope_head_dim != att.v_head_dim


def test_train_json_seq_uses_core(capsys) -> None:
    arch = load_model("llama-3-70b")
    result = napkin_json(capsys, "train", "llama-3-70b", "--tokens", "15T", "--gpu", "h100", "--seq", "8k")
    assert result["flop_per_token"] == palm_flop_per_token(arch, 8192)[0]
