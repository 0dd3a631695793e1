"""Capability 4, Request: internal requests between units with service-level clocks.

A member of a customer unit asks a provider unit; the provider acknowledges, works,
waits on the customer (the clocks pause), resolves; the customer closes or reopens
and may say thank you. Every change is one transaction that writes the new state and
an event row (who, when, from, to, note). Retries go through the one idempotency
mechanism (:mod:`valuechain.services.idempotency`): an edge opens the key's unit and
these changes join it.

Clocks count business time on the calendar of the relationship's agreement and are
judged against its response and resolution targets (:func:`terms_of`); without an
agreement the calendar is Monday to Friday 09:00-17:00 UTC and there are no targets.
The organisation-wide SLA (:func:`sla`) reads every request as columns in one ordered
scan and times them with :mod:`valuechain.analytics.sla` in a vectorised pass.
"""

from __future__ import annotations

import csv
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from valuechain.analytics.clock import BusinessClock, business_clock, elapsed
from valuechain.analytics.sla import RequestClocks, request_clocks, summarise
from valuechain.domain.access import Principal
from valuechain.domain.account import AccountRole
from valuechain.domain.bundle import unescape_formula
from valuechain.domain.calendar import DEFAULT, Calendar
from valuechain.domain.request import (
    AT_RISK,
    FIRST_RESPONSE_STATES,
    Assignment,
    ClockState,
    Priority,
    RequestRecord,
    RequestState,
    Side,
    TransitionError,
    Verb,
    allowed_verbs,
    mentioned,
    move,
)
from valuechain.services import notification
from valuechain.services.agreement import terms as agreement_terms
from valuechain.services.errors import Conflict, Forbidden, Invalid, NotFound
from valuechain.services.organisation import Valuechain
from valuechain.services.request_types import (
    CatalogueEntry,
    Clocked,
    Person,
    RequestDetail,
    Sla,
    UnitSla,
)
from valuechain.services.transaction import reading, writing
from valuechain.store import organisation as map_store
from valuechain.store import request as store

MAX_TITLE = 300
MAX_BODY = 8000
MAX_NOTE = 4000
PRIORITIES = ("low", "normal", "high", "urgent")


class RequestError(Conflict):
    """A request that cannot be filed or a change that does not apply."""


class InvalidRequest(Invalid, RequestError):
    """A request or a change given with bad input (no title, an unknown priority)."""


class RequestConflict(RequestError):
    """Someone else changed the request at the same moment; read it again."""


class NotAllowed(Forbidden, RequestError):
    """The asker is on neither side of the request (HTTP 403)."""


# -- terms: calendar and targets per relationship ---------------------------------


class ClockTerms(Protocol):
    """What the clocks need from an agreement (``services.agreement.Terms`` is one)."""

    @property
    def calendar(self) -> Calendar: ...
    @property
    def response_hours(self) -> float | None: ...
    @property
    def resolution_hours(self) -> float | None: ...


@dataclass(frozen=True)
class Terms:
    """Clock terms of a relationship without an agreement (or set by hand)."""

    calendar: Calendar = DEFAULT
    response_hours: float | None = None
    resolution_hours: float | None = None


NO_AGREEMENT = Terms()
"""No agreement: Monday to Friday 09:00-17:00 UTC, no targets."""

TermsSource = Callable[[Valuechain], Mapping[tuple[str, str], ClockTerms]]
terms_of: TermsSource = agreement_terms
"""Where the terms come from: ``(provider, customer) -> terms`` of the agreement in
force (``services.agreement.terms``)."""


# -- who is asking -----------------------------------------------------------------


@dataclass(frozen=True)
class Asker:
    """Who changes or reads a request: a signed-in principal, or the command line
    (``principal`` None), which acts for both sides like an admin."""

    principal: Principal | None
    label: str

    @classmethod
    def of(cls, principal: Principal) -> Asker:
        return cls(principal, principal.name or principal.email)

    @property
    def account_id(self) -> str | None:
        return None if self.principal is None else self.principal.account_id


def sides(asker: Asker, request: Mapping[str, Any]) -> frozenset[Side]:
    """The sides of ``request`` the asker is on: the provider's unit answers; the
    requester (and the asking unit's lead) is the customer. Admins and the command
    line are on both sides."""
    p = asker.principal
    if p is None or p.role is AccountRole.ADMIN:
        return frozenset({Side.PROVIDER, Side.CUSTOMER})
    found: set[Side] = set()
    if p.role in (AccountRole.LEAD, AccountRole.MEMBER) and p.unit_id is not None:
        if p.unit_id == request["provider_id"]:
            found.add(Side.PROVIDER)
        if p.unit_id == request["customer_id"] and (
            p.role is AccountRole.LEAD or request.get("requester_id") == p.account_id
        ):
            found.add(Side.CUSTOMER)
    return frozenset(found)


# -- clocks --------------------------------------------------------------------------


