"""The web app factory: server-rendered pages, the JSON API and the static files."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from valuechain import __version__
from valuechain.api import PREFIX as API_PREFIX
from valuechain.api import router as api_router
from valuechain.services.organisation import Valuechain
from valuechain.web import map as map_pages
from valuechain.web.templating import STATIC, templates


def create_app(vc: Valuechain) -> FastAPI:
    """A FastAPI app serving ``vc``: pages at ``/``, JSON at ``/api/v1``, the OpenAPI
    schema at ``/openapi.json`` with interactive docs at ``/docs``.

    Unknown paths answer with a friendly HTML page, or with JSON ``{"detail"}`` under
    the API prefix, never with a traceback."""
    app = FastAPI(
        title="Valuechain",
        version=__version__,
        description="Internal customer service along the value chain.",
    )
    app.state.valuechain = vc
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(api_router)
    app.include_router(map_pages.router)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if request.url.path.startswith(API_PREFIX) or error.status_code != 404:
            return JSONResponse(
                {"detail": error.detail}, status_code=error.status_code, headers=error.headers
            )
        return templates.TemplateResponse(
            request,
            "errors/404.html",
            {"message": "There is no page at this address."},
            status_code=404,
        )

    return app
