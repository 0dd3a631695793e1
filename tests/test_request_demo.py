"""The demo's year of requests: consistent states and timelines, live work in the
inbox, thanks on the walls, and SLA figures for every relationship with requests."""

from __future__ import annotations

from sqlalchemy import select

from valuechain import Valuechain
from valuechain.services import request as requests
from valuechain.services import thanks
from valuechain.services.demo import ensure_demo
from valuechain.store.request import EVENTS, REQUESTS


def test_the_demo_has_a_consistent_year_of_requests(vc: Valuechain) -> None:
    assert ensure_demo(vc)
    with vc.engine.connect() as conn:
        rows = conn.execute(
            select(REQUESTS.c.id, REQUESTS.c.state, REQUESTS.c.events, REQUESTS.c.provider_id)
            .where(REQUESTS.c.org_id == vc.org_id)
        ).all()  # fmt: skip
        last = dict(
            conn.execute(
                select(EVENTS.c.request_id, EVENTS.c.to_state)
                .where(EVENTS.c.org_id == vc.org_id)
                .order_by(EVENTS.c.request_id, EVENTS.c.seq)
            ).all()
        )
        n_events = len(conn.execute(select(EVENTS.c.seq).where(EVENTS.c.org_id == vc.org_id)).all())
    assert len(rows) > 1000
    assert all(last[r.id] == r.state for r in rows)  # the row agrees with its timeline
    assert n_events == sum(r.events for r in rows)
    states = {r.state for r in rows}
    assert {"resolved", "acknowledged"} <= states and len(states) >= 3
    doc = requests.sla(vc)
    assert sum(r["requests"] for r in doc["relationships"]) == len(rows)
    thanked = [r["thanked_pct"] for r in doc["relationships"] if r["thanked_pct"] is not None]
    assert 10 < sum(thanked) / len(thanked) < 60
    busiest = max(doc["relationships"], key=lambda r: r["median_resolution_hours"] or 0)
    assert thanks.wall(vc, busiest["provider"]) or thanks.wall(vc, rows[0].provider_id)
    inbox = requests.listing(vc, provider=rows[0].provider_id, open_only=True)
    assert all(r["state"] not in ("resolved", "closed") for r in inbox)
