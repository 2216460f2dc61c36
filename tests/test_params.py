"""Parameter counts against published figures, and parts that add up to totals."""

from __future__ import annotations

import pytest

from napkin.params import count_params
from napkin.presets import list_presets, load_model

# Exact counts published as whole numbers: our count must equal them.
# Sources: safetensors index totals on the Hugging Face Hub (bytes ÷ 2 for bf16/fp16), the
# Gemma 2 report (arXiv:2408.00118, Table 2), KerasHub preset metadata, and the gpt-oss model
# card totals less the MXFP4 scale bytes.
EXACT_TOTALS = {
    "llama-3.1-8b": 8_030_261_248,
    "llama-3-8b": 8_030_261_248,
    "llama-3.1-70b": 70_553_706_496,
    "llama-3-70b": 70_553_706_496,
    "llama-3.1-405b": 405_853_388_800,
    "llama-2-7b": 6_738_415_616,
    "llama-2-70b": 68_976_648_192,
    "mistral-7b": 7_241_732_096,
    "mixtral-8x7b": 46_702_792_704,
    "qwen2.5-7b": 7_615_616_512,
    "qwen2-7b-instruct": 7_615_616_512,  # same shapes as Qwen2.5-7B, whose safetensors index has 15,231,233,024 bf16 bytes
    "gpt2": 124_439_808,
    "gemma-2-9b": 9_241_705_984,
    "phi-3-mini": 3_821_079_552,
    "gpt-oss-20b": 20_914_757_184,
    "gpt-oss-120b": 116_829_156_672,
}

# Rounded published figures: (value, source). The check passes within 0.5%, or when our count
# rounds to the published figure at the precision it was printed with.
ROUNDED_TOTALS = {
    "llama-3.2-1b": (1.23e9, "Llama 3.2 model card"),
    "llama-3.2-3b": (3.21e9, "Llama 3.2 model card"),
    "mixtral-8x22b": (141e9, "Mistral AI announcement, April 2024"),
    "qwen2.5-72b": (72.7e9, "Qwen2.5-72B model card"),
    "qwen3-8b": (8.2e9, "Qwen3-8B model card"),
    "qwen3-30b-a3b": (30.5e9, "Qwen3-30B-A3B model card"),
    "qwen3-235b-a22b": (235e9, "Qwen3-235B-A22B model card"),
    "deepseek-v2-lite": (15.7e9, "DeepSeek-V2 paper, arXiv:2405.04434"),
    "deepseek-v3": (671e9, "DeepSeek-V3 report, arXiv:2412.19437"),
    "gemma-3-27b": (27.0e9, "Gemma 3 report, arXiv:2503.19786, Table 1"),
    "gpt-3-175b": (175.0e9, "Brown et al. 2020, Table 2.1"),
    "megatron-1.7b": (1.7e9, "Narayanan et al. 2021, Table 1"),
    "megatron-3.6b": (3.6e9, "Narayanan et al. 2021, Table 1"),
    "megatron-7.5b": (7.5e9, "Narayanan et al. 2021, Table 1"),
    "megatron-18.4b": (18.4e9, "Narayanan et al. 2021, Table 1"),
    "megatron-39.1b": (39.1e9, "Narayanan et al. 2021, Table 1"),
    "megatron-76.1b": (76.1e9, "Narayanan et al. 2021, Table 1"),
    "megatron-145.6b": (145.6e9, "Narayanan et al. 2021, Table 1"),
    "megatron-310.1b": (310.1e9, "Narayanan et al. 2021, Table 1"),
    "megatron-529.6b": (529.6e9, "Narayanan et al. 2021, Table 1"),
    "megatron-1t": (1008.0e9, "Narayanan et al. 2021, Table 1"),
}

# Size names ("7B", "40B") are model names, not counts; their error is shown, not asserted.
SIZE_NAMES = {
    "llama-2-13b": 13e9,
    "gpt2-xl": 1.5e9,
    "falcon-40b": 40e9,
    "falcon-40b-rw": 40e9,
    "olmo-2-7b": 7e9,
    "olmo-2-13b": 13e9,
    "olmo-2-32b": 32e9,
}


def _printed_precision(value: float) -> float:
    """Return half a unit of the last digit a rounded figure like 72.7e9 was printed with."""
    digits = f"{value / 1e9:.4f}".rstrip("0").rstrip(".")
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    return 0.5 * 10 ** (-decimals) * 1e9


