"""Capability 4, Request, as pages: my requests and the form to file one, a request
with its timeline, conversation, assignee and the changes the viewer may make, a
unit's inbox (provider side) and outbox (customer side) and the organisation-wide
queue (admins), each filtered by its URL and paged, with live clocks refreshed by
HTMX, and the unit's thanks wall."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from valuechain.domain.access import Action, Principal
from valuechain.domain.request import Assignment, ClockState, Priority, RequestState, Verb
from valuechain.edge.dependencies import AccessRule, CurrentValuechain
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.edge.paging import next_link
from valuechain.services import request as requests
from valuechain.services import thanks
from valuechain.services.access import may
from valuechain.services.organisation import Valuechain
from valuechain.services.request import RequestError
from valuechain.services.request_types import Person
from valuechain.web.picker import Choice, FieldProblem, pick, unit_choices
from valuechain.web.templating import templates

router = APIRouter(route_class=IdempotentRoute, include_in_schema=False)

RequestUser = Annotated[Principal, Depends(AccessRule(Action.USE_REQUESTS))]
UnitWorker = Annotated[Principal, Depends(AccessRule(Action.REQUEST_WORK, unit_param="unit_id"))]
QueueAdmin = Annotated[Principal, Depends(AccessRule(Action.VIEW_ALL_REQUESTS))]
PAGE = 50
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


def _every_unit(vc: Valuechain) -> list[Choice]:
    return unit_choices(vc.describe_units(vc.chain().columns.unit_ids))


def _unit_suggestions(vc: Valuechain) -> list[Choice]:
    """Units the filters suggest by name: all of them in an organisation of at most
    :data:`MAX_SUGGESTIONS` units; beyond that none (a typed name or id still works),
    so a page does not carry thousands of names."""
    if len(vc.chain().unit_pos) > MAX_SUGGESTIONS:
        return []
    return _every_unit(vc)


def _filters(vc: Valuechain, request: Request) -> tuple[requests.QueueFilter, dict[str, str]]:
    """The queue's filters from the page's URL (so a filtered queue can be shared as
    a link): unknown values are ignored, a customer or provider is typed by name.
    Returns the filter and the problems to show next to their fields."""
    q = request.query_params

    def choice(name: str, kind: type[Any]) -> Any:
        try:
            return kind(q[name]) if q.get(name) else None
        except ValueError:
            return None

    problems: dict[str, str] = {}
    units: dict[str, str | None] = {}
    for name in ("customer", "provider"):
        typed = q.get(name, "").strip()
        units[name] = None
        if typed:
            try:
                units[name] = pick(typed, _every_unit(vc), field=name, what="unit")
            except FieldProblem as problem:
                problems[name] = str(problem)
    clock = choice("clock", ClockState)
    return (
        requests.QueueFilter(
            open_only=q.get("open", "1") != "0",
            state=choice("state", RequestState),
            priority=choice("priority", Priority),
            customer=units["customer"],
            provider=units["provider"],
            category=q.get("category") or None,
            clock=clock if clock in (ClockState.AT_RISK, ClockState.BREACHED) else None,
            assignment=choice("assignee", Assignment),
            text=q.get("q") or None,
        ),
        problems,
    )


def _offset(request: Request) -> int:
    try:
        return max(0, min(int(request.query_params.get("offset", "0")), 1_000_000))
    except ValueError:
        return 0


def _queue_context(
    request: Request,
    vc: Valuechain,
    principal: Principal,
    scope: str,
    unit_id: str | None,
    *,
    provider_filter: bool = False,
) -> dict[str, Any]:
    """A queue's rows, its filters (as typed) and its pages, for a template."""
    wanted, problems = _filters(vc, request)
    offset = _offset(request)
    page = requests.queue(vc, principal, scope, unit_id, wanted, limit=PAGE, offset=offset)
    # The 30-second refresh swaps the rows only: the form's choices are not needed.
    fragment = request.headers.get("HX-Request") == "true"
    url = request.url
    here = f"{url.path}?{url.query}" if url.query else url.path
    previous = None
    if offset > 0:
        back = url.include_query_params(offset=max(0, offset - PAGE))
        previous = f"{back.path}?{back.query}"
    return {
        "rows": page.rows,
        "names": _names(vc, page.rows),
        "filters": {k: v for k, v in request.query_params.items() if k != "offset"},
        "filter_errors": problems,
        "filtered": wanted != requests.QueueFilter(),
        "states": list(RequestState),
        "priorities": requests.PRIORITIES,
        "categories": [] if fragment else requests.categories(vc, scope, unit_id),
        "unit_choices": [] if fragment else _unit_suggestions(vc),
        "provider_filter": provider_filter,
        "refresh_url": here,
        "next_page": next_link(request, offset, PAGE, offset + PAGE + int(page.more)),
        "previous_page": previous,
        "refresh": REFRESH_SECONDS,
    }


