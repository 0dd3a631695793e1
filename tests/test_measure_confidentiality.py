"""Confidentiality: worked examples, then property tests that build random
respondent populations and cut families and attack the published cells: every
difference, every parent minus its published children, and every group of fewer
than k respondents whose sum a reader could compute from published numbers."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from valuechain.analytics.confidentiality import (
    COMMENT_THRESHOLD,
    THRESHOLD,
    Attack,
    Cell,
    Suppression,
    check_threshold,
    protect,
    protect_comments,
)


def cell(key: str, ids: range | list[int] | set[int], measure: str = "") -> Cell:
    return Cell(key, frozenset(ids), measure)


# --- worked examples ----------------------------------------------------------


def test_small_cells_are_suppressed_and_large_disjoint_cells_stay() -> None:
    cells = [
        cell("a", range(0, 5)),
        cell("b", range(5, 9)),
        cell("c", range(9, 30)),
        cell("empty", []),
    ]
    result = protect(cells)
    assert result.suppressed == {"b": Suppression.TOO_FEW}
    assert result.published("a") and result.published("c") and result.published("empty")


def test_provider_total_minus_all_relationships_but_one() -> None:
    # A provider rated by three customers: 8 + 8 + 4 respondents, total 20.
    total = cell("total", range(20))
    first, second, small = (
        cell("first", range(8)),
        cell("second", range(8, 16)),
        cell("small", range(16, 20)),
    )
    result = protect([total, first, second, small])
    # "small" is too few; total − first − second would give it back, so one more
    # relationship goes (the first of the equal-sized ones) and the total stays.
    assert result.suppressed == {"small": Suppression.TOO_FEW, "first": Suppression.COMPLEMENT}


def test_parent_minus_nested_child() -> None:
    parent, child = cell("parent", range(12)), cell("child", range(10))
    assert protect([parent, child]).suppressed == {"child": Suppression.COMPLEMENT}
    roomy = cell("roomy", range(15))
    assert protect([roomy, child]).suppressed == {}


def test_a_chain_of_three_cells() -> None:
    # No pair differs by fewer than 5, but A − B − C + D isolates respondents 0 and 1.
    a = cell("A", list(range(2)) + list(range(10, 30)))
    b = cell("B", range(10, 20))
    c = cell("C", range(20, 30))
    d = cell("D", range(40, 50))
    result = protect([a, b, c, d])
    assert result.suppressed == {"B": Suppression.COMPLEMENT}
    assert result.published("D")


def test_measures_are_not_differenced_against_each_other() -> None:
    cells = [cell("empathy", range(12), "empathy"), cell("reliability", range(10), "reliability")]
    assert protect(cells).suppressed == {}


def test_comments_protect_against_set_differences() -> None:
    # Overlapping, not nested: no sum isolates anyone, but comment lists do.
    a, b = cell("a", range(0, 22)), cell("b", range(2, 40))
    assert protect([a, b]).suppressed == {}
    assert protect([a, b], 5, Attack.SETS).suppressed == {"a": Suppression.COMPLEMENT}
    assert protect_comments([cell("few", range(9))]).suppressed == {"few": Suppression.TOO_FEW}
    assert COMMENT_THRESHOLD == 10 and THRESHOLD == 5


def test_thresholds_are_checked() -> None:
    assert check_threshold(3) == 3 and check_threshold(10) == 10
    for bad in (2, 11, True, 5.0):
        with pytest.raises(ValueError):
            check_threshold(bad)  # type: ignore[arg-type]
    assert check_threshold(30, comments=True) == 30
    with pytest.raises(ValueError):
        protect([cell("a", range(3)), cell("a", range(4))])


# --- attacks ------------------------------------------------------------------


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[Cell], int]:
    """A population of respondents and a family of cuts over it: random groups,
    partitions (relationships of a provider), nested filters and a total."""
    people = draw(st.integers(6, 18))
    k = draw(st.integers(3, 5))
    groups: list[frozenset[int]] = []
    if draw(st.booleans()):
        groups.append(frozenset(range(people)))
    for _ in range(draw(st.integers(0, 2))):  # partitions of everyone or of a subgroup
        base = draw(st.sets(st.integers(0, people - 1), min_size=1))
        parts = draw(st.integers(2, 4))
        label = {i: draw(st.integers(0, parts - 1)) for i in sorted(base)}
        groups.extend(frozenset(i for i in base if label[i] == p) for p in range(parts))
        groups.append(frozenset(base))
    for _ in range(draw(st.integers(0, 5))):  # arbitrary filters, often nested in another
        if groups and draw(st.booleans()):
            parent = sorted(draw(st.sampled_from(groups)))
            groups.append(
                frozenset(draw(st.lists(st.sampled_from(parent), unique=True)) if parent else [])
            )
        else:
            groups.append(frozenset(draw(st.sets(st.integers(0, people - 1)))))
    cells = [Cell(f"c{i}", g) for i, g in enumerate(groups)]
    return cells, k


def published_cells(cells: list[Cell], suppressed: set[object]) -> list[frozenset[int]]:
    return [c.members for c in cells if c.key not in suppressed and c.members]


def derivable_small_groups(published: list[frozenset[int]], k: int) -> list[tuple[int, ...]]:
    """Every group of 1..k−1 respondents whose sum is a linear combination of the
    published sums (its indicator lies in the row space of the incidence matrix)."""
    people = sorted(set().union(*published)) if published else []
    if not people:
        return []
    index = {p: i for i, p in enumerate(people)}
    m = np.zeros((len(published), len(people)))
    for r, members in enumerate(published):
        m[r, [index[p] for p in members]] = 1.0
    _, s, vt = np.linalg.svd(m, full_matrices=False)
    basis = vt[s > 1e-9 * s.max()]
    found = []
    for size in range(1, k):
        for group in combinations(people, size):
            g = np.zeros(len(people))
            g[[index[p] for p in group]] = 1.0
            if np.linalg.norm(g - basis.T @ (basis @ g)) < 1e-7:
                found.append(group)
    return found


ATTACK_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@ATTACK_SETTINGS
@given(tables())
def test_no_published_number_reveals_a_small_group(table: tuple[list[Cell], int]) -> None:
    cells, k = table
    result = protect(cells, k)
    published = published_cells(cells, set(result.suppressed))
    # Read directly.
    assert all(len(p) >= k for p in published)
    # One cell minus another it contains (a filter, a nested cut).
    for a in published:
        for b in published:
            if b < a:
                assert not 0 < len(a - b) < k, (sorted(a), sorted(b))
    # A parent minus any set of its published children that do not overlap.
    for parent in published:
        children = [c for c in published if c < parent]
        for size in range(1, len(children) + 1):
            for chosen in combinations(children, size):
                union = frozenset().union(*chosen)
                if sum(len(c) for c in chosen) == len(union):
                    assert not 0 < len(parent - union) < k
    # Any combination of published sums at all.
    assert derivable_small_groups(published, k) == []


@ATTACK_SETTINGS
@given(tables())
def test_comment_lists_reveal_no_small_group_by_set_operations(
    table: tuple[list[Cell], int],
) -> None:
    cells, k = table
    k = max(k, 3)
    result = protect(cells, k, Attack.SETS)
    published = published_cells(cells, set(result.suppressed))
    signature: dict[int, frozenset[int]] = {}
    for i, members in enumerate(published):
        for person in members:
            signature[person] = signature.get(person, frozenset()) | {i}
    sizes: dict[frozenset[int], int] = {}
    for sig in signature.values():
        sizes[sig] = sizes.get(sig, 0) + 1
    # Every Boolean combination of published lists is a union of these groups.
    assert all(size >= k for size in sizes.values())


@ATTACK_SETTINGS
@given(tables())
def test_no_trivial_over_suppression(table: tuple[list[Cell], int]) -> None:
    cells, k = table
    result = protect(cells, k)
    large = [c for c in cells if c.n >= k]
    for c in large:
        if all(not (c.members & other.members) for other in large if other.key != c.key):
            assert result.published(c.key), (
                "a large cell with no overlapping partner was suppressed"
            )
    # Primary suppression exactly for the small non-empty cells.
    assert {key for key, why in result.suppressed.items() if why is Suppression.TOO_FEW} == {
        c.key for c in cells if 0 < c.n < k
    }
    # A table whose groups are all safe is left alone.
    signature: dict[int, frozenset[object]] = {}
    for c in large:
        for person in c.members:
            signature[person] = signature.get(person, frozenset()) | {c.key}
    sizes: dict[frozenset[object], int] = {}
    for sig in signature.values():
        sizes[sig] = sizes.get(sig, 0) + 1
    if all(size >= k for size in sizes.values()):
        assert all(why is Suppression.TOO_FEW for why in result.suppressed.values())


def test_suppression_is_reproducible() -> None:
    rng = np.random.default_rng(0)
    cells = [
        cell(f"c{i}", set(rng.choice(40, size=int(rng.integers(3, 25)), replace=False).tolist()))
        for i in range(12)
    ]
    assert protect(cells).suppressed == protect(cells).suppressed
