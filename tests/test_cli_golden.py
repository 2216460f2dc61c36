"""Worked examples of napkin math, checked through the CLI's --json output."""

from __future__ import annotations

import pytest
from napkin_runner import napkin_json


def test_train_bill_70b_15t(capsys) -> None:
    # 6 · 70e9 · 15e12 = 6.3e24 FLOP on 1,024 H100 at 40% MFU of 989.4 TFLOP/s (NVIDIA H100
    # datasheet, dense bf16) takes about 180 days and, at $2/GPU-hour, about $8.8M.
    result = napkin_json(capsys, "train", "--params", "70B", "--tokens", "15T", "--gpu", "h100",
                         "--gpus", "1024", "--mfu", "40%", "--price", "2")
    assert result["total_flop"] == pytest.approx(6.3e24)
    assert result["wall_clock_days"] == pytest.approx(180, rel=0.01)
    assert result["cost_usd"] == pytest.approx(8.8e6, rel=0.01)
    assert result["gpu_hours"] == pytest.approx(result["cost_usd"] / 2)
    assert result["wall_clock_s"] == pytest.approx(result["wall_clock_days"] * 86400)


def test_train_bill_custom_peak(capsys) -> None:
    result = napkin_json(capsys, "train", "--params", "70B", "--tokens", "15T", "--peak", "990T",
                         "--bandwidth", "3.35TB/s", "--hbm", "80GB", "--gpus", "1024", "--mfu", "0.4", "--price", "$2/hr")
    # 6.3e24 / (1024 · 990e12 · 0.4) = 1.554e7 s.
    assert result["wall_clock_s"] == pytest.approx(1.554e7, rel=1e-3)


def test_train_architecture_uses_active_params(capsys) -> None:
    result = napkin_json(capsys, "train", "mixtral-8x7b", "--tokens", "1T", "--gpu", "h100", "--gpus", "8")
    assert result["total_flop"] == pytest.approx(6 * 12_879_925_248 * 1e12)


@pytest.mark.parametrize(("params", "gigabytes", "gpus"), [("7B", 14, 1), ("70B", 140, 2), ("405B", 810, 11)])
def test_memory_weights_min_gpus(capsys, params: str, gigabytes: float, gpus: int) -> None:
    result = napkin_json(capsys, "memory", "--params", params, "--infer", "--gpu", "h100")
    assert result["weights_bytes"] == gigabytes * 1e9
    assert result["min_gpus"] == gpus


def test_memory_training_state_70b(capsys) -> None:
    result = napkin_json(capsys, "memory", "--params", "70B", "--train", "--gpu", "h100")
    assert result["total_bytes"] == pytest.approx(1.12e12)
    assert result["min_gpus"] == 14


def test_memory_train_keys(capsys) -> None:
    result = napkin_json(capsys, "memory", "llama-3-70b", "--train", "--gpu", "h100", "--zero", "3", "--dp", "64",
                         "--batch", "1", "--seq", "8k", "--recompute", "selective")
    for key in ("weights_bytes", "optimizer_bytes", "gradients_bytes", "activations_bytes", "kv_cache_bytes", "total_bytes", "min_gpus"):
        assert key in result
    parts = sum(result[k] for k in ("weights_bytes", "optimizer_bytes", "gradients_bytes", "activations_bytes", "kv_cache_bytes"))
    assert parts == pytest.approx(result["total_bytes"])


def test_memory_infer_requests(capsys) -> None:
    result = napkin_json(capsys, "memory", "llama-3-70b", "--infer", "--gpu", "h100", "--context", "8k", "--requests", "16")
    assert result["kv_cache_bytes"] == pytest.approx(16 * 327_680 * 8192)


def test_kv_llama3_70b_two_h100(capsys) -> None:
    result = napkin_json(capsys, "kv", "llama-3-70b", "--context", "8k", "--gpu", "h100", "--gpus", "2")
    assert result["kv_cache_bytes_per_token"] == 327_680
    assert result["kv_cache_bytes_per_request"] == pytest.approx(2.6e9, rel=0.04)
    assert result["max_requests"] == 7


