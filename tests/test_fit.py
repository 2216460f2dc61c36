"""KV capacity and per-GPU memory estimates."""

from __future__ import annotations

import pytest

from napkin.fit import inference_memory, kv_capacity, training_memory
from napkin.hardware import get_gpu
from napkin.presets import load_model


def test_kv_capacity_one_h100_no_room() -> None:
    # A common shortcut fits ~50 requests of 8K into "140 GB left after weights" on one H100.
    # An H100 has 80 GB in all and Llama-3-70B's bf16 weights alone take 141 GB, so none fit.
    # The per-request figure is right: 140 GB would take 52 requests of 2.68 GB.
    arch = load_model("llama-3-70b")
    one_h100 = kv_capacity(arch, get_gpu("h100"), 8192, gpus=1)
    assert one_h100.free_bytes < 0
    assert one_h100.max_requests == 0
    assert 140e9 // one_h100.kv_cache_bytes_per_request == 52


def test_kv_capacity_two_h100() -> None:
    # 160 GB − 141.1 GB of weights = 18.9 GB for KV: 7 requests of 8,192 tokens.
    capacity = kv_capacity(load_model("llama-3-70b"), get_gpu("h100"), 8192, gpus=2)
    assert capacity.free_bytes == pytest.approx(18.89e9, rel=1e-3)
    assert capacity.max_requests == 7


def test_kv_capacity_one_h200_short_by_weights() -> None:
    # H200's nominal 141 GB is 0.1 GB short of Llama-3-70B's 141.1 GB of bf16 weights.
    capacity = kv_capacity(load_model("llama-3-70b"), get_gpu("h200"), 8192, gpus=1)
    assert capacity.free_bytes == pytest.approx(-0.107e9, rel=0.01)
    assert capacity.max_requests == 0


def test_kv_capacity_h200_fp8_weights() -> None:
    # With fp8 weights (70.6 GB) an H200 keeps 70.4 GB for KV: 26 requests of 8K.
    capacity = kv_capacity(load_model("llama-3-70b"), get_gpu("h200"), 8192, gpus=1, weights_dtype="fp8")
    assert capacity.max_requests == 26


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


def test_kv_capacity_gpus_for_requests() -> None:
    # 141.1 GB of weights + 50 · 2.68 GB of KV = 275.3 GB: four 80 GB H100s.
    capacity = kv_capacity(load_model("llama-3-70b"), get_gpu("h100"), 8192, requests=50)
    assert capacity.min_gpus_for_requests == 4
