"""Tests of `napkin verify`: every estimate against PyTorch's measurement of the real model.

The models are built by transformers 5.25 from the shipped configs (no weights), shrunk in depth
and vocabulary for the byte measurements. Tolerances are the ones `napkin.verify.TOLERANCES`
claims: parameters, KV, optimizer and gradient bytes exact, FLOPs within 1% (2% for MoE),
activations within 10%.
"""

from __future__ import annotations

import json
import sys

import pytest
from napkin_runner import run_napkin

from napkin.cli import main  # noqa: F401  (registers the verify command)
from napkin.presets import load_model, resolve_preset
from napkin.verify import INSTALL_HINT, Row, VerifyReport, verify_model

# One shipped config of each family. Bytes are measured on CPU for the three smallest (SDPA
# attention) and on the meta device for the rest (eager attention), to keep the suite fast.
FAMILY_CASES = [
    ("llama-3.2-1b", "cpu"),
    ("mistral-7b", "meta"),
    ("mixtral-8x7b", "meta"),
    ("qwen2.5-7b", "meta"),
    ("qwen3-8b", "meta"),
    ("qwen3-30b-a3b", "meta"),
    ("olmo-2-7b", "meta"),
    ("phi-3-mini", "meta"),
    ("gemma-2-9b", "meta"),
    ("gemma-3-27b", "meta"),
    ("gpt2", "cpu"),
    ("falcon-40b", "meta"),
    ("deepseek-v2-lite", "cpu"),
    ("deepseek-v3", "meta"),
    ("gpt-oss-20b", "meta"),
]
SEQ = 128


def _verify(preset: str, seq: int = SEQ, device: str = "auto", layers: int | None = None) -> VerifyReport:
    config = resolve_preset(preset).config()
    return verify_model(config, preset, seq, 1, layers=layers, device=device)


@pytest.mark.parametrize(("preset", "device"), FAMILY_CASES)
def test_family_within_tolerance(preset: str, device: str) -> None:
    # Depth-reduced: one block of each kind, the fewest that `--layers` accepts.
    kinds = len(set(load_model(preset).layers))
    report = _verify(preset, device=device, layers=kinds)
    for row in report.rows:
        assert row.passed, f"{preset} {row.quantity}: estimate {row.estimate:,.0f}, measured {row.measured:,.0f}"


def test_family_rows_named_as_documented() -> None:
    report = _verify("llama-3.2-1b", device="cpu", layers=1)
    names = [row.quantity for row in report.rows]
    assert names == [
        "params_total",
        "params_active",
        "forward_flop_per_token",
        "train_flop_per_token",
        "kv_cache_bytes_per_token",
        "gradients_bytes",
        "optimizer_bytes",
        "optimizer_bytes_sgd",
        "activations_bytes_per_layer_none",
        "activations_bytes_per_layer_selective",
        "activations_bytes_per_layer_full",
    ]


def test_70b_on_meta_device(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_napkin(capsys, "verify", "llama-3-70b", "--seq", "4k", "--layers", "1", "--device", "meta", "--json")
    assert code == 0, err
    payload = json.loads(out)
    rows = {row["quantity"]: row for row in payload["rows"]}
    # Llama 3 70B: the model transformers builds from the shipped config has 70,553,706,496.
    assert rows["params_total"]["measured"] == 70_553_706_496
    assert rows["forward_flop_per_token"]["relative_error"] == 0
    assert payload["layers_total"] == 80
    assert payload["seq"] == 4096


def test_moe_flops_count_routed_experts() -> None:
    # Mixtral 8x7B, 2 of 8 experts: forward FLOPs per token are at least 2 × 12.9B active parameters.
    report = _verify("mixtral-8x7b", device="meta", layers=1)
    rows = {row.quantity: row for row in report.rows}
    assert rows["params_active"].measured == 12_879_925_248
    assert rows["forward_flop_per_token"].measured > 2 * 12_879_925_248 * 0.99
    assert rows["forward_flop_per_token"].relative_error == 0


def test_sliding_window_cache_holds_window_minus_one() -> None:
    # gpt-oss-20b: 128-token windows on half the layers; after 512 tokens those layers hold 127.
    report = _verify("gpt-oss-20b", seq=512, device="meta", layers=2)
    kv = next(row for row in report.rows if row.quantity == "kv_cache_bytes_per_token")
    per_layer_token = 2 * 8 * 64 * 2
    assert kv.measured * 512 == 12 * per_layer_token * 512 + 12 * per_layer_token * 127
    assert kv.passed


def test_missing_torch_exits_2_with_install_hint(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    code, out, err = run_napkin(capsys, "verify", "llama-3.2-1b")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert INSTALL_HINT in err


def test_error_over_tolerance_exits_1(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    failing = VerifyReport("m", 512, 1, 1, 1, (Row("params_total", 101, 100, 0.0),))
    monkeypatch.setattr("napkin.verify.verify_model", lambda *args, **kwargs: failing)
    code, out, _ = run_napkin(capsys, "verify", "llama-3.2-1b")
    assert code == 1
    assert "OVER" in out


def test_bad_inputs_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for args, expected in [
        (["verify", "lama-3-8b"], "did you mean"),
        (["verify", "llama-3.2-1b", "--seq", "0"], "--seq"),
        (["verify", "llama-3.2-1b", "--layers", "0"], "--layers"),
        (["verify", "llama-3.2-1b", "--layers", "999"], "more than the 16 layers"),
        (["verify", "llama-3.2-1b", "--device", "gpu"], "--device"),
        (["verify", "deepseek-v3", "--layers", "1"], "--layers 2"),
        (["verify", "gpt2", "--seq", "4k"], "maximum of 1,024 positions"),
    ]:
        code, out, err = run_napkin(capsys, *args)
        assert code == 2, args
        assert err.count("\n") == 1, err
        assert expected in err, err


def test_row_relative_error() -> None:
    assert Row("x", 110, 100, 0.1).relative_error == pytest.approx(0.1)
    assert Row("x", 110, 100, 0.1).passed
    assert not Row("x", 111, 100, 0.1).passed
    assert Row("x", 0, 0, 0.0).passed


def test_auto_device_moves_long_sequences_to_meta() -> None:
    # A CPU forward pass at seq 131,072 ran for minutes; auto now moves it to the meta device.
    from napkin.verify import _bytes_device

    arch = load_model("llama-3.2-1b")
    small = load_model("gpt2")
    assert _bytes_device(small, 2, "auto", 512, 1) == "cpu"
    assert _bytes_device(small, 2, "auto", 4096, 4) == "cpu"
    assert _bytes_device(small, 2, "auto", 131072, 1) == "meta"
    assert _bytes_device(small, 2, "auto", 4096, 5) == "meta"
    assert _bytes_device(arch, 2, "cpu", 131072, 1) == "cpu"
