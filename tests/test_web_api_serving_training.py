"""The serving, layout and plan endpoints of the web API against the CLI's --json, and their bad bodies."""

from __future__ import annotations

import pytest
from napkin_runner import napkin_json

pytest.importorskip("fastapi")
from test_web_api import assert_rejected, client, post  # noqa: E402, F401

from napkin.params import count_params  # noqa: E402
from napkin.presets import load_model  # noqa: E402
from napkin.web.api import MAX_PLAN_LAYOUTS  # noqa: E402


def assert_same_keys(web: dict, cli: dict) -> None:
    for key, value in cli.items():
        assert web[key] == value, key


# --- pretraining with PaLM's attention term -------------------------------------------------------


def test_train_seq_matches_cli(client, capsys) -> None:
    cli = napkin_json(capsys, "train", "llama-3-70b", "--tokens", "15T", "--gpu", "h100", "--gpus", "1024", "--seq", "8k")
    web = post(client, "/api/train", {"model": "llama-3-70b", "gpu": "h100", "tokens": "15T", "gpus": 1024, "seq": "8k"})
    assert_same_keys(web, cli)


def test_train_seq_adds_attention_term(client) -> None:
    # Chowdhery et al. 2022 (PaLM), Appendix B: 6·N + 12·L·H·Q·T; Llama 3 70B has L = 80, H = 64, Q = 128.
    body = {"model": "llama-3-70b", "gpu": "h100", "tokens": "15T"}
    plain = post(client, "/api/train", body)
    with_seq = post(client, "/api/train", {**body, "seq": 8192})
    n = count_params(load_model("llama-3-70b")).active
    assert plain["flop_per_token"] == 6 * n
    assert with_seq["flop_per_token"] - 6 * n == pytest.approx(12 * 80 * 64 * 128 * 8192, rel=1e-12)
    assert with_seq["cost_usd"] > plain["cost_usd"]


# --- serving --------------------------------------------------------------------------------------


def test_serve_size_matches_cli(client, capsys) -> None:
    args = ["serve-size", "llama-3-8b", "--gpu", "a100-80gb", "--gpu-memory-utilization", "0.9", "--max-model-len", "8192"]
    cli = napkin_json(capsys, *args)
    web = post(client, "/api/serve-size", {"model": "llama-3-8b", "gpu": "a100-80gb", "gpu_memory_utilization": 0.9, "context": 8192})
    assert_same_keys(web, cli)


def test_serve_size_tp_plain_matches_cli(client, capsys) -> None:
    cli = napkin_json(capsys, "serve-size", "llama-3-70b", "--gpu", "h100", "--gpus", "4", "--tp", "2", "--engine", "plain",
                      "--context", "8k", "--kv-dtype", "fp8")
    web = post(client, "/api/serve-size", {"model": "llama-3-70b", "gpu": "h100", "gpus": 4, "tp": 2, "engine": "plain",
                                           "context": "8k", "kv_dtype": "fp8"})
    assert_same_keys(web, cli)
    assert web["formatted"]["replicas"] == "2 (4 GPUs ÷ tp 2)"


def test_serve_size_chart_marks_context(client) -> None:
    web = post(client, "/api/serve-size", {"model": "llama-3-8b", "gpu": "h100", "context": 5000})
    chart = web["charts"][0]
    points = {int(c): n for c, n in chart["lines"][0]["points"]}
    assert points[5000] == pytest.approx(web["max_concurrency"])
    assert points[1024] > points[8192]
    assert chart["points"][0]["x"] == 5000


def test_latency_matches_cli(client, capsys) -> None:
    cli = napkin_json(capsys, "latency", "llama-3-70b", "--gpu", "h100", "--gpus", "4", "--tp", "4", "--batch", "1,8,32,128",
                      "--prompt", "2k", "--output", "512")
    web = post(client, "/api/latency", {"model": "llama-3-70b", "gpu": "h100", "gpus": 4, "tp": 4, "batches": [1, 8, 32, 128],
                                        "prompt": "2k", "output": 512})
    assert_same_keys(web, cli)
    first = web["table"][0]
    assert first["ttft"] == f"{cli['rows'][0]['ttft_s'] * 1e3:.3g} ms"
    assert len(web["charts"][0]["points"]) == 4


