"""Capability 8, Tell, as pages and files: the same template renders a report in the
app, as a standalone HTML file and as PDF (WeasyPrint); charts are Vega-Lite specs
rendered to SVG on the server (vl-convert), so no browser is needed for a PDF."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated, Any

import vl_convert
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from valuechain.domain.access import Action, Principal
from valuechain.edge.dependencies import CurrentValuechain, allow, on_relationship
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services.report import Report, report
from valuechain.web.templating import STATIC, templates

# A relationship's report is survey findings about both units: their results rule.
REPORT_READER = on_relationship(Action.VIEW_RELATIONSHIP, results=True)
router = APIRouter(route_class=IdempotentRoute, include_in_schema=False)
ORGANISATION = [allow(Action.VIEW_ORGANISATION_REPORT)]
UNIT = [allow(Action.VIEW_UNIT_RESULTS, unit_param="unit_id")]
PDF = "application/pdf"


@lru_cache(maxsize=512)
def _svg(spec_json: str) -> str:
    return str(vl_convert.vegalite_to_svg(spec_json))


def chart_svg(spec: dict[str, Any] | None) -> Markup:
    """A finding's chart as inline SVG (empty when it has none)."""
    if spec is None:
        return Markup("")
    # The SVG comes from vl-convert, which escapes the data it draws.
    return Markup(_svg(json.dumps(spec, sort_keys=True)))


def _context(doc: Report) -> dict[str, Any]:
    return {"report": doc, "chart_svg": chart_svg}


def render_html(doc: Report) -> str:
    """The report as one self-contained HTML file (styles inlined)."""
    css = (STATIC / "css" / "report.css").read_text(encoding="utf-8")
    return templates.env.get_template("report/standalone.html").render(
        **_context(doc), inline_css=Markup(css)
    )


def render_pdf(doc: Report) -> bytes:
    """The report as PDF: the standalone HTML through WeasyPrint."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=render_html(doc), base_url=str(STATIC)).write_pdf()
    return pdf


def _page(request: Request, doc: Report, pdf_url: str) -> Response:
    return templates.TemplateResponse(
        request, "report/page.html", {**_context(doc), "nav": "reports", "pdf_url": pdf_url}
    )


def _pdf(doc: Report, name: str) -> Response:
    return Response(
        render_pdf(doc),
        media_type=PDF,
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )


@router.get("/reports", response_class=HTMLResponse, dependencies=ORGANISATION)
def organisation_page(request: Request, vc: CurrentValuechain) -> Response:
    """The one-page organisation report for executives."""
    return _page(request, report(vc), "/reports/organisation.pdf")


@router.get("/reports/organisation.pdf", dependencies=ORGANISATION)
def organisation_pdf(vc: CurrentValuechain) -> Response:
    """The organisation report as PDF."""
    return _pdf(report(vc), "valuechain-report")


@router.get("/units/{unit_id}/report", response_class=HTMLResponse, dependencies=UNIT)
def unit_page(request: Request, unit_id: str, vc: CurrentValuechain) -> Response:
    """A unit's report: what its customers and its place in the chain say."""
    doc = report(vc, unit_id)
    return _page(request, doc, f"/units/{unit_id}/report.pdf")


@router.get("/units/{unit_id}/report.pdf", dependencies=UNIT)
def unit_pdf(unit_id: str, vc: CurrentValuechain) -> Response:
    """A unit's report as PDF."""
    doc = report(vc, unit_id)
    return _pdf(doc, f"valuechain-report-{unit_id}")


@router.get("/relationships/{provider_id}/{customer_id}/report", response_class=HTMLResponse)
def relationship_page(
    request: Request,
    provider_id: str,
    customer_id: str,
    _: Annotated[Principal, Depends(REPORT_READER)],
    vc: CurrentValuechain,
) -> Response:
    """A relationship's report: findings about its provider and customer only."""
    doc = report(vc, relationship=(provider_id, customer_id))
    return _page(request, doc, f"/relationships/{provider_id}/{customer_id}/report.pdf")


@router.get("/relationships/{provider_id}/{customer_id}/report.pdf")
def relationship_pdf(
    provider_id: str,
    customer_id: str,
    _: Annotated[Principal, Depends(REPORT_READER)],
    vc: CurrentValuechain,
) -> Response:
    """A relationship's report as PDF."""
    doc = report(vc, relationship=(provider_id, customer_id))
    return _pdf(doc, f"valuechain-report-{provider_id}-{customer_id}")
