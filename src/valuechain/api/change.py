"""Change between campaigns as JSON: the ``valuechain change --json`` document for
the cells about one provider unit (see :mod:`valuechain.services.change`; a cell
held back in either campaign is suppressed, one a campaign has no answers for is not
measured, p-values are adjusted across every cell
of the organisation compared). Needs ``view_unit_results`` for the unit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from valuechain.analytics.change import Correction
from valuechain.domain.access import Action
from valuechain.edge.dependencies import CurrentValuechain, allow
from valuechain.edge.errors import NOT_FOUND
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services.change import change
from valuechain.services.measure_types import Change, ChangeDocument

router = APIRouter(route_class=IdempotentRoute, tags=["measure"])


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
) -> Change:
    """Welch test, Hedges' g and the adjusted p of every cell about the unit as a
    provider, from campaign ``from`` to campaign ``to``."""
    vc.unit(unit_id)
    return change(vc, before, after, correction, provider=unit_id)