def _epoch(moment: datetime | None) -> float:
    return float("nan") if moment is None else moment.timestamp()


def _clock(calendar: Calendar, first: float, last: float) -> BusinessClock:
    """The calendar's working intervals from the start of the month a week before
    ``first`` to the end of the month a week after ``last`` (time zones shift local
    days against UTC ones); laid out once per range and kept (a few KiB each)."""
    start = datetime.fromtimestamp(first, UTC).date() - timedelta(days=7)
    end = datetime.fromtimestamp(last, UTC).date() + timedelta(days=38)
    return _laid_out(calendar, start.replace(day=1), end.replace(day=1))


@lru_cache(maxsize=128)
def _laid_out(calendar: Calendar, first_day: date, last_day: date) -> BusinessClock:
    return business_clock(calendar, first_day, last_day)


def _now() -> datetime:
    return datetime.now(UTC)


def with_clocks(
    vc: Valuechain, rows: Sequence[dict[str, Any]], now: datetime | None = None
) -> list[dict[str, Any]]:
    """``rows`` with their live clocks: business hours used to first response and to
    resolution, the targets, whether each is met / breached, at risk (``near_breach``:
    75% of a target used while open) and the clock's state in one word (``clock``)."""
    if not rows:
        return []
    at = (now or _now()).timestamp()
    terms = terms_of(vc)
    out = [dict(r) for r in rows]
    by_calendar: dict[Calendar, list[int]] = {}
    row_terms = [terms.get((r["provider_id"], r["customer_id"]), NO_AGREEMENT) for r in rows]
    for i, t in enumerate(row_terms):
        by_calendar.setdefault(t.calendar, []).append(i)
    for cal, index in by_calendar.items():
        chosen = [rows[i] for i in index]
        created = np.array([_epoch(r["created_at"]) for r in chosen])
        clock = _clock(cal, float(created.min()), at)
        first = np.array([_epoch(r["first_response_at"]) for r in chosen])
        resolved = np.array([_epoch(r["resolved_at"]) for r in chosen])
        paused = _paused(
            clock,
            np.array([r["paused_seconds"] or 0.0 for r in chosen]),
            np.array([_epoch(r["paused_since"]) for r in chosen]),
            at,
        )
        response_t = np.array([_hours(row_terms[i].response_hours) for i in index])
        resolution_t = np.array([_hours(row_terms[i].resolution_hours) for i in index])
        clocks = request_clocks(
            clock, created, first, resolved, response_t, resolution_t, at, paused=paused
        )
        for k, i in enumerate(index):
            row = out[i]
            row["response_hours"] = _round(clocks.to_response[k] / 3600)
            row["resolution_hours"] = _round(clocks.to_resolution[k] / 3600)
            row["response_target_hours"] = row_terms[i].response_hours
            row["resolution_target_hours"] = row_terms[i].resolution_hours
            row["response_met"] = _flag(clocks.response_met[k])
            row["resolution_met"] = _flag(clocks.resolution_met[k])
            row["near_breach"] = bool(clocks.near_breach[k])
            row["breached"] = row["response_met"] is False or row["resolution_met"] is False
            row["paused"] = row.get("paused_since") is not None
            row["clock"] = _clock_state(row)
            row.setdefault("assignee_id", None)
            row.setdefault("assignee", None)
    return out


def _clock_state(row: Mapping[str, Any]) -> ClockState:
    """Breached (a target missed), at risk (open, 75% of a target used), no target,
    on track (open within its targets) or met (finished within them)."""
    if row["breached"]:
        return ClockState.BREACHED
    if row["near_breach"]:
        return ClockState.AT_RISK
    if row["response_target_hours"] is None and row["resolution_target_hours"] is None:
        return ClockState.NO_TARGET
    return ClockState.ON_TRACK if row["resolved_at"] is None else ClockState.MET


def _paused(clock: BusinessClock, seconds: np.ndarray, since: np.ndarray, now: float) -> np.ndarray:
    running = ~np.isnan(since)
    extra = np.zeros_like(seconds)
    if running.any():
        extra[running] = elapsed(clock, since[running], np.full(int(running.sum()), now))
    result: np.ndarray = seconds + extra
    return result


