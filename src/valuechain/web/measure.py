"""A provider's survey dashboard as a page: score per dimension with intervals,
gaps, the customers × dimensions heat map (suppressed cells shown as such), the
trend across campaigns, key drivers, the importance–performance quadrants, what
changed and the comment themes.

Charts are Vega-Lite specifications built here with Altair and drawn in the browser
by the vendored vega, vega-lite and vega-embed; every chart has a table with the
same numbers next to it. Leads see their own unit and the units they have a
relationship with (``view_unit_results``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

import altair as alt
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from valuechain.domain.access import Action
from valuechain.edge.dependencies import CurrentValuechain, allow
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services.dashboard import unit_dashboard
from valuechain.web.templating import templates

router = APIRouter(
    route_class=IdempotentRoute,
    include_in_schema=False,
    dependencies=[allow(Action.VIEW_UNIT_RESULTS, unit_param="unit_id")],
)

HIDDEN = "hidden"
# Charts take their container's width (Vega-Lite "container" sizing), so a phone shows
# the whole chart instead of a sideways-scrolling box.
WIDTH = "container"
SCALE = alt.Scale(domain=[1, 7])
#: The name of every chart's inline dataset (Vega-Lite top-level ``datasets``).
ROWS = "rows"


def _data() -> alt.Data:
    """The chart's rows, given by name: the spec's shape is built once and cached,
    and each page puts its own numbers under ``datasets``."""
    return alt.NamedData(name=ROWS)


def _spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The Vega-Lite specification of ``chart`` without its rows (building it is
    the expensive part, so the shapes are cached; the tests validate the full spec)."""
    spec: dict[str, Any] = chart.to_dict(validate=False)
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    return spec


def _with_rows(skeleton: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {**skeleton, "datasets": {ROWS: rows}}


def _shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if not r["suppressed"]]


@lru_cache(maxsize=64)
def dimension_chart() -> dict[str, Any]:
    """Mean per dimension with its 95% interval (point and rule)."""
    base = alt.Chart(_data()).encode(y=alt.Y("label:N", sort=None, title=None))
    rule = base.mark_rule(strokeWidth=2, color="#8aa4c8").encode(
        x=alt.X("ci_low:Q", scale=SCALE, title="Mean score (1–7) with 95% interval"),
        x2="ci_high:Q",
    )
    point = base.mark_point(filled=True, size=90, color="#1f4e8c").encode(
        x="mean:Q",
        tooltip=[
            alt.Tooltip("label:N", title="Dimension"),
            alt.Tooltip("mean:Q", format=".2f"),
            alt.Tooltip("ci_low:Q", format=".2f", title="95% CI low"),
            alt.Tooltip("ci_high:Q", format=".2f", title="95% CI high"),
            alt.Tooltip("n:Q"),
        ],
    )
    return _spec((rule + point).properties(width=WIDTH))


