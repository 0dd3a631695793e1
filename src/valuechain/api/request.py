"""Capability 4, Request, as JSON under ``/api/v1/requests``: file a request, move it
through its states, thank the provider; a unit's inbox, outbox, thanks wall and
service levels; the organisation's ``valuechain sla --json`` document.

State-changing calls accept an ``Idempotency-Key`` header, as every state-changing
route does (``edge.idempotency``): the change and its answer commit in one
transaction; the same key with the same body is answered with the stored result and
changes nothing; with another body it answers 422.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, TypeAdapter

from valuechain.domain.access import Action, Principal
from valuechain.domain.request import Assignment, ClockState, Priority, RequestState, Verb
from valuechain.edge.dependencies import AccessRule, CurrentValuechain, allow
from valuechain.edge.errors import NOT_FOUND, Problem, Unprocessable
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services import request as requests
from valuechain.services import thanks
from valuechain.services.errors import Conflict
from valuechain.services.request_types import Clocked, RequestDetail, Sla, ThanksEntry

router = APIRouter(route_class=IdempotentRoute, tags=["request"])

# Bounded so the offset fits a 64-bit integer in every database (found by schemathesis).
MAX_OFFSET = 1_000_000_000
RequestUser = Annotated[Principal, Depends(AccessRule(Action.USE_REQUESTS))]
UNIT_WORK = [allow(Action.REQUEST_WORK, unit_param="unit_id")]
CHANGE_ERRORS: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    409: {"model": Problem, "description": "The change does not apply to the request now"},
    422: {
        "model": Unprocessable,
        "description": "The Idempotency-Key was used for another change, or invalid input",
    },
}


class NewRequest(BaseModel):
    provider: str = Field(min_length=1, max_length=200, description="The unit asked.")
    customer: str | None = Field(
        default=None, max_length=200, description="The asking unit; default: the caller's."
    )
    title: str = Field(min_length=1, max_length=requests.MAX_TITLE)
    body: str = Field(default="", max_length=requests.MAX_BODY)
    priority: str | None = Field(default=None, description="low, normal, high or urgent.")
    category: str | None = Field(default=None, max_length=100)


class Change(BaseModel):
    verb: Verb
    note: str | None = Field(default=None, max_length=requests.MAX_NOTE)


class Thanks(BaseModel):
    note: str | None = Field(default=None, max_length=requests.MAX_NOTE)


class Assignee(BaseModel):
    person: str | None = Field(
        default=None,
        max_length=200,
        description="The id of a person of the provider unit on the map; null: nobody.",
    )


class NewComment(BaseModel):
    body: str = Field(
        min_length=1,
        max_length=requests.MAX_NOTE,
        description="The message; @Full Name notifies that person (of either unit).",
    )


class QueueQuery(BaseModel):
    """The filters every request list takes, all optional. Unlike the pages, a list
    holds done requests too unless ``open=true`` (as ``/api/v1`` always answered)."""

    open: bool = Field(default=False, description="Open requests only.")
    state: RequestState | None = None
    priority: Priority | None = None
    customer: str | None = Field(default=None, max_length=200, description="A unit id.")
    provider: str | None = Field(default=None, max_length=200, description="A unit id.")
    category: str | None = Field(default=None, max_length=100)
    clock: Literal["at_risk", "breached"] | None = Field(
        default=None, description="Open requests at risk (75% of a target used), or breached."
    )
    assignee: Assignment | None = Field(default=None, description="mine or unassigned.")
    q: str | None = Field(
        default=None, max_length=requests.MAX_SEARCH, description="Words in title or details."
    )
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)

    def wanted(self) -> requests.QueueFilter:
        return requests.QueueFilter(
            open_only=self.open,
            state=self.state,
            priority=self.priority,
            customer=self.customer,
            provider=self.provider,
            category=self.category,
            clock=None if self.clock is None else ClockState(self.clock),
            assignment=self.assignee,
            text=self.q,
        )


Filters = Annotated[QueueQuery, Query()]


_DETAIL = TypeAdapter(RequestDetail)


def _detail(found: RequestDetail) -> dict[str, Any]:
    """A state-changing answer as :class:`RequestDetail`, the shape ``GET`` answers: these
    answers bypass the response model (they are recorded for replays as sent), and
    the stored row also holds what is nobody's business (the organisation's row id,
    the requester's account id), which validating against the declared keys drops."""
    shaped: dict[str, Any] = _DETAIL.dump_python(_DETAIL.validate_python(found), mode="json")
    return shaped


def _asker(principal: Principal) -> requests.Asker:
    return requests.Asker.of(principal)


def _queue(
    vc: CurrentValuechain, principal: Principal, scope: str, unit: str | None, f: QueueQuery
) -> list[Clocked]:
    page = requests.queue(vc, principal, scope, unit, f.wanted(), limit=f.limit, offset=f.offset)
    return page.rows