def _hours(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _round(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 2)


def _flag(value: float) -> bool | None:
    return None if np.isnan(value) else bool(value == 1.0)


# -- reading -------------------------------------------------------------------------


def _public(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
    out.pop("events", None)
    out.pop("org_id", None)  # internal: which organisation's row this is
    return out


def get(
    vc: Valuechain,
    asker: Asker,
    request_id: str,
    now: datetime | None = None,
) -> RequestDetail:
    """One request with its clocks, its timeline and the verbs the asker may use (in
    the caller's unit of work when there is one, so a change answers what it wrote).
    Raises :class:`NotFound` (also when the asker may not see it, so ids leak nothing)."""
    with reading(vc) as conn:
        row = store.get_request(conn, vc.org_id, request_id)
        if row is None or not sides(asker, row):
            raise NotFound(f"no request with id {request_id!r}")
        events = store.events_of(conn, vc.org_id, request_id)
        comments = store.comments_of(conn, vc.org_id, request_id)
        clocked = with_clocks(vc, [row], now)[0]
    mine = sides(asker, row)
    found = _public(clocked)
    found["body"] = row["body"]
    found["thanks_note"] = row["thanks_note"]
    found["thanked_by"] = row["thanked_by"]
    found["timeline"] = [
        {
            "at": e["at"].isoformat(),
            "actor": e["actor"],
            "verb": e["verb"],
            "from": e["from_state"],
            "to": e["to_state"],
            "note": e["note"],
        }
        for e in events
    ]
    found["comments"] = [
        {
            "id": c["id"],
            "at": c["at"].isoformat(),
            "author": c["author"],
            "side": c["side"],
            "body": c["body"],
        }
        for c in comments
    ]
    found["verbs"] = [v.value for v in allowed_verbs(RequestState(row["state"]), mine)]
    found["can_assign"] = Side.PROVIDER in mine
    found["can_thank"] = (
        Side.CUSTOMER in mine and row["resolved_at"] is not None and row["thanked_at"] is None
    )
    return cast(RequestDetail, found)


def listing(
    vc: Valuechain,
    *,
    provider: str | None = None,
    customer: str | None = None,
    requester_id: str | None = None,
    open_only: bool = False,
    limit: int = 50,
    offset: int = 0,
    now: datetime | None = None,
) -> list[Clocked]:
    """Requests newest first with live clocks: a unit's inbox (``provider``), its
    outbox (``customer``), or one person's requests (``requester_id``). Callers check
    access first (see :func:`may_list`)."""
    with reading(vc) as conn:
        rows = store.list_requests(
            conn,
            vc.org_id,
            provider=provider,
            customer=customer,
            requester_id=requester_id,
            open_only=open_only,
            limit=limit,
            offset=offset,
        )
        return [cast(Clocked, _public(r)) for r in with_clocks(vc, rows, now)]


def outbox(
    vc: Valuechain,
    principal: Principal,
    unit_id: str,
    *,
    limit: int = 50,
    offset: int = 0,
    now: datetime | None = None,
) -> list[Clocked]:
    """The requests ``unit_id`` made: a lead or admin sees them all, a member their
    own (a member sees their own requests, not their colleagues')."""
    mine = principal.role is AccountRole.MEMBER
    return listing(
        vc,
        customer=unit_id,
        requester_id=principal.account_id if mine else None,
        limit=limit,
        offset=offset,
        now=now,
    )


# -- queues: filtered, paged lists ----------------------------------------------------

MAX_SEARCH = 200
CLOCK_SCAN = 5000
"""The at-risk and breached filters time at most this many candidate requests (the
newest that SQL leaves), then page through those that match."""


@dataclass(frozen=True)
class QueueFilter:
    """What a queue shows: open only (the default), one state, priority, customer or
    provider unit, category, clock (``at_risk`` or ``breached``), assignee (``mine``
    or ``unassigned``) and words in the title or description."""

    open_only: bool = True
    state: RequestState | None = None
    priority: Priority | None = None
    customer: str | None = None
    provider: str | None = None
    category: str | None = None
    clock: ClockState | None = None
    assignment: Assignment | None = None
    text: str | None = None


@dataclass(frozen=True)
class Page:
    """One page of a queue, and whether another one follows."""

    rows: list[Clocked]
    more: bool


SCOPES = ("inbox", "outbox", "mine", "all")


def queue(
    vc: Valuechain,
    principal: Principal,
    scope: str,
    unit_id: str | None = None,
    wanted: QueueFilter = QueueFilter(),
    *,
    limit: int = 50,
    offset: int = 0,
    now: datetime | None = None,
) -> Page:
    """A queue newest first with live clocks: a unit's ``inbox`` (asked of it), its
    ``outbox`` (asked by it; a member sees their own), the principal's own requests
    (``mine``) or ``all`` of the organisation (admins; the caller checks access). The
    filters run in SQL (one indexed query); the clock filters narrow in SQL to
    relationships with a target and requests old enough to have used the share asked
    for (wall time is never less than business time), then time the candidates."""
    if scope not in SCOPES:
        raise InvalidRequest(f"expected a queue of {', '.join(SCOPES)}; found {scope!r}")
    if wanted.clock not in (None, ClockState.AT_RISK, ClockState.BREACHED):
        raise InvalidRequest("the clock filter is at_risk or breached")
    at = now or _now()
    text = (wanted.text or "").strip()[:MAX_SEARCH] or None
    member = principal.role is AccountRole.MEMBER
    with reading(vc) as conn:
        assignee_id: str | None = None
        if wanted.assignment is Assignment.MINE:
            assignee_id = store.person_of_account(conn, vc.org_id, principal.account_id)
            if assignee_id is None:
                return Page([], False)  # an account of nobody on the map has nothing
        query = store.Query(
            provider=unit_id if scope == "inbox" else wanted.provider,
            customer=unit_id if scope == "outbox" else wanted.customer,
            requester_id=(
                principal.account_id if scope == "mine" or (scope == "outbox" and member) else None
            ),
            open_only=wanted.open_only or wanted.clock is ClockState.AT_RISK,
            states=() if wanted.state is None else (wanted.state.value,),
            priority=None if wanted.priority is None else wanted.priority.value,
            category=wanted.category or None,
            text=text,
            assignee_id=assignee_id,
            unassigned=wanted.assignment is Assignment.UNASSIGNED,
        )
        if wanted.clock is None:
            rows = store.list_requests(conn, vc.org_id, query, limit=limit + 1, offset=offset)
            clocked = with_clocks(vc, rows, at)
        else:
            terms = terms_of(vc)
            share = AT_RISK if wanted.clock is ClockState.AT_RISK else 1.0
            targets = {
                pair: min(h for h in (t.response_hours, t.resolution_hours) if h is not None)
                for pair, t in terms.items()
                if t.response_hours is not None or t.resolution_hours is not None
            }
            if not targets:
                return Page([], False)
            shortest = min(targets.values())
            query = replace(
                query,
                pairs=tuple(sorted(targets)),
                created_before=at - timedelta(hours=share * shortest),
            )
            rows = store.list_requests(conn, vc.org_id, query, limit=CLOCK_SCAN)
            matching = [r for r in with_clocks(vc, rows, at) if r["clock"] == wanted.clock]
            clocked = matching[offset : offset + limit + 1]
    found = [cast(Clocked, _public(r)) for r in clocked]
    return Page(found[:limit], len(found) > limit)


def categories(vc: Valuechain, scope: str, unit_id: str | None) -> list[str] | None:
    """The categories a unit's inbox or outbox holds (a filter's choices); None for
    the other queues, whose category is typed (listing them would read every row)."""
    if unit_id is None or scope not in ("inbox", "outbox"):
        return None
    with reading(vc) as conn:
        if scope == "inbox":
            return store.categories(conn, vc.org_id, provider=unit_id)
        return store.categories(conn, vc.org_id, customer=unit_id)


def mentions(vc: Valuechain, principal: Principal, limit: int = 20) -> list[dict[str, Any]]:
    """Where the principal's person was mentioned lately (subject, text, link, when)."""
    with reading(vc) as conn:
        person_id = store.person_of_account(conn, vc.org_id, principal.account_id)
        if person_id is None:
            return []
        return store.mentions_of(conn, vc.org_id, person_id, limit)


# -- the catalogue: what a unit can ask of its providers ---------------------------


def catalogue(vc: Valuechain, customer: str) -> list[CatalogueEntry]:
    """What ``customer`` can ask of its internal providers: every result it uses from
    another internal unit (the map's links), with the response and resolution targets
    agreed for that relationship (:func:`terms_of`; null without an agreement), by
    provider and result name. A request filed from an entry starts with its provider,
    title and category."""
    chain = vc.chain()
    if customer not in chain.unit_pos:
        return []
    cols = chain.columns
    names = dict(zip(cols.result_ids, cols.result_names, strict=True))
    terms = terms_of(vc)
    entries: list[CatalogueEntry] = []
    for supplier in vc.suppliers(customer):
        if str(supplier["kind"]).startswith("external"):
            continue  # outside the organisation: no internal request goes there
        agreed = terms.get((supplier["unit"], customer), NO_AGREEMENT)
        for result in supplier["results"]:
            entries.append(
                {
                    "provider": supplier["unit"],
                    "provider_name": supplier["name"],
                    "result": result,
                    "result_name": names.get(result, result),
                    "response_target_hours": agreed.response_hours,
                    "resolution_target_hours": agreed.resolution_hours,
                }
            )
    return sorted(entries, key=lambda e: (e["provider_name"].casefold(), e["result_name"]))


# -- who works on it, and the conversation ------------------------------------------


def assignable(vc: Valuechain, request_id: str) -> list[Person]:
    """The people a request may be assigned to: those of its provider unit, by name."""
    with reading(vc) as conn:
        row = store.get_request(conn, vc.org_id, request_id)
        if row is None:
            raise NotFound(f"no request with id {request_id!r}")
        return [
            {"id": p["id"], "name": p["name"], "email": p["email"]}
            for p in store.people_of(conn, vc.org_id, [row["provider_id"]])
        ]


def assign(
    vc: Valuechain,
    asker: Asker,
    request_id: str,
    person_id: str | None,
    *,
    now: datetime | None = None,
) -> RequestDetail:
    """Set, change or clear (``None``) who of the provider unit works on a request, in
    one durable writing unit with an ``assign`` event on its timeline. Only the
    provider's side may (its members and lead, admins); the person must belong to
    the provider unit (:class:`InvalidRequest` otherwise)."""
    with writing(vc, durable=True) as conn:
        at = now or _now()
        row = store.get_request(conn, vc.org_id, request_id)
        if row is None or not sides(asker, row):
            raise NotFound(f"no request with id {request_id!r}")
        if Side.PROVIDER not in sides(asker, row):
            raise NotAllowed("only the provider's side may assign a request")
        name = None
        if person_id is not None:
            people = {
                p["id"]: p["name"] for p in store.people_of(conn, vc.org_id, [row["provider_id"]])
            }
            if person_id not in people:
                raise InvalidRequest("assign the request to a person of the provider unit")
            name = people[person_id]
        if person_id == row["assignee_id"]:
            return get(vc, asker, request_id, now)  # nothing changes, nothing to record
        with _unless_raced():
            _step(
                conn,
                vc,
                request_id,
                row,
                {"assignee_id": person_id},
                {
                    "at": at,
                    "actor": asker.label,
                    "verb": "assign",
                    "from_state": row["state"],
                    "to_state": row["state"],
                    "note": f"assigned to {name}" if name else "unassigned",
                },
            )
        return get(vc, asker, request_id, now)


def comment(
    vc: Valuechain,
    asker: Asker,
    request_id: str,
    text: str,
    *,
    now: datetime | None = None,
) -> RequestDetail:
    """Add a message to a request's conversation, by either side, in one durable
    writing unit; everyone of the two units it names as ``@Name``
    (:func:`valuechain.domain.request.mentioned`) is notified (``request_mention``,
    in the same transaction, so a message and its notifications commit together)."""
    body = _text(text, MAX_NOTE, "comment")
    if not body:
        raise InvalidRequest("a comment needs some text")
    with writing(vc, durable=True) as conn:
        at = now or _now()
        row = store.get_request(conn, vc.org_id, request_id)
        mine = sides(asker, row) if row is not None else frozenset()
        if row is None or not mine:
            raise NotFound(f"no request with id {request_id!r}")
        side = Side.CUSTOMER if mine == {Side.CUSTOMER} else Side.PROVIDER
        store.add_comment(
            conn,
            vc.org_id,
            {
                "id": secrets.token_hex(8),
                "request_id": request_id,
                "at": at,
                "author_id": asker.account_id,
                "author": asker.label,
                "side": side.value,
                "body": body,
            },
        )
        people = store.people_of(conn, vc.org_id, [row["provider_id"], row["customer_id"]])
        own = (
            store.person_of_account(conn, vc.org_id, asker.account_id) if asker.account_id else None
        )
        for person_id in mentioned(body, {p["id"]: p["name"] for p in people}):
            if person_id == own:
                continue
            notification.notify(
                vc,
                person_id,
                "request_mention",
                f"{asker.label} mentioned you on “{row['title']}”",
                body,
                f"/requests/{request_id}",
                conn=conn,
            )
        return get(vc, asker, request_id, now)


# -- changing ------------------------------------------------------------------------


def _step(
    conn: Connection,
    vc: Valuechain,
    request_id: str,
    row: Mapping[str, Any],
    values: dict[str, Any],
    event: dict[str, Any],
) -> None:
    """Write ``values`` to the request read as ``row`` and append ``event`` as its
    next event, in the caller's transaction. The write names the number of events
    read, so a request that moved meanwhile is refused (:class:`RequestConflict`)."""
    if not store.update_request(conn, vc.org_id, request_id, row["events"], values):
        raise RequestConflict("the request changed meanwhile; reload it and try again")
    store.add_event(conn, vc.org_id, {"request_id": request_id, "seq": row["events"] + 1, **event})


@contextmanager
def _unless_raced() -> Iterator[None]:
    """Run the block's writes; a clash on the request's event count means the request
    moved meanwhile (:class:`RequestConflict`)."""
    try:
        yield
    except IntegrityError:
        raise RequestConflict("the request changed meanwhile; reload it and try again") from None


def _text(value: str | None, limit: int, what: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > limit:
        raise InvalidRequest(f"the {what} is longer than {limit:,} characters")
    return value or None


def _check_unit(vc: Valuechain, unit_id: str, what: str) -> None:
    with reading(vc) as conn:
        if map_store.read_unit(conn, vc.org_id, unit_id) is None:
            raise NotFound(f"no {what} unit with id {unit_id!r}")


def new_request(
    vc: Valuechain,
    asker: Asker,
    *,
    customer: str,
    provider: str,
    title: str,
    body: str = "",
    priority: str | None = None,
    category: str | None = None,
    now: datetime | None = None,
) -> RequestDetail:
    """File a request from ``customer`` to ``provider`` in one durable writing unit
    (the caller's when there is one: the row and its first event). A member or lead
    files for their own unit only. Returns the stored request."""
    clean_title = _text(title, MAX_TITLE, "title")
    if not clean_title:
        raise InvalidRequest("a request needs a title")
    clean_body = _text(body, MAX_BODY, "description") or ""
    if priority is not None and priority not in PRIORITIES:
        raise InvalidRequest(f"expected a priority of {', '.join(PRIORITIES)}; found {priority!r}")
    if customer == provider:
        raise InvalidRequest("a unit cannot file a request with itself")
    p = asker.principal
    if (
        p is not None
        and p.role is not AccountRole.ADMIN
        and (p.role is AccountRole.VIEWER or p.unit_id != customer)
    ):
        raise NotAllowed("you can file requests for your own unit only")
    with writing(vc, durable=True) as conn:
        _check_unit(vc, customer, "customer")
        _check_unit(vc, provider, "provider")
        at = now or _now()
        request_id = f"r-{at.strftime('%Y%m%d')}-{secrets.token_hex(4)}"
        with _unless_raced():
            store.insert_request(
                conn,
                vc.org_id,
                {
                    "id": request_id,
                    "customer_id": customer,
                    "provider_id": provider,
                    "title": clean_title,
                    "body": clean_body,
                    "priority": priority,
                    "category": _text(category, 100, "category"),
                    "requester_id": asker.account_id,
                    "requester": asker.label,
                    "state": RequestState.NEW.value,
                    "created_at": at,
                    "events": 1,
                },
            )
            store.add_event(
                conn,
                vc.org_id,
                {
                    "request_id": request_id,
                    "seq": 1,
                    "at": at,
                    "actor": asker.label,
                    "verb": "new",
                    "from_state": None,
                    "to_state": RequestState.NEW.value,
                    "note": None,
                },
            )
        return get(vc, asker, request_id, now)


def change(
    vc: Valuechain,
    asker: Asker,
    request_id: str,
    verb: Verb,
    note: str | None = None,
    *,
    now: datetime | None = None,
) -> RequestDetail:
    """Move a request with ``verb`` in one durable writing unit (the caller's when
    there is one): the new state, the instants its clocks need, and an event (who,
    when, from, to, note). The first provider move out of ``new`` is the first
    response; waiting pauses the resolution clock, and so does the time between a
    resolution and a reopen."""
    clean_note = _text(note, MAX_NOTE, "note")
    with writing(vc, durable=True) as conn:
        at = now or _now()
        row = store.get_request(conn, vc.org_id, request_id)
        if row is None or not sides(asker, row):
            raise NotFound(f"no request with id {request_id!r}")
        state = RequestState(row["state"])
        try:
            found = move(state, verb, sides(asker, row))
        except TransitionError as error:
            raise RequestError(str(error)) from None
        values: dict[str, Any] = {"state": found.to.value}
        if row["first_response_at"] is None and found.to in FIRST_RESPONSE_STATES:
            values["first_response_at"] = at
        # A pause ends (waiting -> anything, resolved/closed -> reopened): add its
        # business time, on the relationship's calendar, to the paused total.
        pause_start = row["paused_since"]
        if verb is Verb.REOPEN and row["resolved_at"] is not None:
            pause_start = row["resolved_at"]
            values["resolved_at"] = None
        if pause_start is not None and found.to is not RequestState.WAITING:
            terms = terms_of(vc).get((row["provider_id"], row["customer_id"]), NO_AGREEMENT)
            clock = _clock(terms.calendar, pause_start.timestamp(), at.timestamp())
            extra = elapsed(clock, pause_start.timestamp(), at.timestamp())
            values["paused_seconds"] = float(row["paused_seconds"] or 0.0) + float(extra)
            values["paused_since"] = None
        if found.to is RequestState.WAITING:
            values["paused_since"] = at
        if found.to is RequestState.RESOLVED:
            values["resolved_at"] = at
        with _unless_raced():
            _step(
                conn,
                vc,
                request_id,
                row,
                values,
                {
                    "at": at,
                    "actor": asker.label,
                    "verb": verb.value,
                    "from_state": state.value,
                    "to_state": found.to.value,
                    "note": clean_note,
                },
            )
        return get(vc, asker, request_id, now)


# -- the SLA for the whole organisation ---------------------------------------------


def sla(vc: Valuechain, now: datetime | None = None, *, unit: str | None = None) -> Sla:
    """``valuechain sla --json``: per (provider, customer) relationship with requests,
    the number of requests, the share of first responses and of resolutions within
    the agreement's targets (of those that can be judged; null without a target), the
    median business hours to resolution and the share of resolved requests thanked.

    One ordered scan reads every request as columns; each calendar's clock is laid
    out once and all its requests are timed in one vectorised pass."""
    at = (now or _now()).timestamp()
    with reading(vc) as conn:
        cols = store.request_columns(conn, vc.org_id, unit)
        if len(cols.providers) == 0:
            return {"relationships": []}
        terms = terms_of(vc)
    n_groups = len(cols.providers)
    group_terms = [
        terms.get((p, c), NO_AGREEMENT) for p, c in zip(cols.providers, cols.customers, strict=True)
    ]
    groups = np.repeat(np.arange(n_groups, dtype=np.int64), cols.counts)
    response_t = np.repeat(np.array([_hours(t.response_hours) for t in group_terms]), cols.counts)
    resolution_t = np.repeat(
        np.array([_hours(t.resolution_hours) for t in group_terms]), cols.counts
    )
    position: dict[Calendar, int] = {}
    for t in group_terms:
        position.setdefault(t.calendar, len(position))
    names = list(position)
    calendar_index = np.repeat(
        np.array([position[t.calendar] for t in group_terms], dtype=np.int64), cols.counts
    )
    n = cols.created.size
    to_response = np.empty(n)
    to_resolution = np.empty(n)
    response_met = np.empty(n)
    resolution_met = np.empty(n)
    first, last = float(np.nanmin(cols.created)), at
    for k, cal in enumerate(names):
        pick = calendar_index == k if len(names) > 1 else slice(None)
        clock = _clock(cal, first, last)
        paused = _paused(clock, cols.paused_seconds[pick], cols.paused_since[pick], at)
        clocks = request_clocks(
            clock,
            cols.created[pick],
            cols.first_response[pick],
            cols.resolved[pick],
            response_t[pick],
            resolution_t[pick],
            at,
            paused=paused,
        )
        to_response[pick] = clocks.to_response
        to_resolution[pick] = clocks.to_resolution
        response_met[pick] = clocks.response_met
        resolution_met[pick] = clocks.resolution_met
    summary = summarise(
        RequestClocks(to_response, to_resolution, response_met, resolution_met, np.zeros(n, bool)),
        cols.resolved,
        cols.thanked,
        groups,
        n_groups,
    )

    def pct(value: float) -> float | None:
        return None if np.isnan(value) else round(float(value), 1)

    return {
        "relationships": [
            {
                "provider": cols.providers[g],
                "customer": cols.customers[g],
                "requests": int(summary.requests[g]),
                "first_response_met_pct": pct(summary.first_response_met_pct[g]),
                "resolution_met_pct": pct(summary.resolution_met_pct[g]),
                "median_resolution_hours": _round(summary.median_resolution_hours[g]),
                "thanked_pct": pct(summary.thanked_pct[g]),
                "response_target_hours": group_terms[g].response_hours,
                "resolution_target_hours": group_terms[g].resolution_hours,
            }
            for g in range(n_groups)
        ]
    }


def sla_for_unit(vc: Valuechain, unit_id: str, now: datetime | None = None) -> UnitSla:
    """The SLA rows where ``unit_id`` is the provider or the customer (only their
    requests are read)."""
    return {"unit": unit_id, **sla(vc, now, unit=unit_id)}


# -- import: requests.csv and help-desk exports ------------------------------------

REQUEST_COLUMNS = (
    "id",
    "customer_id",
    "provider_id",
    "created_at",
    "first_response_at",
    "resolved_at",
    "priority",
    "category",
    "thanked",
)
REQUIRED = frozenset({"id", "customer_id", "provider_id", "created_at"})

#: Help-desk exports: their column -> our column. Zendesk's ticket CSV export and
#: Freshdesk's ticket export; the requester's and the assignee's group name the units.
HELPDESK_FORMATS: dict[str, dict[str, str]] = {
    "zendesk": {
        "Id": "id",
        "Requester organization": "customer_id",
        "Group": "provider_id",
        "Created at": "created_at",
        "First reply time": "first_response_at",
        "Solved at": "resolved_at",
        "Priority": "priority",
        "Type": "category",
        "Subject": "title",
        "Satisfaction Score": "thanked",
    },
    "freshdesk": {
        "Ticket ID": "id",
        "Company Name": "customer_id",
        "Group": "provider_id",
        "Created time": "created_at",
        "Initial response time": "first_response_at",
        "Resolved time": "resolved_at",
        "Priority": "priority",
        "Type": "category",
        "Subject": "title",
        "Customer satisfaction": "thanked",
    },
}
_THANKED = {"1": True, "0": False, "": False, "good": True, "bad": False, "offered": False,
            "unoffered": False, "happy": True, "extremely happy": True, "yes": True, "no": False,
            "true": True, "false": False}  # fmt: skip


class ImportProblem(Invalid, RequestError):
    """A requests file that cannot be imported; names file, line, column, expectation."""


def _time(text: str, where: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace(" UTC", "+00:00"))
    except ValueError:
        raise ImportProblem(f"{where}: expected an ISO 8601 time; found {text!r}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def read_requests_csv(path: Path, source: str = "valuechain") -> list[dict[str, Any]]:
    """Parse ``requests.csv`` (PRODUCT.md) or a help-desk export (``zendesk`` or
    ``freshdesk``, see :data:`HELPDESK_FORMATS`) into request rows. Unknown columns of
    ``requests.csv`` are an error; a help-desk export's other columns are ignored."""
    mapping = None if source == "valuechain" else HELPDESK_FORMATS.get(source)
    if source != "valuechain" and mapping is None:
        raise ImportProblem(
            f"expected a format of valuechain, {', '.join(HELPDESK_FORMATS)}; found {source!r}"
        )
    label = path.name
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise ImportProblem(f"{label}: expected a header row; the file is empty") from None
        if mapping is None:
            unknown = [h for h in header if h not in REQUEST_COLUMNS]
            if unknown:
                raise ImportProblem(
                    f"{label}, line 1, column {unknown[0]!r}: expected one of "
                    f"{', '.join(REQUEST_COLUMNS)}"
                )
            names = list(header)
        else:
            names = [mapping.get(h, "") for h in header]
        missing = sorted(REQUIRED - set(names))
        if missing:
            raise ImportProblem(f"{label}, line 1: expected a column {missing[0]!r}")
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        for line, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise ImportProblem(
                    f"{label}, line {line}: expected {len(header)} cells; found {len(cells)}"
                )
            cell = {n: c.strip() for n, c in zip(names, cells, strict=True) if n}
            if mapping is None:
                # Our own requests.csv (an export) carries the export's formula escape.
                cell = {n: unescape_formula(c) for n, c in cell.items()}
            for name in REQUIRED:
                if not cell.get(name):
                    raise ImportProblem(f"{label}, line {line}, column {name}: expected a value")
            if cell["id"] in seen:
                raise ImportProblem(f"{label}, line {line}, column id: {cell['id']!r} repeats")
            seen.add(cell["id"])
            created = _time(cell["created_at"], f"{label}, line {line}, column created_at")
            first = (
                _time(v, f"{label}, line {line}, column first_response_at")
                if (v := cell.get("first_response_at"))
                else None
            )
            resolved = (
                _time(v, f"{label}, line {line}, column resolved_at")
                if (v := cell.get("resolved_at"))
                else None
            )
            for name, moment in (("first_response_at", first), ("resolved_at", resolved)):
                if moment is not None and moment < created:
                    raise ImportProblem(
                        f"{label}, line {line}, column {name}: expected a time not before "
                        f"created_at; found {cell[name]!r}"
                    )
            thanked_text = cell.get("thanked", "").lower()
            if thanked_text not in _THANKED:
                raise ImportProblem(
                    f"{label}, line {line}, column thanked: expected 0 or 1; found "
                    f"{cell.get('thanked')!r}"
                )
            thanked = _THANKED[thanked_text]
            if thanked and resolved is None:
                raise ImportProblem(
                    f"{label}, line {line}, column thanked: only a resolved request can be thanked"
                )
            priority = (cell.get("priority") or "").lower() or None
            if priority is not None and priority not in PRIORITIES:
                raise ImportProblem(
                    f"{label}, line {line}, column priority: expected one of "
                    f"{', '.join(PRIORITIES)}; found {cell.get('priority')!r}"
                )
            rows.append(
                {
                    "id": cell["id"],
                    "customer_id": cell["customer_id"],
                    "provider_id": cell["provider_id"],
                    "title": (cell.get("title") or "")[:MAX_TITLE],
                    "priority": priority,
                    "category": cell.get("category") or None,
                    "created_at": created,
                    "first_response_at": first or resolved,
                    "resolved_at": resolved,
                    "thanked_at": resolved if thanked else None,
                    "line": line,
                }
            )
    return rows


def import_requests(
    vc: Valuechain, path: Path, source: str = "valuechain", actor: str = "import"
) -> dict[str, int]:
    """Import a requests file all-or-nothing in one transaction: rows with a known id
    are replaced (with their history), new ones added. Each request's history becomes
    events (filed, first response, resolved, thanked). Unit ids must be on the map."""
    rows = read_requests_csv(path, source)
    with writing(vc) as conn:
        replaced, events = _write_requests(conn, vc, path, rows, actor)
    return {"requests": len(rows), "replaced": replaced, "events": events}


def _write_requests(
    conn: Connection, vc: Valuechain, path: Path, rows: list[dict[str, Any]], actor: str
) -> tuple[int, int]:
    known = map_store.known_ids(conn, vc.org_id)["units"]
    for r in rows:
        for column in ("customer_id", "provider_id"):
            if r[column] not in known:
                raise ImportProblem(
                    f"{path.name}, line {r['line']}, column {column}: expected a unit id of the "
                    f"map; found {r[column]!r}"
                )
    records = [
        RequestRecord(
            r["id"],
            r["customer_id"],
            r["provider_id"],
            r["created_at"],
            r["first_response_at"],
            r["resolved_at"],
            None if r["priority"] is None else Priority(r["priority"]),
            r["category"],
            r["thanked_at"] is not None,
            r["title"],
        )
        for r in rows
    ]
    return store.write_records(conn, vc.org_id, records, actor)
