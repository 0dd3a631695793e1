"""Change between campaigns as JSON: the ``valuechain change --json`` document for
the cells about one provider unit (see :mod:`valuechain.services.change`; a cell
held back in either campaign is suppressed, one a campaign has no answers for is not
measured, p-values are adjusted across every cell
of the organisation compared). Needs ``view_unit_results`` for the unit."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from valuechain.analytics.change import Correction
from valuechain.domain.access import Action
from valuechain.edge.dependencies import CurrentValuechain, allow
from valuechain.edge.errors import NOT_FOUND
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services.change import change

router = APIRouter(route_class=IdempotentRoute, tags=["measure"])


class ChangeCell(BaseModel):
    """One compared cell; a suppressed cell keeps its keys and has no numbers."""

    by: str
    instrument: str
    provider: str
    customer: str | None = None
    dimension: str | None = None
    n_before: int | None = None
    n_after: int | None = None
    mean_before: float | None = None
    mean_after: float | None = None
    difference: float | None = Field(default=None, description="after − before")
    ci_low: float | None = Field(default=None, description="95% Welch interval.")
    ci_high: float | None = None
    t: float | None = None
    df: float | None = None
    p: float | None = None
    p_adjusted: float | None = Field(default=None, description="Across every cell compared.")
    hedges_g: float | None = None
    significant: bool | None = None
    status: Literal["compared", "suppressed", "not measured"] = Field(
        description="Why a cell has no numbers: suppressed by the threshold rule, or not "
        "measured (a campaign has no answers for it)."
    )
    suppressed: bool


class ChangeDocument(BaseModel):
    threshold: int
    from_: str = Field(alias="from")
    to: str
    correction: Correction
    compared: int
    alpha: float
    cells: list[ChangeCell]

    model_config = {"populate_by_name": True}


@router.get(
    "/units/{unit_id}/change",
    response_model=ChangeDocument,
    response_model_by_alias=True,
    responses=NOT_FOUND,
    dependencies=[allow(Action.VIEW_UNIT_RESULTS, unit_param="unit_id")],
    summary="Change of a provider's scores between two campaigns",
)
def get_change(
    unit_id: str,
    vc: CurrentValuechain,
    before: Annotated[
        str | None, Query(alias="from", description="Default: the campaign before `to`.")
    ] = None,
    after: Annotated[str | None, Query(alias="to", description="Default: the latest.")] = None,
    correction: Annotated[Correction, Query()] = Correction.HOLM,
) -> dict[str, Any]:
    """Welch test, Hedges' g and the adjusted p of every cell about the unit as a
    provider, from campaign ``from`` to campaign ``to``."""
    vc.unit(unit_id)
    return change(vc, before, after, correction, provider=unit_id)
