"""A provider's survey dashboard as a page: score per dimension with intervals,
gaps, the customers × dimensions heat map (suppressed cells shown as such), the
trend across campaigns, key drivers, the importance–performance quadrants, what
changed and the comment themes.

Charts are Vega-Lite specifications built here with Altair and drawn in the browser
by the vendored vega, vega-lite and vega-embed; every chart has a table with the
same numbers next to it. Leads see their own unit and the units they have a
relationship with (``view_unit_results``)."""

from __future__ import annotations

from typing import Annotated, Any

import altair as alt
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from valuechain.api.dependencies import CurrentValuechain, allow
from valuechain.domain.access import Action
from valuechain.services.dashboard import dashboard
from valuechain.services.errors import NotFound
from valuechain.web.templating import templates

router = APIRouter(
    include_in_schema=False,
    dependencies=[allow(Action.VIEW_UNIT_RESULTS, unit_param="unit_id")],
)

HIDDEN = "hidden"
WIDTH = 520
SCALE = alt.Scale(domain=[1, 7])


def _data(rows: list[dict[str, Any]]) -> alt.Data:
    """Inline data for a chart (the page carries its numbers; nothing is fetched)."""
    return alt.Data(values=rows)  # type: ignore[no-untyped-call]


def _spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The Vega-Lite specification (validated against the schema by Altair)."""
    spec: dict[str, Any] = chart.to_dict()
    return spec


def _shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if not r["suppressed"]]


def dimension_chart(doc: dict[str, Any]) -> dict[str, Any]:
    """Mean per dimension with its 95% interval (point and rule)."""
    data = _data(_shown(doc["dimensions"]))
    base = alt.Chart(data).encode(
        y=alt.Y("label:N", sort=None, title=None),
    )
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


def heat_chart(doc: dict[str, Any]) -> dict[str, Any]:
    """Customers × dimensions; suppressed cells grey and labelled ``hidden``."""
    rows = [
        {**r, "shown": "" if not r["suppressed"] else HIDDEN, "value": r["mean"]}
        for r in doc["heat"]
    ]
    data = _data(rows)
    order = [d["label"] for d in doc["dimensions"]] or None
    base = alt.Chart(data).encode(
        x=alt.X("label:N", sort=order, title=None, axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("customer:N", title="Customer"),
    )
    cells = base.mark_rect(stroke="white").encode(
        color=alt.condition(
            "datum.suppressed",
            alt.value("#d9d9d9"),
            alt.Color(
                "value:Q", scale=alt.Scale(scheme="redyellowgreen", domain=[1, 7]), title="Mean"
            ),
        ),
        tooltip=[
            alt.Tooltip("customer:N"),
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
    height = 26 * len({r["customer"] for r in rows})
    return _spec((cells + values).properties(width=WIDTH, height=height))


def trend_chart(doc: dict[str, Any]) -> dict[str, Any]:
    """Every series (the score and each dimension) across campaigns."""
    data = _data(_shown(doc["trend"]))
    base = alt.Chart(data).encode(
        x=alt.X("campaign:O", title="Campaign", sort=doc["campaigns"]),
        color=alt.Color("series:N", title="Series"),
    )
    line = base.mark_line(point=True).encode(
        y=alt.Y("mean:Q", scale=alt.Scale(zero=False), title="Mean score"),
        tooltip=[
            alt.Tooltip("series:N"),
            alt.Tooltip("campaign:O"),
            alt.Tooltip("mean:Q", format=".2f"),
            alt.Tooltip("n:Q"),
        ],
    )
    band = base.mark_errorbar().encode(y=alt.Y("ci_low:Q", title="Mean score"), y2="ci_high:Q")
    return _spec((band + line).properties(width=WIDTH))


def driver_chart(drivers: dict[str, Any]) -> dict[str, Any]:
    """Relative weights with bootstrap 95% intervals."""
    data = _data(drivers["drivers"])
    base = alt.Chart(data).encode(y=alt.Y("dimension:N", sort="-x", title=None))
    bars = base.mark_bar(color="#1f4e8c").encode(
        x=alt.X("weight:Q", title=f"Relative weight (share of R² = {drivers['r2']:.2f})"),
        tooltip=[
            alt.Tooltip("dimension:N"),
            alt.Tooltip("weight:Q", format=".3f"),
            alt.Tooltip("ci_low:Q", format=".3f"),
            alt.Tooltip("ci_high:Q", format=".3f"),
        ],
    )
    rule = base.mark_rule(color="#222").encode(x="ci_low:Q", x2="ci_high:Q")
    return _spec((bars + rule).properties(width=WIDTH))


def quadrant_chart(drivers: dict[str, Any]) -> dict[str, Any]:
    """Importance (share of R²) against performance (mean), split at the means."""
    rows = [d for d in drivers["drivers"] if d.get("share") is not None]
    data = _data(rows)
    x = alt.X(
        "share:Q", title="Importance (share of explained variance)", axis=alt.Axis(format="%")
    )
    y = alt.Y("performance:Q", title="Performance (mean)", scale=alt.Scale(zero=False))
    points = (
        alt.Chart(data)
        .mark_point(filled=True, size=110)
        .encode(
            x=x,
            y=y,
            color=alt.Color("quadrant:N", title="Quadrant"),
            tooltip=["dimension:N", "quadrant:N", alt.Tooltip("share:Q", format=".0%")],
        )
    )
    labels = alt.Chart(data).mark_text(dx=8, align="left").encode(x=x, y=y, text="dimension:N")
    mean_x = alt.Chart(data).mark_rule(strokeDash=[4, 4], color="#888").encode(x="mean(share):Q")
    mean_y = (
        alt.Chart(data).mark_rule(strokeDash=[4, 4], color="#888").encode(y="mean(performance):Q")
    )
    return _spec((points + labels + mean_x + mean_y).properties(width=WIDTH, height=320))


def charts(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every chart of the dashboard that has data, by name."""
    out: dict[str, dict[str, Any]] = {}
    if _shown(doc["dimensions"]):
        out["dimensions"] = dimension_chart(doc)
    if doc["heat"]:
        out["heat"] = heat_chart(doc)
    if _shown(doc["trend"]):
        out["trend"] = trend_chart(doc)
    drivers = doc["drivers"]
    if drivers and not drivers["suppressed"] and drivers.get("r2") is not None:
        out["drivers"] = driver_chart(drivers)
        out["quadrants"] = quadrant_chart(drivers)
    return out


@router.get("/units/{unit_id}/dashboard", response_class=HTMLResponse)
def dashboard_page(
    unit_id: str,
    request: Request,
    vc: CurrentValuechain,
    instrument: Annotated[str | None, Query()] = None,
) -> Response:
    """The provider dashboard of one unit; a friendly 404 for an unknown unit."""
    try:
        unit = vc.unit(unit_id)
        doc = dashboard(vc, unit_id, instrument)
    except NotFound as error:
        return templates.TemplateResponse(
            request,
            "errors/404.html",
            {"message": str(error), "nav": "units"},
            status_code=404,
        )
    customers = sorted({r["customer"] for r in doc["heat"]})
    heat = {(r["customer"], r["dimension"]): r for r in doc["heat"]}
    return templates.TemplateResponse(
        request,
        "dashboard/dashboard.html",
        {
            "nav": "units",
            "unit": unit,
            "doc": doc,
            "charts": charts(doc),
            "customers": customers,
            "heat": heat,
        },
    )
