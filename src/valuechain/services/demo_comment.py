"""Comments in the demo's survey responses: about half the respondents add a
sentence to their overall answer. Production planning's customers complain about
plan changes in 2026-Q2, matching the planted fall in its value score; the texts
of each provider come from a few recurring concerns so comment themes have
something to find. A stream of its own, so the ratings never change."""

from __future__ import annotations

import random

from valuechain.domain.response import Response

COMMENT_ITEM = "overall_1"
SHARE = 0.55

CONCERNS: dict[str, tuple[str, ...]] = {
    "production-planning": (
        "The weekly plan arrives on time and is easy to follow.",
        "Planners answer quickly when a machine goes down.",
        "The plan is realistic about our machine capacity.",
        "Material shortages are flagged in the plan early.",
    ),
    "production-planning/2026-q2": (
        "The weekly plan changed too often this quarter, we lost set-up time.",
        "Plan changes came late, after the shift had already started.",
        "Too many plan changes; we cannot trust the weekly plan any more.",
        "Late plan changes meant overtime and rework for our team.",
    ),
    "it-service-desk": (
        "Tickets wait too long for a first answer.",
        "The service desk fixes laptop problems well once they pick up the ticket.",
        "Password resets are quick, but hardware tickets wait for days.",
        "Nobody tells us when a ticket will be handled.",
    ),
    "payroll": (
        "Payslips are always correct and on time.",
        "Payroll answers questions about overtime quickly.",
        "Expense claims take long to be paid.",
    ),
    "quality-assurance": (
        "Inspection results come back quickly.",
        "Quality checks hold up shipping at the end of the day.",
    ),
}


def add_comments(responses: list[Response], seed: int = 7) -> list[Response]:
    """Attach the demo comments to ``responses`` (in place) and return them."""
    rng = random.Random(seed * 1000 + 2)
    for response in responses:
        if rng.random() >= SHARE:
            continue
        pool = CONCERNS.get(f"{response.rated_id}/{response.campaign}") or CONCERNS.get(
            response.rated_id, ()
        )
        if pool:
            response.comments.append((COMMENT_ITEM, rng.choice(pool)))
    return responses


__all__ = ["add_comments"]
