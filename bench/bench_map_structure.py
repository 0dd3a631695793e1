"""Units and people written one row at a time (``services.map_structure``, behind
``POST/PUT/DELETE /api/v1/units`` and ``/api/v1/people``) in an organisation of the
product's size: each write checks its row against every stored id, email and parent,
as an import would, so its time grows with the organisation.

``python -m bench.bench_map_structure --units 20000 --people 100000`` builds the
organisation on a fresh SQLite file (or ``--url``) and prints the median and worst
milliseconds of each use case over ``--repeats`` calls.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from valuechain import Valuechain
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.person import Person, Role
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services import map_structure
from valuechain.services.audit import Actor

ACTOR = Actor(None, "bench", "bench")


def organisation(units: int, people: int) -> OrganisationMap:
    """``units`` units in a tree of ten children per department, and ``people``
    people spread over them."""
    built = [Unit("u0", "Unit 0", UnitKind.DEPARTMENT)]
    for i in range(1, units):
        built.append(Unit(f"u{i}", f"Unit {i}", UnitKind.TEAM, parent_id=f"u{(i - 1) // 10}"))
    staff = [
        Person(f"p{i}", f"Person {i}", f"p{i}@example.org", f"u{i % units}", Role.MEMBER)
        for i in range(people)
    ]
    return OrganisationMap(units=built, people=staff)


def timed(call: Callable[[], Any], repeats: int) -> dict[str, float]:
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return {
        "median_ms": round(statistics.median(seconds) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
    }


def run(vc: Valuechain, repeats: int) -> dict[str, dict[str, float]]:
    """Each use case ``repeats`` times on fresh ids."""
    ids = iter(range(10**9))

    def create() -> None:
        n = next(ids)
        map_structure.create_unit(vc, {"id": f"b{n}", "name": "B", "kind": "team",
                                       "parent_id": "u1"}, ACTOR)  # fmt: skip

    def change() -> None:
        map_structure.change_unit(vc, "u2", {"name": f"Renamed {next(ids)}", "kind": "team",
                                             "parent_id": "u0"}, ACTOR, admin=True)  # fmt: skip

    def add_person() -> None:
        n = next(ids)
        map_structure.save_person(vc, {"id": f"q{n}", "name": "Q", "email": f"q{n}@example.org",
                                       "unit_id": "u3", "role": "member"}, ACTOR)  # fmt: skip

    def leave() -> None:
        n = next(ids)
        map_structure.save_person(vc, {"id": f"l{n}", "name": "L", "email": f"l{n}@example.org",
                                       "unit_id": "u3", "role": "member"}, ACTOR)  # fmt: skip
        map_structure.leave(vc, f"l{n}", ACTOR)

    def remove() -> None:
        n = next(ids)
        map_structure.create_unit(vc, {"id": f"r{n}", "name": "R", "kind": "team"}, ACTOR)
        map_structure.remove_unit(vc, f"r{n}", ACTOR)

    return {
        "create_unit": timed(create, repeats),
        "change_unit": timed(change, repeats),
        "add_person": timed(add_person, repeats),
        "add_person_then_leave": timed(leave, repeats),
        "create_then_remove_unit": timed(remove, repeats),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_map_structure")
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--url", help="a database URL (default: a fresh SQLite file)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'bench.db'}"
        vc = Valuechain.open(url, f"bench-{uuid.uuid4().hex[:8]}", create=True)
        started = time.perf_counter()
        vc.write_map(organisation(args.units, args.people))
        built = time.perf_counter() - started
        result = {"units": args.units, "people": args.people, "repeats": args.repeats,
                  "write_map_s": round(built, 1), **run(vc, args.repeats)}  # fmt: skip
        vc.engine.dispose()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
