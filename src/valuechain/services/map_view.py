"""The Map drawn for reading: the organisation at department level (one node per
top department, links aggregated between them) and one department's units, so a
browser opens a 20,000-unit organisation without drawing 20,000 nodes.

A unit's department is the root of its ``part of`` tree
(:func:`~valuechain.analytics.customer.part_of_roots`); external customers and
external suppliers without a parent are grouped by kind into
:data:`EXTERNAL_GROUPS`. Everything is read from the cached chain (no query beyond
the map version check) and computed with array operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from valuechain.analytics.customer import NO_DEPTH, group_edges, part_of_roots
from valuechain.domain.link import Relation
from valuechain.domain.unit import UnitKind
from valuechain.services.errors import NotFound
from valuechain.services.transaction import reading

if TYPE_CHECKING:
    from valuechain.services.organisation import Chain, Valuechain

RELATIONS = tuple(r.value for r in Relation)
#: Department ids and names of the parentless external units, grouped by kind. A
#: unit id cannot start with "~" in these groups' place: the group is looked up first.
EXTERNAL_GROUPS = {
    UnitKind.EXTERNAL_SUPPLIER.value: ("~external_supplier", "External suppliers"),
    UnitKind.EXTERNAL_CUSTOMER.value: ("~external_customer", "External customers"),
}


@dataclass(frozen=True)
class Departments:
    """Every unit's department as a code, and each code's id, name and kind."""

    code: np.ndarray  # per unit
    ids: list[str]
    names: list[str]
    kinds: list[str]

    def code_of(self, department_id: str) -> int:
        """The code of a department id; :class:`NotFound` for an unknown one."""
        try:
            return self.ids.index(department_id)
        except ValueError:
            raise NotFound(f"no department with id {department_id!r}") from None


def departments(chain: Chain) -> Departments:
    """Each unit's department: its top ``part of`` ancestor, or its kind's external
    group when it is a parentless external unit; codes in order of first unit."""
    cols = chain.columns
    n = len(cols.unit_ids)
    parents = cols.unit_parents or [None] * n
    parent = np.fromiter(
        (chain.unit_pos.get(p, -1) if p is not None else -1 for p in parents),
        dtype=np.int64,
        count=n,
    )
    root = part_of_roots(parent)
    # Parentless externals: a negative key per kind, so they share one group.
    key = root.copy()
    for i, kind in enumerate(EXTERNAL_GROUPS):
        lonely = (parent < 0) & (np.asarray(cols.unit_kinds, dtype=object) == kind)
        key[lonely] = -1 - i
    unique, first, code = np.unique(key, return_index=True, return_inverse=True)
    # Codes in map order of each department's first unit, so pages are stable.
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0])
    groups = list(EXTERNAL_GROUPS.values())
    ids, names, kinds = [], [], []
    for k in unique[order].tolist():
        if k < 0:
            ids.append(groups[-1 - k][0])
            names.append(groups[-1 - k][1])
            kinds.append(list(EXTERNAL_GROUPS)[-1 - k])
        else:
            ids.append(cols.unit_ids[k])
            names.append(cols.unit_names[k])
            kinds.append(cols.unit_kinds[k])
    return Departments(rank[code].astype(np.int64), ids, names, kinds)


def department_map(vc: Valuechain, offset: int = 0, limit: int | None = None) -> dict[str, Any]:
    """One page of departments in order of their first unit, each with its number of
    units, headcount (None when no unit gives one), its nearest step to an external
    customer (``depth``, None when no unit has a path) and orphan results; the links
    from the page's departments to other departments aggregated per relation; the
    totals. Read in one unit of work."""
    with reading(vc):
        chain = vc.chain()
        deps = departments(chain)
        g, facts, cols = chain.graph, chain.facts, chain.columns
        n_dep = len(deps.ids)
        units = np.bincount(deps.code, minlength=n_dep)
        heads = np.asarray(
            [h if h is not None else 0 for h in (cols.unit_headcounts or [None] * g.n_units)],
            dtype=np.int64,
        )
        given = np.asarray(
            [h is not None for h in (cols.unit_headcounts or [None] * g.n_units)], dtype=bool
        )
        headcount = np.bincount(deps.code, weights=heads, minlength=n_dep)
        has_head = np.bincount(deps.code, weights=given, minlength=n_dep) > 0
        depth = np.where(facts.depth == NO_DEPTH, np.iinfo(np.int64).max, facts.depth)
        nearest = np.full(n_dep, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(nearest, deps.code, depth)
        orphan_units = deps.code[g.result_unit[np.asarray(facts.orphan_results, dtype=np.int64)]]
        orphans = np.bincount(orphan_units, minlength=n_dep)
        edges = group_edges(g, deps.code, n_dep)
        stop = n_dep if limit is None else min(n_dep, offset + limit)
        shown = (edges.source >= offset) & (edges.source < stop)
        return {
            "departments": [
                {
                    "id": deps.ids[d],
                    "name": deps.names[d],
                    "kind": deps.kinds[d],
                    "units": int(units[d]),
                    "headcount": int(headcount[d]) if has_head[d] else None,
                    "depth": None if nearest[d] == np.iinfo(np.int64).max else int(nearest[d]),
                    "orphan_results": int(orphans[d]),
                }
                for d in range(offset, stop)
            ],
            "edges": [
                {
                    "source": deps.ids[s],
                    "target": deps.ids[t],
                    "relation": RELATIONS[r],
                    "links": int(c),
                }
                for s, t, r, c in zip(
                    edges.source[shown].tolist(),
                    edges.target[shown].tolist(),
                    edges.relation[shown].tolist(),
                    edges.links[shown].tolist(),
                    strict=True,
                )
            ],
            "total": {
                "departments": n_dep,
                "units": int(g.n_units),
                "edges": int(edges.source.shape[0]),
            },
        }


def with_tree(chain: Chain, units: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``units`` (summaries) with each one's ``parent`` and ``headcount`` added."""
    cols = chain.columns
    for unit in units:
        pos = chain.unit_pos[unit["id"]]
        unit["parent"] = cols.unit_parents[pos] if cols.unit_parents else None
        unit["headcount"] = cols.unit_headcounts[pos] if cols.unit_headcounts else None
    return units


