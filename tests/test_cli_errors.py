"""Tests of the CLI contract: bad input exits 2 with one line on stderr, good input exits 0.

`NapkinGroup.main` calls `sys.exit` itself, so the commands run in process through
`napkin.cli.main` inside `pytest.raises(SystemExit)`, and a few run as real processes.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import napkin
from napkin.cli import main

MODELS_DIR = Path(napkin.__file__).parent / "data" / "models"
LLAMA_3_8B_CONFIG = MODELS_DIR / "meta-llama__Meta-Llama-3-8B.json"

TRAIN = ["train", "llama-3-70b", "--gpu", "h100", "--tokens", "15T"]
MEMORY_TRAIN = ["memory", "llama-3-70b", "--train", "--gpu", "h100"]
MEMORY_INFER = ["memory", "llama-3-70b", "--infer", "--gpu", "h100"]
ROOFLINE = ["roofline", "--gpu", "h100", "--model", "llama-3-8b"]


@dataclass
class Result:
    """Exit status and captured output of one CLI run."""

    code: int | str | None
    stdout: str
    stderr: str


def run_cli(capsys: pytest.CaptureFixture[str], args: list[str]) -> Result:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    stdout, stderr = capsys.readouterr()
    return Result(exit_info.value.code, stdout, stderr)


def run_process(args: list[str]) -> Result:
    completed = subprocess.run(
        [sys.executable, "-m", "napkin", *args], capture_output=True, text=True, timeout=60, check=False
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def assert_usage_error(result: Result, *needles: str) -> None:
    """Check the bad-input contract: status 2, empty stdout, one stderr line naming each needle."""
    assert result.code == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.strip() != ""
    for needle in needles:
        assert needle in result.stderr


def assert_success(result: Result) -> None:
    assert result.code == 0
    assert result.stdout.strip() != ""
    assert result.stderr == ""


# --- counts and units ----------------------------------------------------------------------------

BAD_NUMBERS = {
    "train-tokens-negative": (["train", "llama-3-70b", "--gpu", "h100", "--tokens", "-1"], ["--tokens", "'-1'"]),
    "train-tokens-zero": (["train", "llama-3-70b", "--gpu", "h100", "--tokens", "0"], ["--tokens", "'0'"]),
    "train-tokens-nan": (["train", "llama-3-70b", "--gpu", "h100", "--tokens", "nan"], ["--tokens", "'nan'"]),
    "train-tokens-inf": (["train", "llama-3-70b", "--gpu", "h100", "--tokens", "inf"], ["--tokens", "'inf'"]),
    "train-tokens-huge": (["train", "llama-3-70b", "--gpu", "h100", "--tokens", "1e300"], ["--tokens", "'1e300'"]),
    "train-tokens-decimal-comma": (
        ["train", "llama-3-70b", "--gpu", "h100", "--tokens", "1,5T"],
        ["--tokens", "'1,5T'", "1.5"],
    ),
    "train-tokens-arabic-digits": (
        ["train", "llama-3-70b", "--gpu", "h100", "--tokens", "\u0667\u0660B"],
        ["--tokens"],
    ),
    "train-gpus-zero": ([*TRAIN, "--gpus", "0"], ["--gpus", "'0'"]),
    "train-gpus-negative": ([*TRAIN, "--gpus", "-3"], ["--gpus", "'-3'"]),
    "train-gpus-fraction": ([*TRAIN, "--gpus", "1.5"], ["--gpus", "'1.5'", "whole number"]),
    "train-params-huge": (
        ["train", "--params", "1e300", "--tokens", "1e300", "--gpu", "h100"],
        ["--params", "'1e300'"],
    ),
    "memory-batch-zero": ([*MEMORY_TRAIN, "--batch", "0"], ["--batch", "'0'"]),
    "memory-batch-comma": ([*MEMORY_TRAIN, "--batch", "1,8"], ["--batch", "'1,8'"]),
    "memory-seq-zero": ([*MEMORY_TRAIN, "--seq", "0"], ["--seq", "'0'"]),
    "memory-context-nan": ([*MEMORY_INFER, "--context", "nan"], ["--context", "'nan'"]),
    "memory-requests-huge": ([*MEMORY_INFER, "--requests", "1e300"], ["--requests", "'1e300'"]),
    "kv-context-nan": (["kv", "llama-3-70b", "--gpu", "h100", "--context", "nan"], ["--context", "'nan'"]),
    "model-seq-zero": (["model", "llama-3-70b", "--seq", "0"], ["--seq", "'0'"]),
    "serve-cost-tokens-zero": (["serve-cost", "--tokens-per-s", "0", "--price", "2"], ["--tokens-per-s", "'0'"]),
}


@pytest.mark.parametrize(("args", "needles"), BAD_NUMBERS.values(), ids=BAD_NUMBERS.keys())
def test_cli_bad_number(capsys: pytest.CaptureFixture[str], args: list[str], needles: list[str]) -> None:
    assert_usage_error(run_cli(capsys, args), *needles)


BAD_UNITS = {
    "train-tokens-unknown-suffix": (
        ["train", "llama-3-70b", "--gpu", "h100", "--tokens", "70X"],
        ["--tokens", "'70X'", "70B"],
    ),
    "train-params-unknown-suffix": (
        ["train", "--params", "70X", "--tokens", "15T", "--gpu", "h100"],
        ["--params", "'70X'", "70B"],
    ),
    "memory-hbm-bare-number": ([*MEMORY_INFER, "--hbm", "80"], ["--hbm", "'80'", "80GB"]),
    "memory-hbm-unknown-unit": ([*MEMORY_INFER, "--hbm", "80XB"], ["--hbm", "'80XB'", "GB"]),
    "train-peak-bare-number": (
        ["train", "llama-3-70b", "--tokens", "15T", "--peak", "990", "--bandwidth", "3TB/s", "--hbm", "80GB"],
        ["--peak", "'990'", "990T"],
    ),
    "roofline-bandwidth-ambiguous": (
        ["roofline", "--peak", "990T", "--bandwidth", "3.35tb/s", "--hbm", "80GB"],
        ["--bandwidth", "'3.35tb/s'", "TB/s"],
    ),
}


@pytest.mark.parametrize(("args", "needles"), BAD_UNITS.values(), ids=BAD_UNITS.keys())
def test_cli_bad_unit(capsys: pytest.CaptureFixture[str], args: list[str], needles: list[str]) -> None:
    assert_usage_error(run_cli(capsys, args), *needles)


# --- unknown names -------------------------------------------------------------------------------

UNKNOWN_NAMES = {
    "train-gpu-h10": (["train", "llama-3-70b", "--tokens", "15T", "--gpu", "h10"], ["'h10'", "'h100'"]),
    "memory-gpu-h10": (["memory", "llama-3-70b", "--train", "--gpu", "h10"], ["'h10'", "'h100'"]),
    "kv-gpu-h10": (["kv", "llama-3-70b", "--context", "8k", "--gpu", "h10"], ["'h10'", "'h100'"]),
    "roofline-gpu-h10": (["roofline", "--gpu", "h10"], ["'h10'", "'h100'"]),
    "model-llama-3-7b": (["model", "llama-3-7b"], ["'llama-3-7b'", "'llama-3-70b'"]),
    "model-lama-3-70b": (["model", "lama-3-70b"], ["'lama-3-70b'", "'llama-3-70b'"]),
    "train-model-lama-3-70b": (["train", "lama-3-70b", "--tokens", "15T", "--gpu", "h100"], ["'llama-3-70b'"]),
    "kv-model-lama-3-70b": (["kv", "lama-3-70b", "--context", "8k", "--gpu", "h100"], ["'llama-3-70b'"]),
    "roofline-model-lama-3-8b": (["roofline", "--gpu", "h100", "--model", "lama-3-8b"], ["'llama-3-8b'"]),
    "model-empty-name": (["model", ""], ["napkin models"]),
}


@pytest.mark.parametrize(("args", "needles"), UNKNOWN_NAMES.values(), ids=UNKNOWN_NAMES.keys())
def test_cli_unknown_name(capsys: pytest.CaptureFixture[str], args: list[str], needles: list[str]) -> None:
    assert_usage_error(run_cli(capsys, args), *needles)


def test_model_suggestion_skips_alias(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, ["model", "lama-3-70b"])
    assert "'llama3-70b'" not in result.stderr


def test_model_unknown_lists_command(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, ["model", "lama-3-70b"])
    assert "napkin models" in result.stderr


# --- config.json files ---------------------------------------------------------------------------


def _llama_config() -> dict[str, object]:
    return json.loads(LLAMA_3_8B_CONFIG.read_text())


def _llama_with(**changes: object) -> str:
    return json.dumps({**_llama_config(), **changes})


def _llama_without(key: str) -> str:
    config = _llama_config()
    del config[key]
    return json.dumps(config)


_LLAMA_TEXT = LLAMA_3_8B_CONFIG.read_text()

BAD_CONFIGS = {
    "malformed": ('{"model_type": "llama",', ["invalid JSON"]),
    "truncated": (_LLAMA_TEXT[: len(_LLAMA_TEXT) // 2], ["invalid JSON"]),
    "empty": ("", ["invalid JSON"]),
    "top-level-list": ("[1, 2]", ["JSON object", "an array"]),
    "top-level-number": ("42", ["JSON object", "a number"]),
    "top-level-string": ('"llama"', ["JSON object", "a string"]),
    "missing-layers": (_llama_without("num_hidden_layers"), ["'num_hidden_layers'", "missing"]),
    "missing-model-type": (_llama_without("model_type"), ["'model_type'", "missing"]),
    "layers-string": (_llama_with(num_hidden_layers="32"), ["'num_hidden_layers'", '"32"']),
    "layers-bool": (_llama_with(num_hidden_layers=True), ["'num_hidden_layers'", "true"]),
    "layers-float": (_llama_with(num_hidden_layers=3.5), ["'num_hidden_layers'", "3.5"]),
    "layers-negative": (_llama_with(num_hidden_layers=-4), ["'num_hidden_layers'", "-4"]),
    "layers-zero": (_llama_with(num_hidden_layers=0), ["'num_hidden_layers'", "0"]),
    "unsupported-model-type": (_llama_with(model_type="bert"), ["'bert'", "supported"]),
    "model-type-not-string": (_llama_with(model_type=7), ["model_type", "supported"]),
    "duplicate-key": ('{"model_type": "llama", "model_type": "mistral"}', ["duplicate key 'model_type'"]),
    "nan-literal": (_llama_with(hidden_size=math.nan), ["NaN"]),
    "infinity-literal": (_llama_with(hidden_size=math.inf), ["Infinity"]),
    "deep-nesting": ("[" * 100_000 + "]" * 100_000, []),
}


@pytest.mark.parametrize(("text", "needles"), BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_model_bad_config(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, needles: list[str]
) -> None:
    path = tmp_path / "config.json"
    path.write_text(text)
    assert_usage_error(run_cli(capsys, ["model", str(path)]), str(path), *needles)


def test_model_unsupported_type_lists_supported(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(_llama_with(model_type="bert"))
    result = run_cli(capsys, ["model", str(path)])
    for model_type in ("llama", "qwen2", "deepseek_v3", "gpt2"):
        assert model_type in result.stderr


def test_model_config_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.mkdir()
    assert_usage_error(run_cli(capsys, ["model", str(path)]), str(path))


def test_model_config_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "missing.json"
    assert_usage_error(run_cli(capsys, ["model", str(path)]), str(path), "not found")


def test_model_config_non_utf8(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(b"\xff\xff")
    assert_usage_error(run_cli(capsys, ["model", str(path)]), str(path), "UTF-8")


def test_memory_infer_gpus_not_dividing_heads(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["memory", "llama-3-70b", "--infer", "--gpu", "h100", "--gpus", "3"]
    assert_usage_error(run_cli(capsys, args), "--gpus 3", "64 attention heads")


def test_memory_infer_bare_params_kv_not_estimated(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, ["memory", "--params", "70B", "--infer", "--gpu", "h100", "--json"])
    assert result.code == 0
    assert json.loads(result.stdout)["kv_cache_bytes"] is None


def test_roofline_bad_config(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(_llama_without("num_hidden_layers"))
    result = run_cli(capsys, ["roofline", "--gpu", "h100", "--model", str(path)])
    assert_usage_error(result, str(path), "'num_hidden_layers'")


def test_model_good_config_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(_LLAMA_TEXT)
    assert_success(run_cli(capsys, ["model", str(path)]))


# --- contradictory and out-of-range options ------------------------------------------------------

BAD_OPTIONS = {
    "memory-train-and-infer": ([*MEMORY_TRAIN, "--infer"], ["--train", "--infer"]),
    "memory-neither-mode": (["memory", "llama-3-70b", "--gpu", "h100"], ["--train", "--infer"]),
    "memory-zero-3-without-dp": ([*MEMORY_TRAIN, "--zero", "3"], ["--dp"]),
    "memory-fsdp-and-zero-1": ([*MEMORY_TRAIN, "--fsdp", "--zero", "1", "--dp", "8"], ["--fsdp", "--zero 1"]),
    "memory-sp-without-tp": ([*MEMORY_TRAIN, "--sp"], ["--sp", "--tp"]),
    "memory-zero-out-of-range": ([*MEMORY_TRAIN, "--zero", "5"], ["--zero", "5"]),
    "memory-model-and-params": ([*MEMORY_TRAIN, "--params", "70B"], ["'llama-3-70b'", "--params"]),
    "memory-tp-3-for-64-heads": ([*MEMORY_TRAIN, "--tp", "3"], ["--tp 3", "64"]),
    "memory-bad-choice": ([*MEMORY_INFER, "--kv-dtype", "fp7"], ["--kv-dtype", "'fp7'"]),
    "train-model-and-params": ([*TRAIN, "--params", "70B"], ["'llama-3-70b'", "--params"]),
    "train-no-model": (["train", "--tokens", "15T", "--gpu", "h100"], ["--params"]),
    "train-no-gpu": (["train", "llama-3-70b", "--tokens", "15T"], ["--gpu"]),
    "train-mfu-140": ([*TRAIN, "--mfu", "140%"], ["--mfu", "'140%'", "100%"]),
    "train-mfu-zero": ([*TRAIN, "--mfu", "0"], ["--mfu", "'0'"]),
    "train-mfu-40": ([*TRAIN, "--mfu", "40"], ["--mfu", "'40'", "40%"]),
    "train-price-negative": ([*TRAIN, "--price", "-1"], ["--price", "'-1'"]),
    "train-custom-gpu-peak-only": (
        ["train", "llama-3-70b", "--tokens", "15T", "--peak", "990T"],
        ["--bandwidth", "--hbm"],
    ),
    "roofline-custom-gpu-peak-only": (["roofline", "--peak", "990T"], ["--bandwidth", "--hbm"]),
    "roofline-batch-empty-entry": ([*ROOFLINE, "--batch", "1,,8"], ["--batch", "'1,,8'"]),
    "roofline-batch-not-a-number": ([*ROOFLINE, "--batch", "1,x"], ["--batch", "'x'", "'1,x'"]),
    "serve-cost-no-price": (["serve-cost", "--tokens-per-s", "2500"], ["--price", "--gpu"]),
    "memory-infer-with-tp": ([*MEMORY_INFER, "--tp", "8"], ["--tp", "--train", "--gpus"]),
    "memory-infer-with-optimizer": ([*MEMORY_INFER, "--optimizer", "sgd"], ["--optimizer", "--train"]),
    "memory-train-with-requests": ([*MEMORY_TRAIN, "--requests", "8"], ["--requests", "--infer"]),
    "memory-train-with-dtype": ([*MEMORY_TRAIN, "--dtype", "int4"], ["--dtype", "--infer"]),
    "memory-params-with-context": (
        ["memory", "--params", "7B", "--infer", "--gpu", "h100", "--context", "128k"],
        ["KV cache", "architecture"],
    ),
    "memory-context-beyond-positions": (
        ["memory", "gpt2", "--infer", "--gpu", "h100", "--context", "4k"],
        ["4,096", "1,024", "--allow-long-context"],
    ),
    "kv-context-beyond-positions": (["kv", "gpt2", "--context", "1M", "--gpu", "h100"], ["1,024", "--allow-long-context"]),
    "kv-gpus-without-gpu": (["kv", "gpt2", "--context", "1k", "--gpus", "2"], ["--gpus", "--gpu NAME"]),
    "kv-gpus-not-dividing-heads": (["kv", "llama-3-70b", "--context", "8k", "--gpu", "h100", "--gpus", "3"], ["--gpus 3", "such as 4"]),
    "roofline-context-without-model": (["roofline", "--gpu", "h100", "--context", "4k"], ["--context", "--model"]),
    "roofline-too-many-batches": ([*ROOFLINE, "--batch", ",".join(["1"] * 65)], ["65", "at most 64"]),
    "train-bandwidth-is-a-size": ([*TRAIN, "--peak", "990T", "--bandwidth", "3.35GB", "--hbm", "80GB"], ["'3.35GB'", "3.35GB/s"]),
    "train-params-without-suffix": (["train", "--params", "70", "--tokens", "1T", "--gpu", "h100"], ["'70'", "70B"]),
}


@pytest.mark.parametrize(("args", "needles"), BAD_OPTIONS.values(), ids=BAD_OPTIONS.keys())
def test_cli_bad_option(capsys: pytest.CaptureFixture[str], args: list[str], needles: list[str]) -> None:
    assert_usage_error(run_cli(capsys, args), *needles)


def test_serve_cost_unknown_gpu_with_price(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, ["serve-cost", "--tokens-per-s", "2500", "--price", "2", "--gpu", "h10"])
    assert_usage_error(result, "'h10'")


# --- command-line syntax -------------------------------------------------------------------------

BAD_SYNTAX = {
    "train-unknown-option": (["train", "--tokenz", "15T"], ["--tokenz", "--tokens"]),
    "unknown-command": (["trian"], ["trian", "train"]),
    "no-command": ([], ["train", "napkin --help"]),
    "model-missing-argument": (["model"], ["MODEL", "napkin model --help"]),
    "train-missing-tokens": (["train", "llama-3-70b", "--gpu", "h100"], ["--tokens"]),
    "kv-missing-context": (["kv", "llama-3-70b", "--gpu", "h100"], ["--context"]),
    "train-option-without-value": (["train", "llama-3-70b", "--gpu", "h100", "--tokens"], ["--tokens"]),
}


@pytest.mark.parametrize(("args", "needles"), BAD_SYNTAX.values(), ids=BAD_SYNTAX.keys())
def test_cli_bad_syntax(capsys: pytest.CaptureFixture[str], args: list[str], needles: list[str]) -> None:
    assert_usage_error(run_cli(capsys, args), *needles)


# --- good commands -------------------------------------------------------------------------------

GOOD_COMMANDS = {
    "model": ["model", "llama-3-70b", "--seq", "8k"],
    "models": ["models"],
    "gpus": ["gpus"],
    "train": ["train", "llama-3-70b", "--tokens", "15T", "--gpu", "h100", "--gpus", "1024", "--price", "2"],
    "train-params": ["train", "--params", "70B", "--tokens", "15T", "--gpu", "h100"],
    "memory-train": [*MEMORY_TRAIN, "--zero", "3", "--dp", "64", "--seq", "8k", "--recompute", "full"],
    "memory-infer": [*MEMORY_INFER, "--gpus", "2", "--context", "8k"],
    "kv": ["kv", "llama-3-70b", "--context", "8k", "--gpu", "h100", "--gpus", "2"],
    "roofline": [*ROOFLINE, "--batch", "1,8,64,512"],
    "roofline-custom-gpu": ["roofline", "--peak", "990T", "--bandwidth", "3.35TB/s", "--hbm", "80GB"],
    "serve-cost": ["serve-cost", "--tokens-per-s", "2500", "--price", "$2/hr"],
}


@pytest.mark.parametrize("args", GOOD_COMMANDS.values(), ids=GOOD_COMMANDS.keys())
def test_cli_good_command(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    assert_success(run_cli(capsys, args))


@pytest.mark.parametrize("args", GOOD_COMMANDS.values(), ids=GOOD_COMMANDS.keys())
def test_cli_good_command_json(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    result = run_cli(capsys, [*args, "--json"])
    assert_success(result)
    assert isinstance(json.loads(result.stdout), (dict, list))


@pytest.mark.parametrize(
    "args", [["--help"], ["train", "--help"], ["--version"]], ids=["help", "train-help", "version"]
)
def test_cli_help_and_version(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    assert_success(run_cli(capsys, args))


# --- real processes ------------------------------------------------------------------------------

PROCESS_ERRORS = {
    "train-tokens-negative": ["train", "llama-3-70b", "--gpu", "h100", "--tokens", "-1"],
    "unknown-command": ["trian"],
    "no-command": [],
    "model-unknown": ["model", "lama-3-70b"],
    "memory-contradiction": ["memory", "llama-3-70b", "--train", "--infer", "--gpu", "h100"],
}


@pytest.mark.parametrize("args", PROCESS_ERRORS.values(), ids=PROCESS_ERRORS.keys())
def test_process_bad_input(args: list[str]) -> None:
    assert_usage_error(run_process(args))


def test_process_good_command() -> None:
    assert_success(run_process(["train", "llama-3-70b", "--tokens", "15T", "--gpu", "h100", "--json"]))


def test_memory_zero_with_dp_one_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    # ZeRO paper, Table 1, first row: 7.5B on one data-parallel rank keeps all 120 GB of model states.
    result = run_cli(capsys, ["memory", "--params", "7.5B", "--train", "--gpu", "a100-80gb", "--zero", "1", "--dp", "1", "--json"])
    assert result.code == 0
    assert json.loads(result.stdout)["total_bytes"] == 120e9


def test_kv_without_gpu_prints_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, ["kv", "llama-3-70b", "--context", "8k", "--json"])
    assert result.code == 0
    assert json.loads(result.stdout)["kv_cache_bytes_per_request"] == 327_680 * 8192


def test_kv_long_context_allowed_with_flag(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, ["kv", "gpt2", "--context", "4k", "--gpu", "h100", "--allow-long-context"])
    assert result.code == 0


def test_memory_fsdp_contradicts_explicit_zero_0(capsys: pytest.CaptureFixture[str]) -> None:
    args = [*MEMORY_TRAIN, "--fsdp", "--zero", "0", "--dp", "8"]
    assert_usage_error(run_cli(capsys, args), "--fsdp", "--zero 0")


def test_memory_int4_group_without_int4(capsys: pytest.CaptureFixture[str]) -> None:
    args = [*MEMORY_INFER, "--int4-group-size", "64"]
    assert_usage_error(run_cli(capsys, args), "--int4-group-size", "--dtype int4")


def test_kv_partial_custom_gpu_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    assert_usage_error(run_cli(capsys, ["kv", "gpt2", "--context", "1k", "--hbm", "80GB"]), "--peak", "--bandwidth")


def test_model_seq_beyond_positions(capsys: pytest.CaptureFixture[str]) -> None:
    assert_usage_error(run_cli(capsys, ["model", "gpt2", "--seq", "8k"]), "--seq 8,192", "--allow-long-context")


def test_memory_infer_default_context_capped(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, ["memory", "gpt2", "--infer", "--gpu", "h100", "--json"])
    assert result.code == 0
    assert json.loads(result.stdout)["context"] == 1024


def test_memory_params_with_activation_options(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["memory", "--params", "70B", "--train", "--gpu", "h100", "--seq", "8k"]
    assert_usage_error(run_cli(capsys, args), "--seq", "architecture")


def test_memory_infer_uneven_kv_split(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["memory", "mixtral-8x22b", "--infer", "--gpu", "h100", "--gpus", "6"]
    assert_usage_error(run_cli(capsys, args), "--gpus 6", "8 KV heads")


def test_train_allow_long_context_without_seq(capsys: pytest.CaptureFixture[str]) -> None:
    args = [*TRAIN, "--allow-long-context"]
    assert_usage_error(run_cli(capsys, args), "--allow-long-context", "--seq")
