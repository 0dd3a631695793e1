"""Console entry point: registers every command module and turns user errors into
messages with a non-zero exit code.

Importing this module must stay cheap, because every command and ``--help`` pays
for it: the command modules import typer, rich and the domain's enums at module level
and everything else (the services, hence NumPy, SQLAlchemy, SciPy; the web app, the
queue, the report renderer) inside the commands that run it.
``tests/test_cli_startup.py`` checks the heavy libraries stay out.
"""

from __future__ import annotations

import sys

# Importing a command module registers its commands on the app.
from valuechain.cli import account as _account  # noqa: F401
from valuechain.cli import agreement as _agreement  # noqa: F401
from valuechain.cli import backup as _backup  # noqa: F401
from valuechain.cli import bundle as _bundle  # noqa: F401
from valuechain.cli import campaign as _campaign  # noqa: F401
from valuechain.cli import change as _change  # noqa: F401
from valuechain.cli import connect as _connect  # noqa: F401
from valuechain.cli import flow as _flow  # noqa: F401
from valuechain.cli import map as _map  # noqa: F401
from valuechain.cli import measure as _measure  # noqa: F401
from valuechain.cli import notify as _notify  # noqa: F401
from valuechain.cli import partner as _partner  # noqa: F401
from valuechain.cli import person as _person  # noqa: F401
from valuechain.cli import report as _report  # noqa: F401
from valuechain.cli import request as _request  # noqa: F401
from valuechain.cli import retention as _retention  # noqa: F401
from valuechain.cli import server as _server  # noqa: F401
from valuechain.cli import sla as _sla  # noqa: F401
from valuechain.cli import unit as _unit  # noqa: F401
from valuechain.cli import worker as _worker  # noqa: F401
from valuechain.cli.app import app, err_console
from valuechain.services.errors import ValuechainError


def main() -> None:
    """Run the CLI; a :class:`ValuechainError` becomes a one-line message, exit 2."""
    try:
        app()
    except ValuechainError as error:
        err_console.print(f"[red]Error:[/] {error}", highlight=False, soft_wrap=True)
        sys.exit(2)


__all__ = ["app", "main"]
