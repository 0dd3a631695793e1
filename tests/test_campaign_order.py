"""Campaigns in time order, never by the string order of their ids (``wave-10``
sorts before ``wave-9``): ``scores`` and ``change`` take the latest by date, through
the service and the CLI; and an action's verdict is read from its
relationship's own cell, falling back to the rated unit's only when that one is
suppressed. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.builders import write_map_before_history
from tests.conftest import TEST_SECURITY
from tests.test_backup import own_url  # noqa: F401 (a fixture)
from valuechain import Valuechain
from valuechain.cli.main import app
from valuechain.domain.campaign import time_order
from valuechain.domain.link import Link, Relation
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.response import Answer, Response
from valuechain.domain.result import Result, ResultKind
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services import measure
from valuechain.services.change import change
from valuechain.services.partner import action
from valuechain.store import campaign as campaign_store
from valuechain.store import measure as measure_store
from valuechain.store.database import make_engine


def _map(customers: tuple[str, ...]) -> OrganisationMap:
    units = [Unit("desk", "Service desk", UnitKind.TEAM)]
    units += [Unit(c, c.title(), UnitKind.TEAM) for c in customers]
    results = [Result("tickets", "desk", "Tickets", ResultKind.INTERMEDIATE)]
    links = [Link("tickets", c, Relation.CONSUMES) for c in customers]
    return OrganisationMap(units=units, results=results, links=links)


def _responses(
    campaign: str, day: date, rater: str, promptness: list[float], prefix: str = ""
) -> list[Response]:
    return [
        Response(
            f"{prefix}{campaign}-{rater}-{i}",
            campaign,
            "service_factors",
            rater,
            "desk",
            day,
            answers=[
                Answer("promptness_1", "promptness", p),
                Answer("promptness_2", "promptness", p),
                Answer("overall_1", "overall", p),
            ],
        )
        for i, p in enumerate(promptness)
    ]


def test_time_order_reads_dates_then_names_naturally() -> None:
    d = date
    ids = ["wave-10", "wave-9", "draft", "wave-2", "q"]
    closes = [d(2026, 10, 31), None, None, None, None]
    opens = [None, None, None, None, None]
    first = [None, d(2026, 9, 1), None, d(2026, 2, 1), d(2026, 2, 1)]
    last = [None, d(2026, 9, 20), None, d(2026, 2, 20), d(2026, 2, 20)]
    # wave-2 and q share their days: the id read naturally breaks the tie.
    assert time_order(ids, closes, opens, first, last) == [
        "q",
        "wave-2",
        "wave-9",
        "wave-10",
        "draft",
    ]
    same = [None] * 3
    assert time_order(["wave-10", "wave-9", "wave-1"], same, same, same, same) == [
        "wave-1",
        "wave-9",
        "wave-10",
    ]


def _decline(vc: Valuechain) -> None:
    """wave-9 (September) high, wave-10 (October) lower: a planted decline."""
    vc.write_map(_map(("line",)))
    high = [6.0, 6.0, 7.0, 6.0, 7.0, 6.0, 6.0, 7.0]
    low = [3.0, 2.0, 3.0, 3.0, 2.0, 3.0, 3.0, 2.0]
    vc.write_map(
        OrganisationMap(
            responses=_responses("wave-10", date(2026, 10, 12), "line", low)
            + _responses("wave-9", date(2026, 9, 14), "line", high)
        )
    )


def test_latest_and_change_follow_the_dates_not_the_names(vc: Valuechain) -> None:
    _decline(vc)
    latest = measure.scores(vc, "provider")
    assert latest["campaign"] == "wave-10"
    assert latest["cells"][0]["mean"] == pytest.approx(21 / 8)
    found = change(vc)
    assert (found["from"], found["to"]) == ("wave-9", "wave-10")
    cell = next(c for c in found["cells"] if c["by"] == "provider")
    # A decline is reported as one.
    assert cell["difference"] == pytest.approx(21 / 8 - 51 / 8)
    assert cell["status"] == "compared"
    with vc.engine.connect() as conn:
        listed = [c.id for c in campaign_store.read_campaigns(conn, vc.org_id)]
    assert listed == ["wave-9", "wave-10"]


def test_the_cli_takes_the_latest_by_date(vc: Valuechain, cli_env: dict[str, str]) -> None:
    _decline(vc)
    runner = CliRunner()
    scores = runner.invoke(app, ["scores", "--json"], env=cli_env)
    assert scores.exit_code == 0, scores.output
    assert json.loads(scores.stdout)["campaign"] == "wave-10"
    moved = runner.invoke(app, ["change", "--json"], env=cli_env)
    assert moved.exit_code == 0, moved.output
    doc = json.loads(moved.stdout)
    assert (doc["from"], doc["to"]) == ("wave-9", "wave-10")
    provider = next(c for c in doc["cells"] if c["by"] == "provider")
    assert provider["difference"] < 0


def test_a_cell_one_campaign_never_had_is_not_measured(vc: Valuechain) -> None:
    vc.write_map(_map(("line", "pack")))
    fives = [5.0, 4.0, 5.0, 6.0, 5.0, 5.0]
    vc.write_map(
        OrganisationMap(
            responses=_responses("q1", date(2026, 3, 10), "line", fives)
            + _responses("q2", date(2026, 6, 10), "line", fives)
            + _responses("q2", date(2026, 6, 10), "pack", fives)
        )
    )
    cells = {(c["by"], c.get("customer")): c for c in change(vc, "q1", "q2")["cells"]}
    assert cells[("relationship", "pack")]["status"] == "not measured"
    assert cells[("relationship", "pack")]["suppressed"] is False
    assert cells[("relationship", "line")]["status"] == "compared"


def test_an_action_is_judged_on_its_relationship_and_falls_back_only_when_suppressed(
    vc: Valuechain,
) -> None:
    vc.write_map(_map(("line", "pack", "tiny", "spare")))
    # line's promptness rises by 2.5 points; pack's (many more answers) falls a little,
    # so across all customers nothing moves clearly. tiny has 3 respondents: hidden,
    # and spare (5, the smallest other group) with it, so that no subtraction reveals it.
    pack_before = [5.0, 6.0, 4.0, 5.0, 6.0, 5.0, 4.0, 6.0, 5.0, 5.0] * 3
    pack_after = [4.0, 6.0, 4.0, 5.0, 5.0, 5.0, 4.0, 5.0, 5.0, 4.0] * 3
    vc.write_map(
        OrganisationMap(
            responses=_responses(
                "q1", date(2026, 3, 10), "line", [3.0, 3.0, 4.0, 3.0, 3.0, 4.0, 3.0, 4.0]
            )
            + _responses("q1", date(2026, 3, 10), "spare", [5.0, 5.0, 4.0, 5.0, 6.0])
            + _responses("q1", date(2026, 3, 10), "pack", pack_before)
            + _responses("q1", date(2026, 3, 10), "tiny", [4.0, 5.0, 4.0])
        )
    )
    mine = action.create(
        vc,
        None,
        "desk",
        "line",
        title="Answer within the hour",
        owner="Desk lead",
        due_on=date(2026, 5, 1),
        instrument="service_factors",
        dimension="promptness",
    )
    theirs = action.create(
        vc,
        None,
        "desk",
        "tiny",
        title="Call back",
        owner="Desk lead",
        due_on=date(2026, 5, 1),
        instrument="service_factors",
        dimension="promptness",
    )
    vc.write_map(
        OrganisationMap(
            responses=_responses(
                "q2", date(2026, 6, 10), "line", [6.0, 5.0, 6.0, 6.0, 5.0, 6.0, 5.0, 6.0]
            )
            + _responses("q2", date(2026, 6, 10), "spare", [5.0, 5.0, 4.0, 5.0, 6.0])
            + _responses("q2", date(2026, 6, 10), "pack", pack_after)
            + _responses("q2", date(2026, 6, 10), "tiny", [5.0, 5.0, 4.0])
        )
    )
    results = {a["id"]: a["result"] for a in action.actions(vc, "desk")}
    own = results[mine["id"]]
    assert own["scope"] == "relationship" and own["note"] is None
    assert (own["before"]["n"], own["after"]["n"]) == (8, 8)
    assert own["difference"] == pytest.approx(45 / 8 - 27 / 8)
    assert own["verdict"] == "improved"
    wider = results[theirs["id"]]
    assert wider["scope"] == "unit"
    assert "suppressed" in wider["note"]
    unit_cells = {
        c["campaign"]: next(
            x
            for x in measure.scores(vc, "dimension", c["campaign"], "service_factors")["cells"]
            if x["dimension"] == "promptness"
        )
        for c in (wider["before"], wider["after"])
    }
    assert wider["before"]["n"] == unit_cells["q1"]["n"] == 46
    assert wider["after"]["n"] == unit_cells["q2"]["n"]


def test_the_migration_dates_campaigns_from_their_stored_answers(
    own_url: str,  # noqa: F811 (the fixture imported above)
) -> None:
    """A database at 0016 holding wave-9 (September) and wave-10 (October) answers,
    upgraded: each campaign has its answer span, and wave-10 is the latest."""
    from alembic import command
    from sqlalchemy import insert

    from valuechain.store.database import _alembic_config
    from valuechain.store.measure import CAMPAIGNS, RESPONSES

    engine = make_engine(own_url, migrate=False, create=True)
    with engine.begin() as conn:
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0016_one_idempotency")
    vc = Valuechain(engine, "old", security=TEST_SECURITY, create=True)
    # No links: today's code writes a link's state, which 0016 has no column for.
    write_map_before_history(vc, dataclasses.replace(_map(("line",)), links=[]))
    old = ("org_id", "id", "name", "instrument", "state")
    with engine.begin() as conn:
        conn.execute(
            insert(CAMPAIGNS).values(
                [
                    dict(zip(old, (vc.org_id, c, c, "service_factors", "closed"), strict=True))
                    for c in ("wave-10", "wave-9")
                ]
            )
        )
        conn.execute(
            insert(RESPONSES),
            [
                {
                    "org_id": vc.org_id,
                    "id": f"{c}-{i}",
                    "campaign_id": c,
                    "instrument": "service_factors",
                    "rater_id": "line",
                    "rated_id": "desk",
                    "submitted_on": day,
                    "summarised": False,
                }
                for c, days in (
                    ("wave-9", (date(2026, 9, 2), date(2026, 9, 20))),
                    ("wave-10", (date(2026, 10, 5), date(2026, 10, 9))),
                )
                for i, day in enumerate(days)
            ],
        )
    with engine.begin() as conn:
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert measure_store.campaign_ids(conn, vc.org_id) == ["wave-9", "wave-10"]
        spans = dict(
            (row[0], (row[1], row[2]))
            for row in conn.execute(
                select(CAMPAIGNS.c.id, CAMPAIGNS.c.first_answer_on, CAMPAIGNS.c.last_answer_on)
            )
        )
    assert spans == {
        "wave-9": (date(2026, 9, 2), date(2026, 9, 20)),
        "wave-10": (date(2026, 10, 5), date(2026, 10, 9)),
    }
    engine.dispose()
