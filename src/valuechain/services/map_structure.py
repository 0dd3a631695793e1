"""The organisation's structure through the API: units and the people on the map,
added, changed and removed one row at a time (docs/map.md, "Changing units and people
through the API").

Every row is checked by the importer's own rules (:func:`valuechain.domain.bundle.
check_rows`, the row checks of ``units.csv`` and ``people.csv``): a unit's parent must
exist and make no cycle, a person's email must be free, and a problem names the column
as ``valuechain import`` would. Admins do all of it; a unit's own lead may rename it
(``name_unit``) but not change its kind, parent or headcount. As for links, a unit
the row names that does not exist (a parent, a person's unit) is :class:`NotFound`.

A unit is removed only when nothing refers to it any more (its results, links, people,
units below it, agreements, requests, campaigns, responses, outcomes…): the admin
expects the unit's history to stay readable, so the refusal (:class:`Conflict`) lists
what still names it instead of taking it along. A person *leaves* the organisation:
their row goes off the map and their accounts can no longer sign in, while what they
left behind (requests, audit events, workspace entries) stays as it was. That is not
the erasure of ``services.person`` (data rights), which pseudonymises them everywhere.

Each change is audited (ids only, so an erasure has no name to chase) and tells the
leads of the units concerned (kind ``map_unit``), in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from valuechain.domain.bundle import StoredIds, check_rows
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.person import Person
from valuechain.domain.unit import Unit
from valuechain.services import audit, notification
from valuechain.services.audit import Actor
from valuechain.services.errors import Conflict, Forbidden, NotFound
from valuechain.services.map_edit import MapInputError
from valuechain.services.map_types import PersonLeft, PersonRow, UnitRemoved, UnitRow
from valuechain.services.organisation import Valuechain
from valuechain.services.transaction import reading, writing
from valuechain.store import accounts as account_store
from valuechain.store import organisation as store

NOTICE = "map_unit"


class EmailTaken(Conflict, MapInputError):
    """A person's email that another stored person holds: taken, like an id (409),
    with the importer's problems in ``errors`` as for any refused row."""


def _cell(value: object) -> str:
    """A JSON value as the cell text a bundle would hold."""
    return "" if value is None else str(value)


def _stored(conn: Any, org_id: int, table: str, row: Mapping[str, str]) -> StoredIds:
    """What is stored that the row can name or clash with, read by key: the row's own
    id, the unit it names, the parents above that unit (for the cycle check) and the
    holder of its email. The importer reads every id instead; the checks only ever ask
    about these, so the verdict is the same, in milliseconds at 100,000 people."""
    if table == "units":
        parent = row.get("parent_id", "")
        return StoredIds(
            units=store.existing_units(conn, org_id, [row["id"], parent]),
            unit_parents=store.parent_chain(conn, org_id, parent) if parent else {},
        )
    return StoredIds(
        units=store.existing_units(conn, org_id, [row.get("unit_id", "")]),
        people=store.existing_person(conn, org_id, row["id"]),
        emails=store.email_owner(conn, org_id, row.get("email", "")),
    )


def _check(conn: Any, org_id: int, table: str, row: Mapping[str, object]) -> OrganisationMap:
    """The row checked as a line of ``{table}.csv`` against what is stored, as an
    import by id would check it; :class:`MapInputError` with its problems."""
    cells = {k: _cell(v) for k, v in row.items()}
    stored = _stored(conn, org_id, table, cells)
    checked = check_rows(table, [cells], stored)
    if checked.org_map is None:
        owner = stored.emails.get(cells.get("email", ""))
        taken = owner is not None and owner != cells["id"]
        raise (EmailTaken if taken else MapInputError)(checked.problems)
    return checked.org_map


def _named_unit(conn: Any, org_id: int, fields: Mapping[str, object], column: str) -> None:
    """What a row names must exist (:class:`NotFound`, as for links in
    ``services.map_edit``); the importer's rules then judge the row."""
    value = fields.get(column)
    if value is None or not str(value).strip():
        return  # empty: the row check says whether it may be
    if store.read_unit(conn, org_id, str(value)) is None:
        raise NotFound(f"no unit with id {value!r} ({column})")


def _notify(vc: Valuechain, conn: Any, units: Sequence[str], subject: str, body: str) -> None:
    for person in store.leads_of(conn, vc.org_id, sorted(set(units))):
        notification.notify(vc, person, NOTICE, subject, body, conn=conn)


