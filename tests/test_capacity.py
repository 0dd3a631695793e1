"""Capacity shares on both databases: a provider's capacity and the shares agreed
with its customers, demand against share seen from both sides, and the negotiation
that demand above a share opens (once) and its three endings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from valuechain import Valuechain
from valuechain.cli.main import app
from valuechain.services import capacity
from valuechain.services.audit import Actor
from valuechain.services.bundle import import_bundle
from valuechain.services.capacity import CapacityError, Settlement
from valuechain.services.errors import NotFound

SMALL = Path(__file__).resolve().parents[1] / "examples" / "bundle"
PACK_LEAD = Actor("a1", "bram@example.org", "test")
SHIP_LEAD = Actor("a2", "dara@example.org", "test")


@pytest.fixture
def small(vc: Valuechain) -> Valuechain:
    import_bundle(vc, SMALL)
    return vc


def test_capacity_view_of_a_provider_and_a_customer(small: Valuechain) -> None:
    view = capacity.capacity(small, "pack")
    boxes = next(r for r in view["provides"] if r["result"] == "boxes")
    assert boxes["capacity"] == 1200.0 and boxes["allocated"] == 0
    assert boxes["customers"] == [
        {
            "customer": "ship",
            "share": None,
            "demand": 1100.0,
            "over_share": False,
            "negotiation": None,
        }
    ]
    # As a customer pack asks for cartons, the weekly plan and inspections.
    assert [(r["result"], r["provider"], r["demand"]) for r in view["receives"]] == [
        ("cartons", "boxco", 4500.0),
        ("inspection", "qa", 50.0),
        ("weekly_plan", "plan", 1.0),
    ]
    with pytest.raises(NotFound):
        capacity.capacity(small, "nobody")


def test_demand_above_the_share_opens_one_negotiation_seen_by_both(small: Valuechain) -> None:
    opened = capacity.set_share(small, "pack", "boxes", "ship", 1000, PACK_LEAD)
    assert len(opened) == 1
    assert capacity.open_negotiations(small) == []  # idempotent
    provider = capacity.capacity(small, "pack")
    boxes = next(r for r in provider["provides"] if r["result"] == "boxes")
    assert boxes["allocated"] == 1000 and boxes["unallocated"] == 200
    row = boxes["customers"][0]
    assert row["over_share"] and row["negotiation"] == opened[0]
    customer = capacity.capacity(small, "ship")
    assert [n["id"] for n in customer["negotiations"]] == opened
    talk = customer["negotiations"][0]
    assert (talk["provider"], talk["customer"], talk["demand"], talk["share"], talk["state"]) == (
        "pack",
        "ship",
        1100.0,
        1000.0,
        "open",
    )
    received = next(r for r in customer["receives"] if r["result"] == "boxes")
    assert received["share"] == 1000 and received["over_share"]


def test_changing_the_share_settles_and_stops_new_negotiations(small: Valuechain) -> None:
    (opened,) = capacity.set_share(small, "pack", "boxes", "ship", 1000, PACK_LEAD)
    with pytest.raises(CapacityError, match="needs the new share"):
        capacity.settle(small, "ship", opened, Settlement.SHARE_CHANGED, SHIP_LEAD)
    done = capacity.settle(
        small, "ship", opened, Settlement.SHARE_CHANGED, SHIP_LEAD, share=1100, note="peak season"
    )
    assert (done["state"], done["closed_by"], done["note"]) == (
        "share_changed",
        "dara@example.org",
        "peak season",
    )
    assert capacity.open_negotiations(small) == []
    with pytest.raises(CapacityError, match="already share_changed"):
        capacity.settle(small, "pack", opened, Settlement.ACCEPTED, PACK_LEAD)


def test_accepted_or_rescheduled_demand_opens_again_later(small: Valuechain) -> None:
    (first,) = capacity.set_share(small, "pack", "boxes", "ship", 1000, PACK_LEAD)
    capacity.settle(small, "pack", first, Settlement.ACCEPTED, PACK_LEAD)
    # The demand is still above the share: the next check opens a new negotiation.
    (second,) = capacity.open_negotiations(small)
    capacity.settle(small, "ship", second, Settlement.RESCHEDULED, SHIP_LEAD)
    states = [n["state"] for n in capacity.capacity(small, "pack")["negotiations"]]
    assert sorted(states) == ["accepted", "rescheduled"]


def test_only_the_sides_and_the_producer_act(small: Valuechain) -> None:
    with pytest.raises(NotFound, match="produces no result"):
        capacity.set_share(small, "ship", "boxes", "ship", 10, SHIP_LEAD)
    with pytest.raises(CapacityError):
        capacity.set_share(small, "pack", "boxes", "ship", -1, PACK_LEAD)
    (opened,) = capacity.set_share(small, "pack", "boxes", "ship", 1000, PACK_LEAD)
    with pytest.raises(NotFound):
        capacity.settle(small, "qa", opened, Settlement.ACCEPTED, PACK_LEAD)
    with pytest.raises(CapacityError, match="only when the share changes"):
        capacity.settle(small, "pack", opened, Settlement.ACCEPTED, PACK_LEAD, share=5)


def test_command_line(small: Valuechain, cli_env: dict[str, str]) -> None:
    capacity.set_share(small, "pack", "boxes", "ship", 1000, PACK_LEAD)
    result = CliRunner().invoke(app, ["capacity", "ship", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["receives"][0]["over_share"] is True
    assert doc["negotiations"][0]["state"] == "open"
    result = CliRunner().invoke(app, ["capacity", "pack"])
    assert result.exit_code == 0 and "above share" in result.stdout
    # A new demand above the share is found by the idempotent check in `agreement due`.
    capacity.settle(small, "pack", doc["negotiations"][0]["id"], Settlement.ACCEPTED, PACK_LEAD)
    result = CliRunner().invoke(app, ["agreement", "due", "--until", "2026-01-01"])
    assert "1 negotiations opened" in result.stdout
    result = CliRunner().invoke(app, ["agreement", "due", "--until", "2026-01-01"])
    assert "0 negotiations opened" in result.stdout
