"""`valuechain sla`: service levels of every provider → customer relationship with
requests, on business-hours clocks against the agreements' targets."""

from __future__ import annotations

from typing import Annotated

import typer

from valuechain.cli.app import app, console, open_valuechain, print_json
from valuechain.cli.tables import Table


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


@app.command()
def sla(
    unit: Annotated[
        str | None, typer.Option("--unit", help="Only relationships UNIT provides or asks.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Per relationship: requests, first responses and resolutions within target,
    median business hours to resolution, and the share of resolutions thanked."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import request as requests

    vc = open_valuechain()
    doc = requests.sla_for_unit(vc, unit) if unit else requests.sla(vc)
    if as_json:
        print_json(doc)
        return
    table = Table(title="Service levels (business hours)", title_justify="left")
    for col in ("provider", "customer"):
        table.add_column(col)
    for col in ("requests", "response met", "resolution met", "median h", "thanked"):
        table.add_column(col, justify="right")
    for r in doc["relationships"]:
        median = r["median_resolution_hours"]
        table.add_row(
            r["provider"],
            r["customer"],
            f"{r['requests']:,}",
            _pct(r["first_response_met_pct"]),
            _pct(r["resolution_met_pct"]),
            "—" if median is None else f"{median:.1f}",
            _pct(r["thanked_pct"]),
        )
    console.print(table)
    console.print("— : no target agreed, or nothing to judge yet.")
