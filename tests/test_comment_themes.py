"""Comments: themes with scikit-learn (TF-IDF + NMF) against a direct scikit-learn
run, and the service's protection (comment threshold over every group offered,
day-only dates, a fresh random order), API included, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer

from tests.signin import make_account, sign_in
from valuechain import Valuechain
from valuechain.analytics.comment import MIN_COMMENTS, comment_themes
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.response import Answer, Response
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services.comment import comments
from valuechain.web.app import create_app

TEXTS = [
    "The weekly plan changed too often",
    "Too many plan changes this month",
    "Plan changes came late again",
    "Tickets wait too long for an answer",
    "Our tickets wait days for a first answer",
    "Slow answer to urgent tickets",
    "Friendly people, plan changes are the problem",
    "Tickets wait, but the people are friendly",
]


def test_themes_match_a_direct_scikit_learn_run() -> None:
    found = comment_themes(TEXTS, themes=2)
    vec = TfidfVectorizer(stop_words="english", ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x = vec.fit_transform(TEXTS)
    model = NMF(n_components=2, init="nndsvd", random_state=0, max_iter=5000, tol=1e-6)
    w = model.fit_transform(x)
    names = vec.get_feature_names_out()
    expected = []
    for row in model.components_:
        top = np.argsort(-row, kind="stable")[:5]
        expected.append(([str(names[i]) for i in top], [float(row[i]) for i in top]))
    got = {t.terms: t.weights for t in found.themes}
    for terms, weights in expected:
        assert np.allclose(got[tuple(terms)], weights, atol=1e-6)
    assert sorted(t.comments for t in found.themes) == sorted(np.bincount(w.argmax(axis=1)))
    plan = next(t for t in found.themes if "plan" in t.terms)
    tickets = next(t for t in found.themes if "tickets" in t.terms)
    assert plan is not tickets
    assert found.assignment[0] == found.themes.index(plan)
    assert found.assignment[3] == found.themes.index(tickets)


def test_too_few_comments_give_no_themes() -> None:
    assert comment_themes(TEXTS[: MIN_COMMENTS - 1]).themes == ()
    assert comment_themes(["a b", "c d", "e f", "g h", "i j", "k l"]).themes == ()


def _org(sizes: dict[str, int]) -> OrganisationMap:
    units = [Unit("prov", "Provider", UnitKind.TEAM)] + [
        Unit(u, u.title(), UnitKind.TEAM) for u in sizes
    ]
    responses = []
    for customer, size in sizes.items():
        for i in range(size):
            responses.append(
                Response(
                    id=f"{customer}-{i}",
                    campaign="c1",
                    instrument="pulse",
                    rater_id=customer,
                    rated_id="prov",
                    submitted_on=date(2026, 5, 1 + i % 20),
                    answers=[Answer("need_now", "need", 3.0)],
                    comments=[("better_next", f"{customer} comment {i} about tickets and plans")],
                )
            )
    return OrganisationMap(units=units, results=[], links=[], people=[], responses=responses)


def test_groups_below_the_comment_threshold_are_suppressed(vc: Valuechain) -> None:
    # 12 + 11 + 4: the provider total minus the two big groups would isolate the 4.
    vc.write_map(_org({"big": 12, "also": 11, "small": 4}))
    found = comments(vc, "prov")
    state = {g["customer"]: g["suppressed"] for g in found["groups"]}
    # "also" goes too: the total minus "big" and "also" would be the 4 of "small".
    assert state == {None: False, "big": False, "also": True, "small": True}
    lists = {
        g["customer"]: {c["text"] for c in g["comments"]}
        for g in found["groups"]
        if not g["suppressed"]
    }
    assert len(lists[None]) == 27 and len(lists[None] - lists["big"]) >= 10
    for group in found["groups"]:
        if group["suppressed"]:
            assert group["comments"] is None
        else:
            assert all(set(c) == {"text", "day"} and len(c["day"]) == 10 for c in group["comments"])


def test_order_is_a_fresh_shuffle(vc: Valuechain) -> None:
    vc.write_map(_org({"big": 30}))
    orders = {
        tuple(c["text"] for c in comments(vc, "prov")["groups"][0]["comments"]) for _ in range(5)
    }
    assert len(orders) > 1
    listed = next(iter(orders))
    assert list(listed) != sorted(listed)


def test_threshold_is_never_below_the_numbers_threshold(vc: Valuechain) -> None:
    vc.write_map(_org({"big": 12}))
    with pytest.raises(Exception, match="comment threshold"):
        comments(vc, "prov", threshold=2)
    assert comments(vc, "prov", threshold=12)["groups"][0]["suppressed"] is False
    assert comments(vc, "prov", threshold=13)["groups"][0]["suppressed"] is True


@pytest.fixture
def client(demo_vc: Valuechain) -> Iterator[TestClient]:
    vc = demo_vc
    make_account(vc)
    with TestClient(create_app(vc)) as c:
        sign_in(c)
        yield c


def test_api_shows_the_demo_themes(client: TestClient) -> None:
    answer = client.get("/api/v1/units/production-planning/comments")
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["campaign"] == "2026-q2" and doc["threshold"] == 10
    assert any("plan" in " ".join(t["terms"]) for t in doc["themes"])
    suppressed = {g["customer"] for g in doc["groups"] if g["suppressed"]}
    assert "maintenance" in suppressed
    assert client.get("/api/v1/units/production-planning/comments?campaign=x").status_code == 404
