"""Administration as JSON: accounts, the audit log, the data bundle's export and
import. Admins only (see ``docs/access.md``)."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from valuechain.domain.access import Action, Principal
from valuechain.domain.account import AccountRole
from valuechain.edge.dependencies import AccessRule, CurrentValuechain, client_address
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services import accounts, audit
from valuechain.services.audit import Actor
from valuechain.services.bundle import export_bundle, problem_fields
from valuechain.services.bundle_upload import check_or_import

router = APIRouter(route_class=IdempotentRoute, tags=["admin"])

AccountManager = Annotated[Principal, Depends(AccessRule(Action.MANAGE_ACCOUNTS))]
AuditReader = Annotated[Principal, Depends(AccessRule(Action.VIEW_AUDIT))]
Exporter = Annotated[Principal, Depends(AccessRule(Action.EXPORT))]
Importer = Annotated[Principal, Depends(AccessRule(Action.IMPORT))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class AccountOut(BaseModel):
    """An account (never its password hash)."""

    id: str
    email: str
    name: str
    role: AccountRole
    person_id: str | None
    unit_id: str | None
    active: bool
    created_at: datetime
    has_password: bool


class AuditEventOut(BaseModel):
    """Who did what, when, from where."""

    id: str
    at: datetime
    actor_id: str | None
    actor: str | None = Field(description="The account's email, or cli:<user>.")
    action: str
    subject: str | None
    outcome: str
    address: str | None
    detail: str | None


class AuditPageOut(BaseModel):
    """A page of the audit log, newest first."""

    total: int
    page: int
    per_page: int
    events: list[AuditEventOut]


@router.get("/accounts", response_model=list[AccountOut], summary="Every account")
def get_accounts(principal: AccountManager, vc: CurrentValuechain) -> list[AccountOut]:
    """The organisation's accounts by email, with role and linked person and unit."""
    return [AccountOut.model_validate(a, from_attributes=True) for a in accounts.list_accounts(vc)]


@router.get("/audit", response_model=AuditPageOut, summary="The audit log")
def get_audit(
    principal: AuditReader,
    vc: CurrentValuechain,
    # Bounded so the offset fits a 64-bit integer in every database (found by schemathesis).
    page: Annotated[int, Query(ge=1, le=1_000_000_000, description="Page number, from 1.")] = 1,
    per_page: Annotated[int, Query(ge=1, le=audit.MAX_PAGE_SIZE)] = 50,
) -> AuditPageOut:
    """Sign-ins (successful and refused), sign-outs, account changes, imports and
    exports, newest first."""
    found = audit.read_page(vc, page, per_page)
    return AuditPageOut(
        total=found.total,
        page=found.page,
        per_page=found.per_page,
        events=[AuditEventOut.model_validate(e, from_attributes=True) for e in found.events],
    )


@router.get(
    "/export",
    response_class=FileResponse,
    responses={200: {"content": {XLSX: {}}, "description": "The data bundle as a workbook"}},
    summary="Export the data bundle",
)
def get_export(principal: Exporter, request: Request, vc: CurrentValuechain) -> FileResponse:
    """The organisation's map as one ``.xlsx`` workbook in the bundle format, the
    same as ``valuechain export FILE.xlsx``; recorded in the audit log."""
    folder = Path(tempfile.mkdtemp(prefix="valuechain-export-"))
    path = folder / "valuechain.xlsx"
    actor = Actor(principal.account_id, principal.email, client_address(request))
    export_bundle(vc, path, actor=actor)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")

    def remove() -> None:
        path.unlink(missing_ok=True)
        folder.rmdir()

    return FileResponse(
        path,
        media_type=XLSX,
        filename=f"valuechain-{vc.organisation}-{stamp}.xlsx",
        background=BackgroundTask(remove),
    )


class ProblemOut(BaseModel):
    """One problem of a bundle, located as ``valuechain import`` locates it."""

    file: str
    line: int | None = Field(description="1-based line of the file or row of the sheet.")
    column: str | None
    expected: str
    found: str
    text: str = Field(description="The problem as the command line prints it.")


class TableChangeOut(BaseModel):
    """Rows of one map table the import adds, changes, leaves as they are, removes."""

    added: int
    changed: int
    unchanged: int
    removed: int


class ImportOut(BaseModel):
    """A bundle's preview (``dry_run``) or its import. ``problems`` (then nothing
    would change, and ``changes`` is empty) or, for a good bundle, ``rows`` per table
    and ``changes`` to the map's tables (units, results, links, people)."""

    dry_run: bool
    replace: bool
    applied: bool
    problems: list[ProblemOut]
    more_problems: int
    rows: dict[str, int]
    changes: dict[str, TableChangeOut]


@router.post(
    "/import",
    response_model=ImportOut,
    summary="Preview or import a data bundle",
)
def post_import(
    principal: Importer,
    request: Request,
    vc: CurrentValuechain,
    file: UploadFile,
    # Form fields, not query parameters: an Idempotency-Key's fingerprint holds the
    # form's fields, so a key used for a dry run cannot replay it for the import.
    dry_run: Annotated[
        bool, Form(description="Only preview: check the bundle and say what would change.")
    ] = True,
    replace: Annotated[
        bool, Form(description="Replace the whole organisation (`valuechain import --replace`).")
    ] = False,
) -> ImportOut:
    """A bundle (a ``.zip`` of its CSV files or an ``.xlsx`` workbook, see
    ``docs/bundle.md``) checked exactly as ``valuechain import`` checks it. With
    ``dry_run`` (the default) nothing is written: the answer lists every problem or
    what would change. Otherwise the bundle is imported all or nothing through the
    command line's service and recorded in the audit log; a bad bundle is answered
    with the same ``problems``, ``applied`` false and nothing changed."""
    actor = Actor(principal.account_id, principal.email, client_address(request))
    with tempfile.TemporaryDirectory(prefix="valuechain-upload-") as folder:
        path = Path(folder) / "upload"
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out, 1 << 20)
        outcome = check_or_import(
            vc, path, file.filename or "upload", actor, dry_run=dry_run, replace=replace
        )
    return ImportOut(
        dry_run=outcome.dry_run,
        replace=outcome.replace,
        applied=outcome.applied,
        problems=[ProblemOut(**problem_fields(p)) for p in outcome.problems],
        more_problems=outcome.more_problems,
        rows=outcome.rows,
        changes={
            t: TableChangeOut.model_validate(c, from_attributes=True)
            for t, c in outcome.changes.items()
        },
    )
