"""Run `napkin web`'s app with uvicorn on a free 127.0.0.1 port in a daemon thread, for tests that
need a real socket."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

START_TIMEOUT_S = 15


@contextmanager
def serving(app: Any, **config: Any) -> Iterator[int]:
    """Serve `app` on 127.0.0.1 with the given uvicorn settings and yield its port; stop on exit."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", **config))
    thread = threading.Thread(target=server.run, name="napkin-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            pytest.fail(f"the test server did not start within {START_TIMEOUT_S} s")
        time.sleep(0.02)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
