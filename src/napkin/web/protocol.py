"""uvicorn's h11 HTTP protocol with a time limit on each request's line and headers.

uvicorn 0.55 closes a connection that stays idle after a response, but it waits without limit
for the headers of a request. A client that sends one header byte every few seconds (slowloris)
keeps its connection open indefinitely, and enough of them use up the server's file descriptors.
The request body has its own limit in `guard.BODY_TIMEOUT_S`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_S = 10.0
"""Maximum seconds from a connection's start, or from the end of its last response, to the end of
the next request's headers."""


class HeaderTimeoutProtocol(H11Protocol):
    """H11Protocol that closes a connection whose request headers are still incomplete after
    `header_timeout_s`."""

    # NOTE: this uses H11Protocol's `conn`, `loop` and `transport` attributes and its
    # `on_response_complete` hook, which are not a public API; tested with uvicorn 0.55 only.

    header_timeout_s = HEADER_TIMEOUT_S

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._start_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._start_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _start_header_timer(self) -> None:
        self._cancel_header_timer()
        if not self.transport.is_closing():
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._close_if_headers_incomplete)

    def _cancel_header_timer(self) -> None:
        timer: Any = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _close_if_headers_incomplete(self) -> None:
        self._header_timer = None
        # h11 stays IDLE until a request's line and headers have arrived in full. A request that is
        # still being processed, however slowly, has left IDLE and keeps its connection.
        if self.conn.their_state is h11.IDLE:
            self.transport.close()
