"""Health's agreement part counts every target the agreement sets: first responses
all late and resolutions all on time is half met, not fully (on both databases)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from valuechain import Valuechain
from valuechain.analytics.health import targets_met
from valuechain.services.bundle import import_bundle
from valuechain.services.partner import health
from valuechain.services.request import import_requests

ROOT = Path(__file__).resolve().parents[1] / "examples"
nan = math.nan


def test_targets_met_counts_each_measured_target_equally() -> None:
    got = targets_met([0.0, 80.0, nan, nan], [100.0, nan, 60.0, nan])
    assert got[:3].tolist() == pytest.approx([0.5, 0.8, 0.6])
    assert math.isnan(got[3])


def test_late_first_responses_lower_health(vc: Valuechain, tmp_path: Path) -> None:
    """pack → ship is agreed with 2 h to a first response and 16 h to resolve, on the
    warehouse calendar (Amsterdam, Mon–Fri 06:00–22:00). Every request is answered
    after 3 h and resolved after 4 h: 0% and 100% on target."""
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "bundle", bundle)
    for name in ("calendars.csv", "agreements.csv"):
        shutil.copy(ROOT / "agree" / name, bundle / name)
    import_bundle(vc, bundle)
    rows = [
        f"r{i},ship,pack,2026-11-{16 + i}T06:00:00Z,2026-11-{16 + i}T09:00:00Z,"
        f"2026-11-{16 + i}T10:00:00Z"
        for i in range(4)
    ]
    path = tmp_path / "requests.csv"
    path.write_text(
        "id,customer_id,provider_id,created_at,first_response_at,resolved_at\n"
        + "\n".join(rows)
        + "\n"
    )
    import_requests(vc, path)
    row = next(
        r for r in health.health_table(vc) if (r["provider"], r["customer"]) == ("pack", "ship")
    )
    assert row["components"]["sla"] == pytest.approx(0.5)
    assert row["sla_met_pct"] == pytest.approx(50.0)
