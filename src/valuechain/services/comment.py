"""Comments customers wrote about a provider, and their themes, shown only where
the group is large enough.

A comment is recognisable text, so it gets its own, higher threshold (the
organisation's comment threshold, default 10 respondents, never below the threshold
for numbers; ``valuechain threshold --comments N``) and the stricter set rule of
:func:`valuechain.analytics.confidentiality.protect_comments`: the groups offered
(the provider per campaign, and each relationship per campaign) are decided
together, so no group of fewer respondents can be isolated by comparing two lists.
A shown comment carries its day only (never a time) and every answer lists the
comments in a fresh random order, so order cannot tell who wrote last. Themes
(:mod:`valuechain.analytics.comment`) are computed only over comments of groups
that are shown.
"""

from __future__ import annotations

import random
from collections.abc import Hashable

from valuechain.analytics.comment import comment_themes
from valuechain.analytics.confidentiality import (
    Cell,
    check_threshold,
    protect_comments,
)
from valuechain.services.errors import Invalid, NotFound
from valuechain.services.measure_types import Comment, CommentGroup, Comments
from valuechain.services.organisation import Valuechain
from valuechain.services.transaction import reading
from valuechain.store import comment as store
from valuechain.store import measure as measure_store

# A group: (instrument, campaign, customer or None for all the provider's customers).
GroupKey = tuple[str, str, str | None]
_shuffle = random.SystemRandom().shuffle


def comments(
    vc: Valuechain,
    provider: str,
    campaign: str | None = None,
    threshold: int | None = None,
) -> Comments:
    """The comments about ``provider`` in one campaign (default: the latest), per
    group: all its customers, and each customer unit; groups below ``threshold``
    respondents (default: the organisation's comment threshold, never below the
    threshold for numbers), or that would isolate such a group by comparison with
    another list, are suppressed. Plus the themes of the shown comments with their top terms."""
    with reading(vc):
        if threshold is not None:
            try:
                check_threshold(threshold, comments=True)
            except ValueError as error:
                raise Invalid(str(error)) from None
        with reading(vc) as conn:
            numbers = measure_store.read_threshold(conn, vc.org_id)
            if threshold is None:
                threshold = measure_store.read_comment_threshold(conn, vc.org_id)
            campaigns = measure_store.campaign_ids(conn, vc.org_id)
            responses = store.provider_responses(conn, vc.org_id, provider)
            rows = store.provider_comments(conn, vc.org_id, provider)
        # Never below the threshold for numbers.
        threshold = max(threshold, numbers)
        if campaign is not None and campaign not in campaigns:
            raise NotFound(f"no campaign with id {campaign!r}")
        if campaign is None and campaigns:
            campaign = campaigns[-1]
        members: dict[GroupKey, set[Hashable]] = {}
        for rid, instrument, camp, customer in responses:
            members.setdefault((instrument, camp, None), set()).add(rid)
            members.setdefault((instrument, camp, customer), set()).add(rid)
        decided = protect_comments(
            [Cell(key, frozenset(ids)) for key, ids in members.items()], threshold
        )
        by_response: dict[str, list[tuple[str, str]]] = {}
        for rid, day, text in rows:
            by_response.setdefault(rid, []).append((str(day)[:10], text))
        groups: list[CommentGroup] = []
        shown_responses: set[Hashable] = set()
        for key in sorted(
            (k for k in members if k[1] == campaign),
            key=lambda k: (k[0], k[2] is not None, k[2] or ""),
        ):
            instrument, _camp, customer = key
            group: CommentGroup = {
                "instrument": instrument,
                "customer": customer,
                "comments": None,
                "suppressed": True,
            }
            if decided.published(key):
                listed: list[Comment] = [
                    {"text": text, "day": day}
                    for rid in members[key]
                    for day, text in by_response.get(str(rid), [])
                ]
                _shuffle(listed)
                group["comments"] = listed
                group["suppressed"] = False
                shown_responses |= members[key]
            groups.append(group)
        texts = [
            text
            for rid in sorted(map(str, shown_responses))
            for _day, text in by_response.get(rid, [])
        ]
        found = comment_themes(texts)
        return {
            "threshold": threshold,
            "provider": provider,
            "campaign": campaign,
            "groups": groups,
            "themes": [
                {"terms": list(t.terms), "weights": list(t.weights), "comments": t.comments}
                for t in found.themes
            ],
        }


__all__ = ["comments"]