def unit_page(vc: Valuechain, start: int, stop: int) -> dict[str, Any]:
    """:meth:`Valuechain.map_page` with each unit's ``parent`` and ``headcount``,
    which the page groups and colours by, in the same unit of work."""
    with reading(vc):
        doc = vc.map_page(start, stop)
        with_tree(vc.chain(), doc["units"])
        return doc


def department_page(
    vc: Valuechain,
    department_id: str,
    offset: int = 0,
    limit: int | None = None,
    *,
    chain: Chain | None = None,
) -> dict[str, Any]:
    """One page of a department's units in map order (as on ``/map``), the results
    they produce, the links to those results and the links from those units to
    results elsewhere, and the department of every unit those links name. ``total``
    counts the department's units, results and links. Read in one unit of work;
    :class:`NotFound` for an unknown department. ``chain``: the map as of another
    moment (``services.history.chain_as_of``) instead of today's."""
    with reading(vc):
        chain = chain or vc.chain()
        deps = departments(chain)
        code = deps.code_of(department_id)
        g, cols = chain.graph, chain.columns
        members = np.flatnonzero(deps.code == code)
        stop = members.shape[0] if limit is None else offset + limit
        page = members[offset:stop]
        in_page = np.zeros(g.n_units, dtype=bool)
        in_page[page] = True
        in_dep = deps.code == code
        producer = g.result_unit[g.link_result]
        links = np.flatnonzero(in_page[producer] | (in_page[g.link_customer] & ~in_dep[producer]))
        results = np.flatnonzero(in_page[g.result_unit])
        named = np.union1d(producer[links], g.link_customer[links])
        facts = chain.facts
        orphan = np.zeros(g.n_results, dtype=bool)
        orphan[facts.orphan_results] = True
        dep_links = int(np.count_nonzero(in_dep[producer]))
        return {
            "units": with_tree(
                chain, list(vc.iter_unit_summaries(positions=page.tolist(), chain=chain))
            ),
            "results": [
                {
                    "id": cols.result_ids[r],
                    "name": cols.result_names[r],
                    "unit": cols.unit_ids[int(g.result_unit[r])],
                    "orphan": bool(orphan[r]),
                }
                for r in results.tolist()
            ],
            "links": [
                {
                    "result": cols.result_ids[int(g.link_result[i])],
                    "customer": cols.unit_ids[int(g.link_customer[i])],
                    "relation": cols.link_relation[i],
                }
                for i in links.tolist()
            ],
            "producers": {
                cols.result_ids[int(g.link_result[i])]: cols.unit_ids[int(producer[i])]
                for i in links.tolist()
                if not in_page[producer[i]]
            },
            "departments": {cols.unit_ids[u]: deps.ids[int(deps.code[u])] for u in named.tolist()},
            "total": {
                "units": int(members.shape[0]),
                "results": int(np.count_nonzero(in_dep[g.result_unit])),
                "links": dep_links,
            },
        }
