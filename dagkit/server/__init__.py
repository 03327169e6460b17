"""The embedded jobs API: a faithful local stand-in for the platform's on-demand jobs.

Start it in a thread for tests (``with serve_in_thread() as server: ...server.url...``) or run
it in the foreground with :func:`serve` (what ``dagkit serve`` does). It serves every jobs and
templates operation, checks requests with the same validators as the client, runs jobs on a
configurable clock and keeps them in sqlite3 and files (in ``data_dir``, or a temporary
directory removed on stop).

This module is the server's face: :func:`serve`, :func:`serve_in_thread`, :class:`ServerConfig`,
:class:`RunningServer`, and :func:`parse_clock` / :func:`parse_fault` for the words a command
line gives. Code outside the server (the CLI included) uses these names only, never its
submodules.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from dagkit.core import limits
from dagkit.core.suggest import did_you_mean, shortlist
from dagkit.errors import DataDirError, StartupError
from dagkit.server.app import OPERATIONS, Handler, JobsAPI, ServerConfig
from dagkit.server.connections import BUSY_ANSWER, Connections
from dagkit.server.engine import ClockSpec, Engine, step_seconds
from dagkit.server.faults import ANY_OPERATION, FaultKind, Faults, parse_fault_spec
from dagkit.server.store import Store

__all__ = [
    "DEFAULT_PORT",
    "OPERATIONS",
    "ClockSpec",
    "RunningServer",
    "ServerConfig",
    "StartupError",
    "parse_clock",
    "parse_fault",
    "run_server",
    "serve",
    "serve_in_thread",
]


DEFAULT_PORT = 8765
#: Seconds a stopping server gives requests in progress to be answered before it closes them.
_STOP_GRACE = 2.0


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many clients connecting at once must not wait for SYN retries
    connections: Connections

    def process_request(self, request: Any, client_address: Any) -> None:
        """A thread for the connection if there is room (see :mod:`dagkit.server.connections`),
        else a 503 at once, without reading anything."""
        if self.connections.admit(request):
            super().process_request(request, client_address)
            return
        try:
            request.setblocking(False)
            request.send(BUSY_ANSWER)
        except OSError:
            pass
        self.shutdown_request(request)

    def shutdown_request(self, request: Any) -> None:
        self.connections.release(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line instead of the stdlib's traceback; a client that hung up is not news."""
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            print(f"dagkit serve: error serving {client_address}: {error!r}", file=sys.stderr)


