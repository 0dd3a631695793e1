"""The entry object: open an organisation, ask it questions, get plain data back.

The CLI, the JSON API, the web pages and the jobs are thin layers over
:class:`Valuechain`; a script can use it directly::

    from valuechain import Valuechain
    vc = Valuechain.open()              # VALUECHAIN_DATABASE_URL or ./valuechain.db
    vc.customers("packing")["indirect"]
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine

from valuechain.analytics.customer import (
    NO_DEPTH,
    ChainGraph,
    MapFacts,
    build_graph,
    customers_of,
    map_facts,
    unpack_external,
)
from valuechain.domain.link import Relation
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.unit import UnitKind
from valuechain.services import summary
from valuechain.services.errors import Conflict, NotFound
from valuechain.services.security import Security
from valuechain.services.transaction import reading, writing
from valuechain.store import agreement as agreement_store
from valuechain.store import calendar as calendar_store
from valuechain.store import campaign as campaign_store
from valuechain.store import commitment as commitment_store
from valuechain.store import measure as measure_store
from valuechain.store import organisation as store
from valuechain.store import outcome as outcome_store
from valuechain.store import request as request_store
from valuechain.store.database import MissingDatabase, contents, make_engine, upgrade

RELATIONS = [r.value for r in Relation]
DEFAULT_ORGANISATION = "default"


@dataclass(frozen=True)
class Chain:
    """One snapshot of an organisation's graph with its derived facts."""

    version: int
    columns: store.GraphColumns
    graph: ChainGraph
    facts: MapFacts
    unit_pos: dict[str, int]
    result_pos: dict[str, int]

    def position(self, unit_id: str) -> int:
        try:
            return self.unit_pos[unit_id]
        except KeyError:
            raise NotFound(f"no unit with id {unit_id!r}") from None


def _no_organisation(organisation: str, engine: Engine) -> str:
    where = engine.url.render_as_string(hide_password=True)
    return (
        f"no organisation {organisation!r} in the database {where} (check "
        "VALUECHAIN_ORGANISATION; only an import or a new account makes a new one)"
    )


# The chain last found current, and the unit of work's connection it was checked on: a
# use case asks for the chain many times and reads the map version once. Only write_map
# changes the version (and drops the cached chain), so it cannot change unseen in a unit.
_CHECKED: ContextVar[tuple[Connection, Chain] | None] = ContextVar(
    "valuechain_chain_checked", default=None
)


