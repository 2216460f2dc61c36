"""`napkin web` when it cannot listen: one line naming the address, the cause and the fix."""

from __future__ import annotations

import socket

import pytest

from napkin_runner import run_napkin


def test_port_in_use_names_cause(capsys: pytest.CaptureFixture[str]) -> None:
    # The message once blamed the port for every failure and came after uvicorn's own log lines.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = run_napkin(capsys, "web", "--port", str(port), "--no-browser")
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        f"napkin web: error: cannot listen on 127.0.0.1:{port}: Address already in use; "
        "another program is listening there; choose another --port, or --port 0 for a free one"
    ]


def test_unknown_host_names_host(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def unresolved(*args: object, **kwargs: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unresolved)
    code, _, err = run_napkin(capsys, "web", "--host", "napkin.invalid", "--no-browser")
    assert code == 2
    assert err.splitlines() == [
        "napkin web: error: --host 'napkin.invalid' could not be resolved (Name or service not known): "
        "use an IP address such as 127.0.0.1"
    ]


def test_free_port_binds_loopback() -> None:
    from napkin.web.listen import bind_listeners

    listeners = bind_listeners("127.0.0.1", 0)
    try:
        assert len(listeners) == 1
        address, port = listeners[0].getsockname()
        assert address == "127.0.0.1"
        assert port > 0
    finally:
        for listener in listeners:
            listener.close()


@pytest.mark.parametrize("host", ["LOCALHOST", "127.0.0.2"])
def test_loopback_spellings_keep_host_check(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    # Any --host other than 127.0.0.1, localhost or ::1 was taken as public: the command warned that
    # every machine could reach the page and dropped the Host-header check against DNS rebinding.
    import uvicorn
    from click.testing import CliRunner
    from fastapi.testclient import TestClient

    from napkin.cli import main

    apps = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: apps.append(self.config.app))
    result = CliRunner().invoke(main, ["web", "--host", host, "--port", "0", "--no-browser"])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
    client = TestClient(apps[0])
    assert client.get("/api/meta", headers={"host": f"{host.lower()}:8765"}).status_code == 200
    assert client.get("/api/meta", headers={"host": "example.com"}).status_code == 400
