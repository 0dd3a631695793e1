"""`valuechain report`: the findings of the organisation or one unit, as a table,
JSON, a standalone HTML file or a PDF."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from valuechain.cli.app import app, console, open_valuechain, print_json
from valuechain.cli.tables import Table

if TYPE_CHECKING:
    from valuechain.services.report import Report


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"
    PDF = "pdf"


def _table(doc: Report) -> None:
    console.print(f"[bold]{doc.title}[/]")
    if not doc.findings:
        console.print(f"Nothing stands out: none of {doc.considered} candidates passed its test.")
        return
    table = Table(show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("Finding")
    table.add_column("Next step")
    table.add_column("Evidence")
    for i, found in enumerate(doc.findings, 1):
        c = found.candidate
        evidence = c.test if found.q is None else f"{c.test}, q = {found.q:.3g}"
        table.add_row(str(i), c.sentence, c.next_step, evidence)
    console.print(table)


@app.command("report")
def report_command(
    unit: Annotated[
        str | None, typer.Option("--unit", help="A unit's report instead of the organisation's.")
    ] = None,
    fmt: Annotated[
        Format, typer.Option("--format", help="text (a table), json, html or pdf.")
    ] = Format.TEXT,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write to this file (required for pdf)."),
    ] = None,
    all_findings: Annotated[
        bool, typer.Option("--all", help="Up to 7 findings instead of 5.")
    ] = False,
    relationship: Annotated[
        str | None,
        typer.Option(
            "--relationship",
            metavar="PROVIDER:CUSTOMER",
            help="One relationship's report instead of the organisation's.",
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print one JSON document (the API's report), as the other verbs."
        ),
    ] = False,
) -> None:
    """Findings that passed their test (Holm across all candidates), each
    a plain sentence with its number, uncertainty, a chart and a next step."""
    # Imported here: the report gathers every capability and its rendering pulls in
    # the web templates, charts and WeasyPrint; other commands start without them.
    from valuechain.services.report import ReportError, report
    from valuechain.web.report import render_html, render_pdf

    if as_json and fmt not in (Format.TEXT, Format.JSON):
        raise typer.BadParameter(f"--json prints JSON, not {fmt.value}", param_hint="--format")
    vc = open_valuechain()
    pair: tuple[str, str] | None = None
    if relationship is not None:
        provider, sep, customer = relationship.partition(":")
        if not sep or not provider or not customer:
            raise typer.BadParameter("write PROVIDER:CUSTOMER", param_hint="--relationship")
        pair = (provider, customer)
    doc = report(vc, unit, relationship=pair, all_findings=all_findings)
    if as_json and output is None:
        print_json(doc.to_json())
        return
    if as_json:
        fmt = Format.JSON
    if fmt is Format.TEXT:
        _table(doc)
        return
    if fmt is Format.PDF:
        if output is None:
            raise ReportError("a PDF needs a file: add -o report.pdf")
        output.write_bytes(render_pdf(doc))
        console.print(f"Wrote {output} ({len(doc.findings)} findings).")
        return
    text = (
        json.dumps(doc.to_json(), indent=2, ensure_ascii=False)
        if fmt is Format.JSON
        else render_html(doc)
    )
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"Wrote {output} ({len(doc.findings)} findings).")
