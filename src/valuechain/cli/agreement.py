"""`valuechain agreement …` (service agreements and their life) and
`valuechain commitments` (the commitment log and trust)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer

from valuechain.cli.app import app, console, open_valuechain, print_json
from valuechain.cli.tables import Table
from valuechain.domain.agreement import Agreement, Metric

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
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import agreement as agreements

    vc = open_valuechain()
    found = agreements.agreements_of(vc, unit)
    today = datetime.now(UTC).date()
    if as_json:
        print_json(
            {
                "agreements": [
                    {
                        **agreements.as_json(a),
                        "review_due": a in agreements.reviews_due_of(found, today),
                    }
                    for a in found
                ]
            }
        )
        return
    table = Table(title="Agreements", title_justify="left")
    table.add_column("id", no_wrap=True)
    for col in ("provider", "customer", "state", "targets", "review on"):
        table.add_column(col, min_width=6)
    due = agreements.reviews_due_of(found, today)
    for a in found:
        table.add_row(
            a.id,
            a.provider_id,
            a.customer_id,
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
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import agreement as agreements
    from valuechain.services.commitment import logs, timeline

    vc = open_valuechain()
    a = agreements.agreement(vc, agreement_id)
    log = next(x for x in logs(vc, unit_id=a.customer_id) if x.agreement.id == a.id)
    items = timeline(vc, a)
    if as_json:
        print_json(
            {
                **agreements.as_json(a),
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
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import agreement as agreements
    from valuechain.services.audit import Actor

    _acted(agreements.propose(open_valuechain(), agreement_id, unit, Actor.command_line()))


@agreement_app.command("agree")
def agree(agreement_id: str, unit: UnitOption) -> None:
    """Agree for one side; agreed once the provider's and the customer's lead have."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import agreement as agreements
    from valuechain.services.audit import Actor

    _acted(agreements.agree(open_valuechain(), agreement_id, unit, Actor.command_line()))


@agreement_app.command("review")
def review(agreement_id: str, unit: UnitOption) -> None:
    """Ask to review an agreement in force; its terms hold until both agree again."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import agreement as agreements
    from valuechain.services.audit import Actor

    _acted(agreements.review(open_valuechain(), agreement_id, unit, Actor.command_line()))


@agreement_app.command("due")
def due(
    until: Annotated[str, typer.Option("--until", help="Create due items up to this ISO date.")],
) -> None:
    """Create the due items of recurring deliverables up to a date, start the reviews
    whose date has come, and open negotiations where demand is above a share (all
    idempotent)."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import agreement as agreements
    from valuechain.services.capacity import open_negotiations
    from valuechain.services.commitment import generate_due

    vc = open_valuechain()
    end = datetime.combine(date.fromisoformat(until), datetime.min.time(), tzinfo=UTC)
    created = generate_due(vc, end)
    started = agreements.start_due_reviews(vc, datetime.now(UTC).date())
    opened = open_negotiations(vc)
    console.print(
        f"{created} due items created; {len(started)} reviews started; "
        f"{len(opened)} negotiations opened."
    )


@app.command()
def commitments(as_json: AsJson = False) -> None:
    """The commitment log per agreement (kept, exceeded, missed, warned) and trust per
    relationship, which rewards early warnings over surprise misses."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services.commitment import commitments_document

    doc = commitments_document(open_valuechain())
    if as_json:
        print_json(doc)
        return
    table = Table(title="Commitments", title_justify="left")
    table.add_column("agreement", no_wrap=True)
    for col in ("provider", "customer"):
        table.add_column(col, min_width=6)
    for col in ("due", "kept", "exc.", "warned", "missed", "trust"):
        table.add_column(col, justify="right", no_wrap=True)
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


FLAG_LABELS = {
    "targets_met_customer_unhappy": "met but unhappy",
    "targets_missed_customer_happy": "missed but happy",
}


@app.command("watermelon")
def watermelon_command(
    unit: Annotated[
        str | None, typer.Option("--unit", help="Only this unit's relationships.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Targets met next to customer satisfaction per relationship, flagging "targets
    met, customer unhappy" and the reverse (protected survey numbers only)."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services.watermelon import watermelon

    doc = watermelon(open_valuechain(), unit_id=unit)
    if as_json:
        print_json(doc)
        return
    table = Table(
        title=f"Watermelon check (campaign {doc['campaign'] or '—'})", title_justify="left"
    )
    for col in ("provider", "customer"):
        table.add_column(col, min_width=6)
    for col in ("on time", "target", "satisf."):
        table.add_column(col, no_wrap=True)
    table.add_column("flag", no_wrap=True)
    for row in doc["relationships"]:
        s = row["satisfaction"]
        table.add_row(
            row["provider"],
            row["customer"],
            "—" if row["on_time_pct"] is None else f"{row['on_time_pct']:.0f}%",
            f"{row['on_time_target']:g}%",
            "suppressed"
            if row["suppressed"]
            else "—"
            if s is None
            else f"{s['mean']:.1f} ({row['mood']})",
            FLAG_LABELS.get(row["flag"] or "", ""),
        )
    console.print(table)


@app.command("capacity")
def capacity_command(unit: str, as_json: AsJson = False) -> None:
    """A unit's capacity shares: per result it produces the capacity, each customer's
    share and demand; its demand on others' results; negotiations of either side."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services.capacity import capacity as capacity_of

    doc = capacity_of(open_valuechain(), unit)
    if as_json:
        print_json(doc)
        return
    for r in doc["provides"]:
        cap = "—" if r["capacity"] is None else f"{r['capacity']:g}"
        console.print(f"[bold]{r['result']}[/]: capacity {cap} a week, {r['allocated']:g} shared")
        for c in r["customers"]:
            share = "no share" if c["share"] is None else f"share {c['share']:g}"
            wanted = "—" if c["demand"] is None else f"{c['demand']:g}"
            flag = "  [red]above share[/]" if c["over_share"] else ""
            console.print(f"  {c['customer']}: {share}, demand {wanted}{flag}")
    for got in doc["receives"]:
        share = "no share" if got["share"] is None else f"share {got['share']:g}"
        flag = "  [red]above share[/]" if got["over_share"] else ""
        console.print(
            f"receives {got['result']} from {got['provider']}: demand {got['demand']:g}, "
            f"{share}{flag}"
        )
    for n in doc["negotiations"]:
        console.print(
            f"negotiation {n['id']}: {n['result']} {n['provider']} → {n['customer']}, "
            f"demand {n['demand']:g} / share {n['share']:g}, {n['state']}"
        )
