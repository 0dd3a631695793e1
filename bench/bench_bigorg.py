"""Benchmark: a big organisation in the API and the browser (issue 19 item 4).

The organisation of ``generate.py`` (``--units``, results and links scaled 2.5x and
10x) plus one **universal service**: the first corporate service's first result is
depended on by every team and department, as HR, payroll or IT are in a real
organisation (the generator alone has no unit serving more than a few dozen). It is
imported with ``valuechain import`` into a fresh SQLite file; then, from a real
uvicorn server on loopback signed in as an admin, each route is fetched twice (the
first answer builds the map's cache) and the second answer's wall time and size are
kept; finally ``valuechain map --json > /dev/null`` runs as a child process whose
peak memory comes from ``wait4``.

Run it on the code before a change with ``PYTHONPATH=/path/to/old/src``: the routes
are the same, and old code ignores the paging parameters it does not know.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.bench_import import valuechain_command
from bench.bench_request import serving
from bench.generate import (
    DEPARTMENT,
    TEAM,
    generate,
    result_ids,
    unit_ids,
    write_bundle,
)
from bench.machine import machine_info, write_result

#: Goals of issue 19 item 4: no answer over a few MB unless asked with a limit, a
#: page in about a second of server time, ``map --json`` within 1 GB.
MAX_MB, MAX_S, MAP_JSON_MAX_MIB = 5.0, 1.0, 1024.0
ROUTES = ("/api/v1/connect", "/api/v1/map", "/api/v1/units", "/units/{hr}", "/api/v1/units/{hr}")


def bundle(folder: Path, units: int, seed: int) -> tuple[str, int]:
    """Write the generated bundle plus the universal service's links; the service's
    unit id and how many links it gained."""
    org = generate(units, int(units * 2.5), units * 10, seed=seed)
    write_bundle(org, folder)
    internal = np.flatnonzero(np.isin(org.unit_kind, (TEAM, DEPARTMENT)))
    producers = org.result_unit[np.isin(org.result_unit, internal)]
    # The generator lays corporate services out after the chain teams: the last
    # internal producer's first result stands for HR.
    hr = int(producers.max())
    result = int(np.flatnonzero(org.result_unit == hr)[0])
    uid, rid = unit_ids(org.n_units), result_ids(org.n_results)
    taken = set(org.link_customer[org.link_result == result].tolist())
    added = [int(u) for u in internal if int(u) != hr and int(u) not in taken]
    with (folder / "links.csv").open("a", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerows((rid[result], uid[u], "depends_on", "", "") for u in added)
    return uid[hr], len(added)


def run_child(command: list[str], env: dict[str, str], out: Any) -> dict[str, float]:
    """Wall time and peak memory of one child process (``wait4``)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
    return {"wall_s": round(wall, 2), "peak_mib": round(usage.ru_maxrss / 1024, 1)}


def fetch(url: str, hr: str) -> dict[str, Any]:
    import httpx

    from valuechain import Valuechain
    from valuechain.domain.account import AccountRole
    from valuechain.edge.dependencies import SESSION_COOKIE
    from valuechain.services import accounts
    from valuechain.services.audit import Actor
    from valuechain.services.security import TEST_HASHING, Security
    from valuechain.web.app import create_app

    vc = Valuechain.open(url, organisation="bench", security=Security(hashing=TEST_HASHING))
    account = accounts.create_account(
        vc, "bench@example.org", "a bench password, never used", AccountRole.ADMIN,
        Actor.command_line(),
    )  # fmt: skip
    session = accounts.start_session(vc, account, address="bench")
    found: dict[str, Any] = {}
    with (
        serving(create_app(vc)) as base,
        httpx.Client(base_url=base, cookies={SESSION_COOKIE: session.token}, timeout=600) as client,
    ):
        for route in ROUTES:
            path = route.format(hr=hr)
            for attempt in range(2):
                t = time.perf_counter()
                answer = client.get(path)
                elapsed = time.perf_counter() - t
                assert answer.status_code == 200, answer.text[:300]
                if attempt == 0:
                    first = elapsed
            body = answer.content
            doc: dict[str, Any] = json.loads(body) if path.startswith("/api") else {}
            found[route] = {
                "first_s": round(first, 3),
                "s": round(elapsed, 3),
                "mb": round(len(body) / 1e6, 3),
                "next": doc.get("next"),
            }
    vc.engine.dispose()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--name", default="bigorg", help="bench/out/NAME.json")
    parser.add_argument("--no-http", action="store_true", help="only map --json")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="valuechain-bigorg-"))
    hr, added = bundle(work / "bundle", args.units, args.seed)
    url = f"sqlite:///{work / 'valuechain.db'}"
    env = {**os.environ, "VALUECHAIN_DATABASE_URL": url, "VALUECHAIN_ORGANISATION": "bench"}
    cli = valuechain_command()
    imported = run_child([*cli, "import", str(work / "bundle")], env, subprocess.DEVNULL)
    with open(os.devnull, "w") as sink:
        map_json = run_child([*cli, "map", "--json"], env, sink)
    routes = {} if args.no_http else fetch(url, hr)
    met = map_json["peak_mib"] <= MAP_JSON_MAX_MIB and all(
        r["mb"] <= MAX_MB and r["s"] <= MAX_S for r in routes.values()
    )
    result = {
        "machine": machine_info(),
        "units": args.units,
        "universal_service": {"unit": hr, "links_added": added},
        "import": imported,
        "map_json": map_json,
        "routes": routes,
        "goals": {
            "max_mb": MAX_MB,
            "max_s": MAX_S,
            "map_json_max_mib": MAP_JSON_MAX_MIB,
            "met": met,
        },
    }
    print(json.dumps({k: result[k] for k in ("units", "universal_service", "import",
                                             "map_json", "routes")}, indent=2))  # fmt: skip
    return write_result(args.name, result)


if __name__ == "__main__":
    sys.exit(main())