def _unit_json(unit: Unit) -> UnitRow:
    return {
        "id": unit.id,
        "name": unit.name,
        "kind": unit.kind,
        "parent_id": unit.parent_id,
        "headcount": unit.headcount,
    }


def _person_json(person: Person) -> PersonRow:
    return {
        "id": person.id,
        "name": person.name,
        "email": person.email,
        "unit_id": person.unit_id,
        "role": person.role,
    }


# -- units ---------------------------------------------------------------------------


def read_unit(vc: Valuechain, unit_id: str) -> UnitRow:
    """One unit as its row of ``units.csv``; :class:`NotFound` when there is none."""
    with reading(vc) as conn:
        unit = store.read_unit(conn, vc.org_id, unit_id)
    if unit is None:
        raise NotFound(f"no unit with id {unit_id!r}")
    return _unit_json(unit)


def create_unit(vc: Valuechain, fields: Mapping[str, object], actor: Actor) -> UnitRow:
    """Add a unit: ``fields`` are the columns of ``units.csv``, checked by the
    importer's rules; :class:`Conflict` when the id is taken."""
    with writing(vc) as conn:
        unit_id = str(fields.get("id", ""))
        if store.read_unit(conn, vc.org_id, unit_id) is not None:
            raise Conflict(f"a unit with id {unit_id!r} exists already")
        _named_unit(conn, vc.org_id, fields, "parent_id")
        unit = _check(conn, vc.org_id, "units", fields).units[0]
        store.write_map(
            conn, vc.org_id, OrganisationMap(units=[unit]), by=actor.label, source="api",
            scope=store.unit_scope(unit.id),
        )  # fmt: skip
        audit.record(vc, "unit_created", actor, subject=f"unit {unit.id}", conn=conn)
        if unit.parent_id is not None:
            _notify(
                vc, conn, [unit.parent_id], f"A unit was added to {unit.parent_id}",
                f"{actor.label} added the unit {unit.id} below {unit.parent_id}.",
            )  # fmt: skip
    return _unit_json(unit)


def change_unit(
    vc: Valuechain, unit_id: str, fields: Mapping[str, object], actor: Actor, *, admin: bool
) -> UnitRow:
    """Change the unit's columns of ``units.csv`` but its id (all at once, checked by
    the importer's rules: a parent that would make a cycle is refused). A lead
    (``admin`` False) may change the name only: :class:`Forbidden` when the kind,
    parent or headcount would change. The unit's leads are told."""
    with writing(vc) as conn:
        before = store.read_unit(conn, vc.org_id, unit_id)
        if before is None:
            raise NotFound(f"no unit with id {unit_id!r}")
        _named_unit(conn, vc.org_id, {**fields, "id": unit_id}, "parent_id")
        unit = _check(conn, vc.org_id, "units", {**fields, "id": unit_id}).units[0]
        moved = (unit.kind, unit.parent_id, unit.headcount) != (
            before.kind,
            before.parent_id,
            before.headcount,
        )
        if moved and not admin:
            raise Forbidden("a unit's lead changes its name only; its kind, parent and "
                            "headcount are changed by an admin")  # fmt: skip
        store.write_map(
            conn, vc.org_id, OrganisationMap(units=[unit]), by=actor.label, source="api",
            scope=store.unit_scope(unit.id),
        )  # fmt: skip
        said = [
            f"{name} {old!r} → {new!r}"
            for name, old, new in (
                ("name", before.name, unit.name),
                ("kind", before.kind.value, unit.kind.value),
                ("parent_id", before.parent_id, unit.parent_id),
                ("headcount", before.headcount, unit.headcount),
            )
            if old != new
        ]
        audit.record(
            vc, "unit_changed", actor, subject=f"unit {unit_id}",
            detail="; ".join(said) or "unchanged", conn=conn,
        )  # fmt: skip
        if said:
            _notify(
                vc, conn, [unit_id], f"Your unit {unit_id} was changed on the map",
                f"{actor.label} changed the unit {unit_id}: {'; '.join(said)}.",
            )  # fmt: skip
    return _unit_json(unit)


