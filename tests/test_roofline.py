"""Ridge points and the placement of decode and prefill on the roofline."""

from __future__ import annotations

import pytest

from napkin.hardware import get_gpu, list_gpus
from napkin.presets import load_model
from napkin.roofline import analyze_roofline, decode_point, prefill_point, weights_read_bytes


@pytest.mark.parametrize(
    ("gpu", "ridge", "tolerance"),
    [
        # Peak bf16 ÷ bandwidth. The 156 for A100 uses a rounded 2.0 TB/s; the datasheet's
        # 2.039 TB/s gives 153, hence the wider tolerance.
        ("a100-80gb", 156, 0.025),
        ("h100", 295, 0.005),
        ("h200", 206, 0.005),
    ],
)
def test_ridge_points(gpu: str, ridge: float, tolerance: float) -> None:
    assert get_gpu(gpu).ridge_flop_per_byte == pytest.approx(ridge, rel=tolerance)


def test_catalog_every_gpu_positive() -> None:
    for gpu in list_gpus():
        assert gpu.hbm_bytes > 0, gpu.name
        assert gpu.hbm_bandwidth_bytes_per_s > 0, gpu.name
        assert gpu.bf16_flop_per_s > 0, gpu.name


def test_decode_batch_one_memory_bound() -> None:
    point = decode_point(load_model("llama-3-8b"), get_gpu("h100"), 1, 0)
    assert point.bound == "memory"
    assert point.intensity_flop_per_byte == pytest.approx(1.0, rel=0.1)


def test_prefill_compute_bound() -> None:
    assert prefill_point(load_model("llama-3-8b"), get_gpu("h100"), 1, 2048).bound == "compute"


def test_decode_intensity_grows_with_batch() -> None:
    arch, gpu = load_model("llama-3-8b"), get_gpu("h100")
    intensities = [decode_point(arch, gpu, b, 0).intensity_flop_per_byte for b in (1, 8, 64, 512)]
    assert intensities == sorted(intensities)


def test_decode_crossover_near_ridge() -> None:
    # Weights only: decode intensity ≈ B FLOP/byte in bf16, so the crossover batch is near the ridge.
    result = analyze_roofline(get_gpu("h100"), load_model("llama-3-8b"), (1,), context=0)
    assert result.crossover_batch is not None
    assert 250 < result.crossover_batch < 350


def test_decode_time_is_max_of_roofs() -> None:
    point = decode_point(load_model("llama-3-8b"), get_gpu("h100"), 8, 1024)
    assert point.time_s == max(point.compute_s, point.memory_s)


def test_moe_decode_reads_touched_experts() -> None:
    arch = load_model("mixtral-8x7b")
    single_token = weights_read_bytes(arch, 1)
    many_tokens = weights_read_bytes(arch, 4096)
    assert single_token < many_tokens
    assert many_tokens == pytest.approx(2 * 46_702_792_704, rel=1e-6)