def test_latency_price_and_efficiency_match_cli(client, capsys) -> None:
    cli = napkin_json(capsys, "latency", "llama-3-8b", "--gpu", "h100", "--price", "3", "--compute-efficiency", "70%",
                      "--bandwidth-efficiency", "0.8", "--batch", "1,512")
    web = post(client, "/api/latency", {"model": "llama-3-8b", "gpu": "h100", "price": 3, "compute_efficiency": "70%",
                                        "bandwidth_efficiency": 0.8, "batches": [1, 512]})
    assert_same_keys(web, cli)
    assert web["rows"][0]["usd_per_million_output_tokens"] > web["rows"][1]["usd_per_million_output_tokens"]


# --- training layout and plan ---------------------------------------------------------------------

LAYOUT_ARGS = ["--tp", "8", "--pp", "4", "--dp", "32", "--zero", "1", "--micro-batch", "1", "--global-batch", "4M", "--seq", "8k",
               "--recompute", "selective"]
LAYOUT = {"model": "llama-3-70b", "gpu": "h100", "tokens": "15T", "tp": 8, "pp": 4, "dp": 32, "zero": 1, "micro_batch": 1,
          "global_batch": "4M", "seq": "8k", "recompute": "selective"}


def test_layout_matches_cli(client, capsys) -> None:
    cli = napkin_json(capsys, "train", "llama-3-70b", "--tokens", "15T", "--gpu", "h100", *LAYOUT_ARGS)
    web = post(client, "/api/layout", LAYOUT)
    assert_same_keys(web, cli)
    assert web["formatted"]["memory_per_gpu"].endswith("(fits)")


def test_layout_mfu_matches_cli(client, capsys) -> None:
    cli = napkin_json(capsys, "train", "llama-3-70b", "--tokens", "15T", "--gpu", "h100", "--mfu", "45%", *LAYOUT_ARGS)
    web = post(client, "/api/layout", {**LAYOUT, "mfu": "45%"})
    assert_same_keys(web, cli)
    assert web["mfu"] == pytest.approx(0.45)


def test_layout_memory_parts_sum(client) -> None:
    web = post(client, "/api/layout", LAYOUT)
    assert sum(web["memory_parts_bytes"].values()) == pytest.approx(web["memory_per_gpu_bytes"], rel=1e-12)
    segments = web["charts"][0]["bars"][0]["segments"]
    assert sum(segment["value"] for segment in segments) == pytest.approx(web["memory_per_gpu_bytes"], rel=1e-12)


PLAN_ARGS = ["--tokens", "15T", "--gpu", "h100", "--max-gpus", "4096", "--days", "90", "--budget", "20M", "--top", "5"]
PLAN = {"model": "llama-3-70b", "gpu": "h100", "tokens": "15T", "max_gpus": 4096, "days": 90, "budget": "20M", "top": 5}


def test_plan_matches_cli(client, capsys) -> None:
    cli = napkin_json(capsys, "plan", "llama-3-70b", *PLAN_ARGS)
    web = post(client, "/api/plan", PLAN)
    assert_same_keys(web, cli)
    assert len(web["table"]) == 5
    assert web["table"][0]["rank"] == "1"


def test_plan_time_rank_matches_cli(client, capsys) -> None:
    cli = napkin_json(capsys, "plan", "llama-3-8b", "--tokens", "2T", "--gpu", "h100,h200", "--max-gpus", "512", "--rank", "time")
    web = post(client, "/api/plan", {"model": "llama-3-8b", "tokens": "2T", "gpu": "h100,h200", "max_gpus": 512, "rank": "time"})
    assert_same_keys(web, cli)


def test_plan_cap_allows_one_gpu(client) -> None:
    # One GPU type of a dense 70B model stays far under the cap, so the page can plan it.
    web = post(client, "/api/plan", {**PLAN, "top": 1})
    assert web["evaluated"] <= MAX_PLAN_LAYOUTS


# --- bad bodies -------------------------------------------------------------------------------------

SERVE = {"model": "llama-3-8b", "gpu": "h100"}

