"""The stored survey summaries (protected cells and respondent blocks per provider)
stay equal to a computation from scratch whatever writes the responses, and one
provider's questions read exactly its part of the whole organisation's answer; on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, insert, select, text, update

from tests.builders import write_map_before_history
from tests.test_measure_store import PLAN, survey_map
from valuechain import Valuechain
from valuechain.domain.instrument import SERVICE_FACTORS
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.response import Answer, Response
from valuechain.services import measure, summary
from valuechain.services.errors import Conflict
from valuechain.store import campaign as campaign_store
from valuechain.store import measure as store
from valuechain.store.database import MIGRATIONS, make_engine

CUTS = ("provider", "relationship", "dimension", "relationship_dimension")


def everything(vc: Valuechain) -> dict[str, Any]:
    """Every number the service offers, from the stored summaries."""
    out: dict[str, Any] = {
        f"{cut}/{campaign}": measure.scores(vc, cut, campaign=campaign)
        for cut in CUTS
        for campaign in ("q1", "q2")
    }
    out["reliability"] = measure.reliability_with_omega(vc)
    threshold, campaigns, cells = measure.published_cells(vc)
    rows = [
        [c.by.value, c.instrument, c.campaign, c.provider, c.customer, c.dimension]
        + ([] if c.moments is None else [c.moments.n.tolist(), c.moments.total.tolist()])
        + ([] if c.gap is None else [c.gap.n.tolist(), c.gap.total.tolist()])
        for c in cells
    ]
    out["published"] = [threshold, campaigns, *sorted(rows, key=repr)]
    for provider in PLAN:
        out[f"drivers/{provider}"] = measure.drivers(vc, provider=provider)
    out["drivers"] = measure.drivers(vc)
    return out


def from_scratch(vc: Valuechain) -> dict[str, Any]:
    """The same after throwing every summary away."""
    with vc.engine.begin() as conn:
        store.forget_summaries(conn, vc.org_id, None)
        left = select(store.CELLS.c.org_id).where(store.CELLS.c.org_id == vc.org_id)
        assert conn.execute(left.limit(1)).first() is None
    return everything(vc)


def same(a: Any, b: Any, path: str = "") -> None:
    """Equal (floats to rounding: sums may run in another order), with the path of the
    first difference in the failure."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            same(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-12), (path, a, b)
    else:
        assert a == b, (path, a, b)


def answers(rid: str, score: float) -> list[dict[str, Any]]:
    return [
        {"response_id": rid, "item": i.key, "dimension": i.dimension, "score": score}
        for i in SERVICE_FACTORS.items
    ]


def test_summaries_follow_every_write_path(vc: Valuechain) -> None:
    vc.write_map(survey_map()[0])
    before = everything(vc)
    same(before, from_scratch(vc))
    legal = next(
        c
        for c in before["relationship/q2"]["cells"]
        if (c["provider"], c["customer"]) == ("pay", "legal")
    )
    assert legal["suppressed"]  # 3 respondents
    # Another writer (a survey link being spent) inserts rows directly: nothing tells
    # the summaries, yet the next question sees them.
    with vc.engine.begin() as conn:
        conn.execute(
            insert(store.RESPONSES),
            [
                {
                    "org_id": vc.org_id,
                    "id": f"link-{i}",
                    "campaign_id": "q2",
                    "instrument": "service_factors",
                    "rater_id": "legal",
                    "rated_id": "pay",
                    "submitted_on": date(2026, 6, 2),
                }
                for i in range(4)
            ],
        )
        rows = [a for i in range(4) for a in answers(f"link-{i}", 3.0 + i % 2)]
        conn.execute(insert(store.ANSWERS), [{"org_id": vc.org_id, **a} for a in rows])
    after = everything(vc)
    legal = next(
        c
        for c in after["relationship/q2"]["cells"]
        if (c["provider"], c["customer"]) == ("pay", "legal")
    )
    assert legal["n"] == 7 and not legal["suppressed"]
    same(after, from_scratch(vc))
    # Re-importing a response about another provider would move it (and q2's published
    # cells by one respondent): refused, nothing changes (issue 15, item 10).
    moved = Response(
        "it-ops-q2-0",
        "q2",
        "service_factors",
        "ops",
        "pay",
        date(2026, 6, 1),
        [Answer(i.key, i.dimension, 6.0) for i in SERVICE_FACTORS.items],
    )
    with pytest.raises(Conflict, match="already stored"):
        vc.write_map(OrganisationMap(units=survey_map()[0].units, responses=[moved]))
    same(everything(vc), after)
    same(everything(vc), from_scratch(vc))


def test_one_provider_reads_its_part_of_the_organisation(vc: Valuechain) -> None:
    vc.write_map(survey_map(seed=3)[0])
    for cut in CUTS:
        for campaign in ("q1", "q2"):
            whole = measure.scores(vc, cut, campaign=campaign)
            for provider in PLAN:
                one = measure.scores(vc, cut, campaign=campaign, provider=provider)
                assert one["cells"] == [c for c in whole["cells"] if c["provider"] == provider]
                assert one["threshold"] == whole["threshold"]


