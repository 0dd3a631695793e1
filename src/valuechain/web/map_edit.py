"""Capability 1, the Map, built in the browser (docs/map.md, "Building the map in the
app"): a unit's lead keeps the unit's results and says who uses them; the lead of the
other side of a link confirms it, disputes it with a reason or corrects its relation;
admins see every open link across the organisation and may answer for either side.

Every step is a service of :mod:`valuechain.services.map_edit` (the same rules as the
API); the pages pick units and results by name (:mod:`valuechain.web.picker`) and keep
what was typed when a form is refused, with the reason next to the field."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from valuechain.domain.access import Action, Principal
from valuechain.domain.account import AccountRole
from valuechain.domain.link import Relation
from valuechain.domain.result import ResultKind
from valuechain.edge.dependencies import AccessRule, CurrentValuechain, client_address
from valuechain.edge.errors import status_of
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services import map_edit
from valuechain.services.audit import Actor
from valuechain.services.errors import Conflict, Forbidden, Invalid, NotFound
from valuechain.services.organisation import Valuechain
from valuechain.web.picker import Choice, FieldProblem, pick, unit_choices
from valuechain.web.templating import templates

router = APIRouter(route_class=IdempotentRoute, include_in_schema=False)

Editor = Annotated[Principal, Depends(AccessRule(Action.EDIT_MAP_OF_UNIT, unit_param="unit_id"))]
# The organisation-wide list of open links is the facilitator's (admins).
Facilitator = Annotated[Principal, Depends(AccessRule(Action.FACILITATE))]

KINDS = tuple(k.value for k in ResultKind)
RELATIONS = tuple(r.value for r in Relation)
# In a big organisation a datalist of every unit or result is too long to help.
MAX_SUGGESTIONS = 500
# What a service refusal looks like on these forms (shown in words, form kept).
REFUSED = (Invalid, Conflict, Forbidden, NotFound, FieldProblem)
ANSWERS = ("confirm", "dispute", "withdraw", "correct")
# A universal service's result has thousands of customers: a page lists this many
# links per result (open ones first) and the admin's list this many open links.
LINKS_SHOWN = 200


def _actor(principal: Principal, request: Request) -> Actor:
    return Actor(principal.account_id, principal.email, client_address(request))


def _admin(principal: Principal) -> bool:
    return principal.role is AccountRole.ADMIN


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


def _field_errors(error: Exception, prefix: str, fields: Iterable[str]) -> dict[str, str]:
    """A refusal as messages next to the form's fields: a :class:`FieldProblem`'s own
    field, each column the importer's rules refused, else the form as a whole."""
    if isinstance(error, FieldProblem):
        return {error.field: str(error)}
    found = getattr(error, "errors", None)
    if isinstance(found, dict):
        known = set(fields)
        return {
            f"{prefix}-{column}" if column in known else f"{prefix}-form": _sentence(message)
            for column, message in found.items()
        }
    return {f"{prefix}-form": _sentence(str(error))}


def _number(text: str) -> str | None:
    """A typed number as the importer reads it (a cell), or None when left empty."""
    return text.strip().replace(",", ".") or None


def slot_of(key: map_edit.LinkKey) -> str:
    """The prefix of a link's form fields and their errors on a page: ids may hold any
    character, an HTML id may not hold a space, so a short digest of the key."""
    return "link-" + hashlib.blake2s("\x1f".join(key).encode(), digest_size=6).hexdigest()


# -- choices by name -------------------------------------------------------------------


def _pick_unit(vc: Valuechain, typed: str, field: str) -> str:
    every = vc.describe_units(vc.chain().columns.unit_ids)
    return pick(typed, unit_choices(every), field=field, what="unit")


def _pick_result_of(vc: Valuechain, provider: str, typed: str, field: str) -> str:
    """The provider's result called ``typed`` (its name, or its id)."""
    chain = vc.chain()
    cols = chain.columns
    pos = chain.unit_pos[provider]
    choices = [
        Choice(rid, name)
        for rid, name, unit in zip(
            cols.result_ids, cols.result_names, cols.result_unit, strict=True
        )
        if unit == pos
    ]
    name = cols.unit_names[pos]
    if not choices:
        raise FieldProblem(field, f"{name} produces no results on the map yet.")
    return pick(typed, choices, field=field, what=f"result of {name}")


