"""Confidentiality over time: a unit lead and a unit member, each with their own
account against a real server on loopback, read every number they may read before
and after every event that changes data, and keep every reading.

Events: one survey answer to an open campaign (then the rest of its answers), the
campaign closing, an import of a new campaign, a refused late import into a read
campaign, the threshold raised by an admin (and a refused attempt to lower it).

What they read: every JSON answer of the API routes about their units that they may
call (scores by provider, relationship and dimension for every campaign, drivers,
change, reports, relationships, comments, the watermelon check, campaign rates) and
the chart data of the provider dashboards. Checked for every two readings of one
account (not only neighbours):

- every cell with a count ``n`` shown in both: ``n`` changed by 0 or by at least
  the threshold, and when ``n`` did not change neither did its mean — so a
  difference of ``n · mean`` is a sum over 0 or at least threshold respondents;
- a cell shown in the later reading only has ``n`` of at least the threshold;
- no answer carries a respondent count of a response rate, and a suppressed rate
  has no band;
- the score and driver cells of all readings together pass the rank attack of
  ``tests/test_confidentiality_attack.py`` (no combination of shown cells, across
  all readings, lives on a group below the threshold).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

import tests.test_confidentiality_attack as attack_suite
from tests.browser.conftest import serving
from tests.signin import PASSWORD, make_account
from tests.test_bundle_late import COLUMNS, ITEMS
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.domain.instrument import SERVICE_FACTORS
from valuechain.domain.person import Person, Role
from valuechain.services import measure
from valuechain.services.bundle import BundleError, import_bundle
from valuechain.services.errors import ValuechainError
from valuechain.web.app import create_app

OWN, SUPPLIER = attack_suite.OWN, attack_suite.SUPPLIER
# The units the lead may read that anyone rates (their customers' own scores are empty).
LEAD_UNITS = [OWN, SUPPLIER]
RELATIONSHIPS = [(OWN, "c1"), (OWN, "c2"), (SUPPLIER, OWN)]
SURVEY = "2026-q3"  # run with invitations during the test
IMPORTED = "2026-q4"  # imported during the test
ASKED = [f"asked{i}@example.org" for i in range(7)]  # people of c1, invited
LINK = re.compile(r"/s/([A-Za-z0-9_-]+)")
LATEST = re.compile(r"latest campaign <strong>([^<]*)</strong>")
SPEC = re.compile(r'<script type="application/json" id="spec-[^"]*">(.*?)</script>', re.S)
# Keys that would give a response rate's exact count.
COUNT_KEYS = {"responded", "respondents", "answered", "responses"}
# Fields that say what a shown object is about.
IDENTITY = (
    "campaign",
    "instrument",
    "provider",
    "customer",
    "dimension",
    "unit",
    "unit_id",
    "id",
    "kind",
    "cut",
    "measure",
    "from",
    "to",
    "before",
    "after",
    "item",
    "metric",
    "period",
    "key",
    "outcome",
)


# -- reading everything --------------------------------------------------------------


def routes(units: list[str]) -> list[str]:
    """The API routes and pages with numbers about ``units`` and their relationships
    (the scores are read by the attack suite's harvest, every cut and campaign)."""
    found: list[str] = ["/api/v1/relationships"]
    for unit in units:
        for tail in ("drivers", "change", "report", "comments", "watermelon", "campaigns"):
            found.append(f"/api/v1/units/{unit}/{tail}")
        found.append(f"/units/{unit}/dashboard")
    for provider, customer in RELATIONSHIPS:
        if OWN in (provider, customer) or provider in units:
            found.append(f"/api/v1/relationships/{provider}/{customer}")
            found.append(f"/api/v1/relationships/{provider}/{customer}/report")
    return found


def read(client: httpx.Client, token: str, paths: list[str]) -> dict[str, Any]:
    """Every answer the account gets: JSON, or the dashboard's chart data."""
    headers = {"Authorization": f"Bearer {token}"}
    seen: dict[str, Any] = {}
    for path in paths:
        answer = client.get(path, headers=headers)
        if answer.status_code != 200:
            assert answer.status_code in (403, 404), (path, answer.status_code, answer.text)
            continue
        if path.startswith("/api/"):
            seen[path] = answer.json()
        else:
            # A dashboard's charts are about the campaign the page names.
            shows = LATEST.search(answer.text)
            seen[path] = {
                "campaign": shows.group(1) if shows else "",
                "charts": [json.loads(spec) for spec in SPEC.findall(answer.text)],
            }
    return seen


@dataclass(frozen=True)
class Cell:
    n: int | None
    mean: float | None


def label(node: dict[str, Any]) -> str:
    """What an object is about: its identifying text fields (never a status or a
    wording, which may change while the object stays the same)."""
    return ",".join(f"{k}={node[k]}" for k in IDENTITY if isinstance(node.get(k), str))


def cells(document: Any, where: str = "") -> Iterator[tuple[str, Cell]]:
    """Every object with a count ``n`` in a document, named by its path: dict keys
    and what each object on the way is about (its identifying fields)."""
    if isinstance(document, dict):
        where = f"{where}{{{label(document)}}}"
        if "n" in document and (document["n"] is None or isinstance(document["n"], int)):
            mean = document.get("mean")
            yield where, Cell(document["n"], mean if isinstance(mean, float | int) else None)
        for key, value in document.items():
            if isinstance(value, dict | list):
                yield from cells(value, f"{where}/{key}")
    elif isinstance(document, list):
        seen: dict[str, int] = {}
        for element in document:
            name = label(element) if isinstance(element, dict) else ""
            seen[name] = seen.get(name, -1) + 1  # the same again: number it
            yield from cells(element, f"{where}[{seen[name]}]")


def all_cells(reading: dict[str, Any]) -> dict[str, Cell]:
    found: dict[str, Cell] = {}
    for path, document in reading.items():
        for where, cell in cells(document, path):
            found[where] = cell
    return found


def no_exact_rates(reading: dict[str, Any]) -> None:
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            assert not COUNT_KEYS & set(node), node
            if node.get("suppressed") is True and "rate" in node:
                assert node.get("rate_low") is None and node.get("rate_high") is None, node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path, document in reading.items():
        if path.endswith("/campaigns"):
            walk(document)


def differences(before: dict[str, Cell], after: dict[str, Cell], threshold: int) -> list[str]:
    """What a reader learns from two readings about fewer than ``threshold`` people."""
    found = []
    for where, cell in after.items():
        earlier = before.get(where)
        if cell.n is None or cell.n == 0:
            continue
        if earlier is None or earlier.n is None:
            if cell.n < threshold:
                found.append(f"{where}: appears with n = {cell.n}")
            continue
        change = abs(cell.n - earlier.n)
        if 0 < change < threshold:
            found.append(f"{where}: n {earlier.n} → {cell.n}")
        moved = cell.mean is not None and earlier.mean is not None and cell.mean != earlier.mean
        if change == 0 and moved:
            found.append(f"{where}: same n = {cell.n}, mean {earlier.mean} → {cell.mean}")
    return found


# -- the world ------------------------------------------------------------------------


@dataclass
class Timeline:
    vc: Valuechain
    client: httpx.Client
    tokens: dict[str, str]  # role -> bearer token
    truths: list[attack_suite.Truth]
    readings: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)
    observed: list[attack_suite.Observation] = field(default_factory=list)
    campaigns: list[str] = field(default_factory=lambda: list(attack_suite.CAMPAIGNS))

    def read_all(self, event: str) -> None:
        """Both accounts read everything; the lead's score and driver cells are kept
        with whom they are really about (the ground truth) for the rank attack."""
        lead = read(self.client, self.tokens["lead"], routes(LEAD_UNITS))
        scores = observe(self.client, self.tokens["lead"], self.truths, self.campaigns)
        # The harvested score and driver cells join the lead's reading as documents.
        lead["harvest"] = [
            {
                "kind": cell.kind,
                "campaign": cell.campaign,
                "provider": cell.provider,
                "customer": cell.customer,
                "dimension": cell.dimension,
                "n": cell.n,
                "mean": cell.mean,
            }
            for cell, _ in scores
        ]
        self.readings.setdefault("lead", []).append((event, lead))
        member = read(self.client, self.tokens["member"], routes([OWN]))
        self.readings.setdefault("member", []).append((event, member))
        self.observed += scores


