"""Serving latency, throughput and dollars on a tensor-parallel replica."""

from __future__ import annotations

import pytest

from napkin.engine import EngineSettings
from napkin.hardware import get_gpu
from napkin.latency import LatencySettings, decode_step, latency_row
from napkin.presets import load_model
from napkin.serve import cheapest_fleet
from napkin.weights import serving_weights

ROOF = LatencySettings()


def test_decode_batch1_reads_weights_share() -> None:
    # Llama-3-70B on 4 × H100 at context 0: each GPU reads a quarter of 141.1 GB of bf16 weights
    # at 3.35 TB/s, 10.5 ms, plus 2 all-reduces per layer.
    arch, gpu = load_model("llama-3-70b"), get_gpu("h100")
    weights = serving_weights(arch, "bf16", tp=4)
    step = decode_step(arch, gpu, 1, 0, 4, weights, "bf16", ROOF)
    assert step.bound == "memory"
    assert step.memory_s == pytest.approx(141.1e9 / 4 / 3.35e12, rel=1e-3)
    assert step.all_reduce_s > 0


def test_tpot_and_throughput_grow_with_batch() -> None:
    arch, gpu = load_model("llama-3-70b"), get_gpu("h100")
    weights = serving_weights(arch, "bf16", tp=4)
    rows = [latency_row(arch, gpu, b, 2048, 512, 4, weights, "bf16", ROOF, 2.5) for b in (1, 8, 32, 128)]
    assert [r.tpot_s for r in rows] == sorted(r.tpot_s for r in rows)
    assert [r.tokens_per_s_per_gpu for r in rows] == sorted(r.tokens_per_s_per_gpu for r in rows)


def test_cost_from_tpot() -> None:
    # $/1M output = $/h · tp · TPOT ÷ B ÷ 3,600 · 10^6; $/1M input = $/h · tp · TTFT ÷ prompt ÷ 3,600 · 10^6.
    arch, gpu = load_model("llama-3-8b"), get_gpu("h100")
    weights = serving_weights(arch, "bf16")
    row = latency_row(arch, gpu, 16, 1024, 256, 1, weights, "bf16", ROOF, 2.0)
    assert row.usd_per_million_output_tokens == pytest.approx(2.0 * row.tpot_s / 16 / 3600 * 1e6)
    assert row.usd_per_million_input_tokens == pytest.approx(2.0 * row.ttft_s / 1024 / 3600 * 1e6)


def test_fp8_weights_halve_decode_reads() -> None:
    arch, gpu = load_model("llama-3-8b"), get_gpu("h100")
    bf16 = decode_step(arch, gpu, 1, 0, 1, serving_weights(arch, "bf16"), "bf16", ROOF)
    fp8 = decode_step(arch, gpu, 1, 0, 1, serving_weights(arch, "fp8"), "bf16", ROOF)
    # Embeddings and the head stay bf16, so the saving is a little under half.
    assert 0.5 < fp8.memory_s / bf16.memory_s < 0.6


def test_efficiency_slows_steps() -> None:
    arch, gpu = load_model("llama-3-8b"), get_gpu("h100")
    weights = serving_weights(arch, "bf16")
    full = decode_step(arch, gpu, 1, 0, 1, weights, "bf16", ROOF)
    half = decode_step(arch, gpu, 1, 0, 1, weights, "bf16", LatencySettings(bandwidth_efficiency=0.5))
    assert half.memory_s == pytest.approx(2 * full.memory_s)


def test_cheapest_fleet_sorted_and_meets_target() -> None:
    arch = load_model("llama-3-70b")
    gpus = [get_gpu(name) for name in ("h100", "h200", "b200", "mi300x")]
    options = cheapest_fleet(arch, gpus, 20, 0.05, EngineSettings())
    assert len(options) == 4
    assert [o.usd_per_hour for o in options] == sorted(o.usd_per_hour for o in options)
    for option in options:
        assert option.tpot_s <= 0.05
        assert option.gpus == option.replicas * option.tp
