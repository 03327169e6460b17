"""The API key goes only to the API's origin over TLS, or to this machine over plain http.

"This machine" is decided twice: by the URL's name when the transport is made, and by the
address each connection is made to. A resolver seam maps names to addresses that are never
contacted, so no test depends on /etc/hosts, DNS or network namespaces.
"""

from __future__ import annotations

import logging
import socket
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from httpfaults import FaultServer, Reply, SilentPort

from dagkit.errors import ConnectError, DagkitError
from dagkit.http.transport import (
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
        "XLOCALHOST",  # other machines' names, in capitals
        "LOCALHOSTX",
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


@pytest.mark.parametrize(
    ("addresses", "shown"),
    [
        ([ELSEWHERE_V4, ELSEWHERE_V6, ELSEWHERE_V4], f"{ELSEWHERE_V6}, {ELSEWHERE_V4}"),
        ([], "nothing"),
    ],
)
def test_the_refusal_names_every_address_the_name_resolved_to(
    server: FaultServer, addresses: list[str], shown: str
) -> None:
    made = transport(
        f"http://api.localhost:{server.port}", resolve=Resolver({"api.localhost": addresses})
    )
    with pytest.raises(ConnectError) as caught:
        made.send(Request("GET", made.url("/jobs/")))
    where = "refusing to send the API key over plain http to api.localhost"
    assert f"{where}: it resolves to {shown}, not this machine." in str(caught.value)


def test_a_loopback_address_that_fails_gives_way_to_the_next(server: FaultServer) -> None:
    # The server listens on 127.0.0.1 only: ::1 is refused (or absent), then 127.0.0.1 answers.
    resolver = Resolver({"api.localhost": ["::1", "127.0.0.1"]})
    server.script(JOBS, Reply(200, json=[]))
    made = transport(f"http://api.localhost:{server.port}", resolve=resolver)
    assert made.send(Request("GET", made.url("/jobs/"))).json() == []
    assert server.count(JOBS) == 1 and made.sleeps == []  # type: ignore[attr-defined]


def unopenable(port: int) -> AddressInfo:
    """An address of a kind no socket can be made for here, as localhost's ::1 is where IPv6
    is turned off (here: TCP's socket type with UDP's protocol)."""
    return (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_UDP, "", ("127.0.0.1", port))


def test_an_address_this_machine_cannot_open_gives_way_to_the_next(server: FaultServer) -> None:
    with FaultServer() as other:  # the address that cannot be opened points at this one

        def resolve(host: str, port: int) -> list[AddressInfo]:
            return [unopenable(other.port), *Resolver({host: ["127.0.0.1"]})(host, port)]

        server.script(JOBS, Reply(200, json=[]))
        made = transport(f"http://api.localhost:{server.port}", resolve=resolve)
        assert made.send(Request("GET", made.url("/jobs/"))).json() == []
        assert made.sleeps == []  # type: ignore[attr-defined]
        assert other.count() == 0


def test_a_name_whose_only_address_cannot_be_opened_says_why(server: FaultServer) -> None:
    made = transport(
        f"http://api.localhost:{server.port}",
        resolve=lambda host, port: [unopenable(port)],
        retry=RetryPolicy(max_attempts=1),
    )
    with pytest.raises(ConnectError, match=r"could not connect to api\.localhost:\d+ \(.+\)\."):
        made.send(Request("GET", made.url("/jobs/")))
    assert server.count() == 0


@pytest.mark.skipif(sys.platform != "linux", reason="elsewhere a full accept queue may refuse")
def test_a_connection_that_carries_the_key_keeps_the_connect_timeout() -> None:
    silent = SilentPort()
    try:
        made = transport(silent.url, timeout=(0.3, 5.0), retry=RetryPolicy(max_attempts=1))
        with pytest.raises(ConnectError, match="within the connect timeout"):
            made.send(Request("GET", made.url("/jobs/")))
    finally:
        silent.close()


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


def test_each_new_connection_is_checked_and_a_kept_one_keeps_its_check() -> None:
    resolver = Resolver({"api.localhost": ["127.0.0.1"]})
    with FaultServer(keep_alive=True, idle_timeout=0.2) as server:
        server.script(JOBS, *[Reply(200, json=[])] * 3)
        made = transport(f"http://api.localhost:{server.port}", resolve=resolver)
        for _ in range(3):
            made.send(Request("GET", made.url("/jobs/")))
        assert resolver.asked == ["api.localhost"] and server.connections == 1
        # The server closes the idle connection; the name now leads elsewhere. The next
        # connection is checked again, and refused before anything is sent.
        deadline = time.monotonic() + 10
        while server.closed < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        resolver.mapping["api.localhost"] = [ELSEWHERE_V4]
        with pytest.raises(ConnectError, match="refusing to send the API key"):
            made.send(Request("GET", made.url("/jobs/")))
        assert resolver.asked == ["api.localhost"] * 2
        assert server.connections == 1 and server.count() == 3


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


# ------------------------------------------------------------------------------ redaction

JOB_ID = "6f1c2e4a-8b3d-4c5e-9f70-1a2b3c4d5e6f"


def job_json(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": JOB_ID,
        "workflow_id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "workflow_name": "on-demand",
        "status": "SCHEDULED",
        "created_at": "2026-01-02T03:04:05Z",
        "input_file_ids": ["f-0001"],
        "output_node_files": [],
        "job_type": "ephemeral",
    }
    doc.update(changes)
    return doc


def cli(
    monkeypatch: pytest.MonkeyPatch, server: FaultServer, key: str, *args: str
) -> tuple[int, str]:
    """Run the CLI in-process against ``server`` with ``key``; (exit code, stdout + stderr)."""
    from click.testing import CliRunner

    from dagkit.cli import main

    monkeypatch.setenv("UNSTRUCTURED_API_URL", server.url)
    monkeypatch.setenv("UNSTRUCTURED_API_KEY", key)
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, failures: 0.0)
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout + result.stderr


