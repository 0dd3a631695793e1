"""Retention: raw survey comments are kept only as long as the organisation says.

``comment_retention_days`` (per organisation; none: kept) is set with
``valuechain retention --comments-days N``. :func:`purge_comments` deletes the comments
of responses submitted more than N days ago; a scheduled job calls it (daily is
enough: responses know only their day). Scores are not touched: they come from the
answers, which hold no free text.
"""

from __future__ import annotations

from datetime import date, timedelta

from valuechain.services import audit
from valuechain.services.audit import Actor
from valuechain.services.errors import Invalid
from valuechain.services.organisation import Valuechain
from valuechain.services.transaction import reading, writing
from valuechain.store import person as store

RETENTION_CHANGED = "retention_changed"
COMMENTS_PURGED = "comments_purged"
MAX_DAYS = 36_500


def comment_retention(vc: Valuechain) -> int | None:
    """Days raw comments are kept, or ``None`` (kept until deleted)."""
    with reading(vc) as conn:
        return store.read_comment_retention(conn, vc.org_id)


def set_comment_retention(vc: Valuechain, days: int | None, actor: Actor) -> None:
    """Keep raw comments ``days`` days (1 to 36500), or for ever with ``None``;
    recorded in the audit log."""
    if days is not None and (isinstance(days, bool) or not 1 <= days <= MAX_DAYS):
        raise Invalid(f"comments are kept from 1 to {MAX_DAYS} days, got {days!r}")
    with writing(vc) as conn:
        store.write_comment_retention(conn, vc.org_id, days)
        audit.record(
            vc,
            RETENTION_CHANGED,
            actor,
            subject="comments",
            detail="kept until deleted" if days is None else f"kept {days} days",
            conn=conn,
        )


def purge_comments(vc: Valuechain, today: date | None = None, actor: Actor | None = None) -> int:
    """Delete raw comments of responses submitted more than the retention period
    before ``today`` (default: today, UTC); the number deleted (0 without a period).
    A purge that deletes something is recorded in the audit log."""
    with writing(vc) as conn:
        days = store.read_comment_retention(conn, vc.org_id)
        if days is None:
            return 0
        cutoff = (today or date.today()) - timedelta(days=days)
        deleted = store.purge_comments_before(conn, vc.org_id, cutoff)
        if deleted:
            audit.record(
                vc,
                COMMENTS_PURGED,
                actor or Actor(None, "job:retention", None),
                subject="comments",
                detail=f"{deleted} comments of responses submitted before {cutoff.isoformat()}",
                conn=conn,
            )
    return deleted
