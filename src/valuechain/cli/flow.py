"""`valuechain flow`: throughput, the bottleneck, work piling up, and what-ifs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from valuechain.cli.app import app, console, open_valuechain, print_json
from valuechain.cli.tables import Table

if TYPE_CHECKING:  # the CLI imports services only when a command runs
    from valuechain.services.flow_types import FlowOut


def _n(value: float | None, *, pct: bool = False) -> str:
    if value is None:
        return "—"
    if pct:
        return f"{value * 100:.0f}%"
    return f"{value:,.0f}" if abs(value - round(value)) < 0.05 else f"{value:,.1f}"


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:+,.0f}"


@app.command()
def flow(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    what_if: Annotated[
        list[str] | None,
        typer.Option(
            "--what-if",
            metavar="SPEC",
            help="Change a result's capacity (ID=+20%) or cost per item (ID=-10%cost); "
            "repeat for several changes.",
        ),
    ] = None,
) -> None:
    """Throughput to the paying external customers, the bottleneck, utilisation and
    inventory growth per stage, and money per week; with --what-if, the effect of
    changing capacities or costs."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services.flow import flow as flow_of

    doc = flow_of(open_valuechain(), what_if or [])
    if as_json:
        print_json(doc)
        return
    _print(doc)


def _print(doc: FlowOut) -> None:
    table = Table(title="Flow per week, busiest stage first", title_justify="left")
    for col, justify in (
        ("", "left"),
        ("stage", "left"),
        ("result", "left"),
        ("capacity", "right"),
        ("demand", "right"),
        ("flow", "right"),
        ("util.", "right"),
        ("idle", "right"),
        ("piles up", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    stages = sorted(doc["stages"], key=lambda s: (-(s["utilization"] or 0.0), s["id"]))
    for s in stages:
        table.add_row(
            "▶" if s["bottleneck"] else "",
            s["unit_name"],
            s["id"],
            _n(s["capacity"]),
            _n(s["demand"]),
            _n(s["flow"]),
            _n(s["utilization"], pct=True),
            _n(s["idle"]),
            _n(s["inventory_growth"]) if s["inventory_growth"] else "",
            style="bold red" if s["bottleneck"] else None,
        )
    console.print(table)
    console.print("▶ bottleneck · util. = flow / capacity · piles up = inventory growth a week")
    money = doc["money"]
    if doc["unbounded"]:  # no figure to show: the summary names the unlimited path
        console.print("Throughput unbounded: " + " → ".join(doc["unlimited_path"]))
    else:
        console.print(
            f"Throughput {_n(doc['throughput'])}"
            + (f" of {_n(doc['demand'])}" if doc["demand"] is not None else "")
            + " items a week; "
            f"revenue {_n(money['revenue'])}, variable cost {_n(money['variable_cost'])}, "
            f"throughput in money {_n(money['throughput'])} a week."
        )
    what_if = doc["what_if"]
    if what_if is None:
        console.print(f"[bold]{doc['summary']}[/]")
        return
    changes = ", ".join(f"{c['id']} {c['percent']:+g}% {c['change']}" for c in what_if["changes"])
    console.print(f"[bold]What if[/] {changes}:")
    pct = what_if["throughput_change_pct"]
    console.print(
        f"  throughput {_n(what_if['throughput_before'])} → {_n(what_if['throughput_after'])} "
        f"a week ({_money(what_if['throughput_change'])}"
        + (f", {pct:+.1f}%" if pct is not None else "")
        + ")"
    )
    if what_if["new_bottleneck"]:
        console.print(
            f"  the bottleneck moves from {what_if['bottleneck_before']} "
            f"to [bold red]{what_if['new_bottleneck']}[/]"
        )
    else:
        console.print(f"  the bottleneck stays {what_if['bottleneck_after'] or 'none'}")
    for w in what_if["wasted_capacity"]:
        if w["wasted"]:
            console.print(
                f"  {w['id']}: {_n(w['wasted'])} of {_n(w['added_capacity'])} added a week "
                "cannot be used"
            )
    for g in what_if["inventory_growth"]:
        console.print(f"  inventory grows by {_n(g['growth'])} a week in front of {g['id']}")
    delta = what_if["money"]["delta"]
    console.print(
        f"  money a week: revenue {_money(delta['revenue'])}, variable cost "
        f"{_money(delta['variable_cost'])}, net {_money(delta['throughput'])}"
    )
    console.print(f"[bold]{doc['summary']}[/]")
