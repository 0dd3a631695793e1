"""Signing in and out in the browser, and first-run setup of the first admin."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any
from urllib.parse import quote, unquote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from valuechain.domain.account import AccountRole
from valuechain.edge.dependencies import (
    DEMO_OPT_OUT_COOKIE,
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    Anyone,
    CurrentValuechain,
    SessionHolder,
    client_address,
    session_token,
)
from valuechain.edge.idempotency import IdempotentRoute, not_idempotent
from valuechain.services import accounts
from valuechain.services.accounts import NewSession
from valuechain.services.audit import Actor
from valuechain.services.sso import SsoError, SsoProvider, sign_in_with_sso
from valuechain.web.templating import templates

router = APIRouter(route_class=IdempotentRoute, include_in_schema=False)

# Holds state, nonce and PKCE verifier between leaving for the provider and coming back.
SSO_COOKIE = "vc_sso"
SSO_COOKIE_SECONDS = 600
SSO_CALLBACK_PATH = "/signin/sso/callback"

Text = Annotated[str, Form(max_length=1024)]


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site (an
    open redirect would let a phishing link borrow our sign-in page)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, started: NewSession) -> None:
    """Hand the session token to the browser: HttpOnly (no script reads it),
    SameSite=Lax (no cross-site form post carries it), Secure over HTTPS."""
    response.set_cookie(
        SESSION_COOKIE,
        started.token,
        expires=started.expires_at,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.delete_cookie(PRESESSION_COOKIE, path="/")
    response.delete_cookie(DEMO_OPT_OUT_COOKIE, path="/")


def _form_page(
    request: Request,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A sign-in or setup form with a pre-session CSRF token (double submit: the
    same random value in a cookie and in the form)."""
    token = request.cookies.get(PRESESSION_COOKIE) or secrets.token_urlsafe(32)
    response = templates.TemplateResponse(
        request,
        template,
        {"form_csrf": token, **context},
        status_code=status_code,
        headers=headers,
    )
    response.set_cookie(
        PRESESSION_COOKIE, token, path="/", httponly=True, samesite="lax", secure=_secure(request)
    )
    # A sign-in page must never come from a shared cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _is_demo(request: Request) -> bool:
    return getattr(request.app.state, "demo_account_id", None) is not None


def _signin_form(
    request: Request, *, next_: str, email: str = "", error: str | None = None, **kwargs: Any
) -> Response:
    sso: SsoProvider | None = getattr(request.app.state, "sso", None)
    return _form_page(
        request,
        "session/signin.html",
        {
            "next": next_,
            "email": email,
            "error": error,
            "demo": _is_demo(request),
            "sso_label": sso.settings.label if sso else None,
            "sso_url": f"/signin/sso?next={quote(next_, safe='')}",
        },
        **kwargs,
    )


@router.get("/signin")
def signin_page(
    request: Request, principal: Anyone, vc: CurrentValuechain, next: str = "/"
) -> Response:
    """The sign-in form; first run goes to setup, a signed-in visitor goes on."""
    if principal is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    if accounts.needs_setup(vc):
        return RedirectResponse("/setup", status_code=303)
    return _signin_form(request, next_=safe_next(next))


