"""The watermelon check reads request SLA compliance as well as commitments."""

from __future__ import annotations

from valuechain import Valuechain
from valuechain.services import watermelon


def test_request_sla_compliance_stands_next_to_satisfaction(demo_vc: Valuechain) -> None:
    vc = demo_vc
    rows = {(r["provider"], r["customer"]): r for r in watermelon.watermelon(vc)["relationships"]}
    desk = rows[("it-service-desk", "assembly")]
    assert desk["requests"] >= 3 and desk["sla_met_pct"] is not None
    assert desk["sla_target"] == watermelon.DEFAULT_SLA_TARGET
    # Met only when every known measure is met.
    assert desk["targets_met"] is (desk["sla_met_pct"] >= watermelon.DEFAULT_SLA_TARGET)
