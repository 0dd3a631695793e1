"""The organisation map with networkx, as a script: ``python bench/peers/nx_map.py
BUNDLE > map.json``.

Reads units.csv, results.csv and links.csv, and writes what ``valuechain map --json``
writes: per unit its direct customers, the external customers it reaches (directly
or through others), its depth (fewest hops to an external customer) and its orphan
results (no path to an external customer); then the results and the links. Written
the competent way: the condensation (``nx.condensation``) so cycles are visited once,
reach as Python-int bitsets OR-ed in reverse topological order, one multi-source
search for the depth.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import networkx as nx


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def main(folder: Path) -> None:
    units = rows(folder / "units.csv")
    results = rows(folder / "results.csv")
    links = rows(folder / "links.csv")
    producer = {r["id"]: r["unit_id"] for r in results}
    external = [u["id"] for u in units if u["kind"] == "external_customer"]
    g = nx.DiGraph()
    g.add_nodes_from(u["id"] for u in units)
    g.add_edges_from(
        (producer[link["result_id"]], link["customer_id"])
        for link in links
        if producer[link["result_id"]] != link["customer_id"]
    )
    hops = nx.multi_source_dijkstra_path_length(g.reverse(copy=False), set(external))
    bit_of = {u: 1 << i for i, u in enumerate(external)}
    dag = nx.condensation(g)
    members = nx.get_node_attributes(dag, "members")
    own = {c: sum(bit_of.get(u, 0) for u in m) for c, m in members.items()}
    bits: dict[int, int] = {}
    for c in reversed(list(nx.topological_sort(dag))):
        reach = own[c] if len(members[c]) > 1 else 0
        for s in dag.successors(c):
            reach |= bits[s] | own[s]
        bits[c] = reach
    component = dag.graph["mapping"]
    reaching = {r for r, c in ((lk["result_id"], lk["customer_id"]) for lk in links) if c in hops}
    by_unit: dict[str, list[str]] = {}
    for r in results:
        by_unit.setdefault(r["unit_id"], []).append(r["id"])

    out = sys.stdout
    out.write('{"units": [')
    for i, u in enumerate(units):
        uid = u["id"]
        reach = bits[component[uid]]
        mine = by_unit.get(uid, [])
        item: dict[str, Any] = {
            "id": uid,
            "name": u["name"],
            "kind": u["kind"],
            "direct": sorted(g.successors(uid)),
            "external": [e for e in external if reach & bit_of[e]],
            "depth": hops.get(uid),
            "results": mine,
            "orphan_results": [r for r in mine if r not in reaching],
        }
        out.write((", " if i else "") + json.dumps(item, ensure_ascii=False))
    out.write('], "results": [')
    for i, r in enumerate(results):
        item = {"id": r["id"], "name": r["name"], "unit": r["unit_id"], "kind": r["kind"]}
        item["orphan"] = r["id"] not in reaching
        out.write((", " if i else "") + json.dumps(item, ensure_ascii=False))
    out.write('], "links": [')
    for i, link in enumerate(links):
        out.write((", " if i else "") + json.dumps(link, ensure_ascii=False))
    out.write("]}\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
