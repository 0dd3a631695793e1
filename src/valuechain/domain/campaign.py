"""Survey campaigns: which relationships are asked, with which instrument, when, and
how many of the invited have answered, shown so that nobody's participation can be
read from it.

A campaign moves ``draft → open → closed`` and never back. Each person of a customer
unit gets one single-use invitation per provider their unit rates; the token in the
link is random and only its SHA-256 hash is stored.
"""

from __future__ import annotations

import hashlib
import secrets
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
    """A response rate as shown: ``None`` bounds when the group is suppressed."""

    invited: int
    low: float | None  # lower bound of the band, 0–1
    high: float | None  # upper bound of the band, 0–1 (exclusive except at 1)
    suppressed: bool

    @property
    def label(self) -> str:
        if self.suppressed or self.low is None or self.high is None:
            return "suppressed"
        return f"{round(self.low * 100)}–{round(self.high * 100)}%"


def rate_band(invited: int, responded: int, threshold: int) -> RateBand:
    """The response rate of one group as it may be shown.

    The exact count of respondents is never shown. A group with fewer respondents
    than ``threshold`` shows no rate at all (only that it is below the threshold is
    implied), and a group with at least ``threshold`` shows the 10-point band its
    rate falls in (``40–50%``; ``90–100%`` includes 100%). A band hides each single
    submission, so watching the page while one person answers does not show that
    they answered; the threshold keeps small groups from being read off the band.
    """
    if invited < 0 or responded < 0 or responded > invited:
        raise ValueError(f"responded {responded} of {invited} invited is impossible")
    if invited == 0 or responded < threshold:
        return RateBand(invited, None, None, True)
    step = RATE_BAND
    percent = responded * 100 // invited
    low = min(percent // step * step, 100 - step)
    return RateBand(invited, low / 100, (low + step) / 100, False)
