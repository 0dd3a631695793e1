"""Confidentiality: which cells of a results table may be shown.

A *cell* is any number (or list of comments) the product would show about a group
of respondents: a provider's mean, a relationship's count, a dimension's
distribution. Each cell names the anonymous response ids it is computed from, so
any overlap between cells — nested cuts, crossing cuts, a filter — is known
exactly. :func:`protect` decides which cells to suppress so that no group of
fewer than ``threshold`` respondents can be read, neither directly nor by
combining published cells:

- **Primary suppression**: a cell with 1 to threshold − 1 respondents.
- **Complementary suppression** for numbers (means, counts, sums of squares,
  distributions: each is a sum over respondents, so published cells can be added
  and subtracted). Split the respondents into *atoms*: groups that belong to
  exactly the same published cells. Every number derivable from published cells
  is a linear combination of atom sums. A group smaller than the threshold is made
  only of atoms smaller than the threshold, so the table is safe exactly when no
  non-zero combination of published cells lives on small atoms alone:
  ``rank(M) = rank(M_L)`` with ``M`` the cell × atom incidence and ``M_L`` its
  columns for atoms of threshold or more. This covers a parent minus a child, a
  provider total minus all its relationships but one, and any longer chain.
- For **comments**, which are recognisable items, set differences and
  intersections of published cells are available too, so every non-empty atom
  must reach the (higher) comment threshold.

While the table is unsafe, one more published cell is suppressed: the one with the
fewest respondents whose suppression reduces the leak (in the input order on
ties), so totals survive and small, less informative cells go first. This is the
greedy heuristic of cell suppression (Cox 1980; Hundepool et al. 2012, ch. 4);
it protects exactly but is not guaranteed to suppress the fewest cells.

Cells are compared only within one ``measure``: different measures (the mean of
empathy, the mean of reliability) are different sums and cannot be subtracted
from each other. Empty cells (no respondents) reveal nobody and stay published.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from valuechain.domain.response import (
    COMMENT_THRESHOLD as COMMENT_THRESHOLD,
)
from valuechain.domain.response import (
    COMMENT_THRESHOLD_MAX as COMMENT_THRESHOLD_MAX,
)
from valuechain.domain.response import THRESHOLD as THRESHOLD
from valuechain.domain.response import THRESHOLD_RANGE as THRESHOLD_RANGE

BoolMatrix = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Cell:
    """One published number (or comment list) and the respondents it is about."""

    key: Hashable
    members: frozenset[Hashable]
    measure: Hashable = ""

    @property
    def n(self) -> int:
        return len(self.members)


class Suppression(StrEnum):
    """Why a cell is not shown."""

    TOO_FEW = "fewer respondents than the threshold"
    UNANIMOUS = "every respondent gave the same answer, so each one's answer would be read"
    COMPLEMENT = "other cells would reveal a smaller group by subtraction"


class Attack(StrEnum):
    """What a reader can do with the published cells."""

    ARITHMETIC = "arithmetic"  # add and subtract numbers
    SETS = "sets"  # compare lists item by item (comments)


@dataclass(frozen=True, slots=True)
class Disclosure:
    """The decision for a table: which cells are suppressed and why."""

    threshold: int
    suppressed: Mapping[Hashable, Suppression]

    def published(self, key: Hashable) -> bool:
        return key not in self.suppressed


def check_threshold(threshold: int, *, comments: bool = False) -> int:
    """The threshold if allowed (3–10 for numbers, up to 50 for comments), else ``ValueError``."""
    low, high = THRESHOLD_RANGE[0], COMMENT_THRESHOLD_MAX if comments else THRESHOLD_RANGE[1]
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int)
        or not low <= threshold <= high
    ):
        what = "comment threshold" if comments else "threshold"
        raise ValueError(
            f"the {what} must be a whole number from {low} to {high}, got {threshold!r}"
        )
    return threshold


def protect(
    cells: Sequence[Cell],
    threshold: int = THRESHOLD,
    attack: Attack = Attack.ARITHMETIC,
    sensitive: Collection[Hashable] = frozenset(),
) -> Disclosure:
    """Suppress cells so that no group of 1 to ``threshold − 1`` respondents can be
    read from the published cells, directly or by combining them (see the module
    docstring for the rule). Keys must be unique.

    ``sensitive`` respondents (e.g. the members of a cell where every answer is the
    same) count as no respondent at all: a cell about them alone is suppressed
    (``UNANIMOUS``), and no combination of published cells may live on atoms made of
    them and of small groups only, so no part of such a group can be read either."""
    check_threshold(threshold, comments=attack is Attack.SETS)
    if len({cell.key for cell in cells}) != len(cells):
        raise ValueError("cell keys must be unique")
    hidden = frozenset(sensitive)
    suppressed: dict[Hashable, Suppression] = {
        cell.key: Suppression.TOO_FEW for cell in cells if 0 < cell.n < threshold
    }
    if hidden:
        suppressed.update(
            (cell.key, Suppression.UNANIMOUS)
            for cell in cells
            if cell.n >= threshold and cell.members <= hidden
        )
    by_measure: dict[Hashable, list[Cell]] = {}
    for cell in cells:
        if cell.n >= threshold and cell.key not in suppressed:
            by_measure.setdefault(cell.measure, []).append(cell)
    arithmetic = attack is Attack.ARITHMETIC
    leak = _linear_leak if arithmetic else _set_leak
    for family in by_measure.values():
        for component in _components(family):
            for cell in _secure(component, threshold, leak, hidden if arithmetic else frozenset()):
                suppressed.setdefault(cell.key, Suppression.COMPLEMENT)
    return Disclosure(threshold, suppressed)


def protect_comments(cells: Sequence[Cell], threshold: int = COMMENT_THRESHOLD) -> Disclosure:
    """:func:`protect` for comment lists: set differences are possible, so every
    group a reader can isolate must have at least ``threshold`` respondents."""
    return protect(cells, threshold, Attack.SETS)


def reveals(groups: Sequence[frozenset[Hashable]], threshold: int = THRESHOLD) -> bool:
    """Whether numbers published about all ``groups`` together (sums over their
    respondents) reveal a group of 1 to ``threshold − 1`` respondents, directly or by
    any combination: the rank test of the module docstring."""
    if any(0 < len(group) < threshold for group in groups):
        return True
    ids: dict[Hashable, int] = {}
    for group in groups:
        for member in group:
            ids.setdefault(member, len(ids))
    incidence = np.zeros((len(ids), len(groups)), dtype=bool)
    for j, group in enumerate(groups):
        incidence[[ids[m] for m in group], j] = True
    return _linear_leak(incidence, np.ones(len(ids), dtype=np.int64), threshold) > 0


def _components(cells: Sequence[Cell]) -> Iterable[list[Cell]]:
    """Groups of cells linked by shared respondents; unlinked groups are independent."""
    # Imported here: scipy.sparse is slow to import and only linked groups need it.
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    if len(cells) < 2:
        yield from ([cell] for cell in cells)
        return
    ids: dict[Hashable, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for i, cell in enumerate(cells):
        for member in cell.members:
            rows.append(i)
            cols.append(ids.setdefault(member, len(ids)))
    incidence = csr_matrix(
        (np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(len(cells), len(ids))
    )
    _, label = connected_components(incidence @ incidence.T, directed=False)
    groups: dict[int, list[Cell]] = {}
    for cell, group in zip(cells, label.tolist(), strict=True):
        groups.setdefault(group, []).append(cell)
    yield from groups.values()


Leak = Callable[[BoolMatrix, IntArray, int], int]


def _atoms(pattern: BoolMatrix, sizes: IntArray) -> tuple[BoolMatrix, IntArray]:
    """Merge groups of respondents (rows of ``pattern``: which cells each group is
    in; ``sizes``: how many respondents) into atoms, the distinct non-empty
    patterns, with the number of respondents sharing each."""
    covered = pattern.any(axis=1)
    pattern, sizes = pattern[covered], sizes[covered]
    if pattern.shape[0] == 0:
        return pattern, sizes
    if pattern.shape[1] < 63:  # one int64 per pattern sorts far faster than rows
        code = pattern.astype(np.int64) @ (
            np.int64(1) << np.arange(pattern.shape[1], dtype=np.int64)
        )
        _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    else:
        _, first, inverse = np.unique(pattern, axis=0, return_index=True, return_inverse=True)
    merged = np.bincount(inverse.ravel(), weights=sizes, minlength=first.shape[0])
    return pattern[first], merged.astype(np.int64)


def _linear_leak(pattern: BoolMatrix, sizes: IntArray, threshold: int) -> int:
    """Dimension of the combinations of published cells that live on small atoms
    only: rank(M) − rank(M_L). Zero means no sum over fewer than ``threshold``
    respondents is derivable."""
    atoms, counts = _atoms(pattern, sizes)
    small = counts < threshold
    if not small.any():
        return 0
    m = atoms.T.astype(np.float64)  # cells × atoms
    large_rank = int(np.linalg.matrix_rank(m[:, ~small])) if (~small).any() else 0
    return int(np.linalg.matrix_rank(m)) - large_rank


#: The extra weight of a respondent who is not sensitive (see :func:`_secure`).
_PLAIN = np.int64(1) << np.int64(32)


def _small(counts: IntArray, threshold: int) -> npt.NDArray[np.bool_]:
    """Atoms (weighed as in :func:`_secure`) of fewer than ``threshold`` respondents,
    or of sensitive respondents only."""
    return np.asarray(((counts % _PLAIN) < threshold) | (counts < _PLAIN), dtype=bool)


def _sensitive_leak(pattern: BoolMatrix, sizes: IntArray, threshold: int) -> int:
    """:func:`_linear_leak` where an atom of sensitive respondents only is small too."""
    atoms, counts = _atoms(pattern, sizes)
    small = _small(counts, threshold)
    if not small.any():
        return 0
    m = atoms.T.astype(np.float64)
    large_rank = int(np.linalg.matrix_rank(m[:, ~small])) if (~small).any() else 0
    return int(np.linalg.matrix_rank(m)) - large_rank


def _set_leak(pattern: BoolMatrix, sizes: IntArray, threshold: int) -> int:
    """Respondents in atoms smaller than ``threshold``: with set operations a reader
    isolates any atom."""
    _, counts = _atoms(pattern, sizes)
    return int(counts[counts < threshold].sum())


def _secure(
    cells: list[Cell], threshold: int, leak: Leak, sensitive: frozenset[Hashable] = frozenset()
) -> list[Cell]:
    """The cells of one linked group to suppress, chosen greedily (see module);
    ``sensitive`` respondents weigh nothing, so their atoms count as small."""
    if not sensitive and len(cells) < 2:
        return []
    ids: dict[Hashable, int] = {}
    for cell in cells:
        for member in cell.members:
            ids.setdefault(member, len(ids))
    incidence = np.zeros((len(ids), len(cells)), dtype=bool)
    for j, cell in enumerate(cells):
        incidence[[ids[m] for m in cell.members], j] = True
    # Respondents in the same cells are interchangeable: work on atoms from here on.
    weight = np.ones(len(ids), dtype=np.int64)
    if sensitive:
        # Each respondent weighs 1, and _PLAIN more unless sensitive: an atom is small
        # when it has fewer than the threshold, or no plain member.
        weight += _PLAIN * np.array([m not in sensitive for m in ids], dtype=np.int64)
        leak = _sensitive_leak
    pattern, sizes = _atoms(incidence, weight)
    live = list(range(len(cells)))
    removed: list[Cell] = []
    current = leak(pattern, sizes, threshold)
    # Smallest first; the input order breaks ties so the result is reproducible.
    order = sorted(live, key=lambda j: (cells[j].n, j))
    while current > 0:
        choice, after = -1, current
        for j in order:
            if j not in live:
                continue
            trial = leak(pattern[:, [c for c in live if c != j]], sizes, threshold)
            if trial < current:
                choice, after = j, trial
                break
        if choice < 0:  # no single cell lowers the leak: drop the smallest one that carries it
            atoms, counts = _atoms(pattern[:, live], sizes)
            small = _small(counts, threshold) if sensitive else counts < threshold
            carriers = np.asarray(atoms[small].any(axis=0), dtype=bool)
            choice = next(j for j in order if j in live and carriers[live.index(j)])
            after = leak(pattern[:, [c for c in live if c != choice]], sizes, threshold)
        live.remove(choice)
        removed.append(cells[choice])
        current = after
    return removed