@router.get("/requests", response_class=HTMLResponse)
def my_requests(request: Request, vc: CurrentValuechain, principal: RequestUser) -> Response:
    """The requests I filed (filtered by the URL, open ones first by default), the
    form to file a new one, and where I was mentioned lately."""
    context = _queue_context(request, vc, principal, "mine", None, provider_filter=True)
    if request.headers.get("HX-Request") == "true":
        return _rows_only(request, context, "mine")
    return templates.TemplateResponse(
        request,
        "request/mine.html",
        {
            **context,
            "nav": "requests",
            "box": "mine",
            "providers": _providers(vc, principal.unit_id),
            "mentions": requests.mentions(vc, principal),
            "catalogue": _catalogue(vc, principal),
            "error": None,
            "errors": {},
            "form": _from_catalogue(vc, request),
        },
    )


def _catalogue(vc: Valuechain, principal: Principal) -> list[Any]:
    return [] if principal.unit_id is None else requests.catalogue(vc, principal.unit_id)


def _from_catalogue(vc: Valuechain, request: Request) -> dict[str, str]:
    """The form as a catalogue entry starts it (``?ask=<provider>&about=<result>``):
    the provider's name, the result's name as the title's start and as the category."""
    ask, about = request.query_params.get("ask", ""), request.query_params.get("about", "")
    if not ask:
        return {}
    chain = vc.chain()
    if ask not in chain.unit_pos:
        return {}
    name = chain.columns.unit_names[chain.unit_pos[ask]]
    results = dict(zip(chain.columns.result_ids, chain.columns.result_names, strict=True))
    topic = results.get(about, "")
    return {"provider": name, "title": f"{topic}: " if topic else "", "category": topic}


