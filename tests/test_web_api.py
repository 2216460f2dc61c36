"""The web API through FastAPI's TestClient: each endpoint against the CLI's --json, and bad bodies."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
from napkin_runner import napkin_json

import napkin

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from napkin.web import create_app  # noqa: E402
from napkin.web.guard import MAX_BODY_BYTES, RejectionLog  # noqa: E402

MODELS_DIR = os.path.join(os.path.dirname(__file__), "..", "src", "napkin", "data", "models")


@pytest.fixture(scope="module")
def client() -> TestClient:
    # No rate limit on the rejection log, so that every test of a log line sees its line.
    with TestClient(create_app(rejections=RejectionLog(limit=10**9))) as test_client:
        yield test_client


def post(client: TestClient, path: str, body: dict) -> dict:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def without_derivation(payload: dict) -> dict:
    return {key: value for key, value in payload.items() if key != "derivation"}


def config_text(file_name: str) -> str:
    with open(os.path.join(MODELS_DIR, file_name), encoding="utf-8") as handle:
        return handle.read()


# --- each endpoint ----------------------------------------------------------------------------------


def test_meta_lists_presets_and_gpus(client) -> None:
    data = client.get("/api/meta").json()
    names = {model["name"] for model in data["models"]}
    assert "llama-3-70b" in names
    gpu = next(g for g in data["gpus"] if g["name"] == "h100")
    assert gpu["formatted"]["hbm"] == "80.0 GB"
    assert gpu["formatted"]["bf16"] == "989 TFLOP/s"


def test_train_matches_cli(client, capsys) -> None:
    args = ["train", "llama-3-70b", "--tokens", "15T", "--gpu", "h100", "--gpus", "1024", "--mfu", "40%", "--price", "2"]
    cli = napkin_json(capsys, *args)
    web = post(client, "/api/train", {"model": "llama-3-70b", "tokens": "15T", "gpu": "h100", "gpus": 1024, "mfu": "40%", "price": 2})
    for key, value in without_derivation(cli).items():
        assert web[key] == value, key
    assert web["derivation"] == cli["derivation"]


def test_train_formats_like_cli(client) -> None:
    # The figures `napkin train llama-3-70b --tokens 15T --gpu h100 --gpus 1024 --mfu 40% --price 2` prints.
    web = post(client, "/api/train", {"model": "llama-3-70b", "tokens": "15T", "gpu": "h100", "gpus": "1024", "mfu": 0.4, "price": "$2/hr"})
    formatted = web["formatted"]
    assert formatted["total_flop"] == "6.35e24 FLOP"
    assert formatted["usable_rate"] == "405 PFLOP/s (40.0% MFU)"
    assert formatted["wall_clock"] == "181 days"
    assert formatted["gpu_hours"] == "4,456,849"
    assert formatted["cost"] == "$8.91M"


def test_train_half_mfu_doubles_cost(client) -> None:
    body = {"params": "70B", "tokens": "15T", "gpu": "h100", "gpus": 1024, "price": 2}
    at_40 = post(client, "/api/train", {**body, "mfu": "40%"})
    at_20 = post(client, "/api/train", {**body, "mfu": "20%"})
    assert at_20["cost_usd"] == pytest.approx(2 * at_40["cost_usd"], rel=1e-12)
    assert at_20["wall_clock_s"] == pytest.approx(2 * at_40["wall_clock_s"], rel=1e-12)


def test_train_price_defaults_to_catalog(client) -> None:
    web = post(client, "/api/train", {"params": "70B", "tokens": "15T", "gpu": "h200"})
    assert web["usd_per_gpu_hour"] == 3.5  # the h200 entry of data/gpus.toml


def test_train_mfu_chart_marks_chosen_point(client) -> None:
    web = post(client, "/api/train", {"params": "70B", "tokens": "15T", "gpu": "h100", "gpus": 1024, "mfu": "30%", "price": 2})
    chart = web["charts"][0]
    mfus = [x for x, _ in chart["lines"][0]["points"]]
    assert min(mfus) == pytest.approx(0.20)
    assert max(mfus) == pytest.approx(0.60)
    point = chart["points"][0]
    assert point["x"] == pytest.approx(0.30)
    assert point["y"] == pytest.approx(web["cost_usd"])
    assert all(tick["label"].startswith("$") for tick in chart["y"]["ticks"])


def test_train_uploaded_config_matches_preset(client) -> None:
    body = {"tokens": "1T", "gpu": "h100", "gpus": 8, "price": 2}
    preset = post(client, "/api/train", {**body, "model": "llama-3-8b"})
    uploaded = post(client, "/api/train", {**body, "config": config_text("meta-llama__Meta-Llama-3-8B.json")})
    assert uploaded["params"] == preset["params"]
    assert uploaded["cost_usd"] == preset["cost_usd"]


def test_model_matches_cli(client, capsys) -> None:
    cli = napkin_json(capsys, "model", "mixtral-8x7b")
    web = post(client, "/api/model", {"model": "mixtral-8x7b"})
    for key, value in without_derivation(cli).items():
        assert web[key] == value, key
    assert web["formatted"]["params_total"] == "46,702,792,704 (46.7B)"


def test_memory_train_matches_cli(client, capsys) -> None:
    cli = napkin_json(capsys, "memory", "llama-3-70b", "--train", "--gpu", "h100", "--zero", "3", "--dp", "64", "--tp", "8",
                      "--sp", "--batch", "1", "--seq", "8k", "--recompute", "selective")
    web = post(client, "/api/memory", {"model": "llama-3-70b", "gpu": "h100", "mode": "train", "zero_stage": 3, "dp": 64, "tp": 8,
                                       "sequence_parallel": True, "micro_batch": 1, "seq": "8k", "recompute": "selective"})
    for key, value in without_derivation(cli).items():
        assert web[key] == value, key
    assert web["formatted"]["total"] == "30.2 GB (fits)"


def test_memory_chart_parts_sum_to_total(client) -> None:
    web = post(client, "/api/memory", {"model": "llama-3-70b", "gpu": "h100", "mode": "train", "zero_stage": 3, "dp": 64, "tp": 8})
    chart = web["charts"][0]
    segments = chart["bars"][0]["segments"]
    assert [s["name"] for s in segments] == ["weights", "gradients", "optimizer state", "activations"]
    assert sum(s["value"] for s in segments) == pytest.approx(web["total_bytes"])
    assert chart["rules"][0]["value"] == web["hbm_bytes"]


def test_memory_infer_matches_cli(client, capsys) -> None:
    cli = napkin_json(capsys, "memory", "llama-3-70b", "--infer", "--gpu", "h100", "--context", "8k", "--requests", "4", "--gpus", "2")
    web = post(client, "/api/memory", {"model": "llama-3-70b", "gpu": "h100", "mode": "infer", "context": "8k", "requests": 4, "gpus": 2})
    for key, value in without_derivation(cli).items():
        assert web[key] == value, key


def test_memory_bare_params_leaves_activations_out(client) -> None:
    web = post(client, "/api/memory", {"params": "7B", "gpu": "h100", "mode": "train"})
    assert web["activations_bytes"] is None
    assert web["formatted"]["activations"] == "not estimated"


def test_kv_matches_cli(client, capsys) -> None:
    cli = napkin_json(capsys, "kv", "llama-3-70b", "--context", "8k", "--gpu", "h100", "--gpus", "2")
    web = post(client, "/api/kv", {"model": "llama-3-70b", "gpu": "h100", "context": "8k", "gpus": 2})
    for key, value in without_derivation(cli).items():
        assert web[key] == value, key
    assert web["formatted"]["max_requests"] == "7"
    assert web["formatted"]["free"] == "18.9 GB"


def test_kv_chart_includes_chosen_context(client) -> None:
    web = post(client, "/api/kv", {"model": "llama-3-8b", "gpu": "h100", "context": 5000})
    chart = web["charts"][0]
    points = dict((int(c), n) for c, n in chart["lines"][0]["points"])
    assert points[5000] == web["max_requests"]
    assert points[1024] >= points[8192]


def test_serve_cost_matches_cli(client, capsys) -> None:
    cli = napkin_json(capsys, "serve-cost", "--tokens-per-s", "2500", "--gpu", "h100")
    web = post(client, "/api/serve-cost", {"tokens_per_s_per_gpu": 2500, "gpu": "h100"})
    for key, value in without_derivation(cli).items():
        assert web[key] == value, key
    assert web["formatted"]["cost"] == "$0.28 per 1M tokens"


def test_roofline_matches_cli(client, capsys) -> None:
    cli = napkin_json(capsys, "roofline", "--gpu", "h100", "--model", "llama-3-8b", "--batch", "1,8,64,512")
    web = post(client, "/api/roofline", {"model": "llama-3-8b", "gpu": "h100", "batches": [1, 8, 64, 512]})
    for key, value in without_derivation(cli).items():
        assert web[key] == value, key
    assert [row["decode_intensity"] for row in web["table"]] == ["0.935", "7.48", "59.8", "478"]


def test_roofline_chart_points_on_roofs(client) -> None:
    web = post(client, "/api/roofline", {"model": "llama-3-8b", "gpu": "h100", "batches": [1, 512]})
    chart = web["charts"][0]
    peak, bandwidth = web["peak_flop_per_s"], web["hbm_bandwidth_bytes_per_s"]
    for point in chart["points"]:
        assert point["y"] == pytest.approx(min(peak, bandwidth * point["x"]))
    assert chart["x"]["scale"] == chart["y"]["scale"] == "log"


def test_compare_two_gpus(client) -> None:
    web = post(client, "/api/compare", {"a": {"model": "llama-3-70b", "gpu": "h100"}, "b": {"model": "llama-3-70b", "gpu": "h200"},
                                        "tokens": "15T", "gpus": 1024})
    rows = {row["key"]: row for row in web["rows"]}
    # Same peak bf16 FLOP/s (NVIDIA datasheets), so only the catalog price differs: $3.50 ÷ $2.50.
    assert rows["wall_clock_s"]["ratio"] == pytest.approx(1.0)
    assert rows["cost_usd"]["ratio"] == pytest.approx(3.5 / 2.5)
    assert rows["max_requests"]["b"] > rows["max_requests"]["a"]


def test_compare_two_models(client) -> None:
    web = post(client, "/api/compare", {"a": {"model": "llama-3-70b", "gpu": "h100"}, "b": {"params": "7B", "gpu": "h100"},
                                        "tokens": "1T", "gpus": 8})
    rows = {row["key"]: row for row in web["rows"]}
    assert rows["params_total"]["b"] == 7e9
    assert rows["max_requests"]["b_text"] == "— (needs an architecture)"


# --- bad bodies --------------------------------------------------------------------------------------

TRAIN = {"model": "llama-3-70b", "tokens": "15T", "gpu": "h100"}
MEMORY = {"model": "llama-3-70b", "gpu": "h100"}
KV = {"model": "llama-3-70b", "gpu": "h100", "context": "8k", "gpus": 2}
ROOFLINE = {"model": "llama-3-8b", "gpu": "h100"}
COMPARE = {"a": {"model": "llama-3-70b", "gpu": "h100"}, "b": {"model": "llama-3-70b", "gpu": "h200"}, "tokens": "15T"}

BAD_BODIES = [
    ("/api/train", {**TRAIN, "tokens": "15X"}, "tokens", "unknown suffix 'X'"),
    ("/api/train", {**TRAIN, "mfu": "140%"}, "mfu", "at most 100%"),
    ("/api/train", {**TRAIN, "mfu": True}, "mfu", "give a number or a string"),
    ("/api/train", {**TRAIN, "gpu": "h1000"}, "gpu", "did you mean 'h100'"),
    ("/api/train", {**TRAIN, "gpus": 0}, "gpus", "greater than zero"),
    ("/api/train", {**TRAIN, "gpus": 1.5}, "gpus", "whole number"),
    ("/api/train", {**TRAIN, "price": "-1"}, "price", "zero or more"),
    ("/api/train", {**TRAIN, "mfux": "40%"}, "mfux", "did you mean 'mfu'?"),
    ("/api/train", {"tokens": "15T", "gpu": "h100"}, "model", "missing model"),
    ("/api/train", {**TRAIN, "params": "70B"}, "params", "not model and params"),
    ("/api/train", {**TRAIN, "model": "lama-3-70b"}, "model", "did you mean 'llama-3-70b'"),
    ("/api/train", {**TRAIN, "model": "/etc/hostname"}, "model", "unknown model"),
    ("/api/train", {"config": "{not json", "tokens": "15T", "gpu": "h100"}, "config", "invalid JSON"),
    ("/api/train", {"config": '{"model_type": "bert"}', "tokens": "15T", "gpu": "h100"}, "config", "unsupported model_type"),
    ("/api/train", {"config": "x" * 70_000, "tokens": "15T", "gpu": "h100"}, "config", "at most 65536 characters"),
    ("/api/train", {"params": "70", "tokens": "15T", "gpu": "h100"}, "params", "add a suffix"),
    ("/api/train", {"model": "llama-3-70b", "gpu": "h100"}, "tokens", "Field required"),
    ("/api/model", {"model": "llama-3-70b", "seq": "1M"}, "seq", "maximum of 8,192 positions"),
    ("/api/memory", {**MEMORY, "mode": "both"}, "mode", "'train' or 'infer'"),
    ("/api/memory", {**MEMORY, "zero_stage": 4}, "zero_stage", "less than or equal to 3"),
    ("/api/memory", {**MEMORY, "tp": 3}, "tp", "does not divide the 64 attention heads"),
    ("/api/memory", {**MEMORY, "sequence_parallel": True}, "sequence_parallel", "tp of 2 or more"),
    ("/api/memory", {**MEMORY, "seq": "16k"}, "seq", "maximum of 8,192 positions"),
    ("/api/memory", {**MEMORY, "mode": "infer", "gpus": 3}, "gpus", "use one of 1, 2, 4, 8"),
    ("/api/memory", {**MEMORY, "mode": "infer", "weights_dtype": "int2"}, "weights_dtype", "'fp32'"),
    ("/api/kv", {"params": "70B", "gpu": "h100"}, "params", "needs an architecture"),
    ("/api/kv", {**KV, "context": "8q"}, "context", "unknown suffix 'q'"),
    ("/api/kv", {**KV, "gpus": 3}, "gpus", "cannot split"),
    ("/api/kv", {**KV, "price": 2}, "price", "unknown field 'price'"),
    ("/api/kv", {**KV, "kv_dtype": "int4"}, "kv_dtype", "'bf16'"),
    ("/api/roofline", {**ROOFLINE, "batches": []}, "batches", "at least 1 item"),
    ("/api/roofline", {**ROOFLINE, "batches": ["x"]}, "batches.0", "invalid batch size 'x'"),
    ("/api/roofline", {**ROOFLINE, "batches": list(range(1, 18))}, "batches", "at most 16 items"),
    ("/api/roofline", {**ROOFLINE, "prompt": 0}, "prompt", "greater than zero"),
    ("/api/serve-cost", {"tokens_per_s_per_gpu": 0, "price": 2}, "tokens_per_s_per_gpu", "greater than zero"),
    ("/api/serve-cost", {"tokens_per_s_per_gpu": 2500}, "price", "missing price"),
    ("/api/compare", {**COMPARE, "a": {"model": "llama-3-70b", "gpu": "x100"}}, "a.gpu", "unknown GPU"),
    ("/api/compare", {key: value for key, value in COMPARE.items() if key != "b"}, "b", "Field required"),
    ("/api/compare", {**COMPARE, "b": {"params": "7B", "model": "llama-3-8b", "gpu": "h100"}}, "b.params", "not model and params"),
]


def assert_rejected(client: TestClient, path: str, body: dict, field: str, fragment: str) -> None:
    """Check that `body` gets a 422 with an error that names `field` and contains `fragment`."""
    response = client.post(path, json=body)
    assert response.status_code == 422, response.text
    data = response.json()
    assert data["error"].startswith(f"{field}: "), data["error"]
    assert fragment in data["error"], data["error"]
    assert data["detail"][0]["loc"] == ["body", *(int(p) if p.isdigit() else p for p in field.split("."))]


@pytest.mark.parametrize(("path", "body", "field", "fragment"), BAD_BODIES, ids=[f"{p} {f}" for p, _, f, _ in BAD_BODIES])
def test_bad_body_names_field(client, path, body, field, fragment) -> None:
    assert_rejected(client, path, body, field, fragment)


def test_malformed_json_is_422(client) -> None:
    response = client.post("/api/train", content=b"{", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "JSON" in response.json()["error"]


def test_rejected_request_is_logged(client, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="napkin.web"):
        client.post("/api/train", json={**TRAIN, "tokens": "15X"})
    assert "rejected POST /api/train: 422 tokens: invalid token count '15X'" in caplog.text


def test_rejection_log_is_rate_limited(caplog) -> None:
    from napkin.web.guard import RejectionLog

    rejections = RejectionLog(limit=3, window_s=3600)
    with TestClient(create_app(rejections=rejections)) as limited, caplog.at_level(logging.WARNING, logger="napkin.web"):
        for _ in range(8):
            assert limited.post("/api/train", json={**TRAIN, "tokens": "15X"}).status_code == 422
    assert caplog.text.count("rejected POST /api/train") == 3
    assert rejections.suppressed == 5


def test_start_and_stop_are_logged(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="napkin.web"), TestClient(create_app()):
        assert f"napkin web {napkin.__version__} started" in caplog.text
    assert "napkin web stopped" in caplog.text


def test_unknown_path_is_404_and_logged(client, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="napkin.web"):
        response = client.get("/api/nothing")
    assert response.status_code == 404
    assert "rejected GET /api/nothing: 404" in caplog.text


# --- limits and the page ------------------------------------------------------------------------------


def test_oversized_body_is_413(client, caplog) -> None:
    padding = "x" * MAX_BODY_BYTES
    with caplog.at_level(logging.WARNING, logger="napkin.web"):
        response = client.post("/api/train", content=f'{{"config": "{padding}"}}', headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "exceeds the limit" in response.json()["error"]
    assert "rejected POST /api/train: 413" in caplog.text


def test_oversized_stream_without_length_is_413(client) -> None:
    def chunks():
        for _ in range(5):
            yield b"x" * (MAX_BODY_BYTES // 4)

    response = client.post("/api/train", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_foreign_host_is_rejected() -> None:
    with TestClient(create_app(allowed_hosts=["127.0.0.1", "localhost"]), base_url="http://127.0.0.1") as local:
        assert local.get("/api/meta").status_code == 200
        response = local.get("/api/meta", headers={"host": "attacker.example"})
    assert response.status_code == 400


def test_page_and_openapi_are_served(client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert 'data-testid="model"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/meta", "/api/model", "/api/train", "/api/memory", "/api/kv", "/api/serve-size", "/api/latency",
                 "/api/roofline", "/api/serve-cost", "/api/compare", "/api/layout", "/api/plan"):
        assert path in paths


def test_static_assets_have_no_remote_urls() -> None:
    from napkin.web.app import STATIC_DIR

    for name in os.listdir(STATIC_DIR):
        with open(os.path.join(STATIC_DIR, name), encoding="utf-8") as handle:
            text = handle.read()
        assert "https://" not in text, name
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", ""), name


# --- the command ----------------------------------------------------------------------------------------


def test_cli_does_not_import_web_stack() -> None:
    code = "import sys, napkin.cli; print(sorted(m for m in ('fastapi', 'uvicorn', 'pydantic') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_web_command_warns_on_open_host(monkeypatch) -> None:
    import uvicorn
    from click.testing import CliRunner

    from napkin.cli import main

    started = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: started.append(self.config.host))
    result = CliRunner().invoke(main, ["web", "--host", "0.0.0.0", "--port", "0", "--no-browser"])
    assert started == ["0.0.0.0"]
    assert "warning: --host 0.0.0.0 serves the page to every machine" in result.stderr


@pytest.mark.parametrize(("path", "field"), [("/api/model", "params"), ("/api/model", "seq"), ("/api/train", "tokens"), ("/api/layout", "tp")])
def test_overflowing_integer_names_field(client, path: str, field: str) -> None:
    # json reads 10^400 as a Python int; float() of it raised OverflowError and a 500.
    body = {"model": "llama-3-8b", "tokens": "15T", field: 10**400}
    if field == "params":
        del body["model"]
    response = client.post(path, json=body)
    assert response.status_code == 422
    assert response.json()["error"].startswith(f"{field}: ")
    assert "at most 10^21" in response.json()["error"]


def test_plan_huge_global_batch(client) -> None:
    # The divisors of 10^12 sequences were found by a loop over all 10^12 candidates.
    response = client.post("/api/plan", json={"model": "llama-3-8b", "tokens": 10**16, "max_gpus": 64, "global_batch": 8192 * 10**12})
    assert response.status_code in (200, 422)
    assert response.status_code == 200 or response.json()["error"].split(":")[0] in ("max_gpus", "days", "budget", "global_batch")
