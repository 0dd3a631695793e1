"""What every page and endpoint receives: the organisation the app was built for, and who is
asking, checked against the access policy.

Every route of the app declares an :class:`AccessRule` (the app factory refuses to
start when one does not). The rule authenticates the request (a session cookie, or
``Authorization: Bearer <session token>`` for scripts), asks the one authorisation
layer (:mod:`valuechain.services.access`) and, for a state-changing request, checks
the CSRF token.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from valuechain.domain.access import Action, Principal
from valuechain.domain.account import DEMO_ADMIN_ID, Account, is_demo_account
from valuechain.services import accounts
from valuechain.services.access import authorise, authorise_relationship
from valuechain.services.errors import Forbidden, NotSignedIn
from valuechain.services.organisation import Valuechain

SESSION_COOKIE = "vc_session"
# Before a session exists (the sign-in and setup forms) CSRF is a double submit of
# this cookie's value in the form.
PRESESSION_COOKIE = "vc_csrf"
# After sign-out in the demo, do not sign the demo admin in again automatically.
DEMO_OPT_OUT_COOKIE = "vc_demo_off"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRejected(Forbidden):
    """A state-changing request without the right CSRF token."""

    def __init__(self) -> None:
        super().__init__(
            "This form has expired or did not come from Valuechain. Reload the page and try again."
        )


def current_valuechain(request: Request) -> Valuechain:
    """The :class:`Valuechain` stored on ``app.state.valuechain`` by the app factory."""
    vc: Valuechain = request.app.state.valuechain
    return vc


CurrentValuechain = Annotated[Valuechain, Depends(current_valuechain)]


def client_address(request: Request) -> str | None:
    """The client's address as the server sees it (behind a proxy, start uvicorn
    with ``--forwarded-allow-ips`` so this is the real client)."""
    return request.client.host if request.client else None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def session_token(request: Request) -> tuple[str | None, bool]:
    """The session token the request carries and whether it came as a cookie (which a
    browser sends by itself, so it needs CSRF protection) rather than a header."""
    bearer = _bearer(request)
    if bearer is not None:
        return bearer, False
    return request.cookies.get(SESSION_COOKIE), True


def _demo_session(request: Request, vc: Valuechain, account: Account) -> accounts.NewSession:
    """The one session the demo shares among visitors without a cookie: started at
    the first such page view, reused while it lasts (a client that never keeps the
    cookie, such as curl in a loop, would otherwise write a session row and an audit
    event per view). Everyone in the demo is its admin, so sharing gives nobody more."""
    state = request.app.state
    with state.demo_session_lock:
        shared: accounts.NewSession | None = state.demo_session
        if shared is not None and accounts.session_account(vc, shared.token) is not None:
            return shared
        shared = accounts.start_session(
            vc, account, address=client_address(request), detail="demo: signed in automatically"
        )
        state.demo_session = shared
        return shared


def _demo_principal(request: Request, vc: Valuechain) -> Principal | None:
    """In the demo, a visitor without a session is the demo admin. A page view gets
    the demo's shared session (the cookie is set on the way out), so forms and
    sign-out work; an API read is answered without one. Never for a state-changing
    request."""
    demo_id: str | None = getattr(request.app.state, "demo_account_id", None)
    if (
        demo_id is None
        or request.method not in SAFE_METHODS
        or request.cookies.get(DEMO_OPT_OUT_COOKIE)
    ):
        return None
    account = accounts.account_by_id(vc, demo_id)
    if account is None:
        return None
    api_prefix: str = request.app.state.api_prefix
    if not request.url.path.startswith(api_prefix):
        started = _demo_session(request, vc, account)
        request.state.new_session = started
        request.state.csrf_token = started.csrf_token
    return accounts.principal(account, demo=True)


def current_principal(request: Request, vc: Valuechain) -> Principal | None:
    """Who is asking (cached on the request), or ``None`` for nobody signed in."""
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    token, _ = session_token(request)
    account = accounts.session_account(vc, token) if token else None
    demo_id = getattr(request.app.state, "demo_account_id", None)
    if account is not None and is_demo_account(account.id) and demo_id != DEMO_ADMIN_ID:
        # The demo's accounts (its admin, the personas) exist only for `valuechain
        # demo`: no other app (`serve` on the demo's database) accepts their sessions,
        # however they were made.
        account = None
    found: Principal | None
    if account is not None:
        found = accounts.principal(
            account, demo=demo_id is not None and is_demo_account(account.id)
        )
        assert token is not None
        request.state.csrf_token = accounts.csrf_token(token)
    else:
        found = _demo_principal(request, vc)
    request.state.principal = found
    return found


async def _submitted_csrf(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        # Starlette caches the parsed form, so the endpoint reads it again for free.
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def check_csrf(request: Request, *, presession: bool = False) -> None:
    """Refuse a state-changing request made with the session cookie unless it carries
    the session's CSRF token (header or form field). ``presession`` also accepts the
    double-submitted pre-session cookie (sign-in and setup forms). Requests that
    authenticate with a bearer header need no token: no browser sends that header on
    its own."""
    if request.method in SAFE_METHODS:
        return
    token, from_cookie = session_token(request)
    if token is not None and not from_cookie:
        return
    submitted = await _submitted_csrf(request)
    expected = [accounts.csrf_token(token)] if token else []
    if presession and (cookie := request.cookies.get(PRESESSION_COOKIE)):
        expected.append(cookie)
    if not submitted or not any(hmac.compare_digest(submitted, e) for e in expected):
        raise CsrfRejected()


class AccessRule:
    """A route's access rule, used as a FastAPI dependency: returns the principal
    allowed to proceed, or raises :class:`NotSignedIn` / ``Forbidden`` /
    :class:`CsrfRejected`.

    ``AccessRule(action)`` requires a signed-in principal the policy allows to do
    ``action`` (about the unit in the path parameter ``unit_param``, when given);
    :meth:`public` lets anyone in (sign-in, setup), still with CSRF on forms unless
    ``csrf=False`` (a JSON endpoint that sets no cookie)."""

    def __init__(
        self,
        action: Action | None,
        *,
        unit_param: str | None = None,
        relationship: tuple[str, str] | None = None,
        results: bool = False,
        csrf: bool = True,
    ) -> None:
        self.action = action
        self.unit_param = unit_param
        self.relationship = relationship
        self.results = results
        self.csrf = csrf

    @classmethod
    def public(cls, *, csrf: bool = True) -> AccessRule:
        return cls(None, csrf=csrf)

    def __repr__(self) -> str:
        return f"AccessRule({self.action or 'public'})"

    async def __call__(self, request: Request) -> Principal | None:
        vc = current_valuechain(request)
        # The session lookup and the policy read the database: off the event loop.
        principal = await run_in_threadpool(current_principal, request, vc)
        if self.action is None:
            if self.csrf:
                await check_csrf(request, presession=True)
            return principal
        if principal is None:
            raise NotSignedIn()
        if self.relationship is not None:
            provider, customer = (request.path_params.get(p, "") for p in self.relationship)
            # A pair not on the map raises NotFound: 404 for every role, before the
            # route reads anything.
            await run_in_threadpool(
                authorise_relationship, vc, principal, self.action, provider, customer,
                results=self.results,
            )  # fmt: skip
        else:
            unit_id = request.path_params.get(self.unit_param) if self.unit_param else None
            await run_in_threadpool(authorise, vc, principal, self.action, unit_id)
        if self.csrf:
            await check_csrf(request)
        return principal


def access_rules(dependant: Any) -> list[AccessRule]:
    """The access rules among a route's dependencies (searched recursively)."""
    found = [dependant.call] if isinstance(dependant.call, AccessRule) else []
    for sub in dependant.dependencies:
        found.extend(access_rules(sub))
    return found


