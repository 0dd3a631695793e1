"""`valuechain campaign create|invite|remind|close|list|status`: survey campaigns from
the command line. Response rates are shown as the pages show them: bands whose edges
lie where at least the threshold have and have not answered (docs/measure.md)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from valuechain.cli.app import app, console, open_valuechain, print_json
from valuechain.cli.tables import Table

if TYPE_CHECKING:  # the CLI imports services only when a command runs
    from valuechain.services.campaign_types import Rate

campaign_app = typer.Typer(
    help="Survey campaigns: create, invite, remind, close, list, status.", no_args_is_help=True
)
app.add_typer(campaign_app, name="campaign")

AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="Where survey links point (default: VALUECHAIN_BASE_URL, else http://127.0.0.1:8000).",
    ),
]


def _day(value: str | None, option: str) -> date | None:
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services.errors import ValuechainError

    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValuechainError(f"{option}: expected a date YYYY-MM-DD, got {value!r}") from None


def _pair(text: str) -> tuple[str, str]:
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services.errors import ValuechainError

    provider, sep, customer = text.partition(":")
    if not sep or not provider or not customer:
        raise ValuechainError(f"--relationship: expected PROVIDER:CUSTOMER, got {text!r}")
    return provider, customer


@campaign_app.command("create")
def create(
    campaign_id: Annotated[str, typer.Argument(help="The campaign's id.")],
    instrument: Annotated[
        str, typer.Option("--instrument", help="internal_servqual, service_factors, pulse, ...")
    ],
    name: Annotated[str, typer.Option("--name", help="Shown to respondents.")] = "",
    opens_on: Annotated[str | None, typer.Option("--opens-on", help="YYYY-MM-DD.")] = None,
    closes_on: Annotated[str | None, typer.Option("--closes-on", help="YYYY-MM-DD.")] = None,
    relationship: Annotated[
        list[str] | None,
        typer.Option(
            "--relationship",
            help="PROVIDER:CUSTOMER, repeatable (default: every customer unit rates every "
            "provider whose results it uses).",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Create a draft campaign."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import campaign as campaigns

    made = campaigns.create_campaign(
        open_valuechain(),
        campaign_id,
        name=name or None,
        instrument=instrument,
        opens_on=_day(opens_on, "--opens-on"),
        closes_on=_day(closes_on, "--closes-on"),
        relationships=[_pair(r) for r in relationship] if relationship else None,
    )
    if as_json:
        print_json(made)
        return
    console.print(
        f"Created draft campaign [bold]{made['id']}[/] ({made['instrument']}) over "
        f"{made['relationships']} relationships. Send the links with "
        f"[bold]valuechain campaign invite {made['id']}[/].",
        highlight=False,
    )


@campaign_app.command("invite")
def invite(campaign_id: str, base_url: BaseUrl = None, as_json: AsJson = False) -> None:
    """Open the campaign and mail a single-use link to everyone not yet invited."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import campaign as campaigns

    sent = campaigns.invite(open_valuechain(), campaign_id, base=base_url)
    if as_json:
        print_json({"campaign": campaign_id, "sent": sent})
        return
    console.print(f"Sent {sent} invitations for {campaign_id}.", highlight=False)


@campaign_app.command("remind")
def remind(campaign_id: str, base_url: BaseUrl = None, as_json: AsJson = False) -> None:
    """Mail a fresh link to every invitee who has not answered yet. How many is not
    shown: it is how many have not answered, which the rates only show as bands."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import campaign as campaigns

    campaigns.send_reminders(open_valuechain(), campaign_id, base=base_url)
    if as_json:
        print_json({"campaign": campaign_id, "reminded": True})
        return
    console.print(f"Reminded everyone who has not answered {campaign_id} yet.", highlight=False)


@campaign_app.command("close")
def close(campaign_id: str, as_json: AsJson = False) -> None:
    """Close the campaign: its links stop working; its results stay."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import campaign as campaigns

    closed = campaigns.close_campaign(open_valuechain(), campaign_id)
    if as_json:
        print_json(closed)
        return
    console.print(f"Closed {campaign_id}.", highlight=False)


@campaign_app.command("list")
def list_(as_json: AsJson = False) -> None:
    """Every campaign with its instrument, dates and state."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import campaign as campaigns

    found = campaigns.list_campaigns(open_valuechain())
    if as_json:
        print_json({"campaigns": found})
        return
    table = Table(title="Campaigns", title_justify="left")
    for col in ("id", "name", "instrument", "opens", "closes", "state"):
        table.add_column(col)
    for c in found:
        table.add_row(
            c["id"],
            c["name"],
            c["instrument"] or "—",
            c["opens_on"] or "—",
            c["closes_on"] or "—",
            c["state"],
        )
    console.print(table)


def _rate(row: Rate) -> str:
    return "[dim]suppressed[/]" if row["suppressed"] else row["rate"]


@campaign_app.command("status")
def status(
    campaign_id: str,
    unit: Annotated[
        str | None, typer.Option("--unit", help="Only the groups this unit is part of.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Response rate per provider × customer unit, per provider and in total: a
    band whose edges lie where at least the threshold have and have not answered;
    totals as the group bands imply; suppressed where the group is too small."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import campaign as campaigns

    found = campaigns.status(open_valuechain(), campaign_id, unit=unit)
    if as_json:
        print_json(found)
        return
    table = Table(title=f"{found['name']} ({found['state']}): response rates", title_justify="left")
    for col in ("provider", "customer"):
        table.add_column(col)
    table.add_column("invited", justify="right")
    table.add_column("rate", justify="right")
    for g in found["groups"]:
        table.add_row(g["provider"], g["customer"], str(g["invited"]), _rate(g))
    console.print(table)
    total = found["total"]
    console.print(
        f"Total: {_rate(total)} of {total['invited']} invited. A band's edges lie where at "
        f"least {found['threshold']} people have answered and {found['threshold']} have not.",
        highlight=False,
    )
