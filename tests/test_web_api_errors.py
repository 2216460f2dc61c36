"""The web API's 4xx responses: each names its field in one error shape, for bodies that are not
JSON objects, values the schemas reject, unknown paths, methods and query parameters, and
oversized bodies."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from napkin.web import create_app  # noqa: E402
from napkin.web.guard import MAX_BODY_BYTES, RejectionLog  # noqa: E402
from napkin.web.problems import api_spelling, strict_json  # noqa: E402

JSON = {"content-type": "application/json"}
TRAIN = b'{"model": "llama-3-8b", "tokens": "1T"}'


@pytest.fixture(scope="module")
def client() -> TestClient:
    with TestClient(create_app(rejections=RejectionLog(limit=10**9))) as test_client:
        yield test_client


def assert_error(response, status: int, loc: list, *fragments: str) -> dict:
    """Check the error shape: `status`, the first detail at `loc`, and an `error` line of its field and message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    detail = data["detail"][0]
    assert detail["loc"] == loc, data
    field = ".".join(str(part) for part in (loc[1:] if len(loc) > 1 else loc))
    assert data["error"] == f"{field}: {detail['msg']}", data
    assert "\n" not in data["error"]
    for fragment in fragments:
        assert fragment in data["error"], data["error"]
    return data


# --- bodies that are not a JSON object -------------------------------------------------------------

INVALID_JSON = [
    ("syntax", b'{"model": "llama-3-8b",}', "line 1, column 24", "Expecting property name"),
    ("second line", b'{"model": "llama-3-8b",\n "tokens": 1T}', "line 2, column 13", "Expecting ',' delimiter"),
    ("NaN", b'{"model": "NaN", "tokens": NaN}', "line 1, column 28", "NaN is not a JSON number"),
    ("Infinity", b'{"model": "llama-3-8b", "tokens": Infinity}', "line 1, column 35", "Infinity is not a JSON number"),
    ("-Infinity", b'{"model": "llama-3-8b", "tokens": 1e12, "mfu": -Infinity}', "column 48", "-Infinity is not a JSON number"),
    ("not UTF-8", b'{"model": "llama\xff"}', "line 1, column 17", "byte 0xff is not UTF-8"),
    ("long integer", b'{"tokens": 1' + b"0" * 5000 + b"}", "line 1, column 12", "an integer of 5,001 digits"),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000, "line 1, column 1", "nested too deeply"),
    ("truncated", b'{"model": "llama-3-8b"', "line 1, column 23", "Expecting"),
    ("duplicate key", b'{"model": "llama-3-8b", "tokens": "1T", "tokens": "2T"}', "line 1, column 41", "duplicate key 'tokens'"),
    ("nested duplicate", b'{"compare": {"a": 1, "a": 2}}', "line 1, column 22", "duplicate key 'a'"),
]


@pytest.mark.parametrize(("body", "where", "reason"), [case[1:] for case in INVALID_JSON], ids=[case[0] for case in INVALID_JSON])
def test_invalid_json_names_body_and_position(client, body, where, reason) -> None:
    data = assert_error(client.post("/api/train", content=body, headers=JSON), 422, ["body"], "not valid JSON", where, reason)
    assert data["detail"][0]["type"] == "json_invalid"


NOT_AN_OBJECT = [
    ("array", b"[]", "is an array, not a JSON object"),
    ("string", b'"llama-3-8b"', "is a string, not a JSON object"),
    ("number", b"3", "is a number, not a JSON object"),
    ("null", b"null", "is null, not a JSON object"),
    ("boolean", b"true", "is a boolean, not a JSON object"),
]


@pytest.mark.parametrize(("body", "fragment"), [case[1:] for case in NOT_AN_OBJECT], ids=[case[0] for case in NOT_AN_OBJECT])
def test_top_level_value_names_body(client, body, fragment) -> None:
    assert_error(client.post("/api/train", content=body, headers=JSON), 422, ["body"], fragment)


def test_empty_body_names_body(client) -> None:
    assert_error(client.post("/api/train", content=b"", headers=JSON), 422, ["body"], "request body is empty")
    assert_error(client.post("/api/train"), 422, ["body"], "request body is empty")


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        ({"content-type": "text/plain"}, "has Content-Type text/plain"),
        ({"content-type": "multipart/form-data; boundary=x"}, "has Content-Type multipart/form-data:"),
        ({}, "has no Content-Type header"),
    ],
    ids=["text/plain", "multipart", "none"],
)
def test_wrong_content_type_names_body(client, headers, fragment) -> None:
    assert_error(client.post("/api/train", content=TRAIN, headers=headers), 422, ["body"], fragment, "application/json")