def observe(
    client: httpx.Client, token: str, truths: list[attack_suite.Truth], campaigns: list[str]
) -> list[attack_suite.Observation]:
    """The attack suite's harvest (every score cut of every campaign, the drivers) with
    the campaigns of this test and the threshold in force."""
    saved = attack_suite.CAMPAIGNS, attack_suite.THRESHOLD
    attack_suite.CAMPAIGNS = campaigns
    attack_suite.THRESHOLD = measure_threshold(client, token)
    try:
        return attack_suite.observe(
            client,  # type: ignore[arg-type]  # httpx.Client has the same get()
            {"Authorization": f"Bearer {token}"},
            LEAD_UNITS,
            truths,
        )
    finally:
        attack_suite.CAMPAIGNS, attack_suite.THRESHOLD = saved


def measure_threshold(client: httpx.Client, token: str) -> int:
    answer = client.get(f"/api/v1/units/{OWN}/scores", headers={"Authorization": f"Bearer {token}"})
    threshold: int = answer.json()["threshold"]
    return threshold


@pytest.fixture
def timeline(vc: Valuechain, smtp_server: Any) -> Iterator[Timeline]:
    org, truths = attack_suite.organisation()
    org.people += [
        Person("p-member", "Mo Member", "member@example.org", OWN, Role.MEMBER),
        *[
            Person(f"p-asked{i}", f"Asked {i}", email, "c1", Role.MEMBER)
            for i, email in enumerate(ASKED)
        ],
    ]
    vc.write_map(org)
    make_account(vc, "admin@example.org", AccountRole.ADMIN)
    make_account(vc, "lead@example.org", AccountRole.LEAD, person_id="p-lead")
    make_account(vc, "member@example.org", AccountRole.MEMBER, person_id="p-member")
    with (
        serving(lambda _url: create_app(vc)) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        tokens = {}
        for role in ("admin", "lead", "member"):
            answer = client.post(
                "/api/v1/session", json={"email": f"{role}@example.org", "password": PASSWORD}
            )
            assert answer.status_code == 201, answer.text
            tokens[role] = answer.json()["token"]
        yield Timeline(vc, client, tokens, truths)


def answers(rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """A full service_factors answer and each dimension's score (the truth)."""
    given: list[dict[str, Any]] = [
        {"item": item.key, "score": float(rng.randint(1, 7))} for item in SERVICE_FACTORS.items
    ]
    dims: dict[str, list[float]] = {}
    for item, answer in zip(SERVICE_FACTORS.items, given, strict=True):
        dims.setdefault(item.dimension, []).append(answer["score"])
    return given, {d: float(np.mean(v)) for d, v in dims.items()}


def import_rows(ids: list[str], campaign: str, customer: str) -> list[list[str]]:
    rows = []
    for rid in ids:
        pick = random.Random(rid)
        for item in ITEMS:
            score = str(pick.randint(1, 7))
            rows.append(
                [rid, campaign, "service_factors", customer, OWN, "2026-06-01", item, "", score, ""]
            )
    return rows


def truth_of_rows(rid: str, campaign: str, customer: str) -> attack_suite.Truth:
    pick = random.Random(rid)
    dims: dict[str, list[float]] = {}
    for item in SERVICE_FACTORS.items:
        dims.setdefault(item.dimension, []).append(float(pick.randint(1, 7)))
    return attack_suite.Truth(
        rid, campaign, OWN, customer, {d: float(np.mean(v)) for d, v in dims.items()}
    )


def write_responses(folder: Path, rows: list[list[str]]) -> Path:
    import csv

    folder.mkdir(parents=True)
    with (folder / "responses.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    (folder / "units.csv").write_text("id,name,kind\n", encoding="utf-8")
    return folder


# -- the test -------------------------------------------------------------------------


def test_no_two_readings_reveal_a_small_group(
    timeline: Timeline, smtp_server: Any, tmp_path: Path
) -> None:
    t, admin = timeline, {"Authorization": f"Bearer {timeline.tokens['admin']}"}
    t.read_all("start")

    # A campaign with invitations: c1's seven people rate ops.
    created = t.client.post(
        "/api/v1/campaigns",
        headers=admin,
        json={
            "id": SURVEY,
            "instrument": SERVICE_FACTORS.key,
            "relationships": [{"provider": OWN, "customer": "c1"}],
        },
    )
    assert created.status_code == 201, created.text
    t.campaigns.append(SURVEY)
    assert t.client.post(f"/api/v1/campaigns/{SURVEY}/invite", headers=admin).status_code == 200
    links = [LINK.findall(m.get_content())[0] for email in ASKED for m in smtp_server.to(email)]
    assert len(links) == len(ASKED)
    rng = random.Random(13)

    def answer(link: str, number: int) -> None:
        given, dims = answers(rng)
        stored = t.client.post(f"/api/v1/survey/{link}", json={"answers": given})
        assert stored.status_code == 201, stored.text
        t.truths.append(attack_suite.Truth(f"{SURVEY}-{OWN}-c1-{number}", SURVEY, OWN, "c1", dims))

    answer(links[0], 0)
    t.read_all("one survey answer, open campaign")
    for number, link in enumerate(links[1:6], start=1):
        answer(link, number)
    t.read_all("six survey answers, open campaign")

    closed = t.client.post(f"/api/v1/campaigns/{SURVEY}/close", headers=admin)
    assert closed.status_code == 200, closed.text
    late = t.client.post(f"/api/v1/survey/{links[6]}", json={"answers": answers(rng)[0]})
    assert late.status_code == 410, late.text
    t.read_all("campaign closed, a late survey answer refused")

    # An import of a new campaign: six respondents from c1, two from c2.
    new = [(f"{IMPORTED}-{OWN}-c1-{i}", "c1") for i in range(6)]
    new += [(f"{IMPORTED}-{OWN}-c2-{i}", "c2") for i in range(2)]
    rows = [row for rid, customer in new for row in import_rows([rid], IMPORTED, customer)]
    import_bundle(t.vc, write_responses(tmp_path / "new", rows))
    t.truths += [truth_of_rows(rid, IMPORTED, customer) for rid, customer in new]
    t.campaigns.append(IMPORTED)
    t.read_all("new campaign imported")

    # One late answer into a campaign the lead has read: refused, nothing moves.
    with pytest.raises(BundleError, match="'2026-q2', a campaign already stored"):
        import_bundle(
            t.vc, write_responses(tmp_path / "late", import_rows(["late-1"], "2026-q2", "c1"))
        )
    t.read_all("late import refused")

    # The admin raises the threshold; lowering it again is refused.
    measure.set_threshold(t.vc, 6)
    with pytest.raises(ValuechainError, match="cannot be lowered"):
        measure.set_threshold(t.vc, 5)
    t.read_all("threshold raised to 6")

    assert_nothing_small_learned(t)


def assert_nothing_small_learned(t: Timeline) -> None:
    threshold = attack_suite.THRESHOLD  # the lowest threshold in force at any reading
    problems = []
    for role, readings in t.readings.items():
        assert readings, role
        for reading in readings:
            no_exact_rates(reading[1])
        flat = [(event, all_cells(reading)) for event, reading in readings]
        for i, (first, before) in enumerate(flat):
            for second, after in flat[i + 1 :]:
                problems += [
                    f"{role}, {first} → {second}: {p}"
                    for p in differences(before, after, threshold)
                ]
    assert problems == []
    # The readings were worth checking: the lead saw each new campaign's numbers; the
    # member reads no survey number anywhere (docs/access.md: members get summaries,
    # not results; a relationship page's topics once gave them means).
    lead = [all_cells(reading) for _, reading in t.readings["lead"]]
    member = [all_cells(reading) for _, reading in t.readings["member"]]
    assert sum(1 for c in lead[0].values() if c.n) >= 20
    assert member and not any(c.n for cells in member for c in cells.values())
    for campaign in (SURVEY, IMPORTED):
        assert any(campaign in where and c.n for cells in lead for where, c in cells.items())
    assert attack_suite.attack(t.observed, threshold=threshold) == []


def test_the_reading_check_has_teeth() -> None:
    """The comparison finds what the late import of issue 13 would have shown: a
    cell moving by one respondent, a cell appearing small, a mean moving at the same
    n (a replaced answer); a whole campaign's worth of respondents passes."""
    before = {"a": Cell(7, 4.0), "b": Cell(20, 5.0), "c": Cell(None, None), "d": Cell(9, 3.0)}
    after = {
        "a": Cell(8, 4.1),  # one late answer: 8 · 4.1 − 7 · 4.0 is that person's score
        "b": Cell(26, 5.2),  # six more: allowed
        "c": Cell(3, 2.0),  # a suppressed cell shown with 3
        "d": Cell(9, 3.5),  # a replaced answer
        "e": Cell(4, 1.0),  # a new cell of 4
        "f": Cell(5, 1.0),  # a new cell of 5: allowed
    }
    found = differences(before, after, 5)
    assert [f.split(":")[0] for f in found] == ["a", "c", "d", "e"]


def test_the_threshold_is_lowered_only_before_results_are_published(vc: Valuechain) -> None:
    """Lowering it from 5 to 3 after readings at 5 let the attack suite's lead
    isolate single respondents (readings at both thresholds together): refused once
    any response is published; raising stays possible, and so does lowering an
    organisation without results."""
    measure.set_threshold(vc, 7)
    measure.set_threshold(vc, 5)  # nothing published yet
    org, _ = attack_suite.organisation()
    vc.write_map(org)
    with pytest.raises(ValuechainError, match="cannot be lowered from 5 to 3"):
        measure.set_threshold(vc, 3)
    assert measure.threshold(vc) == 5
    measure.set_threshold(vc, 6)
    assert measure.threshold(vc) == 6