def allow(action: Action, *, unit_param: str | None = None) -> Any:
    """The dependency for ``dependencies=[allow(...)]`` on a route that does not need
    the principal itself."""
    return Depends(AccessRule(action, unit_param=unit_param))


#: The path parameters naming a relationship's two sides.
RELATIONSHIP_PARAMS = ("provider_id", "customer_id")


def on_relationship(action: Action, *, results: bool = False) -> AccessRule:
    """The rule for a route about the relationship in the path (``provider_id``,
    ``customer_id``); use as ``Annotated[Principal, Depends(on_relationship(...))]``.
    A pair that is not a relationship on the map answers 404; ``results`` also needs
    ``view_unit_results`` for both units (a report made of survey findings)."""
    return AccessRule(action, relationship=RELATIONSHIP_PARAMS, results=results)


# The principal as a parameter, for routes that use it.
SessionHolder = Annotated[Principal, Depends(AccessRule(Action.USE_OWN_SESSION))]
Anyone = Annotated[Principal | None, Depends(AccessRule.public())]


class SurveyLinkRule(AccessRule):
    """The access rule of a survey link: the token in the path is the credential.
    Nobody is signed in and no session is looked up or started (not even the demo's),
    so answering a survey never leaves an account cookie behind; a JSON body with no
    cookie needs no CSRF token (see docs/access.md)."""

    def __init__(self) -> None:
        super().__init__(None, csrf=False)

    def __repr__(self) -> str:
        return "AccessRule(survey link)"

    async def __call__(self, request: Request) -> Principal | None:
        return None


#: The dependencies of a survey link's page or endpoint.
SURVEY_LINK = [Depends(SurveyLinkRule())]
