"""One reading of the survey results per page (``measure.one_reading``): the
relationship page asks for every campaign's cells, and must read and protect the
responses once, with exactly the cells it would get call by call (found by the load
test, docs/benchmarks.md: the page took seconds per view on the demo)."""

from __future__ import annotations

from typing import Any

import pytest

from valuechain import Valuechain
from valuechain.services import health, measure
from valuechain.services.relationship import relationships
from valuechain.store import measure as measure_store


@pytest.fixture
def demo(demo_vc: Valuechain) -> Valuechain:
    return demo_vc


def _count_tables(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Every question :func:`measure.scores` really computes (not answered from memo)."""
    calls: list[tuple[Any, ...]] = []
    real = measure._scores

    def counted(vc: Valuechain, *args: Any) -> Any:
        calls.append(args)
        return real(vc, *args)

    monkeypatch.setattr(measure, "_scores", counted)
    return calls


def test_one_reading_answers_every_campaign_as_separate_calls_do(
    demo: Valuechain, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _campaign_ids(demo)
    cuts = (measure.By.RELATIONSHIP, measure.By.DIMENSION)
    apart = {(c, cut): measure.scores(demo, cut, c) for c in ids for cut in cuts}
    calls = _count_tables(monkeypatch)
    with measure.one_reading(demo), measure.one_reading(demo):  # nested: the same reading
        together = {(c, cut): measure.scores(demo, cut, c) for c in ids for cut in cuts}
        again = {(c, cut): measure.scores(demo, cut, c) for c in ids for cut in cuts}
    assert len(ids) > 5
    assert together == apart == again
    assert len(calls) == len(ids) * len(cuts)  # each question computed once
    measure.scores(demo)  # after the block, a fresh reading
    assert len(calls) == len(ids) * len(cuts) + 1


def test_the_relationship_page_reads_the_results_once(
    demo: Valuechain, monkeypatch: pytest.MonkeyPatch
) -> None:
    rel = relationships(demo)[0]
    before = health.both_sides(demo, rel.provider, rel.customer)
    calls = _count_tables(monkeypatch)
    assert health.both_sides(demo, rel.provider, rel.customer) == before
    assert calls and len(calls) == len(set(calls))  # no question computed twice
    assert before["health"]["provider"] == rel.provider


def _campaign_ids(vc: Valuechain) -> list[str]:
    with vc.engine.connect() as conn:
        return list(measure_store.campaign_ids(conn, vc.org_id))
