"""Tests of the saved-tensor profiles of the activation estimate.

The golden values are measurements by `napkin verify` (transformers 5.25, PyTorch 2.13, CPU,
bf16, SDPA attention, 512 tokens, batch 1): the storages that one block of the real model
saves for backward, counted with torch.autograd.graph.saved_tensors_hooks.
"""

from __future__ import annotations

import pytest

from napkin.memory import FUSED_KERNELS, activation_bytes_per_layer, activation_bytes_total, transformers_profile
from napkin.presets import load_model


def _block(name: str, recompute: str = "none", profile=FUSED_KERNELS, kernel: str = "flash") -> float:
    arch = load_model(name)
    layer = arch.layers[1]
    return activation_bytes_per_layer(layer, arch.hidden_size, 512, 1, recompute, kernel, profile=profile).total


def test_default_profile_is_fused_kernels() -> None:
    arch = load_model("llama-3.2-1b")
    layer = arch.layers[0]
    default = activation_bytes_per_layer(layer, arch.hidden_size, 512, 1)
    explicit = activation_bytes_per_layer(layer, arch.hidden_size, 512, 1, profile=FUSED_KERNELS)
    assert default == explicit
    # Korthikanti et al. 2022's count for this block, unchanged by the profile keyword.
    assert default.total == 47_251_456


@pytest.mark.parametrize(
    ("name", "recompute", "measured"),
    [
        # Llama-3.2-1B: the RMSNorm fp32 copies add 8·s·h + 8·s bytes to the fused count.
        ("llama-3.2-1b", "none", 55_644_160),
        ("llama-3.2-1b", "selective", 55_578_624),
        ("llama-3.2-1b", "full", 2_097_152),
        # Qwen3-8B: per-head q/k RMSNorms keep fp32 copies of q and k too.
        ("qwen3-8b", "none", 110_252_032),
        # Phi-3-mini: the fused qkv output stays alive through v, and CPU SDPA's output is copied.
        ("phi-3-mini", "none", 80_809_984),
        ("phi-3-mini", "selective", 77_598_720),
    ],
)
def test_transformers_profile_matches_measurement(name: str, recompute: str, measured: int) -> None:
    arch = load_model(name)
    estimate = _block(name, recompute, transformers_profile(arch.model_type))
    assert estimate == measured


def test_transformers_profile_moe_within_one_percent() -> None:
    # Qwen3-30B-A3B, grouped_mm experts: 99,920,384 bytes measured per block.
    estimate = _block("qwen3-30b-a3b", profile=transformers_profile("qwen3_moe"))
    assert estimate == pytest.approx(99_920_384, rel=0.01)


def test_profile_passes_through_total() -> None:
    arch = load_model("llama-3.2-1b")
    profile = transformers_profile(arch.model_type)
    total = activation_bytes_total(arch, 512, 1, profile=profile)
    assert total["layers"] == pytest.approx(16 * 55_644_160)


def test_gpt2_profile_keeps_gelu_intermediates() -> None:
    fused = _block("gpt2")
    eager = _block("gpt2", profile=transformers_profile("gpt2"))
    # Three more f-wide 16-bit tensors (f = 3,072) per token, and fp32 LayerNorm statistics.
    assert eager - fused == 512 * (3 * 2 * 3072 + 2 * 8)
