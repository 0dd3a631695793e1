"""answers not tied to people: no reminder trace on invitations, no spend order

``invitations`` lose ``reminded_on`` and ``reminders`` (a reminder date or count bounds
when an invitation was answered). Existing rows are written again so that nothing
kept from before lines people up with answers: invitations in id order (random; on
PostgreSQL an earlier spend moved its row to the end), and every invitation of a
campaign topped up with dummy tokens to the same number of tokens.

Revision ID: 0015_anon
Revises: 0014
Create Date: 2026-12-07 14:40:00
"""

from __future__ import annotations

import secrets
from hashlib import sha256

import sqlalchemy as sa
from alembic import op


revision = "0015_anon"
down_revision = "0014"
branch_labels = None
depends_on = None


def _rewrite(conn: sa.Connection) -> None:
    meta = sa.MetaData()
    invitations = sa.Table("invitations", meta, autoload_with=conn)
    tokens = sa.Table("invitation_tokens", meta, autoload_with=conn)
    rows = [dict(r._mapping) for r in conn.execute(sa.select(invitations))]
    held = [dict(r._mapping) for r in conn.execute(sa.select(tokens))]
    campaign_of = {(r["org_id"], r["id"]): (r["org_id"], r["campaign_id"]) for r in rows}
    counts: dict[tuple[int, str], int] = {}
    for t in held:
        key = (t["org_id"], t["invitation_id"])
        counts[key] = counts.get(key, 0) + 1
    most: dict[tuple[int, str], int] = {}
    for key, n in counts.items():
        most[campaign_of[key]] = max(most.get(campaign_of[key], 0), n)
    for key, n in counts.items():
        for _ in range(most[campaign_of[key]] - n):
            dummy = sha256(secrets.token_urlsafe(32).encode()).hexdigest()
            held.append({"org_id": key[0], "token_hash": dummy, "invitation_id": key[1]})
    # Tokens first: deleting an invitation would cascade to its tokens.
    conn.execute(sa.delete(tokens))
    conn.execute(sa.delete(invitations))
    if rows:
        conn.execute(sa.insert(invitations), sorted(rows, key=lambda r: (r["org_id"], r["id"])))
    if held:
        conn.execute(
            sa.insert(tokens),
            sorted(held, key=lambda t: (t["org_id"], t["invitation_id"], t["token_hash"])),
        )


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+), not a batch rebuild: with foreign keys on,
    # dropping the old table would cascade to the invitations' tokens.
    op.execute("ALTER TABLE invitations DROP COLUMN reminded_on")
    op.execute("ALTER TABLE invitations DROP COLUMN reminders")
    _rewrite(op.get_bind())


def downgrade() -> None:
    op.add_column(
        "invitations",
        sa.Column("reminders", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column("invitations", sa.Column("reminded_on", sa.Date(), nullable=True))