def _rows_only(request: Request, context: dict[str, Any], box: str) -> Response:
    """The queue's rows alone: what the HTMX refresh swaps in every 30 seconds."""
    response = templates.TemplateResponse(request, "request/_rows.html", {**context, "box": box})
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/requests/all", response_class=HTMLResponse)
def all_requests(request: Request, vc: CurrentValuechain, principal: QueueAdmin) -> Response:
    """Every request of the organisation in one queue (admins), filtered by the URL."""
    context = _queue_context(request, vc, principal, "all", None, provider_filter=True)
    if request.headers.get("HX-Request") == "true":
        return _rows_only(request, context, "all")
    response = templates.TemplateResponse(
        request, "request/all.html", {**context, "nav": "all-requests", "box": "all"}
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/requests", response_class=HTMLResponse)
def file_request(
    request: Request,
    vc: CurrentValuechain,
    principal: RequestUser,
    provider: Annotated[str, Form(max_length=200)],
    title: Annotated[str, Form(max_length=requests.MAX_TITLE)],
    body: Annotated[str, Form(max_length=requests.MAX_BODY)] = "",
    priority: Annotated[str, Form(max_length=32)] = "",
    category: Annotated[str, Form(max_length=100)] = "",
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
            category=category or None,
        )
    except (requests.RequestError, FieldProblem) as error:
        # The form again, with what was typed and why it was refused (next to the
        # field when the problem is one field's).
        field = error.field if isinstance(error, FieldProblem) else None
        return templates.TemplateResponse(
            request,
            "request/mine.html",
            {
                **_queue_context(request, vc, principal, "mine", None, provider_filter=True),
                "nav": "requests",
                "box": "mine",
                "mentions": requests.mentions(vc, principal),
                "catalogue": _catalogue(vc, principal),
                "providers": _providers(vc, principal.unit_id),
                "priorities": requests.PRIORITIES,
                "error": None if field else str(error),
                "errors": {field: str(error)} if field else {},
                "form": {
                    "provider": provider,
                    "title": title,
                    "body": body,
                    "priority": priority,
                    "category": category,
                },
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
    people = requests.assignable(vc, request_id) if found["can_assign"] else []
    return templates.TemplateResponse(
        request,
        "request/request.html",
        {
            "nav": "requests",
            "r": found,
            "names": _names(vc, [found]),
            "verbs": [(Verb(v), VERB_LABELS[Verb(v)]) for v in found["verbs"]],
            "people": _people_choices(people),
            "timeline": _timeline(found),
            "error": str(error) if error else None,
        },
        status_code=error.status if error else 200,
    )


def _people_choices(people: Sequence[Person]) -> list[Choice]:
    """People as choices; a name two people share is told apart by the email."""
    counts: dict[str, int] = {}
    for p in people:
        counts[p["name"].casefold()] = counts.get(p["name"].casefold(), 0) + 1
    return [
        Choice(p["id"], p["name"], p["email"] if counts[p["name"].casefold()] > 1 else "")
        for p in people
    ]


def _timeline(found: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Events and messages in one list by time, each one entry (one line each)."""
    entries: list[dict[str, Any]] = [{"kind": "event", **e} for e in found["timeline"]]
    entries += [{"kind": "comment", **c} for c in found["comments"]]
    return sorted(entries, key=lambda e: str(e["at"]))


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


@router.post("/requests/{request_id}/assignee", response_class=HTMLResponse)
def assign_request(
    request: Request,
    request_id: str,
    vc: CurrentValuechain,
    principal: RequestUser,
    person: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    """Set or change the assignee, typed by name (empty: nobody)."""

    def call(asker: requests.Asker) -> object:
        chosen = None
        if person.strip():
            choices = _people_choices(requests.assignable(vc, request_id))
            try:
                chosen = pick(person, choices, field="person", what="person of the unit")
            except FieldProblem as problem:
                raise requests.InvalidRequest(str(problem)) from None
        return requests.assign(vc, asker, request_id, chosen)

    return _act(request, vc, principal, request_id, call)


@router.post("/requests/{request_id}/comments", response_class=HTMLResponse)
def comment_request(
    request: Request,
    request_id: str,
    vc: CurrentValuechain,
    principal: RequestUser,
    body: Annotated[str, Form(max_length=requests.MAX_NOTE)] = "",
) -> Response:
    """Add a message to the conversation; @Name notifies that person."""
    return _act(
        request,
        vc,
        principal,
        request_id,
        lambda asker: requests.comment(vc, asker, request_id, body),
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
) -> Response:
    described = vc.describe_units([unit_id]).get(unit_id, {"name": unit_id})
    fragment = request.headers.get("HX-Request") == "true"
    queued = _queue_context(request, vc, principal, box, unit_id)
    # Leads (and admins) see the unit's service levels above its boxes.
    sla = (
        requests.sla_for_unit(vc, unit_id)["relationships"]
        if not fragment and may(vc, principal, Action.VIEW_SLA, unit_id)
        else None
    )
    context = {
        **queued,
        "nav": "requests",
        "unit": {"id": unit_id, "name": described["name"]},
        "box": box,
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
    """Requests made to the unit, filtered by the URL (open ones by default), with live
    clocks (the rows refresh every 30 s, keeping the filters)."""
    return _box(request, vc, principal, unit_id, "inbox")


@router.get("/units/{unit_id}/outbox", response_class=HTMLResponse)
def outbox(
    request: Request, unit_id: str, vc: CurrentValuechain, principal: UnitWorker
) -> Response:
    """Requests the unit made (a member sees their own), filtered, with live clocks."""
    return _box(request, vc, principal, unit_id, "outbox")


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
