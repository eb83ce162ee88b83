"""The network guard (tests/helpers/netguard.py): nothing beyond loopback, here or in a child."""

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import httpx
import pytest

from tests.helpers import netguard
from tests.helpers.netguard import NetworkBlockedError

OUTSIDE = ("203.0.113.1", 9)  # TEST-NET-3 (RFC 5737): for documentation, routed nowhere
REFUSED = r"connect to 203\.0\.113\.1:9 refused"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


def test_the_guard_is_on_for_the_whole_run() -> None:
    assert netguard.installed()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.10.20.30", True),  # all of 127.0.0.0/8
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        (b"127.0.0.1", True),
        ("203.0.113.1", False),
        ("::ffff:203.0.113.1", False),
        ("2001:db8::1", False),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("api.telegram.org", False),
    ],
)
def test_what_counts_as_loopback(host: str | bytes, loopback: bool) -> None:
    assert netguard.is_loopback_name(host) is loopback


def test_a_connection_beyond_loopback_fails_before_a_packet_is_sent(
    listener: socket.socket,
) -> None:
    with socket.socket() as sock:
        sock.settimeout(5)
        started = time.monotonic()
        with pytest.raises(NetworkBlockedError, match=REFUSED):
            sock.connect(OUTSIDE)
        assert time.monotonic() - started < 1  # refused here, not timed out on the way
        # The kernel never began that connect: a socket with a SYN out would now answer
        # EALREADY (EISCONN once connected), yet this one still connects to the listener.
        sock.connect(listener.getsockname())
    with socket.socket() as sock, pytest.raises(NetworkBlockedError, match=REFUSED):
        sock.connect_ex(OUTSIDE)
    with pytest.raises(NetworkBlockedError, match=REFUSED):
        socket.create_connection(OUTSIDE, timeout=5)
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
        pytest.raises(NetworkBlockedError, match=r"sendto 203\.0\.113\.1:9 refused"),
    ):
        udp.sendto(b"x", OUTSIDE)  # a datagram would leave at once: refused as well
    assert len(netguard.take_refusals()) == 4  # taken, so this test itself passes


def test_loopback_and_unix_sockets_are_fine(listener: socket.socket, tmp_path: Path) -> None:
    port = listener.getsockname()[1]
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    with socket.create_connection(("localhost", port), timeout=5):
        pass
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(b"x", ("127.0.0.1", port))
    path = str(tmp_path / "unix.sock")
    with socket.socket(socket.AF_UNIX) as server, socket.socket(socket.AF_UNIX) as client:
        server.bind(path)
        server.listen()
        client.connect(path)
    assert netguard.take_refusals() == []


def test_name_lookups_beyond_loopback_are_refused_without_asking_dns() -> None:
    with pytest.raises(NetworkBlockedError, match=r"name lookup of api\.telegram\.org:443"):
        socket.getaddrinfo("api.telegram.org", 443)
    with pytest.raises(NetworkBlockedError, match=r"name lookup of example\.com refused"):
        socket.gethostbyname("example.com")
    with pytest.raises(NetworkBlockedError, match=r"address lookup of 203\.0\.113\.1"):
        socket.gethostbyaddr("203.0.113.1")
    assert socket.getaddrinfo("localhost", 80)
    assert socket.getaddrinfo(*OUTSIDE)  # a numeric address is parsed, not looked up
    assert len(netguard.take_refusals()) == 3


def test_asyncio_aiohttp_and_httpx_are_refused_too() -> None:
    async def main() -> None:
        with pytest.raises(NetworkBlockedError, match=REFUSED):
            await asyncio.open_connection(*OUTSIDE)
        with pytest.raises(NetworkBlockedError, match=r"name lookup of example\.com:80"):
            await asyncio.open_connection("example.com", 80)
        async with aiohttp.ClientSession() as session:
            with pytest.raises(NetworkBlockedError, match=REFUSED):
                await session.get("http://203.0.113.1:9/")
        async with httpx.AsyncClient() as client:
            with pytest.raises(ExceptionGroup) as raised:  # anyio's happy eyeballs group it
                await client.get("http://203.0.113.1:9/")
            assert raised.group_contains(NetworkBlockedError, match=REFUSED)

    asyncio.run(main())
    with pytest.raises(NetworkBlockedError, match=r"connect to api\.kavenegar\.com:443 refused"):
        httpx.get("https://api.kavenegar.com/v1/")
    assert len(netguard.take_refusals()) == 5


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    """A child Python as the tests start them: the environment inherited."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_processes_the_tests_start_are_guarded_too(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    reached = run_python(f"import socket; socket.create_connection(('127.0.0.1', {port})).close()")
    assert reached.returncode == 0, reached.stderr

    refused = run_python(f"import socket; socket.create_connection({OUTSIDE!r}, timeout=5)")
    assert refused.returncode == 1
    assert "NetworkBlockedError: connect to 203.0.113.1:9 refused" in refused.stderr
    [logged] = netguard.take_refusals()
    assert logged.startswith("pid ") and logged.endswith("connect to 203.0.113.1:9")


def test_a_refusal_the_code_swallows_is_still_logged_for_the_test_to_fail() -> None:
    swallowed = "import socket, contextlib\nwith contextlib.suppress(Exception):\n"
    swallowed += "    socket.getaddrinfo('example.com', 80)"
    assert run_python(swallowed).returncode == 0
    with contextlib.suppress(Exception):  # what a retry loop or a broad except would do
        socket.create_connection(OUTSIDE)
    refusals = netguard.take_refusals()
    # Left in the log, these would fail the test in the autouse fixture's teardown.
    assert [line.rsplit(": ", 1)[1] for line in refusals] == [
        "name lookup of example.com:80",
        "connect to 203.0.113.1:9",
    ]
