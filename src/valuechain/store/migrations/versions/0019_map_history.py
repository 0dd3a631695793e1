"""the map's history: one row per version of a unit, result or link

``unit_history``, ``result_history`` and ``link_history`` keep every version of a
map row with the interval it was valid in (``valid_from``, ``valid_to``; NULL: still
current), who changed it and through what (docs/map.md, "History"). The current map
is taken as valid since the organisation's last successful import in the audit log,
or since this migration when there is none.

Revision ID: 0019_map_history
Revises: 0018_link_states
Create Date: 2026-12-07 23:50:00
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0019_map_history"
down_revision = "0018_link_states"
branch_labels = None
depends_on = None

SOURCES = " OR ".join(
    f"source = '{s}'" for s in ("import", "api", "page", "demo", "migration")
)
# Each history: its key and the columns a version keeps, as the map table has them.
TABLES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "unit_history": ("units", ("id",), ("name", "kind", "parent_id", "headcount")),
    "result_history": (
        "results",
        ("id",),
        ("unit_id", "name", "kind", "capacity", "cost_per_item", "revenue_per_item"),
    ),
    "link_history": (
        "links",
        ("result_id", "customer_id", "relation"),
        ("demand", "per_item", "state"),
    ),
}


def _columns(name: str) -> list[sa.Column[Any]]:
    text = sa.String
    own: list[sa.Column[Any]]
    if name == "unit_history":
        own = [
            sa.Column("id", text(200), nullable=False),
            sa.Column("name", text(300), nullable=False),
            sa.Column("kind", text(32), nullable=False),
            sa.Column("parent_id", text(200), nullable=True),
            sa.Column("headcount", sa.Integer(), nullable=True),
        ]
    elif name == "result_history":
        own = [
            sa.Column("id", text(200), nullable=False),
            sa.Column("unit_id", text(200), nullable=False),
            sa.Column("name", text(300), nullable=False),
            sa.Column("kind", text(32), nullable=False),
            sa.Column("capacity", sa.Float(), nullable=True),
            sa.Column("cost_per_item", sa.Float(), nullable=True),
            sa.Column("revenue_per_item", sa.Float(), nullable=True),
        ]
    else:
        own = [
            sa.Column("result_id", text(200), nullable=False),
            sa.Column("customer_id", text(200), nullable=False),
            sa.Column("relation", text(32), nullable=False),
            sa.Column("demand", sa.Float(), nullable=True),
            sa.Column("per_item", sa.Float(), nullable=True),
            sa.Column("state", text(16), nullable=False),
        ]
    return [
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("org_id", sa.Integer(), nullable=False),
        *own,
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_by", text(320), nullable=True),
        sa.Column("source", text(16), nullable=False),
    ]


def _since(bind: sa.engine.Connection, org_id: int, now: datetime) -> datetime:
    """When the organisation's current map was last imported, else now."""
    last = bind.execute(
        sa.text(
            "SELECT max(at) FROM audit_events "
            "WHERE org_id = :org AND action = 'import' AND outcome = 'success'"
        ),
        {"org": org_id},
    ).scalar()
    if last is None:
        return now
    if isinstance(last, str):  # SQLite hands a text timestamp to a textual query
        last = datetime.fromisoformat(last)
    return last.replace(tzinfo=UTC) if last.tzinfo is None else last.astimezone(UTC)


def upgrade() -> None:
    for name, (_, key, _values) in TABLES.items():
        op.create_table(
            name,
            *_columns(name),
            sa.ForeignKeyConstraint(
                ["org_id"],
                ["organisations.id"],
                name=f"fk_{name}_org_id_organisations",
                ondelete="CASCADE",
            ),
            sa.CheckConstraint(SOURCES, name=f"ck_{name}_source"),
            sa.PrimaryKeyConstraint("seq", name=f"pk_{name}"),
        )
        op.create_index(f"ix_{name}_key", name, ["org_id", *key, "seq"])
    bind = op.get_bind()
    now = datetime.now(UTC)
    stamp = sa.DateTime(timezone=True)
    for org_id in bind.execute(sa.text("SELECT id FROM organisations")).scalars().all():
        since = _since(bind, int(org_id), now)
        for name, (live, key, values) in TABLES.items():
            columns = ", ".join((*key, *values))
            bind.execute(
                sa.text(
                    f"INSERT INTO {name} (org_id, {columns}, removed, valid_from, source) "
                    f"SELECT org_id, {columns}, :removed, :since, 'migration' FROM {live} "
                    "WHERE org_id = :org"
                ).bindparams(
                    sa.bindparam("since", type_=stamp), sa.bindparam("removed", type_=sa.Boolean())
                ),
                {"org": org_id, "since": since, "removed": False},
            )


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_index(f"ix_{name}_key", table_name=name)
        op.drop_table(name)
