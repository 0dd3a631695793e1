"""answers not tied to people: no reminder trace on invitations, sealed rows by group

``invitations`` lose ``reminded_on`` and ``reminders`` (a reminder date or count bounds
when an invitation was answered). ``sealed_responses`` gain the group
(``provider_id``, ``customer_id``) so each answer can rewrite its group's sealed rows
in random order. Existing rows are written again so that nothing kept from before
lines people up with answers: invitations in id order (random), every invitation of a
campaign topped up with dummy tokens to the same number of tokens, sealed responses
in random order with fresh ids.

Revision ID: 0015_anon
Revises: 0014
Create Date: 2026-12-07 14:40:00
"""

from __future__ import annotations

import json
import random
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
    sealed = sa.Table("sealed_responses", meta, autoload_with=conn)
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
    answers = [dict(r._mapping) for r in conn.execute(sa.select(sealed))]
    for row in answers:
        data = json.loads(row["payload"])
        row["id"] = secrets.token_hex(16)
        row["provider_id"], row["customer_id"] = data["rated_id"], data["rater_id"]
    random.SystemRandom().shuffle(answers)
    conn.execute(sa.delete(sealed))
    if answers:
        conn.execute(sa.insert(sealed), answers)


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+), not a batch rebuild: with foreign keys on,
    # dropping the old table would cascade to the invitations' tokens.
    op.execute("ALTER TABLE invitations DROP COLUMN reminded_on")
    op.execute("ALTER TABLE invitations DROP COLUMN reminders")
    op.add_column(
        "sealed_responses",
        sa.Column("provider_id", sa.String(length=200), server_default="", nullable=False),
    )
    op.add_column(
        "sealed_responses",
        sa.Column("customer_id", sa.String(length=200), server_default="", nullable=False),
    )
    _rewrite(op.get_bind())
    op.create_index(
        "ix_sealed_responses_group",
        "sealed_responses",
        ["org_id", "campaign_id", "provider_id", "customer_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_sealed_responses_group", table_name="sealed_responses")
    op.execute("ALTER TABLE sealed_responses DROP COLUMN customer_id")
    op.execute("ALTER TABLE sealed_responses DROP COLUMN provider_id")
    op.add_column(
        "invitations",
        sa.Column("reminders", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column("invitations", sa.Column("reminded_on", sa.Date(), nullable=True))
