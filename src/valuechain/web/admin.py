"""Administration pages: accounts, the audit log and uploading a data bundle. Admins
only."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from valuechain.domain.access import Action, Principal
from valuechain.domain.account import AccountRole, normalise_email
from valuechain.edge.dependencies import AccessRule, CurrentValuechain, client_address
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services import accounts, audit, bundle_upload
from valuechain.services.audit import Actor
from valuechain.services.organisation import Valuechain
from valuechain.web.picker import Choice, FieldProblem, pick
from valuechain.web.templating import templates

router = APIRouter(route_class=IdempotentRoute, include_in_schema=False)

AuditReader = Annotated[Principal, Depends(AccessRule(Action.VIEW_AUDIT))]
PER_PAGE = 50


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    principal: AuditReader,
    vc: CurrentValuechain,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """The audit log, newest first, :data:`PER_PAGE` events a page."""
    found = audit.read_page(vc, page, PER_PAGE)
    return templates.TemplateResponse(request, "admin/audit.html", {"nav": "audit", "log": found})


AccountManager = Annotated[Principal, Depends(AccessRule(Action.MANAGE_ACCOUNTS))]
ROLES = tuple(r.value for r in AccountRole)


def _choices(found: list[tuple[str, str, str, str, str]]) -> list[Choice]:
    """People on the map as choices: a name two people share is told apart by email."""
    counts: dict[str, int] = {}
    for _, name, *_ in found:
        counts[name.casefold()] = counts.get(name.casefold(), 0) + 1
    return [
        Choice(pid, name, email if counts[name.casefold()] > 1 else "")
        for pid, name, email, *_ in found
    ]


def _accounts_page(
    request: Request,
    vc: Valuechain,
    *,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    done: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    every, found = accounts.directory(vc)
    people = _choices(found)
    return templates.TemplateResponse(
        request,
        "admin/accounts.html",
        {
            "nav": "accounts",
            "accounts": every,
            # An account's unit is its person's, so the people name the units too.
            "unit_names": {unit: unit_name for *_, unit, unit_name in found},
            "people": people,
            "person_names": {c.id: c.name for c in people},
            "roles": ROLES,
            "error": error,
            "errors": errors or {},
            "done": done,
            "form": form or {"email": "", "name": "", "role": "member", "person": ""},
        },
        status_code=status_code,
    )


def _sentence(problem: Exception) -> str:
    text = str(problem)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


@router.get("/admin/accounts", response_class=HTMLResponse)
def accounts_page(
    request: Request, principal: AccountManager, vc: CurrentValuechain, done: str = ""
) -> Response:
    """Every account with its role, person and unit; a form to create one and, per
    account, to change its role or whether it may sign in."""
    return _accounts_page(request, vc, done=done[:200] or None)


@router.post("/admin/accounts")
async def create_account(
    request: Request,
    principal: AccountManager,
    vc: CurrentValuechain,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    role: Annotated[AccountRole, Form()],
    name: Annotated[str, Form(max_length=300)] = "",
    person: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Create an account; the admin tells its owner the first password."""
    actor = Actor(principal.account_id, principal.email, client_address(request))
    form = {"email": email, "name": name, "role": role.value, "person": person}
    try:
        # The person is typed by name (or email, or id) and stored by id.
        person_id = (
            await run_in_threadpool(
                lambda: pick(
                    person, _choices(accounts.people(vc)), field="person", what="person on the map"
                )
            )
            if person.strip()
            else None
        )
        account = await run_in_threadpool(
            lambda: accounts.create_account(
                vc, email, password, role, actor, name=name, person_id=person_id
            )
        )
    except FieldProblem as problem:
        return _accounts_page(
            request, vc, errors={problem.field: str(problem)}, form=form, status_code=problem.status
        )
    except accounts.AccountError as problem:
        return _accounts_page(
            request, vc, error=_sentence(problem), form=form, status_code=problem.status
        )
    return RedirectResponse(f"/admin/accounts?done=Created+{account.email}", status_code=303)


@router.post("/admin/accounts/update")
async def change_account(
    request: Request,
    principal: AccountManager,
    vc: CurrentValuechain,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[AccountRole, Form()],
    active: Annotated[bool, Form()] = False,
) -> Response:
    """Change an account's role and whether it may sign in (disabling ends its
    sessions). Admins cannot demote or disable themselves, so an organisation never
    loses its last way in by a slip of the mouse."""
    if normalise_email(email) == principal.email and (role is not AccountRole.ADMIN or not active):
        return _accounts_page(
            request,
            vc,
            error="You cannot demote or disable your own account; ask another admin.",
            status_code=422,
        )
    actor = Actor(principal.account_id, principal.email, client_address(request))
    current = accounts.account_by_email(vc, email)
    if current is None:
        return _accounts_page(
            request, vc, error=f"There is no account for {normalise_email(email)}.", status_code=404
        )
    try:
        changed = await run_in_threadpool(
            lambda: accounts.update_account(
                vc,
                email,
                actor,
                role=role if role is not current.role else None,
                active=active if active != current.active else None,
            )
        )
    except accounts.AccountError as problem:
        return _accounts_page(request, vc, error=_sentence(problem), status_code=problem.status)
    return RedirectResponse(f"/admin/accounts?done=Saved+{changed.email}", status_code=303)


Importer = Annotated[Principal, Depends(AccessRule(Action.IMPORT))]


@router.get("/admin/import", response_class=HTMLResponse)
def import_page(
    request: Request, principal: Importer, vc: CurrentValuechain, done: str = ""
) -> Response:
    """A form to upload a bundle (a .zip of CSV files or an .xlsx workbook) for its
    preview."""
    return templates.TemplateResponse(
        request, "admin/import.html", {"nav": "import", "done": done[:300] or None}
    )


@router.post("/admin/import/preview", response_class=HTMLResponse)
def import_preview(
    request: Request,
    principal: Importer,
    vc: CurrentValuechain,
    file: UploadFile,
    replace: Annotated[bool, Form()] = False,
) -> Response:
    """The uploaded bundle checked as ``valuechain import`` checks it: its problems by
    file, line and column, or what would change and a button to import it (the upload
    is kept server-side under a short-lived token bound to this admin)."""
    staged = bundle_upload.stage(
        vc, principal.account_id, file.file, file.filename or "upload", replace
    )
    actor = Actor(principal.account_id, principal.email, client_address(request))
    outcome = bundle_upload.check_or_import(
        vc, staged.path, staged.filename, actor, replace=replace
    )
    if outcome.problems:
        bundle_upload.discard(staged)
    return templates.TemplateResponse(
        request,
        "admin/import.html",
        {"nav": "import", "outcome": outcome, "staged": None if outcome.problems else staged},
    )


@router.post("/admin/import/apply")
def import_apply(
    request: Request,
    principal: Importer,
    vc: CurrentValuechain,
    token: Annotated[str, Form(max_length=64)],
) -> Response:
    """Import the bundle previewed under ``token``, all or nothing, audited; back to
    the upload page saying what was imported."""
    staged = bundle_upload.take_staged(vc, principal.account_id, token)
    actor = Actor(principal.account_id, principal.email, client_address(request))
    summary = bundle_upload.import_upload(
        vc, staged.path, staged.filename, actor, replace=staged.replace
    )
    bundle_upload.discard(staged)
    rows = ", ".join(f"{n} {t}" for t, n in summary.rows.items() if n)
    done = f"Imported {staged.filename}" + (f": {rows}" if rows else "")
    return RedirectResponse(f"/admin/import?{urlencode({'done': done})}", status_code=303)
