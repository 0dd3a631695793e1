"""SERVQUAL gaps on the dashboard: for an instrument that asks expectations, each
dimension's gap P − E and the provider's total gap, with paired t intervals equal to
SciPy's on the same respondents (both databases), and the page shows them."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from scipy import stats

from tests.signin import admin_client
from valuechain import Valuechain
from valuechain.domain.instrument import INTERNAL_SERVQUAL
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.response import Answer, Response
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services.dashboard import dashboard

TOL = 1e-6
SIZES = {"assembly": 9, "packing": 7}


def _org() -> tuple[OrganisationMap, dict[str, np.ndarray]]:
    rng = np.random.default_rng(5)
    responses = []
    gaps: dict[str, list[list[float]]] = {d.key: [] for d in INTERNAL_SERVQUAL.dimensions}
    for customer, size in SIZES.items():
        for i in range(size):
            answers = []
            for dimension in INTERNAL_SERVQUAL.dimensions:
                per_item = []
                for item in dimension.items:
                    e, p = float(rng.integers(4, 8)), float(rng.integers(2, 8))
                    answers.append(Answer(item.key, dimension.key, p, e))
                    per_item.append(p - e)
                gaps[dimension.key].append(per_item)
            responses.append(
                Response(
                    id=f"{customer}-{i}",
                    campaign="c1",
                    instrument=INTERNAL_SERVQUAL.key,
                    rater_id=customer,
                    rated_id="prov",
                    submitted_on=date(2026, 5, 4),
                    answers=answers,
                )
            )
    units = [Unit("prov", "Provider", UnitKind.TEAM)] + [
        Unit(u, u.title(), UnitKind.TEAM) for u in SIZES
    ]
    org = OrganisationMap(units=units, results=[], links=[], people=[], responses=responses)
    # Each respondent's dimension gap: the mean of its item gaps.
    return org, {d: np.array(v).mean(axis=1) for d, v in gaps.items()}


def _paired(gaps: np.ndarray) -> tuple[float, float, float]:
    ci = stats.ttest_1samp(gaps, 0.0).confidence_interval()
    return float(gaps.mean()), float(ci.low), float(ci.high)


def test_dimension_and_total_gaps_match_scipy(vc: Valuechain) -> None:
    org, gaps = _org()
    vc.write_map(org)
    doc = dashboard(vc, "prov")
    assert doc["instrument"] == INTERNAL_SERVQUAL.key and doc["asks_expectation"]
    for row in doc["dimensions"]:
        mean, low, high = _paired(gaps[row["dimension"]])
        assert row["gap"] == pytest.approx(mean, abs=TOL)
        assert (row["gap_ci_low"], row["gap_ci_high"]) == pytest.approx((low, high), abs=TOL)
    # The total gap: each respondent's mean of its five dimension gaps (unweighted).
    total = np.mean([gaps[d.key] for d in INTERNAL_SERVQUAL.dimensions], axis=0)
    mean, low, high = _paired(total)
    assert doc["overall"]["gap"] == pytest.approx(mean, abs=TOL)
    assert (doc["overall"]["gap_ci_low"], doc["overall"]["gap_ci_high"]) == pytest.approx(
        (low, high), abs=TOL
    )


def test_the_page_shows_the_gaps(vc: Valuechain) -> None:
    org, _gaps = _org()
    for client in admin_client(vc, org):
        page = client.get("/units/prov/dashboard")
        assert page.status_code == 200
        assert "Gap P − E" in page.text and 'id="total-gap"' in page.text