@router.get("/requests", response_model=list[Clocked], responses=CHANGE_ERRORS)
def my_requests(vc: CurrentValuechain, principal: RequestUser, f: Filters) -> list[Clocked]:
    """The requests the caller filed, newest first, with live clocks (every filter of
    :class:`QueueQuery`)."""
    return _queue(vc, principal, "mine", None, f)


@router.get("/queue", response_model=list[Clocked], responses=CHANGE_ERRORS)
def all_requests(
    vc: CurrentValuechain,
    principal: Annotated[Principal, Depends(AccessRule(Action.VIEW_ALL_REQUESTS))],
    f: Filters,
) -> list[Clocked]:
    """Every request of the organisation (admins), newest first, filtered."""
    return _queue(vc, principal, "all", None, f)


@router.post("/requests", status_code=201, response_model=RequestDetail, responses=CHANGE_ERRORS)
def file_request(body: NewRequest, vc: CurrentValuechain, principal: RequestUser) -> Any:
    """File a request from the caller's unit (or ``customer``) to ``provider``."""
    customer = body.customer or principal.unit_id
    if customer is None:
        raise Conflict("your account belongs to no unit: name the customer unit")
    found = requests.new_request(
        vc,
        _asker(principal),
        customer=customer,
        provider=body.provider,
        title=body.title,
        body=body.body,
        priority=body.priority,
        category=body.category,
    )
    return _detail(found)


@router.get("/requests/{request_id}", response_model=RequestDetail, responses=NOT_FOUND)
def one_request(request_id: str, vc: CurrentValuechain, principal: RequestUser) -> RequestDetail:
    """One request with its timeline; 404 also when the caller is on neither side."""
    return requests.get(vc, _asker(principal), request_id)


@router.post("/requests/{request_id}/events", response_model=RequestDetail, responses=CHANGE_ERRORS)
def change_request(
    request_id: str, body: Change, vc: CurrentValuechain, principal: RequestUser
) -> Any:
    """Move the request (ack, start, wait, resolve, close, reopen) with a note."""
    return _detail(requests.change(vc, _asker(principal), request_id, body.verb, body.note))


@router.post("/requests/{request_id}/thanks", response_model=RequestDetail, responses=CHANGE_ERRORS)
def thank_request(
    request_id: str, body: Thanks, vc: CurrentValuechain, principal: RequestUser
) -> Any:
    """Say thank you for a resolved request (once), with a note."""
    return _detail(thanks.thank(vc, _asker(principal), request_id, body.note))


@router.post(
    "/requests/{request_id}/assignee", response_model=RequestDetail, responses=CHANGE_ERRORS
)
def assign_request(
    request_id: str, body: Assignee, vc: CurrentValuechain, principal: RequestUser
) -> Any:
    """Set, change or clear who of the provider unit works on the request (the
    provider's side only: 403 for the customer's)."""
    return _detail(requests.assign(vc, _asker(principal), request_id, body.person))


@router.post(
    "/requests/{request_id}/comments",
    status_code=201,
    response_model=RequestDetail,
    responses=CHANGE_ERRORS,
)
def comment_request(
    request_id: str, body: NewComment, vc: CurrentValuechain, principal: RequestUser
) -> Any:
    """Add a message to the request's conversation (either side); the people of the two
    units it mentions as ``@Full Name`` are notified."""
    return _detail(requests.comment(vc, _asker(principal), request_id, body.body))


@router.get(
    "/units/{unit_id}/inbox",
    response_model=list[Clocked],
    dependencies=UNIT_WORK,
    responses=CHANGE_ERRORS,
)
def inbox(unit_id: str, vc: CurrentValuechain, principal: RequestUser, f: Filters) -> list[Clocked]:
    """The requests made to the unit, newest first, with live clocks, filtered."""
    return _queue(vc, principal, "inbox", unit_id, f)


@router.get(
    "/units/{unit_id}/outbox",
    response_model=list[Clocked],
    dependencies=UNIT_WORK,
    responses=CHANGE_ERRORS,
)
def outbox(
    unit_id: str, vc: CurrentValuechain, principal: RequestUser, f: Filters
) -> list[Clocked]:
    """The requests the unit made (a member sees their own among them), filtered."""
    return _queue(vc, principal, "outbox", unit_id, f)


@router.get("/units/{unit_id}/thanks", response_model=list[ThanksEntry], dependencies=UNIT_WORK)
def thanks_wall(unit_id: str, vc: CurrentValuechain) -> list[ThanksEntry]:
    """The thanks the unit received, newest first."""
    return thanks.wall(vc, unit_id)


@router.get(
    "/units/{unit_id}/sla",
    response_model=Sla,
    dependencies=[allow(Action.VIEW_SLA, unit_param="unit_id")],
)
def unit_sla(unit_id: str, vc: CurrentValuechain) -> Sla:
    """Service levels of the relationships the unit provides to or asks from."""
    return requests.sla_for_unit(vc, unit_id)


@router.get("/sla", response_model=Sla, dependencies=[allow(Action.VIEW_SLA)])
def sla(vc: CurrentValuechain) -> Sla:
    """Service levels of every relationship with requests (``valuechain sla --json``)."""
    return requests.sla(vc)
