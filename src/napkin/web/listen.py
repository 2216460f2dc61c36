"""Listening sockets for `napkin web`, bound before the server starts.

uvicorn binds its own sockets, and when that fails it logs the OS error over several lines and
exits. Binding here first turns each failure into one message with the cause and the fix.
"""

from __future__ import annotations

import errno
import ipaddress
import socket

from ..errors import OptionError


def bind_listeners(host: str, port: int) -> list[socket.socket]:
    """Bind a TCP socket on every address that `host` resolves to, all on `port`.

    Raises OptionError naming the host or port and the fix when a name does not resolve or an
    address cannot be bound. Port 0 binds the first address to a free port and the rest to it.
    """
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise OptionError(f"--host {host!r} could not be resolved ({error.strerror}): use an IP address such as 127.0.0.1") from None
    listeners: list[socket.socket] = []
    seen = set()
    try:
        for family, kind, proto, _, address in addresses:
            if (family, address[0]) in seen:
                continue
            seen.add((family, address[0]))
            listener = socket.socket(family, kind, proto)
            listeners.append(listener)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                # Like asyncio's create_server: an IPv6 socket does not also take the IPv4 address.
                listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            bound_port = listeners[0].getsockname()[1] if len(listeners) > 1 else port
            _bind(listener, host, (address[0], bound_port, *address[2:]))
    except OptionError:
        for listener in listeners:
            listener.close()
        raise
    return listeners


def all_loopback(listeners: list[socket.socket]) -> bool:
    """Return whether every socket listens on a loopback address, however --host spelled it."""
    return all(ipaddress.ip_address(listener.getsockname()[0]).is_loopback for listener in listeners)


def _bind(listener: socket.socket, host: str, address: tuple) -> None:  # type: ignore[type-arg]
    try:
        listener.bind(address)
    except OSError as error:
        printed_host = f"[{address[0]}]" if ":" in address[0] else address[0]
        where = f"{printed_host}:{address[1]}"
        if error.errno == errno.EADDRINUSE:
            fix = "another program is listening there; choose another --port, or --port 0 for a free one"
        elif error.errno == errno.EACCES:
            fix = "ports below 1024 need administrator rights; choose --port 1024 or above"
        elif error.errno == errno.EADDRNOTAVAIL:
            fix = f"--host {host} is not an address of this machine; use 127.0.0.1"
        else:
            fix = "choose another --host or --port"
        raise OptionError(f"cannot listen on {where}: {error.strerror or error}; {fix}") from None
