"""Benchmark: link suggestions (services/suggestion.py) on a big organisation.

Set-up (not timed): a fresh SQLite file (or PostgreSQL with ``--url``) with 20,000
units, one result each, a chain of 60,000 links, 2,000,000 requests across 40,000
customer → provider pairs of which half have a link (request counts skewed,
Zipf-like), 40,000 published survey relationship cells over two campaigns (a quarter
of them about unlinked pairs) and 5,000 agreements, written straight into the tables.

Timed: the organisation's first page (what an admin asks), and one unit's page for
100 random units (what a lead's page asks), wall time of the service call.

Run: ``.venv/bin/python -m bench.bench_suggestion`` (``--help`` for sizes).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert

from valuechain import Valuechain
from valuechain.domain.link import Link, Relation
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.result import Result, ResultKind
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services import suggestion
from valuechain.services.transaction import writing
from valuechain.store.suggestion import AGREEMENTS, CAMPAIGNS, CELLS, REQUESTS

BATCH = 50_000


def _build(vc: Valuechain, units: int, requests: int, seed: int) -> int:
    rng = np.random.default_rng(seed)
    ids = [f"u{i:05d}" for i in range(units)]
    org = OrganisationMap(
        units=[Unit(u, f"Unit {u}", UnitKind.TEAM) for u in ids],
        results=[Result(f"r-{u}", u, f"Result of {u}", ResultKind.INTERMEDIATE) for u in ids],
        links=[
            Link(f"r-{ids[i]}", ids[(i + k) % units], Relation.CONSUMES)
            for i in range(units)
            for k in (1, 2, 3)
        ],
    )
    vc.write_map(org)
    # Pairs: half linked (customer i+1 of provider i), half not (customer i+7).
    linked = [(i, (i + 1) % units) for i in range(units)]
    unlinked = [(i, (i + 7) % units) for i in range(units)]
    pairs = np.array(linked + unlinked)
    weights = 1.0 / np.arange(1, len(pairs) + 1)
    rng.shuffle(weights)
    which = rng.choice(len(pairs), size=requests, p=weights / weights.sum())
    start = datetime(2025, 12, 1, tzinfo=UTC)
    seconds = rng.integers(0, 365 * 86400, size=requests)
    org_id = vc.org_id
    with writing(vc) as conn:
        for lo in range(0, requests, BATCH):
            rows = [
                {
                    "org_id": org_id,
                    "id": f"q{j:08d}",
                    "provider_id": ids[pairs[which[j]][0]],
                    "customer_id": ids[pairs[which[j]][1]],
                    "state": "resolved",
                    "created_at": start + timedelta(seconds=int(seconds[j])),
                }
                for j in range(lo, min(lo + BATCH, requests))
            ]
            conn.execute(insert(REQUESTS), rows)
        conn.execute(
            insert(CAMPAIGNS),
            [{"org_id": org_id, "id": c, "name": c, "state": "closed"} for c in ("c1", "c2")],
        )
        cells: list[dict[str, Any]] = []
        for campaign in ("c1", "c2"):
            for i in range(units):
                for k in (1, 11):  # linked, and unlinked (i + 11)
                    cells.append(
                        {
                            "org_id": org_id, "cut": "relationship", "campaign": campaign,
                            "instrument": "pulse", "provider": ids[i],
                            "customer": ids[(i + k) % units], "dimension": "", "n": 6,
                            "total": 24.0, "total_sq": 100.0, "gap_n": 0, "gap_total": 0.0,
                            "gap_sq": 0.0, "suppressed": None,
                        }
                    )  # fmt: skip
        for lo in range(0, len(cells), BATCH):
            conn.execute(insert(CELLS), cells[lo : lo + BATCH])
        conn.execute(
            insert(AGREEMENTS),
            [
                {
                    "org_id": org_id, "id": f"ag{i:05d}", "result_id": f"r-{ids[i]}",
                    "customer_id": ids[(i + 13) % units], "state": "agreed",
                }
                for i in range(0, units, max(1, units // 5000))
            ],
        )  # fmt: skip
    return len(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=2_000_000)
    parser.add_argument("--url", default=None, help="a database URL (default: a new SQLite file)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--built", action="store_true", help="time the organisation already at --url"
    )
    args = parser.parse_args()
    url = args.url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'suggest.db'}"
    vc = Valuechain.open(url, "bench", create=not args.built)
    if not args.built:
        began = time.perf_counter()
        _build(vc, args.units, args.requests, args.seed)
        print(f"set-up: {time.perf_counter() - began:.1f} s ({url.split(':')[0]}, {url})")
    if vc.engine.dialect.name == "postgresql":
        # A deployment's autovacuum has analysed the tables long before anyone asks; a
        # bulk load a second ago has no statistics yet, and PostgreSQL would plan
        # nested loops for one-row tables.
        with vc.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        found = suggestion.suggestions(vc, None, limit=50)
        runs.append(time.perf_counter() - t)
    print(f"organisation, first page of 50 of {found['total']}: best {min(runs):.2f} s")
    rng = np.random.default_rng(1)
    times = []
    for i in rng.integers(0, args.units, size=100):
        t = time.perf_counter()
        suggestion.suggestions(vc, f"u{int(i):05d}", limit=20)
        times.append(time.perf_counter() - t)
    times.sort()
    print(
        f"one unit's page, 100 units: median {statistics.median(times) * 1000:.0f} ms, "
        f"p95 {times[94] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