@pytest.mark.parametrize("as_json", [False, True])
def test_a_key_the_server_echoes_is_hidden_in_every_output(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch, as_json: bool
) -> None:
    flags = ["--json"] if as_json else []
    # in a finding about an answer that cannot be used (it quotes the value), in a request id
    server.script(JOBS + JOB_ID, Reply(200, json=KEY))
    code, out = cli(monkeypatch, server, KEY, "jobs", "get", JOB_ID, *flags)
    assert code == 3 and "DK501" in out
    assert 'got the string \\"***\\"' in out if as_json else 'got the string "***"' in out
    server.script(JOBS + JOB_ID, Reply(404, headers=(("x-request-id", f"rid-{KEY}"),)))
    code, shown = cli(monkeypatch, server, KEY, "jobs", "get", JOB_ID, *flags)
    assert code == 3 and "rid-***" in shown
    # in a successful answer printed as is
    odd = job_json(workflow_name=f"wf {KEY}", created_at=f"not a date {KEY}")
    server.script(JOBS + JOB_ID, Reply(200, json=odd))
    code, fine = cli(monkeypatch, server, KEY, "jobs", "get", JOB_ID, *flags)
    assert code == 0 and "not a date ***" in fine
    for text in (out, shown, fine):
        assert KEY not in text
        assert KEY.replace("-", "%2D") not in text


