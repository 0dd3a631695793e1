"""Building the map together: a unit's lead adds, changes and removes the unit's
results, and declares links between a result and a customer unit, which the other
side confirms or disputes (docs/map.md, "Building the map together").

Every row is checked by the importer's own rules (:func:`valuechain.domain.bundle.
check_rows`), so a result or link the API accepts is one a bundle could hold, and a
problem names the column as ``valuechain import`` would. A link a lead declares is
*proposed*; the other side's lead confirms it or disputes it (with a reason); the side
that proposed it may withdraw it while it is not confirmed. An admin's link is
confirmed at once, and an admin may answer for either side. Only confirmed links are
on the map every analysis reads (``store.organisation.read_map``). Each change is
audited and its other side's leads are notified in the same transaction.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from valuechain.domain.bundle import BundleProblem, StoredIds, check_rows
from valuechain.domain.link import LinkState
from valuechain.domain.result import Result
from valuechain.services import audit, notification
from valuechain.services.audit import Actor
from valuechain.services.errors import Conflict, Forbidden, Invalid, NotFound
from valuechain.services.organisation import Valuechain
from valuechain.services.transaction import reading, writing
from valuechain.store import organisation as store

LinkKey = tuple[str, str, str]  # result id, customer id, relation
OPEN_STATES = (LinkState.PROPOSED.value, LinkState.DISPUTED.value)


class MapInputError(Invalid):
    """A result or link the importer's rules refuse: ``errors`` maps each column to
    what was expected and what was found."""

    def __init__(self, problems: Sequence[BundleProblem]) -> None:
        self.errors = {
            p.column or "row": f"expected {p.expected}; found {p.found}" for p in problems
        }
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))

    def extensions(self) -> dict[str, Any]:
        return {"errors": self.errors}


def _cell(value: object) -> str:
    """A JSON value as the cell text a bundle would hold (a float round-trips)."""
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


def _check(conn: Any, org_id: int, table: str, row: Mapping[str, object]) -> Any:
    known = store.known_ids(conn, org_id)
    checked = check_rows(
        table,
        [{k: _cell(v) for k, v in row.items()}],
        StoredIds(units=known["units"], results=known["results"]),
    )
    if checked.org_map is None:
        raise MapInputError(checked.problems)
    return checked.org_map


def _notify(
    vc: Valuechain, conn: Any, units: Sequence[str], kind: str, subject: str, body: str
) -> int:
    sent = 0
    for person in store.leads_of(conn, vc.org_id, units):
        sent += len(notification.notify(vc, person, kind, subject, body, conn=conn))
    return sent


def _result_json(result: Result) -> dict[str, Any]:
    return {**asdict(result), "kind": result.kind.value}


# -- results -------------------------------------------------------------------------


def save_result(
    vc: Valuechain,
    unit_id: str,
    fields: Mapping[str, object],
    actor: Actor,
    *,
    result_id: str | None = None,
) -> dict[str, Any]:
    """Create a result of ``unit_id`` (``result_id`` None: the id is in ``fields``;
    :class:`Conflict` when it is taken) or change the unit's result ``result_id``
    (:class:`NotFound` when the unit has no such result). ``fields`` are the columns
    of ``results.csv`` but ``unit_id``; checked by the importer's rules."""
    creating = result_id is None
    with writing(vc) as conn:
        if store.read_unit(conn, vc.org_id, unit_id) is None:
            raise NotFound(f"no unit with id {unit_id!r}")
        rid = str(fields.get("id", "")) if creating else result_id
        assert rid is not None
        existing = store.read_result(conn, vc.org_id, rid)
        if creating and existing is not None:
            raise Conflict(f"a result with id {rid!r} exists already")
        if not creating and (existing is None or existing.unit_id != unit_id):
            raise NotFound(f"unit {unit_id!r} has no result {rid!r}")
        org_map = _check(conn, vc.org_id, "results", {**fields, "id": rid, "unit_id": unit_id})
        store.write_map(
            conn, vc.org_id, org_map, by=actor.label, source="api",
            scope=store.result_scope(rid),
        )  # fmt: skip
        result = org_map.results[0]
        action = "result_created" if creating else "result_changed"
        audit.record(vc, action, actor, subject=f"result {rid} of {unit_id}", conn=conn)
        if not creating:
            customers = [u for u in store.customers_of_result(conn, vc.org_id, rid) if u != unit_id]
            _notify(
                vc, conn, customers, "map_result",
                f"{result.name} ({rid}) was changed by its producer {unit_id}",
                f"{actor.label} changed the result {rid} of {unit_id}, which your unit uses.",
            )  # fmt: skip
    return _result_json(result)


