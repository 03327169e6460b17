"""The API key goes only to the API's origin over TLS, or to this machine over plain http.

"This machine" is decided twice: by the URL's name when the transport is made, and by the
address each connection is made to. A resolver seam maps names to addresses that are never
contacted, so no test depends on /etc/hosts, DNS or network namespaces.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from httpfaults import FaultServer, Reply

from dagkit.errors import ConnectError, DagkitError
from dagkit.transport import (
    API_KEY_HEADER,
    AddressInfo,
    Request,
    RetryPolicy,
    Transport,
    is_loopback,
    is_loopback_address,
)

KEY = "dk-safety-4c1e8a7f2b9d6e30"
JOBS = "/api/v1/jobs/"
#: Documentation addresses (RFC 5737, RFC 3849): routed nowhere, never contacted here.
ELSEWHERE_V4 = "203.0.113.7"
ELSEWHERE_V6 = "2001:db8::7"


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


class Resolver:
    """Maps host names to fixed addresses and records what it was asked."""

    def __init__(self, mapping: dict[str, list[str]]) -> None:
        self.mapping = mapping
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> Sequence[AddressInfo]:
        self.asked.append(host)
        out: list[AddressInfo] = []
        for address in self.mapping[host]:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            where: tuple[Any, ...] = (address, port, 0, 0) if ":" in address else (address, port)
            out.append((family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", where))
        return out


def transport(url: str, **options: Any) -> Transport:
    options.setdefault("api_key", KEY)
    options.setdefault("retry", RetryPolicy(max_attempts=3, jitter=False))
    options.setdefault("timeout", (1.0, 2.0))
    sleeps: list[float] = []
    made = Transport(base_url=url, sleep=sleeps.append, **options)
    made.sleeps = sleeps  # type: ignore[attr-defined]
    return made


# ------------------------------------------------------------------------------ by name


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST.",
        "api.localhost",
        "a.b.localhost",
        "127.0.0.1",
        "127.0.0.2",
        "127.255.255.254",
        "[::1]",
        "[::ffff:127.0.0.1]",
    ],
)
def test_names_of_this_machine_may_receive_the_key_over_http(host: str) -> None:
    assert is_loopback(host)
    Transport(base_url=f"http://{host}:8000", api_key=KEY)


@pytest.mark.parametrize(
    "host",
    [
        "0.0.0.0",
        "[::]",
        "169.254.169.254",  # link-local: the cloud metadata address
        "[fe80::1]",
        "[fe80::1%25eth0]",
        "10.0.0.1",
        "192.168.1.1",
        "[::ffff:10.0.0.1]",
        "128.0.0.1",
        "evillocalhost",
        "localhost.evil.com",
        "localhost.evil.com.",
        "api.localhost.evil.com",
        "localhost-evil.com",
        "127.0.0.1.nip.io",  # a public name that resolves to 127.0.0.1: a name proves nothing
        "example.com",
    ],
)
def test_other_hosts_never_receive_the_key_over_http(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(DagkitError, match="refusing to send the API key over plain http"):
        Transport(base_url=f"http://{host}:8000", api_key=KEY)
    Transport(base_url=f"http://{host}:8000")  # no key: nothing to protect
    Transport(base_url=f"http://{host}:8000", api_key=KEY, allow_insecure_key=True)
    Transport(base_url=f"https://{host}:8000", api_key=KEY)  # TLS: any origin


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("169.254.1.1", False),
        ("fe80::1", False),
        ("fe80::1%eth0", False),
        ("::ffff:169.254.1.1", False),
        ("10.1.2.3", False),
        ("localhost", False),  # a name is not an address
        ("", False),
    ],
)
def test_loopback_addresses(address: str, loopback: bool) -> None:
    assert is_loopback_address(address) is loopback


# ------------------------------------------------------------------------------ by address


@pytest.mark.parametrize(
    "addresses", [[ELSEWHERE_V4], [ELSEWHERE_V6], ["169.254.169.254"], ["0.0.0.0"]]
)
def test_a_localhost_name_resolving_elsewhere_is_refused_before_connecting(
    server: FaultServer, addresses: list[str]
) -> None:
    resolver = Resolver({"api.localhost": addresses})
    made = transport(f"http://api.localhost:{server.port}", resolve=resolver)
    with pytest.raises(ConnectError, match="refusing to send the API key") as caught:
        made.send(Request("GET", made.url("/jobs/")))
    assert addresses[0] in str(caught.value)
    assert caught.value.reached_server is False
    assert resolver.asked == ["api.localhost"]  # asked once: not retried
    assert made.sleeps == []  # type: ignore[attr-defined]
    assert KEY not in str(caught.value)
    assert server.count() == 0


def test_only_the_loopback_addresses_of_a_name_are_used(server: FaultServer) -> None:
    resolver = Resolver({"api.localhost": [ELSEWHERE_V4, "127.0.0.1"]})
    server.script(JOBS, Reply(200, json=[]))
    made = transport(f"http://api.localhost:{server.port}", resolve=resolver)
    assert made.send(Request("GET", made.url("/jobs/"))).json() == []
    assert server.requests(JOBS)[0].header(API_KEY_HEADER) == KEY


def test_the_peer_address_is_checked_after_connecting(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A loopback address always connects to a loopback peer, so the second look can only be
    # shown by changing what the socket reports (nothing real can make them differ).
    monkeypatch.setattr(socket.socket, "getpeername", lambda self: (ELSEWHERE_V4, 80))
    made = transport(f"http://localhost:{server.port}")
    with pytest.raises(ConnectError, match=f"connected to {ELSEWHERE_V4}"):
        made.send(Request("GET", made.url("/jobs/")))
    assert server.count() == 0


def test_real_names_of_this_machine_connect(server: FaultServer) -> None:
    server.script(JOBS, Reply(200, json=[]), Reply(200, json=[]))
    for host in ("localhost", "127.0.0.1"):
        made = transport(f"http://{host}:{server.port}")
        made.send(Request("GET", made.url("/jobs/")))
    assert [r.header(API_KEY_HEADER) for r in server.requests(JOBS)] == [KEY, KEY]


def test_without_a_key_or_with_consent_no_address_is_checked(server: FaultServer) -> None:
    server.script(JOBS, Reply(200, json=[]), Reply(200, json=[]))
    resolver = Resolver({})  # asking it anything fails the test
    for options in ({"api_key": None}, {"allow_insecure_key": True}):
        made = transport(f"http://127.0.0.1:{server.port}", resolve=resolver, **options)
        made.send(Request("GET", made.url("/jobs/")))
    assert resolver.asked == [] and server.count(JOBS) == 2
