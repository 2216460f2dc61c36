"""An ASGI middleware that caps request bodies, checks the Host header and sets security headers.

It reads a request body in full, up to the cap and within a time limit, before passing it to
the app. So an oversized body is rejected with status 413 whether or not it declared a
Content-Length, and a body that arrives too slowly with status 408. Rejections are logged with
their status and reason.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable
from typing import Any

from .problems import error_payload

logger = logging.getLogger("napkin.web")


class RejectionLog:
    """Logger of rejected requests with their status and reason, at most `limit` per `window_s`
    seconds so that a flood of bad requests cannot flood the log. It counts the rest and reports
    their number when the next window opens."""

    def __init__(self, limit: int = 20, window_s: float = 10.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self.window_start = -window_s
        self.logged = 0
        self.suppressed = 0

    def __call__(self, method: str | None, path: str | None, status: int, reason: str) -> None:
        now = time.monotonic()
        if now - self.window_start >= self.window_s:
            if self.suppressed:
                logger.warning("%d more rejected requests were not logged", self.suppressed)
            self.window_start, self.logged, self.suppressed = now, 0, 0
        if self.logged >= self.limit:
            self.suppressed += 1
            return
        self.logged += 1
        logger.warning("rejected %s %s: %d %s", method, path, status, reason)


MAX_BODY_BYTES = 256 * 1024
"""Maximum request body in bytes. Two uploaded config.json texts of the maximum length fit when
they are ASCII, as config files are."""

BODY_TIMEOUT_S = 10.0
"""Maximum wait in seconds for a whole request body. The page sends at most 256 KiB to a local
server, which takes milliseconds. Without this limit, a client that sends its body one byte at a
time would keep its connection and buffer open indefinitely."""

HEAD_SCOPE_KEY = "napkin.head"
"""ASGI scope key set on a HEAD request that the guard passes on as GET."""

_SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class RequestGuard:
    """The middleware; `rejections` logs what it rejects."""

    def __init__(
        self,
        app: Any,
        rejections: RejectionLog,
        max_body_bytes: int = MAX_BODY_BYTES,
        allowed_hosts: Iterable[str] | None = None,
        body_timeout_s: float = BODY_TIMEOUT_S,
    ) -> None:
        self.app = app
        self.rejections = rejections
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s
        self.allowed_hosts = None if allowed_hosts is None else {host.lower() for host in allowed_hosts}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.lower(): value for key, value in scope.get("headers", [])}
        if self.allowed_hosts is not None:
            host = headers.get(b"host", b"").decode("latin-1").lower()
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name not in self.allowed_hosts:
                await self._reject(scope, send, 400, ["header", "host"], f"{host!r} is not served; open the page at 127.0.0.1 or localhost")
                return
        if scope.get("method") == "HEAD":
            # HTTP requires HEAD wherever GET is served (RFC 9110, section 9.1), so pass it on as GET
            # without the body. `HEAD_SCOPE_KEY` keeps the request's own method for error messages.
            scope = {**scope, "method": "GET", HEAD_SCOPE_KEY: True}
            send = _without_body(send)
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._reject(scope, send, 413, ["body"], f"request body of {int(declared):,} bytes exceeds the limit of {self.max_body_bytes:,} bytes")
            return
        body = b""
        if scope.get("method") in ("POST", "PUT", "PATCH"):
            chunks: list[bytes] = []
            size = 0
            deadline = time.monotonic() + self.body_timeout_s
            while True:
                try:
                    message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
                except TimeoutError:
                    reason = f"request body not received within {self.body_timeout_s:g} s; send the whole body at once"
                    await self._reject(scope, send, 408, ["body"], reason)
                    return
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body_bytes:
                    await self._reject(scope, send, 413, ["body"], f"request body exceeds the limit of {self.max_body_bytes:,} bytes")
                    return
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
            body = b"".join(chunks)
        await self.app(scope, _replay(body, receive), _with_headers(send))

    async def _reject(self, scope: dict[str, Any], send: Any, status: int, loc: list[str], reason: str) -> None:
        body = error_payload([{"loc": loc, "msg": reason, "type": "http"}])
        self.rejections(scope.get("method"), scope.get("path"), status, body["error"])
        payload = json.dumps(body).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()), *_SECURITY_HEADERS]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def _replay(body: bytes, receive: Any) -> Any:
    """Return a receive callable that yields `body` once, then defers to `receive`."""
    sent = False

    async def replayed() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _without_body(send: Any) -> Any:
    """Return a send callable that drops the response body and keeps its headers."""

    async def sending(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return sending


def _with_headers(send: Any) -> Any:
    async def sending(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *_SECURITY_HEADERS]}
        await send(message)

    return sending