def remove_unit(vc: Valuechain, unit_id: str, actor: Actor) -> UnitRemoved:
    """Remove a unit nothing refers to; :class:`Conflict` naming what still does (its
    results, links, people, units below it, agreements, requests, campaigns…)."""
    with writing(vc) as conn:
        if store.read_unit(conn, vc.org_id, unit_id) is None:
            raise NotFound(f"no unit with id {unit_id!r}")
        used = store.unit_references(conn, vc.org_id, unit_id)
        if used:
            listing = ", ".join(f"{n} in {t}" for t, n in sorted(used.items()))
            raise Conflict(
                f"unit {unit_id!r} is still referred to ({listing}); move or remove those first"
            )
        store.delete_unit(conn, vc.org_id, unit_id, by=actor.label)
        audit.record(vc, "unit_removed", actor, subject=f"unit {unit_id}", conn=conn)
    return {"removed": unit_id}


# -- people --------------------------------------------------------------------------


def save_person(
    vc: Valuechain,
    fields: Mapping[str, object],
    actor: Actor,
    *,
    person_id: str | None = None,
) -> PersonRow:
    """Add a person (``person_id`` None: the id is in ``fields``; :class:`Conflict`
    when it is taken) or change the person ``person_id`` (:class:`NotFound` when there
    is none). ``fields`` are the columns of ``people.csv``, checked by the importer's
    rules (an email another person holds is refused). The leads of the units the
    person joins or leaves are told."""
    creating = person_id is None
    with writing(vc) as conn:
        pid = str(fields.get("id", "")) if creating else person_id
        assert pid is not None
        before = store.read_person(conn, vc.org_id, pid)
        if creating and before is not None:
            raise Conflict(f"a person with id {pid!r} exists already")
        if not creating and before is None:
            raise NotFound(f"no person with id {pid!r}")
        _named_unit(conn, vc.org_id, fields, "unit_id")
        person = _check(conn, vc.org_id, "people", {**fields, "id": pid}).people[0]
        # People have no history of their own (yet): no map row to look at.
        store.write_map(conn, vc.org_id, OrganisationMap(people=[person]), scope={})
        if before is None:
            audit.record(
                vc, "person_added", actor, subject=f"person {pid}",
                detail=f"unit {person.unit_id}, role {person.role.value}", conn=conn,
            )  # fmt: skip
            _notify(
                vc, conn, [person.unit_id], f"Someone joined your unit {person.unit_id}",
                f"{actor.label} added {person.name} to the unit {person.unit_id}.",
            )  # fmt: skip
        else:
            said = [
                f"{name} {old} → {new}"
                for name, old, new in (
                    ("unit", before.unit_id, person.unit_id),
                    ("role", before.role.value, person.role.value),
                )
                if old != new
            ]
            said += [n for n in ("name", "email") if getattr(before, n) != getattr(person, n)]
            audit.record(
                vc, "person_changed", actor, subject=f"person {pid}",
                detail="; ".join(said) or "unchanged", conn=conn,
            )  # fmt: skip
            if before.unit_id != person.unit_id:
                _notify(
                    vc, conn, [before.unit_id, person.unit_id],
                    f"{person.name} moved from {before.unit_id} to {person.unit_id}",
                    f"{actor.label} moved {person.name} from the unit {before.unit_id} "
                    f"to {person.unit_id}.",
                )  # fmt: skip
    return _person_json(person)


def leave(vc: Valuechain, person_id: str, actor: Actor) -> PersonLeft:
    """The person leaves the organisation: their row goes off the map and every
    account linked to them is disabled with its sessions ended, in one transaction.
    What they left behind stays (see the module docstring); erasure is
    ``services.person.erase_person``."""
    with writing(vc) as conn:
        person = store.read_person(conn, vc.org_id, person_id)
        if person is None:
            raise NotFound(f"no person with id {person_id!r} on the map")
        accounts = account_store.account_ids_of_person(conn, vc.org_id, person_id)
        ended = 0
        for account_id in accounts:
            account_store.update_account(conn, vc.org_id, account_id, active=False)
            ended += account_store.delete_sessions_of(conn, vc.org_id, account_id)
        store.delete_person(conn, vc.org_id, person_id)
        audit.record(
            vc, "person_left", actor, subject=f"person {person_id}",
            detail=f"unit {person.unit_id}; {len(accounts)} account(s) disabled, "
            f"{ended} session(s) ended", conn=conn,
        )  # fmt: skip
        _notify(
            vc, conn, [person.unit_id], f"{person.name} left your unit {person.unit_id}",
            f"{actor.label} recorded that {person.name} left the organisation.",
        )  # fmt: skip
    return {
        "left": person_id,
        "unit_id": person.unit_id,
        "accounts_deactivated": len(accounts),
        "sessions_ended": ended,
    }
