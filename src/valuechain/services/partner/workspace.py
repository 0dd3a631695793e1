"""The relationship workspace: each side records its challenges, needs and values,
sees the other side's, and marks where they align or conflict (the "learn each
side's challenges, needs and values; resolve and align" steps of the cycle)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from valuechain.domain.access import Principal
from valuechain.domain.account import AccountRole
from valuechain.services.errors import Invalid, NotFound
from valuechain.services.organisation import Valuechain
from valuechain.services.partner.relationship import require
from valuechain.services.partner.types import (
    EntryKind,
    EntryShown,
    Side,
    StoredEntry,
    Workspace,
    WorkspaceSummary,
)
from valuechain.services.transaction import reading, writing
from valuechain.store import partner as store
from valuechain.store.tables import ALIGNMENTS, WORKSPACE_KINDS

MAX_TEXT = 2000
# The stored vocabularies as the types name them (tests/test_api_types.py: the same words).
_SIDES: tuple[Side, ...] = ("provider", "customer")
_KINDS: dict[str, EntryKind] = {"challenge": "challenge", "need": "need", "value": "value"}


def _stored(row: dict[str, Any]) -> StoredEntry:
    """A stored entry row with the keys an entry has."""
    return {
        "id": row["id"],
        "provider_id": row["provider_id"],
        "customer_id": row["customer_id"],
        "side": row["side"],
        "kind": row["kind"],
        "text": row["text"],
        "alignment": row["alignment"],
        "counterpart_id": row["counterpart_id"],
        "created_at": row["created_at"],
        "author_account_id": row["author_account_id"],
    }


class WorkspaceError(Invalid):
    """A workspace entry or mark that cannot be stored as given."""


def side_of(principal: Principal, provider: str, customer: str, side: str | None = None) -> Side:
    """The side ``principal`` speaks for: their unit's; an admin (facilitator) names it."""
    if principal.unit_id == provider and principal.role is not AccountRole.ADMIN:
        return "provider"
    if principal.unit_id == customer and principal.role is not AccountRole.ADMIN:
        return "customer"
    for named in _SIDES:
        if side == named:
            return named
    raise WorkspaceError("say which side this is for: provider or customer")


def add_entry(
    vc: Valuechain,
    principal: Principal,
    provider: str,
    customer: str,
    kind: str,
    text: str,
    side: str | None = None,
) -> StoredEntry:
    """Record a challenge, need or value for the principal's side of the relationship."""
    with writing(vc):
        require(vc, provider, customer)
        entry_kind = _KINDS.get(kind)
        if entry_kind is None:
            raise WorkspaceError(f"kind must be one of {', '.join(WORKSPACE_KINDS)}, not {kind!r}")
        clean = " ".join(text.split())
        if not clean:
            raise WorkspaceError("write something: the entry is empty")
        if len(clean) > MAX_TEXT:
            raise WorkspaceError(f"keep it under {MAX_TEXT} characters (got {len(clean)})")
        row: StoredEntry = {
            "id": uuid.uuid4().hex[:16],
            "provider_id": provider,
            "customer_id": customer,
            "side": side_of(principal, provider, customer, side),
            "kind": entry_kind,
            "text": clean,
            "alignment": None,
            "counterpart_id": None,
            "author_account_id": principal.account_id,
            "created_at": datetime.now(UTC),
        }
        with writing(vc) as conn:
            store.insert_entry(conn, vc.org_id, dict(row))
        return row


def workspace(vc: Valuechain, provider: str, customer: str) -> Workspace:
    """Both sides' entries, grouped by side and kind, with their alignment marks."""
    with reading(vc):
        require(vc, provider, customer)
        with reading(vc) as conn:
            rows = store.entries(conn, vc.org_id, provider, customer)
        grouped: dict[Side, dict[EntryKind, list[EntryShown]]] = {
            side: {kind: [] for kind in _KINDS.values()} for side in _SIDES
        }
        for row in rows:
            grouped[row["side"]][row["kind"]].append(
                {
                    "id": row["id"],
                    "text": row["text"],
                    "alignment": row["alignment"],
                    "counterpart": row["counterpart_id"],
                    "created_on": row["created_at"].date().isoformat(),
                }
            )
        conflicts = sum(1 for r in rows if r["alignment"] == "conflict")
        aligned = sum(1 for r in rows if r["alignment"] == "aligned")
        return {
            "provider": provider,
            "customer": customer,
            "sides": grouped,
            "aligned": aligned,
            "conflicts": conflicts,
        }


def mark(
    vc: Valuechain,
    principal: Principal,
    provider: str,
    customer: str,
    entry_id: str,
    alignment: str | None,
    counterpart: str | None = None,
) -> StoredEntry:
    """Mark another side's entry as aligned with or in conflict with (optionally) one
    of one's own; ``None`` clears the mark. Only the other side (or an admin) marks."""
    with writing(vc):
        require(vc, provider, customer)
        if alignment is not None and alignment not in ALIGNMENTS:
            raise WorkspaceError(f"mark must be one of {', '.join(ALIGNMENTS)}, not {alignment!r}")
        with writing(vc) as conn:
            row = store.entry(conn, vc.org_id, entry_id)
            if row is None or (row["provider_id"], row["customer_id"]) != (provider, customer):
                raise NotFound(f"no workspace entry {entry_id!r} in this relationship")
            if principal.role is not AccountRole.ADMIN:
                own = side_of(principal, provider, customer)
                if own == row["side"]:
                    raise WorkspaceError("the other side marks your entries; mark theirs")
            if counterpart is not None:
                other = store.entry(conn, vc.org_id, counterpart)
                if (
                    other is None
                    or other["side"] == row["side"]
                    or (
                        other["provider_id"],
                        other["customer_id"],
                    )
                    != (provider, customer)
                ):
                    raise WorkspaceError("the counterpart must be an entry of the other side")
            store.mark_entry(conn, vc.org_id, entry_id, alignment, counterpart)
            row.update(alignment=alignment, counterpart_id=counterpart)
        return _stored(row)


def facilitator_view(vc: Valuechain) -> list[WorkspaceSummary]:
    """Per relationship with a workspace: entries per side, aligned and conflicts."""
    with reading(vc) as conn:
        rows = store.entries(conn, vc.org_id)
    summary: dict[tuple[str, str], WorkspaceSummary] = {}
    for row in rows:
        key = (row["provider_id"], row["customer_id"])
        entry = summary.setdefault(
            key,
            {
                "provider": key[0],
                "customer": key[1],
                "provider_entries": 0,
                "customer_entries": 0,
                "aligned": 0,
                "conflicts": 0,
            },
        )
        if row["side"] == "provider":
            entry["provider_entries"] += 1
        else:
            entry["customer_entries"] += 1
        if row["alignment"] == "aligned":
            entry["aligned"] += 1
        elif row["alignment"] == "conflict":
            entry["conflicts"] += 1
    return sorted(summary.values(), key=lambda e: (-e["conflicts"], e["provider"], e["customer"]))
