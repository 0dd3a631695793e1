"""Commitment outcomes and trust per relationship, over arrays of commitments.

Trust rewards honesty: a kept or exceeded promise counts fully, a miss announced before
it was due counts half, a surprise miss counts nothing. With ``s`` the credit and ``n``
the commitments that have ended, trust is the mean of the Beta(s + 1, n - s + 1)
posterior, (s + 1) / (n + 2) (Laplace's rule of succession), with a 95% equal-tailed
credible interval, so a relationship with two kept promises is not rated as sure as
one with two hundred.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from valuechain.domain.commitment import Outcome

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

OUTCOMES: tuple[Outcome, ...] = tuple(Outcome)
CODE = {outcome: i for i, outcome in enumerate(OUTCOMES)}
#: Seconds by which "at least the margin early" may fall short and still count as
#: exceeded: a delivery exactly the margin early is exceeded, whatever the rounding of
#: the database's clock arithmetic (SQLite's julianday keeps about 50 µs).
EXCEED_SLACK = 1e-3

CREDIT = {Outcome.KEPT: 1.0, Outcome.EXCEEDED: 1.0, Outcome.WARNED: 0.5, Outcome.MISSED: 0.0}


def classify(
    due: npt.ArrayLike,
    delivered: npt.ArrayLike,
    warned: npt.ArrayLike,
    now: float,
    early_margin: npt.ArrayLike = 0.0,
) -> IntArray:
    """Outcome codes (indexes into ``OUTCOMES``) for commitments given as epoch seconds
    (``nan``: not delivered / no warning). Exceeded means delivered at least
    ``early_margin`` seconds before due, exactly the margin included (to
    :data:`EXCEED_SLACK`; a margin of 0 never counts as exceeded)."""
    d = np.asarray(due, dtype=np.float64)
    got = np.asarray(delivered, dtype=np.float64)
    told = np.asarray(warned, dtype=np.float64)
    margin = np.broadcast_to(np.asarray(early_margin, dtype=np.float64), d.shape)
    done = ~np.isnan(got)
    on_time = done & (got <= d)
    early = on_time & (margin > 0) & (d - got >= margin - EXCEED_SLACK)
    late = (done & (got > d)) | (~done & (now > d))
    warned_in_time = ~np.isnan(told) & (told < d)
    out = np.full(d.shape, CODE[Outcome.PENDING], dtype=np.int64)
    out[on_time] = CODE[Outcome.KEPT]
    out[early] = CODE[Outcome.EXCEEDED]
    out[late] = CODE[Outcome.MISSED]
    out[late & warned_in_time] = CODE[Outcome.WARNED]
    return out


@dataclass(frozen=True)
class Trust:
    """Counts of each outcome per group, and trust with its credible interval."""

    counts: IntArray  # groups x outcomes, columns in ``OUTCOMES`` order
    trust: FloatArray
    low: FloatArray
    high: FloatArray


def trust(outcomes: npt.ArrayLike, groups: npt.ArrayLike, n_groups: int) -> Trust:
    """Trust per group (e.g. per agreement or relationship) from outcome codes; pending
    commitments do not count. Beta posterior under a uniform prior (see module doc)."""
    from scipy.stats import beta  # here, not at module level: scipy.stats takes ~0.3 s to import

    codes = np.asarray(outcomes, dtype=np.int64)
    g = np.asarray(groups, dtype=np.int64)
    counts = np.zeros((n_groups, len(OUTCOMES)), dtype=np.int64)
    np.add.at(counts, (g, codes), 1)
    credit_of = np.array([CREDIT.get(o, 0.0) for o in OUTCOMES])
    ended = counts[:, [CODE[o] for o in CREDIT]].sum(axis=1).astype(np.float64)
    credit = (counts * credit_of).sum(axis=1)
    a, b = credit + 1.0, ended - credit + 1.0
    return Trust(
        counts=counts,
        trust=a / (a + b),
        low=np.asarray(beta.ppf(0.025, a, b), dtype=np.float64),
        high=np.asarray(beta.ppf(0.975, a, b), dtype=np.float64),
    )
