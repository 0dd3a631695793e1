"""`valuechain request new|list|show|ack|start|wait|resolve|close|reopen|thank|import`:
internal requests from the command line, for whoever runs the server (acting for
both sides, like an admin; every change is an event naming ``cli:<user>``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from valuechain.cli.app import app, console, open_valuechain, print_json
from valuechain.cli.tables import Table
from valuechain.domain.request import Verb

if TYPE_CHECKING:
    from collections.abc import Callable

    from valuechain.services import request as requests
    from valuechain.services.organisation import Valuechain
    from valuechain.services.request_types import RequestDetail


request_app = typer.Typer(
    help="Internal requests between units: file, answer, resolve, thank.", no_args_is_help=True
)
app.add_typer(request_app, name="request")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
Note = Annotated[str | None, typer.Option("--note", help="A note for the timeline.")]
Key = Annotated[
    str | None,
    typer.Option("--idempotency-key", help="Repeat the command with the same key: stored once."),
]


def _asker() -> requests.Asker:
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import request as requests
    from valuechain.services.audit import Actor

    label = Actor.command_line().label or "cli"
    return requests.Asker(None, label)


def _once(
    vc: Valuechain,
    asker: requests.Asker,
    key: str | None,
    command: str,
    arguments: dict[str, Any],
    change: Callable[[], RequestDetail],
) -> RequestDetail:
    """``change`` once per ``--idempotency-key`` (the one mechanism,
    services/idempotency.py): the same key again prints the stored result."""
    from valuechain.services import idempotency

    return idempotency.run_once(
        vc,
        scope=idempotency.command_scope(asker.label),
        key=key,
        command=command,
        arguments=arguments,
        change=change,
    )


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} h"


def _clock(row: Mapping[str, Any]) -> str:
    if row["breached"]:
        return "[red]breached[/]"
    if row["near_breach"]:
        return "[yellow]near breach[/]"
    return "paused" if row["paused"] else ""


def _show(found: Mapping[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(found)
        return
    console.print(
        f"[bold]{found['id']}[/] {found['title']}  ({found['customer_id']} → "
        f"{found['provider_id']}, {found['state']})",
        highlight=False,
    )
    console.print(
        f"first response {_hours(found['response_hours'])}, resolution "
        f"{_hours(found['resolution_hours'])} business hours {_clock(found)}",
        highlight=False,
    )
    for event in found["timeline"]:
        note = f" — {event['note']}" if event["note"] else ""
        console.print(
            f"  {event['at'][:16]}  {event['verb']:<8} {event['actor'] or ''}{note}",
            highlight=False,
        )


@request_app.command("new")
def new(
    customer: Annotated[str, typer.Option("--from", help="The asking (customer) unit.")],
    provider: Annotated[str, typer.Option("--to", help="The unit asked (provider).")],
    title: Annotated[str, typer.Option("--title", help="What is asked, in one line.")],
    body: Annotated[str, typer.Option("--body", help="Details.")] = "",
    priority: Annotated[
        str | None, typer.Option("--priority", help="low, normal, high or urgent.")
    ] = None,
    category: Annotated[str | None, typer.Option("--category", help="A category.")] = None,
    key: Key = None,
    as_json: JsonFlag = False,
) -> None:
    """File a request from one unit to another."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import request as requests

    vc, asker = open_valuechain(), _asker()
    arguments = {
        "customer": customer,
        "provider": provider,
        "title": title,
        "body": body,
        "priority": priority,
        "category": category,
    }
    found = _once(
        vc,
        asker,
        key,
        "request new",
        arguments,
        lambda: requests.new_request(
            vc,
            asker,
            customer=customer,
            provider=provider,
            title=title,
            body=body,
            priority=priority,
            category=category,
        ),
    )
    _show(found, as_json)


@request_app.command("list")
def list_(
    inbox: Annotated[str | None, typer.Option("--inbox", help="Requests made to UNIT.")] = None,
    outbox: Annotated[str | None, typer.Option("--outbox", help="Requests UNIT made.")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only open requests.")] = False,
    limit: Annotated[int, typer.Option("--limit", help="At most this many, newest first.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Requests newest first with their business-hours clocks."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import request as requests

    rows = requests.listing(
        open_valuechain(), provider=inbox, customer=outbox, open_only=open_only, limit=limit
    )
    if as_json:
        print_json({"requests": rows})
        return
    table = Table(title="Requests, newest first", title_justify="left")
    for col in ("id", "from", "to", "title", "state", "response", "resolution", ""):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["id"],
            r["customer_id"],
            r["provider_id"],
            r["title"],
            r["state"],
            _hours(r["response_hours"]),
            _hours(r["resolution_hours"]),
            _clock(r),
        )
    console.print(table)


@request_app.command("show")
def show(request_id: str, as_json: JsonFlag = False) -> None:
    """One request with its clocks and timeline."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import request as requests

    _show(requests.get(open_valuechain(), _asker(), request_id), as_json)


def _verb_command(verb: Verb, help_text: str) -> None:
    def command(request_id: str, note: Note = None, key: Key = None, as_json: JsonFlag = False):  # type: ignore[no-untyped-def]
        # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
        from valuechain.services import request as requests

        vc, asker = open_valuechain(), _asker()
        found = _once(
            vc,
            asker,
            key,
            f"request {verb.value}",
            {"request": request_id, "note": note},
            lambda: requests.change(vc, asker, request_id, verb, note),
        )
        _show(found, as_json)

    command.__doc__ = help_text
    request_app.command(verb.value)(command)


_verb_command(Verb.ACK, "Acknowledge a request (the first response).")
_verb_command(Verb.START, "Start work on a request (or resume after waiting).")
_verb_command(Verb.WAIT, "Wait on the customer: the clocks pause.")
_verb_command(Verb.RESOLVE, "Resolve a request.")
_verb_command(Verb.CLOSE, "Close a resolved request.")
_verb_command(Verb.REOPEN, "Reopen a resolved or closed request.")


@request_app.command("thank")
def thank(request_id: str, note: Note = None, key: Key = None, as_json: JsonFlag = False) -> None:
    """Say thank you for a resolved request, with a note."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import thanks

    vc, asker = open_valuechain(), _asker()
    found = _once(
        vc,
        asker,
        key,
        "request thank",
        {"request": request_id, "note": note},
        lambda: thanks.thank(vc, asker, request_id, note),
    )
    _show(found, as_json)


@request_app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A CSV file.")],
    source: Annotated[
        str,
        typer.Option(
            "--format", help="valuechain (requests.csv), zendesk or freshdesk (ticket exports)."
        ),
    ] = "valuechain",
    as_json: JsonFlag = False,
) -> None:
    """Import requests (all or nothing; known ids are replaced with their history)."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import request as requests

    counts = requests.import_requests(open_valuechain(), path, source, _asker().label)
    if as_json:
        print_json(counts)
        return
    console.print(
        f"Imported {counts['requests']:,} requests ({counts['replaced']:,} replaced), "
        f"{counts['events']:,} events.",
        highlight=False,
    )
