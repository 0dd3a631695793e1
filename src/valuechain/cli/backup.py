"""`valuechain backup` and `valuechain restore`: a consistent copy of the whole
database, and putting one back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from valuechain.cli.app import app, console, open_valuechain


@app.command()
def backup(
    path: Annotated[Path, typer.Argument(help="A new file for the backup.")],
) -> None:
    """Write a consistent copy of the whole database (every organisation) to PATH while
    the app keeps running: SQLite's online backup API, or pg_dump for PostgreSQL."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services.backup import backup as backup_database

    result = backup_database(open_valuechain(), path)
    console.print(
        f"Backed up the {result.backend} database to {result.path} ({result.bytes:,} bytes)."
    )


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(help="A file written by `valuechain backup`.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask; replace the database at once.")
    ] = False,
) -> None:
    """Replace the whole database (every organisation in it) with the backup at PATH.
    Stop the app processes first."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services.backup import restore as restore_database

    if not yes:
        typer.confirm(
            "This replaces every organisation in the database with the backup. Go on?",
            abort=True,
        )
    # A restore makes the database on purpose: it replaces whatever is there.
    restore_database(open_valuechain(create=True), path)
    console.print(f"Restored the database from {path}.")
