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
it protects exactly but is not guaranteed to suppress the fewest cells. A big
linked group shaped as a star (a provider's totals over small per-customer blocks)
gets the same test and greedy in time about linear in its cells (``_Star``, below).

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
FloatMatrix = npt.NDArray[np.float64]


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
            star = (
                _Star.build([c.members for c in component], threshold, sensitive=hidden)
                if arithmetic and len(component) > STAR_MIN_CELLS
                else None
            )
            chosen = (
                [component[j] for j in _secure_star(star, [c.n for c in component])]
                if star is not None
                else _secure(component, threshold, leak, hidden if arithmetic else frozenset())
            )
            for cell in chosen:
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
    nonempty = [group for group in groups if group]
    if len(nonempty) > STAR_MIN_CELLS:
        star = _Star.build(nonempty, threshold)
        if star is not None:
            return star.leak > 0
    ids: dict[Hashable, int] = {}
    for group in groups:
        for member in group:
            ids.setdefault(member, len(ids))
    incidence = np.zeros((len(ids), len(groups)), dtype=bool)
    for j, group in enumerate(groups):
        incidence[[ids[m] for m in group], j] = True
    return _linear_leak(incidence, np.ones(len(ids), dtype=np.int64), threshold) > 0


def part_facts(
    shown: Sequence[frozenset[Hashable]], part: frozenset[Hashable], threshold: int
) -> tuple[bool, bool]:
    """For a group ``part`` read next to the groups ``shown``, with atoms taken over
    all of them: (whether ``part`` equals a combination of the shown groups on the
    atoms of ``threshold`` or more respondents, whether it adds anything to them):
    rank(M_L) = rank(C_L) and rank(M) ≠ rank(C), with C the shown rows of M."""
    groups = [g for g in shown if g]
    if len(groups) > STAR_MIN_CELLS:
        star = _Star.build([*groups, part], threshold, force=[len(groups)])
        if star is not None:
            return star.part_ranks(0)
    ids = sorted(set(part).union(*groups), key=repr)
    position = {m: i for i, m in enumerate(ids)}
    matrix = np.zeros((len(groups) + 1, len(ids)))
    for row, group in enumerate([*groups, part]):
        matrix[row, [position[m] for m in group]] = 1.0
    _, inverse, counts = np.unique(matrix.T, axis=0, return_inverse=True, return_counts=True)
    large = counts[inverse.ravel()] >= threshold
    cells_only = matrix[:-1]

    def rank(a: FloatMatrix) -> int:
        return 0 if a.size == 0 else int(np.linalg.matrix_rank(a))

    return rank(matrix[:, large]) == rank(cells_only[:, large]), rank(matrix) != rank(cells_only)


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


# --- the star: many small blocks around a few shared totals ---------------------
#
# A heavy-rated provider's linked group is a star: a few *hub* cells (its total and
# its dimensions, per campaign) over every respondent, and one small *block* of
# cells per customer (the relationship and its dimensions) that shares respondents
# with no other block. Write M = [H; L_1; …; L_B] with L_b supported on block b's
# atoms and H = Σ_b H_b. Then rank(M) = Σ_b rank(L_b) + rank([R_1 … R_B]) with R_b
# the rows of H_b projected off the row space of L_b, and the same for the columns
# of large atoms (M_L). The leak rank(M) − rank(M_L) is thus a sum of small block
# leaks plus a hub leak computed over an |H| × atoms matrix: linear in the number of
# cells. Suppressing a block's cell changes only that block's R_b, so whether it
# lowers the hub leak is decided in the block alone (against the null spaces of the
# stacked R's, see :meth:`_Star.lowers`).

#: A linked group with more cells than this is tried as a star first.
STAR_MIN_CELLS = 48
#: At most this many hub cells (the largest cells) may be taken out ...
HUB_MAX = 24
#: ... so that no block keeps more than this many cells.
BLOCK_MAX = 32
_TOL = 1e-8


def _triangular(tall: FloatMatrix) -> FloatMatrix:
    """R of the reduced QR of a tall matrix (same row space of its transpose)."""
    r: FloatMatrix = np.linalg.qr(tall, mode="r")  # type: ignore[assignment]
    return r


def _rank(a: FloatMatrix) -> int:
    """Numerical rank with an absolute floor: entries are small rationals, so a
    singular value below 1e-8 (relative to the largest, at least 1) is round-off."""
    if a.size == 0:
        return 0
    if a.shape[1] > 4 * a.shape[0]:  # wide: the triangular factor of aᵀ has its rank
        a = _triangular(a.T)
    s = np.linalg.svd(a, compute_uv=False)
    return int((s > _TOL * max(1.0, float(s[0]))).sum())


def _left_null(a: FloatMatrix) -> FloatMatrix:
    """An orthonormal basis (columns) of {x : xᵀa = 0} for a short, wide ``a``: an SVD
    of the triangular factor of aᵀ, so the cost is linear in the columns."""
    rows = a.shape[0]
    if a.shape[1] == 0:
        return np.eye(rows)
    r = _triangular(a.T) if a.shape[1] >= rows else a.T
    u, s, _ = np.linalg.svd(r.T, full_matrices=True)
    keep = int((s > _TOL * max(1.0, float(s[0]) if s.size else 0.0)).sum())
    return np.ascontiguousarray(u[:, keep:])


def _project_off(h: FloatMatrix, local: FloatMatrix) -> tuple[FloatMatrix, int]:
    """The rows of ``h`` projected off the row space of ``local``, and the rank of
    ``local``: one SVD gives both."""
    if local.shape[0] == 0 or local.shape[1] == 0:
        return h, 0
    _, s, vt = np.linalg.svd(local, full_matrices=False)
    rank = int((s > _TOL * max(1.0, float(s[0]))).sum())
    basis = vt[:rank]
    return h - (h @ basis.T) @ basis, rank


def _signatures(
    groups: Sequence[frozenset[Hashable]], sensitive: frozenset[Hashable] = frozenset()
) -> tuple[list[tuple[int, ...]], IntArray]:
    """Atoms of a family of groups: each distinct tuple of the groups a respondent is
    in, with how many respondents share it (weighed as in :func:`_secure` when some
    are ``sensitive``). Linear in the memberships."""
    of: dict[Hashable, list[int]] = {}
    for j, group in enumerate(groups):
        for member in group:
            of.setdefault(member, []).append(j)
    count: dict[tuple[int, ...], int] = {}
    for member, js in of.items():
        key = tuple(js)
        weight = 1 if not sensitive else 1 + (0 if member in sensitive else int(_PLAIN))
        count[key] = count.get(key, 0) + weight
    return list(count), np.fromiter(count.values(), dtype=np.int64, count=len(count))


@dataclass
class _Block:
    """One block: its cells (component positions), its atoms' membership in them and
    in the hub cells, and the atoms' sizes."""

    cells: IntArray
    local: BoolMatrix  # atoms × block cells
    hub: BoolMatrix  # atoms × hub cells
    sizes: IntArray


@dataclass
class _View:
    """A block as the live cells see it: atoms merged, its L and H rows, the
    residuals, its own leak, and atoms no live block cell covers (to the free pool)."""

    local: FloatMatrix
    hub: FloatMatrix
    large: BoolMatrix
    residual: FloatMatrix
    residual_large: FloatMatrix
    leak: int
    free_codes: IntArray
    free_sizes: IntArray
    spare: FloatMatrix  # the hub rows of those atoms (hub × atoms)


class _Star:
    """The leak of a star-shaped linked group and its greedy suppression in time
    about linear in its cells (see the comment above ``STAR_MIN_CELLS``)."""

    def __init__(
        self,
        n_cells: int,
        hub: list[int],
        blocks: list[_Block],
        free_hub: BoolMatrix,
        free_sizes: IntArray,
        threshold: int,
        weighed: bool = False,
    ) -> None:
        self.hub = np.asarray(hub, dtype=np.int64)
        self.blocks = blocks
        self.threshold = threshold
        # Sizes weighed for sensitive respondents (see _secure): "large" by _small.
        self.weighed = weighed
        self.live = np.ones(n_cells, dtype=bool)
        self.free_hub, self.free_sizes = free_hub, free_sizes
        self.weights = np.int64(1) << np.arange(len(hub), dtype=np.int64)
        self.seen: dict[tuple[int, bytes, bytes], _View] = {}
        self.block_of = np.full(n_cells, -1, dtype=np.int64)
        for b, block in enumerate(blocks):
            self.block_of[block.cells] = b
        self.views = [self.view(b) for b in range(len(blocks))]
        self.refresh()

    @classmethod
    def build(
        cls,
        groups: Sequence[frozenset[Hashable]],
        threshold: int,
        force: Sequence[int] = (),
        block_max: int = BLOCK_MAX,
        sensitive: frozenset[Hashable] = frozenset(),
    ) -> _Star | None:
        """The star of these groups, or None when it needs more than ``HUB_MAX`` hub
        cells for blocks of at most ``BLOCK_MAX`` cells. The hub is the fewest of the
        largest cells (``force`` first) that split the rest into such blocks."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        signatures, sizes = _signatures(groups, sensitive)
        n_atoms, n_cells = len(signatures), len(groups)
        lengths = np.fromiter((len(s) for s in signatures), dtype=np.int64, count=n_atoms)
        atom = np.repeat(np.arange(n_atoms, dtype=np.int64), lengths)
        cell = np.fromiter(
            (j for s in signatures for j in s), dtype=np.int64, count=int(lengths.sum())
        )
        forced = list(dict.fromkeys(force))
        rest = sorted(set(range(n_cells)) - set(forced), key=lambda j: (-len(groups[j]), j))

        def split(k: int) -> tuple[list[int], IntArray] | None:
            hub = forced + rest[: max(0, k - len(forced))]
            in_hub = np.zeros(n_cells, dtype=bool)
            in_hub[hub] = True
            keep = ~in_hub[cell]
            graph = coo_matrix(
                (np.ones(int(keep.sum())), (atom[keep], n_atoms + cell[keep])),
                shape=(n_atoms + n_cells, n_atoms + n_cells),
            )
            _, label = connected_components(graph, directed=False)
            per = np.bincount(label[n_atoms:][~in_hub], minlength=int(label.max()) + 1)
            return None if per.max(initial=0) > block_max else (hub, label)

        low, high = len(forced), min(max(HUB_MAX, len(forced)), n_cells)
        found = split(high)
        if found is None:
            return None
        while low < high:  # fewer hub cells that still split small enough
            middle = (low + high) // 2
            attempt = split(middle)
            if attempt is None:
                low = middle + 1
            else:
                high, found = middle, attempt
        hub, label = found
        hub_pos = np.full(n_cells, -1, dtype=np.int64)
        hub_pos[hub] = np.arange(len(hub))
        atom_hub = np.zeros((n_atoms, len(hub)), dtype=bool)
        on_hub = hub_pos[cell] >= 0
        atom_hub[atom[on_hub], hub_pos[cell[on_hub]]] = True
        # Block cells and their atoms, grouped by the block (component) they are in.
        index: dict[int, int] = {}
        cells_of: list[list[int]] = []
        atoms_of: list[dict[int, int]] = []
        edges_of: list[list[tuple[int, int]]] = []
        for j in np.flatnonzero(hub_pos < 0).tolist():
            b = index.setdefault(int(label[n_atoms + j]), len(cells_of))
            if b == len(cells_of):
                cells_of.append([])
                atoms_of.append({})
                edges_of.append([])
            cells_of[b].append(j)
        covered = np.zeros(n_atoms, dtype=bool)
        for a, j in zip(atom[~on_hub].tolist(), cell[~on_hub].tolist(), strict=True):
            b = index[int(label[a])]
            atoms_of[b].setdefault(a, len(atoms_of[b]))
            edges_of[b].append((a, j))
            covered[a] = True
        blocks: list[_Block] = []
        for cells, atoms, edges in zip(cells_of, atoms_of, edges_of, strict=True):
            column = {j: k for k, j in enumerate(cells)}
            local = np.zeros((len(atoms), len(cells)), dtype=bool)
            for a, j in edges:
                local[atoms[a], column[j]] = True
            rows = np.fromiter(atoms, dtype=np.int64, count=len(atoms))
            blocks.append(
                _Block(np.array(cells, dtype=np.int64), local, atom_hub[rows], sizes[rows])
            )
        free = np.flatnonzero(~covered)
        return cls(n_cells, hub, blocks, atom_hub[free], sizes[free], threshold, bool(sensitive))

    def large(self, sizes: IntArray) -> npt.NDArray[np.bool_]:
        """Atoms of at least the threshold (of respondents not all sensitive)."""
        if self.weighed:
            return ~_small(sizes, self.threshold)
        return np.asarray(sizes >= self.threshold, dtype=bool)

    def view(self, b: int, without: int = -1) -> _View:
        """Block ``b`` as the live cells (less ``without``) see it; remembered, since
        trying a hub cell sees every block again, most of them unchanged."""
        block = self.blocks[b]
        live_local = self.live[block.cells]
        if without >= 0:
            live_local = live_local & (block.cells != without)
        live_hub = self.live[self.hub]
        key = (b, live_local.tobytes(), live_hub.tobytes())
        seen = self.seen.get(key)
        if seen is None:
            seen = self.seen[key] = self._view(block, live_local, live_hub)
        return seen

    def _view(self, block: _Block, live_local: BoolMatrix, live_hub: BoolMatrix) -> _View:
        local = block.local[:, live_local]
        hub = block.hub & live_hub
        width = local.shape[1] + hub.shape[1]
        pattern = np.concatenate([local, hub], axis=1)
        if width < 63:
            code = pattern.astype(np.int64) @ (np.int64(1) << np.arange(width, dtype=np.int64))
            _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
        else:
            _, first, inverse = np.unique(pattern, axis=0, return_index=True, return_inverse=True)
        sizes = np.bincount(inverse.ravel(), weights=block.sizes).astype(np.int64)
        local, hub = local[first], hub[first]
        own = local.any(axis=1)
        spare = ~own & hub.any(axis=1)
        l_rows = local[own].T.astype(np.float64)
        h_rows = hub[own].T.astype(np.float64)
        large = self.large(sizes[own])
        residual, rank = _project_off(h_rows, l_rows)
        residual_large, rank_large = _project_off(h_rows[:, large], l_rows[:, large])
        return _View(
            local=l_rows,
            hub=h_rows,
            large=large,
            residual=residual,
            residual_large=residual_large,
            leak=rank - rank_large,
            free_codes=hub[spare].astype(np.int64) @ self.weights,
            free_sizes=sizes[spare],
            spare=hub[spare].T.astype(np.float64),
        )

    def refresh(self) -> None:
        """The hub leak and the null spaces behind :meth:`lowers`, from the views."""
        live_hub = self.live[self.hub]
        codes = [(self.free_hub & live_hub).astype(np.int64) @ self.weights]
        sizes = [self.free_sizes]
        codes += [v.free_codes for v in self.views]
        sizes += [v.free_sizes for v in self.views]
        code = np.concatenate(codes)
        size = np.concatenate(sizes)
        distinct, inverse = np.unique(code[code > 0], return_inverse=True)
        merged = np.bincount(inverse.ravel(), weights=size[code > 0]).astype(np.int64)
        free = ((distinct[None, :] & self.weights[:, None]) > 0).astype(np.float64)
        self.free = free
        self.free_large = self.large(merged)
        stacked = np.concatenate([free, *(v.residual for v in self.views)], axis=1)
        stacked_large = np.concatenate(
            [free[:, self.free_large], *(v.residual_large for v in self.views)], axis=1
        )
        self.stacked, self.stacked_large = stacked, stacked_large
        self.null = _left_null(stacked)
        self.null_large = _left_null(stacked_large)
        self.hub_leak = self.null_large.shape[1] - self.null.shape[1]

    def part_ranks(self, row: int) -> tuple[bool, bool]:
        """For hub cell ``row`` (a part read next to the other cells): whether it
        equals a combination of the others on the large atoms (rank(M_L) unchanged
        without it) and whether it adds anything (rank(M) changed). The blocks' own
        ranks are the same with or without a hub row, so only the stacks count."""
        keep = np.arange(self.stacked.shape[0]) != row
        yields = _rank(self.stacked_large) == _rank(self.stacked_large[keep])
        new = _rank(self.stacked) != _rank(self.stacked[keep])
        return yields, new

    @property
    def leak(self) -> int:
        return int(self.hub_leak + sum(v.leak for v in self.views))

    def lowers(self, j: int) -> bool:
        """Whether suppressing cell ``j`` lowers the leak. For a block cell only its
        block changes and the null spaces N of the stacked residuals can only shrink,
        to N ∩ {x : xᵀX = 0} with X the block's new residuals and the atoms it leaves
        to the hub alone (kept apart from equal free atoms: never a smaller leak than
        the exact one). For a hub cell, the whole star is recomputed."""
        b = int(self.block_of[j])
        if b < 0:
            before = self.leak
            saved = (self.views, self.free, self.free_large, self.null, self.null_large)
            saved_leak = self.hub_leak
            self.suppress(j)
            after = self.leak
            self.live[j] = True
            self.views, self.free, self.free_large, self.null, self.null_large = saved
            self.hub_leak = saved_leak
            return after < before
        old, trial = self.views[b], self.view(b, without=j)
        spare_large = self.large(trial.free_sizes)
        lost_large = _rank(
            self.null_large.T
            @ np.concatenate([trial.residual_large, trial.spare[:, spare_large]], axis=1)
        )
        lost = _rank(self.null.T @ np.concatenate([trial.residual, trial.spare], axis=1))
        return trial.leak - old.leak + lost - lost_large < 0

    def involved(self) -> BoolMatrix:
        """Blocks whose cells may lower the hub leak: those where some combination of
        the hub leak's space is not zero on the block's atoms (elsewhere a
        suppression leaves every such combination at zero, inside any row space)."""
        if self.hub_leak == 0:
            return np.zeros(len(self.views), dtype=bool)
        return np.array(
            [bool(np.abs(self.null_large.T @ v.hub).max(initial=0.0) > _TOL) for v in self.views]
        )

    def suppress(self, j: int) -> None:
        self.live[j] = False
        b = int(self.block_of[j])
        if b >= 0:
            self.views[b] = self.view(b)
        else:
            self.views = [self.view(i) for i in range(len(self.blocks))]
        self.refresh()

    def carriers(self) -> BoolMatrix:
        """Live cells that hold a small atom (what the fallback of the greedy takes)."""
        out = np.zeros_like(self.live)
        small_hub = self.free[:, ~self.free_large].any(axis=1)
        for b, v in enumerate(self.views):
            small = ~v.large
            if small.any():
                cells = self.blocks[b].cells[self.live[self.blocks[b].cells]]
                out[cells[v.local[:, small].any(axis=1)]] = True
                small_hub |= v.hub[:, small].any(axis=1)
        out[self.hub[small_hub]] = True
        return out & self.live


def _secure_star(star: _Star, n: Sequence[int]) -> list[int]:
    """The greedy of :func:`_secure` on a star: first each block's own leak, in the
    block (the hub cannot mend it), then the hub leak, trying cells from the smallest
    (input order on ties) in the blocks that can matter, then the hub cells."""
    order = sorted(range(len(n)), key=lambda j: (n[j], j))
    rank_of = np.empty(len(n), dtype=np.int64)
    rank_of[order] = np.arange(len(n))
    removed: list[int] = []
    for b, block in enumerate(star.blocks):
        while star.views[b].leak > 0:
            live = [int(j) for j in block.cells[np.argsort(rank_of[block.cells])] if star.live[j]]
            current = star.views[b].leak
            choice = next((j for j in live if star.view(b, without=j).leak < current), -1)
            if choice < 0:  # no single cell lowers it: the smallest that holds a small atom
                v = star.views[b]
                holding = np.flatnonzero(np.asarray(v.local[:, ~v.large] != 0).any(axis=1))
                in_block = [j for j in block.cells.tolist() if star.live[j]]
                choice = min((in_block[i] for i in holding.tolist()), key=rank_of.item)
            star.live[choice] = False
            star.views[b] = star.view(b)
            removed.append(choice)
    star.refresh()
    while star.leak > 0:
        involved = star.involved()
        choice = -1
        for j in order:
            if not star.live[j]:
                continue
            b = int(star.block_of[j])
            if b >= 0 and not involved[b]:
                continue
            if star.lowers(j):
                choice = j
                break
        if choice < 0:
            holds = star.carriers()
            choice = next(j for j in order if holds[j])
        star.suppress(choice)
        removed.append(choice)
    return removed
