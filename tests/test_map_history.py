"""The map's history on both databases, through a real uvicorn server on loopback: a
bundle is imported, leads change the map through the API, the bundle is imported
again with ``--replace``; then

- ``/api/v1/map?as_of=…`` at each moment equals what ``/api/v1/map`` answered then;
- ``/api/v1/map/changes`` lists exactly the rows that differ between two moments
  (computed here from the map tables as they were), with who and when, paged;
- the unit's "What changed" page names what, who (a name) and when;
- erasing a person also erases them as who changed the map;
- migration 0019 takes the stored map as valid since the last import.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import select, text

from tests.browser.conftest import serving
from tests.builders import chain_map
from tests.signin import make_account
from valuechain import Valuechain
from valuechain.api import PREFIX
from valuechain.domain.account import AccountRole
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.person import Person, Role
from valuechain.services import accounts, person
from valuechain.services.audit import Actor
from valuechain.services.bundle import import_bundle
from valuechain.store.database import _alembic_config, make_engine
from valuechain.store.history import KINDS, LINK_HISTORY, RESULT_HISTORY, UNIT_HISTORY
from valuechain.web.app import create_app

LEADS = {"make": "p-make", "ship": "p-ship", "pack": "p-pack"}
IMPORTER = Actor(None, "cli:importer", "cli")


def write_bundle(folder: Path, org: OrganisationMap) -> Path:
    """``org`` as a bundle folder of CSV files (PRODUCT.md, "The data bundle")."""
    folder.mkdir(parents=True, exist_ok=True)
    tables: dict[str, tuple[list[str], list[list[Any]]]] = {
        "units": (
            ["id", "name", "kind", "parent_id", "headcount"],
            [[u.id, u.name, u.kind.value, u.parent_id, u.headcount] for u in org.units],
        ),
        "results": (
            ["id", "unit_id", "name", "kind", "capacity"],
            [[r.id, r.unit_id, r.name, r.kind.value, r.capacity] for r in org.results],
        ),
        "links": (
            ["result_id", "customer_id", "relation", "demand"],
            [[k.result_id, k.customer_id, k.relation.value, k.demand] for k in org.links],
        ),
        "people": (
            ["id", "name", "email", "unit_id", "role"],
            [[p.id, p.name, p.email, p.unit_id, p.role.value] for p in org.people],
        ),
    }
    for name, (header, rows) in tables.items():
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(header)
            out.writerows([["" if v is None else v for v in row] for row in rows])
    return folder


def organisation() -> OrganisationMap:
    org = chain_map()
    org.people = [
        Person(pid, f"Lead of {unit}", f"{pid}@example.org", unit, Role.LEAD)
        for unit, pid in LEADS.items()
    ]
    return org


def live_rows(vc: Valuechain) -> dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]:
    """Every unit, result and link (any state) stored now: key → the values a version
    keeps."""
    found: dict[str, dict[tuple[Any, ...], tuple[Any, ...]]] = {}
    with vc.engine.connect() as conn:
        for kind in KINDS:
            t = kind.live
            rows = conn.execute(
                select(*[t.c[c] for c in (*kind.key, *kind.values)]).where(t.c.org_id == vc.org_id)
            )
            n = len(kind.key)
            found[kind.name] = {tuple(r[:n]): tuple(r[n:]) for r in rows}
    return found


def expected_changes(
    then: dict[str, dict[tuple[Any, ...], tuple[Any, ...]]],
    now: dict[str, dict[tuple[Any, ...], tuple[Any, ...]]],
) -> dict[str, set[tuple[Any, ...]]]:
    """Per kind, (key..., change) of every row that differs."""
    out: dict[str, set[tuple[Any, ...]]] = {}
    for kind in KINDS:
        a, b = then[kind.name], now[kind.name]
        out[kind.name] = (
            {(*k, "appeared") for k in b.keys() - a.keys()}
            | {(*k, "went_away") for k in a.keys() - b.keys()}
            | {(*k, "changed") for k in a.keys() & b.keys() if a[k] != b[k]}
        )
    return out


def listed(doc: dict[str, Any]) -> dict[str, set[tuple[Any, ...]]]:
    plural = {"unit": "units", "result": "results", "link": "links"}
    return {
        kind.name: {(*(row[c] for c in kind.key), row["change"]) for row in doc[plural[kind.name]]}
        for kind in KINDS
    }


def tick() -> datetime:
    """A moment strictly between two writes (timestamps are microseconds)."""
    time.sleep(0.02)
    moment = datetime.now(UTC)
    time.sleep(0.02)
    return moment


@pytest.fixture
def api(vc: Valuechain) -> Iterator[tuple[Valuechain, Any]]:
    """The organisation behind a real server; ``sign_in(email)`` gives a client."""
    make_account(vc, "admin@example.org", AccountRole.ADMIN)
    clients: dict[str, httpx.Client] = {}
    with serving(lambda _url: create_app(vc)) as url:

        def sign_in(email: str) -> httpx.Client:
            if email not in clients:
                account = accounts.account_by_email(vc, email)
                assert account is not None
                token = accounts.start_session(vc, account, address="test").token
                clients[email] = httpx.Client(
                    base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=20
                )
            return clients[email]

        try:
            yield vc, sign_in
        finally:
            for client in clients.values():
                client.close()


def whole_map(client: httpx.Client, **params: str) -> dict[str, Any]:
    """Every page of ``/api/v1/map`` (two units a page), joined."""
    doc: dict[str, Any] = {"units": [], "results": [], "links": []}
    url: str | None = PREFIX + "/map?" + httpx.QueryParams({"limit": 2, **params}).__str__()
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.text
        body = page.json()
        for key in ("units", "results", "links"):
            doc[key] += body[key]
        doc["total"] = body["total"]
        url = body["next"]
    return doc


def test_the_map_as_of_each_moment_and_the_changes_between_them(
    api: tuple[Valuechain, Any], tmp_path: Path
) -> None:
    vc, sign_in = api
    empty = tick()
    org = organisation()
    import_bundle(vc, write_bundle(tmp_path / "first", org), actor=IMPORTER)
    for pid in LEADS.values():
        make_account(vc, f"{pid}@example.org", AccountRole.LEAD, person_id=pid)
    admin = sign_in("admin@example.org")
    snapshots = {"imported": (tick(), whole_map(admin), live_rows(vc))}

    make, pack = sign_in("p-make@example.org"), sign_in("p-pack@example.org")
    changed = make.put(
        f"{PREFIX}/units/make/results/parts",
        json={"name": "Machined parts v2", "kind": "intermediate", "capacity": 40.0},
    )
    assert changed.status_code == 200, changed.text
    added = make.post(
        f"{PREFIX}/units/make/results",
        json={"id": "jigs", "name": "Jigs", "kind": "intermediate"},
    )
    assert added.status_code in (200, 201), added.text
    proposed = make.post(
        f"{PREFIX}/units/make/links",
        json={"result_id": "jigs", "customer_id": "pack", "relation": "consumes"},
    )
    assert proposed.status_code in (200, 201), proposed.text
    after_proposal = tick()
    confirmed = pack.post(
        f"{PREFIX}/units/pack/links/confirm",
        json={"result_id": "jigs", "customer_id": "pack", "relation": "consumes"},
    )
    assert confirmed.status_code == 200, confirmed.text
    removed = make.delete(f"{PREFIX}/units/make/results/scrap-report")
    assert removed.status_code == 200, removed.text
    snapshots["edited"] = (tick(), whole_map(admin), live_rows(vc))

    # The bundle again, with replace: the API's changes go, one unit is renamed.
    org.units = [
        u if u.id != "audit" else type(u)("audit", "Internal audit", u.kind) for u in org.units
    ]
    import_bundle(vc, write_bundle(tmp_path / "again", org), replace=True, actor=IMPORTER)
    snapshots["replaced"] = (tick(), whole_map(admin), live_rows(vc))

    # The map as of each moment is what was current then.
    assert whole_map(admin, as_of=empty.isoformat())["total"] == {
        "units": 0,
        "results": 0,
        "links": 0,
    }
    for moment, seen, _ in snapshots.values():
        assert whole_map(admin, as_of=moment.isoformat()) == seen
    # The proposal was not on the map yet; confirmed, it is.
    jigs = {"result": "jigs", "customer": "pack", "relation": "consumes"}
    assert jigs not in whole_map(admin, as_of=after_proposal.isoformat())["links"]
    assert jigs in snapshots["edited"][1]["links"]
    # A date is the end of that day: today's date shows today's map.
    today = whole_map(admin, as_of=datetime.now(UTC).date().isoformat())
    assert today == snapshots["replaced"][1]
    assert admin.get(f"{PREFIX}/map", params={"as_of": "March"}).status_code == 422

    # The changes between any two moments are exactly the rows that differ.
    moments = list(snapshots.items())
    for i, (_, (start, _, before)) in enumerate(moments):
        for _, (stop, _, after) in moments[i + 1 :]:
            got = admin.get(
                f"{PREFIX}/map/changes", params={"from": start.isoformat(), "to": stop.isoformat()}
            )
            assert got.status_code == 200, got.text
            assert listed(got.json()) == expected_changes(before, after)

    start, stop = snapshots["imported"][0], snapshots["edited"][0]
    doc = admin.get(
        f"{PREFIX}/map/changes", params={"from": start.isoformat(), "to": stop.isoformat()}
    ).json()
    parts = next(r for r in doc["results"] if r["id"] == "parts")
    assert parts["change"] == "changed"
    assert parts["before"]["name"] == "Machined parts"
    assert parts["after"]["name"] == "Machined parts v2"
    assert parts["changed_by"] == "Lead of make"  # a name, not an email
    assert parts["source"] == "api"
    assert start <= datetime.fromisoformat(parts["changed_at"]) <= stop
    link = next(r for r in doc["links"] if r["result_id"] == "jigs")
    assert (link["change"], link["changed_by"]) == ("appeared", "Lead of pack")
    assert link["after"]["state"] == "confirmed"
    gone = next(r for r in doc["results"] if r["id"] == "scrap-report")
    assert (gone["change"], gone["after"], gone["changed_by"]) == (
        "went_away",
        None,
        "Lead of make",
    )

    start, stop = snapshots["edited"][0], snapshots["replaced"][0]
    doc = admin.get(
        f"{PREFIX}/map/changes", params={"from": start.isoformat(), "to": stop.isoformat()}
    ).json()
    audit_unit = next(r for r in doc["units"] if r["id"] == "audit")
    assert audit_unit["after"]["name"] == "Internal audit"
    assert (audit_unit["changed_by"], audit_unit["source"]) == ("cli:importer", "import")

    # Paged one row of each kind at a time, every difference comes exactly once.
    start, stop = snapshots["imported"][0], snapshots["replaced"][0]
    whole = admin.get(
        f"{PREFIX}/map/changes", params={"from": empty.isoformat(), "to": stop.isoformat()}
    ).json()
    paged: dict[str, list[Any]] = {"units": [], "results": [], "links": []}
    url: str | None = f"{PREFIX}/map/changes?" + str(
        httpx.QueryParams({"from": empty.isoformat(), "to": stop.isoformat(), "limit": 1})
    )
    while url:
        page = admin.get(url).json()
        for key in paged:
            paged[key] += page[key]
        url = page["next"]
    assert paged == {key: whole[key] for key in paged}
    assert len(paged["units"]) == whole["total"]["units"] == len(org.units)
    # The two moments in either order give the same differences.
    swapped = admin.get(
        f"{PREFIX}/map/changes",
        params={"from": stop.isoformat(), "to": start.isoformat(), "limit": 5000},
    )
    forward = admin.get(
        f"{PREFIX}/map/changes",
        params={"from": start.isoformat(), "to": stop.isoformat(), "limit": 5000},
    )
    assert swapped.status_code == 200 and swapped.json()["total"] == forward.json()["total"]


def test_the_unit_page_says_what_changed_who_and_when(
    api: tuple[Valuechain, Any], tmp_path: Path
) -> None:
    vc, sign_in = api
    import_bundle(vc, write_bundle(tmp_path / "b", organisation()), actor=IMPORTER)
    make_account(vc, "p-make@example.org", AccountRole.LEAD, person_id="p-make")
    make_account(vc, "viewer@example.org", AccountRole.VIEWER)
    make = sign_in("p-make@example.org")
    assert (
        make.put(
            f"{PREFIX}/units/make/results/parts",
            json={"name": "Machined parts v2", "kind": "intermediate"},
        ).status_code
        == 200
    )
    viewer = sign_in("viewer@example.org")
    unit = viewer.get("/units/make")
    assert unit.status_code == 200
    assert 'href="/units/make/history"' in unit.text
    page = viewer.get("/units/make/history")
    assert page.status_code == 200, page.text
    body = page.text
    row = body[body.index("result Machined parts v2") :]
    row = row[: row.index("</tr>")]
    assert "Changed" in row and "name" in row
    assert "Lead of make" in row and "p-make@example.org" not in body
    assert datetime.now(UTC).strftime("%Y-%m-%d") in row
    # The import's links to make's results are there too, named by names.
    assert "Packing &amp; &lt;Boxes&gt; consumes Machined parts v2" in body
    assert viewer.get("/units/nobody/history").status_code == 404


def test_erasing_a_person_erases_them_as_who_changed_the_map(
    api: tuple[Valuechain, Any], tmp_path: Path
) -> None:
    vc, sign_in = api
    import_bundle(vc, write_bundle(tmp_path / "b", organisation()), actor=IMPORTER)
    make_account(vc, "p-make@example.org", AccountRole.LEAD, person_id="p-make")
    make = sign_in("p-make@example.org")
    assert make.post(
        f"{PREFIX}/units/make/results", json={"id": "jigs", "name": "Jigs", "kind": "byproduct"}
    ).status_code in (200, 201)
    exported = person.export_person(vc, "p-make", IMPORTER)
    assert [r["id"] for r in exported["result_history"]] == ["jigs"]
    person.erase_person(vc, "p-make", IMPORTER)
    with vc.engine.connect() as conn:
        labels = {
            label
            for table in (UNIT_HISTORY, RESULT_HISTORY, LINK_HISTORY)
            for label in conn.execute(
                select(table.c.changed_by).where(table.c.org_id == vc.org_id)
            ).scalars()
        }
    assert "p-make@example.org" not in labels
    assert any(label and label.startswith("erased-") for label in labels)
    assert "cli:importer" in labels


def test_the_migration_takes_the_stored_map_as_valid_since_the_last_import(
    fresh_url: str,
) -> None:
    from alembic import command

    engine = make_engine(fresh_url, migrate=False, create=True)
    imported = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    with engine.begin() as conn:
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0018_link_states")
        conn.execute(text("INSERT INTO organisations (slug, name) VALUES ('o', 'o')"))
        org_id = conn.execute(text("SELECT id FROM organisations")).scalar_one()
        conn.execute(text(
            "INSERT INTO units (org_id, id, name, kind) VALUES (:o, 'a', 'A', 'team'),"
            " (:o, 'x', 'X', 'external_customer')"), {"o": org_id})  # fmt: skip
        conn.execute(text(
            "INSERT INTO results (org_id, id, unit_id, name, kind) VALUES"
            " (:o, 'r', 'a', 'R', 'finished')"), {"o": org_id})  # fmt: skip
        conn.execute(text(
            "INSERT INTO links (org_id, result_id, customer_id, relation) VALUES"
            " (:o, 'r', 'x', 'pays')"), {"o": org_id})  # fmt: skip
        from valuechain.store.tables import AuditEventRow

        events = AuditEventRow.__table__
        for i, (at, outcome) in enumerate(
            [(imported - timedelta(days=9), "success"), (imported, "success"),
             (imported + timedelta(days=1), "failed")]
        ):  # fmt: skip
            conn.execute(
                events.insert().values(
                    org_id=org_id, id=f"e{i}", at=at, actor="cli:x", action="import",
                    outcome=outcome,
                )
            )  # fmt: skip
    with engine.begin() as conn:
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    vc = Valuechain(engine, "o")
    from valuechain.services import history

    before = history.map_as_of(vc, imported - timedelta(seconds=1), 0, 10)
    since = history.map_as_of(vc, imported, 0, 10)
    assert before["total"] == {"units": 0, "results": 0, "links": 0}
    assert since["total"] == {"units": 2, "results": 1, "links": 1}
    with engine.connect() as conn:
        sources = set(conn.execute(select(LINK_HISTORY.c.source)).scalars())
    assert sources == {"migration"}
    # The next change closes the backfilled version.
    org = vc.read_map()
    org.results[0] = type(org.results[0])("r", "a", "R2", org.results[0].kind)
    vc.write_map(org, by="cli:y")
    doc = history.changes(vc, imported, datetime.now(UTC), 0, 10)
    assert [(r["id"], r["change"], r["changed_by"]) for r in doc["results"]] == [
        ("r", "changed", "cli:y")
    ]
    engine.dispose()


def test_connect_pairs_each_month_with_whom_the_relationship_served_then(
    vc: Valuechain,
) -> None:
    """Web stopped buying pumps in January 2025 (a link removed then): Planning's
    2024 scores are paired with both customers' outcomes, its 2025 scores with
    Retail's alone, as the map was in each month."""
    from scipy import stats

    from tests.connect_data import organisation as connect_organisation
    from valuechain.services.connect import connect
    from valuechain.services.transaction import writing
    from valuechain.store import organisation as map_store

    org = connect_organisation(7, planted=True, months=24)
    vc.write_map(org)
    began, stopped = datetime(2023, 12, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)
    tables = (UNIT_HISTORY, RESULT_HISTORY, LINK_HISTORY)
    with vc.engine.begin() as conn:  # the map as imported in December 2023
        for table in tables:
            conn.execute(table.update().where(table.c.org_id == vc.org_id).values(valid_from=began))
    with writing(vc) as conn:
        map_store.delete_link(conn, vc.org_id, ("pumps", "web", "pays"), by="cli:test")
    with vc.engine.begin() as conn:  # ... and the link removed in January 2025
        conn.execute(
            LINK_HISTORY.update()
            .where(LINK_HISTORY.c.org_id == vc.org_id, LINK_HISTORY.c.valid_from > began)
            .values(valid_from=stopped)
        )
        conn.execute(
            LINK_HISTORY.update()
            .where(LINK_HISTORY.c.org_id == vc.org_id, LINK_HISTORY.c.valid_to.is_not(None))
            .values(valid_to=stopped)
        )
    vc.forget_cached_chain()
    row = next(
        r for r in connect(vc)["relationships"] if (r["provider"], r["customer"]) == ("plan", "asm")
    )
    assert row["external"] == ["retail"]  # today's line of sight
    satisfaction = next(t for t in row["over_time"] if t["metric"] == "satisfaction")
    by_month: dict[str, dict[str, float]] = {}
    for o in org.outcomes:
        if o.metric == "satisfaction":
            by_month.setdefault(o.period, {})[o.unit_id] = o.value
    scores: dict[str, list[float]] = {}
    for r in org.responses:
        if r.rated_id == "plan":
            scores.setdefault(r.submitted_on.strftime("%Y-%m"), []).append(r.answers[0].score)
    months = sorted(scores)
    x = [float(np.mean(scores[m])) for m in months]
    then = [
        float(np.mean([by_month[m]["retail"], by_month[m]["web"]]))
        if m < "2025-01"
        else by_month[m]["retail"]
        for m in months
    ]
    today = [by_month[m]["retail"] for m in months]
    ref = stats.pearsonr(x, then)
    assert satisfaction["n"] == 24
    assert satisfaction["r"] == pytest.approx(ref.statistic, abs=1e-6)
    assert abs(stats.pearsonr(x, today).statistic - ref.statistic) > 1e-6
