"""A request body that trickles in is rejected with 408 once the time limit passes."""

from __future__ import annotations

import asyncio
import json

import pytest

pytest.importorskip("fastapi")

from napkin.web.guard import RejectionLog, RequestGuard  # noqa: E402


def test_slow_body_gets_408() -> None:
    # A client sending one byte a second held its connection open with no response at all.
    reached_app = []

    async def app(scope: dict, receive: object, send: object) -> None:
        reached_app.append(scope["path"])

    guard = RequestGuard(app, RejectionLog(), body_timeout_s=0.2)
    scope = {"type": "http", "method": "POST", "path": "/api/model", "headers": [(b"host", b"127.0.0.1")]}
    sent = []

    async def trickle() -> dict:
        await asyncio.sleep(0.15)
        return {"type": "http.request", "body": b" ", "more_body": True}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(guard(scope, trickle, send))
    assert reached_app == []
    assert sent[0]["status"] == 408
    error = json.loads(sent[1]["body"])["error"]
    assert error == "body: request body not received within 0.2 s; send the whole body at once"
