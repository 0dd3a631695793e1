"""`valuechain serve` and `valuechain demo`: the web app and JSON API in one process."""

from __future__ import annotations

import errno
import threading
import time
import webbrowser
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from valuechain.cli.app import app, console, err_console

if TYPE_CHECKING:
    from valuechain.services.organisation import Valuechain


class LogFormat(StrEnum):
    """How the server writes its log lines (web/logs.py); the same names as there,
    restated so that `--help` does not import the web app."""

    TEXT = "text"
    JSON = "json"


DEMO_DATABASE = "valuechain-demo.db"
# The demo's mail folder when no mail server is configured (services/mail, file://).
DEMO_OUTBOX = "valuechain-demo-mail"
# Seconds a serving process may take to answer the supervisor's health check.
WORKER_HEALTHCHECK_S = 60
# Seconds an idle keep-alive connection stays open. Longer than the idle timeout of
# the clients and proxies in front (nginx keeps upstream connections 60 s): a server
# that closes first races the client's next request on that connection, which then
# fails with "connection reset" (uvicorn's default is 5 s; seen in the load test).
KEEP_ALIVE_S = 65

Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[
    int,
    typer.Option(min=1, max=65535, help="Port to listen on; a port in use is refused in one line."),
]


def _shown(host: str) -> str:
    """The address a browser on this machine uses for a server listening on ``host``."""
    return "127.0.0.1" if host in ("0.0.0.0", "::") else host


def _refuse_busy_port(host: str, port: int) -> None:
    """Exit 2 with one line when ``host:port`` cannot be listened on (another server
    has it, or the address is not this machine's), before anything is served."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: a port only in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            why = "is in use" if error.errno == errno.EADDRINUSE else f"cannot be used ({error})"
            err_console.print(
                f"[red]Error:[/] port {port} on {host} {why}: stop the other server, or "
                f"choose another port with --port {port + 1 if port < 65535 else 8000}.",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(2) from None


LogFormatOption = Annotated[
    LogFormat,
    typer.Option(
        "--log-format",
        help="Log lines as text (for a terminal) or one JSON object each (for a log "
        "collector); either way with the request id.",
    ),
]


def _log_config(log_format: LogFormat) -> dict[str, Any]:
    """uvicorn's logging configuration for ``log_format``."""
    from valuechain.web import logs  # with the web app: imported when serving

    return logs.log_config(logs.LogFormat(log_format.value))


def _run(
    vc: Valuechain,
    host: str,
    port: int,
    *,
    open_browser: bool = False,
    demo_account_id: str | None = None,
    log_format: LogFormat = LogFormat.TEXT,
) -> None:
    """Serve ``vc`` until interrupted; print the address once the server listens."""
    # Imported here: the web app, uvicorn and SSO cost about a second to import and
    # every other command starts without them.
    import uvicorn

    from valuechain.services.sso import SsoSettings
    from valuechain.web.app import create_app

    _refuse_busy_port(host, port)
    web_app = create_app(vc, demo_account_id=demo_account_id, sso=SsoSettings.from_environment())
    server = uvicorn.Server(
        uvicorn.Config(
            web_app,
            host=host,
            port=port,
            log_level="info",
            log_config=_log_config(log_format),
            timeout_keep_alive=KEEP_ALIVE_S,
        )
    )
    url = f"http://{_shown(host)}:{port}/"

    def announce() -> None:
        # Wait for the socket so the printed link and the browser never hit a closed port.
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            console.print(f"Valuechain is running at [bold]{url}[/] (Ctrl+C stops it)")
            if open_browser:
                webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    server.run()


@app.command()
def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Worker processes sharing the port (PostgreSQL; SQLite serves best with 1).",
        ),
    ] = 1,
    log_format: LogFormatOption = LogFormat.TEXT,
) -> None:
    """Serve the web app and the JSON API (/api/v1, schema at /openapi.json, docs at
    /docs) for the organisation in VALUECHAIN_DATABASE_URL. Everything needs an
    account; on first run the web app asks for the first admin at /setup."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services.accounts import needs_setup
    from valuechain.services.organisation import Valuechain
    from valuechain.settings import settings

    configured = settings()
    vc = Valuechain.serve(configured.database_url, organisation=configured.organisation)
    if needs_setup(vc):
        console.print(
            "This organisation has no account yet: open /setup in the browser to create "
            "the first admin, or run `valuechain account create EMAIL --role admin`."
        )
    if workers > 1:
        import uvicorn  # here, not at module level: only serving needs it (slow import)

        # Each process builds its own app from the environment (web/asgi.py). A new
        # process imports the whole package before it can answer uvicorn's health
        # check; on a busy machine that takes longer than uvicorn's 5 s default, and
        # the supervisor killed and restarted every process forever (load test).
        _refuse_busy_port(host, port)
        console.print(f"Valuechain is starting {workers} workers on http://{host}:{port}/")
        uvicorn.run(
            "valuechain.web.asgi:create",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
            timeout_keep_alive=KEEP_ALIVE_S,
            log_config=_log_config(log_format),
        )
        return
    _run(vc, host, port, log_format=log_format)


DEMO_HELP = (
    "Open a realistic demo organisation in the web app and print its address.\n\n"
    "The demo signs every visitor in as its admin, so it lives in a database of its "
    f"own: ./{DEMO_DATABASE} in the working folder, unless VALUECHAIN_DATABASE_URL names "
    "another one, which must be empty or made by the demo: a database holding anything "
    "else is refused and left untouched. The demo is written on first run; later runs "
    "reopen it unchanged. `valuechain serve` on the demo's database signs nobody in "
    "automatically."
)


@app.command(help=DEMO_HELP)
def demo(
    port: Port = 8000,
    host: Host = "127.0.0.1",
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open a web browser.")
    ] = False,
) -> None:
    """Write the demo organisation once (see ``DEMO_HELP``), then serve it."""
    # Imported here: the demo data builders are only needed by this command.
    from valuechain.services.demo import ensure_demo_admin, open_demo
    from valuechain.settings import set_for_process, settings

    _refuse_busy_port(host, port)  # before a minute of writing the demo, not after
    configured = settings()
    # The demo's own file unless the variable names a database (not its default).
    if "database_url" in configured.model_fields_set:
        url = configured.database_url
    else:
        url = f"sqlite:///{Path(DEMO_DATABASE).resolve()}"
    # Refuses (NotADemoDatabase: one line, exit 2) before writing anything.
    vc, written = open_demo(url)
    shown = vc.engine.url.render_as_string(hide_password=True)
    if written:
        counts = vc.counts()
        console.print(
            f"Wrote the demo organisation ({counts.get('units', 0)} units, "
            f"{counts.get('results', 0)} results, {counts.get('links', 0)} links) to {shown}"
        )
    else:
        console.print(f"Opened the demo organisation in {shown}")
    admin = ensure_demo_admin(vc)
    console.print(
        f"You are signed in automatically as the demo admin, {admin.name} ({admin.email})."
    )
    if configured.smtp_url is None:
        # No mail server: the demo's mail goes to a folder its outbox page shows, so
        # a campaign can be answered from the links it would have mailed.
        outbox = Path(DEMO_OUTBOX).resolve()
        set_for_process(smtp_url=outbox.as_uri())
        console.print(f"No mail server: mail is written to {outbox} and shown at /demo/outbox.")
    if "base_url" not in configured.model_fields_set:
        # The survey links in the mail point at this server.
        set_for_process(base_url=f"http://{_shown(host)}:{port}")
    _run(vc, host, port, open_browser=not no_browser, demo_account_id=admin.id)
