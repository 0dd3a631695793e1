"""`valuechain customers` and `valuechain map`: who depends on whose work."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from valuechain.cli.app import app, console, open_valuechain, print_json
from valuechain.cli.tables import Table

if TYPE_CHECKING:
    from valuechain.services.organisation import Valuechain


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
    vc = open_valuechain()
    if as_json:
        if sys.stdout.isatty():
            print_json(vc.overview())
        else:
            stream_map(vc, sys.stdout)
        return
    overview = vc.overview()
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


def _items(out: IO[str], items: Iterator[dict[str, Any]]) -> None:
    """Writes ``items`` as the body of a JSON array, one encoded item at a time."""
    for i, item in enumerate(items):
        if i:
            out.write(", ")
        out.write(json.dumps(item, ensure_ascii=False))


def stream_map(vc: Valuechain, out: IO[str]) -> None:
    """Writes the ``valuechain map --json`` document to ``out`` unit by unit, result
    by result and link by link, byte for byte what ``json.dumps`` of the whole
    :meth:`Valuechain.overview` gives, so peak memory is the map's columns and one
    item rather than the whole document (4.2 GB at 100,000 units before). One unit
    of work, so the three lists come from one map version."""
    from valuechain.services.transaction import reading

    with reading(vc):
        out.write('{"units": [')
        _items(out, vc.iter_unit_summaries())
        out.write('], "results": [')
        _items(out, vc.iter_map_results())
        out.write('], "links": [')
        _items(out, vc.iter_map_links())
        out.write("]}\n")
