"""Survey campaigns: which relationships are asked, with which instrument, when, and
how many of the invited have answered, shown so that nobody's participation can be
read from it.

A campaign moves ``draft → open → closed`` and never back. Each person of a customer
unit gets one single-use invitation per provider their unit rates; the token in the
link is random and only its SHA-256 hash is stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

#: Bytes of randomness in a survey token (256 bits, as the session tokens).
TOKEN_BYTES = 32
#: Width of the response-rate bands, in percentage points.
RATE_BAND = 10


class CampaignState(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


NEXT_STATE: dict[CampaignState, frozenset[CampaignState]] = {
    CampaignState.DRAFT: frozenset({CampaignState.OPEN, CampaignState.CLOSED}),
    CampaignState.OPEN: frozenset({CampaignState.CLOSED}),
    CampaignState.CLOSED: frozenset(),
}


def can_move(current: CampaignState, target: CampaignState) -> bool:
    """Whether a campaign in ``current`` may move to ``target`` (never backwards)."""
    return target in NEXT_STATE[current]


@dataclass(frozen=True, slots=True)
class Campaign:
    """One survey round over a set of provider → customer relationships."""

    id: str
    name: str
    instrument: str | None
    opens_on: date | None
    closes_on: date | None
    state: CampaignState

    def accepts_answers(self, today: date) -> bool:
        """Open, and today within the open/close dates where they are set."""
        if self.state is not CampaignState.OPEN:
            return False
        if self.opens_on is not None and today < self.opens_on:
            return False
        return self.closes_on is None or today <= self.closes_on


def new_token() -> str:
    """A random URL-safe token for one invitation link (``secrets.token_urlsafe``)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """The SHA-256 hex digest stored in place of a token: a copy of the table opens
    no survey."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class RateBand:
    """A response rate as shown: ``None`` bounds when the group is suppressed.

    ``fewest`` and ``most`` are the respondent counts the band admits (given the
    invited count); they are what totals are built from and are never shown."""

    invited: int
    low: float | None  # lower bound of the band, 0–1
    high: float | None  # upper bound of the band, 0–1
    suppressed: bool
    fewest: int
    most: int

    @property
    def label(self) -> str:
        if self.suppressed or self.low is None or self.high is None:
            return "suppressed"
        return f"{round(self.low * 100)}–{round(self.high * 100)}%"


def band_edges(invited: int, threshold: int) -> list[tuple[int, int]]:
    """The edges ``(percent, count)`` a group of ``invited`` people may show: a
    10-point edge ``p`` starts at the count ``ceil(invited · p / 100)`` and is kept only
    where at least ``threshold`` have answered below it and at least ``threshold``
    have not answered from it on (``threshold < count <= invited - threshold``), and
    at least two counts after the previous kept edge. So an answer that moves the band
    tells the count only where it is safe to know; the lowest and highest bands each
    cover more than ``threshold`` counts; and no band holds a single count, so a band
    that did not move never proves that an answer came from another group. A group
    of fewer than ``2 · threshold + 1`` has no edge at all: it is always suppressed."""
    edges: list[tuple[int, int]] = []
    for percent in range(RATE_BAND, 100, RATE_BAND):
        count = -(-invited * percent // 100)
        if not threshold < count <= invited - threshold:
            continue
        if edges and edges[-1][1] == count:
            edges[-1] = (percent, count)  # the same count: the higher edge is as true
        elif not edges or count - edges[-1][1] >= 2:
            edges.append((percent, count))
    return edges


def rate_band(invited: int, responded: int, threshold: int) -> RateBand:
    """The response rate of one group as it may be shown: the band between the kept
    :func:`band_edges` that holds it (``0–30%``, ``40–50%``, ``70–100%``).

    The exact count of respondents is never shown, and which band shows depends only
    on the count and the invited number (public: the map lists the people), never on
    anything else. Every count a band admits below the threshold is admitted with at
    least ``threshold`` more, and every count that leaves fewer than ``threshold``
    non-respondents likewise, so no band, and no pair of bands before and after one
    answer, pins a count with fewer than ``threshold`` respondents or non-respondents.
    A group with no edge shows nothing (``suppressed``).
    """
    if invited < 0 or responded < 0 or responded > invited:
        raise ValueError(f"responded {responded} of {invited} invited is impossible")
    edges = band_edges(invited, threshold)
    if not edges:
        return RateBand(invited, None, None, True, 0, invited)
    below = [(p, c) for p, c in edges if c <= responded]
    above = [(p, c) for p, c in edges if c > responded]
    low, fewest = below[-1] if below else (0, 0)
    high, most = (above[0][0], above[0][1] - 1) if above else (100, invited)
    return RateBand(invited, low / 100, high / 100, False, fewest, most)


def combined_band(bands: Sequence[RateBand]) -> RateBand:
    """The rate of several groups together, as implied by their own bands and nothing
    else: from the fewest to the most respondents the bands admit, widened to 10-point
    edges. Built from shown bands only, a total can never be subtracted from a group
    (or a group from a total) to learn more than the groups' bands say, nor move
    with an answer that moves no group's band. Suppressed when it says nothing
    (``0–100%``)."""
    invited = sum(b.invited for b in bands)
    fewest = sum(b.fewest for b in bands)
    most = sum(b.most for b in bands)
    if invited == 0:
        return RateBand(0, None, None, True, 0, 0)
    low = fewest * 100 // invited // RATE_BAND * RATE_BAND
    high = -(-most * 100 // invited)
    high = -(-high // RATE_BAND) * RATE_BAND
    if low == 0 and high == 100:
        return RateBand(invited, None, None, True, fewest, most)
    return RateBand(invited, low / 100, high / 100, False, fewest, most)


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """``text`` split into runs of digits (compared as numbers) and the rest, so that
    ``wave-9`` comes before ``wave-10``."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part
    )


def time_order(
    ids: Sequence[str],
    closes: Sequence[date | None],
    opens: Sequence[date | None],
    first: Sequence[date | None],
    last: Sequence[date | None],
) -> list[str]:
    """Campaign ids oldest first: by the closing date, else the last answer day; then
    the opening date, else the first answer day; campaigns with neither (a draft
    nobody answered) come last; ties by the id read naturally (digits as numbers)."""
    undated = date.max

    def key(j: int) -> tuple[date, date, tuple[tuple[int, int | str], ...]]:
        end = closes[j] or last[j] or undated
        start = opens[j] or first[j] or end
        return (end, start, _natural(ids[j]))

    return [ids[j] for j in sorted(range(len(ids)), key=key)]