def remove_result(vc: Valuechain, unit_id: str, result_id: str, actor: Actor) -> dict[str, Any]:
    """Remove the unit's result and every link to it; :class:`Conflict` while another
    record (an agreement, a capacity share…) refers to it."""
    with writing(vc) as conn:
        existing = store.read_result(conn, vc.org_id, result_id)
        if existing is None or existing.unit_id != unit_id:
            raise NotFound(f"unit {unit_id!r} has no result {result_id!r}")
        used = store.result_references(conn, vc.org_id, result_id)
        if used:
            listing = ", ".join(f"{n} in {t}" for t, n in sorted(used.items()))
            raise Conflict(f"result {result_id!r} is still referred to ({listing})")
        customers = [
            u for u in store.customers_of_result(conn, vc.org_id, result_id) if u != unit_id
        ]
        links = store.delete_result(conn, vc.org_id, result_id, by=actor.label)
        audit.record(
            vc, "result_removed", actor, subject=f"result {result_id} of {unit_id}",
            detail=f"{links} link(s) removed with it", conn=conn,
        )  # fmt: skip
        _notify(
            vc, conn, customers, "map_result",
            f"{existing.name} ({result_id}) was removed by its producer {unit_id}",
            f"{actor.label} removed the result {result_id} of {unit_id}, which your unit used.",
        )  # fmt: skip
    return {"removed": result_id, "links_removed": links}


# -- links ---------------------------------------------------------------------------


def link_json(link: store.StoredLink) -> dict[str, Any]:
    """A link with its state, as the API shows it."""
    return asdict(link)


def _key_of(fields: Mapping[str, object]) -> LinkKey:
    return (str(fields["result_id"]), str(fields["customer_id"]), str(fields["relation"]))


def _describe(link: store.StoredLink) -> str:
    return f"{link.customer_id} {link.relation} {link.result_id} (of {link.provider})"


def _other_side(link: store.StoredLink, side: str) -> str:
    return link.customer_id if side == link.provider else link.provider


def propose_link(
    vc: Valuechain, unit_id: str, fields: Mapping[str, object], actor: Actor, *, admin: bool
) -> dict[str, Any]:
    """Declare a link for ``unit_id``, the producer of its result or its customer.
    A lead's link is proposed until the other side answers; an admin's is confirmed.
    :class:`Conflict` when the unit is neither side or the link exists in any state."""
    with writing(vc) as conn:
        if store.read_unit(conn, vc.org_id, unit_id) is None:
            raise NotFound(f"no unit with id {unit_id!r}")
        # What is named must exist (404); then the importer judges the row.
        provider = store.read_result(conn, vc.org_id, str(fields["result_id"]))
        if provider is None:
            raise NotFound(f"no result with id {fields['result_id']!r}")
        if store.read_unit(conn, vc.org_id, str(fields["customer_id"])) is None:
            raise NotFound(f"no unit with id {fields['customer_id']!r}")
        checked = _check(conn, vc.org_id, "links", fields).links[0]
        key = checked.key
        if unit_id not in (provider.unit_id, checked.customer_id):
            raise Conflict(
                f"unit {unit_id!r} is neither the producer of {checked.result_id!r} "
                f"({provider.unit_id!r}) nor the customer {checked.customer_id!r}"
            )
        if store.read_link(conn, vc.org_id, key) is not None:
            raise Conflict(f"the link {' '.join(key)} exists already")
        now = datetime.now(UTC)
        state = LinkState.CONFIRMED if admin else LinkState.PROPOSED
        store.insert_link(
            conn, vc.org_id,
            {
                "result_id": checked.result_id, "customer_id": checked.customer_id,
                "relation": checked.relation.value, "demand": checked.demand,
                "per_item": checked.per_item, "state": state.value,
                "proposed_side": unit_id, "proposed_by": actor.label, "proposed_at": now,
                "answered_by": actor.label if admin else None,
                "answered_at": now if admin else None,
            },
            by=actor.label,
        )  # fmt: skip
        link = store.read_link(conn, vc.org_id, key)
        assert link is not None
        action = "link_created" if admin else "link_proposed"
        audit.record(vc, action, actor, subject=_describe(link), conn=conn)
        other = _other_side(link, unit_id)
        verb = "added" if admin else "proposed; please confirm or dispute it"
        _notify(
            vc, conn, [other], "map_link", f"A link to your unit was {verb.split(';')[0]}",
            f"{actor.label} for {unit_id}: {_describe(link)} was {verb}.",
        )  # fmt: skip
    return link_json(link)


