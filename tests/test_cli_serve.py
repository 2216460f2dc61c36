"""`napkin serve-size` and `napkin latency`: JSON keys, start-up figures, and bad input."""

from __future__ import annotations

import pytest

from napkin_runner import napkin_json, run_napkin

SIZE_KEYS = {
    "weights_bytes_per_gpu", "kv_cache_bytes_per_gpu", "kv_cache_tokens", "gpu_blocks", "max_concurrency",
    "max_context_tokens", "fits",
}
ROW_KEYS = {
    "batch", "ttft_s", "tpot_s", "tokens_per_s_per_gpu", "bound", "usd_per_million_output_tokens",
    "usd_per_million_input_tokens",
}


def test_serve_size_json_keys(capsys: pytest.CaptureFixture[str]) -> None:
    payload = napkin_json(capsys, "serve-size", "llama-3-70b", "--gpu", "h100", "--gpus", "2", "--tp", "2", "--context", "8k")
    assert SIZE_KEYS <= payload.keys()
    assert payload["fits"] is True
    assert payload["kv_cache_tokens"] == payload["gpu_blocks"] * 16


def test_serve_size_rtx3090_startup_log(capsys: pytest.CaptureFixture[str]) -> None:
    # github.com/vllm-project/vllm issue 10517: 31,232 tokens, concurrency 1.56 (vLLM 0.6, V0).
    payload = napkin_json(
        capsys, "serve-size", "llama-3.1-8b", "--gpu", "rtx-3090", "--max-model-len", "20000",
        "--max-num-batched-tokens", "20000", "--non-torch-memory", "0.35GiB",
    )
    assert payload["kv_cache_tokens"] == pytest.approx(31232, rel=0.03)
    assert payload["max_concurrency"] == pytest.approx(1.56, rel=0.03)


def test_serve_size_engine_overrides(capsys: pytest.CaptureFixture[str]) -> None:
    payload = napkin_json(
        capsys, "serve-size", "llama-3-8b", "--gpu", "a100-80gb", "--gpu-total", "79.2GiB", "--gpu-memory-utilization", "0.9",
        "--activation-peak", "1GiB", "--non-torch-memory", "0.5GiB", "--cuda-graph-memory", "0.5GiB", "--block-size", "32",
    )
    expected = 79.2 * 2**30 * 0.9 - payload["weights_bytes_per_gpu"] - 2 * 2**30
    assert payload["kv_cache_bytes_per_gpu"] == pytest.approx(expected, rel=1e-9)
    assert payload["kv_cache_tokens"] == payload["gpu_blocks"] * 32


def test_serve_size_cheapest_options(capsys: pytest.CaptureFixture[str]) -> None:
    payload = napkin_json(capsys, "serve-size", "llama-3-70b", "--gpu", "h100,h200,b200,mi300x", "--qps", "20", "--tpot", "50ms", "--cheapest")
    prices = [option["usd_per_hour"] for option in payload["options"]]
    assert prices == sorted(prices)
    assert {"gpu", "gpus", "usd_per_hour"} <= payload["options"][0].keys()


def test_serve_size_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_napkin(capsys, "serve-size", "mixtral-8x7b", "--gpu", "h100", "--weights-dtype", "fp8", "--max-context")
    assert code == 0, err
    assert "longest context at batch 1" in out


def test_latency_json_rows(capsys: pytest.CaptureFixture[str]) -> None:
    payload = napkin_json(
        capsys, "latency", "llama-3-70b", "--gpu", "h100", "--gpus", "4", "--tp", "4", "--batch", "1,8,32,128", "--prompt", "2k", "--output", "512",
    )
    assert [row["batch"] for row in payload["rows"]] == [1, 8, 32, 128]
    for row in payload["rows"]:
        assert ROW_KEYS <= row.keys()


def test_latency_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_napkin(capsys, "latency", "llama-3-8b", "--gpu", "h100")
    assert code == 0, err
    assert "TPOT" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve-size", "llama-3-70b", "--gpu", "h100"], "does not fit on 1 × h100"),
        (["serve-size", "llama-3-70b", "--gpu", "h100"], "--gpus 2 --tp 2"),
        (["serve-size", "llama-3-70b", "--gpu", "h100"], "--weights-dtype fp8"),
        (["serve-size", "llama-3-8b", "--gpu", "rtx-3090", "--context", "8k", "--engine", "plain", "--gpu-memory-utilization", "0.7"], "does not fit"),
        (["serve-size", "llama-3-70b", "--gpu", "h100", "--gpus", "2", "--tp", "4"], "--tp 4 is larger than --gpus 2"),
        (["serve-size", "llama-3-8b", "--gpu", "h100", "--context", "1M"], "--allow-long-context"),
        (["serve-size", "llama-3-8b", "--gpu", "h100", "--gpu-memory-utilization", "0"], "must be above 0%"),
        (["serve-size", "llama-3-8b", "--gpu", "h100", "--gpu-memory-utilization", "1.5"], "above 1"),
        (["serve-size", "llama-3-70b", "--gpu", "h100", "--qps", "0", "--tpot", "50ms", "--cheapest"], "must be greater than zero"),
        (["serve-size", "llama-3-70b", "--gpu", "h100", "--qps", "20"], "go together"),
        (["serve-size", "llama-3-70b", "--gpu", "h100", "--qps", "20", "--tpot", "fast", "--cheapest"], "expected a time"),
        (["serve-size", "llama-3-8b", "--gpu", "h10"], "did you mean 'h100'"),
        (["serve-size", "llama-3-8b", "--gpu", "h100,h200"], "only --cheapest compares"),
        (["serve-size", "llama-3-8b", "--gpu", "h100", "--batch", "4"], "--max-context"),
        (["serve-size", "llama-3-8b", "--gpu", "h100", "--ep", "2", "--gpus", "2"], "needs a mixture-of-experts model"),
        (["serve-size", "llama-3-8b", "--gpu", "h100", "--engine", "plain", "--non-torch-memory", "1GiB"], "--engine plain leaves out"),
        (["serve-size", "llama-3-8b", "--gpu", "h100", "--context", "4k", "--max-model-len", "8k"], "differ"),
        (["serve-size", "llama-3-8b", "--gpu", "h100", "--int4-group-size", "64"], "--weights-dtype int4"),
        (["latency", "llama-3-70b", "--gpu", "h100", "--tp", "4"], "larger than --gpus 1"),
        (["latency", "llama-3-8b", "--gpu", "h100", "--bandwidth-efficiency", "0"], "must be above 0%"),
    ],
)
def test_serve_bad_input(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = run_napkin(capsys, *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert message in err


def test_serve_size_allow_long_context(capsys: pytest.CaptureFixture[str]) -> None:
    payload = napkin_json(capsys, "serve-size", "llama-3-8b", "--gpu", "h100", "--context", "16k", "--allow-long-context")
    assert payload["context"] == 16384