@lru_cache(maxsize=64)
def heat_chart(order: tuple[str, ...], rows: int) -> dict[str, Any]:
    """Customers × dimensions (``order``: the dimension labels left to right, ``rows``:
    how many customers); suppressed cells grey and labelled ``hidden``."""
    base = alt.Chart(_data()).encode(
        x=alt.X("label:N", sort=list(order), title=None, axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("name:N", title="Customer"),
    )
    colour = alt.Color(
        "mean:Q", scale=alt.Scale(scheme="redyellowgreen", domain=[1, 7]), title="Mean"
    )
    cells = base.mark_rect(stroke="white").encode(
        color=alt.condition("datum.suppressed", alt.value("#d9d9d9"), colour),
        tooltip=[
            alt.Tooltip("name:N", title="Customer"),
            alt.Tooltip("label:N", title="Dimension"),
            alt.Tooltip("mean:Q", format=".2f"),
            alt.Tooltip("n:Q"),
            alt.Tooltip("shown:N", title="Suppressed"),
        ],
    )
    values = base.mark_text(fontSize=11).encode(
        text=alt.condition("datum.suppressed", alt.value(HIDDEN), alt.Text("mean:Q", format=".1f")),
        color=alt.value("#222"),
    )
    return _spec((cells + values).properties(width=WIDTH, height=26 * rows))


@lru_cache(maxsize=64)
def trend_chart(campaigns: tuple[str, ...]) -> dict[str, Any]:
    """Every series (the score and each dimension) across ``campaigns``."""
    base = alt.Chart(_data()).encode(
        x=alt.X("campaign:O", title="Campaign", sort=list(campaigns)),
        # Below the chart, so a phone gives the lines the whole width.
        color=alt.Color(
            "label:N",
            title="Series",
            sort=None,
            legend=alt.Legend(orient="bottom", columns=2, labelLimit=260),
        ),
    )
    line = base.mark_line(point=True).encode(
        y=alt.Y("mean:Q", scale=alt.Scale(zero=False), title="Mean score"),
        tooltip=[
            alt.Tooltip("label:N", title="Series"),
            alt.Tooltip("campaign:O"),
            alt.Tooltip("mean:Q", format=".2f"),
            alt.Tooltip("n:Q"),
        ],
    )
    band = base.mark_errorbar().encode(y=alt.Y("ci_low:Q", title="Mean score"), y2="ci_high:Q")
    return _spec((band + line).properties(width=WIDTH))


@lru_cache(maxsize=64)
def driver_chart(r2: str) -> dict[str, Any]:
    """Relative weights with bootstrap 95% intervals (``r2`` as shown in the title)."""
    base = alt.Chart(_data()).encode(y=alt.Y("label:N", sort="-x", title=None))
    bars = base.mark_bar(color="#1f4e8c").encode(
        x=alt.X("weight:Q", title=f"Relative weight (they add up to R² = {r2})"),
        tooltip=[
            alt.Tooltip("label:N", title="Dimension"),
            alt.Tooltip("weight:Q", format=".3f"),
            alt.Tooltip("ci_low:Q", format=".3f"),
            alt.Tooltip("ci_high:Q", format=".3f"),
        ],
    )
    rule = base.mark_rule(color="#222").encode(x="ci_low:Q", x2="ci_high:Q")
    return _spec((bars + rule).properties(width=WIDTH))


@lru_cache(maxsize=64)
def quadrant_chart() -> dict[str, Any]:
    """Importance (share of R²) against performance (mean), split at the means. Each
    dimension is a colour named in the legend, each quadrant a shape: text beside
    the points overlapped where dimensions lie close together."""
    x = alt.X(
        "share:Q", title="Importance (share of explained variance)", axis=alt.Axis(format="%")
    )
    y = alt.Y("performance:Q", title="Performance (mean)", scale=alt.Scale(zero=False))
    chart = alt.Chart(_data())
    points = chart.mark_point(filled=True, size=120).encode(
        x=x,
        y=y,
        color=alt.Color(
            "label:N", title="Dimension", scale=alt.Scale(scheme="category10"),
            legend=alt.Legend(orient="bottom", columns=2, labelLimit=260),
        ),
        shape=alt.Shape("quadrant:N", title="Quadrant", legend=alt.Legend(orient="bottom")),
        tooltip=[
            alt.Tooltip("label:N", title="Dimension"),
            "quadrant:N",
            alt.Tooltip("share:Q", format=".0%"),
        ],
    )  # fmt: skip
    mean_x = chart.mark_rule(strokeDash=[4, 4], color="#888").encode(x="mean(share):Q")
    mean_y = chart.mark_rule(strokeDash=[4, 4], color="#888").encode(y="mean(performance):Q")
    return _spec((points + mean_x + mean_y).properties(width=WIDTH, height=320))


def charts(doc: dict[str, Any], *, validate: bool = False) -> dict[str, dict[str, Any]]:
    """Every chart of the dashboard that has data, by name, with its rows; with
    ``validate`` each spec is checked against the Vega-Lite schema
    (``SchemaValidationError``)."""
    out: dict[str, dict[str, Any]] = {}
    if _shown(doc["dimensions"]):
        out["dimensions"] = _with_rows(dimension_chart(), _shown(doc["dimensions"]))
    names = doc.get("names", {})
    labels = doc.get("labels", {})
    if doc["heat"]:
        rows = [
            {
                **r,
                "name": names.get(r["customer"], r["customer"]),
                "shown": HIDDEN if r["suppressed"] else "",
            }
            for r in doc["heat"]
        ]
        order = tuple(d["label"] for d in doc["dimensions"])
        customers = len({r["customer"] for r in rows})
        out["heat"] = _with_rows(heat_chart(order, customers), rows)
    if _shown(doc["trend"]):
        out["trend"] = _with_rows(trend_chart(tuple(doc["campaigns"])), _shown(doc["trend"]))
    drivers = doc["drivers"]
    if drivers and not drivers["suppressed"] and drivers.get("r2") is not None:
        named = [
            {**d, "label": labels.get(d["dimension"], d["dimension"])} for d in drivers["drivers"]
        ]
        out["drivers"] = _with_rows(driver_chart(f"{drivers['r2']:.2f}"), named)
        quadrant_rows = [d for d in named if d.get("share") is not None]
        out["quadrants"] = _with_rows(quadrant_chart(), quadrant_rows)
    if validate:
        for spec in out.values():
            alt.Chart.from_dict(spec, validate=True)
    return out


@router.get("/units/{unit_id}/dashboard", response_class=HTMLResponse)
def dashboard_page(
    unit_id: str,
    request: Request,
    vc: CurrentValuechain,
    instrument: Annotated[str | None, Query()] = None,
) -> Response:
    """The provider dashboard of one unit; a friendly 404 for an unknown unit."""
    unit, doc = unit_dashboard(vc, unit_id, instrument)
    customers = sorted({r["customer"] for r in doc["heat"]})
    heat = {(r["customer"], r["dimension"]): r for r in doc["heat"]}
    return templates.TemplateResponse(
        request,
        "measure/dashboard.html",
        {
            "nav": "units",
            "unit": unit,
            "doc": doc,
            "charts": charts(doc),
            "customers": customers,
            "heat": heat,
        },
    )
