"""Fine-tuning memory: LoRA parameter counts, QLoRA storage, optimizer state on trainable parameters only."""

from __future__ import annotations

import pytest

from napkin.errors import OptionError
from napkin.finetune import NF4_BYTES_PER_PARAM, finetune_memory, lora_trainable_params
from napkin.hardware import get_gpu
from napkin.presets import load_model


def test_lora_params_llama_3_8b_all_linear() -> None:
    # Per layer, r·(in + out) for q (4096→4096), k and v (4096→1024), o (4096→4096), gate and
    # up (4096→14336) and down (14336→4096), at r = 16: 1,310,720; times 32 layers.
    assert lora_trainable_params(load_model("llama-3-8b"), 16) == 32 * 16 * (2 * 8192 + 2 * 5120 + 3 * 18432) == 41_943_040


def test_lora_params_attention_only() -> None:
    assert lora_trainable_params(load_model("llama-3-8b"), 8, ("q", "v")) == 32 * 8 * (8192 + 5120)


def test_qlora_nf4_bytes_per_param() -> None:
    # Dettmers et al. 2023, section 3: double quantization costs 8/64 + 32/(64·256) ≈ 0.127 bits
    # per parameter on top of 4 bits.
    assert (NF4_BYTES_PER_PARAM - 0.5) * 8 == pytest.approx(0.127, abs=0.001)


def test_finetune_optimizer_state_only_on_trainable() -> None:
    arch = load_model("llama-3-8b")
    full = finetune_memory(arch, get_gpu("h100"), "full")
    lora = finetune_memory(arch, get_gpu("h100"), "lora")
    assert full.optimizer_bytes == pytest.approx(12 * full.trainable_params)
    assert lora.optimizer_bytes == pytest.approx(12 * lora.trainable_params)
    assert lora.gradients_bytes == pytest.approx(2 * lora.trainable_params)


def test_finetune_qlora_smaller_than_lora() -> None:
    arch = load_model("llama-3-8b")
    lora = finetune_memory(arch, get_gpu("l4"), "lora")
    qlora = finetune_memory(arch, get_gpu("l4"), "qlora")
    assert qlora.weights_bytes < lora.weights_bytes / 2
    assert qlora.fits


def test_finetune_parts_add_up() -> None:
    result = finetune_memory(load_model("llama-3-8b"), get_gpu("l4"), "qlora")
    parts = (result.weights_bytes + result.gradients_bytes + result.optimizer_bytes + result.activations_bytes
             + result.dequantization_bytes + result.framework_reserve_bytes)
    assert parts == pytest.approx(result.total_bytes)


def test_finetune_rejects_unknown_method() -> None:
    with pytest.raises(OptionError, match="unknown fine-tuning method"):
        finetune_memory(load_model("llama-3-8b"), get_gpu("l4"), "dora")
