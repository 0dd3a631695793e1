"""Administration pages: the audit log. Admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from valuechain.api.dependencies import AccessRule, CurrentValuechain
from valuechain.domain.access import Action, Principal
from valuechain.services import audit
from valuechain.web.templating import templates

router = APIRouter(include_in_schema=False)

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
