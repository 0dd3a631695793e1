"""Entitlement along the line of sight: an internal customer asking a stricter target of
its provider than the external customer at the end of the chain asks for."""

from __future__ import annotations

from valuechain import Valuechain
from valuechain.services import connect


def test_the_demo_flags_assembly_asking_more_than_the_installers_need(demo_vc: Valuechain) -> None:
    vc = demo_vc
    doc = connect.connect(vc, over_time=False)
    assert doc["entitlement"]["assessed"] is True
    flags = {(f["provider"], f["customer"], f["metric"]): f for f in doc["entitlement"]["flags"]}
    housings = flags[("machining", "assembly", "on_time_pct")]
    assert (housings["target"], housings["external_target"], housings["excess"]) == (98, 95, 3)
    assert housings["external_customer"] == "installers"
    row = next(
        r
        for r in doc["relationships"]
        if (r["provider"], r["customer"]) == ("machining", "assembly")
    )
    assert "entitlement" in row["flags"]
    # An agreement no stricter than the external need is not flagged (planning asks 95%).
    assert ("production-planning", "assembly", "on_time_pct") not in flags


def test_without_agreements_entitlement_is_not_assessed(vc: Valuechain) -> None:
    from tests.builders import chain_map

    vc.write_map(chain_map())
    doc = connect.connect(vc, over_time=False)
    assert doc["entitlement"]["assessed"] is False and doc["entitlement"]["flags"] == []
