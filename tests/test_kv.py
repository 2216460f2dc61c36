"""KV-cache sizes and capacity under tensor parallelism."""

from __future__ import annotations

import pytest

from napkin.errors import OptionError
from napkin.hardware import get_gpu
from napkin.kv import fewest_tensor_parallel_gpus, kv_capacity, kv_shards, kv_size, tensor_parallel_sizes
from napkin.presets import load_model


def test_kv_capacity_one_h100_no_room() -> None:
    # A common shortcut fits ~50 requests of 8K into "140 GB left after weights" on one H100.
    # An H100 has 80 GB in all and Llama-3-70B's bf16 weights alone take 141 GB, so none fit.
    # The per-request figure is right: 140 GB would take 52 requests of 2.68 GB.
    arch = load_model("llama-3-70b")
    one_h100 = kv_capacity(arch, get_gpu("h100"), 8192, gpus=1)
    assert one_h100.free_bytes < 0
    assert one_h100.max_requests == 0
    assert 140e9 // one_h100.size.kv_cache_bytes_per_request == 52


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


def test_kv_capacity_gpus_for_requests() -> None:
    # 141.1 GB of weights + 50 · 2.68 GB of KV = 275.3 GB: four 80 GB H100s.
    capacity = kv_capacity(load_model("llama-3-70b"), get_gpu("h100"), 8192, requests=50)
    assert capacity.min_gpus_for_requests == 4


def test_kv_shards_replicate_beyond_kv_heads() -> None:
    arch = load_model("llama-3-70b")  # 8 KV heads
    assert kv_shards(arch, 4) == 4
    assert kv_shards(arch, 16) == 8


def test_kv_shards_mla_latent_whole() -> None:
    assert kv_shards(load_model("deepseek-v3"), 8) == 1


def test_kv_capacity_replicated_heads() -> None:
    # 16 GPUs for 8 KV heads: each GPU keeps one head, 1/8 of each request's KV, not 1/16.
    capacity = kv_capacity(load_model("llama-3-70b"), get_gpu("h100"), 8192, gpus=16)
    assert capacity.kv_cache_bytes_per_request_per_gpu == pytest.approx(327_680 * 8192 / 8)


def test_kv_capacity_gpus_must_divide_heads() -> None:
    with pytest.raises(OptionError, match="such as 4"):
        kv_capacity(load_model("llama-3-70b"), get_gpu("h100"), 8192, gpus=3)


def test_kv_capacity_gpus_beyond_heads_hint() -> None:
    with pytest.raises(OptionError, match="at most 12"):
        kv_capacity(load_model("gpt2"), get_gpu("h100"), 1024, gpus=48)


def test_fewest_tensor_parallel_none_when_too_big() -> None:
    # GPT-2 has 12 heads: no tensor-parallel size gives 12 L4s room for 10 TB of KV cache.
    arch = load_model("gpt2")
    assert fewest_tensor_parallel_gpus(arch, get_gpu("l4"), 2.5e8, 1e13) is None


def test_kv_size_parts() -> None:
    size = kv_size(load_model("gemma-3-27b"), 131072)
    assert size.kv_cache_bytes_per_token == 2 * 62 * 16 * 128 * 2
    assert size.kv_cache_bytes_per_request == 52 * 8192 * 1023 + 10 * 8192 * 131072


def test_kv_size_rejects_fractional_context() -> None:
    with pytest.raises(OptionError, match="whole number"):
        kv_size(load_model("gpt2"), 2.5)  # type: ignore[arg-type]


def test_tensor_parallel_sizes_need_even_kv_split() -> None:
    # Mixtral-8x22B: 48 query heads, 8 KV heads; 6 divides 48 but splits 8 KV heads unevenly.
    sizes = tensor_parallel_sizes(load_model("mixtral-8x22b"))
    assert 6 not in sizes
    assert sizes == [1, 2, 4, 8, 16, 24, 48]


def test_kv_capacity_uneven_kv_split_rejected() -> None:
    with pytest.raises(OptionError, match="use one of 1, 2, 4, 8"):
        kv_capacity(load_model("mixtral-8x22b"), get_gpu("h100"), 8192, gpus=6)


def test_kv_capacity_keeps_size_properties() -> None:
    capacity = kv_capacity(load_model("llama-3-70b"), get_gpu("h100"), 8192, gpus=2)
    assert capacity.kv_cache_bytes_per_token == 327_680
    assert capacity.context == 8192
