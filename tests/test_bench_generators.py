"""The realistic benchmark generators (bench/realistic.py, bench/realistic_survey.py)
have the shape docs/benchmarks.md states, their bundle imports into the product, and
the peer scripts of bench/peers compute what the product publishes.

Small sizes (2,000 units): the shape is structural, so it holds at every size the
benchmarks run; the figures at the benchmark sizes are in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bench.generate import DEPARTMENT, EXTERNAL_CUSTOMER, TEAM, Organisation, write_bundle
from bench.realistic import UNIVERSAL, generate_realistic, stats
from bench.realistic_survey import (
    OPENS,
    RealisticSurvey,
    generate_realistic_survey,
    survey_stats,
    write_realistic_responses,
)

from valuechain import Valuechain
from valuechain.services import measure
from valuechain.services.bundle import import_bundle

PEERS = Path(__file__).parents[1] / "bench" / "peers"

UNITS = 2_000


@pytest.fixture(scope="module")
def org() -> Organisation:
    return generate_realistic(UNITS, UNITS * 5 // 2, UNITS * 10, seed=42)


@pytest.fixture(scope="module")
def survey(org: Organisation) -> RealisticSurvey:
    return generate_realistic_survey(org, 100_000, seed=7)


def test_same_seed_same_organisation(org: Organisation) -> None:
    again = generate_realistic(UNITS, UNITS * 5 // 2, UNITS * 10, seed=42)
    assert np.array_equal(again.link_result, org.link_result)
    assert np.array_equal(again.link_customer, org.link_customer)
    assert again.unit_name == org.unit_name
    other = generate_realistic(UNITS, UNITS * 5 // 2, UNITS * 10, seed=43)
    assert not np.array_equal(other.link_customer[:1000], org.link_customer[:1000])


def test_universal_services_serve_every_internal_unit(org: Organisation) -> None:
    internal = set(np.flatnonzero(np.isin(org.unit_kind, [TEAM, DEPARTMENT])).tolist())
    producer = org.result_unit[org.link_result]
    for name in UNIVERSAL:
        unit = org.unit_name.index(name)
        served = set(org.link_customer[producer == unit].tolist())
        assert served == internal - {unit}, name


def test_shape_is_not_the_flattering_one(org: Organisation) -> None:
    shape = stats(org)
    internal = int(np.isin(org.unit_kind, [TEAM, DEPARTMENT]).sum())
    assert shape["units"] == UNITS
    assert shape["max_customers_per_unit"] == internal - 1
    # Reporting upwards and plans downwards close one cycle through the hierarchy.
    assert shape["largest_scc"] > 0.9 * internal
    assert shape["external_customers"] == int((org.unit_kind == EXTERNAL_CUSTOMER).sum())
    assert 0.95 * UNITS * 10 <= shape["links"] <= UNITS * 10
    # Every internal unit but the board has a parent; no one is its own parent.
    parent = org.unit_parent[np.isin(org.unit_kind, [TEAM, DEPARTMENT])]
    assert (parent >= 0).sum() == internal - 1
    assert not np.any(org.unit_parent == np.arange(UNITS))


def test_survey_is_skewed_with_person_effects_breakoffs_and_skips(
    survey: RealisticSurvey,
) -> None:
    shape = survey_stats(survey)
    assert 90_000 <= shape["answers"] <= 115_000
    assert shape["score_mean"] > 5.0 and shape["score_skew"] < -0.2
    shares = shape["score_shares_1_to_7"]
    assert shares[6] > shares[2] * 3  # more 7s than 3s: the top of the scale
    assert 0.05 <= shape["broke_off_share"] <= 0.09
    assert 0.04 <= shape["left_out_share"] <= 0.15
    assert shape["commented_share"] > 0.08
    # A heavy provider is rated by many units, far more than any uniform draw gives.
    assert shape["max_rater_units_of_one_provider"] >= 100
    # The person effect: a respondent's answers agree more than answers of different
    # respondents about the same provider (between-person variance of the means).
    means = np.bincount(survey.answer_response, survey.answer_score) / np.maximum(
        np.bincount(survey.answer_response), 1
    )
    assert np.var(means) > 0.3


def test_timestamps_spread_over_working_days(survey: RealisticSurvey) -> None:
    stamps = survey.response_submitted
    assert np.unique(stamps).size > 0.9 * stamps.size
    opened = np.array([int(o.timestamp()) for o in OPENS])[survey.response_campaign]
    days = (stamps - opened) / 86400
    assert days.min() >= 0 and days.max() < 28
    when = [datetime.fromtimestamp(s, UTC) for s in stamps[:: max(1, stamps.size // 500)].tolist()]
    assert all(w.weekday() < 5 and 7 <= w.hour <= 19 for w in when)
    # Reminders on days 7 and 14 bring answers in the second and third week too.
    assert (days >= 7).mean() > 0.2 and (days >= 14).mean() > 0.05


@pytest.fixture(scope="module")
def imported(
    org: Organisation, survey: RealisticSurvey, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Valuechain]]:
    """The bundle with responses, imported into a fresh SQLite file."""
    folder = tmp_path_factory.mktemp("realistic")
    bundle = folder / "bundle"
    write_bundle(org, bundle)
    write_realistic_responses(org, survey, bundle / "responses.csv")
    vc = Valuechain.open(f"sqlite:///{folder / 'real.db'}", "realistic", create=True)
    import_bundle(vc, bundle)
    yield bundle, vc
    vc.engine.dispose()


def test_bundle_imports_into_the_product(
    org: Organisation, imported: tuple[Path, Valuechain]
) -> None:
    bundle, vc = imported
    counts = vc.counts()
    assert counts["units"] == org.n_units
    assert counts["links"] == org.n_links
    text = (bundle / "responses.csv").read_text(encoding="utf-8")
    assert '"The ""self-service"" portal' in text  # quotes doubled, as CSV requires


def _peer(script: str, argument: Path) -> Any:
    """Run a peer script of bench/peers as its own process; its JSON document."""
    done = subprocess.run(
        [sys.executable, str(PEERS / script), str(argument)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_networkx_peer_writes_the_same_map(imported: tuple[Path, Valuechain]) -> None:
    bundle, vc = imported
    ours = {u["id"]: u for u in vc.overview()["units"]}
    theirs = _peer("nx_map.py", bundle)["units"]
    assert len(theirs) == len(ours)
    for unit in theirs:
        mine = ours[unit["id"]]
        assert mine["direct"] == unit["direct"]
        assert set(mine["external"]) == set(unit["external"])
        assert mine["depth"] == unit["depth"]
        assert set(mine["orphan_results"]) == set(unit["orphan_results"])


@pytest.mark.parametrize("script", ["scores_pandas.py", "scores_duckdb.py"])
def test_score_peers_compute_the_published_cells(
    imported: tuple[Path, Valuechain], script: str
) -> None:
    if script == "scores_duckdb.py":
        pytest.importorskip("duckdb")
    bundle, vc = imported
    ours = measure.scores(vc, "relationship")
    theirs = _peer(script, bundle / "responses.csv")
    assert theirs["campaign"] == ours["campaign"]
    found = {(c["instrument"], c["provider"], c["customer"]): c for c in theirs["cells"]}
    shown = [c for c in ours["cells"] if not c["suppressed"]]
    assert shown  # the comparison has cells to compare
    for cell in shown:
        other = found[cell["instrument"], cell["provider"], cell["customer"]]
        assert other["n"] == cell["n"]
        assert other["mean"] == pytest.approx(cell["mean"], abs=1e-9)
