"""Confidentiality under attack: a unit lead, with nothing but what the real API shows
them, tries to learn about a group of fewer respondents than the threshold.

The organisation is built with small groups on purpose: relationships of 1 to 4
respondents next to larger ones, respondents who skipped a dimension or the overall
question (so dimension cells, provider cells and driver analyses are about slightly
different people), two campaigns, a supplier the lead may also see, and a unit the lead
may not see. The attacker collects every number the API gives them — scores by
provider, by relationship and by dimension for every campaign, the driver analyses
with their ``n`` and performance means — and combines them.

Every shown number (a count, a mean times its count, a sum of squares read from the
interval) is a sum over its cell's respondents of one *measure*: a dimension's cells
(and a driver analysis's mean of that dimension) sum that dimension's answers over
those who answered it; provider and relationship scores of this instrument are its
``overall`` answer. Sums of different measures are different numbers about each
respondent and cannot be subtracted from each other (docs/measure.md, "Item
nonresponse"), so per measure, everything the attacker can compute by adding and
subtracting is a vector in the row space of the cell × respondent incidence matrix
``M`` of the shown cells. The suite checks, with the ground truth of who is in which
cell (known to the test, not to the attacker), in every measure:

- every shown ``n`` and mean is what the ground truth says (so ``M`` is right);
- rank test: ``rank(M) == rank(M_L)`` where ``M_L`` keeps the respondents whose
  column pattern (the atom) is shared by at least ``threshold`` respondents — no
  combination of shown cells lives on small atoms only;
- least squares: the indicator of every candidate small group (each respondent,
  each small relationship per campaign, each suppressed cell, each small difference
  of two shown cells) is not in the row space of ``M``;
- over time: snapshots taken while a campaign is open, then after it closed, combined.

And to show the attack has teeth, the same checks find the leak when only the
primary suppression (cells below the threshold) is applied.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from itertools import combinations

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.signin import bearer, make_account
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.domain.instrument import OUTCOME, SERVICE_FACTORS
from valuechain.domain.link import Link, Relation
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.person import Person, Role
from valuechain.domain.response import Answer, Response
from valuechain.domain.result import Result, ResultKind
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services import measure
from valuechain.store import measure as measure_store
from valuechain.store.tables import CampaignRow
from valuechain.web.app import create_app

THRESHOLD = 5
INSTRUMENT = SERVICE_FACTORS
DRIVER_DIMENSIONS = [d.key for d in INSTRUMENT.drivers]
DIMENSIONS = [d.key for d in INSTRUMENT.dimensions]
OWN = "ops"  # the lead's unit
SUPPLIER = "it"  # supplies the lead's unit: the lead sees its results too
HIDDEN = "far"  # unrelated: the lead may not see it
TINY = "tiny"  # rated by three respondents only
ORGANISATION = "*"  # the organisation-wide driver analysis (valuechain drivers --json)
CUSTOMERS = ["c1", "c2", "c3", "c4", "c5"]
CAMPAIGNS = ["2026-q1", "2026-q2"]
DAY = date(2026, 3, 1)

# (campaign, provider, customer) -> respondents, and which of them skip what.
GROUPS: dict[tuple[str, str, str], int] = {
    ("2026-q1", OWN, "c1"): 6,
    ("2026-q1", OWN, "c2"): 2,
    ("2026-q1", OWN, "c3"): 5,
    ("2026-q1", OWN, "c4"): 1,
    ("2026-q1", OWN, "c5"): 4,
    ("2026-q2", OWN, "c1"): 7,
    ("2026-q2", OWN, "c2"): 5,
    ("2026-q2", OWN, "c3"): 3,
    ("2026-q1", SUPPLIER, OWN): 6,
    ("2026-q1", SUPPLIER, "c2"): 3,
    ("2026-q2", SUPPLIER, OWN): 5,
    ("2026-q1", HIDDEN, "c1"): 8,
    ("2026-q1", HIDDEN, "c2"): 2,
    # Too few to show anything about: only the organisation-wide driver analysis
    # could give it away (its total minus every provider's shown analysis).
    ("2026-q1", TINY, "c3"): 3,
}
# Respondents (by group and position) who skipped a dimension.
SKIPS: dict[tuple[tuple[str, str, str], int], set[str]] = {
    (("2026-q1", OWN, "c1"), 0): {"value"},
    (("2026-q1", OWN, "c1"), 1): {"value"},
    (("2026-q1", OWN, "c3"), 0): {OUTCOME},
    (("2026-q2", OWN, "c2"), 4): {"courtesy"},
    (("2026-q1", SUPPLIER, OWN), 2): {OUTCOME},
}


@dataclass(frozen=True)
class Truth:
    """What a response really is: its keys and its score per dimension (the mean of
    its answered items)."""

    id: str
    campaign: str
    provider: str
    customer: str
    dims: dict[str, float]

    @property
    def score(self) -> float | None:
        return self.dims.get(OUTCOME)

    @property
    def complete(self) -> bool:
        return all(d in self.dims for d in [*DRIVER_DIMENSIONS, OUTCOME])


def respond(
    rng: random.Random,
    rid: str,
    campaign: str,
    provider: str,
    customer: str,
    skip: set[str] = frozenset(),  # type: ignore[assignment]
) -> tuple[Response, Truth]:
    answers = [
        Answer(item.key, item.dimension, float(rng.randint(1, 7)))
        for item in INSTRUMENT.items
        if item.dimension not in skip
    ]
    dims: dict[str, list[float]] = {}
    for a in answers:
        dims.setdefault(a.dimension, []).append(a.score)
    response = Response(rid, campaign, INSTRUMENT.key, customer, provider, DAY, answers)
    return response, Truth(
        rid, campaign, provider, customer, {d: float(np.mean(v)) for d, v in dims.items()}
    )


def organisation() -> tuple[OrganisationMap, list[Truth]]:
    rng = random.Random(20261123)
    units = [
        Unit(OWN, "Operations", UnitKind.TEAM),
        Unit(SUPPLIER, "IT", UnitKind.TEAM),
        Unit(HIDDEN, "Far away", UnitKind.TEAM),
        Unit(TINY, "Tiny", UnitKind.TEAM),
        *[Unit(c, f"Customer {c}", UnitKind.TEAM) for c in CUSTOMERS],
    ]
    results = [
        Result("ops-out", OWN, "Operations output", ResultKind.INTERMEDIATE),
        Result("it-out", SUPPLIER, "IT service", ResultKind.INTERMEDIATE),
        Result("far-out", HIDDEN, "Far output", ResultKind.INTERMEDIATE),
    ]
    links = [
        *[Link("ops-out", c, Relation.CONSUMES) for c in CUSTOMERS],
        Link("it-out", OWN, Relation.CONSUMES),
        Link("it-out", "c2", Relation.CONSUMES),
        Link("far-out", "c1", Relation.CONSUMES),
        Link("far-out", "c2", Relation.CONSUMES),
    ]
    people = [Person("p-lead", "Lea Lead", "lead@example.org", OWN, Role.LEAD)]
    responses: list[Response] = []
    truths: list[Truth] = []
    for group, size in GROUPS.items():
        for i in range(size):
            rid = f"{group[0]}-{group[1]}-{group[2]}-{i}"
            response, truth = respond(rng, rid, *group, skip=SKIPS.get((group, i), set()))
            responses.append(response)
            truths.append(truth)
    org = OrganisationMap(units=units, results=results, links=links, people=people)
    org.responses = responses
    return org, truths


# -- what the attacker sees ------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """One cell as the API showed it."""

    kind: str  # provider | relationship | dimension | drivers
    campaign: str | None
    provider: str
    customer: str | None
    dimension: str | None
    n: int | None
    mean: float | None
    performance: tuple[tuple[str, float], ...] = ()

    @property
    def suppressed(self) -> bool:
        return self.n is None

    def _replace_n(self, n: int | None) -> Shown:
        return replace(self, n=n)


def harvest(client: TestClient, headers: dict[str, str], units: Iterable[str]) -> list[Shown]:
    """Every survey number the API answers about ``units``: scores by every cut for
    every campaign (and the default), and the driver analyses."""
    shown: list[Shown] = []
    for unit in units:
        for by in ("provider", "relationship", "dimension"):
            for campaign in [None, *CAMPAIGNS]:
                params = {"by": by} | ({"campaign": campaign} if campaign else {})
                answer = client.get(f"/api/v1/units/{unit}/scores", params=params, headers=headers)
                assert answer.status_code == 200, answer.text
                body = answer.json()
                assert body["threshold"] == THRESHOLD
                for cell in body["cells"]:
                    assert cell["provider"] == unit
                    shown.append(
                        Shown(
                            by,
                            body["campaign"],
                            unit,
                            cell.get("customer"),
                            cell.get("dimension"),
                            cell["n"],
                            cell["mean"],
                        )
                    )
        answer = client.get(f"/api/v1/units/{unit}/drivers", headers=headers)
        if answer.status_code == 404:  # nobody rated this unit
            continue
        assert answer.status_code == 200, answer.text
        body = answer.json()
        performance = tuple(
            (d["dimension"], d["performance"])
            for d in body["drivers"]
            if d.get("performance") is not None
        )
        shown.append(Shown("drivers", None, unit, None, None, body["n"], None, performance))
    return shown


def members(cell: Shown, truths: list[Truth]) -> list[Truth]:
    """The respondents a cell is really about (the ground truth)."""
    about = [t for t in truths if cell.provider in (t.provider, ORGANISATION)]
    if cell.kind == "drivers":
        return [t for t in about if t.complete]
    about = [t for t in about if t.campaign == cell.campaign]
    if cell.kind == "dimension":
        return [t for t in about if cell.dimension in t.dims]
    about = [t for t in about if t.score is not None]
    if cell.kind == "relationship":
        about = [t for t in about if t.customer == cell.customer]
    return about


def check_numbers(shown: list[Shown], truths: list[Truth]) -> None:
    """Every shown number is the ground truth's: the incidence matrix is right."""
    for cell in shown:
        if cell.suppressed:
            continue
        group = members(cell, truths)
        assert cell.n == len(group), cell
        if cell.kind in ("provider", "relationship"):
            expected = float(np.mean([t.score for t in group]))
            assert cell.mean == pytest.approx(expected, abs=1e-9), cell
        elif cell.kind == "dimension":
            assert cell.dimension is not None
            expected = float(np.mean([t.dims[cell.dimension] for t in group]))
            assert cell.mean == pytest.approx(expected, abs=1e-9), cell
        else:
            for dimension, value in cell.performance:
                expected = float(np.mean([t.dims[dimension] for t in group]))
                assert value == pytest.approx(expected, abs=1e-9), cell


