"""A year of internal requests for the demo organisation: every internal customer asks
its internal providers now and then (a Poisson stream per relationship), providers
answer on business hours with their own pace (one team is overloaded and breaches
often), some requests wait on the customer, most are resolved and about a third of
those are thanked with a note. The last days hold open requests in every state, so
the inbox shows live clocks, near breaches and breaches.

Clocks are drawn in business hours and turned into instants with the calendar's
:func:`~valuechain.analytics.clock.deadline`, so the demo's SLA figures are what a
real team on Monday–Friday 09:00–17:00 would produce.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from valuechain.analytics.clock import business_clock, business_seconds, deadline
from valuechain.domain.calendar import DEFAULT
from valuechain.domain.link import Relation
from valuechain.services.organisation import Valuechain
from valuechain.services.transaction import writing
from valuechain.store import request as store

DAYS = 365
ASKING = (Relation.CONSUMES, Relation.DEPENDS_ON, Relation.ADDS_TO)
TOPICS = (
    "Update the figures for {result}",
    "Question about {result}",
    "{result}: one item is missing",
    "Can we get {result} two days earlier this week?",
    "Access to {result} for a new colleague",
    "{result} looks wrong for last month",
    "Change request for {result}",
    "Please explain the new format of {result}",
)
THANKS = (
    "Thank you, that was quick!",
    "Ahead of the deadline — thanks, you saved our week.",
    "Thanks for explaining it so clearly.",
    "Much appreciated.",
    "Thanks, exactly what we needed.",
    "Thank you for picking this up on a busy day.",
)
# Customers that file requests to a provider none of whose results is linked to them.
UNLINKED = (("it-service-desk", "sales-operations"),)
PRIORITIES = ("low", "normal", "normal", "normal", "high", "urgent")


def demo_requests(vc: Valuechain, seed: int = 7, now: datetime | None = None) -> int:
    """Write a year of requests (with their events) for the organisation's map in one
    transaction; returns how many. Deterministic for a seed and ``now``."""
    at = (now or datetime.now(UTC)).replace(microsecond=0)
    rng = np.random.default_rng(seed)
    org = vc.read_map()
    internal = {u.id for u in org.units if not u.kind.is_external}
    producer = {r.id: r.unit_id for r in org.results}
    names = {r.id: r.name for r in org.results}
    people: dict[str, list[str]] = {}
    for p in org.people:
        people.setdefault(p.unit_id, []).append(p.name)
    pairs: dict[tuple[str, str], str] = {}
    for link in sorted(org.links, key=lambda x: (x.result_id, x.customer_id, x.relation.value)):
        provider = producer.get(link.result_id)
        customer = link.customer_id
        if (
            provider in internal
            and customer in internal
            and provider != customer
            and link.relation in ASKING
            and customer in people
        ):
            pairs.setdefault((provider, customer), link.result_id)
    if not pairs:
        return 0
    providers = sorted({p for p, _ in pairs})
    # Each provider's pace: median business hours to respond and to resolve; the
    # busiest provider (most customers) is overloaded.
    load = {p: sum(1 for q, _ in pairs if q == p) for p in providers}
    busiest = max(providers, key=lambda p: (load[p], p))
    pace = {
        p: (float(rng.uniform(0.5, 3)), float(rng.uniform(4, 16))) if p != busiest else (6.0, 30.0)
        for p in providers
    }
    start = at - timedelta(days=DAYS)
    clock = business_clock(
        DEFAULT, start.date() - timedelta(days=7), at.date() + timedelta(days=60)
    )
    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []

    def stream(provider: str, customer: str, result: str, rng: np.random.Generator) -> None:
        """A year of requests of ``customer`` to ``provider`` about ``result``."""
        per_week = float(rng.uniform(0.3, 2.5))
        n = int(rng.poisson(per_week * DAYS / 7))
        if n == 0:
            return
        # Requests are filed during working hours: a uniform business second of the year.
        lo, hi = (float(x) for x in business_seconds(clock, [start.timestamp(), at.timestamp()]))
        created = np.sort(
            deadline(clock, np.full(n, start.timestamp()), rng.uniform(0, hi - lo, n))
        )
        respond_h, resolve_h = pace.get(provider, (2.0, 8.0))
        to_response = rng.lognormal(np.log(respond_h), 0.8, n) * 3600
        to_resolution = to_response + rng.lognormal(np.log(resolve_h), 0.7, n) * 3600
        waits = np.where(rng.random(n) < 0.15, rng.lognormal(np.log(8), 0.6, n) * 3600, 0.0)
        responded = deadline(clock, created, to_response)
        resolved = deadline(clock, created, to_resolution + waits)
        back = deadline(clock, responded + 60, waits)  # the customer answers the wait
        thanked = rng.random(n) < np.where(to_resolution < resolve_h * 3600, 0.45, 0.15)
        for i in range(n):
            rid = f"demo-{provider}-{customer}-{i + 1:04d}"
            rows_events = _one(
                rid, provider, customer, result, names[result], people[customer], rng,
                float(created[i]), float(responded[i]), float(resolved[i]), float(waits[i]),
                float(back[i]), bool(thanked[i]), at.timestamp(),
            )  # fmt: skip
            if rows_events is None:
                continue
            rows.append(rows_events[0])
            events.extend(rows_events[1])

    for (provider, customer), result in sorted(pairs.items()):
        stream(provider, customer, result, rng)
    # Requests filed where the map has no link (a suggestion for both leads, see
    # services/suggestion.py), on a generator of their own so the linked pairs' data
    # stays what it was.
    unlinked = np.random.default_rng(seed + 1)
    linked = {(producer.get(link.result_id), link.customer_id) for link in org.links}
    for provider, customer in UNLINKED:
        theirs = sorted(r.id for r in org.results if r.unit_id == provider)
        if theirs and customer in people and (provider, customer) not in linked:
            stream(provider, customer, theirs[0], unlinked)
    with writing(vc) as conn:
        for i in range(0, len(rows), 5000):
            store.insert_requests(conn, vc.org_id, rows[i : i + 5000])
        for i in range(0, len(events), 5000):
            store.add_events(conn, vc.org_id, events[i : i + 5000])
    return len(rows)


def _time(epoch: float) -> datetime:
    return datetime.fromtimestamp(round(epoch), UTC)


def _one(
    rid: str,
    provider: str,
    customer: str,
    result: str,
    result_name: str,
    askers: list[str],
    rng: np.random.Generator,
    created: float,
    responded: float,
    resolved: float,
    wait: float,
    back: float,
    thanked: bool,
    now: float,
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """One request and its events as of ``now`` (later steps have not happened yet)."""
    if np.isnan(created) or created >= now:
        return None
    requester = askers[int(rng.integers(len(askers)))]
    title = TOPICS[int(rng.integers(len(TOPICS)))].format(result=result_name)
    steps: list[tuple[float, str, str | None, str, str | None, str]] = [
        (created, "new", None, "new", None, requester)
    ]
    state = "new"
    first: float | None = None
    paused = 0.0
    done: float | None = None
    if not np.isnan(responded) and responded <= now:
        first = responded
        steps.append((responded, "ack", state, "acknowledged", "On it.", "the team"))
        state = "acknowledged"
        if wait > 0 and responded + 60 < now:
            steps.append((responded + 60, "wait", state, "waiting", "Which version do you mean?",
                          "the team"))  # fmt: skip
            state = "waiting"
            if not np.isnan(back) and back < now:
                steps.append((back, "start", state, "in_progress", "The March version.", requester))
                state = "in_progress"
                paused = wait
        if not np.isnan(resolved) and resolved <= now and state != "waiting":
            done = max(resolved, steps[-1][0] + 60)
            steps.append((done, "resolve", state, "resolved", "Done — see the shared folder.",
                          "the team"))  # fmt: skip
            state = "resolved"
            if thanked:
                note = THANKS[int(rng.integers(len(THANKS)))]
                steps.append((done + 3600, "thank", state, state, note, requester))
    thanks_step = next((s for s in steps if s[1] == "thank"), None)
    if thanks_step is not None and thanks_step[0] > now:
        steps.remove(thanks_step)
        thanks_step = None
    row = {
        "id": rid,
        "customer_id": customer,
        "provider_id": provider,
        "title": title,
        "body": f"About {result_name} ({result}).",
        "priority": PRIORITIES[int(rng.integers(len(PRIORITIES)))],
        "category": None,
        "requester_id": None,
        "requester": requester,
        "state": state,
        "created_at": _time(created),
        "first_response_at": None if first is None else _time(first),
        "resolved_at": None if done is None else _time(done),
        "paused_since": _time(steps[-1][0]) if state == "waiting" else None,
        "paused_seconds": paused,
        "events": len(steps),
        "thanked_at": None if thanks_step is None else _time(thanks_step[0]),
        "thanks_note": None if thanks_step is None else thanks_step[4],
        "thanked_by": None if thanks_step is None else requester,
    }
    events = [
        {
            "request_id": rid,
            "seq": seq,
            "at": _time(when),
            "actor": actor,
            "verb": verb,
            "from_state": before,
            "to_state": after,
            "note": note,
        }
        for seq, (when, verb, before, after, note, actor) in enumerate(steps, start=1)
    ]
    return row, events


__all__ = ["demo_requests"]
