"""The API's error body, and the rewording of request errors so that each names its field.

Every 4xx response of the API has the body
``{"error": "FIELD: message", "detail": [{"loc": [KIND, FIELD…], "msg": message, "type": …}]}``.
KIND is where the field sits: ``body``, ``query``, ``header``, ``path`` (an unknown path) or
``method`` (a method the path does not take). FIELD is the location without its kind, as the
API spells it (``tokens``, ``a.gpu``), or the kind itself when the whole body, path or method is
at fault.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute

from ..errors import one_line

LOCATION_KINDS = ("body", "query", "header", "path", "method")

_CLI_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z-]*)")
_JSON_CONSTANT = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)')
_LONG_INTEGER = re.compile(r'"(?:[^"\\]|\\.)*"|(-?\d{1000,})')
_JSON_KINDS = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number", type(None): "null"}


def field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    """Return ``tokens`` for ``["body", "tokens"]``, ``a.gpu`` for ``["body", "a", "gpu"]`` and ``body`` for ``["body"]``."""
    parts = [str(part) for part in loc]
    if len(parts) > 1 and parts[0] in LOCATION_KINDS:
        parts = parts[1:]
    return ".".join(parts)


def error_payload(details: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the error body for `details`; its one-line `error` is the first detail's field and message."""
    for detail in details:
        detail["msg"] = one_line(detail["msg"])
    first = details[0]
    return {"error": f"{field_name(first['loc'])}: {first['msg']}", "detail": details}


def api_spelling(message: str) -> str:
    """Rename the command line's flags in a core error message to the API's fields: ``--micro-batch`` becomes ``micro_batch``."""
    return _CLI_FLAG.sub(lambda match: match.group(1).replace("-", "_"), message)


def _line_and_column(text: str, position: int) -> tuple[int, int]:
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1


def _invalid_json(document: Any, position: int, reason: str) -> str:
    text = document.decode("utf-8", "replace") if isinstance(document, bytes) else str(document or "")
    line, column = _line_and_column(text, min(position, len(text)))
    return f"the request body is not valid JSON at line {line}, column {column}: {reason}"


def _unknown_field_message(request: Request, loc: list[Any]) -> str:
    """Return the message for a field the body model does not define, with the closest field name."""
    model = _body_model(request)
    for part in loc[1:-1]:
        field = getattr(model, "model_fields", {}).get(part)
        model = field.annotation if field is not None else None
    names = sorted(getattr(model, "model_fields", {}))
    close = difflib.get_close_matches(str(loc[-1]), names, n=1)
    if close:
        return f"unknown field {loc[-1]!r}: did you mean {close[0]!r}?"
    if names:
        return f"unknown field {loc[-1]!r}: the fields are {', '.join(names)}"
    return f"unknown field {loc[-1]!r}"


def _body_model(request: Request) -> Any:
    route = request.scope.get("route")
    body_field = getattr(route, "body_field", None) if isinstance(route, APIRoute) else None
    return getattr(getattr(body_field, "field_info", None), "annotation", None)


def reword(request: Request, item: dict[str, Any], document: Any) -> dict[str, Any]:
    """Return one validation error of FastAPI as a detail whose location is the field and whose message states the fix.

    `document` is the request body that failed to parse as JSON, when one did.
    """
    loc = list(item.get("loc", ()))
    kind = str(item.get("type", ""))
    message = str(item.get("msg", "")).removeprefix("Value error, ")  # pydantic's prefix for a validator's ValueError
    value = item.get("input")
    if kind == "json_invalid":
        reason = str((item.get("ctx") or {}).get("error", "invalid syntax"))
        position = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
        return {"loc": ["body"], "msg": _invalid_json(document, position, reason), "type": kind}
    if loc == ["body"] and kind == "missing":
        message = "the request body is empty: send a JSON object of fields with Content-Type application/json"
    elif loc == ["body"] and isinstance(value, (bytes, bytearray)):
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        sent = f"has Content-Type {content_type}" if content_type else "has no Content-Type header"
        message = f"the request body {sent}: send a JSON object of fields with Content-Type application/json"
    elif loc == ["body"] and type(value) in _JSON_KINDS:
        message = f"the request body is {_JSON_KINDS[type(value)]}, not a JSON object: send the fields as a JSON object"
    elif kind == "extra_forbidden":
        message = _unknown_field_message(request, loc)
    elif kind in _LIMIT_ENDINGS:
        message += _LIMIT_ENDINGS[kind](value, item.get("ctx") or {})
    return {"loc": loc, "msg": api_spelling(message), "type": kind}


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, dict)) else 0


# pydantic's messages for a value beyond a limit state only the limit. These endings add the value
# sent (the length, for a text) and what to send instead.
_LIMIT_ENDINGS = {
    "string_too_long": lambda value, ctx: f", not {_size(value):,}: send a shorter text",
    "too_short": lambda value, ctx: f": give at least {ctx.get('min_length', 1):,}",
    "too_long": lambda value, ctx: f": give at most {ctx.get('max_length', 0):,}",
    "less_than_equal": lambda value, ctx: f", not {value!r}: use {ctx.get('le')} or less",
    "greater_than_equal": lambda value, ctx: f", not {value!r}: use {ctx.get('ge')} or more",
    "literal_error": lambda value, ctx: f", not {value!r}",
}


def strict_json(body: bytes) -> Any:
    """Parse a request body as JSON (RFC 8259), which Python's `json.loads` extends.

    Raise `json.JSONDecodeError`, with a position in the text, for bytes that are not UTF-8, the
    NaN and Infinity tokens, integers too long for `int` and nesting too deep to parse. FastAPI
    then reports each as invalid JSON, where it would otherwise report a body it could not read.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        text = body.decode("utf-8", "replace")
        position = len(body[: error.start].decode("utf-8", "replace"))
        raise json.JSONDecodeError(f"byte 0x{body[error.start]:02x} is not UTF-8", text, position) from None

    def reject_constant(token: str) -> Any:
        match = next(match for match in _JSON_CONSTANT.finditer(text) if match.group(1))
        raise json.JSONDecodeError(f"{token} is not a JSON number: send a finite number", text, match.start(1))

    def reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                # The parser gives no position here: point at the second `"key":` in the text.
                found = list(re.finditer(re.escape(json.dumps(key, ensure_ascii=False)) + r"\s*:", text))
                position = found[1].start() if len(found) > 1 else 0
                raise json.JSONDecodeError(f"duplicate key {key!r}: send each field once", text, position)
            result[key] = value
        return result

    try:
        return json.loads(text, parse_constant=reject_constant, object_pairs_hook=reject_duplicates)
    except RecursionError:
        raise json.JSONDecodeError("arrays and objects are nested too deeply to parse", text, 0) from None
    except json.JSONDecodeError:
        raise
    except ValueError:  # int() rejects an integer of more than sys.get_int_max_str_digits() digits
        match = next((match for match in _LONG_INTEGER.finditer(text) if match.group(1)), None)
        digits = f"{len(match.group(1).lstrip('-')):,} digits" if match else "too many digits"
        reason = f"an integer of {digits} is longer than the {sys.get_int_max_str_digits():,} digits allowed: use an exponent, e.g. 1e21"
        raise json.JSONDecodeError(reason, text, match.start(1) if match else 0) from None


class StrictJSONRequest(Request):
    """A request whose `json()` is `strict_json`."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_json(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """An API route that parses its JSON body with `strict_json`."""

    def get_route_handler(self) -> Any:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Any:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_handler