class Valuechain:
    """One organisation in one database."""

    def __init__(
        self,
        engine: Engine,
        organisation: str = DEFAULT_ORGANISATION,
        *,
        create: bool = False,
        security: Security | None = None,
    ) -> None:
        """Organisation ``organisation`` in the database at ``engine``; made with
        ``create``, else :class:`NotFound` when the database does not hold it."""
        self.engine = engine
        self.organisation = organisation
        # Password hashing, session lifetime and sign-in limits (services.accounts).
        self.security = security or Security()
        with writing(engine) if create else reading(engine) as conn:
            org_id = store.organisation_id(conn, organisation, create=create)
        if org_id is None:
            raise NotFound(_no_organisation(organisation, engine))
        self.org_id = org_id
        self._chain: Chain | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls,
        url: str | None = None,
        organisation: str = DEFAULT_ORGANISATION,
        *,
        create: bool = False,
        security: Security | None = None,
    ) -> Valuechain:
        """Open the database at ``url`` (migrated to the newest schema) and one
        organisation in it. Without ``create`` a missing SQLite file or an unknown
        organisation is :class:`NotFound` and nothing is written, not even a
        migration; with it, both are made (an import, the demo, a new account)."""
        try:
            engine = make_engine(url, migrate=create, create=create)
        except MissingDatabase as error:
            raise NotFound(str(error)) from None
        if not create:
            with reading(engine) as conn:
                known = store.has_organisation(conn, organisation)
            if not known:
                message = _no_organisation(organisation, engine)
                engine.dispose()
                raise NotFound(message)
            upgrade(engine)
        return cls(engine, organisation, create=create, security=security)

    @classmethod
    def serve(
        cls,
        url: str | None = None,
        organisation: str = DEFAULT_ORGANISATION,
        *,
        security: Security | None = None,
    ) -> Valuechain:
        """Open for serving the web app. A database that holds no organisation yet (a
        missing SQLite file, an empty PostgreSQL database) is a fresh deployment: it is
        made, so its first admin can sign up at ``/setup``. A database that holds other
        organisations but not this one is :class:`NotFound`: a mistyped
        ``VALUECHAIN_ORGANISATION`` must not start an empty organisation."""
        try:
            return cls.open(url, organisation, security=security)
        except NotFound:
            engine = make_engine(url, migrate=False, create=True)
            try:
                existing = contents(engine).organisations
            finally:
                engine.dispose()
            if existing:
                raise
        return cls.open(url, organisation, create=True, security=security)

    # -- the map -------------------------------------------------------------------

    def read_map(self) -> OrganisationMap:
        """Everything stored about the organisation's map."""
        with reading(self) as conn:
            return store.read_map(conn, self.org_id)

    def write_map(
        self,
        org_map: OrganisationMap,
        *,
        replace: bool = False,
        by: str | None = None,
        source: str = "import",
    ) -> store.WriteCounts:
        """Store a map in one transaction (by id, or replacing the organisation), its
        history recording the change as made by ``by`` through ``source``."""
        with writing(self) as conn:
            if replace:
                measure_store.delete_survey(conn, self.org_id)
                outcome_store.delete_outcomes(conn, self.org_id)
                agreement_store.delete_agree(conn, self.org_id)
                calendar_store.delete_calendars(conn, self.org_id)
                request_store.delete_all(conn, self.org_id)
            survey = org_map.survey_columns()
            if not replace and len(survey):
                _refuse_late_responses(conn, self.org_id, survey.ids, survey.campaign)
            counts = store.write_map(
                conn, self.org_id, org_map, replace=replace, by=by, source=source
            )
            if org_map.instruments or len(survey):
                ahead = summary.summarise_ahead(conn, self.org_id, survey, org_map.instruments)
                try:
                    measure_store.write_survey(conn, self.org_id, org_map.instruments, survey)
                    summary.refresh_in(conn, self.org_id, survey, ahead)
                finally:
                    if ahead is not None:
                        ahead.close()
            if org_map.outcomes:
                outcome_store.write_outcomes(conn, self.org_id, org_map.outcomes)
            calendar_store.write_calendars(conn, self.org_id, org_map.calendars)
            agreement_store.write_agreements(conn, self.org_id, org_map.agreements)
            commitment_store.write_commitments(conn, self.org_id, org_map.commitments)
            request_store.write_records(conn, self.org_id, org_map.requests)
        self._chain = None
        return counts

    def forget_cached_chain(self) -> None:
        """Drop the cached graph; the next question reads the database again (after a
        restore, whose map version may equal the cached one)."""
        with self._lock:
            self._chain = None

    def counts(self) -> dict[str, int]:
        """Rows per map table."""
        with reading(self) as conn:
            return store.count_rows(conn, self.org_id)

    def chain(self) -> Chain:
        """The graph and its derived facts, rebuilt only when the map has changed."""
        with self._lock:
            with reading(self) as conn:
                checked = _CHECKED.get()
                if checked is not None and checked[0] is conn and checked[1] is self._chain:
                    return checked[1]
                version = store.map_version(conn, self.org_id)
                if self._chain is not None and self._chain.version == version:
                    _CHECKED.set((conn, self._chain))
                    return self._chain
                columns = store.read_graph_columns(conn, self.org_id)
            self._chain = build_chain(version, columns)
            _CHECKED.set((conn, self._chain))
            return self._chain

    def customers(self, unit_id: str) -> dict[str, Any]:
        """Who depends on ``unit_id``'s work (the ``valuechain customers`` contract):
        direct customers with their relations and results, indirect customers with one
        shortest path each, external customers reached, and orphan results."""
        return self._customers(unit_id, None)[0]

    def _customers(
        self, unit_id: str, window: tuple[int, int] | None
    ) -> tuple[dict[str, Any], int, int, dict[str, list[str]]]:
        """:meth:`customers` with only rows ``window`` of the direct and of the
        indirect customers built, their totals, and the ``via`` of every external
        customer reached. Only the window's links are read one by one, so a service
        with 20,000 customers costs a page of rows, not 20,000."""
        chain = self.chain()
        pos = chain.position(unit_id)
        found = customers_of(chain.graph, pos, chain.facts.reaches_external)
        ids = chain.columns.unit_ids
        g = chain.graph
        direct, indirect, vias = found.direct, found.indirect, list(found.via)
        external_at = np.flatnonzero(np.isin(indirect, found.external)).tolist()
        external_via = {ids[int(indirect[i])]: [ids[v] for v in vias[i]] for i in external_at}
        if window is not None:
            direct = direct[window[0] : window[1]]
            indirect, vias = indirect[window[0] : window[1]], vias[window[0] : window[1]]
        own_links = np.flatnonzero(g.result_unit[g.link_result] == pos)
        own_links = own_links[np.isin(g.link_customer[own_links], direct)]
        relations: dict[int, set[str]] = defaultdict(set)
        results: dict[int, set[str]] = defaultdict(set)
        for i in own_links:
            customer = int(g.link_customer[i])
            if customer == pos:
                continue
            relations[customer].add(RELATIONS[int(g.link_relation[i])])
            results[customer].add(chain.columns.result_ids[int(g.link_result[i])])
        depth = int(chain.facts.depth[pos])
        doc = {
            "unit": unit_id,
            "name": chain.columns.unit_names[pos],
            "depth": None if depth == NO_DEPTH else depth,
            "direct": [
                {
                    "unit": ids[c],
                    "name": chain.columns.unit_names[c],
                    "relations": [r for r in RELATIONS if r in relations[int(c)]],
                    "results": sorted(results[int(c)]),
                }
                for c in direct
            ],
            "indirect": [
                {"unit": ids[c], "name": chain.columns.unit_names[c], "via": [ids[v] for v in via]}
                for c, via in zip(indirect, vias, strict=True)
            ],
            "external": [ids[c] for c in found.external],
            "orphan_results": [chain.columns.result_ids[r] for r in found.orphan_results],
        }
        return doc, len(found.direct), len(found.indirect), external_via

    def suppliers(self, unit_id: str) -> list[dict[str, Any]]:
        """The providers whose results ``unit_id`` is linked to, with the relations and
        the results it uses from each, ordered by provider id."""
        chain = self.chain()
        pos = chain.position(unit_id)
        g, cols = chain.graph, chain.columns
        mine = np.flatnonzero(g.link_customer == pos)
        relations: dict[int, set[str]] = defaultdict(set)
        results: dict[int, set[str]] = defaultdict(set)
        for i in mine:
            provider = int(g.result_unit[g.link_result[i]])
            if provider == pos:
                continue
            relations[provider].add(RELATIONS[int(g.link_relation[i])])
            results[provider].add(cols.result_ids[int(g.link_result[i])])
        return [
            {
                "unit": cols.unit_ids[p],
                "name": cols.unit_names[p],
                "kind": cols.unit_kinds[p],
                "relations": [r for r in RELATIONS if r in relations[p]],
                "results": sorted(results[p]),
            }
            for p in sorted(relations, key=lambda p: cols.unit_ids[p])
        ]

    def unit(self, unit_id: str) -> dict[str, Any]:
        """One unit's own facts: kind, parent, headcount, its results (with kind and
        whether each is an orphan) and its suppliers."""
        with reading(self) as conn:
            chain = self.chain()
            pos = chain.position(unit_id)
            unit = store.read_unit(conn, self.org_id, unit_id)
            results = store.read_results_of(conn, self.org_id, unit_id)
            if unit is None:  # removed since the cached chain was read
                raise NotFound(f"no unit with id {unit_id!r}")
            suppliers = self.suppliers(unit_id)
        orphan = {chain.columns.result_ids[r] for r in chain.facts.orphan_results}
        depth = int(chain.facts.depth[pos])
        return {
            "id": unit.id,
            "name": unit.name,
            "kind": unit.kind.value,
            "parent_id": unit.parent_id,
            "headcount": unit.headcount,
            "depth": None if depth == NO_DEPTH else depth,
            "results": [
                {"id": r.id, "name": r.name, "kind": r.kind.value, "orphan": r.id in orphan}
                for r in results
            ],
            "suppliers": suppliers,
        }

    def unit_map(self, unit_id: str, window: tuple[int, int] | None = None) -> dict[str, Any]:
        """One unit's facts (:meth:`unit`), its customers (:meth:`customers`) and the
        name and kind of every unit they mention (``units``), read in one unit of work.
        With ``window`` = (start, stop) only those rows of the direct and of the
        indirect customers are kept (a universal service has thousands); their
        counts are ``direct_total`` and ``indirect_total``, and ``external_via``
        holds the ``via`` of every external customer reached, whatever the window.
        Raises :class:`NotFound` for an unknown id."""
        with reading(self):
            found, direct_total, indirect_total, external_via = self._customers(unit_id, window)
            unit = self.unit(unit_id)
            named = {unit_id, *(s["unit"] for s in unit["suppliers"]), *found["external"]}
            if unit["parent_id"]:  # "part of …" is shown by name too
                named.add(unit["parent_id"])
            named.update(row["unit"] for row in found["direct"])
            for row in found["indirect"]:
                named.add(row["unit"])
                named.update(row["via"])
            for via in external_via.values():
                named.update(via)
            result_ids = {r["id"] for r in unit["results"]}
            result_ids.update(rid for s in unit["suppliers"] for rid in s["results"])
            return {
                "unit": unit,
                "customers": found,
                "direct_total": direct_total,
                "indirect_total": indirect_total,
                "external_via": external_via,
                "units": self.describe_units(named),
                "result_names": self.result_names(sorted(result_ids)),
            }

    def describe_units(self, unit_ids: Iterable[str]) -> dict[str, dict[str, str]]:
        """Name and kind of each known unit id (unknown ids are left out)."""
        chain = self.chain()
        cols = chain.columns
        return {
            uid: {"id": uid, "name": cols.unit_names[p], "kind": cols.unit_kinds[p]}
            for uid in unit_ids
            if (p := chain.unit_pos.get(uid)) is not None
        }

    def names(
        self, unit_ids: Iterable[str], result_ids: Iterable[str]
    ) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
        """:meth:`describe_units` and :meth:`result_names` at once, on one look at the
        map (a page naming both asks the database once)."""
        chain = self.chain()
        cols = chain.columns
        units = {
            uid: {"id": uid, "name": cols.unit_names[p], "kind": cols.unit_kinds[p]}
            for uid in unit_ids
            if (p := chain.unit_pos.get(uid)) is not None
        }
        pos = chain.result_pos
        return units, {rid: cols.result_names[pos[rid]] for rid in result_ids if rid in pos}

    def result_names(self, result_ids: Iterable[str]) -> dict[str, str]:
        """The name of each known result id."""
        chain = self.chain()
        pos = chain.result_pos
        return {rid: chain.columns.result_names[pos[rid]] for rid in result_ids if rid in pos}

    def unit_summaries(self) -> list[dict[str, Any]]:
        """Every unit with its derived facts (direct customers, external customers
        reached, depth, results, orphan results)."""
        return list(self.iter_unit_summaries())

    def iter_unit_summaries(
        self,
        start: int = 0,
        stop: int | None = None,
        positions: Iterable[int] | None = None,
        *,
        chain: Chain | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The units at map positions ``start`` to ``stop`` (exclusive), or at
        ``positions`` when given, with their derived facts, one at a time, so a caller
        can write them without holding the whole list (``map --json`` at 100,000
        units, an API page). ``chain``: another snapshot than today's (the map as of a
        date)."""
        chain = chain or self.chain()
        cols, facts, g = chain.columns, chain.facts, chain.graph
        orphan = np.zeros(g.n_results, dtype=bool)
        orphan[facts.orphan_results] = True
        # Results grouped by producing unit with one sort instead of a dict of lists.
        order = np.argsort(g.result_unit, kind="stable")
        bounds = np.searchsorted(g.result_unit[order], np.arange(g.n_units + 1))
        chosen = (
            range(start, g.n_units if stop is None else min(stop, g.n_units))
            if positions is None
            else positions
        )
        for pos in chosen:
            uid = cols.unit_ids[pos]
            direct = g.units.indices[g.units.indptr[pos] : g.units.indptr[pos + 1]]
            depth = int(facts.depth[pos])
            mine = order[bounds[pos] : bounds[pos + 1]].tolist()
            yield {
                "id": uid,
                "name": cols.unit_names[pos],
                "kind": cols.unit_kinds[pos],
                "direct": sorted(cols.unit_ids[c] for c in direct),
                "external": [cols.unit_ids[e] for e in unpack_external(facts, pos)],
                "depth": None if depth == NO_DEPTH else depth,
                "results": [cols.result_ids[r] for r in mine],
                "orphan_results": [cols.result_ids[r] for r in mine if orphan[r]],
            }

    def iter_map_results(
        self, start: int = 0, stop: int | None = None, *, chain: Chain | None = None
    ) -> Iterator[dict[str, Any]]:
        """The results produced by the units at positions ``start`` to ``stop``, in map
        order, each with whether it is an orphan; one at a time."""
        chain = chain or self.chain()
        cols, facts, g = chain.columns, chain.facts, chain.graph
        orphan = np.zeros(g.n_results, dtype=bool)
        orphan[facts.orphan_results] = True
        for r in _in_units(g.result_unit, start, stop, g.n_units).tolist():
            yield {
                "id": cols.result_ids[r],
                "name": cols.result_names[r],
                "unit": cols.unit_ids[int(g.result_unit[r])],
                "orphan": bool(orphan[r]),
            }

    def iter_map_links(
        self, start: int = 0, stop: int | None = None, *, chain: Chain | None = None
    ) -> Iterator[dict[str, Any]]:
        """The links to the results of the units at positions ``start`` to ``stop``,
        in map order; one at a time."""
        chain = chain or self.chain()
        cols, g = chain.columns, chain.graph
        producer = g.result_unit[g.link_result]
        for i in _in_units(producer, start, stop, g.n_units).tolist():
            yield {
                "result": cols.result_ids[int(g.link_result[i])],
                "customer": cols.unit_ids[int(g.link_customer[i])],
                "relation": cols.link_relation[i],
            }

    def unit_index(
        self, q: str = "", kind: str | None = None, offset: int = 0, limit: int | None = None
    ) -> tuple[int, list[dict[str, Any]]]:
        """Units whose id or name contains ``q`` (case-insensitive) and, if given, of
        ``kind``, in map order: the number of all matches and the rows ``offset`` to
        ``offset + limit`` with their counts (direct customers, external customers
        reached, results, orphan results) and depth. The counts are array
        reductions, so no unit's lists are built."""
        chain = self.chain()
        cols, facts, g = chain.columns, chain.facts, chain.graph
        needle = q.strip().casefold()
        chosen = [
            pos
            for pos, (uid, name, k) in enumerate(
                zip(cols.unit_ids, cols.unit_names, cols.unit_kinds, strict=True)
            )
            if (not needle or needle in uid.casefold() or needle in name.casefold())
            and (kind is None or k == kind)
        ]
        window = chosen[offset:] if limit is None else chosen[offset : offset + limit]
        direct = np.diff(g.units.indptr)
        results = np.bincount(g.result_unit, minlength=g.n_units)
        orphans = np.bincount(
            g.result_unit[np.asarray(facts.orphan_results, dtype=np.int64)], minlength=g.n_units
        )
        rows = [
            {
                "id": cols.unit_ids[pos],
                "name": cols.unit_names[pos],
                "kind": cols.unit_kinds[pos],
                "direct_count": int(direct[pos]),
                "external_count": int(facts.external_count[pos]),
                "depth": None if int(facts.depth[pos]) == NO_DEPTH else int(facts.depth[pos]),
                "result_count": int(results[pos]),
                "orphan_count": int(orphans[pos]),
            }
            for pos in window
        ]
        return len(chosen), rows

    def map_totals(self, *, chain: Chain | None = None) -> dict[str, int]:
        """How many units, results and links the whole map holds."""
        g = (chain or self.chain()).graph
        return {
            "units": int(g.n_units),
            "results": int(g.n_results),
            "links": int(g.link_result.shape[0]),
        }

    def map_page(self, start: int, stop: int) -> dict[str, Any]:
        """The units at positions ``start`` to ``stop`` with their results and the
        links to those results: pages over consecutive ranges hold every unit, result
        and link of the map exactly once (a result belongs to one unit, a link to one
        result); ``total`` counts the whole map's. Read in one unit of work, so a
        page never mixes two map versions."""
        with reading(self):
            return {
                "units": list(self.iter_unit_summaries(start, stop)),
                "results": list(self.iter_map_results(start, stop)),
                "links": list(self.iter_map_links(start, stop)),
                "total": self.map_totals(),
            }

    def overview(self) -> dict[str, Any]:
        """The whole graph with derived facts per unit (the ``valuechain map`` contract)."""
        with reading(self):
            return {
                "units": self.unit_summaries(),
                "results": list(self.iter_map_results()),
                "links": list(self.iter_map_links()),
            }


