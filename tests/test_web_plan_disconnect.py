"""A plan search queued for a client that has disconnected is dropped, not run."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

pytest.importorskip("fastapi")

import napkin.plan  # noqa: E402
from napkin.web import create_app  # noqa: E402
from napkin.web.api import CLIENT_CLOSED_REQUEST, PLAN_EXECUTOR  # noqa: E402

PLAN = {"model": "llama-3-8b", "tokens": "2T", "gpu": "h100", "max_gpus": 64, "top": 1}


def test_queued_search_dropped_on_disconnect(monkeypatch) -> None:
    # 40 clients that gave up on their plan requests once delayed the next plan by 12 s, because
    # their searches still ran one after another on the plan thread.
    searches = []
    monkeypatch.setattr(napkin.plan, "plan_layouts", lambda *args, **kwargs: searches.append(args))
    release = threading.Event()
    busy = PLAN_EXECUTOR.submit(release.wait, 5)
    app = create_app()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/api/plan", "raw_path": b"/api/plan", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8765),
    }
    messages = [{"type": "http.request", "body": json.dumps(PLAN).encode(), "more_body": False}]
    sent = []

    async def receive() -> dict:
        if messages:
            return messages.pop(0)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    try:
        asyncio.run(app(scope, receive, send))
    finally:
        release.set()
    busy.result(timeout=30)
    PLAN_EXECUTOR.submit(lambda: None).result(timeout=30)
    assert searches == []
    assert sent[0]["status"] == CLIENT_CLOSED_REQUEST