def test_form_body_names_body(client) -> None:
    response = client.post("/api/train", data={"model": "llama-3-8b", "tokens": "1T"})
    assert_error(response, 422, ["body"], "has Content-Type application/x-www-form-urlencoded")


# --- fields ---------------------------------------------------------------------------------------


def test_null_field_names_field(client) -> None:
    assert_error(client.post("/api/train", json={"model": "llama-3-8b", "tokens": None}), 422, ["body", "tokens"], "invalid token count None")
    assert_error(client.post("/api/train", json={"model": "llama-3-8b", "tokens": "1T", "gpu": None}), 422, ["body", "gpu"])


def test_unknown_field_suggests_close_name(client) -> None:
    response = client.post("/api/train", json={"model": "llama-3-8b", "tokens": "1T", "mfux": 0.4})
    assert_error(response, 422, ["body", "mfux"], "unknown field 'mfux'", "did you mean 'mfu'?")


def test_unknown_nested_field_names_side(client) -> None:
    body = {"a": {"model": "llama-3-8b", "gpux": "h100"}, "b": {"model": "llama-3-8b"}, "tokens": "1T"}
    assert_error(client.post("/api/compare", json=body), 422, ["body", "a", "gpux"], "did you mean 'gpu'?")


def test_unicode_model_name_is_named(client) -> None:
    response = client.post("/api/train", json={"model": "llama-3-8b\u00e9\U0001f600", "tokens": "1T"})
    assert_error(response, 422, ["body", "model"], "unknown model 'llama-3-8b\u00e9\U0001f600'", "did you mean")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/memory", {"model": "llama-3-8b", "zero_stage": "2"}, "zero_stage"),
        ("/api/memory", {"model": "llama-3-8b", "zero_stage": 2.0}, "zero_stage"),
        ("/api/memory", {"model": "llama-3-8b", "sequence_parallel": 1}, "sequence_parallel"),
        ("/api/train", {"model": "llama-3-8b", "tokens": "1T", "seq": 4096, "allow_long_context": "yes"}, "allow_long_context"),
    ],
    ids=["integer as string", "integer as float", "boolean as number", "boolean as string"],
)
def test_strict_types_name_field(client, path, body, field) -> None:
    assert_error(client.post(path, json=body), 422, ["body", field], "Input should be a valid")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"model": "llama-3-8b", "tokens": "1T", "max_gpus": 64, "days": 1e999}', "must be a finite number"),
        (b'{"model": "llama-3-8b", "tokens": "1T", "max_gpus": 64, "days": 0}', "invalid days"),
        (b'{"model": "llama-3-8b", "tokens": 1' + b"0" * 400 + b', "max_gpus": 64}', "invalid token count of 401 digits"),
    ],
    ids=["days overflows to inf", "days zero", "tokens of 401 digits"],
)
def test_huge_or_zero_numbers_name_field(client, body, fragment) -> None:
    field = "days" if b'"days"' in body else "tokens"
    assert_error(client.post("/api/plan", content=body, headers=JSON), 422, ["body", field], fragment)


def test_plan_days_accepts_string(client) -> None:
    response = client.post("/api/plan", json={"model": "llama-3-8b", "tokens": "1T", "max_gpus": 64, "days": "90", "top": 1})
    assert response.status_code == 200, response.text
    assert response.json()["days_limit"] == 90


CORE_ERRORS = [
    ("/api/layout", {"model": "llama-3-70b", "tokens": "1T", "tp": 3}, "tp", "tp 3 does not divide"),
    ("/api/serve-size", {"model": "llama-3-70b", "gpus": 3, "tp": 2}, "gpus", "gpus 3 is not a multiple of tp 2"),
    ("/api/layout", {"model": "llama-3-70b", "tokens": "1", "dp": 8}, "tokens", "raise tokens to at least"),
    ("/api/layout", {"model": "llama-3-70b", "tokens": "1T", "dp": 2, "micro_batch": 3, "global_batch": 32768},
     "global_batch", "dp × micro_batch"),
]


@pytest.mark.parametrize(("path", "body", "field", "fragment"), CORE_ERRORS, ids=[case[2] for case in CORE_ERRORS])
def test_core_errors_use_api_spelling(client, path, body, field, fragment) -> None:
    data = assert_error(client.post(path, json=body), 422, ["body", field], fragment)
    assert "--" not in data["error"]


def test_api_spelling_renames_flags() -> None:
    assert api_spelling("--global-batch 8 is not a multiple of --dp × --micro-batch") == "global_batch 8 is not a multiple of dp × micro_batch"
    assert api_spelling("napkin plan on the command line") == "napkin plan on the command line"


