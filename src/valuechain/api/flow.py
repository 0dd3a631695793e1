"""Capability 6, Flow, as JSON: ``GET /api/v1/flow`` is the ``valuechain flow --json``
document (extra keys allowed), with ``what_if`` query parameters as ``--what-if``.

The flow of the chain is organisation-wide knowledge, like the map it is drawn from:
every signed-in role may read it (``view_map``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import StringConstraints

from valuechain.domain.access import Action
from valuechain.edge.dependencies import CurrentValuechain, allow
from valuechain.edge.errors import Problem
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services.flow import flow as flow_of
from valuechain.services.flow_types import FlowOut

router = APIRouter(
    route_class=IdempotentRoute, tags=["flow"], dependencies=[allow(Action.VIEW_MAP)]
)

# What a what-if looks like, for the schema: a result id (no whitespace, spelled out as
# the characters Python's ``\s`` matches, since schema validators disagree on ``\s``),
# then a change from -100% to +1000000% (services.flow.SPEC and its range). A request
# the schema allows is then one the service can read (found by schemathesis).
_NOT_SPACE = r"[^=\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
WHAT_IF_PATTERN = (
    rf"^{_NOT_SPACE}+="
    r"(\+([0-9]{1,6}(\.[0-9]+)?|1000000(\.0+)?)|-([0-9]{1,2}(\.[0-9]+)?|100(\.0+)?))"
    r"%(cost|capacity)?$"
)


@router.get(
    "/flow",
    response_model=FlowOut,
    responses={
        400: {"model": Problem, "description": "A what-if that cannot be read"},
        404: {"model": Problem, "description": "A what-if names an unknown result"},
    },
    summary="Throughput, bottleneck and what-if",
)
def get_flow(
    vc: CurrentValuechain,
    what_if: Annotated[
        list[Annotated[str, StringConstraints(pattern=WHAT_IF_PATTERN)]] | None,
        Query(description="`RESULT=+20%` (capacity) or `RESULT=-10%cost`; repeat for more."),
    ] = None,
) -> FlowOut:
    """Throughput to the paying external customers, the bottleneck, every stage's
    capacity, demand, utilisation and inventory growth, and money per week."""
    return flow_of(vc, what_if or [])
