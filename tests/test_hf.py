"""Reading HuggingFace config.json files, including the traps of real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from napkin.errors import ConfigError
from napkin.hf import SUPPORTED_MODEL_TYPES, arch_from_config, load_config_text
from napkin.params import count_params
from napkin.presets import load_model

MODELS = Path(__file__).resolve().parents[1] / "src" / "napkin" / "data" / "models"


def _config(name: str) -> dict:
    return json.loads((MODELS / name).read_text())


def test_hf_falcon_both_key_layouts_agree() -> None:
    new = count_params(load_model("falcon-40b"))
    original = count_params(load_model("falcon-40b-rw"))
    assert new == original
    assert load_model("falcon-40b-rw").attention.num_kv_heads == 8


def test_hf_gemma3_reads_text_config() -> None:
    arch = load_model("gemma-3-27b")
    assert arch.num_layers == 62
    assert arch.hidden_size == 5376
    assert sum(layer.sliding_window == 1024 for layer in arch.layers) == 52


def test_hf_gemma3_pattern_without_layer_types() -> None:
    config = _config("google__gemma-3-27b-it.json")
    del config["text_config"]["layer_types"]
    arch = arch_from_config(config, "gemma-3-27b")
    assert [layer.sliding_window is None for layer in arch.layers] == [(i + 1) % 6 == 0 for i in range(62)]


def test_hf_qwen25_sliding_window_inactive() -> None:
    assert all(layer.sliding_window is None for layer in load_model("qwen2.5-7b").layers)


def test_hf_qwen2_sliding_window_when_enabled() -> None:
    config = _config("Qwen__Qwen2.5-7B.json") | {"use_sliding_window": True, "max_window_layers": 20}
    arch = arch_from_config(config, "qwen-swa")
    assert [layer.sliding_window is not None for layer in arch.layers] == [i >= 20 for i in range(arch.num_layers)]


def test_hf_deepseek_v2_lite_no_query_lora() -> None:
    arch = load_model("deepseek-v2-lite")
    assert arch.attention.kind == "mla"
    assert arch.attention.q_lora_rank is None


def test_hf_deepseek_v3_mtp_excluded() -> None:
    arch = load_model("deepseek-v3")
    assert arch.num_layers == 61
    assert any("multi-token" in note for note in arch.notes)


def test_hf_deepseek_v3_dense_then_moe() -> None:
    arch = load_model("deepseek-v3")
    assert [layer.is_moe for layer in arch.layers[:4]] == [False, False, False, True]


def test_hf_explicit_head_dim() -> None:
    arch = load_model("gemma-2-9b")
    assert arch.attention.head_dim == 256
    assert arch.hidden_size // arch.attention.num_heads == 224


def test_hf_gpt_oss_alternating_windows() -> None:
    arch = load_model("gpt-oss-20b")
    assert [layer.sliding_window for layer in arch.layers[:2]] == [128, None]


def test_hf_unknown_keys_ignored() -> None:
    config = _config("meta-llama__Llama-3.1-8B.json") | {"some_future_key": {"nested": [1, 2]}}
    assert count_params(arch_from_config(config, "x")).total == 8_030_261_248


def test_hf_missing_key_named() -> None:
    config = _config("meta-llama__Llama-3.1-8B.json")
    del config["intermediate_size"]
    with pytest.raises(ConfigError, match="intermediate_size"):
        arch_from_config(config, "x")


def test_hf_wrong_type_named() -> None:
    config = _config("meta-llama__Llama-3.1-8B.json") | {"num_hidden_layers": "32"}
    with pytest.raises(ConfigError, match="num_hidden_layers"):
        arch_from_config(config, "x")


def test_hf_unsupported_model_type_lists_supported() -> None:
    with pytest.raises(ConfigError, match="supported: .*llama"):
        arch_from_config({"model_type": "bert"}, "x")


def test_hf_duplicate_keys_rejected() -> None:
    with pytest.raises(ConfigError, match="duplicate key"):
        load_config_text('{"model_type": "llama", "model_type": "gpt2"}', "x")


def test_hf_nan_rejected() -> None:
    with pytest.raises(ConfigError, match="NaN"):
        load_config_text('{"hidden_size": NaN}', "x")


def test_hf_supported_types_cover_families() -> None:
    expected = {"llama", "mistral", "mixtral", "qwen2", "qwen3", "qwen3_moe", "gemma2", "gemma3", "deepseek_v3",
                "deepseek_v2", "phi3", "gpt2", "falcon", "olmo2", "gpt_oss"}
    assert expected <= set(SUPPORTED_MODEL_TYPES)


def test_hf_layer_count_capped() -> None:
    config = _config("meta-llama__Llama-3.1-8B.json") | {"num_hidden_layers": 10**9}
    with pytest.raises(ConfigError, match="num_hidden_layers"):
        arch_from_config(config, "x")


def test_hf_experts_per_token_above_experts() -> None:
    config = _config("mistralai__Mixtral-8x7B-v0.1.json") | {"num_experts_per_tok": 9}
    with pytest.raises(ConfigError, match="only 8 experts"):
        arch_from_config(config, "x")


def test_hf_unknown_layer_type_rejected() -> None:
    config = _config("google__gemma-3-27b-it.json")
    config["text_config"]["layer_types"][0] = "chunked_attention"
    with pytest.raises(ConfigError, match="unsupported layer type 'chunked_attention'"):
        arch_from_config(config, "x")


def test_hf_zero_head_dim_rejected() -> None:
    config = _config("meta-llama__Llama-3.1-8B.json") | {"head_dim": 0}
    with pytest.raises(ConfigError, match="head_dim"):
        arch_from_config(config, "x")


def test_hf_huge_integer_literal_rejected() -> None:
    with pytest.raises(ConfigError, match="4,300 digits"):
        load_config_text('{"hidden_size": ' + "9" * 5000 + "}", "x")


def test_hf_vision_config_must_be_object() -> None:
    config = _config("google__gemma-3-27b-it.json") | {"vision_config": []}
    with pytest.raises(ConfigError, match="vision_config"):
        arch_from_config(config, "x")


def test_hf_model_folder_reads_config(tmp_path) -> None:
    (tmp_path / "config.json").write_text((MODELS / "openai-community__gpt2.json").read_text())
    assert count_params(load_model(tmp_path)).total == 124_439_808