def build_chain(version: int, columns: store.GraphColumns) -> Chain:
    """The graph of ``columns`` with its derived facts (:func:`map_facts`)."""
    external = np.array(
        [k == UnitKind.EXTERNAL_CUSTOMER.value for k in columns.unit_kinds], dtype=bool
    )
    relation_code = {name: i for i, name in enumerate(RELATIONS)}
    graph = build_graph(
        external,
        columns.result_unit,
        columns.link_result,
        columns.link_customer,
        np.fromiter((relation_code[r] for r in columns.link_relation), dtype=np.int64),
    )
    return Chain(
        version=version,
        columns=columns,
        graph=graph,
        facts=map_facts(graph),
        unit_pos={uid: i for i, uid in enumerate(columns.unit_ids)},
        result_pos={rid: i for i, rid in enumerate(columns.result_ids)},
    )


def _in_units(owner: np.ndarray, start: int, stop: int | None, n_units: int) -> np.ndarray:
    """Positions of the rows whose owning unit lies in ``start`` to ``stop``, in order."""
    if start <= 0 and (stop is None or stop >= n_units):
        return np.arange(owner.shape[0])
    high = n_units if stop is None else stop
    return np.flatnonzero((owner >= start) & (owner < high))


def _refuse_late_responses(
    conn: Connection, org_id: int, ids: list[str], campaigns: list[str]
) -> None:
    """trust (issue 15, item 10): refuse responses that would move a stored campaign's
    numbers: responses naming a campaign already stored (imported, created or run
    with invitations, in any state), or replacing a stored response. A published cell
    that moved from n = 20 to n = 22 would give the two newcomers' mean from the two
    readings. Checked in the writing unit itself, so every path that adds responses
    (a bundle, the Python API, two imports racing with the same new campaign) meets
    the same rule; a campaign's responses arrive with it, or when it closes."""
    stored = set(measure_store.campaign_ids(conn, org_id)).intersection(campaigns)
    if stored:
        named = ", ".join(repr(c) for c in sorted(stored)[:3])
        raise Conflict(
            f"responses name a campaign already stored ({named}): a stored campaign's "
            "numbers never move; put late responses in a new campaign"
        )
    # The first import of an organisation has nothing to replace: no scan of its ids.
    if not campaign_store.holds_responses(conn, org_id):
        return
    replaced = campaign_store.stored_responses(conn, org_id, ids)
    if replaced:
        named = ", ".join(repr(r) for r in sorted(replaced)[:3])
        raise Conflict(
            f"responses already stored ({named}): a stored response is never replaced, "
            "its campaign's numbers would move by one respondent"
        )


def organisations(engine: Engine) -> list[str]:
    """The slug of every organisation in the database, sorted (for jobs that work per
    organisation)."""
    with reading(engine) as conn:
        return sorted(store.map_versions(conn))