# -- the unit's page -------------------------------------------------------------------


def _link_row(link: Any, unit_id: str) -> dict[str, Any]:
    """A link as the page shows it: which side this unit is, whether it waits for
    this unit's answer, and what this unit may do with it."""
    ours = link.proposed_side == unit_id
    open_ = link.state in map_edit.OPEN_STATES
    return {
        "link": link,
        "slot": slot_of((link.result_id, link.customer_id, link.relation)),
        "other": link.customer_id if link.provider == unit_id else link.provider,
        "by_us": ours,
        "may_dispute": link.state == "proposed" and not ours and link.proposed_side is not None,
        "may_withdraw": open_ and ours,
    }


def _confirmed_last(link: Any) -> bool:
    return bool(link.state == "confirmed")


def _page(
    request: Request,
    vc: Valuechain,
    unit_id: str,
    *,
    errors: Mapping[str, str] | None = None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    found = map_edit.unit_links(vc, unit_id, suggest=MAX_SUGGESTIONS)
    # A name two units share is told apart by the id in the suggestion.
    others = {u: {"name": n} for u, n in found.other_units.items()}
    waiting = [_link_row(x, unit_id) for x in found.waiting]
    return templates.TemplateResponse(
        request,
        "map/results.html",
        {
            "nav": "units",
            "unit_id": unit_id,
            "unit_name": found.unit_names.get(unit_id, unit_id),
            "results": found.results,
            # Open links first: they are the ones to act on when a result has many.
            "provided": {
                rid: [_link_row(x, unit_id) for x in sorted(links, key=_confirmed_last)]
                for rid, links in found.provided.items()
            },
            "used": [_link_row(x, unit_id) for x in sorted(found.used, key=_confirmed_last)],
            "shown": LINKS_SHOWN,
            "waiting": waiting,
            "units": found.unit_names,
            "result_names": found.result_names,
            "kinds": KINDS,
            "relations": RELATIONS,
            "unit_choices": unit_choices(others),
            "result_choices": found.other_results,
            "errors": dict(errors or {}),
            "form": dict(form or {}),
        },
        status_code=status_code,
    )


def _back(unit_id: str, anchor: str = "") -> Response:
    return RedirectResponse(f"/units/{unit_id}/results{anchor}", status_code=303)


@router.get("/units/{unit_id}/results", response_class=HTMLResponse)
def results_page(
    request: Request, unit_id: str, vc: CurrentValuechain, principal: Editor
) -> Response:
    """Our results and who uses them: the unit's results with their links in every
    state, the links waiting for this unit's answer, and the forms to add, change and
    remove results and to declare links either way (the unit's lead, and admins)."""
    return _page(request, vc, unit_id)


RESULT_FIELDS = ("name", "kind", "capacity", "cost_per_item", "revenue_per_item")


def _result_fields(
    name: str, kind: str, capacity: str, cost_per_item: str, revenue_per_item: str
) -> dict[str, object]:
    return {
        "name": name,
        "kind": kind,
        "capacity": _number(capacity),
        "cost_per_item": _number(cost_per_item),
        "revenue_per_item": _number(revenue_per_item),
    }


Text = Annotated[str, Form(max_length=300)]
Number = Annotated[str, Form(max_length=40)]


@router.post("/units/{unit_id}/results", response_class=HTMLResponse)
def add_result(
    request: Request,
    unit_id: str,
    vc: CurrentValuechain,
    principal: Editor,
    name: Text,
    kind: Annotated[str, Form(max_length=50)],
    capacity: Number = "",
    cost_per_item: Number = "",
    revenue_per_item: Number = "",
) -> Response:
    """Add a result by name (its id is made from the unit and the name); the form
    again with the reasons next to the fields when the importer's rules refuse it."""
    fields = _result_fields(name, kind, capacity, cost_per_item, revenue_per_item)
    try:
        map_edit.add_named_result(vc, unit_id, fields, _actor(principal, request))
    except REFUSED as error:
        typed = {"name": name, "kind": kind, "capacity": capacity,
                 "cost_per_item": cost_per_item, "revenue_per_item": revenue_per_item}  # fmt: skip
        return _page(
            request, vc, unit_id,
            errors=_field_errors(error, "new", RESULT_FIELDS),
            form={f"new-{k}": v for k, v in typed.items()},
            status_code=status_of(error),
        )  # fmt: skip
    return _back(unit_id, "#results-heading")


@router.post("/units/{unit_id}/results/{result_id}", response_class=HTMLResponse)
def change_result(
    request: Request,
    unit_id: str,
    result_id: str,
    vc: CurrentValuechain,
    principal: Editor,
    name: Text,
    kind: Annotated[str, Form(max_length=50)],
    capacity: Number = "",
    cost_per_item: Number = "",
    revenue_per_item: Number = "",
) -> Response:
    """Change one of the unit's results (every field at once, as the API's PUT); the
    leads of the units using it are told."""
    fields = _result_fields(name, kind, capacity, cost_per_item, revenue_per_item)
    try:
        map_edit.save_result(vc, unit_id, fields, _actor(principal, request), result_id=result_id)
    except REFUSED as error:
        typed = {"name": name, "kind": kind, "capacity": capacity,
                 "cost_per_item": cost_per_item, "revenue_per_item": revenue_per_item}  # fmt: skip
        prefix = f"edit-{result_id}"
        return _page(
            request, vc, unit_id,
            errors=_field_errors(error, prefix, RESULT_FIELDS),
            form={f"{prefix}-{k}": v for k, v in typed.items()} | {"open": result_id},
            status_code=status_of(error),
        )  # fmt: skip
    return _back(unit_id, "#results-heading")


@router.post("/units/{unit_id}/results/{result_id}/remove", response_class=HTMLResponse)
def remove_result(
    request: Request, unit_id: str, result_id: str, vc: CurrentValuechain, principal: Editor
) -> Response:
    """Remove one of the unit's results with its links; refused in words while an
    agreement or capacity share refers to it."""
    try:
        map_edit.remove_result(vc, unit_id, result_id, _actor(principal, request))
    except REFUSED as error:
        return _page(
            request, vc, unit_id,
            errors={f"edit-{result_id}-form": _sentence(str(error))},
            form={"open": result_id}, status_code=status_of(error),
        )  # fmt: skip
    return _back(unit_id, "#results-heading")


@router.post("/units/{unit_id}/links", response_class=HTMLResponse)
def declare_link(
    request: Request,
    unit_id: str,
    vc: CurrentValuechain,
    principal: Editor,
    side: Annotated[str, Form(pattern="^(provider|customer)$")],
    relation: Annotated[str, Form(max_length=50)],
    result: Annotated[str, Form(max_length=300)] = "",
    customer: Annotated[str, Form(max_length=300)] = "",
    provider: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Declare a link for this unit's side: ``provider`` ("our result ``result``, the
    unit ``customer`` uses it") or ``customer`` ("we depend on ``provider``'s
    ``result``"); units and results are typed by name. A lead's link waits for the
    other side's answer; an admin's is on the map at once."""
    prefix = "offer" if side == "provider" else "use"
    try:
        if side == "provider":
            if not result:
                raise FieldProblem("offer-result", "Choose one of your results.")
            customer_id = _pick_unit(vc, customer, "offer-customer")
            result_id = result
        else:
            provider_id = _pick_unit(vc, provider, "use-provider")
            result_id = _pick_result_of(vc, provider_id, result, "use-result")
            customer_id = unit_id
        map_edit.propose_link(
            vc, unit_id,
            {"result_id": result_id, "customer_id": customer_id, "relation": relation},
            _actor(principal, request), admin=_admin(principal),
        )  # fmt: skip
    except REFUSED as error:
        typed = {"result": result, "customer": customer, "provider": provider, "relation": relation}
        errors = _field_errors(error, prefix, ("relation",))
        return _page(
            request, vc, unit_id,
            errors=errors, form={f"{prefix}-{k}": v for k, v in typed.items()},
            status_code=status_of(error),
        )  # fmt: skip
    return _back(unit_id, "#offer-heading" if side == "provider" else "#use-heading")


def _answer(
    vc: Valuechain,
    principal: Principal,
    request: Request,
    unit_id: str,
    answer: str,
    key: map_edit.LinkKey,
    reason: str,
    new_relation: str,
) -> Callable[[], object]:
    actor, admin = _actor(principal, request), _admin(principal)
    if answer == "confirm":
        return lambda: map_edit.answer_link(vc, unit_id, key, actor, admin=admin, confirm=True)
    if answer == "dispute":
        if not reason.strip():
            raise FieldProblem("reason", "Say why this is not so, for the other side to read.")
        return lambda: map_edit.answer_link(
            vc, unit_id, key, actor, admin=admin, confirm=False, reason=reason.strip()
        )
    if answer == "withdraw":
        return lambda: map_edit.withdraw_link(vc, unit_id, key, actor, admin=admin)
    if new_relation not in RELATIONS:
        raise FieldProblem("relation", "Choose the relation it really is.")
    return lambda: map_edit.correct_link(vc, unit_id, key, new_relation, actor, admin=admin)


@router.post("/units/{unit_id}/links/{answer}", response_class=HTMLResponse)
def answer_link(
    request: Request,
    unit_id: str,
    answer: str,
    vc: CurrentValuechain,
    principal: Editor,
    result_id: Annotated[str, Form(max_length=200)],
    customer_id: Annotated[str, Form(max_length=200)],
    relation: Annotated[str, Form(max_length=50)],
    reason: Annotated[str, Form(max_length=2000)] = "",
    new_relation: Annotated[str, Form(max_length=50)] = "",
    back: Annotated[str, Form(pattern="^(unit|admin)$")] = "unit",
) -> Response:
    """Answer a link for this unit's side: ``confirm`` ("yes, we use this"),
    ``dispute`` ("not us", with a reason), ``correct`` (the relation is another one:
    :func:`map_edit.correct_link`) or ``withdraw`` (the proposing side). A refused
    answer shows the page again with the reason next to that link's form."""
    if answer not in ANSWERS:
        raise NotFound(f"no answer {answer!r}")
    key = (result_id, customer_id, relation)
    try:
        _answer(vc, principal, request, unit_id, answer, key, reason, new_relation)()
    except REFUSED as error:
        field = error.field if isinstance(error, FieldProblem) else "form"
        slot = slot_of(key)
        errors = {f"{slot}-{field}": _sentence(str(error))}
        form = {f"{slot}-reason": reason, f"{slot}-new_relation": new_relation}
        if back == "admin":
            return _admin_page(request, vc, errors=errors, status_code=status_of(error))
        return _page(request, vc, unit_id, errors=errors, form=form, status_code=status_of(error))
    if back == "admin":
        return RedirectResponse("/admin/links", status_code=303)
    return _back(unit_id, "#waiting-heading")


# -- the admin's list ------------------------------------------------------------------


def _age(at: datetime | None, now: datetime) -> str:
    """How long ago, in the largest whole unit: "3 days ago", or "just now"."""
    if at is None:
        return "—"
    seconds = (now - (at if at.tzinfo else at.replace(tzinfo=UTC))).total_seconds()
    for size, word in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {word}{'' if n == 1 else 's'} ago"
    return "just now"


def _admin_page(
    request: Request,
    vc: Valuechain,
    *,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    found = map_edit.open_links(vc, map_edit.OPEN_STATES, unit_id=None, everything=True)
    units, results = vc.names(
        {x["provider"] for x in found} | {x["customer_id"] for x in found},
        {x["result_id"] for x in found},
    )
    now = datetime.now(UTC)
    rows = [
        {
            **x,
            "slot": slot_of((x["result_id"], x["customer_id"], x["relation"])),
            "age": _age(x["proposed_at"], now),
            "answered_age": _age(x["answered_at"], now),
        }
        for x in found
    ]
    # Disputes first (they need someone to settle them), then the oldest proposals.
    rows.sort(key=lambda r: (r["state"] != "disputed", r["proposed_at"] or now))
    total = len(rows)
    return templates.TemplateResponse(
        request,
        "map/open_links.html",
        {
            "nav": "links",
            "rows": rows[:LINKS_SHOWN],
            "total": total,
            "disputed": sum(r["state"] == "disputed" for r in rows),
            "units": units,
            "result_names": results,
            "errors": dict(errors or {}),
        },
        status_code=status_code,
    )


@router.get("/admin/links", response_class=HTMLResponse)
def open_links_page(request: Request, vc: CurrentValuechain, principal: Facilitator) -> Response:
    """Every proposed and disputed link across the organisation, disputes first, with
    both units' names, the reason and the age; a Confirm button for either side."""
    return _admin_page(request, vc)
