"""One reading of the survey results per page (``measure.one_reading``): the
relationship page asks for every campaign's cells, and must read and protect the
responses once, with exactly the cells it would get call by call (found by the load
test, docs/benchmarks.md: the page took seconds per view on the demo)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, insert

from valuechain import Valuechain
from valuechain.services import measure
from valuechain.services.partner import health
from valuechain.services.partner.relationship import relationships
from valuechain.services.transaction import reading
from valuechain.store import measure as measure_store
from valuechain.store.measure import OPEN_CAMPAIGNS


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


def _checkouts(vc: Valuechain) -> list[object]:
    """A list that grows by one for every connection taken from the pool."""
    taken: list[object] = []
    event.listen(vc.engine, "checkout", lambda *args: taken.append(args[0]))
    return taken


def test_a_provider_s_scores_and_its_unit_are_read_on_one_connection(demo: Valuechain) -> None:
    provider = measure.scores(demo)["cells"][0]["provider"]
    expected = measure.provider_scores(demo, provider)
    taken = _checkouts(demo)
    assert measure.provider_scores(demo, provider) == expected
    assert demo.unit_map(provider)["unit"]["id"] == provider
    assert len(taken) == 2  # one unit of work per use case


def test_a_reading_unit_that_finds_the_summaries_stale_refreshes_them_apart(
    demo: Valuechain,
) -> None:
    """Summaries go stale without a write (a campaign closes by the calendar): a
    question inside a reading unit refreshes them in a unit of its own instead of
    failing to write, and reads the refreshed summaries."""
    fresh = measure.scores(demo)
    with demo.engine.begin() as conn:  # the summaries now look out of date
        conn.execute(insert(OPEN_CAMPAIGNS).values(org_id=demo.org_id, campaign="gone"))
    with reading(demo):
        assert measure.scores(demo) == fresh
    with demo.engine.connect() as conn:
        assert "gone" not in measure_store.summarised_open_campaigns(conn, demo.org_id)
