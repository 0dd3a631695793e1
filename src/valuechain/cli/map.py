"""`valuechain customers` and `valuechain map`: who depends on whose work."""

from __future__ import annotations

from typing import Annotated

import typer

from valuechain.cli.app import app, console, open_valuechain, print_json
from valuechain.cli.tables import Table


@app.command()
def customers(
    unit: Annotated[str, typer.Argument(help="The unit's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Direct and indirect customers of UNIT, the external customers it reaches, and
    its results with no path to any external customer."""
    found = open_valuechain().customers(unit)
    if as_json:
        print_json(found)
        return
    depth = found["depth"]
    console.print(
        f"[bold]{found['name']}[/] ({found['unit']}) — "
        + (
            f"{depth} step(s) from the external customer"
            if depth is not None
            else "no path to an external customer"
        )
    )
    direct = Table(title="Direct customers", title_justify="left")
    for col in ("unit", "name", "relations", "results"):
        direct.add_column(col)
    for row in found["direct"]:
        direct.add_row(
            row["unit"], row["name"], ", ".join(row["relations"]), ", ".join(row["results"])
        )
    console.print(direct)
    indirect = Table(title="Indirect customers", title_justify="left")
    for col in ("unit", "name", "via"):
        indirect.add_column(col)
    for row in found["indirect"]:
        indirect.add_row(row["unit"], row["name"], " → ".join(row["via"]))
    console.print(indirect)
    console.print("External customers reached: " + (", ".join(found["external"]) or "none"))
    if found["orphan_results"]:
        console.print(
            "[yellow]Orphan results[/] (no path to an external customer): "
            + ", ".join(found["orphan_results"])
        )


@app.command("map")
def map_(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """The whole organisation map with derived facts per unit."""
    overview = open_valuechain().overview()
    if as_json:
        print_json(overview)
        return
    table = Table(title="Organisation map", title_justify="left")
    for col, justify in (
        ("unit", "left"),
        ("name", "left"),
        ("kind", "left"),
        ("direct", "right"),
        ("external reached", "right"),
        ("depth", "right"),
        ("orphan results", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for u in overview["units"]:
        table.add_row(
            u["id"],
            u["name"],
            u["kind"],
            str(len(u["direct"])),
            str(len(u["external"])),
            "—" if u["depth"] is None else str(u["depth"]),
            ", ".join(u["orphan_results"]),
        )
    console.print(table)
