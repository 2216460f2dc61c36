"""KV capacity and per-GPU memory estimates."""

from __future__ import annotations

import pytest

from napkin.fit import inference_memory, training_memory
from napkin.hardware import get_gpu
from napkin.presets import load_model


def test_training_memory_parts_sum() -> None:
    estimate = training_memory(get_gpu("h100"), arch=load_model("llama-3-8b"), zero_stage=1, dp=8, seq=4096)
    parts = estimate.weights_bytes + estimate.gradients_bytes + estimate.optimizer_bytes + (estimate.activations_bytes or 0)
    assert parts == estimate.total_bytes


def test_training_memory_bare_params_70b() -> None:
    estimate = training_memory(get_gpu("h100"), params=70e9)
    assert estimate.total_bytes == pytest.approx(1.12e12)
    assert estimate.activations_bytes is None
    assert estimate.min_gpus == 14


def test_training_memory_activations_too_large() -> None:
    # 70B at 8K tokens without tensor parallelism: selective recompute still keeps ~220 GB.
    estimate = training_memory(
        get_gpu("h100"), arch=load_model("llama-3-70b"), zero_stage=3, dp=64, seq=8192, recompute="selective"
    )
    assert estimate.min_gpus is None
    assert not estimate.fits


def test_training_memory_full_recompute_fits() -> None:
    estimate = training_memory(get_gpu("h100"), arch=load_model("llama-3-70b"), zero_stage=3, dp=64, seq=8192, recompute="full")
    assert estimate.fits


def test_training_memory_tp_divides_state() -> None:
    arch = load_model("llama-3-70b")
    single = training_memory(get_gpu("h100"), arch=arch)
    split = training_memory(get_gpu("h100"), arch=arch, tp=8)
    assert split.weights_bytes * 8 == pytest.approx(single.weights_bytes)


def test_inference_memory_parts_sum() -> None:
    estimate = inference_memory(get_gpu("h100"), arch=load_model("llama-3-70b"), context=8192, requests=16, gpus=4)
    parts = estimate.weights_bytes + estimate.kv_cache_bytes + (estimate.activations_bytes or 0)
    assert parts == pytest.approx(estimate.total_bytes)


def test_inference_memory_moe_counts_all_experts() -> None:
    # All experts must be resident even though a token uses two: memory uses total params.
    estimate = inference_memory(get_gpu("h100"), arch=load_model("mixtral-8x7b"), context=1024)
    assert estimate.weights_bytes == 2 * 46_702_792_704


def test_saved_tensors_transformers_profile() -> None:
    # One Llama-3.2-1B block at 512 tokens keeps 55,644,160 bytes for backward in transformers
    # 5.25 (saved_tensors_hooks, docs/ACCURACY.md); fused kernels keep 47,251,456.
    gpu = get_gpu("h100")
    arch = load_model("llama-3.2-1b")
    fused = training_memory(gpu, arch=arch, seq=512)
    eager = training_memory(gpu, arch=arch, seq=512, saved_tensors="transformers")
    per_block = (eager.activations_bytes - fused.activations_bytes) / arch.num_layers
    assert per_block == 55_644_160 - 47_251_456


def test_saved_tensors_rejects_unknown_profile() -> None:
    with pytest.raises(ValueError, match="saved-tensor profile"):
        training_memory(get_gpu("h100"), arch=load_model("llama-3.2-1b"), saved_tensors="eager")
