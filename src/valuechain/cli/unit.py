"""`valuechain unit add|change|remove`: one unit of the map from the command line, by
the same use cases and rules as the API (docs/map.md, "Changing units and people
through the API")."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from valuechain.cli.app import app, console, open_valuechain, print_json
from valuechain.domain.unit import UnitKind

unit_app = typer.Typer(
    help="Add, change or remove one unit of the map (checked as a row of units.csv).",
    no_args_is_help=True,
)
app.add_typer(unit_app, name="unit")

ID_HELP = "The unit's id (units.csv)."
JSON = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
PARENT_HELP = "The id of the unit it belongs to; an empty value for none."


def _show(verb: str, unit: Any, as_json: bool) -> None:
    if as_json:
        print_json(unit)
        return
    parent = f", part of {unit['parent_id']}" if unit["parent_id"] else ""
    people = f", {unit['headcount']} people" if unit["headcount"] is not None else ""
    console.print(
        f"{verb} {unit['id']}: {unit['name']} ({unit['kind']}{parent}{people}).",
        highlight=False,
    )


@unit_app.command("add")
def add(
    unit_id: Annotated[str, typer.Argument(metavar="ID", help=ID_HELP)],
    name: Annotated[str, typer.Option("--name", help="The unit's name.")],
    kind: Annotated[UnitKind, typer.Option("--kind", help="What the unit is.")],
    parent: Annotated[str | None, typer.Option("--parent", help=PARENT_HELP)] = None,
    headcount: Annotated[
        int | None, typer.Option("--headcount", help="People in the unit.")
    ] = None,
    as_json: JSON = False,
) -> None:
    """Add a unit; refused when the id is taken or the row breaks an import rule."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import map_structure
    from valuechain.services.audit import Actor

    row = {"id": unit_id, "name": name, "kind": kind.value, "parent_id": parent,
           "headcount": headcount}  # fmt: skip
    unit = map_structure.create_unit(open_valuechain(), row, Actor.command_line())
    _show("Added", unit, as_json)


@unit_app.command("change")
def change(
    unit_id: Annotated[str, typer.Argument(metavar="ID", help=ID_HELP)],
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    kind: Annotated[UnitKind | None, typer.Option("--kind", help="A new kind.")] = None,
    parent: Annotated[str | None, typer.Option("--parent", help=PARENT_HELP)] = None,
    headcount: Annotated[
        int | None, typer.Option("--headcount", help="People in the unit.")
    ] = None,
    as_json: JSON = False,
) -> None:
    """Change the columns given; the others keep their value."""
    from valuechain.services import map_structure
    from valuechain.services.audit import Actor

    vc = open_valuechain()
    row: dict[str, Any] = dict(map_structure.read_unit(vc, unit_id))
    given = {"name": name, "kind": kind.value if kind else None, "parent_id": parent,
             "headcount": headcount}  # fmt: skip
    row.update({k: v for k, v in given.items() if v is not None})
    row["kind"] = str(row["kind"])
    del row["id"]
    unit = map_structure.change_unit(vc, unit_id, row, Actor.command_line(), admin=True)
    _show("Changed", unit, as_json)


@unit_app.command("remove")
def remove(
    unit_id: Annotated[str, typer.Argument(metavar="ID", help=ID_HELP)],
    as_json: JSON = False,
) -> None:
    """Remove a unit nothing refers to; refused with what still does."""
    from valuechain.services import map_structure
    from valuechain.services.audit import Actor

    removed = map_structure.remove_unit(open_valuechain(), unit_id, Actor.command_line())
    if as_json:
        print_json(removed)
    else:
        console.print(f"Removed {removed['removed']}.", highlight=False)
