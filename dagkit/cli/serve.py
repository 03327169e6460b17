"""``dagkit serve``: run the embedded local jobs API in the foreground."""

from __future__ import annotations

import sys

import click

from dagkit.cli._options import examples, limit_options, max_file_size


def _clock(ctx: click.Context, param: click.Parameter, value: str) -> str | float:
    # lazy: the server package loads when the command runs, not for --help
    from dagkit.server import parse_clock

    try:
        return parse_clock(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _faults(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> list[tuple[str, str, int]]:
    # lazy: the server package loads when the command runs, not for --help
    from dagkit.server import parse_fault

    try:
        return [parse_fault(spec) for spec in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command(
    epilog=examples(
        "dagkit serve",
        "dagkit serve --port 8765 --data-dir serve-data/ --clock instant",
        "dagkit serve --fault create_job:503:2 --quiet",
    )
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, writable=True),
    help="Keep jobs, inputs and outputs here (sqlite3 + files); default: a temporary directory.",
)
@click.option(
    "--api-key",
    envvar="DAGKIT_SERVE_API_KEY",
    help="Accept only this key (env DAGKIT_SERVE_API_KEY); default: any non-empty key.",
)
@click.option("--no-rate-limit", is_flag=True, help="Allow launches closer than 1 s apart.")
@click.option(
    "--max-running", default=5, show_default=True, type=click.IntRange(1), help="Jobs run at once."
)
@click.option(
    "--clock",
    default="realtime",
    show_default=True,
    callback=_clock,
    help="realtime (a step per second), instant, manual, or seconds per step.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    callback=_faults,
    metavar="OP:KIND[:N]",
    help="Make the next N requests to OP fail: KIND is 429, 500, 503, stall or drop.",
)
@click.option(
    "--max-connections",
    default=256,
    show_default=True,
    type=click.IntRange(1),
    help="Connections open at once; a client slow to send its request gives way to a new one.",
)
@click.option(
    "--header-timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds for a request head to arrive.",
)
@click.option(
    "--body-timeout",
    default=300.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds for a whole request body to arrive.",
)
@limit_options
@click.option("--quiet", "-q", is_flag=True, help="Do not log each request to stderr.")
def serve(
    host: str,
    port: int,
    data_dir: str | None,
    api_key: str | None,
    no_rate_limit: bool,
    max_running: int,
    clock: str | float,
    faults: list[tuple[str, str, int]],
    max_connections: int,
    header_timeout: float,
    body_timeout: float,
    quiet: bool,
) -> None:
    """Run the local jobs API until Ctrl-C.

    It serves every jobs and templates operation at http://HOST:PORT, checks requests with the
    same validators as the client, and runs jobs on a local partitioner, chunker and embedder.
    """
    # lazy: the server package loads when the command runs, not for --help
    from dagkit import server

    config = server.ServerConfig(
        api_key=api_key or None,
        rate_limit=not no_rate_limit,
        max_running=max_running,
        clock=clock,
        max_connections=max_connections,
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        max_file_size=max_file_size(),
    )
    # lazy: the HTTP stack loads when the command runs, not for --help
    from dagkit.http.transport import is_loopback

    if not is_loopback(host):
        click.echo(
            f"dagkit serve: warning: listening on {host} makes this unencrypted server "
            "reachable from other machines",
            err=True,
        )

    def announce(url: str) -> None:
        where = data_dir or "a temporary directory (removed on exit)"
        click.echo(f"dagkit serve: listening on {url}")
        click.echo(f"dagkit serve: jobs are kept in {where}")
        click.echo(f"dagkit serve: try UNSTRUCTURED_API_URL={url} (Ctrl-C stops)")
        sys.stdout.flush()

    def log(line: str) -> None:
        click.echo(f"dagkit serve: {line}", err=True)

    try:
        server.serve(
            host=host,
            port=port,
            data_dir=data_dir,
            config=config,
            faults=faults,
            announce=announce,
            log=None if quiet else log,
        )
    except server.StartupError as exc:
        click.echo(f"dagkit serve: {exc}", err=True)
        sys.exit(3)