def test_model_json_contract(capsys) -> None:
    result = napkin_json(capsys, "model", "llama-3-70b")
    assert result["seq"] == 4096
    assert result["params_total"] == 70_553_706_496
    assert result["params_active"] == result["params_total"]
    assert result["params_embedding"] == 2 * 128256 * 8192
    assert result["forward_flop_per_token"] == 2 * result["params_active"]
    assert result["train_flop_per_token"] == 6 * result["params_active"]
    assert result["forward_flop_per_token_causal"] < result["forward_flop_per_token_at_seq"]
    assert result["kv_cache_bytes_per_token"] == 327_680
    assert set(result["weights_bytes"]) == {"fp32", "bf16", "fp8", "int8", "int4"}
    assert result["weights_bytes"]["bf16"] == 2 * result["params_total"]


def test_model_json_seq_option(capsys) -> None:
    short = napkin_json(capsys, "model", "llama-3.1-8b", "--seq", "512")
    long = napkin_json(capsys, "model", "llama-3.1-8b", "--seq", "32k")
    assert long["seq"] == 32768
    assert long["forward_flop_per_token_at_seq"] > short["forward_flop_per_token_at_seq"]


def test_model_json_from_config_path(capsys, tmp_path) -> None:
    from pathlib import Path

    source = Path(__file__).resolve().parents[1] / "src/napkin/data/models/mistralai__Mistral-7B-v0.1.json"
    path = tmp_path / "config.json"
    path.write_text(source.read_text())
    result = napkin_json(capsys, "model", str(path))
    assert result["params_total"] == 7_241_732_096


def test_gpus_json_contract(capsys) -> None:
    result = napkin_json(capsys, "gpus")
    names = {gpu["name"] for gpu in result}
    required = {"a100-40gb", "a100-80gb", "h100", "h100-pcie", "h200", "b200", "gb200", "l4", "l40s", "a10g",
                "rtx-4090", "mi300x", "mi325x", "tpu-v5e", "tpu-v5p", "tpu-v6e"}
    assert required <= names
    for gpu in result:
        assert gpu["ridge_flop_per_byte"] == pytest.approx(gpu["bf16_flop_per_s"] / gpu["hbm_bandwidth_bytes_per_s"])


def test_roofline_json_contract(capsys) -> None:
    result = napkin_json(capsys, "roofline", "--gpu", "h100", "--model", "llama-3-8b", "--batch", "1,8,64,512")
    assert result["ridge_flop_per_byte"] == pytest.approx(295, rel=0.005)
    assert [row["batch"] for row in result["rows"]] == [1, 8, 64, 512]
    assert [row["bound"] for row in result["rows"]] == ["memory", "memory", "memory", "compute"]
    assert all(row["prefill"]["bound"] == "compute" for row in result["rows"])


def test_serve_cost_formula(capsys) -> None:
    # $2/GPU-hour at 1,000 tokens/s: 3.6M tokens per hour → $0.556 per million.
    result = napkin_json(capsys, "serve-cost", "--tokens-per-s", "1000", "--price", "2")
    assert result["usd_per_million_tokens"] == pytest.approx(2 / 3.6)


def test_model_int4_group_size(capsys) -> None:
    # Each group of g weights adds a 16-bit scale and a 4-bit zero point: 0.5 + 2.5/g bytes per weight.
    result = napkin_json(capsys, "model", "gpt2", "--int4-group-size", "32")
    assert result["int4_group_size"] == 32
    assert result["weights_bytes"]["int4"] == pytest.approx(124_439_808 * (0.5 + 2.5 / 32))


def test_model_default_seq_capped_at_positions(capsys) -> None:
    # GPT-2 has 1,024 positions, so the default sequence of 4,096 is lowered to them.
    assert napkin_json(capsys, "model", "gpt2")["seq"] == 1024


def test_model_long_seq_allowed_with_flag(capsys) -> None:
    assert napkin_json(capsys, "model", "gpt2", "--seq", "8k", "--allow-long-context")["seq"] == 8192
