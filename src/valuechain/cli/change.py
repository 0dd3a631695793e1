"""`valuechain change`: did scores move between two campaigns? Welch tests per
provider, relationship and provider × dimension, corrected across every cell
compared; cells held back in either campaign are suppressed, cells a campaign has no
answers for are not measured."""

from __future__ import annotations

from typing import Annotated

import typer

from valuechain.cli.app import app, console, open_valuechain, print_json
from valuechain.cli.tables import Table
from valuechain.domain.response import Correction

HIDDEN = "[dim]suppressed[/]"


def _f(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _p(value: float | None) -> str:
    return "—" if value is None else "<0.0001" if value < 1e-4 else f"{value:.4f}"


@app.command()
def change(
    before: Annotated[
        str | None,
        typer.Option("--from", help="The earlier campaign (default: the one before --to)."),
    ] = None,
    after: Annotated[
        str | None, typer.Option("--to", help="The later campaign (default: the latest).")
    ] = None,
    correction: Annotated[
        Correction,
        typer.Option("--correction", help="holm (family-wise) or bh (false discovery rate)."),
    ] = Correction.HOLM,
    provider: Annotated[
        str | None, typer.Option("--provider", help="Only cells about this provider.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Change of every score between two campaigns: difference with its 95% Welch
    interval, Hedges' g and the p-value corrected across all cells compared."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services.change import change as change_of

    found = change_of(open_valuechain(), before, after, correction, provider)
    if as_json:
        print_json(found)
        return
    table = Table(
        title=f"Change from {found['from']} to {found['to']} ({found['compared']} cells "
        f"compared, {found['correction']} correction)",
        title_justify="left",
    )
    for col in ("by", "provider", "customer / dimension"):
        table.add_column(col)
    for col in ("n", "before", "after", "change", "95% CI", "g", "p adj."):
        table.add_column(col, justify="right")
    table.add_column("")
    for cell in found["cells"]:
        keys = [cell["by"], cell["provider"], cell.get("customer") or cell.get("dimension") or ""]
        if cell["status"] != "compared":
            shown = HIDDEN if cell["suppressed"] else "[dim]not measured[/]"
            table.add_row(*keys, shown, "", "", "", "", "", "", "")
            continue
        table.add_row(
            *keys,
            f"{cell['n_before']} → {cell['n_after']}",
            _f(cell["mean_before"]),
            _f(cell["mean_after"]),
            _f(cell["difference"]),
            f"{_f(cell['ci_low'])} – {_f(cell['ci_high'])}",
            _f(cell["hedges_g"]),
            _p(cell["p_adjusted"]),
            "significant" if cell["significant"] else "",
        )
    console.print(table)
    console.print(
        "Only cells published in both campaigns are compared; groups of fewer than "
        f"{found['threshold']} respondents, and cells that would reveal one, are suppressed."
    )
