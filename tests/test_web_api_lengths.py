"""Default lengths of the web API fitted to a model's maximum positions, as the CLI fits them.

gpt2's config.json sets max_position_embeddings to 1,024
(https://huggingface.co/openai-community/gpt2/blob/main/config.json), shorter than the API's
default seq 4,096, context 8,192 and prompt 2,048.
"""

from __future__ import annotations

import pytest
from napkin_runner import napkin_json

pytest.importorskip("fastapi")
from test_web_api import client, post  # noqa: E402, F401
from test_web_api_errors import assert_error  # noqa: E402

GPT2 = {"model": "gpt2", "gpu": "h100"}
LLAMA = {"model": "llama-3-70b", "gpu": "h100"}

# (endpoint, extra fields, JSON key of the length used, gpt2's length, llama-3-70b's length)
DEFAULTS = [
    ("/api/model", {}, "seq", 1024, 4096),
    ("/api/memory", {}, "seq", 1024, 4096),
    ("/api/memory", {"mode": "infer"}, "context", 1024, 4096),
    ("/api/kv", {"gpus": 4}, "context", 1024, 8192),
    ("/api/roofline", {}, "prompt", 1024, 2048),
    ("/api/latency", {"gpus": 4}, "prompt", 512, 2048),
    ("/api/layout", {"tokens": "1T"}, "seq", 1024, 8192),
    ("/api/serve-size", {"gpus": 4}, "context", 1024, 8192),
]


def _body(base: dict, path: str, extra: dict) -> dict:
    body = {**base, **extra}
    if path == "/api/model":
        del body["gpu"]
    return body


@pytest.mark.parametrize(("path", "extra", "key", "gpt2", "llama"), DEFAULTS, ids=[f"{p} {k}" for p, _, k, _, _ in DEFAULTS])
def test_default_length_fits_gpt2(client, path, extra, key, gpt2, llama) -> None:
    assert post(client, path, _body(GPT2, path, extra))[key] == gpt2
    assert post(client, path, _body(LLAMA, path, extra))[key] == llama


def test_latency_default_prompt_leaves_room(client) -> None:
    web = post(client, "/api/latency", {**GPT2, "output": 200})
    assert web["prompt"] == 1024 - 200
    assert web["output"] == 200


def test_plan_default_seq_fits_gpt2(client) -> None:
    web = post(client, "/api/plan", {"model": "gpt2", "tokens": "10B", "max_gpus": 64, "top": 1})
    assert web["seq"] == 1024


def test_compare_lengths_per_side(client) -> None:
    body = {"a": {"model": "gpt2"}, "b": {"model": "llama-3-70b"}, "tokens": "1T"}
    web = post(client, "/api/compare", body)
    assert web["lengths"] == {"a": {"seq": 1024, "context": 1024}, "b": {"seq": 4096, "context": 8192}}


@pytest.mark.parametrize(
    ("args", "path", "body", "key"),
    [
        (["memory", "gpt2", "--gpu", "h100", "--train"], "/api/memory", GPT2, "seq"),
        (["roofline", "--gpu", "h100", "--model", "gpt2"], "/api/roofline", GPT2, "prompt"),
        (["latency", "gpt2", "--gpu", "h100"], "/api/latency", GPT2, "prompt"),
    ],
    ids=["memory", "roofline", "latency"],
)
def test_default_length_matches_cli(client, capsys, args, path, body, key) -> None:
    assert post(client, path, body)[key] == napkin_json(capsys, *args)[key]


TYPED = [
    ("/api/model", {"seq": 4096}, "seq"),
    ("/api/memory", {"seq": 4096}, "seq"),
    ("/api/memory", {"mode": "infer", "context": "8k"}, "context"),
    ("/api/kv", {"context": 8192}, "context"),
    ("/api/roofline", {"prompt": 2048}, "prompt"),
    ("/api/latency", {"prompt": 2048}, "prompt"),
    ("/api/layout", {"tokens": "1T", "seq": 4096}, "seq"),
    ("/api/serve-size", {"context": 2048}, "context"),
]


@pytest.mark.parametrize(("path", "extra", "field"), TYPED, ids=[f"{p} {f}" for p, _, f in TYPED])
def test_typed_length_still_rejected(client, path, extra, field) -> None:
    response = client.post(path, json=_body(GPT2, path, extra))
    assert_error(response, 422, ["body", field], "longer than gpt2's maximum of 1,024 positions")


def test_latency_typed_prompt_plus_output_rejected(client) -> None:
    response = client.post("/api/latency", json={**GPT2, "prompt": 1000})
    assert_error(response, 422, ["body", "output"], "prompt 1,000 plus output 512 is 1,512 tokens", "shorten output to 24")


def test_latency_output_filling_window_rejected(client) -> None:
    response = client.post("/api/latency", json={**GPT2, "output": 1024})
    assert_error(response, 422, ["body", "output"], "output 1,024 leaves no room for a prompt", "use output 1,023 or fewer")


def test_allow_long_context_keeps_typed_length(client) -> None:
    web = post(client, "/api/memory", {**GPT2, "seq": 4096, "allow_long_context": True})
    assert web["seq"] == 4096


def test_meta_carries_max_positions(client) -> None:
    models = {model["name"]: model for model in post_get(client, "/api/meta")["models"]}
    assert models["gpt2"]["max_position_embeddings"] == 1024
    assert models["llama-3-70b"]["max_position_embeddings"] == 8192
    # falcon-40b's config.json states no maximum positions.
    assert models["falcon-40b"]["max_position_embeddings"] is None


def post_get(client, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.json()
