"""Property-based attack on everything the change comparison and the dashboard show,
together with every cut of ``scores``: random relationships and group sizes in two
campaigns, then every published group of respondents goes into the exact rank test
of :mod:`valuechain.analytics.confidentiality` (no combination of shown numbers may
live on fewer than the threshold respondents), on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import uuid
from datetime import date

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from valuechain import Valuechain
from valuechain.analytics.confidentiality import _linear_leak
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.response import Answer, Response
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services import measure
from valuechain.services.change import change
from valuechain.services.dashboard import dashboard

CAMPAIGNS = ("c1", "c2")
CUTS = ("provider", "relationship", "dimension", "relationship_dimension")
# (provider, customer) -> respondents in each campaign
Population = dict[tuple[str, str], tuple[int, int]]


@st.composite
def populations(draw: st.DrawFn) -> Population:
    providers = draw(st.integers(1, 2))
    out: Population = {}
    for p in range(providers):
        for c in range(draw(st.integers(1, 4))):
            out[(f"p{p}", f"c{c}")] = (draw(st.integers(0, 12)), draw(st.integers(0, 12)))
    return out


def _org(population: Population, seed: int) -> tuple[OrganisationMap, dict[str, tuple[str, ...]]]:
    rng = np.random.default_rng(seed)
    units = {u for pair in population for u in pair}
    responses: list[Response] = []
    where: dict[str, tuple[str, ...]] = {}
    for (provider, customer), sizes in population.items():
        for campaign, size in zip(CAMPAIGNS, sizes, strict=True):
            for i in range(size):
                rid = f"{campaign}-{provider}-{customer}-{i}"
                where[rid] = (campaign, provider, customer)
                responses.append(
                    Response(
                        id=rid,
                        campaign=campaign,
                        instrument="pulse",
                        rater_id=customer,
                        rated_id=provider,
                        submitted_on=date(2026, 5, 4),
                        answers=[Answer("need_now", "need", float(rng.integers(1, 6)))],
                    )
                )
    org = OrganisationMap(
        units=[Unit(u, u, UnitKind.TEAM) for u in sorted(units)],
        results=[],
        links=[],
        people=[],
        responses=responses,
    )
    return org, where


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(populations(), st.integers(0, 1000))
def test_change_and_dashboard_reveal_no_small_group(
    vc: Valuechain, population: Population, seed: int
) -> None:
    org = Valuechain(vc.engine, f"org-{uuid.uuid4().hex[:10]}", create=True)
    mapped, where = _org(population, seed)
    org.write_map(mapped)
    k = measure.threshold(org)

    def members(campaign: str, provider: str, customer: str | None) -> frozenset[str]:
        return frozenset(
            rid
            for rid, (c, p, u) in where.items()
            if (c, p) == (campaign, provider) and customer in (None, u)
        )

    published: set[frozenset[str]] = set()
    for cut, campaign in itertools.product(CUTS, CAMPAIGNS):
        if not any(c == campaign for c, _p, _u in where.values()):
            continue
        for cell in measure.scores(org, cut, campaign=campaign)["cells"]:
            if not cell["suppressed"]:
                published.add(members(campaign, cell["provider"], cell.get("customer")))
    if all(any(c == campaign for c, _p, _u in where.values()) for campaign in CAMPAIGNS):
        for cell in change(org)["cells"]:
            if cell["status"] != "compared":
                assert "n_before" not in cell
                continue
            sides = [members(c, cell["provider"], cell.get("customer")) for c in CAMPAIGNS]
            assert (cell["n_before"], cell["n_after"]) == tuple(len(s) for s in sides)
            assert min(cell["n_before"], cell["n_after"]) >= k
            published.update(sides)
    for provider in {p for p, _c in population}:
        doc = dashboard(org, provider)
        for row in doc["heat"] + doc["relationships"] + doc["dimensions"]:
            if not row["suppressed"]:
                group = members(doc["campaign"], provider, row.get("customer"))
                assert row["n"] == len(group)
                published.add(group)
    published.discard(frozenset())
    assert all(len(group) >= k for group in published)
    if published:
        ids = sorted(set().union(*published))
        cells = list(published)
        pattern = np.array([[rid in cell for cell in cells] for rid in ids], dtype=bool)
        assert _linear_leak(pattern, np.ones(len(ids), dtype=np.int64), k) == 0
