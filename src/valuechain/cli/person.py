"""`valuechain person export|erase`: a person's data rights from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from valuechain.cli.app import app, console, open_valuechain, print_json
from valuechain.cli.tables import Table

person_app = typer.Typer(
    help="Data rights: everything stored about a person, and erasure.", no_args_is_help=True
)
app.add_typer(person_app, name="person")

PERSON_HELP = "The person's id on the map (people.csv) or an email address."


@person_app.command("export")
def export(
    key: Annotated[str, typer.Argument(metavar="PERSON", help=PERSON_HELP)],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Everything stored about a person: their row on the map, accounts, session
    metadata, sign-in failures, idempotency keys, audit events naming them, and what
    later capabilities store. Recorded in the audit log."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import person
    from valuechain.services.audit import Actor

    document = person.export_person(open_valuechain(), key, Actor.command_line())
    if as_json:
        print_json(document)
        return
    table = Table(title=f"Stored about {key}", title_justify="left")
    table.add_column("kind of data")
    table.add_column("entries", justify="right")
    for name, value in document.items():
        if name in ("person", "survey_answers"):
            continue
        table.add_row(name, str(len(value)) if isinstance(value, list | dict) else str(value))
    console.print(table)
    console.print(f"Survey answers: {document['survey_answers']}.", highlight=False)
    console.print("Use --json for the full document.")


@person_app.command("erase")
def erase(
    key: Annotated[str, typer.Argument(metavar="PERSON", help=PERSON_HELP)],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Erase a person: their accounts are deleted (every session ends), their name and
    email on the map and in the audit log are replaced by a pseudonym. Cannot be undone."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import person
    from valuechain.services.audit import Actor

    if not yes:
        typer.confirm(f"Erase {key}? This cannot be undone", abort=True)
    found = person.erase_person(open_valuechain(), key, Actor.command_line())
    if as_json:
        print_json(found)
        return
    changes = ", ".join(f"{name} {count}" for name, count in found["changed"].items() if count)
    console.print(
        f"Erased {key}; they are now {found['pseudonym']} ({changes or 'nothing else stored'}).",
        highlight=False,
    )
