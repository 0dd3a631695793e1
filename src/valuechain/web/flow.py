"""Capability 6, Flow, as a page: utilisation per stage along the chain, the
bottleneck, and a what-if form that recomputes in place (HTMX)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from valuechain.domain.access import Action
from valuechain.edge.dependencies import CurrentValuechain, allow
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services.flow import InvalidWhatIf
from valuechain.services.flow import flow as flow_of
from valuechain.services.flow_types import FlowState, Stage
from valuechain.web.templating import templates

# The flow of the chain is organisation-wide knowledge, like the map it comes from.
router = APIRouter(
    route_class=IdempotentRoute, include_in_schema=False, dependencies=[allow(Action.VIEW_MAP)]
)

# Bars are drawn up to this utilisation; beyond it they are clipped and say so.
CHART_MAX = 1.25
CAPACITY_RANGE = (-50, 100)
COST_RANGE = (-50, 50)


def chain_order(doc: FlowState) -> list[Stage]:
    """Stages from where items enter to the external customers (left to right): the
    longest way to the customers first, so short side lines end up on the right."""
    return sorted(
        doc["stages"],
        key=lambda s: (-s["steps_to_customer"], -s["step"], -(s["flow"] or 0.0), s["id"]),
    )


def busiest_first(doc: FlowState) -> list[Stage]:
    """Stages by utilisation, highest first, then by id; a stage without a
    utilisation (unlimited capacity, or an unbounded chain) after every stage that
    has one. Sorted here, not with Jinja's ``sort``: ``None`` does not compare with a
    number, and an unlimited stage next to a limited one made the page answer 500."""
    return sorted(
        doc["stages"],
        key=lambda s: (s["utilization"] is None, -(s["utilization"] or 0.0), s["id"]),
    )


def bar_height(value: float | None) -> float:
    """Percent of the chart's height for a utilisation or load."""
    return 0.0 if value is None else min(value, CHART_MAX) / CHART_MAX * 100


def _specs(stage: str, capacity: float, cost: float) -> list[str]:
    specs = []
    if capacity:
        specs.append(f"{stage}={capacity:+g}%")
    if cost:
        specs.append(f"{stage}={cost:+g}%cost")
    return specs


@router.get("/flow", response_class=HTMLResponse)
def flow_page(request: Request, vc: CurrentValuechain) -> Response:
    """Throughput, the bottleneck and every stage's utilisation, with the what-if form."""
    doc = flow_of(vc)
    return templates.TemplateResponse(
        request,
        "flow/flow.html",
        {
            "nav": "flow",
            "doc": doc,
            "stages": chain_order(doc),
            "busiest": busiest_first(doc),
            "bar_height": bar_height,
            "chart_max": CHART_MAX,
            "capacity_range": CAPACITY_RANGE,
            "cost_range": COST_RANGE,
        },
    )


@router.get("/flow/what-if", response_class=HTMLResponse)
def what_if_fragment(
    request: Request,
    vc: CurrentValuechain,
    stage: Annotated[str, Query()] = "",
    capacity: Annotated[float, Query(ge=CAPACITY_RANGE[0], le=CAPACITY_RANGE[1])] = 0,
    cost: Annotated[float, Query(ge=COST_RANGE[0], le=COST_RANGE[1])] = 0,
) -> Response:
    """The effect of changing one stage's capacity and cost per item: new throughput,
    new bottleneck, wasted capacity, inventory growth and money (an HTML fragment)."""
    specs = _specs(stage, capacity, cost)
    context: dict[str, Any] = {"specs": specs, "error": None, "doc": None}
    if specs:
        try:
            doc = flow_of(vc, specs)
            context.update(doc=doc, stages=chain_order(doc), bar_height=bar_height)
        except InvalidWhatIf as error:
            # The fragment shows why, next to the sliders that made the spec.
            context["error"] = str(error)
    response = templates.TemplateResponse(request, "flow/_what_if.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response
