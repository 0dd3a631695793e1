"""Thanks: on resolution the requester says thank you with one click and a note; the
provider's whole team sees it on its thanks wall."""

from __future__ import annotations

from datetime import UTC, datetime

from valuechain.domain.access import Principal
from valuechain.domain.account import AccountRole
from valuechain.domain.request import Side
from valuechain.services.errors import NotFound
from valuechain.services.organisation import Valuechain
from valuechain.services.request import (
    MAX_NOTE,
    Asker,
    RequestError,
    _step,
    _text,
    _unless_raced,
    get,
    sides,
)
from valuechain.services.request_types import RequestDetail, ThanksEntry
from valuechain.services.transaction import reading, writing
from valuechain.store import request as store


def thank(
    vc: Valuechain,
    asker: Asker,
    request_id: str,
    note: str | None = None,
    *,
    now: datetime | None = None,
) -> RequestDetail:
    """Thank the provider for a resolved request, once, in one durable writing unit
    (the caller's when there is one: the thanks on the request and a ``thank``
    event). Only the customer's side may."""
    clean = _text(note, MAX_NOTE, "note")
    with writing(vc, durable=True) as c:
        at = now or datetime.now(UTC)
        row = store.get_request(c, vc.org_id, request_id)
        if row is None or not sides(asker, row):
            raise NotFound(f"no request with id {request_id!r}")
        if Side.CUSTOMER not in sides(asker, row):
            raise RequestError("only the customer's side can say thank you")
        if row["resolved_at"] is None:
            raise RequestError("a request can be thanked once it is resolved")
        if row["thanked_at"] is not None:
            raise RequestError("this request has been thanked already")
        values = {"thanked_at": at, "thanks_note": clean, "thanked_by": asker.label}
        with _unless_raced():
            _step(
                c,
                vc,
                request_id,
                row,
                values,
                {
                    "at": at,
                    "actor": asker.label,
                    "verb": "thank",
                    "from_state": row["state"],
                    "to_state": row["state"],
                    "note": clean,
                },
            )
        return get(vc, asker, request_id, now)


def wall(vc: Valuechain, unit_id: str, limit: int = 100) -> list[ThanksEntry]:
    """The thanks a unit received, newest first: the request, the thanking unit,
    who thanked and their note."""
    with reading(vc) as conn:
        rows = store.thanks_for(conn, vc.org_id, unit_id, limit)
        names = vc.describe_units({r["customer_id"] for r in rows})
    return [
        {
            "request": r["id"],
            "title": r["title"],
            "customer": r["customer_id"],
            "customer_name": names.get(r["customer_id"], {}).get("name", r["customer_id"]),
            "at": r["thanked_at"].isoformat(),
            "note": r["thanks_note"],
            "by": r["thanked_by"],
        }
        for r in rows
    ]


def may_see_wall(principal: Principal, unit_id: str) -> bool:
    """A unit's whole team (its members and lead) and admins see its thanks wall."""
    return principal.role is AccountRole.ADMIN or (
        principal.role is not AccountRole.VIEWER and principal.unit_id == unit_id
    )