@pytest.mark.parametrize("name", sorted(EXACT_TOTALS))
def test_params_exact_published_total(name: str) -> None:
    assert count_params(load_model(name)).total == EXACT_TOTALS[name]


@pytest.mark.parametrize("name", sorted(ROUNDED_TOTALS))
def test_params_rounded_published_total(name: str) -> None:
    published, source = ROUNDED_TOTALS[name]
    ours = count_params(load_model(name)).total
    error = (ours - published) / published
    within_precision = abs(ours - published) <= _printed_precision(published)
    assert abs(error) <= 0.005 or within_precision, f"{name}: {ours:,} vs {published:,.0f} ({source}), error {error:+.2%}"


@pytest.mark.parametrize("name", sorted(SIZE_NAMES))
def test_params_size_name_reported(name: str) -> None:
    ours = count_params(load_model(name)).total
    error = (ours - SIZE_NAMES[name]) / SIZE_NAMES[name]
    # A size name is within a few tens of percent of the count; anything else is a parsing bug.
    assert abs(error) < 0.1, f"{name}: {ours:,}, {error:+.1%} from its size name"


def test_params_every_preset_classified() -> None:
    names = {preset.name for preset in list_presets()}
    assert names == set(EXACT_TOTALS) | set(ROUNDED_TOTALS) | set(SIZE_NAMES)


def test_params_mixtral_active_exact() -> None:
    # 2 of 8 experts + attention + embeddings, from the Hub safetensors metadata.
    assert count_params(load_model("mixtral-8x7b")).active == 12_879_925_248


@pytest.mark.parametrize(
    ("name", "published", "source"),
    [
        ("gpt-oss-20b", 3.61e9, "gpt-oss model card, arXiv:2508.10925"),
        ("gpt-oss-120b", 5.13e9, "gpt-oss model card, arXiv:2508.10925"),
        ("deepseek-v3", 37e9, "DeepSeek-V3 report, arXiv:2412.19437"),
    ],
)
def test_params_active_excluding_input_embedding(name: str, published: float, source: str) -> None:
    # These publishers leave the input embedding table out of "active" parameters.
    ours = count_params(load_model(name)).active_excluding_input_embedding
    assert abs(ours - published) <= _printed_precision(published), f"{ours:,} vs {published:,.0f} ({source})"


@pytest.mark.parametrize(
    ("name", "published"),
    [("mixtral-8x22b", 39e9), ("qwen3-235b-a22b", 22e9)],
)
def test_params_active_rounded(name: str, published: float) -> None:
    ours = count_params(load_model(name)).active
    assert abs(ours - published) / published < 0.01


def test_params_qwen25_non_embedding() -> None:
    # Qwen2.5-7B model card: 6.53B non-embedding parameters.
    assert round(count_params(load_model("qwen2.5-7b")).non_embedding / 1e9, 2) == 6.53


def test_params_gemma3_vision_reported_separately() -> None:
    counts = count_params(load_model("gemma-3-27b"))
    # Gemma 3 report, Table 1: vision encoder 417M; non-embedding 25,600M.
    assert round(counts.vision / 1e6) == 417
    assert round(counts.non_embedding / 1e8) == 256


def test_params_llama2_70b_not_peer_value() -> None:
    # A peer tool reported 55.29e9 from a wrong MLP width; the right count is 68,976,648,192.
    assert count_params(load_model("llama-2-70b")).total == 68_976_648_192


@pytest.mark.parametrize("name", [preset.name for preset in list_presets()])
def test_params_parts_sum_to_total(name: str) -> None:
    counts = count_params(load_model(name))
    assert counts.embedding + counts.non_embedding == counts.total
    assert counts.attention + counts.mlp + counts.norms == counts.non_embedding
    assert counts.active <= counts.total


def test_params_megatron_equation_2() -> None:
    # Narayanan et al. 2021, Eq. 2: P = 12·l·h²·(1 + 13/(12h) + (V + s)/(12·l·h)); our count adds
    # the final LayerNorm (2h), which the equation leaves out.
    l, h, V, s = 40, 6144, 51200, 2048
    equation = 12 * l * h * h + 13 * l * h + (V + s) * h
    assert count_params(load_model("megatron-18.4b")).total == equation + 2 * h