BAD_BODIES = [
    ("/api/train", {**SERVE, "tokens": "15T", "seq": "16k"}, "seq", "maximum of 8,192 positions"),
    ("/api/train", {"params": "70B", "gpu": "h100", "tokens": "15T", "seq": "8k"}, "params", "needs an architecture"),
    ("/api/train", {**SERVE, "tokens": "15T", "allow_long_context": True}, "allow_long_context", "add seq"),
    ("/api/serve-size", {**SERVE, "engine": "sglang"}, "engine", "'vllm' or 'plain'"),
    ("/api/serve-size", {**SERVE, "gpu_memory_utilization": "120%"}, "gpu_memory_utilization", "at most 100%"),
    ("/api/serve-size", {**SERVE, "gpus": 3}, "gpus", "cannot split"),
    ("/api/serve-size", {**SERVE, "gpus": 4, "tp": 3}, "gpus", "not a multiple of tp 3"),
    ("/api/serve-size", {**SERVE, "gpus": 2, "tp": 4}, "tp", "larger than gpus"),
    ("/api/serve-size", {**SERVE, "context": "1M"}, "context", "maximum of 8,192 positions"),
    ("/api/serve-size", {**SERVE, "engine": "plain", "max_num_seqs": 64}, "max_num_seqs", "plain engine"),
    ("/api/serve-size", {"model": "llama-3-70b", "gpu": "l4"}, "gpus", "does not fit"),
    ("/api/serve-size", {**SERVE, "weights_dtype": "int2"}, "weights_dtype", "'mxfp4'"),
    ("/api/serve-size", {"params": "8B", "gpu": "h100"}, "params", "needs an architecture"),
    ("/api/latency", {**SERVE, "batches": []}, "batches", "at least 1 item"),
    ("/api/latency", {**SERVE, "batches": [0]}, "batches.0", "greater than zero"),
    ("/api/latency", {**SERVE, "compute_efficiency": 0}, "compute_efficiency", "above 0"),
    ("/api/latency", {**SERVE, "prompt": "8k"}, "output", "maximum of 8,192 positions"),
    ("/api/latency", {**SERVE, "price": "x"}, "price", "invalid price"),
    ("/api/layout", {**LAYOUT, "tp": 3}, "tp", "does not divide the 64 attention heads"),
    ("/api/layout", {**LAYOUT, "pp": 3}, "pp", "does not divide the 80 layers"),
    ("/api/layout", {**LAYOUT, "ep": 2}, "ep", "mixture-of-experts"),
    ("/api/layout", {**LAYOUT, "global_batch": 5000}, "global_batch", "whole number of 8,192-token sequences"),
    ("/api/layout", {**LAYOUT, "dp": 3}, "global_batch", "not a multiple of dp × micro_batch"),
    ("/api/layout", {**LAYOUT, "zero": 4}, "zero", "less than or equal to 3"),
    ("/api/layout", {**LAYOUT, "mfu": "40%", "achieved_tflops": 400}, "achieved_tflops", "give one of them"),
    ("/api/layout", {**LAYOUT, "achieved_tflops": 5000}, "achieved_tflops", "at most h100's peak"),
    ("/api/layout", {**LAYOUT, "recompute": "some"}, "recompute", "'selective'"),
    ("/api/plan", {**PLAN, "max_gpus": 0}, "max_gpus", "greater than zero"),
    ("/api/plan", {**PLAN, "max_gpus": 2**21}, "max_gpus", "less than or equal to 1048576"),
    ("/api/plan", {**PLAN, "top": 51}, "top", "less than or equal to 50"),
    ("/api/plan", {**PLAN, "gpu": "h100,,h200"}, "gpu", "empty name"),
    ("/api/plan", {**PLAN, "gpu": "h100,h200,b200,a100-80gb,l4"}, "gpu", "4 at most"),
    ("/api/plan", {**PLAN, "gpu": "h100,x100"}, "gpu", "unknown GPU"),
    ("/api/plan", {**PLAN, "budget": "lots"}, "budget", "invalid budget"),
    ("/api/plan", {**PLAN, "days": 0}, "days", "must be greater than zero"),
    ("/api/plan", {**PLAN, "days": 1}, "days", "raise days"),
    ("/api/plan", {**PLAN, "global_batch": 5000}, "global_batch", "whole number"),
    ("/api/plan", {**PLAN, "tokens": "1M"}, "tokens", "fewer than the 4,194,304 tokens of one optimizer step"),
    ("/api/layout", {**LAYOUT, "tokens": "1M"}, "tokens", "fewer than the"),
    ("/api/plan", {**PLAN, "model": "deepseek-v2-lite", "gpu": "h100,h200,b200"}, "gpu", "candidate layouts"),
]


@pytest.mark.parametrize(("path", "body", "field", "fragment"), BAD_BODIES, ids=[f"{p} {f}" for p, _, f, _ in BAD_BODIES])
def test_bad_body_names_field(client, path, body, field, fragment) -> None:
    assert_rejected(client, path, body, field, fragment)
