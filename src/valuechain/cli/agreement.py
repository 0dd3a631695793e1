"""`valuechain agreement …` (service agreements and their life) and
`valuechain commitments` (the commitment log and trust)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from valuechain.cli.app import app, console, open_valuechain, print_json
from valuechain.domain.agreement import Agreement, Metric
from valuechain.services import agreement as agreements
from valuechain.services.audit import Actor
from valuechain.services.commitment import commitments_document, generate_due, logs, timeline

agreement_app = typer.Typer(
    help="Service agreements: list, show, and their life (propose, agree, review).",
    no_args_is_help=True,
)
app.add_typer(agreement_app, name="agreement")

AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
UnitOption = Annotated[
    str,
    typer.Option("--unit", help="The unit whose lead acts: the provider or the customer."),
]


def agreement_json(a: Agreement) -> dict[str, Any]:
    """An agreement as plain data (the API and the CLI share it)."""
    return {
        "id": a.id,
        "provider": a.provider_id,
        "customer": a.customer_id,
        "result": a.result_id,
        "state": a.state.value,
        "targets": {m.value: a.targets[m] for m in Metric if m in a.targets},
        "calendar": a.calendar,
        "review_on": None if a.review_on is None else a.review_on.isoformat(),
        "channel": a.channel,
        "cadence": a.cadence,
        "obligations": list(a.obligations),
        "exceed_margin_hours": a.exceed_margin_hours,
        "deliverable_rrule": a.deliverable_rrule,
        "provider_agreed_by": a.provider_agreed_by,
        "provider_agreed_at": None
        if a.provider_agreed_at is None
        else a.provider_agreed_at.isoformat(),
        "customer_agreed_by": a.customer_agreed_by,
        "customer_agreed_at": None
        if a.customer_agreed_at is None
        else a.customer_agreed_at.isoformat(),
    }


def _targets(a: Agreement) -> str:
    return ", ".join(f"{m.value} {a.targets[m]:g}" for m in Metric if m in a.targets) or "—"


@agreement_app.command("list")
def list_agreements(
    unit: Annotated[
        str | None, typer.Option("--unit", help="Only the agreements this unit is a side of.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Every agreement (or one unit's) with its state, targets and review date."""
    vc = open_valuechain()
    found = agreements.agreements_of(vc, unit)
    today = datetime.now(UTC).date()
    if as_json:
        print_json(
            {
                "agreements": [
                    {
                        **agreement_json(a),
                        "review_due": a in agreements.reviews_due_of(found, today),
                    }
                    for a in found
                ]
            }
        )
        return
    table = Table(title="Agreements", title_justify="left")
    for col in ("id", "provider", "customer"):
        table.add_column(col, no_wrap=True)
    for col in ("result", "state", "targets", "review on"):
        table.add_column(col)
    due = agreements.reviews_due_of(found, today)
    for a in found:
        table.add_row(
            a.id,
            a.provider_id,
            a.customer_id,
            a.result_id,
            a.state.value,
            _targets(a),
            ("" if a.review_on is None else a.review_on.isoformat())
            + (" (review due)" if a in due else ""),
        )
    console.print(table)


@agreement_app.command("show")
def show(agreement_id: str, as_json: AsJson = False) -> None:
    """One agreement: both sides' obligations, targets against actuals, and its
    commitment timeline."""
    vc = open_valuechain()
    a = agreements.agreement(vc, agreement_id)
    log = next(x for x in logs(vc, unit_id=a.customer_id) if x.agreement.id == a.id)
    items = timeline(vc, a)
    if as_json:
        print_json(
            {
                **agreement_json(a),
                "actual": {"on_time_pct": log.on_time_pct},
                "trust": log.trust,
                "trust_low": log.trust_low,
                "trust_high": log.trust_high,
                "commitments": items,
            }
        )
        return
    console.print(f"[bold]{a.id}[/]: {a.provider_id} provides {a.result_id} to {a.customer_id}")
    console.print(f"state {a.state.value}; calendar {a.calendar or 'mon-fri 09:00-17:00 UTC'}")
    console.print(f"targets: {_targets(a)}")
    actual = log.on_time_pct
    console.print(f"on time: {'—' if actual is None else f'{actual:.0f}%'} of {log.due} due")
    console.print(f"trust: {log.trust:.2f} (95% {log.trust_low:.2f}–{log.trust_high:.2f})")
    console.print("customer's obligations: " + ("; ".join(a.obligations) or "none"))
    for item in items[:10]:
        console.print(f"  {item['due_at']}  {item['outcome']}")


def _acted(a: Agreement) -> None:
    console.print(f"Agreement {a.id} is now {a.state.value}.")


@agreement_app.command("propose")
def propose(agreement_id: str, unit: UnitOption) -> None:
    """Put a draft (or an agreement under review) to both leads."""
    _acted(agreements.propose(open_valuechain(), agreement_id, unit, Actor.command_line()))


@agreement_app.command("agree")
def agree(agreement_id: str, unit: UnitOption) -> None:
    """Agree for one side; agreed once the provider's and the customer's lead have."""
    _acted(agreements.agree(open_valuechain(), agreement_id, unit, Actor.command_line()))


@agreement_app.command("review")
def review(agreement_id: str, unit: UnitOption) -> None:
    """Ask to review an agreement in force; its terms hold until both agree again."""
    _acted(agreements.review(open_valuechain(), agreement_id, unit, Actor.command_line()))


@agreement_app.command("due")
def due(
    until: Annotated[str, typer.Option("--until", help="Create due items up to this ISO date.")],
) -> None:
    """Create the due items of recurring deliverables up to a date (idempotent), and
    start the reviews whose date has come."""
    vc = open_valuechain()
    end = datetime.combine(date.fromisoformat(until), datetime.min.time(), tzinfo=UTC)
    created = generate_due(vc, end)
    started = agreements.start_due_reviews(vc, datetime.now(UTC).date())
    console.print(f"{created} due items created; {len(started)} reviews started.")


@app.command()
def commitments(as_json: AsJson = False) -> None:
    """The commitment log per agreement (kept, exceeded, missed, warned) and trust per
    relationship, which rewards early warnings over surprise misses."""
    doc = commitments_document(open_valuechain())
    if as_json:
        print_json(doc)
        return
    table = Table(title="Commitments", title_justify="left")
    for col in ("agreement", "provider", "customer"):
        table.add_column(col, no_wrap=True)
    for col in ("due", "kept", "exceeded", "warned", "missed", "trust"):
        table.add_column(col, justify="right")
    for row in doc["agreements"]:
        table.add_row(
            row["id"],
            row["provider"],
            row["customer"],
            str(row["due"]),
            str(row["kept"]),
            str(row["exceeded"]),
            str(row["warned"]),
            str(row["missed"]),
            f"{row['trust']:.2f}",
        )
    console.print(table)
    console.print("trust = (kept + exceeded + ½ warned + 1) / (due + 2)")
