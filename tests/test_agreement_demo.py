"""The demo organisation's agreements on both databases: every state, a year of
commitments where early warnings earn more trust than surprise misses, reviews due on
both sides, negotiations where demand is above a share, and the watermelon flag."""

from __future__ import annotations

from datetime import UTC, date, datetime

from valuechain import Valuechain
from valuechain.services import agreement as agreements
from valuechain.services.capacity import capacity
from valuechain.services.commitment import commitments_document
from valuechain.services.demo import ensure_demo
from valuechain.services.demo_agree import demo_commitments
from valuechain.services.watermelon import watermelon

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def test_the_demo_tells_the_agree_story(vc: Valuechain) -> None:
    assert ensure_demo(vc)
    states = {a.id: a.state.value for a in agreements.agreements_of(vc)}
    assert set(states.values()) == {"draft", "proposed", "agreed", "under_review"}
    doc = commitments_document(vc, now=NOW)
    rows = {r["id"]: r for r in doc["agreements"]}
    assembly, machining = rows["plan-assembly"], rows["plan-machining"]
    assert assembly["due"] == machining["due"] == 51  # a year of Mondays
    # Similar misses, but told ahead to assembly and a surprise to machining.
    assert assembly["warned"] > assembly["missed"] and machining["missed"] > machining["warned"]
    assert assembly["trust"] > machining["trust"]
    assert sum(r["due"] for r in doc["agreements"]) >= 360
    # Reviews due show on both sides of the agreement under review.
    today = date(2026, 11, 23)
    assert "plan-machining" in {a.id for a in agreements.reviews_due(vc, "machining", today)}
    assert "plan-machining" in {
        a.id for a in agreements.reviews_due(vc, "production-planning", today)
    }
    # Demand above the share opened negotiations, seen by the provider and the customer.
    open_for_assembly = [
        n for n in capacity(vc, "assembly")["negotiations"] if n["state"] == "open"
    ]
    assert {(n["result"], n["customer"]) for n in open_for_assembly} == {
        ("machined-housings", "assembly"),
        ("assembled-pumps", "packing"),
    }
    assert any(n["customer"] == "packing" for n in capacity(vc, "packing")["negotiations"])
    flags = {
        (r["provider"], r["customer"]): r["flag"] for r in watermelon(vc, now=NOW)["relationships"]
    }
    assert flags[("payroll", "assembly")] == "targets_missed_customer_happy"
    # The terms in force reach the request clocks.
    terms = agreements.terms(vc)
    assert terms[("it-service-desk", "assembly")].resolution_hours == 16.0
    assert terms[("it-service-desk", "assembly")].calendar.name == "office"
    assert ("it-service-desk", "customer-service") not in terms  # only proposed


def test_demo_commitments_are_the_same_for_the_same_seed() -> None:
    assert demo_commitments(7) == demo_commitments(7)
    assert demo_commitments(7) != demo_commitments(8)
