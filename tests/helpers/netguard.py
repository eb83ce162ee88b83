"""Test-time guard: reaching beyond loopback fails at once, before a packet leaves the machine.

Connections (TCP and UDP, blocking or through asyncio, which calls the same socket methods),
datagrams sent to an address, and name look-ups of anything but a loopback name raise
NetworkBlockedError naming the address. 127.0.0.0/8, ::1, `localhost` and unix sockets are fine.

tests/conftest.py installs it for the whole pytest run; every Python process the tests start
installs it too, through the sitecustomize in `SITE_DIR` that the run puts on PYTHONPATH. Each
refusal, in any of those processes, is also appended to the file named by `LOG_ENV`, so that a test
still fails when the code it ran caught the error (a retry loop, a broad `except`).

Only the standard library: the start-up hook loads this file before anything else is importable.
What it cannot see: connections made in C libraries (libpq opens PostgreSQL's itself; the test
database is on 127.0.0.1), and processes started with `python -I`, `-E` or `-S`, or with an
environment that drops PYTHONPATH.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

LOG_ENV = "TESTS_NETGUARD_LOG"
SITE_DIR = Path(__file__).resolve().with_name("netguard_site")
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_INET = (socket.AF_INET, socket.AF_INET6)


class NetworkBlockedError(RuntimeError):
    """A test reached beyond loopback. Not an OSError: no retry-on-network-error path eats it."""


def _text(host: object) -> str:
    return host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])  # fe80::1%eth0: drop the scope
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback, ::ffff:203.0.113.1 is not
    return address


def is_loopback_name(host: object) -> bool:
    """A loopback address, or a name that means this machine's loopback."""
    text = _text(host).strip().rstrip(".").lower()
    if text in LOOPBACK_NAMES or text.endswith(".localhost"):
        return True
    address = _ip(text)
    return address is not None and address.is_loopback


def _may_resolve(host: object) -> bool:
    # None and "" are the passive (any) address; a numeric address is parsed, never looked up.
    return host in (None, "", b"") or is_loopback_name(host) or _ip(_text(host)) is not None


_refusal_lock = threading.Lock()


def _refuse(what: str, target: str) -> NetworkBlockedError:
    message = f"{what} {target} refused: tests may not reach beyond loopback (127.0.0.1, ::1)"
    path = os.environ.get(LOG_ENV)
    if path:
        line = f"pid {os.getpid()} ({' '.join(sys.argv)[:120]}): {what} {target}\n"
        with _refusal_lock, open(path, "a", encoding="utf-8") as log:
            log.write(line)
    return NetworkBlockedError(message)


def _target(address: object) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = _text(address[0]), address[1]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return repr(address)


def _check_socket_address(sock: socket.socket, address: object, what: str) -> None:
    if sock.family not in _INET or not isinstance(address, tuple) or not address:
        return  # unix sockets (a path), netlink and the like stay on this machine
    if not is_loopback_name(address[0]):
        raise _refuse(what, _target(address))


def _check_lookup(host: object, port: object, what: str) -> None:
    if not _may_resolve(host):
        raise _refuse(what, _target((host, port)) if port is not None else _text(host))


_originals: dict[tuple[object, str], Any] = {}


def _patch(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    original = getattr(owner, name)
    _originals[(owner, name)] = original
    setattr(owner, name, make(original))


def installed() -> bool:
    return bool(_originals)


def install() -> None:
    """Patch the socket module in this process (idempotent)."""
    if installed():
        return

    def connect(original: Any) -> Any:
        def guarded(self: socket.socket, address: Any) -> Any:
            _check_socket_address(self, address, "connect to")
            return original(self, address)

        return guarded

    def sendto(original: Any) -> Any:
        def guarded(self: socket.socket, data: Any, *args: Any) -> Any:
            _check_socket_address(self, args[-1] if args else None, "sendto")
            return original(self, data, *args)

        return guarded

    def sendmsg(original: Any) -> Any:
        def guarded(self: socket.socket, buffers: Any, *args: Any) -> Any:
            _check_socket_address(self, args[2] if len(args) > 2 else None, "sendmsg to")
            return original(self, buffers, *args)

        return guarded

    def create_connection(original: Any) -> Any:
        def guarded(address: Any, *args: Any, **kwargs: Any) -> Any:
            if not is_loopback_name(address[0]):
                raise _refuse("connect to", _target(address))
            return original(address, *args, **kwargs)

        return guarded

    def getaddrinfo(original: Any) -> Any:
        def guarded(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            _check_lookup(host, port, "name lookup of")
            return original(host, port, *args, **kwargs)

        return guarded

    def by_name(original: Any) -> Any:
        def guarded(host: Any, *args: Any) -> Any:
            _check_lookup(host, None, "name lookup of")
            return original(host, *args)

        return guarded

    def by_address(original: Any) -> Any:
        def guarded(host: Any, *args: Any) -> Any:
            if not is_loopback_name(host):  # a reverse look-up asks a DNS server too
                raise _refuse("address lookup of", _text(host))
            return original(host, *args)

        return guarded

    for name in ("connect", "connect_ex"):
        _patch(socket.socket, name, connect)
    _patch(socket.socket, "sendto", sendto)
    _patch(socket.socket, "sendmsg", sendmsg)
    _patch(socket, "create_connection", create_connection)
    _patch(socket, "getaddrinfo", getaddrinfo)
    _patch(socket, "gethostbyname", by_name)
    _patch(socket, "gethostbyname_ex", by_name)
    _patch(socket, "gethostbyaddr", by_address)


def uninstall() -> None:
    for (owner, name), original in _originals.items():
        setattr(owner, name, original)
    _originals.clear()


def take_refusals() -> list[str]:
    """The refusals logged since the last call, by this process and the ones it started."""
    path = os.environ.get(LOG_ENV)
    if not path or not os.path.exists(path):
        return []
    with _refusal_lock, open(path, "r+", encoding="utf-8") as log:
        lines = log.read().splitlines()
        log.seek(0)
        log.truncate()
    return lines
