"""The web app factory: server-rendered pages, the JSON API and the static files,
every route behind the access layer."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from functools import cache
from types import MappingProxyType

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute

from valuechain import __version__
from valuechain.api import PREFIX as API_PREFIX
from valuechain.api import router as api_router
from valuechain.edge.dependencies import access_rules
from valuechain.edge.errors import Unexpected
from valuechain.edge.errors import install as install_error_handlers
from valuechain.services.organisation import Valuechain
from valuechain.services.sso import SsoProvider, SsoSettings
from valuechain.settings import settings
from valuechain.web import admin as admin_pages
from valuechain.web import agreement as agreement_pages
from valuechain.web import apidocs, csp, metrics, probe
from valuechain.web import campaign as campaign_pages
from valuechain.web import connect as connect_pages
from valuechain.web import demo as demo_pages
from valuechain.web import flow as flow_pages
from valuechain.web import map as map_pages
from valuechain.web import map_edit as map_edit_pages
from valuechain.web import measure as measure_pages
from valuechain.web import notification as notification_pages
from valuechain.web import partner as partner_pages
from valuechain.web import report as report_pages
from valuechain.web import request as request_pages
from valuechain.web import session as session_pages
from valuechain.web import suggestion as suggestion_pages
from valuechain.web import survey as survey_pages
from valuechain.web.input_guard import InputGuard
from valuechain.web.limits import BodyLimit, UploadLimits
from valuechain.web.logs import RequestId
from valuechain.web.logs import install as redact_survey_tokens
from valuechain.web.templating import STATIC, templates


class RouteWithoutAccessRule(RuntimeError):
    """A route was added without saying who may use it."""


def check_access_rules(app: FastAPI) -> None:
    """Refuse to build an app with a route that has no access rule: forgetting one
    must fail loudly at start-up, not open a page to everybody."""
    missing = [
        f"{sorted(route.methods or ())} {route.path}"
        for route in iter_route_contexts(app.routes)
        # Included routers are views over their routes: the route context carries the
        # dependencies the request will really run, the router's and the route's.
        if isinstance(route.original_route, APIRoute) and not access_rules(route.dependant)
    ]
    if missing:
        raise RouteWithoutAccessRule("routes without an access rule: " + ", ".join(missing))


#: Every router an app serves, in the order their routes match.
ROUTERS: tuple[APIRouter, ...] = (
    api_router,
    session_pages.router,
    admin_pages.router,
    map_pages.router,
    map_edit_pages.router,
    suggestion_pages.router,
    flow_pages.router,
    report_pages.router,
    partner_pages.router,
    survey_pages.router,
    campaign_pages.router,
    measure_pages.router,
    notification_pages.router,
    connect_pages.router,
    agreement_pages.router,
    request_pages.router,
    probe.router,
    apidocs.router,
    demo_pages.router,
)


@cache
def _prepared_routes() -> tuple[BaseRoute, ...]:
    """The routes of ``ROUTERS`` as an app including them serves them, every one
    checked for an access rule (``RouteWithoutAccessRule`` on every call while one is
    missing: a failure is not cached)."""
    # An included router prepares each route's dependant and request schemas when it
    # is first matched or checked (~0.5 s for all the routes, per app). The routers are
    # module-level and complete once imported, so every app of this process shares one
    # prepared and checked copy. They declare no startup/shutdown handlers or lifespans
    # (which ``include_router`` would also merge into the app).
    prepared = FastAPI()
    before = len(prepared.routes)
    for router in ROUTERS:
        prepared.include_router(router)
    check_access_rules(prepared)
    return tuple(prepared.routes[before:])


def create_app(
    vc: Valuechain,
    *,
    demo_account_id: str | None = None,
    sso: SsoSettings | None = None,
    limits: UploadLimits | None = None,
    metrics_public: bool | None = None,
) -> FastAPI:
    """A FastAPI app serving ``vc``: pages at ``/``, JSON at ``/api/v1``, the OpenAPI
    schema at ``/openapi.json`` with interactive docs at ``/docs``.

    Every page and endpoint needs a signed-in account allowed by the access policy;
    only sign-in, setup, the static files and the API schema are public. Without a
    session, pages redirect to ``/signin`` and the API answers 401. With
    ``demo_account_id`` a visitor without a session is that account (the demo; only the
    demo admin in the demo's own database, else ``NotADemoDatabase``). With ``sso``
    the sign-in page offers single sign-on through that OpenID Connect provider.

    Errors answer with a friendly HTML page, or with problem+json under the API
    prefix (:mod:`valuechain.edge.errors`), never with a traceback. Request bodies
    above ``limits`` (default: from the environment, see :mod:`valuechain.web.limits`)
    are refused with 413."""
    # Survey tokens are credentials: no log line of this process may carry one.
    redact_survey_tokens()
    app = FastAPI(
        title="Valuechain",
        version=__version__,
        # Served by web/apidocs from the vendored Swagger UI and ReDoc instead.
        docs_url=None,
        redoc_url=None,
        description="Internal customer service along the value chain. Sign in with "
        "`POST /api/v1/session` and send the token as `Authorization: Bearer <token>`.",
    )
    if demo_account_id is not None:
        # Imported here: only the demo needs the demo's builders.
        from valuechain.services.demo import require_demo_database

        # Automatic sign-in never outside the database the demo made.
        require_demo_database(vc, demo_account_id)
    app.state.valuechain = vc
    app.state.demo_account_id = demo_account_id
    # Visitors of the demo without a cookie share one session (edge.dependencies).
    app.state.demo_session = None
    app.state.demo_session_lock = threading.Lock()
    app.state.api_prefix = API_PREFIX
    app.state.sso = SsoProvider(sso) if sso else None
    app.state.queue = probe.Queue(vc)
    app.state.metrics = metrics.Metrics(vc, app.state.queue)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # The same routes as ``app.include_router(router)`` for each of ``ROUTERS``, already
    # prepared and checked (see ``_prepared_routes``); routes added later to this app
    # stay its own.
    app.router.routes.extend(_prepared_routes())
    # The shared routes take dependency overrides from the app that prepared them, so
    # overriding on this app would be silently ignored: refuse it loudly instead.
    app.dependency_overrides = MappingProxyType({})  # type: ignore[assignment]
    public = settings().metrics_public if metrics_public is None else metrics_public
    # Per app, as whether it is public is: its access rule is set right here.
    app.include_router(metrics.router(public=public))

    # Innermost of our middleware: a bug is answered 500 here, so the answer still
    # passes the security headers and the request id below, and the connection is
    # kept (Starlette would raise it on to uvicorn, which then drops the connection).
    app.add_middleware(Unexpected, api_prefix=API_PREFIX, templates=templates)
    # NaN/Infinity in JSON and NUL in any text are refused before a route reads them;
    # inside BodyLimit (the body it reads is already capped) and inside the security
    # headers below (its answers carry them too).
    app.add_middleware(InputGuard, api_prefix=API_PREFIX)

    @app.middleware("http")
    async def session_cookie_and_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # The demo signs a visitor in while answering their first page; the cookie
        # can only be set here, on the way out, whatever the page returned.
        response = await call_next(request)
        path = request.url.path
        if csp.is_docs(path):
            # The documentation pages' inline scripts are allowed by their hashes,
            # so the (small) page is read before its policy is written.
            body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
            response = Response(body, response.status_code, headers=dict(response.headers))
            response.headers["Content-Security-Policy"] = csp.docs_policy(body)
        else:
            response.headers.setdefault("Content-Security-Policy", csp.policy(path))
        started = getattr(request.state, "new_session", None)
        if started is not None:
            session_pages.set_session_cookie(request, response, started)
        # No page may be framed by another site (clickjacking of the sign-in and
        # sign-out forms), sniffed into another type, or leak its URL to other sites;
        # the policy above runs no script and loads nothing the app does not serve.
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    # Outermost of our middleware: an oversized body is refused before anything reads it.
    app.add_middleware(BodyLimit, limits=limits or UploadLimits.from_environment())
    # Outside it: refused bodies are timed and carry a request id too.
    app.add_middleware(metrics.RequestLatency, metrics=app.state.metrics)
    app.add_middleware(RequestId)

    # One error map for pages and API alike (valuechain.edge.errors).
    install_error_handlers(app, api_prefix=API_PREFIX, templates=templates)

    return app