def _open_link(conn: Any, vc: Valuechain, unit_id: str, key: LinkKey) -> store.StoredLink:
    link = store.read_link(conn, vc.org_id, key)
    if link is None:
        raise NotFound(f"no link {' '.join(key)}")
    if unit_id not in (link.provider, link.customer_id):
        raise Conflict(f"unit {unit_id!r} is no side of the link {_describe(link)}")
    return link


def answer_link(
    vc: Valuechain,
    unit_id: str,
    key: LinkKey,
    actor: Actor,
    *,
    admin: bool,
    confirm: bool,
    reason: str | None = None,
) -> dict[str, Any]:
    """The side that did not propose the link confirms it (it joins the map) or
    disputes it with ``reason`` (it stays off the map, on the list of disputes). A
    disputed link may still be confirmed; a confirmed one is not answered again
    (:class:`Conflict`). Only admins answer for the side that proposed."""
    with writing(vc) as conn:
        link = _open_link(conn, vc, unit_id, key)
        allowed = (
            (LinkState.PROPOSED.value, LinkState.DISPUTED.value)
            if confirm
            else (LinkState.PROPOSED.value,)
        )
        if link.state not in allowed:
            raise Conflict(f"the link {_describe(link)} is {link.state}")
        if not admin and link.proposed_side == unit_id:
            raise Forbidden("the other side of the link confirms or disputes it")
        if not confirm and not (reason and reason.strip()):
            raise Invalid("a dispute needs a reason")
        state = LinkState.CONFIRMED if confirm else LinkState.DISPUTED
        store.update_link(
            conn, vc.org_id, key,
            {
                "state": state.value, "answered_by": actor.label,
                "answered_at": datetime.now(UTC), "reason": None if confirm else reason,
            },
            by=actor.label,
        )  # fmt: skip
        audit.record(
            vc, f"link_{state.value}", actor, subject=_describe(link),
            detail=None if confirm else reason, conn=conn,
        )  # fmt: skip
        _notify(
            vc, conn, [_other_side(link, unit_id)], "map_link",
            f"A link your unit proposed was {state.value}",
            f"{actor.label} for {unit_id}: {_describe(link)} was {state.value}"
            + ("." if confirm else f": {reason}"),
        )  # fmt: skip
        changed = store.read_link(conn, vc.org_id, key)
        assert changed is not None
    return link_json(changed)


def withdraw_link(
    vc: Valuechain, unit_id: str, key: LinkKey, actor: Actor, *, admin: bool
) -> dict[str, Any]:
    """The side that proposed a link withdraws it while it is proposed or disputed
    (a confirmed link is on the map: :class:`Conflict`)."""
    with writing(vc) as conn:
        link = _open_link(conn, vc, unit_id, key)
        if link.state not in OPEN_STATES:
            raise Conflict(f"the link {_describe(link)} is {link.state}")
        if not admin and link.proposed_side != unit_id:
            raise Forbidden("only the side that proposed a link withdraws it")
        store.delete_link(conn, vc.org_id, key, by=actor.label)
        audit.record(vc, "link_withdrawn", actor, subject=_describe(link), conn=conn)
        _notify(
            vc, conn, [_other_side(link, unit_id)], "map_link",
            "A proposed link was withdrawn",
            f"{actor.label} for {unit_id} withdrew {_describe(link)}.",
        )  # fmt: skip
    return {**link_json(link), "state": "withdrawn"}


def open_links(
    vc: Valuechain, states: Sequence[str], *, unit_id: str | None, everything: bool
) -> list[dict[str, Any]]:
    """Links in ``states`` (proposed, disputed): all of them with ``everything``
    (admins), else those ``unit_id`` is a side of (nothing without a unit)."""
    if not everything and unit_id is None:
        return []
    with reading(vc) as conn:
        found = store.links_in_states(conn, vc.org_id, states, None if everything else unit_id)
    return [link_json(link) for link in found]


def key_of(fields: Mapping[str, object]) -> LinkKey:
    """The key of a link named by ``result_id``, ``customer_id`` and ``relation``."""
    return _key_of(fields)


# -- reads and steps for the pages ----------------------------------------------------

EVERY_STATE = tuple(s.value for s in LinkState)


