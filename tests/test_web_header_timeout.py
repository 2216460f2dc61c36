"""A connection whose request headers trickle in is closed once the header time limit passes."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

pytest.importorskip("uvicorn")

from live_server import serving  # noqa: E402
from napkin.web import create_app  # noqa: E402
from napkin.web.protocol import HeaderTimeoutProtocol  # noqa: E402

TIMEOUT_S = 0.5


class ShortTimeoutProtocol(HeaderTimeoutProtocol):
    header_timeout_s = TIMEOUT_S


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with serving(create_app(), http=ShortTimeoutProtocol) as bound:
        yield bound


def _closed_within(connection: socket.socket, seconds: float) -> bool:
    connection.settimeout(seconds)
    try:
        return connection.recv(1024) == b""
    except TimeoutError:
        return False


def test_incomplete_headers_closed(port: int) -> None:
    # uvicorn 0.55 kept a connection open indefinitely while its headers arrived a byte at a time.
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(b"GET /api/meta HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert _closed_within(connection, TIMEOUT_S * 6)


def test_complete_request_answered_and_kept(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(b"GET /api/meta HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        connection.settimeout(5)
        assert connection.recv(12) == b"HTTP/1.1 200"
