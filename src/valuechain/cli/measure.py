"""`valuechain scores`, `valuechain reliability`, `valuechain drivers`: survey
numbers, every one of them protected by the anonymity threshold; `valuechain
threshold`: that threshold and the one for comments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from valuechain.cli.app import app, console, open_valuechain, print_json
from valuechain.cli.tables import Table
from valuechain.domain.response import COMMENT_THRESHOLD_MAX, By

if TYPE_CHECKING:  # the CLI imports services only when a command runs
    from valuechain.services.measure_types import ServqualTotal

HIDDEN = "[dim]suppressed[/]"


def _f(value: Any, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


@app.command()
def scores(
    by: Annotated[
        By,
        typer.Option("--by", help="One cell per provider, relationship or provider × dimension."),
    ] = By.PROVIDER,
    campaign: Annotated[
        str | None,
        typer.Option(
            "--campaign",
            help="Only this campaign (default: the latest closed one, in time order).",
        ),
    ] = None,
    instrument: Annotated[
        str | None, typer.Option("--instrument", help="Only this instrument (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Mean scores with 95% confidence intervals (and gaps P − E where expectations
    were asked); groups below the anonymity threshold are suppressed."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import measure

    vc = open_valuechain()
    found = measure.scores_with_nps(vc, by, campaign=campaign, instrument=instrument)
    # The importance-weighted SERVQUAL totals of the same campaign (one cut only: per
    # provider), whatever the --by.
    found["servqual_totals"] = measure.servqual_totals(
        vc, campaign=found["campaign"], instrument=instrument
    )["totals"]
    if as_json:
        print_json(found)
        return
    title = f"Scores by {found['by']}" + (f", campaign {campaign}" if campaign else "")
    table = Table(title=title, title_justify="left")
    columns = ["instrument", "provider"]
    if by in (By.RELATIONSHIP, By.RELATIONSHIP_DIMENSION):
        columns.append("customer")
    if by in (By.DIMENSION, By.RELATIONSHIP_DIMENSION):
        columns.append("dimension")
    for col in columns:
        table.add_column(col)
    for col in ("n", "mean", "95% CI", "gap"):
        table.add_column(col, justify="right")
    for cell in found["cells"]:
        about: dict[str, object] = dict(cell)
        keys = [str(about[c]) for c in columns]
        if cell["suppressed"]:
            table.add_row(*keys, HIDDEN, "", "", "")
            continue
        table.add_row(
            *keys,
            str(cell["n"]),
            _f(cell["mean"]),
            f"{_f(cell['ci_low'])} – {_f(cell['ci_high'])}",
            _f(cell.get("gap")),
        )
    console.print(table)
    if found["servqual_totals"]:
        console.print(_totals_table(found["servqual_totals"], found["campaign"]))
    console.print(
        f"Groups of fewer than {found['threshold']} respondents, and cells that would "
        "reveal one by subtraction, are suppressed."
    )


def _totals_table(totals: list[ServqualTotal], campaign: str | None) -> Table:
    """The SERVQUAL total gap per provider, unweighted and weighted by the mean
    importance points of the respondents who gave a split."""
    table = Table(title=f"SERVQUAL total gap P − E, campaign {campaign}", title_justify="left")
    table.add_column("instrument")
    table.add_column("provider")
    table.add_column("importance (mean points)")
    for col in ("n split", "total gap", "weighted gap"):
        table.add_column(col, justify="right")
    for t in totals:
        if t["importance_n"] is not None:
            split = ", ".join(f"{d['dimension']} {_f(d['importance'], 0)}" for d in t["dimensions"])
            n = str(t["importance_n"])
        else:
            split, n = (HIDDEN, "") if t["importance_suppressed"] else ("—", "")
        table.add_row(
            t["instrument"],
            t["provider"],
            split,
            n,
            _f(t["total_gap"]),
            _f(t["weighted_total_gap"]),
        )
    return table


@app.command()
def reliability(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Cronbach's alpha with its Feldt 95% interval, and McDonald's omega, per
    instrument and dimension."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import measure

    found = measure.reliability_with_omega(open_valuechain())
    if as_json:
        print_json(found)
        return
    table = Table(title="Reliability (Cronbach's alpha)", title_justify="left")
    for col in ("instrument", "dimension"):
        table.add_column(col)
    for col in ("items", "n", "alpha", "95% CI", "omega"):
        table.add_column(col, justify="right")
    for s in found["scales"]:
        if s["suppressed"]:
            table.add_row(s["instrument"], s["dimension"], str(s["items"]), HIDDEN, "", "", "")
            continue
        table.add_row(
            s["instrument"],
            s["dimension"],
            str(s["items"]),
            str(s["n"]),
            _f(s["alpha"], 3),
            f"{_f(s['ci_low'], 3)} – {_f(s['ci_high'], 3)}",
            _f(s.get("omega"), 3),
        )
    console.print(table)


@app.command()
def drivers(
    provider: Annotated[
        str | None, typer.Option("--provider", help="Only responses about this unit.")
    ] = None,
    instrument: Annotated[
        str | None,
        typer.Option("--instrument", help="An instrument with an 'overall' dimension."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Key drivers of overall satisfaction: Johnson's relative weights with bootstrap
    95% intervals, each dimension's mean and its importance–performance quadrant."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import measure

    found = measure.drivers(open_valuechain(), provider=provider, instrument=instrument)
    if as_json:
        print_json(found)
        return
    who = f" for {provider}" if provider else ""
    if found["suppressed"]:
        console.print(
            f"Key drivers of {found['outcome']}{who}: suppressed (fewer than "
            f"{found['threshold']} respondents, directly or by subtraction)."
        )
        return
    table = Table(
        title=f"Key drivers of {found['outcome']}{who} (n = {found['n']}, "
        f"R² = {_f(found['r2'], 3)})",
        title_justify="left",
    )
    table.add_column("dimension")
    for col in ("weight", "95% CI", "share", "performance"):
        table.add_column(col, justify="right")
    table.add_column("quadrant")
    for d in sorted(found["drivers"], key=lambda d: -(d["weight"] or 0.0)):
        table.add_row(
            d["dimension"],
            _f(d["weight"], 3),
            f"{_f(d['ci_low'], 3)} – {_f(d['ci_high'], 3)}",
            _f(d["share"], 2),
            _f(d["performance"]),
            d["quadrant"] or "—",
        )
    console.print(table)


@app.command()
def threshold(
    numbers: Annotated[
        int | None,
        typer.Option("--numbers", help="The smallest group any number is shown about (3-10)."),
    ] = None,
    comments: Annotated[
        int | None,
        typer.Option(
            "--comments",
            help="The smallest group whose comments are shown (the threshold for numbers "
            f"up to {COMMENT_THRESHOLD_MAX}).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Show or set the organisation's anonymity thresholds: for numbers (default 5)
    and for comments (default 10, never below the one for numbers)."""
    from valuechain.services import measure

    vc = open_valuechain()
    if numbers is not None:
        measure.set_threshold(vc, numbers)
    if comments is not None:
        measure.set_comment_threshold(vc, comments)
    found = {"threshold": measure.threshold(vc), "comment_threshold": measure.comment_threshold(vc)}
    if as_json:
        print_json(found)
        return
    console.print(
        f"Numbers are shown about groups of {found['threshold']} respondents or more; "
        f"comments about groups of {found['comment_threshold']} or more.",
        highlight=False,
    )