@dataclass(frozen=True)
class UnitLinks:
    """One unit's part of the map as its lead edits it: its results, the links to
    each of them in every state (``provided``, by result id), the links in which the
    unit is the customer of another unit's result (``used``), the names of the units
    and results those name, and what a form may suggest: every other unit's name by
    id and the names of other units' results (empty beyond ``suggest`` of either)."""

    unit_id: str
    results: list[Result]
    provided: dict[str, list[store.StoredLink]]
    used: list[store.StoredLink]
    unit_names: dict[str, str]
    result_names: dict[str, str]
    other_units: dict[str, str]
    other_results: list[str]

    @property
    def waiting(self) -> list[store.StoredLink]:
        """Links the other side proposed that wait for this unit's answer, and those
        this unit disputed (it may still confirm them)."""
        every = [link for links in self.provided.values() for link in links] + self.used
        return [
            link
            for link in every
            if link.state in OPEN_STATES and link.proposed_side not in (None, self.unit_id)
        ]


def unit_links(vc: Valuechain, unit_id: str, *, suggest: int = 500) -> UnitLinks:
    """The unit's results and every link it is a side of, in any state, with the
    names a page shows, in one reading; :class:`NotFound` for an unknown unit."""
    with reading(vc) as conn:
        if store.read_unit(conn, vc.org_id, unit_id) is None:
            raise NotFound(f"no unit with id {unit_id!r}")
        results = store.read_results_of(conn, vc.org_id, unit_id)
        links = store.links_in_states(conn, vc.org_id, EVERY_STATE, unit_id)
        chain = vc.chain()
    cols = chain.columns
    provided: dict[str, list[store.StoredLink]] = {r.id: [] for r in results}
    used: list[store.StoredLink] = []
    for link in links:
        if link.provider == unit_id:
            provided.setdefault(link.result_id, []).append(link)
        else:
            used.append(link)
    named = {unit_id} | {x.provider for x in links} | {x.customer_id for x in links}
    units = {u: cols.unit_names[p] for u in named if (p := chain.unit_pos.get(u)) is not None}
    result_names = {
        x.result_id: cols.result_names[chain.result_pos[x.result_id]]
        for x in links
        if x.result_id in chain.result_pos
    }
    own = chain.unit_pos.get(unit_id, -1)
    others = (
        {u: n for u, n in zip(cols.unit_ids, cols.unit_names, strict=True) if u != unit_id}
        if len(cols.unit_ids) <= suggest
        else {}
    )
    other_results = (
        sorted({n for n, p in zip(cols.result_names, cols.result_unit, strict=True) if p != own})
        if len(cols.result_ids) <= suggest
        else []
    )
    return UnitLinks(unit_id, results, provided, used, units, result_names, others, other_results)


def _slug(text: str) -> str:
    """Lower-case ASCII words joined by hyphens (accents dropped), for a readable id."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text.lower()))[:60] or "result"


def add_named_result(
    vc: Valuechain, unit_id: str, fields: Mapping[str, object], actor: Actor
) -> dict[str, Any]:
    """:func:`save_result` for a new result typed by name only: its id is the unit's id
    and the name's words (``payroll-payslips``), with ``-2``, ``-3``… when taken, so
    people never have to invent ids (ids stay in exports and the API)."""
    with writing(vc) as conn:
        taken = store.known_ids(conn, vc.org_id)["results"]
        base = f"{unit_id}-{_slug(str(fields.get('name', '')))}"
        rid = next(
            candidate
            for n in range(1, len(taken) + 2)
            if (candidate := base if n == 1 else f"{base}-{n}") not in taken
        )
        return save_result(vc, unit_id, {**fields, "id": rid}, actor)


def correct_link(
    vc: Valuechain, unit_id: str, key: LinkKey, relation: str, actor: Actor, *, admin: bool
) -> dict[str, Any]:
    """The answering side says "yes, but the relation is ``relation``": in one unit of
    work the proposed link is disputed with that reason (:func:`answer_link`) and the
    corrected link is declared by this side (:func:`propose_link`), so the side that
    proposed first now confirms or disputes the correction. Every rule of those two
    steps holds; :class:`Invalid` when the relation is the same."""
    if relation == key[2]:
        raise Invalid(f"the link already says {relation}: confirm it instead")
    with writing(vc) as conn:
        old = _open_link(conn, vc, unit_id, key)
        answer_link(
            vc, unit_id, key, actor, admin=admin, confirm=False,
            reason=f"the relation is {relation}, not {key[2]}",
        )  # fmt: skip
        return propose_link(
            vc, unit_id,
            {"result_id": key[0], "customer_id": key[1], "relation": relation,
             "demand": old.demand},
            actor, admin=admin,
        )  # fmt: skip
