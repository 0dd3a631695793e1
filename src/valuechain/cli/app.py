"""The Typer application and what every command shares: opening the organisation,
printing JSON, turning user errors into messages."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from valuechain.services.organisation import Valuechain

app = typer.Typer(
    name="valuechain",
    help="Internal customer service along the value chain. "
    "The database is VALUECHAIN_DATABASE_URL (default: ./valuechain.db); "
    "the organisation is VALUECHAIN_ORGANISATION (default: 'default').",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="markdown",
)

console = Console()
err_console = Console(stderr=True)


@app.callback()
def check_settings() -> None:
    """Before any command runs: every ``VALUECHAIN_*`` variable must hold a usable
    value, else one line names the first bad ones and the command exits with 2."""
    # Imported here: pydantic is not needed for `valuechain --help`.
    from valuechain.settings import SettingsError, settings

    try:
        settings()
    except SettingsError as error:
        err_console.print(f"[red]Error:[/] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def open_valuechain(url: str | None = None, *, create: bool = False) -> Valuechain:
    """The organisation VALUECHAIN_ORGANISATION names, in the database at ``url``
    (default: VALUECHAIN_DATABASE_URL, else ./valuechain.db). Only with ``create`` (a
    command that makes them on purpose) are a missing database and organisation made;
    otherwise they are a one-line error."""
    # Imported here: the services load NumPy, SQLAlchemy and the store, which
    # `valuechain --help` and a mistyped option never need.
    from valuechain.services.organisation import Valuechain
    from valuechain.settings import settings

    return Valuechain.open(url, organisation=settings().organisation, create=create)


def print_json(document: Any) -> None:
    """Exactly one JSON document on stdout: indented for a person at a terminal,
    compact for a program reading a pipe (the C encoder; an indented dump runs in
    pure Python, a second for the 75,000 cells of a big organisation)."""
    indent = 2 if sys.stdout.isatty() else None
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=indent) + "\n")
