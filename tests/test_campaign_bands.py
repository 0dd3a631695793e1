"""Response-rate bands under attack: a solver that holds every band a lead (and every
other lead, and an admin) may see, before and after any single answer, enumerates
every vector of respondent counts consistent with them and checks that no group, and
no union of groups, with fewer than the threshold respondents or non-respondents is
narrowed to an exact count. Hypothesis draws the invitation sizes and the groups; the
solver tries every response count. The issue's example (4 and 6 invited) runs by hand
and against a real server on loopback."""

from __future__ import annotations

import functools
import itertools
import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.browser.conftest import serving
from tests.signin import PASSWORD, make_account
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.domain.campaign import rate_band
from valuechain.services import campaign
from valuechain.web.app import create_app

Group = tuple[str, str, int]  # provider, customer, invited
Vector = tuple[int, ...]


def seen(groups: Sequence[Group], ks: Vector, threshold: int) -> str:
    """Everything any reader is shown for these counts: the admin's view and every
    unit's lead's view (colluding), as one comparable string."""
    counts = tuple((p, c, n, k) for (p, c, n), k in zip(groups, ks, strict=True))
    units = sorted({u for p, c, _ in groups for u in (p, c)})
    views = [shown_for(counts, threshold)]
    views += [shown_for(tuple(r for r in counts if u in (r[0], r[1])), threshold) for u in units]
    return "\n".join(views)


@functools.lru_cache(maxsize=100_000)
def shown_for(counts: tuple[tuple[str, str, int, int], ...], threshold: int) -> str:
    """:func:`campaign.rates` as a comparable string (a unit's view repeats often)."""
    return json.dumps(campaign.rates(counts, threshold), sort_keys=True)


def leaks(invited: Sequence[int], candidates: Sequence[Vector], threshold: int) -> list[str]:
    """Every group or union of groups whose count ``candidates`` pin to one value that
    is below the threshold, or leaves fewer than the threshold who did not answer."""
    found = []
    for size in range(1, len(invited) + 1):
        for union in itertools.combinations(range(len(invited)), size):
            people = sum(invited[i] for i in union)
            sums = {sum(k[i] for i in union) for k in candidates}
            if people and len(sums) == 1:
                (value,) = sums
                if value < threshold or people - value < threshold:
                    found.append(f"groups {union}: exactly {value} of {people}")
    return found


def attack(groups: Sequence[Group], threshold: int) -> list[str]:
    """What the bands give away: the solver's findings with the bands, less what it
    finds with nothing shown at all (knowing that one answer came in tells that a
    group of one answered, whatever is shown)."""
    known = solve(groups, threshold, lambda _: "")
    return [leak for leak in solve(groups, threshold, None) if leak not in known]


def solve(
    groups: Sequence[Group], threshold: int, show: Callable[[Vector], str] | None
) -> list[str]:
    """Solve for every possible truth, one snapshot and two snapshots around one answer."""
    invited = [n for _, _, n in groups]
    vectors = list(itertools.product(*(range(n + 1) for n in invited)))
    view = {k: show(k) if show else seen(groups, k, threshold) for k in vectors}
    alike: dict[str, list[Vector]] = defaultdict(list)
    for k in vectors:
        alike[view[k]].append(k)
    found = [f"snapshot: {leak}" for ks in alike.values() for leak in leaks(invited, ks, threshold)]
    # Before and after one answer in any group: (what was seen, what is seen) is all
    # the reader has; every (truth, group that answered) giving that pair is possible.
    pairs: dict[tuple[str, str], list[tuple[Vector, int]]] = defaultdict(list)
    for k in vectors:
        for h, n in enumerate(invited):
            if k[h] < n:
                answered = (*k[:h], k[h] + 1, *k[h + 1 :])
                pairs[(view[k], view[answered])].append((k, h))
    for possible in pairs.values():
        before = [k for k, _ in possible]
        after = [(*k[:h], k[h] + 1, *k[h + 1 :]) for k, h in possible]
        found += [f"before an answer: {leak}" for leak in leaks(invited, before, threshold)]
        found += [f"after an answer: {leak}" for leak in leaks(invited, after, threshold)]
    return found


def test_the_issue_example_4_and_6_invited_gives_nothing_away() -> None:
    """The provider's total minus one group's band gave the other group's exact count,
    and every single answer moved the provider's band."""
    assert attack([("make", "pack", 4), ("make", "ctrl", 6)], 5) == []


def test_two_groups_of_seven_and_three_give_nothing_away() -> None:
    assert attack([("make", "pack", 7), ("make", "ctrl", 3)], 5) == []


