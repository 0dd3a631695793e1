"""The map's history (docs/map.md, "History"): the map as of a past moment, what
changed between two moments, and what changed about one unit's results and links.

Every change to the map is kept by :mod:`valuechain.store.history` in the transaction
that made it; these use cases only read it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from valuechain.services.errors import Invalid, NotFound
from valuechain.services.map_view import with_tree
from valuechain.services.organisation import Chain, Valuechain, build_chain
from valuechain.services.transaction import reading
from valuechain.store import history as store
from valuechain.store import organisation as map_store

#: The last instant of a day: the map "as of 2026-03-01" holds that day's changes.
END_OF_DAY = time(23, 59, 59, 999999)


def moment(text: str, *, name: str = "as_of") -> datetime:
    """``text`` as a moment in UTC: a date (``2026-03-01``) is the end of that day; a
    date and time without an offset is UTC. :class:`Invalid` when it is neither."""
    value = text.strip()
    try:
        if len(value) == len("2026-03-01"):
            return datetime.combine(date.fromisoformat(value), END_OF_DAY, tzinfo=UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(
            f"{name}: expected a date (2026-03-01) or a date and time; found {text!r}"
        ) from None
    return store.utc(parsed)


def chain_as_of(vc: Valuechain, when: datetime) -> Chain:
    """The graph and derived facts of the map as it was at ``when``."""
    with reading(vc) as conn:
        columns = map_store.read_graph_columns_as_of(conn, vc.org_id, when)
    return build_chain(-1, columns)


def chains_as_of(vc: Valuechain, moments: Sequence[datetime]) -> list[Chain]:
    """The map as it was at each of ``moments`` (for an analysis over months); a
    moment before the history begins reads the first map it holds. Moments between
    the same two changes share one graph, so a year of months on a map imported once
    reads it once."""
    with reading(vc) as conn:
        changes = store.change_moments(conn, vc.org_id)
    built: dict[int, Chain] = {}
    chains = []
    for when in moments:
        if changes:
            when = max(when, changes[0])
        state = bisect_right(changes, when)
        if state not in built:
            built[state] = chain_as_of(vc, when)
        chains.append(built[state])
    return chains


def end_of_month(month: str) -> datetime:
    """The last instant of ``month`` (``YYYY-MM``) in UTC."""
    year, number = (int(part) for part in month.split("-"))
    following = date(year + number // 12, number % 12 + 1, 1)
    return datetime.combine(following, time(0), tzinfo=UTC) - timedelta(microseconds=1)


def map_as_of(vc: Valuechain, when: datetime, start: int, stop: int) -> dict[str, Any]:
    """The units at positions ``start`` to ``stop`` of the map as it was at ``when``,
    with their results, the links to them and the map's totals then: the same
    document as :meth:`Valuechain.map_page` for today, built from the history."""
    chain = chain_as_of(vc, when)
    return {
        # With each unit's parent and headcount, as today's page has them (map_view).
        "units": with_tree(chain, list(vc.iter_unit_summaries(start, stop, chain=chain))),
        "results": list(vc.iter_map_results(start, stop, chain=chain)),
        "links": list(vc.iter_map_links(start, stop, chain=chain)),
        "total": vc.map_totals(chain=chain),
    }


def _who(labels: dict[str, str], label: str | None) -> str | None:
    return None if label is None else labels.get(label, label)


def changes(
    vc: Valuechain, start: datetime, stop: datetime, offset: int, limit: int
) -> dict[str, Any]:
    """The units, results and links that appeared, went away or changed between
    ``start`` and ``stop`` (each ordered by key, rows ``offset`` to ``offset + limit``
    of each), with who made the last change (a name where the map knows the person)
    and when; ``total`` counts every difference of each kind. :class:`Invalid` when
    ``stop`` is before ``start``."""
    if stop < start:
        raise Invalid("to: expected a moment after from")
    with reading(vc) as conn:
        found: dict[str, Any] = {}
        total: dict[str, int] = {}
        for kind, plural in zip(store.KINDS, ("units", "results", "links"), strict=True):
            total[plural], found[plural] = store.changes_between(
                conn, vc.org_id, kind, start, stop, offset, limit
            )
        labels = store.names_of_labels(
            conn, vc.org_id, [c.by for rows in found.values() for c in rows if c.by]
        )
    doc: dict[str, Any] = {"from": start, "to": stop, "total": total}
    for plural, rows in found.items():
        doc[plural] = [
            {
                **dict(zip(kind_key(c.kind), c.key, strict=True)),
                "change": c.change,
                "before": c.before,
                "after": c.after,
                "changed_by": _who(labels, c.by),
                "changed_at": c.at,
                "source": c.source,
            }
            for c in rows
        ]
    return doc


def kind_key(kind: str) -> tuple[str, ...]:
    """The names of a kind's key columns (``id``, or a link's three)."""
    return {k.name: k.key for k in store.KINDS}[kind]


#: At most this many versions on a unit's page.
UNIT_HISTORY_LIMIT = 200


def unit_history(vc: Valuechain, unit_id: str, limit: int = UNIT_HISTORY_LIMIT) -> dict[str, Any]:
    """What changed about the unit's results and links, newest first: what (a result
    or link named by names), the change and the fields it changed, who (a name) and
    when; at most ``limit`` versions, ``total`` counting all. :class:`NotFound` for a
    unit that is not on the map today."""
    with reading(vc) as conn:
        unit = map_store.read_unit(conn, vc.org_id, unit_id)
        if unit is None:
            raise NotFound(f"no unit with id {unit_id!r}")
        versions = store.unit_versions(conn, vc.org_id, unit_id)
        labels = store.names_of_labels(conn, vc.org_id, [v.by for v in versions if v.by])
        shown = versions[:limit]
        # Inside the same unit of work: one connection for the whole page.
        units, results = vc.names(
            {v.key[1] for v in shown if v.kind == "link"}, {v.key[0] for v in shown}
        )
    # A result that is gone today keeps the name its last version had.
    for v in shown:
        if v.kind == "result":
            results.setdefault(v.key[0], str(v.values["name"]))
    rows = []
    for v in shown:
        if v.kind == "result":
            what = f"result {v.values['name']}"
        else:
            result_id, customer, relation = v.key
            what = (
                f"link: {units.get(customer, {}).get('name', customer)} "
                f"{relation.replace('_', ' ')} "
                f"{results.get(result_id, result_id)}"
            )
        rows.append(
            {
                "kind": v.kind,
                "key": list(v.key),
                "what": what,
                "change": v.change,
                "fields": list(v.fields),
                "values": v.values,
                "changed_by": _who(labels, v.by),
                "changed_at": v.at,
                "source": v.source,
            }
        )
    return {
        "unit": asdict(unit) | {"kind": unit.kind.value},
        "total": len(versions),
        "changes": rows,
    }