def test_a_short_key_hides_only_whole_words(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.script(JOBS, Reply(200, json=[job_json(workflow_name="k test dagkit-k k.")]))
    code, out = cli(monkeypatch, server, "k", "jobs", "list", "--json")
    assert code == 0
    assert '"workflow_name": "*** test dagkit-k ***."' in out
    assert "dag***it" not in out and "dagkit" in out


def test_redaction_rules() -> None:
    from dagkit.http.redact import WHOLE_TOKEN_BELOW, redact, redact_value, register

    long_key, short_key = "Zx8-long-secret-Qw7e", "test"
    assert len(long_key) >= WHOLE_TOKEN_BELOW > len(short_key)
    register(long_key)
    register(short_key)
    register("")  # nothing to hide
    register(None)
    cases = {
        f"key={long_key}": "key=***",
        f"glued{long_key}glued": "glued***glued",  # a real key is hidden wherever it is
        f'"{long_key}"': '"***"',
        "run the test suite": "run the *** suite",
        "tests/test_x.py, latest, testing, test-suite, my_test": (
            "tests/test_x.py, latest, testing, test-suite, my_test"
        ),
        "(test)": "(***)",
        "": "",
    }
    for text, hidden in cases.items():
        assert redact(text) == hidden, text
    assert redact_value({"a": [f"x {long_key}", (long_key, 1)], long_key: None}) == {
        "a": ["x ***", ("***", 1)],
        "***": None,
    }
    register('quo"te\\back-slash-0123')  # JSON-escaped and percent-encoded forms too
    assert redact('{"k": "quo\\"te\\\\back-slash-0123"}') == '{"k": "***"}'
    assert redact("quo%22te%5Cback-slash-0123") == "***"


def test_proxy_passwords_are_secrets(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import base64

    password = "pr0xy-Pa55-w0rd"
    token = base64.b64encode(f"alice:{password}".encode()).decode()
    proxy = f"http://alice:{password}@127.0.0.1:{server.port}"
    monkeypatch.setenv("http_proxy", proxy)
    echo = {"detail": f"bad proxy login {password} / Basic {token} for {proxy}"}
    answer = job_json(workflow_name=f"wf {password} {token}")
    server.script(
        "/api/v1/jobs/" + JOB_ID,
        Reply(407, json=echo),
        Reply(407, json=echo),
        Reply(200, json=answer),
    )
    monkeypatch.setenv("UNSTRUCTURED_API_URL", "http://api.dagkit-test.invalid")
    from click.testing import CliRunner

    from dagkit.cli import main

    for flags in ([], ["--json"]):
        result = CliRunner().invoke(
            main, ["jobs", "get", JOB_ID, "--api-key", KEY, "--allow-insecure-key", *flags]
        )
        out = result.stdout + result.stderr
        assert result.exit_code == 3 and "bad proxy login ***" in out, out
        assert password not in out and token not in out and KEY not in out
    result = CliRunner().invoke(
        main, ["jobs", "get", JOB_ID, "--api-key", KEY, "--allow-insecure-key", "--json"]
    )
    assert result.exit_code == 0 and '"workflow_name": "wf *** ***"' in result.stdout
    # it went through the proxy, which saw the credentials
    assert server.requests()[0].header("Proxy-Authorization") == f"Basic {token}"


def test_log_records_are_redacted(server: FaultServer, caplog: pytest.LogCaptureFixture) -> None:
    from dagkit.client.jobs import JobsClient

    caplog.set_level(logging.DEBUG, logger="dagkit")
    # the transport logs the URL (here with the key in a query), the client warns about the
    # answer (an unknown status, quoted)
    server.script(JOBS, Reply(200, json=[job_json(status=f"ODD{KEY}")]))
    client = JobsClient(url=server.url, api_key=KEY)
    client.list_jobs(workflow_id=KEY)
    assert "dagkit.http.transport" in {r.name for r in caplog.records}
    assert "dagkit.client.jobs" in {r.name for r in caplog.records}
    assert "***" in caplog.text and KEY not in caplog.text
    for record in caplog.records:
        assert KEY not in record.getMessage()


def test_reprs_hide_the_key() -> None:
    from dagkit.cli._common import ClientOptions
    from dagkit.client.jobs import JobsClient

    opts = ClientOptions(
        url="https://x", api_key=KEY, timeout=None, ca_bundle=None, validate=True, json=False,
        allow_insecure_key=False,
    )  # fmt: skip
    shown = [repr(opts), str(opts), repr(JobsClient(url="https://x", api_key=KEY))]
    shown.append(repr(Request("GET", "https://x/", {API_KEY_HEADER: KEY})))
    for text in shown:
        assert KEY not in text and "***" in text
    assert "api_key=None" in repr(opts.__class__(**{**vars(opts), "api_key": None}))


def test_the_resume_command_names_the_variable_not_the_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import shutil
    import subprocess

    from dagkit.cli.batch import _command

    args = ["batch", "dag.py", "my docs", "--api-key", KEY, "--out", "o"]
    for argv in (args, [*args[:3], f"--api-key={KEY}", *args[5:]]):
        monkeypatch.setattr(sys, "argv", ["/usr/bin/dagkit", *argv])
        command = _command()
        assert KEY not in command and "***" not in command
        assert '"$UNSTRUCTURED_API_KEY"' in command
        if shutil.which("bash") is None:
            continue
        # pasted into a shell with the variable set, it runs with the same arguments
        shell = command.replace("dagkit ", "printf '%s\\n' ", 1)
        done = subprocess.run(
            ["bash", "-c", shell],
            env={"UNSTRUCTURED_API_KEY": KEY, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        )
        assert done.stdout.splitlines() == argv


def test_redaction_edges() -> None:
    import base64
    import io

    from dagkit.http.redact import (
        WHOLE_TOKEN_BELOW,
        RedactingStream,
        redact,
        register,
        register_proxy_url,
    )

    at_limit = "L" * (WHOLE_TOKEN_BELOW - 1) + "1"
    below = "S" * (WHOLE_TOKEN_BELOW - 2) + "2"
    register(at_limit)
    register(below)
    assert redact(f"x{at_limit}x x{below}x {below}") == f"x***x x{below}x ***"
    # a secret that begins with another is hidden whole, not as the shorter one plus a tail
    register("Pfx-0123456789abcdef")
    register("Pfx-0123456789abcdef-and-more")
    assert redact("[Pfx-0123456789abcdef-and-more]") == "[***]"
    # a proxy URL's password as written and percent-decoded, and its Basic token
    register_proxy_url("http://bob:p%40ss-w0rd@proxy.example:3128")
    token = base64.b64encode(b"bob:p@ss-w0rd").decode()
    assert redact(f"p@ss-w0rd p%40ss-w0rd Basic {token}") == "*** *** Basic ***"
    register_proxy_url("http://proxy.example:3128")  # no credentials: nothing to hide
    register_proxy_url("http://dave@proxy.example:3128")  # a user without a password
    register_proxy_url(None)
    # the stream: every way of writing is redacted, and no binary side door is offered
    raw = io.BytesIO()
    sink = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    stream = RedactingStream(sink)
    stream.write(f"a {at_limit}\n")
    stream.writelines([f"b {at_limit}\n", "c\n"])
    assert raw.getvalue() == b"a ***\nb ***\nc\n"
    assert hasattr(sink, "buffer") and not hasattr(stream, "buffer")
    assert stream.wrapped is sink and stream.encoding == "utf-8"


def test_the_command_line_hides_the_environments_secrets_from_the_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dagkit.http.redact import RedactingStream, redact_output

    monkeypatch.setenv("UNSTRUCTURED_API_KEY", f" {KEY}\n")  # as pasted; the key is used stripped
    monkeypatch.setenv("HTTPS_PROXY", "http://carol:c4rol-Pr0xy-pw@proxy.example:3128")
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # restored after the test
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    redact_output()
    redact_output()  # idempotent: one wrapper
    assert isinstance(sys.stdout, RedactingStream)
    assert not isinstance(sys.stdout.wrapped, RedactingStream)
    print(f"{KEY} c4rol-Pr0xy-pw")
    print(KEY, file=sys.stderr)
    out, err = capsys.readouterr()
    assert out == "*** ***\n" and err == "***\n"


def test_errors_the_library_raises_hide_the_key(server: FaultServer) -> None:
    from dagkit.errors import NotFoundError

    echo = {"detail": [{"loc": ["path", KEY], "msg": f"no job for key {KEY}"}]}
    server.script(JOBS, Reply(404, json=echo, headers=(("x-request-id", f"r-{KEY}"),)))
    made = transport(server.url)
    with pytest.raises(NotFoundError) as caught:
        made.send(Request("GET", made.url("/jobs/")))
    error = caught.value
    assert error.request_id == "r-***"
    assert error.detail == [{"loc": ["path", "***"], "msg": "no job for key ***"}]
    assert KEY not in str(error) and KEY not in repr(error.args)


def test_redaction_registration_paths() -> None:
    """Each way a secret is learnt registers exactly what it should (mutation testing found
    these paths unchecked)."""
    import base64
    import io

    from dagkit.http import redact as r

    # a "/" in a key is hidden in its percent-encoded form too
    r.register("slash/in-the-key-0123")
    assert r.redact("k=slash%2Fin-the-key-0123") == "k=***"
    # a proxy given without a scheme, and one with a password but no user name
    r.register_proxy_url("carol:n0-scheme-pa55@proxy.example:3128")
    assert r.redact("n0-scheme-pa55") == "***"
    r.register_proxy_url("http://:only-pa55word@proxy.example:3128")
    token = base64.b64encode(b":only-pa55word").decode()
    assert r.redact(f"Basic {token}") == "Basic ***"
    # an explicit environment is the one read, and an unset variable registers nothing
    before = set(r._secrets)
    r.register_environment({})
    assert r._secrets == before
    r.register_environment({"UNSTRUCTURED_API_KEY": " env-key-from-mapping-01 "})
    assert r.redact("env-key-from-mapping-01") == "***"
    # the stream refuses its binary side door by name
    with pytest.raises(AttributeError, match="buffer"):
        _ = r.RedactingStream(io.StringIO()).buffer  # type: ignore[attr-defined]


def test_protected_logger_adds_its_filter_once() -> None:
    from dagkit.http.redact import protected_logger, register

    logger = protected_logger("dagkit.test-protected")
    assert logger is logging.getLogger("dagkit.test-protected")
    assert protected_logger("dagkit.test-protected") is logger
    assert len(logger.filters) == 1
    register("logged-secret-value-0123")
    record = logger.makeRecord(
        logger.name, logging.INFO, __file__, 1, "k=%s", ("logged-secret-value-0123",), None
    )
    assert all(f.filter(record) for f in logger.filters)  # type: ignore[union-attr]
    assert record.getMessage() == "k=***"


def test_the_refusal_says_why_and_advises_https() -> None:
    from dagkit.errors import AdviceKind

    with pytest.raises(DagkitError) as caught:
        Transport(base_url="http://example.com:8000", api_key=KEY)
    assert str(caught.value).startswith(
        "refusing to send the API key over plain http to example.com: anyone on the network "
        "could read it. Use an https:// URL"
    )
    assert [a.kind for a in caught.value.advice] == [AdviceKind.USE_HTTPS]
