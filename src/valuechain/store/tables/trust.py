"""Trust: accounts, sessions, sign-in limits, the audit log and idempotency keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from valuechain.store.tables.base import Base, one_of

ACCOUNT_ROLES = ("admin", "lead", "member", "viewer")


# -- trust: accounts, sessions, sign-in limits, audit log --------------------------
#
# Times are stored in UTC. Ids are random text (accounts, failures) or time-ordered
# text (audit events), so every table can be keyed by (org_id, id) like the map.


class AccountRow(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
        CheckConstraint(one_of("role", ACCOUNT_ROLES), name="role"),
        UniqueConstraint("org_id", "email", name="uq_accounts_org_email"),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Stored normalised (trimmed, case-folded); see domain.account.normalise_email.
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16))
    # No foreign key: a re-import with --replace rewrites people, and an account must
    # survive that; the link is resolved by id when the account signs in.
    person_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # argon2id in PHC string form; NULL for an account that cannot sign in with a
    # password (the demo admin, later single sign-on accounts).
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SessionRow(Base):
    __tablename__ = "sessions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "account_id"],
            ["accounts.org_id", "accounts.id"],
            name="fk_sessions_account",
            ondelete="CASCADE",
        ),
        Index("ix_sessions_org_account", "org_id", "account_id"),
        Index("ix_sessions_org_expires", "org_id", "expires_at"),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # SHA-256 of the 256-bit token in the cookie: a copy of the table signs no one in.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(300), nullable=True)


class SignInFailureRow(Base):
    __tablename__ = "sign_in_failures"
    __table_args__ = (
        ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
        Index("ix_sign_in_failures_org_key_at", "org_id", "key", "at"),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # "account:<email>" or "address:<ip>": one table serves both limits.
    key: Mapped[str] = mapped_column(String(400))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        # No cascade: deleting an organisation must not silently erase its audit trail.
        ForeignKeyConstraint(["org_id"], ["organisations.id"]),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Time-ordered: the UTC time in microseconds, then random digits (see store.audit).
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Who: the account's id and email at the time (the email stays readable after the
    # account is gone), or "cli:<os user>" for the command line; None when unknown.
    actor_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    actor: Mapped[str | None] = mapped_column(String(400), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    # What it was done to: an account's email, a bundle path, ...
    subject: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    outcome: Mapped[str] = mapped_column(String(32))
    # From where: the client address, or "cli".
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(2000), nullable=True)


# -- trust: idempotency keys ---------------------------------------------------------
#
# One row per (organisation, who, key): the stored answer to a state-changing request
# sent with an ``Idempotency-Key`` header, written in the same transaction as the
# change it answers (see services.idempotency).


class IdempotencyKeyRow(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
        Index("ix_idempotency_keys_org_created", "org_id", "created_at"),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Whose key: "account:<id>" (keys of different callers never meet).
    scope: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(1000))
    # SHA-256 (hex) of the request body as received.
    request_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100))
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
