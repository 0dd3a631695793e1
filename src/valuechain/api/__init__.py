"""The JSON API under ``/api/v1``: a thin edge over :class:`valuechain.Valuechain`.

One router per capability (``map`` so far), combined into :data:`router`, which the
web app includes. The organisation is read from ``request.app.state.valuechain``
(see :mod:`valuechain.api.dependencies`), so any FastAPI app that sets it can mount
the API.
"""

from __future__ import annotations

from fastapi import APIRouter

from valuechain.api import map as map_api

PREFIX = "/api/v1"

router = APIRouter(prefix=PREFIX)
router.include_router(map_api.router)

__all__ = ["PREFIX", "router"]