@router.post("/signin")
@not_idempotent
async def signin(
    request: Request,
    principal: Anyone,
    vc: CurrentValuechain,
    email: Text,
    password: Text,
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password; on success start a new session (the old one ends) and go
    to ``next``; else the form again with the error (401), or 429 with Retry-After
    when there were too many failures."""
    target = safe_next(next)
    old_token, _ = session_token(request)
    try:
        started = await run_in_threadpool(
            accounts.sign_in,
            vc,
            email,
            password,
            address=client_address(request),
            user_agent=request.headers.get("user-agent"),
            replacing=old_token,
        )
    except accounts.TooManyAttempts as error:
        return _signin_form(
            request,
            next_=target,
            email=email,
            error=str(error),
            status_code=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    except accounts.SignInRefused as error:
        return _signin_form(request, next_=target, email=email, error=str(error), status_code=401)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, started)
    return response


def _sso(request: Request) -> SsoProvider | None:
    return getattr(request.app.state, "sso", None)


def _no_sso(request: Request) -> Response:
    return templates.TemplateResponse(
        request,
        "errors/404.html",
        {"message": "Single sign-on is not set up here."},
        status_code=404,
    )


def _redirect_uri(request: Request) -> str:
    return str(request.base_url).rstrip("/") + SSO_CALLBACK_PATH


@router.get("/signin/sso")
async def signin_sso(request: Request, principal: Anyone, next: str = "/") -> Response:
    """Leave for the identity provider (OpenID Connect authorization code flow with
    PKCE); it sends the browser back to :data:`SSO_CALLBACK_PATH`."""
    provider = _sso(request)
    if provider is None:
        return _no_sso(request)
    target = safe_next(next)
    try:
        found = await run_in_threadpool(provider.authorization, _redirect_uri(request))
    except SsoError as error:
        return _signin_form(request, next_=target, error=str(error), status_code=502)
    response = RedirectResponse(found.url, status_code=303)
    response.set_cookie(
        SSO_COOKIE,
        ".".join((found.state, found.nonce, found.code_verifier, quote(target, safe=""))),
        max_age=SSO_COOKIE_SECONDS,
        path="/signin/sso",
        httponly=True,
        # Lax: the provider's redirect back is a top-level GET, which Lax lets through.
        samesite="lax",
        secure=_secure(request),
    )
    return response


@router.get(SSO_CALLBACK_PATH)
async def signin_sso_callback(
    request: Request,
    principal: Anyone,
    vc: CurrentValuechain,
    state: str = "",
    code: str = "",
    error: str = "",
) -> Response:
    """Back from the provider: check ``state`` against the cookie, exchange the code,
    validate the ID token, and sign in the account with the email it vouches for."""
    provider = _sso(request)
    if provider is None:
        return _no_sso(request)
    parts = request.cookies.get(SSO_COOKIE, "").split(".", 3)
    target = safe_next(unquote(parts[3])) if len(parts) == 4 else "/"
    try:
        if len(parts) != 4 or not state or not hmac.compare_digest(parts[0], state):
            raise SsoError("This sign-in link has expired or was not started here. Try again.")
        if error or not code:
            raise SsoError(f"The sign-in service did not sign you in ({error or 'no code'}).")
        identity = await run_in_threadpool(
            provider.identity, _redirect_uri(request), code, parts[2], parts[1]
        )
        started = await run_in_threadpool(
            lambda: sign_in_with_sso(
                vc,
                provider,
                identity,
                address=client_address(request),
                user_agent=request.headers.get("user-agent"),
                replacing=session_token(request)[0],
            )
        )
    except SsoError as problem:
        response = _signin_form(request, next_=target, error=str(problem), status_code=401)
        response.delete_cookie(SSO_COOKIE, path="/signin/sso")
        return response
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, started)
    response.delete_cookie(SSO_COOKIE, path="/signin/sso")
    return response


@router.post("/signin/demo")
@not_idempotent
def signin_demo(request: Request, principal: Anyone, vc: CurrentValuechain) -> Response:
    """In the demo only: sign in as the demo admin again after signing out."""
    demo_id: str | None = getattr(request.app.state, "demo_account_id", None)
    account = accounts.account_by_id(vc, demo_id) if demo_id else None
    if account is None:
        return templates.TemplateResponse(
            request, "errors/404.html", {"message": "This is not a demo."}, status_code=404
        )
    old_token, _ = session_token(request)
    started = accounts.start_session(
        vc,
        account,
        address=client_address(request),
        replacing=old_token,
        detail="demo: signed in from the sign-in page",
    )
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(request, response, started)
    return response


@router.post("/signin/demo/as")
@not_idempotent
def see_demo_as(
    request: Request,
    principal: Anyone,
    vc: CurrentValuechain,
    persona: Annotated[str, Form(max_length=40)],
) -> Response:
    """In the demo only: see it as another persona (the admin, a lead, a member or a
    viewer), in one click; a lead or member lands on their unit's page."""
    if not _is_demo(request):
        return templates.TemplateResponse(
            request, "errors/404.html", {"message": "This is not a demo."}, status_code=404
        )
    # Imported here: only the demo needs the demo's builders.
    from valuechain.services.demo import demo_persona

    account = demo_persona(vc, persona)
    old_token, _ = session_token(request)
    started = accounts.start_session(
        vc,
        account,
        address=client_address(request),
        replacing=old_token,
        detail=f"demo: seeing it as {persona}",
    )
    unit = account.unit_id if account.role in (AccountRole.LEAD, AccountRole.MEMBER) else None
    response = RedirectResponse(f"/units/{quote(unit)}" if unit else "/", status_code=303)
    set_session_cookie(request, response, started)
    response.delete_cookie(DEMO_OPT_OUT_COOKIE, path="/")
    return response


@router.post("/signout")
@not_idempotent
def signout(request: Request, principal: SessionHolder, vc: CurrentValuechain) -> Response:
    """End the session and go to the sign-in page. In the demo the demo admin is then
    no longer signed in automatically, so other accounts can be tried."""
    token, _ = session_token(request)
    if token:
        accounts.sign_out(
            vc, token, Actor(principal.account_id, principal.email, client_address(request))
        )
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    if _is_demo(request):
        response.set_cookie(
            DEMO_OPT_OUT_COOKIE,
            "1",
            path="/",
            httponly=True,
            samesite="lax",
            secure=_secure(request),
        )
    return response


@router.get("/setup")
def setup_page(request: Request, principal: Anyone, vc: CurrentValuechain) -> Response:
    """First run: the form that creates the first admin; afterwards, sign-in."""
    if not accounts.needs_setup(vc):
        return RedirectResponse("/signin", status_code=303)
    return _form_page(request, "session/setup.html", {"name": "", "email": "", "error": None})


@router.post("/setup")
@not_idempotent
async def setup(
    request: Request,
    principal: Anyone,
    vc: CurrentValuechain,
    email: Text,
    password: Text,
    password_again: Text,
    name: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Create the first admin and sign them in; only while there is no account."""
    error: str | None = None
    if password != password_again:
        error = "The two passwords are not the same."
    else:
        try:
            account = await run_in_threadpool(
                lambda: accounts.create_account(
                    vc,
                    email,
                    password,
                    AccountRole.ADMIN,
                    Actor(None, "first-run setup", client_address(request)),
                    name=name,
                    first_admin=True,
                )
            )
        except accounts.SetupDone:
            return RedirectResponse("/signin", status_code=303)
        except accounts.AccountError as problem:
            error = str(problem)[:1].upper() + str(problem)[1:] + "."
    if error is not None:
        return _form_page(
            request,
            "session/setup.html",
            {"name": name, "email": email, "error": error},
            status_code=422,
        )
    started = accounts.start_session(
        vc, account, address=client_address(request), detail="first admin, at setup"
    )
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(request, response, started)
    return response