# -- the attack ------------------------------------------------------------------------


def incidence(groups: list[frozenset[str]], ids: list[str]) -> np.ndarray:
    position = {rid: j for j, rid in enumerate(ids)}
    matrix = np.zeros((len(groups), len(ids)))
    for i, group in enumerate(groups):
        matrix[i, [position[rid] for rid in group]] = 1.0
    return matrix


def in_row_space(matrix: np.ndarray, vector: np.ndarray) -> bool:
    """Whether some combination of the rows of ``matrix`` equals ``vector`` (least
    squares residual zero)."""
    if matrix.shape[0] == 0:
        return not vector.any()
    x, *_ = np.linalg.lstsq(matrix.T, vector, rcond=None)
    return bool(np.linalg.norm(matrix.T @ x - vector) < 1e-8)


def small_atom_leak(matrix: np.ndarray, threshold: int) -> int:
    """rank(M) − rank(M_L): the dimension of combinations of shown cells that live
    on respondents of small atoms only (0 = nothing about a small group)."""
    if matrix.shape[0] == 0:
        return 0
    _, inverse, counts = np.unique(matrix.T, axis=0, return_inverse=True, return_counts=True)
    size = counts[inverse.ravel()]
    large = size >= threshold
    full = int(np.linalg.matrix_rank(matrix))
    return full - (int(np.linalg.matrix_rank(matrix[:, large])) if large.any() else 0)


