"""`valuechain import` and `valuechain export`: the Map capability's data bundle."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from valuechain.cli.app import app, console, err_console, open_valuechain
from valuechain.cli.tables import Table
from valuechain.domain.bundle_schema import TABLES

if TYPE_CHECKING:
    from valuechain.services.bundle import BundleError, ImportSummary


# SQLite's companions of a database file in WAL mode.
WAL = ("-wal", "-shm", "-journal")


@app.command("import")
def import_(
    path: Annotated[
        Path,
        typer.Argument(help="A folder of CSV files or an .xlsx workbook (see docs/bundle.md)."),
    ],
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Replace the whole organisation with the bundle (default: update by id, "
            "add new rows, remove nothing).",
        ),
    ] = False,
) -> None:
    """Import a data bundle, all or nothing: a bad bundle changes nothing and every
    problem is listed with its file, line and column."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services.audit import Actor
    from valuechain.services.bundle import DATABASE_STEP, BundleError, import_bundle
    from valuechain.store.database import sqlite_file

    # An import may start a new database; one that fails must not leave it behind.
    file = sqlite_file()
    new_file = file if file is not None and not file.exists() else None
    vc = open_valuechain(create=True)  # an import may start a new organisation
    bars = Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        # Only a terminal gets a live bar; pipes and tests get the summary alone.
        disable=not err_console.is_terminal,
    )
    tasks: dict[str, TaskID] = {}

    def progress(step: str, done: int, total: int) -> None:
        if step not in tasks:
            label = "writing" if step == DATABASE_STEP else step
            tasks[step] = bars.add_task(label, total=total or None)
        bars.update(tasks[step], completed=done, total=total or None)

    try:
        with bars:
            summary = import_bundle(
                vc, path, replace=replace, progress=progress, actor=Actor.command_line()
            )
    except BundleError as error:
        _print_problems(error)
        if new_file is not None:
            vc.engine.dispose()
            for leftover in (new_file, *(new_file.with_name(new_file.name + s) for s in WAL)):
                leftover.unlink(missing_ok=True)
        raise typer.Exit(2) from None
    _print_summary(path, summary, vc.organisation)


def _print_problems(error: BundleError) -> None:
    total = len(error.problems) + error.more_problems
    err_console.print(
        f"[red]Error:[/] the bundle was not imported; nothing was changed. "
        f"{total} problem{'s' if total != 1 else ''}:",
        highlight=False,
    )
    for problem in error.problems:
        err_console.print(f"  {problem}", highlight=False, markup=False, soft_wrap=True)
    if error.more_problems:
        err_console.print(f"  … and {error.more_problems} more", highlight=False)


def _print_summary(path: Path, summary: ImportSummary, organisation: str) -> None:
    how = "replacing the whole organisation" if summary.replaced_organisation else "by id"
    console.print(
        f"Imported {path} into organisation '{organisation}' ({how}).",
        highlight=False,
        soft_wrap=True,
    )
    table = Table(title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("updated", justify="right")
    table.add_column("added", justify="right")
    for name in TABLES:
        rows = summary.rows[name]
        updated = summary.updated[name]
        table.add_row(
            name,
            str(rows),
            "—" if updated is None else str(updated),
            "—" if updated is None else str(rows - updated),
        )
    console.print(table)


@app.command("export")
def export(
    path: Annotated[
        Path,
        typer.Argument(help="A folder for the CSV files, or a file name ending in .xlsx."),
    ],
) -> None:
    """Export the organisation's map as a data bundle that `valuechain import` reads back."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services.audit import Actor
    from valuechain.services.bundle import export_bundle

    counts = export_bundle(open_valuechain(), path, actor=Actor.command_line())
    console.print(
        f"Exported {counts['units']} units, {counts['results']} results, "
        f"{counts['links']} links and {counts['people']} people to {path}.",
        highlight=False,
        soft_wrap=True,
    )
