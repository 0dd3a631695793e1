"""`valuechain connect`: each internal relationship's line of sight to the external
customers and whether its scores move with their outcomes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from valuechain.cli.app import app, console, open_valuechain, print_json
from valuechain.cli.tables import Table

if TYPE_CHECKING:  # the CLI imports services only when a command runs
    from valuechain.services.connect_types import ConnectOut, OverTime


@app.command()
def connect(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    unit: Annotated[
        str | None,
        typer.Option("--unit", metavar="UNIT", help="Only UNIT's relationships, with paths."),
    ] = None,
) -> None:
    """Line of sight of every internal relationship to the external customers, the
    units with internal focus, and per outcome metric the correlation of the
    relationship's scores with its external customers' outcomes (with its 95% CI
    and n; "too few periods" below the stated minimum)."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services.connect import connect as connect_of

    doc = connect_of(open_valuechain(), unit)
    if as_json:
        print_json(doc)
        return
    _print(doc)


@app.command()
def lineofsight(
    unit: Annotated[str, typer.Argument(help="The provider unit's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """UNIT's line of sight: the same as `valuechain connect --unit UNIT`."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services.connect import connect as connect_of

    doc = connect_of(open_valuechain(), unit)
    if as_json:
        print_json(doc)
        return
    _print(doc)


def _r(t: OverTime) -> str:
    if t["r"] is None:
        return f"— ({t['reason']})"
    return f"{t['r']:+.2f} [{t['ci_low']:+.2f}, {t['ci_high']:+.2f}] n={t['n']}"


def _print(doc: ConnectOut) -> None:
    table = Table(title="Line of sight of internal relationships", title_justify="left")
    for col in ("provider", "result", "customer", "steps", "serves", "over time"):
        table.add_column(col)
    for row in doc["relationships"]:
        over = [f"{t['metric']} {_r(t)}" for t in row.get("over_time") or [] if t["n"]]
        table.add_row(
            row["provider"],
            row["result"],
            row["customer"],
            str(row["length"]) if row["length"] is not None else "—",
            ", ".join(row["external"]) if row["external"] else "[red]no external customer[/]",
            "\n".join(over),
        )
    console.print(table)
    for f in doc["internal_focus"]:
        console.print(f"[red]internal focus[/] {f['name']} ({f['unit']}): {f['reason']}")
    for row in doc["relationships"]:
        for p in row.get("paths") or []:
            console.print(f"  {row['result']}: " + " → ".join(p["path"]))
    # An assessed entitlement has flags and no note.
    entitlement = doc["entitlement"]
    flagged = f"{len(entitlement['flags'])} internal target(s) stricter than needed"
    console.print(f"Entitlement: {entitlement.get('note') or flagged}.")
    console.print(f"[bold]{doc['summary']}[/]")