def candidate_groups(
    published: list[frozenset[str]], suppressed: list[frozenset[str]], ids: list[str]
) -> Iterator[frozenset[str]]:
    """Small groups an attacker would go for: each respondent, each small relationship
    in a campaign (ids are campaign-provider-customer-i), each suppressed cell, each
    small difference of two shown cells."""
    for rid in ids:
        yield frozenset({rid})
    keys: dict[str, set[str]] = {}
    for rid in ids:
        keys.setdefault(rid.rsplit("-", 1)[0], set()).add(rid)
    yield from (frozenset(g) for g in keys.values() if len(g) < THRESHOLD)
    yield from (g for g in suppressed if 0 < len(g) < THRESHOLD)
    for a, b in combinations(published, 2):
        for difference in (a - b, b - a):
            if 0 < len(difference) < THRESHOLD:
                yield difference


Observation = tuple[Shown, frozenset[str]]


def observe(
    client: TestClient, headers: dict[str, str], units: Iterable[str], truths: list[Truth]
) -> list[Observation]:
    """Harvest now, check every number against the ground truth, and remember whom
    each cell was about at this moment."""
    shown = harvest(client, headers, units)
    check_numbers(shown, truths)
    return [(cell, frozenset(t.id for t in members(cell, truths))) for cell in shown]