class RunningServer:
    """A local jobs API serving on ``url`` until :meth:`stop` (or the end of a ``with``)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        data_dir: str | os.PathLike[str] | None = None,
        config: ServerConfig | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config or ServerConfig()
        step_seconds(self.config.clock)  # a bad clock fails here, before anything starts
        self._temp = None if data_dir is not None else tempfile.mkdtemp(prefix="dagkit-serve-")
        self.data_dir = Path(data_dir if data_dir is not None else self._temp or "")
        try:
            self.store = Store(self.data_dir)
        except DataDirError as exc:
            self._remove_temp()
            raise StartupError(str(exc)) from None
        self.engine = Engine(
            self.store, clock=self.config.clock, max_running=self.config.max_running
        )
        self.faults = Faults(OPERATIONS)
        self._stopping = threading.Event()
        self.api = JobsAPI(
            self.store, self.engine, self.config, self.faults, stopping=self._stopping, log=log
        )
        handler = type("BoundHandler", (Handler,), {"api": self.api})
        try:
            self._httpd = _HTTPServer((host, port), handler)
            self._httpd.connections = Connections(self.config.max_connections)
        except OSError as exc:
            self._cleanup()
            reason = exc.strerror or str(exc)
            raise StartupError(f"cannot listen on {host}:{port}: {reason}") from None
        self._thread: threading.Thread | None = None
        self._stopped = False

    # -- where it is

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The origin to point a client at, e.g. ``http://127.0.0.1:43123``."""
        host = self.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    # -- what happened (for tests)

    @property
    def jobs_created(self) -> int:
        """Jobs this server has created since it started."""
        return self.api.jobs_created

    @property
    def connections(self) -> Connections:
        """The open connections (``len()``), and how many were closed or refused for room."""
        return self._httpd.connections

    def requests(self, operation: str | None = None) -> int:
        """How many requests reached ``operation`` (e.g. ``"create_job"``), or any operation."""
        return self.api.count(operation)

    def step(self, count: int = 1) -> None:
        """Advance the job clock ``count`` steps (for the ``"manual"`` clock)."""
        for _ in range(count):
            self.engine.step()

    def fail_next_jobs(self, count: int = 1) -> None:
        """Make the next ``count`` running jobs end FAILED."""
        self.engine.fail_next(count)

    # -- running

    def start(self) -> RunningServer:
        """Serve in a background thread."""
        if self._thread is None:
            self.engine.start()
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.02},
                name="dagkit-serve",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, stop the clock, close the store; remove the data if it was temporary."""
        if self._stopped:
            return
        self._stopped = True
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.connections.close(grace=_STOP_GRACE)
        self._httpd.server_close()
        self.engine.stop()
        self._cleanup()

    def _cleanup(self) -> None:
        self.store.close()
        self._remove_temp()

    def _remove_temp(self) -> None:
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)

    def __enter__(self) -> RunningServer:
        return self.start() if self._thread is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<RunningServer {self.url} data_dir={str(self.data_dir)!r}>"


def serve_in_thread(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    data_dir: str | os.PathLike[str] | None = None,
    api_key: str | None = None,
    rate_limit: bool = True,
    max_running: int = limits.MAX_RUNNING_JOBS,
    clock: ClockSpec | str = "realtime",
    max_file_size: int = limits.MAX_FILE_SIZE,
    log: Callable[[str], None] | None = None,
    rewrite: Callable[[str, Any], Any] | None = None,
) -> RunningServer:
    """Start a local jobs API in a background thread and return it (already serving).

    ``port=0`` picks a free port (read ``.url``). ``api_key=None`` accepts any non-empty key.
    ``clock`` is ``"realtime"`` (a step per second), ``"instant"`` (jobs finish inside the
    create-job request), ``"manual"`` (only :meth:`RunningServer.step`) or seconds per step.
    ``rewrite(operation, body)`` (tests only) returns the JSON body sent for a successful answer.
    Raises :class:`StartupError` when the data directory or the address cannot be used.
    """
    config = ServerConfig(
        api_key=api_key,
        rate_limit=rate_limit,
        max_running=max_running,
        clock=clock,
        max_file_size=max_file_size,
        rewrite=rewrite,
    )
    return RunningServer(host=host, port=port, data_dir=data_dir, config=config, log=log).start()


def parse_clock(value: str) -> ClockSpec:
    """A job clock as a command line spells it: ``realtime``, ``instant``, ``manual`` or
    seconds per step (``0.5``). Raises ``ValueError`` saying what is wrong."""
    step_seconds(value)
    if value in ("realtime", "instant", "manual"):
        return value  # type: ignore[return-value]  # one of the names, checked just above
    return float(value)


def parse_fault(spec: str) -> tuple[str, FaultKind, int]:
    """A fault as a command line spells it, ``OP:KIND[:N]`` -> (operation, kind, count), the
    operation one the server serves (or ``*``). Raises ``ValueError`` naming the closest
    operation when it is not."""
    operation, kind, count = parse_fault_spec(spec)
    if operation not in OPERATIONS and operation != ANY_OPERATION:
        known = [*OPERATIONS, ANY_OPERATION]
        hint = did_you_mean(operation, known) or f"use one of {shortlist(known)}"
        raise ValueError(f"{spec!r}: unknown operation; {hint}")
    return operation, kind, count


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    data_dir: str | os.PathLike[str] | None = None,
    config: ServerConfig | None = None,
    faults: Sequence[tuple[str, str, int]] = (),
    announce: Callable[[str], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> None:
    """Serve in the foreground until Ctrl-C or SIGTERM, then shut down cleanly.

    ``faults`` are (operation, kind, count) as :func:`parse_fault` reads them; ``announce`` is
    called with the URL once the server listens. Raises :class:`StartupError` when the data
    directory or the address cannot be used.
    """
    server = RunningServer(host=host, port=port, data_dir=data_dir, config=config, log=log)
    for operation, kind, count in faults:
        server.faults.inject(operation, kind, count)
    stop = threading.Event()
    previous = _on_signals(lambda *_: stop.set())
    server.start()
    try:
        (announce or _print)(server.url)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        server.stop()


#: The name :func:`serve` had first.
run_server = serve


def _on_signals(handler: Callable[[int, Any], None]) -> dict[int, Any]:
    """Route Ctrl-C and SIGTERM to ``handler`` (main thread only); the handlers replaced."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}


def _print(url: str) -> None:
    print(f"dagkit serve: listening on {url}", file=sys.stdout, flush=True)