def test_migration_keeps_the_answers_of_an_existing_database(tmp_path: Path) -> None:
    """0008 adds a column to responses: on SQLite a table rebuild would cascade to
    the answers, so it must not rebuild. Data stored at 0003 survive and are
    summarised on the first question."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    engine.dispose()
    vc = Valuechain(make_engine(url, migrate=False, create=True), "old", create=True)
    org, _ = survey_map()
    with vc.engine.begin() as conn:
        store.write_survey(conn, vc.org_id, [], [])
        write_map_before_history(vc, OrganisationMap(units=org.units))
    # Rows as 0003 stored them (no summaries, no summarised column yet).
    with vc.engine.begin() as conn:
        for r in org.responses:
            conn.execute(
                text("INSERT OR IGNORE INTO campaigns (org_id, id, name) VALUES (:o, :c, :c)"),
                {"o": vc.org_id, "c": r.campaign},
            )
            conn.execute(
                text(
                    "INSERT INTO responses (org_id, id, campaign_id, instrument, rater_id,"
                    " rated_id, submitted_on) VALUES (:o, :i, :c, :n, :r, :p, :d)"
                ),
                {
                    "o": vc.org_id,
                    "i": r.id,
                    "c": r.campaign,
                    "n": r.instrument,
                    "r": r.rater_id,
                    "p": r.rated_id,
                    "d": r.submitted_on.isoformat(),
                },
            )
            for a in r.answers:
                conn.execute(
                    text(
                        "INSERT INTO answers (org_id, response_id, item, dimension, score)"
                        " VALUES (:o, :i, :t, :d, :s)"
                    ),
                    {"o": vc.org_id, "i": r.id, "t": a.item, "d": a.dimension, "s": a.score},
                )
    vc.engine.dispose()
    upgraded = Valuechain(make_engine(url, create=True), "old", create=True)
    with upgraded.engine.connect() as conn:
        assert store.count_survey(conn, upgraded.org_id)["answers"] == sum(
            len(r.answers) for r in org.responses
        )
    cells = measure.scores(upgraded, "relationship", campaign="q2")["cells"]
    assert sum(c["n"] or 0 for c in cells) > 0
    upgraded.engine.dispose()


def closes_on(vc: Valuechain, campaign: str, day: date) -> None:
    with vc.engine.begin() as conn:
        conn.execute(
            update(store.CAMPAIGNS)
            .where(store.CAMPAIGNS.c.org_id == vc.org_id, store.CAMPAIGNS.c.id == campaign)
            .values(closes_on=day)
        )


def test_an_open_campaign_stays_out_of_the_summaries_until_it_closes(vc: Valuechain) -> None:
    """trust: nothing about a campaign whose closing day is today or later, in any cut
    or in the pooled driver analyses; when the day passes (no write at all), the next
    question summarises its providers again, with the responses the campaign's close
    moved in from the sealed table (``store.campaign.insert_response``, as ``unseal``
    does)."""
    vc.write_map(survey_map()[0])
    closed_n = {
        c["provider"]: c["n"] for c in measure.scores(vc, "provider", campaign="q2")["cells"]
    }
    today = date.today()
    closes_on(vc, "q2", today + timedelta(days=3))
    for cut in CUTS:
        assert measure.scores(vc, cut, campaign="q2")["cells"] == []
    assert measure.scores(vc, "provider")["campaign"] == "q1"
    pooled = measure.drivers(vc, provider="it")
    assert pooled["suppressed"] or pooled["n"] == sum(s[0] for s in PLAN["it"].values())
    same(everything(vc), from_scratch(vc))
    late = Response(
        "late-it",
        "q2",
        "service_factors",
        "sales",
        "it",
        today,
        [Answer(i.key, i.dimension, 5.0) for i in SERVICE_FACTORS.items],
    )
    with vc.engine.begin() as conn:
        campaign_store.insert_response(conn, vc.org_id, late, {})
    assert measure.scores(vc, "provider", campaign="q2")["cells"] == []
    closes_on(vc, "q2", today - timedelta(days=1))
    cells = {c["provider"]: c for c in measure.scores(vc, "provider", campaign="q2")["cells"]}
    assert cells["it"]["n"] == closed_n["it"] + 1
    assert measure.scores(vc, "provider")["campaign"] == "q2"
    same(everything(vc), from_scratch(vc))


@pytest.mark.parametrize("child", ["works", "fails"])
def test_an_import_summarised_in_a_child_process_equals_one_summarised_after(
    vc: Valuechain, monkeypatch: pytest.MonkeyPatch, child: str
) -> None:
    """A big import summarises its providers in a child process while it writes; the
    summaries are the ones a computation from scratch gives, and a child that fails
    costs time, not correctness."""
    monkeypatch.setattr(summary, "AHEAD_MIN_ANSWERS", 0)
    if child == "fails":
        monkeypatch.setattr(summary.sys, "executable", "/bin/false")
    results: list[list[Any] | None] = []
    result = summary.Ahead.result

    def spy(self: summary.Ahead) -> Any:
        found = result(self)
        results.append(found)
        return found

    monkeypatch.setattr(summary.Ahead, "result", spy)
    vc.write_map(survey_map()[0])
    assert len(results) == 1
    assert (results[0] is None) == (child == "fails")
    if child == "works":
        assert results[0] and all(cells for _providers, cells, _blocks in results[0])
    same(everything(vc), from_scratch(vc))