def measures(cell: Shown) -> list[str]:
    """The measures a cell's numbers are sums of: its dimension; the ``overall``
    answer for a provider or relationship score; for a driver analysis each
    dimension whose mean it shows, and the outcome (its weights and R² explain it)."""
    if cell.kind == "dimension":
        assert cell.dimension is not None
        return [cell.dimension]
    if cell.kind == "drivers":
        return [*(d for d, _ in cell.performance), OUTCOME]
    return [OUTCOME]


def attack(observed: list[Observation], threshold: int = THRESHOLD) -> list[str]:
    """Everything the attacker learns about a small group (empty: nothing), measure by
    measure."""
    found: list[str] = []
    for measure_key in sorted({m for cell, _ in observed for m in measures(cell)}):
        within = [(c, g) for c, g in observed if measure_key in measures(c)]
        found += [f"{measure_key}: {f}" for f in attack_one(within, threshold)]
    return found


def attack_one(observed: list[Observation], threshold: int = THRESHOLD) -> list[str]:
    """What the attacker learns about a small group from cells of one measure."""
    published = sorted(
        {group for cell, group in observed if not cell.suppressed and group}, key=sorted
    )
    suppressed = [group for cell, group in observed if cell.suppressed]
    ids = sorted({rid for _, group in observed for rid in group})
    matrix = incidence(published, ids)
    position = {rid: j for j, rid in enumerate(ids)}
    found: list[str] = []
    leak = small_atom_leak(matrix, threshold)
    if leak:
        found.append(f"rank test: {leak} combination(s) of shown cells live on small groups")
    for group in set(candidate_groups(published, suppressed, ids)):
        vector = np.zeros(len(ids))
        vector[[position[rid] for rid in group]] = 1.0
        if in_row_space(matrix, vector):
            found.append(f"the sum over {sorted(group)} is derivable")
    return found


# -- fixtures and tests ----------------------------------------------------------------


@dataclass
class World:
    vc: Valuechain
    client: TestClient
    lead: dict[str, str]
    admin: dict[str, str]
    truths: list[Truth]


@pytest.fixture
def world(vc: Valuechain) -> Iterator[World]:
    org, truths = organisation()
    vc.write_map(org)
    make_account(vc, "admin@example.org", AccountRole.ADMIN)
    make_account(vc, "lead@example.org", AccountRole.LEAD, person_id="p-lead")
    with TestClient(create_app(vc)) as client:
        lead = {"Authorization": f"Bearer {bearer(client, 'lead@example.org')}"}
        admin = {"Authorization": f"Bearer {bearer(client, 'admin@example.org')}"}
        yield World(vc, client, lead, admin, truths)


LEAD_UNITS = [OWN, SUPPLIER, *CUSTOMERS]
ALL_UNITS = [*LEAD_UNITS, HIDDEN, TINY]


