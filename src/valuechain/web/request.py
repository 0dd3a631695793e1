"""Capability 4, Request, as pages: my requests and the form to file one, a request
with its timeline and the changes the viewer may make, a unit's inbox (provider side)
and outbox (customer side) with live clocks refreshed by HTMX, and its thanks wall."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from valuechain.domain.access import Action, Principal
from valuechain.domain.request import Verb
from valuechain.edge.dependencies import AccessRule, CurrentValuechain
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services import request as requests
from valuechain.services import thanks
from valuechain.services.access import may
from valuechain.services.organisation import Valuechain
from valuechain.services.request import RequestError
from valuechain.web.picker import Choice, FieldProblem, pick, unit_choices
from valuechain.web.templating import templates

router = APIRouter(route_class=IdempotentRoute, include_in_schema=False)

RequestUser = Annotated[Principal, Depends(AccessRule(Action.USE_REQUESTS))]
UnitWorker = Annotated[Principal, Depends(AccessRule(Action.REQUEST_WORK, unit_param="unit_id"))]
REFRESH_SECONDS = 30  # live clocks: the inbox and outbox rows are fetched again
VERB_LABELS = {
    Verb.ACK: "Acknowledge",
    Verb.START: "Start work",
    Verb.WAIT: "Wait on customer",
    Verb.RESOLVE: "Resolve",
    Verb.CLOSE: "Close",
    Verb.REOPEN: "Reopen",
}
MAX_SUGGESTIONS = 500


def _providers(vc: Valuechain, unit_id: str | None) -> list[Choice]:
    """Units to suggest as providers, by name: the asker's suppliers first, then (in a
    small organisation) every other unit."""
    chain = vc.chain()
    suppliers: list[str] = []
    if unit_id is not None and unit_id in chain.unit_pos:
        suppliers = [s["unit"] for s in vc.suppliers(unit_id)]
    rest = chain.columns.unit_ids if len(chain.unit_pos) <= MAX_SUGGESTIONS else []
    ordered = list(dict.fromkeys([*suppliers, *rest]))
    names = vc.describe_units([u for u in ordered if u != unit_id])
    return unit_choices({u: names[u] for u in ordered if u in names})


def _provider_id(vc: Valuechain, typed: str) -> str:
    """The unit the asker typed, by its name or its id (:func:`picker.pick`)."""
    every = vc.describe_units(vc.chain().columns.unit_ids)
    return pick(typed, unit_choices(every), field="provider", what="unit")


def _names(vc: Valuechain, rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    ids = {r["customer_id"] for r in rows} | {r["provider_id"] for r in rows}
    return {u: d["name"] for u, d in vc.describe_units(ids).items()}


@router.get("/requests", response_class=HTMLResponse)
def my_requests(request: Request, vc: CurrentValuechain, principal: RequestUser) -> Response:
    """The requests I filed, with the form to file a new one."""
    rows = requests.listing(vc, requester_id=principal.account_id)
    return templates.TemplateResponse(
        request,
        "request/mine.html",
        {
            "nav": "requests",
            "rows": rows,
            "names": _names(vc, rows),
            "providers": _providers(vc, principal.unit_id),
            "priorities": requests.PRIORITIES,
            "error": None,
            "errors": {},
            "form": {},
        },
    )


@router.post("/requests", response_class=HTMLResponse)
def file_request(
    request: Request,
    vc: CurrentValuechain,
    principal: RequestUser,
    provider: Annotated[str, Form(max_length=200)],
    title: Annotated[str, Form(max_length=requests.MAX_TITLE)],
    body: Annotated[str, Form(max_length=requests.MAX_BODY)] = "",
    priority: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """File a request from my unit (the form's key makes a double submit store once,
    as on every form)."""
    try:
        if principal.unit_id is None:
            raise requests.RequestError("your account belongs to no unit, so it cannot ask")
        found = requests.new_request(
            vc,
            requests.Asker.of(principal),
            customer=principal.unit_id,
            provider=_provider_id(vc, provider),
            title=title,
            body=body,
            priority=priority or None,
        )
    except (requests.RequestError, FieldProblem) as error:
        # The form again, with what was typed and why it was refused (next to the
        # field when the problem is one field's).
        field = error.field if isinstance(error, FieldProblem) else None
        rows = requests.listing(vc, requester_id=principal.account_id)
        return templates.TemplateResponse(
            request,
            "request/mine.html",
            {
                "nav": "requests",
                "rows": rows,
                "names": _names(vc, rows),
                "providers": _providers(vc, principal.unit_id),
                "priorities": requests.PRIORITIES,
                "error": None if field else str(error),
                "errors": {field: str(error)} if field else {},
                "form": {"provider": provider, "title": title, "body": body, "priority": priority},
            },
            status_code=error.status,
        )
    return RedirectResponse(f"/requests/{found['id']}", status_code=303)


def _request_page(
    request: Request,
    vc: Valuechain,
    principal: Principal,
    request_id: str,
    error: RequestError | None,
) -> Response:
    found = requests.get(vc, requests.Asker.of(principal), request_id)
    return templates.TemplateResponse(
        request,
        "request/request.html",
        {
            "nav": "requests",
            "r": found,
            "names": _names(vc, [found]),
            "verbs": [(Verb(v), VERB_LABELS[Verb(v)]) for v in found["verbs"]],
            "error": str(error) if error else None,
        },
        status_code=error.status if error else 200,
    )


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def request_page(
    request: Request, request_id: str, vc: CurrentValuechain, principal: RequestUser
) -> Response:
    """One request: its clocks, its timeline, and the buttons for my next moves."""
    return _request_page(request, vc, principal, request_id, None)


@router.post("/requests/{request_id}/events", response_class=HTMLResponse)
def change_request(
    request: Request,
    request_id: str,
    vc: CurrentValuechain,
    principal: RequestUser,
    verb: Annotated[Verb, Form()],
    note: Annotated[str, Form(max_length=requests.MAX_NOTE)] = "",
) -> Response:
    """Move the request, then show it again (a stale page gets a clear message)."""
    return _act(
        request,
        vc,
        principal,
        request_id,
        lambda asker: requests.change(vc, asker, request_id, verb, note or None),
    )


@router.post("/requests/{request_id}/thanks", response_class=HTMLResponse)
def thank_request(
    request: Request,
    request_id: str,
    vc: CurrentValuechain,
    principal: RequestUser,
    note: Annotated[str, Form(max_length=requests.MAX_NOTE)] = "",
) -> Response:
    """Say thank you with one click and a note."""
    return _act(
        request,
        vc,
        principal,
        request_id,
        lambda asker: thanks.thank(vc, asker, request_id, note or None),
    )


def _act(
    request: Request,
    vc: Valuechain,
    principal: Principal,
    request_id: str,
    call: Callable[[requests.Asker], object],
) -> Response:
    """Do ``call`` as the signed-in person, then show the request again; a refused step
    shows the page with its reason; a request gone is the error page's 404."""
    try:
        call(requests.Asker.of(principal))
    except requests.RequestError as error:
        return _request_page(request, vc, principal, request_id, error)
    return RedirectResponse(f"/requests/{request_id}", status_code=303)