def test_strict_json_keeps_nan_inside_strings() -> None:
    assert strict_json(b'{"model": "NaN", "note": "Infinity"}') == {"model": "NaN", "note": "Infinity"}


# --- paths, methods and query parameters ------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "OPTIONS"])
def test_wrong_method_on_endpoint_names_method(client, method) -> None:
    response = client.request(method, "/api/train")
    assert_error(response, 405, ["method"], f"{method} is not allowed on /api/train: use POST")
    assert response.headers["allow"] == "POST"


def test_post_on_meta_names_method(client) -> None:
    response = client.post("/api/meta")
    assert_error(response, 405, ["method"], "POST is not allowed on /api/meta: use GET or HEAD")
    assert response.headers["allow"] == "GET, HEAD"


def test_unknown_path_names_path(client) -> None:
    assert_error(client.get("/api/nope"), 404, ["path"], "no endpoint or file at /api/nope", "/openapi.json")
    assert_error(client.post("/api/nope", json={}), 405, ["method"], "POST is not allowed on /api/nope")


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/meta"), ("POST", "/api/train")])
def test_query_parameter_names_parameter(client, method, path) -> None:
    response = client.request(method, f"{path}?verbose=1", content=TRAIN, headers=JSON)
    assert_error(response, 422, ["query", "verbose"], "unknown query parameter 'verbose'")


# --- limits of the guard ---------------------------------------------------------------------------


def test_oversize_body_names_body(client) -> None:
    response = client.post("/api/train", content=b"x" * (MAX_BODY_BYTES + 1), headers=JSON)
    assert_error(response, 413, ["body"], f"exceeds the limit of {MAX_BODY_BYTES:,} bytes")

    def chunks():
        yield b"x" * MAX_BODY_BYTES
        yield b"x"

    assert_error(client.post("/api/train", content=chunks(), headers=JSON), 413, ["body"], "exceeds the limit")


def test_other_host_names_host_header() -> None:
    with TestClient(create_app(allowed_hosts=["127.0.0.1"])) as test_client:
        response = test_client.get("/api/meta", headers={"host": "example.com"})
    assert_error(response, 400, ["header", "host"], "'example.com' is not served")


# --- the OpenAPI document ------------------------------------------------------------------------------


def test_openapi_documents_error_responses(client) -> None:
    document = client.get("/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "408", "413", "422"):
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)


def test_latency_output_over_window_names_both(client) -> None:
    # The message once called prompt + output the output: "output 2,512 is longer than ...".
    response = client.post("/api/latency", json={"model": "gpt2", "gpu": "h100", "prompt": 512, "output": 2000})
    assert_error(
        response, 422, ["body", "output"],
        "prompt 512 plus output 2,000 is 2,512 tokens, longer than gpt2's maximum of 1,024 positions; shorten output to 512",
    )


@pytest.mark.parametrize("path", ["/api/meta", "/", "/openapi.json"])
def test_head_answers_like_get(client, path: str) -> None:
    # HEAD /api/meta returned 405, though HTTP requires HEAD wherever GET is served.
    head = client.head(path)
    get = client.get(path)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]


def test_head_on_post_endpoint_names_head(client) -> None:
    response = client.head("/api/train")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.content == b""



LIMITS = [
    ("/api/model", {"config": "x" * 70_000}, ["body", "config"], "at most 65536 characters, not 70,000: send a shorter text"),
    ("/api/roofline", {"model": "gpt2", "gpu": "h100", "batches": []}, ["body", "batches"], "at least 1 item after validation, not 0: give at least 1"),
    ("/api/latency", {"model": "gpt2", "gpu": "h100", "batches": [1] * 100}, ["body", "batches"], "not 100: give at most 16"),
    ("/api/memory", {"model": "gpt2", "gpu": "h100", "zero_stage": 7}, ["body", "zero_stage"], "less than or equal to 3, not 7: use 3 or less"),
    ("/api/layout", {"model": "gpt2", "gpu": "h100", "tokens": "1T", "zero": -1}, ["body", "zero"], "greater than or equal to 0, not -1: use 0 or more"),
    ("/api/memory", {"model": "gpt2", "gpu": "h100", "mode": "x"}, ["body", "mode"], "'train' or 'infer', not 'x'"),
]


@pytest.mark.parametrize(("path", "body", "loc", "fragment"), LIMITS, ids=[f"{case[0]}-{case[2][-1]}" for case in LIMITS])
def test_limit_errors_state_value_and_fix(client, path, body, loc, fragment) -> None:
    # pydantic's own messages stated the limit but neither the value sent nor what to send.
    assert_error(client.post(path, json=body), 422, loc, fragment)