def test_the_data_has_small_groups_and_the_lead_is_scoped(world: World) -> None:
    small = [g for g, size in GROUPS.items() if size < THRESHOLD]
    assert len(small) >= 5
    answer = world.client.get(f"/api/v1/units/{HIDDEN}/scores", headers=world.lead)
    assert answer.status_code == 403
    shown = harvest(world.client, world.lead, LEAD_UNITS)
    assert any(c.suppressed for c in shown)
    assert sum(1 for c in shown if not c.suppressed) >= 10


def test_a_lead_learns_nothing_about_a_small_group(world: World) -> None:
    assert attack(observe(world.client, world.lead, LEAD_UNITS, world.truths)) == []


def organisation_drivers(vc: Valuechain, truths: list[Truth]) -> list[Observation]:
    """The organisation-wide driver analysis (``valuechain drivers --json``, admins)."""
    found = measure.drivers(vc)
    performance = tuple(
        (d["dimension"], d["performance"]) for d in found["drivers"] if d.get("performance")
    )
    cell = Shown("drivers", None, ORGANISATION, None, None, found["n"], None, performance)
    check_numbers([cell], truths)
    return [(cell, frozenset(t.id for t in members(cell, truths)))]


def test_everything_any_account_may_see_together_reveals_no_small_group(world: World) -> None:
    """The admin sees every unit and the organisation-wide driver analysis: the union
    of what every lead could collect, and more."""
    seen = observe(world.client, world.admin, ALL_UNITS, world.truths)
    organisation_wide = organisation_drivers(world.vc, world.truths)
    assert attack(seen + organisation_wide) == []
    # The analysis is about more respondents than the shown provider analyses, and
    # they include the tiny provider's: showing it would leak, so it is hidden.
    assert organisation_wide[0][0].suppressed
    shown = organisation_wide[0][1]
    assert attack([*seen, (organisation_wide[0][0]._replace_n(len(shown)), shown)]) != []


def test_the_attack_finds_the_leak_of_primary_suppression_alone(world: World) -> None:
    """Showing every cell of at least ``threshold`` respondents (no complementary
    suppression) would leak: the suite notices, so its silence above means something."""
    naive: list[Observation] = []
    for cell, group in observe(world.client, world.admin, ALL_UNITS, world.truths):
        n = None if 0 < len(group) < THRESHOLD else len(group)
        naive.append(
            (
                Shown(cell.kind, cell.campaign, cell.provider, None, cell.dimension, n, None),
                group,
            )
        )
    found = attack(naive)
    assert any("rank test" in f for f in found)
    assert any("derivable" in f for f in found)


def set_closes_on(vc: Valuechain, campaign: str, day: date) -> None:
    with vc.engine.begin() as conn:
        conn.execute(
            update(CampaignRow.__table__)  # type: ignore[arg-type]
            .where(CampaignRow.org_id == vc.org_id, CampaignRow.id == campaign)
            .values(closes_on=day)
        )


def add_response(vc: Valuechain, world: World, rid: str, campaign: str, customer: str) -> None:
    response, truth = respond(random.Random(rid), rid, campaign, OWN, customer)
    with vc.engine.begin() as conn:
        measure_store.write_survey(conn, vc.org_id, [], [response])
    world.truths.append(truth)


def test_polling_an_open_campaign_reveals_no_single_response(world: World) -> None:
    """The lead reads the results, one more response arrives in the open campaign, the
    lead reads again: the two snapshots together must not isolate the newcomer. Then
    the campaign closes and the lead reads once more: still nothing."""
    today = date.today()
    set_closes_on(world.vc, "2026-q2", today + timedelta(days=7))
    before = observe(world.client, world.lead, LEAD_UNITS, world.truths)
    add_response(world.vc, world, "2026-q2-ops-c1-late", "2026-q2", "c1")
    after = observe(world.client, world.lead, LEAD_UNITS, world.truths)
    assert attack(before + after) == []
    # The campaign closes (its last day is over); its results appear.
    set_closes_on(world.vc, "2026-q2", today - timedelta(days=1))
    closed = observe(world.client, world.lead, LEAD_UNITS, world.truths)
    assert any(c.campaign == "2026-q2" and not c.suppressed for c, _ in closed)
    assert attack(before + after + closed) == []
