"""`valuechain health`, `valuechain action`, `valuechain workspace`: Partner & Improve
from the command line."""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated

import typer

from valuechain.cli.app import app, console, open_valuechain, print_json
from valuechain.cli.tables import Table

action_app = typer.Typer(help="Improvement actions and whether they worked.", no_args_is_help=True)
app.add_typer(action_app, name="action")


def _f(value: float | None, fmt: str = "{:.1f}") -> str:
    return "—" if value is None else fmt.format(value)


@app.command()
def health(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Health of every provider–customer relationship (worst first): the customer's and
    the provider's views, agreement compliance, trust, and the combined score."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services.partner import health as health_service

    vc = open_valuechain()
    rows = health_service.health_table(vc)
    if as_json:
        print_json({"weights": health_service.weights(), "relationships": rows})
        return
    names = {u: d["name"] for u, d in vc.describe_units(
        {r["provider"] for r in rows} | {r["customer"] for r in rows}).items()}  # fmt: skip
    table = Table(title="Relationship health (0–100, worst first)")
    for column in (
        "Provider",
        "Customer",
        "Health",
        "Rating by customer",
        "Rating by provider",
        "On target",
        "Trust",
        "Known",
    ):
        table.add_column(column)
    for r in rows:
        table.add_row(
            names.get(r["provider"], r["provider"]), names.get(r["customer"], r["customer"]),
            _f(r["health"], "{:.0f}"), _f(r["customer_view"]),
            _f(r["provider_view"]), _f(r["sla_met_pct"], "{:.0f}%"), _f(r["trust"], "{:.2f}"),
            f"{r['coverage']:.0%}",
        )  # fmt: skip
    console.print(table)


@action_app.command("list")
def list_actions(
    provider: Annotated[str | None, typer.Option(help="Only this provider's actions.")] = None,
    customer: Annotated[str | None, typer.Option(help="With --provider: one relationship.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Actions with their before/after and verdict (improved, no evidence of change,
    worse, not measured yet)."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services.partner import action as action_service

    vc = open_valuechain()
    rows = action_service.actions(vc, provider, customer)
    if as_json:
        print_json({"actions": rows, "overdue": action_service.overdue(vc)})
        return
    table = Table(title="Actions")
    for column in ("Id", "Relationship", "Action", "Due", "Status", "Before → after", "Verdict"):
        table.add_column(column)
    for a in rows:
        r = a["result"]
        before, after = r["before"], r["after"]
        change = (
            f"{before['mean']:.2f} → {after['mean']:.2f} "
            f"({r.get('ci_low', math.nan):+.2f} to {r.get('ci_high', math.nan):+.2f})"
            if after and before
            else "—"
        )
        due = a["due_on"] + (" (overdue)" if a["overdue"] else "")
        table.add_row(a["id"], f"{a['provider']} → {a['customer']}", a["title"], due,
                      a["status"], change, r["verdict"])  # fmt: skip
    console.print(table)


@action_app.command("add")
def add_action(
    provider: Annotated[str, typer.Argument(help="The providing unit.")],
    customer: Annotated[str, typer.Argument(help="The customer unit.")],
    title: Annotated[str, typer.Option(help="What will be done.")],
    owner: Annotated[str, typer.Option(help="Who does it.")],
    due: Annotated[str, typer.Option(help="Due date, YYYY-MM-DD.")],
    instrument: Annotated[str, typer.Option(help="The instrument whose score should move.")],
    dimension: Annotated[str | None, typer.Option(help="One dimension (default: overall).")] = None,
    source: Annotated[str, typer.Option(help="The finding, score or conflict it answers.")] = "",
) -> None:
    """Create an action on a relationship; its baseline is the latest campaign."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services.partner import action as action_service

    try:
        due_on = date.fromisoformat(due)
    except ValueError:
        raise typer.BadParameter(
            f"{due!r} is not a date (YYYY-MM-DD)", param_hint="--due"
        ) from None
    row = action_service.create(
        open_valuechain(), None, provider, customer, title=title, owner=owner, due_on=due_on,
        instrument=instrument, dimension=dimension, source=source,
    )  # fmt: skip
    console.print(
        f"Created action {row['id']} (baseline {row['baseline_campaign'] or 'none yet'})."
    )


@action_app.command("status")
def action_status(
    provider: Annotated[str, typer.Argument(help="The providing unit.")],
    customer: Annotated[str, typer.Argument(help="The customer unit.")],
    action_id: Annotated[str, typer.Argument(help="The action's id.")],
    status: Annotated[str, typer.Argument(help="open, in_progress, done or dropped.")],
) -> None:
    """Move an action along."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services.partner import action as action_service

    row = action_service.set_status(open_valuechain(), provider, customer, action_id, status)
    console.print(f"Action {row['id']} is now {row['status']}.")


@app.command()
def workspace(
    provider: Annotated[str, typer.Argument(help="The providing unit.")],
    customer: Annotated[str, typer.Argument(help="The customer unit.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Both sides' challenges, needs and values for one relationship, with their marks."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services.partner import workspace as workspace_service

    doc = workspace_service.workspace(open_valuechain(), provider, customer)
    if as_json:
        print_json(doc)
        return
    for side, kinds in doc["sides"].items():
        table = Table(title=f"{doc[side]} ({side})")
        table.add_column("Kind")
        table.add_column("Entry")
        table.add_column("Marked")
        for kind, entries in kinds.items():
            for e in entries:
                table.add_row(kind, e["text"], e["alignment"] or "")
        console.print(table)
