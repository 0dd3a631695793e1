"""Internal requests: the states a request moves through, who may move it, and the
verbs of the command line, the API and the pages.

new → acknowledged → in progress → waiting on customer (clock paused) → resolved →
closed; a resolved or closed request can be reopened. The provider's side answers
(acknowledge, start, wait, resolve); the customer's side closes, reopens and thanks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class RequestState(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"  # on the customer: the clocks pause
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"waiting": "waiting on customer", "in_progress": "in progress"}.get(
            self.value, self.value
        )

    @property
    def open(self) -> bool:
        """Still being worked on (the resolution clock runs or is paused)."""
        return self not in (RequestState.RESOLVED, RequestState.CLOSED)


OPEN_STATES = tuple(s.value for s in RequestState if s.open)
"""The states of a request still being worked on (a queue's default)."""


class Side(StrEnum):
    PROVIDER = "provider"
    CUSTOMER = "customer"


class Verb(StrEnum):
    """A change of state, named as on the command line (``valuechain request ack``)."""

    ACK = "ack"
    START = "start"
    WAIT = "wait"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"


@dataclass(frozen=True, slots=True)
class Move:
    """A verb's target state and, per side, the states it may be used from."""

    verb: Verb
    to: RequestState
    sources: dict[Side, frozenset[RequestState]]

    @property
    def sides(self) -> frozenset[Side]:
        return frozenset(self.sources)


_S = RequestState
_P, _C = Side.PROVIDER, Side.CUSTOMER
_WORKING = frozenset({_S.NEW, _S.ACKNOWLEDGED, _S.IN_PROGRESS})
_DONE = frozenset({_S.RESOLVED, _S.CLOSED})

MOVES: dict[Verb, Move] = {
    Verb.ACK: Move(Verb.ACK, _S.ACKNOWLEDGED, {_P: frozenset({_S.NEW})}),
    # The provider starts (or resumes) work; the customer's answer hands a waiting
    # request back.
    Verb.START: Move(
        Verb.START,
        _S.IN_PROGRESS,
        {_P: frozenset({_S.NEW, _S.ACKNOWLEDGED, _S.WAITING}), _C: frozenset({_S.WAITING})},
    ),
    Verb.WAIT: Move(Verb.WAIT, _S.WAITING, {_P: _WORKING}),
    Verb.RESOLVE: Move(Verb.RESOLVE, _S.RESOLVED, {_P: _WORKING | {_S.WAITING}}),
    Verb.CLOSE: Move(
        Verb.CLOSE, _S.CLOSED, {_P: frozenset({_S.RESOLVED}), _C: frozenset({_S.RESOLVED})}
    ),
    Verb.REOPEN: Move(Verb.REOPEN, _S.IN_PROGRESS, {_C: _DONE}),
}


class TransitionError(ValueError):
    """A verb that does not apply to the request's state or the asker's side."""


def move(state: RequestState, verb: Verb, sides: frozenset[Side]) -> Move:
    """The move ``verb`` makes from ``state`` for someone on ``sides``; raises
    :class:`TransitionError` when the state or the side does not allow it."""
    found = MOVES[verb]
    if not (found.sides & sides):
        side = " or ".join(sorted(s.value for s in found.sides))
        raise TransitionError(f"only the {side} side may {verb.value} a request")
    if not any(state in found.sources[side] for side in found.sides & sides):
        raise TransitionError(
            f"a request that is {state.label} cannot be moved with {verb.value!r}"
        )
    return found


def allowed_verbs(state: RequestState, sides: frozenset[Side]) -> list[Verb]:
    """The verbs someone on ``sides`` may use now, in workflow order."""
    return [
        v for v, m in MOVES.items() if any(state in m.sources[side] for side in m.sides & sides)
    ]


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """A request as ``requests.csv`` holds it: its history in a few instants (UTC)."""

    id: str
    customer_id: str
    provider_id: str
    created_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    priority: Priority | None = None
    category: str | None = None
    thanked: bool = False
    title: str = ""


FIRST_RESPONSE_STATES = frozenset({_S.ACKNOWLEDGED, _S.IN_PROGRESS, _S.WAITING, _S.RESOLVED})
"""A provider's move into any of these from ``new`` is the first response."""


AT_RISK = 0.75
"""An open request that has used this share of a target is at risk."""


class ClockState(StrEnum):
    """How a request stands against its agreement's targets, in words (pages colour
    them, but never by colour alone)."""

    BREACHED = "breached"  # a target was missed
    AT_RISK = "at_risk"  # open, and at least 75% of a target used
    ON_TRACK = "on_track"  # open, within every target
    MET = "met"  # finished within every target
    NO_TARGET = "no_target"  # no agreement (or no target) to judge by

    @property
    def label(self) -> str:
        return {"at_risk": "at risk", "on_track": "on track", "no_target": "no target"}.get(
            self.value, self.value
        )


class Assignment(StrEnum):
    """The assignee filter of a queue: mine, or nobody's yet."""

    MINE = "mine"
    UNASSIGNED = "unassigned"


def mentioned(text: str, people: Mapping[str, str]) -> list[str]:
    """The ids of the people (id -> name) that ``text`` mentions as ``@Name``: the
    whole name, any case, not followed by a letter or digit; a longer name wins over
    a shorter one it starts with (``@Ann Other`` is not ``@Ann``)."""
    found: list[str] = []
    taken: list[tuple[int, int]] = []
    for pid, name in sorted(people.items(), key=lambda p: -len(p[1])):
        if not name.strip():
            continue
        pattern = re.compile("@" + re.escape(name.strip()) + r"(?![\w])", re.IGNORECASE)
        for hit in pattern.finditer(text):
            span = hit.span()
            if any(a <= span[0] < b for a, b in taken):
                continue
            taken.append(span)
            if pid not in found:
                found.append(pid)
    return found
