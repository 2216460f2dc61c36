"""Schemathesis against the web API's own /openapi.json, in process through the ASGI transport.

For every operation it generates schema-valid (positive) and schema-violating (negative)
requests. It checks that no response is a server error and that status codes, content types and
bodies match the OpenAPI document. It also checks that schema-violating requests are rejected and
that every 4xx response names the field it rejects (`names_the_field`).

The CI default is `DEFAULT_EXAMPLES` fuzzed cases per operation, plus Schemathesis' coverage and
examples phases. Set NAPKIN_SCHEMATHESIS_EXAMPLES for a larger run, and run pytest with ``-s`` to
see the number of cases sent per operation.

schemathesis is imported without ``importorskip``: it is part of the ``test`` extra, so a missing
install fails this module instead of skipping it.
"""

from __future__ import annotations

import collections
import os
import re
import types
from typing import Any

import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from napkin.web import create_app
from napkin.web.guard import RejectionLog

DEFAULT_EXAMPLES = 25
EXAMPLES = int(os.environ.get("NAPKIN_SCHEMATHESIS_EXAMPLES", DEFAULT_EXAMPLES))
# The CI default draws the same cases on every run, so that it cannot fail by chance. A larger run draws new ones.
DETERMINISTIC = "NAPKIN_SCHEMATHESIS_EXAMPLES" not in os.environ

# Rejections are counted, not logged one by one: the run makes thousands of them on purpose.
APP = create_app(rejections=RejectionLog(limit=0))
OPENAPI = APP.openapi()
LOCATIONS = ("body", "query", "header", "path", "method")
CLI_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")

schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES, deterministic=DETERMINISTIC
)
# A config text over its maxLength can also push the body over the guard's size limit, which is rejected with 413.
_rejection = schema.config.checks.negative_data_rejection
_rejection.expected_statuses = [*_rejection.expected_statuses, "413"]

CASES: collections.Counter[tuple[str, str]] = collections.Counter()


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = OPENAPI["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _body_properties(case: schemathesis.Case, prefix: list[str | int]) -> set[str]:
    """Return the property names of the operation's JSON body schema at `prefix` (``["a"]`` for one side of /api/compare)."""
    operation = OPENAPI["paths"][case.operation.path][case.method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return set()
    node = _resolve(content["application/json"]["schema"])
    for key in prefix:
        node = _resolve(node.get("properties", {}).get(key, {}))
    return set(node.get("properties", {}))


def _field_name(loc: list[str | int]) -> str:
    """Return the name a 4xx error line starts with: the location without its kind, e.g. ``a.gpu`` for ``["body", "a", "gpu"]``."""
    parts = [str(part) for part in (loc[1:] if len(loc) > 1 and loc[0] in LOCATIONS else loc)]
    return ".".join(parts)


@schemathesis.check
def names_the_field(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> bool | None:
    """Check that a 4xx body is ``{"error": "FIELD: message", "detail": [{"loc": [KIND, FIELD…], "msg", "type"}, …]}``.

    KIND is body, query, header, path or method. FIELD, the location without its kind, starts the
    one-line `error`. A body field is one the operation's schema defines or one the request sent,
    spelled as the API spells it, so the message names no command-line flag such as ``--tokens``.
    """
    if not 400 <= response.status_code < 500:
        return None
    payload = response.json()
    assert isinstance(payload, dict), f"4xx body is not a JSON object: {response.text[:200]}"
    error, detail = payload.get("error"), payload.get("detail")
    assert isinstance(error, str) and "\n" not in error, f"4xx `error` is not one line: {error!r}"
    assert isinstance(detail, list) and detail, f"4xx `detail` is not a non-empty list: {detail!r}"
    loc = detail[0].get("loc")
    assert isinstance(loc, list) and loc, f"4xx names no location: {payload}"
    assert loc[0] in LOCATIONS, f"4xx location {loc!r} does not start with one of {LOCATIONS}: {payload}"
    field = _field_name(loc)
    assert error.startswith(f"{field}: "), f"4xx error line does not start with its field {field!r}: {error!r}"
    assert not CLI_FLAG.search(error), f"4xx error names a command-line flag, not the API field: {error!r}"
    if loc[0] == "body" and len(loc) > 1:
        sent = case.body if isinstance(case.body, dict) else {}
        for depth, key in enumerate(loc[1:], start=1):
            if isinstance(key, int):
                continue
            container = sent
            for step in loc[1:depth]:
                container = container.get(step, {}) if isinstance(container, dict) else {}
            known = _body_properties(case, loc[1:depth]) | (set(container) if isinstance(container, dict) else set())
            assert key in known, f"4xx names body field {key!r}, which neither the schema nor the request has: {payload}"
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    unsupported_method,
    names_the_field,
]


@pytest.fixture(scope="module", autouse=True)
def case_counts():
    yield CASES
    total = sum(CASES.values())
    print(f"\nschemathesis: {total:,} cases, {EXAMPLES} fuzzed examples per operation")
    for label in sorted({label for label, _ in CASES}):
        modes = ", ".join(f"{mode} {CASES[label, mode]:,}" for mode in ("positive", "negative") if CASES[label, mode])
        print(f"  {label}: {sum(CASES[label, m] for m in ('positive', 'negative')):,} ({modes})")


@schema.parametrize()
def test_api_conforms(case: schemathesis.Case) -> None:
    CASES[case.operation.label, case.meta.generation.mode.value] += 1
    case.call_and_validate(checks=CHECKS)


def _stub_response(status: int, payload: Any) -> Any:
    return types.SimpleNamespace(status_code=status, json=lambda: payload, text=str(payload))


def _stub_case(body: Any) -> Any:
    return types.SimpleNamespace(body=body, method="POST", operation=types.SimpleNamespace(path="/api/train"))


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"error": "Not Found", "detail": [{"loc": [], "msg": "Not Found", "type": "http"}]}, "names no location"),
        ({"error": "gpus: bad", "detail": [{"loc": ["body", "tokens"], "msg": "bad", "type": "x"}]}, "does not start with its field"),
        ({"error": "tokens: raise --tokens", "detail": [{"loc": ["body", "tokens"], "msg": "raise --tokens", "type": "x"}]}, "command-line flag"),
        ({"error": "tokenz: bad", "detail": [{"loc": ["body", "tokenz"], "msg": "bad", "type": "x"}]}, "neither the schema nor the request"),
    ],
    ids=["no location", "other field", "cli flag", "unknown field"],
)
def test_names_the_field_rejects_bad_body(payload, problem) -> None:
    with pytest.raises(AssertionError, match=problem):
        names_the_field(None, _stub_response(422, payload), _stub_case({"model": "llama-3-8b"}))


def test_names_the_field_accepts_sent_field() -> None:
    payload = {"error": "tokenz: unknown field", "detail": [{"loc": ["body", "tokenz"], "msg": "unknown field", "type": "extra_forbidden"}]}
    assert names_the_field(None, _stub_response(422, payload), _stub_case({"tokenz": 1})) is None
    assert names_the_field(None, _stub_response(200, {}), _stub_case({})) is None