def _box(
    request: Request,
    vc: Valuechain,
    principal: Principal,
    unit_id: str,
    box: str,
    rows: Sequence[Mapping[str, Any]],
) -> Response:
    described = vc.describe_units([unit_id]).get(unit_id, {"name": unit_id})
    fragment = request.headers.get("HX-Request") == "true"
    # Leads (and admins) see the unit's service levels above its boxes.
    sla = (
        requests.sla_for_unit(vc, unit_id)["relationships"]
        if not fragment and may(vc, principal, Action.VIEW_SLA, unit_id)
        else None
    )
    context = {
        "nav": "requests",
        "unit": {"id": unit_id, "name": described["name"]},
        "box": box,
        "rows": rows,
        "names": _names(vc, rows),
        "refresh": REFRESH_SECONDS,
        "sla": sla,
        "unit_names": vc.describe_units(
            {r["provider"] for r in sla or []} | {r["customer"] for r in sla or []}
        ),
    }
    response = templates.TemplateResponse(
        request, "request/_rows.html" if fragment else "request/box.html", context
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/units/{unit_id}/inbox", response_class=HTMLResponse)
def inbox(request: Request, unit_id: str, vc: CurrentValuechain, principal: UnitWorker) -> Response:
    """Requests made to the unit, with live clocks (the rows refresh every 30 s)."""
    return _box(request, vc, principal, unit_id, "inbox", requests.listing(vc, provider=unit_id))


@router.get("/units/{unit_id}/outbox", response_class=HTMLResponse)
def outbox(
    request: Request, unit_id: str, vc: CurrentValuechain, principal: UnitWorker
) -> Response:
    """Requests the unit made (a member sees their own), with live clocks."""
    rows = requests.outbox(vc, principal, unit_id)
    return _box(request, vc, principal, unit_id, "outbox", rows)


@router.get("/units/{unit_id}/thanks", response_class=HTMLResponse)
def thanks_wall(
    request: Request, unit_id: str, vc: CurrentValuechain, principal: UnitWorker
) -> Response:
    """The thanks the unit received: shown to its whole team."""
    described = vc.describe_units([unit_id]).get(unit_id, {"name": unit_id})
    return templates.TemplateResponse(
        request,
        "request/thanks.html",
        {
            "nav": "requests",
            "unit": {"id": unit_id, "name": described["name"]},
            "wall": thanks.wall(vc, unit_id),
        },
    )
