"""The JSON API under ``/api/v1``: a thin edge over :class:`valuechain.Valuechain`.

One router per capability (``map`` so far), plus ``session`` (sign-in) and ``admin``,
combined into :data:`router`, which the web app includes. The organisation is read
from ``request.app.state.valuechain`` (see :mod:`valuechain.edge.dependencies`), so
any FastAPI app that sets it can mount the API.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from valuechain.api import admin as admin_api
from valuechain.api import agreement as agreement_api
from valuechain.api import campaign as campaign_api
from valuechain.api import change as change_api
from valuechain.api import comment as comment_api
from valuechain.api import connect as connect_api
from valuechain.api import flow as flow_api
from valuechain.api import map as map_api
from valuechain.api import map_edit as map_edit_api
from valuechain.api import map_structure as map_structure_api
from valuechain.api import measure as measure_api
from valuechain.api import notification as notification_api
from valuechain.api import partner as partner_api
from valuechain.api import person as person_api
from valuechain.api import report as report_api
from valuechain.api import request as request_api
from valuechain.api import session as session_api
from valuechain.api import suggestion as suggestion_api
from valuechain.edge.errors import Problem, Unprocessable

PREFIX = "/api/v1"

# Every endpoint but sign-in may answer these; documented once for all of them.
ACCESS_REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Not signed in"},
    403: {"model": Problem, "description": "The account's role does not allow this"},
    413: {"model": Problem, "description": "The request body is too large"},
    # FastAPI's own answer to a body that is not UTF-8 (found by schemathesis).
    400: {"model": Problem, "description": "A request body that cannot be read"},
    # Replaces FastAPI's HTTPValidationError: a 422 also carries a service's message.
    422: {"model": Unprocessable, "description": "Invalid input"},
}

router = APIRouter(prefix=PREFIX, responses=ACCESS_REFUSED)
router.include_router(map_api.router)
router.include_router(map_edit_api.router)
router.include_router(suggestion_api.router)
router.include_router(map_structure_api.router)
router.include_router(measure_api.router)
router.include_router(flow_api.router)
router.include_router(session_api.router)
router.include_router(admin_api.router)
router.include_router(report_api.router)
router.include_router(partner_api.router)
router.include_router(campaign_api.router)
router.include_router(change_api.router)
router.include_router(comment_api.router)
router.include_router(notification_api.router)
router.include_router(connect_api.router)
router.include_router(agreement_api.router)
router.include_router(request_api.router)
router.include_router(person_api.router)

__all__ = ["PREFIX", "router"]
