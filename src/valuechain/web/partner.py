"""Capabilities 5 and 9, Partner and Improve, as pages: every relationship's health for
the facilitator, and one relationship's page where both sides see each other, fill
in their workspace and track actions to a verdict."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from valuechain.domain.access import Action, Principal
from valuechain.domain.account import AccountRole
from valuechain.edge.dependencies import AccessRule, CurrentValuechain, on_relationship
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services import measure
from valuechain.services.errors import Conflict, Invalid
from valuechain.services.organisation import Valuechain
from valuechain.services.partner import action, health, workspace
from valuechain.services.partner import view as partner
from valuechain.web.templating import templates

router = APIRouter(route_class=IdempotentRoute, include_in_schema=False)
Facilitator = Annotated[Principal, Depends(AccessRule(Action.FACILITATE))]
Viewer = Annotated[Principal, Depends(on_relationship(Action.VIEW_RELATIONSHIP))]
Worker = Annotated[Principal, Depends(on_relationship(Action.WORK_ON_RELATIONSHIP))]


@router.get("/relationships", response_class=HTMLResponse)
def facilitator_page(request: Request, _: Facilitator, vc: CurrentValuechain) -> Response:
    """Every relationship with its health, worst first, and workspace activity."""
    rows = health.health_table(vc)
    names = vc.describe_units({r["provider"] for r in rows} | {r["customer"] for r in rows})
    spaces = {(s["provider"], s["customer"]): s for s in workspace.facilitator_view(vc)}
    return templates.TemplateResponse(
        request,
        "partner/list.html",
        {"nav": "relationships", "rows": rows, "names": names, "spaces": spaces,
         "weights": health.weights(), "overdue": action.overdue(vc)},
    )  # fmt: skip


def _page(
    request: Request,
    vc: Valuechain,
    principal: Principal,
    provider: str,
    customer: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    sides = partner.relationship(vc, principal, provider, customer)
    names = vc.describe_units([provider, customer])
    own_side = (
        "provider" if principal.unit_id == provider
        else "customer" if principal.unit_id == customer else None
    )  # fmt: skip
    may_work = principal.role is AccountRole.ADMIN or (
        principal.role is AccountRole.LEAD and own_side is not None
    )
    instruments = measure.instruments(vc)
    return templates.TemplateResponse(
        request,
        "partner/page.html",
        {
            "nav": "relationships",
            "provider": provider,
            "customer": customer,
            "names": names,
            "sides": sides,
            "space": sides["workspace"],
            "actions": sides["actions"],
            "shown": sides["shown"],
            # The report is survey findings about both units: only for who sees both.
            "may_report": sides["shown"]["provider_results"] and sides["shown"]["customer_results"],
            "own_side": own_side,
            "may_work": may_work,
            "is_admin": principal.role is AccountRole.ADMIN,
            "instruments": instruments,
            "error": error,
            "today": date.today().isoformat(),
        },
        status_code=status_code,
    )


@router.get("/relationships/{provider_id}/{customer_id}", response_class=HTMLResponse)
def relationship_page(
    request: Request, provider_id: str, customer_id: str, principal: Viewer, vc: CurrentValuechain
) -> Response:
    """How we see us, how they see us: health, both views per topic, the workspace and
    the actions."""
    return _page(request, vc, principal, provider_id, customer_id)


def _back(provider: str, customer: str, anchor: str) -> Response:
    return RedirectResponse(f"/relationships/{provider}/{customer}#{anchor}", status_code=303)


async def _attempt(
    request: Request,
    vc: Valuechain,
    principal: Principal,
    provider: str,
    customer: str,
    call: Any,
    anchor: str,
) -> Response:
    try:
        await run_in_threadpool(call)
    except (Invalid, Conflict) as problem:
        # The page again, with the reason next to the form that was sent.
        message, status = str(problem), problem.status
        return await run_in_threadpool(
            lambda: _page(request, vc, principal, provider, customer, error=message,
                          status_code=status)
        )  # fmt: skip
    return _back(provider, customer, anchor)


@router.post("/relationships/{provider_id}/{customer_id}/workspace")
async def add_entry(
    request: Request,
    provider_id: str,
    customer_id: str,
    principal: Worker,
    vc: CurrentValuechain,
    kind: Annotated[str, Form(max_length=20)],
    text: Annotated[str, Form(max_length=2000)],
    side: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Add a challenge, need or value on one's own side."""
    return await _attempt(
        request, vc, principal, provider_id, customer_id,
        lambda: workspace.add_entry(vc, principal, provider_id, customer_id, kind, text,
                                    side or None),
        "workspace",
    )  # fmt: skip


@router.post("/relationships/{provider_id}/{customer_id}/workspace/{entry_id}/mark")
async def mark_entry(
    request: Request,
    provider_id: str,
    customer_id: str,
    entry_id: str,
    principal: Worker,
    vc: CurrentValuechain,
    alignment: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Mark the other side's entry as aligned or in conflict (empty clears)."""
    return await _attempt(
        request, vc, principal, provider_id, customer_id,
        lambda: workspace.mark(vc, principal, provider_id, customer_id, entry_id,
                               alignment or None),
        "workspace",
    )  # fmt: skip


@router.post("/relationships/{provider_id}/{customer_id}/actions")
async def create_action(
    request: Request,
    provider_id: str,
    customer_id: str,
    principal: Worker,
    vc: CurrentValuechain,
    title: Annotated[str, Form(max_length=500)],
    owner: Annotated[str, Form(max_length=300)],
    due_on: Annotated[date, Form()],
    metric: Annotated[str, Form(max_length=300)],
    source: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Create an action; ``metric`` is ``instrument`` or ``instrument:dimension``."""
    instrument, _, dimension = metric.partition(":")
    return await _attempt(
        request, vc, principal, provider_id, customer_id,
        lambda: action.create(vc, principal, provider_id, customer_id, title=title, owner=owner,
                              due_on=due_on, instrument=instrument, dimension=dimension or None,
                              source=source),
        "actions",
    )  # fmt: skip


@router.post("/relationships/{provider_id}/{customer_id}/actions/{action_id}/status")
async def action_status(
    request: Request,
    provider_id: str,
    customer_id: str,
    action_id: str,
    principal: Worker,
    vc: CurrentValuechain,
    status: Annotated[str, Form(max_length=20)],
) -> Response:
    """Move an action along: open, in progress, done, dropped."""
    return await _attempt(
        request, vc, principal, provider_id, customer_id,
        lambda: action.set_status(vc, provider_id, customer_id, action_id, status),
        "actions",
    )  # fmt: skip
