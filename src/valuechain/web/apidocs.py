"""The API's documentation pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served
with their scripts and styles from the app's own vendored copies
(``static/vendor/swagger-ui``, ``static/vendor/redoc``): they work without the
internet, and the page loads nothing from another site. They hold no data (the schema
is public), so they are public like the schema."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse

from valuechain.web.probe import ProbeRule

SCHEMA = "/openapi.json"
VENDOR = "/static/vendor"
TITLE = "Valuechain API"
FAVICON = "/static/favicon.svg"

# No session is looked up or started: the pages hold nothing a role decides.
router = APIRouter(include_in_schema=False, dependencies=[Depends(ProbeRule())])


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui() -> HTMLResponse:
    """Swagger UI over the schema, from the vendored swagger-ui-dist."""
    return get_swagger_ui_html(
        openapi_url=SCHEMA,
        title=TITLE,
        swagger_js_url=f"{VENDOR}/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{VENDOR}/swagger-ui/swagger-ui.css",
        swagger_favicon_url=FAVICON,
        oauth2_redirect_url="/docs/oauth2-redirect",
        # The badge would send the schema to validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get("/docs/oauth2-redirect", response_class=HTMLResponse)
def swagger_ui_redirect() -> HTMLResponse:
    """Swagger UI's OAuth2 redirect page (one inline script, no other asset)."""
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc", response_class=HTMLResponse)
def redoc() -> HTMLResponse:
    """ReDoc over the schema, from the vendored redoc bundle, without Google Fonts."""
    return get_redoc_html(
        openapi_url=SCHEMA,
        title=TITLE,
        redoc_js_url=f"{VENDOR}/redoc/redoc.standalone.js",
        redoc_favicon_url=FAVICON,
        with_google_fonts=False,
    )