GROUPS = st.lists(
    st.tuples(
        st.sampled_from(["make", "ship"]),
        st.sampled_from(["pack", "ctrl", "sell"]),
        st.integers(0, 16),
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda g: (g[0], g[1]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(groups=GROUPS, threshold=st.integers(3, 5))
def test_no_combination_of_shown_bands_pins_a_small_group(
    groups: list[Group], threshold: int
) -> None:
    assert attack(groups, threshold) == []


@given(invited=st.integers(0, 300), threshold=st.integers(3, 10), data=st.data())
def test_a_band_holds_the_true_rate(invited: int, threshold: int, data: Any) -> None:
    responded = data.draw(st.integers(0, invited))
    band = rate_band(invited, responded, threshold)
    if band.suppressed:
        assert band.low is None and band.high is None
        return
    assert band.low is not None and band.high is not None
    assert band.low <= responded / invited <= band.high
    assert responded / invited < band.high or band.high == 1


# -- against a real server: a lead watches while the customers answer one by one -----


@pytest.fixture
def watched(vc: Valuechain, smtp_server: Any) -> Iterator[tuple[str, str, Any]]:
    """make → pack (4 people) and make → ctrl (6 people) invited; make's lead signed in
    to a real server on loopback."""
    from tests.builders import chain_map
    from valuechain.domain.person import Person, Role

    org_map = chain_map()
    org_map.people = [
        Person(f"p-pack{i}", f"Packer {i}", f"pack{i}@example.org", "pack", Role.MEMBER)
        for i in range(4)
    ] + [
        Person(f"p-ctrl{i}", f"Controller {i}", f"ctrl{i}@example.org", "ctrl", Role.MEMBER)
        for i in range(6)
    ]
    org_map.people.append(Person("p-lead", "Lead", "lead@example.org", "make", Role.LEAD))
    vc.write_map(org_map)
    make_account(vc, "lead@example.org", AccountRole.LEAD, person_id="p-lead")
    campaign.create_campaign(
        vc, "c1", instrument="pulse", relationships=[("make", "pack"), ("make", "ctrl")]
    )
    campaign.invite(vc, "c1")
    with serving(lambda _url: create_app(vc)) as url:
        answer = httpx.post(
            f"{url}/api/v1/session", json={"email": "lead@example.org", "password": PASSWORD}
        )
        assert answer.status_code == 201, answer.text
        yield url, answer.json()["token"], smtp_server


def test_a_lead_watching_every_answer_learns_no_small_groups_count(
    watched: tuple[str, str, Any],
) -> None:
    from tests.test_campaign import full_answers, tokens_in
    from valuechain.domain.instrument import PULSE

    url, token, inbox = watched
    order = [f"ctrl{i}@example.org" for i in range(6)] + [f"pack{i}@example.org" for i in range(4)]
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as lead:

        def look() -> dict[str, Any]:
            answer = lead.get("/api/v1/units/make/campaigns")
            assert answer.status_code == 200, answer.text
            (rates,) = answer.json()["campaigns"]
            assert "responded" not in json.dumps(rates)
            return dict(rates)

        views = [look()]
        for address in order:
            link = tokens_in(inbox, address)[0]
            stored = httpx.post(f"{url}/api/v1/survey/{link}", json=_body(full_answers(PULSE)))
            assert stored.status_code == 201, stored.text
            views.append(look())
    groups = [(g["provider"], g["customer"], g["invited"]) for g in views[0]["groups"]]
    assert sorted(groups) == [("make", "ctrl", 6), ("make", "pack", 4)]
    # Every truth the lead could not tell apart from what the server showed.
    vectors = list(itertools.product(*(range(n + 1) for _, _, n in groups)))
    for answered, view in enumerate(views):
        truth = {"ctrl": min(answered, 6), "pack": max(0, answered - 6)}
        same = [k for k in vectors if _rates(groups, k) == _shown(view)]
        assert tuple(truth[c] for _, c, _ in groups) in same
        assert leaks([n for _, _, n in groups], same, 5) == []


def _shown(view: dict[str, Any]) -> list[str]:
    return [r["rate"] for r in [*view["groups"], *view["providers"], view["total"]]]


def _rates(groups: Sequence[Group], ks: Vector) -> list[str]:
    counts = [(p, c, n, k) for (p, c, n), k in zip(groups, ks, strict=True)]
    return _shown(campaign.rates(counts, 5))


def _body(submission: Any) -> dict[str, Any]:
    answers = [{"item": k, "score": v[0]} for k, v in submission.scores.items()]
    return {"answers": answers, "comment": submission.comment}
