"""Benchmark: the commitment log and trust of a whole organisation.

Goal (docs/benchmarks.md): ``valuechain commitments --json`` (the document
``services.commitment.commitments_document`` builds) for 20,000 agreements with a year
of weekly commitments each (1,040,000 commitments) in at most 10 s on SQLite on one
core, peak memory stated.

Timed: ``commitments_document`` on a generated organisation (median of ``--repeats``
runs after one warm-up); the write of the log is timed once, for information.

Run: ``.venv/bin/python -m bench.bench_commitments`` (``--help`` for sizes).
"""

from __future__ import annotations

from bench.machine import machine_info, peak_rss_mib, pin_one_core, write_result

CORE = pin_one_core()

import argparse  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

from valuechain import Valuechain  # noqa: E402
from valuechain.domain.agreement import Agreement, Commitment, Metric  # noqa: E402
from valuechain.domain.organisation import OrganisationMap  # noqa: E402
from valuechain.domain.result import Result, ResultKind  # noqa: E402
from valuechain.domain.unit import Unit, UnitKind  # noqa: E402
from valuechain.services.commitment import commitments_document  # noqa: E402

GOAL_SECONDS = 10.0


def organisation(agreements: int, weeks: int, seed: int) -> OrganisationMap:
    """Providers and customers in pairs, one agreement per pair and result, a year of
    weekly due items with deliveries, early deliveries, warnings and misses."""
    rng = random.Random(seed)
    units = max(2, agreements // 2)
    org = OrganisationMap(
        units=[Unit(f"u{i}", f"Unit {i}", UnitKind.TEAM) for i in range(units)],
        results=[
            Result(f"r{i}", f"u{i}", f"Result {i}", ResultKind.INTERMEDIATE) for i in range(units)
        ],
    )
    start = datetime(2025, 11, 24, 9, tzinfo=UTC)
    for i in range(agreements):
        provider = i % units
        customer = (provider + 1 + i // units) % units
        aid = f"a{i:06d}"
        org.agreements.append(
            Agreement(
                aid,
                f"r{provider}",
                f"u{customer}",
                {Metric.ON_TIME_PCT: 95.0},
                exceed_margin_hours=24,
            )
        )
        for w in range(weeks):
            due = start + timedelta(weeks=w)
            early = rng.uniform(-40, 10)
            warned = due - timedelta(hours=12) if early > 0 and rng.random() < 0.4 else None
            org.commitments.append(Commitment(aid, due, due + timedelta(hours=early), warned))
    return org


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_commitments", description=__doc__)
    parser.add_argument("--agreements", type=int, default=20_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="valuechain-bench-commitments-"))
    vc = Valuechain.open(f"sqlite:///{folder / 'bench.db'}", create=True)
    org = organisation(args.agreements, args.weeks, args.seed)
    commitments = len(org.commitments)
    started = time.perf_counter()
    vc.write_map(org)
    write_s = time.perf_counter() - started
    del org
    doc = commitments_document(vc)  # warm-up
    runs = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        doc = commitments_document(vc)
        runs.append(time.perf_counter() - started)
    seconds = statistics.median(runs)
    assert sum(r["due"] + r["pending"] for r in doc["agreements"]) == commitments
    result = {
        "machine": machine_info(),
        "core": CORE,
        "agreements": args.agreements,
        "commitments": commitments,
        "write_seconds": round(write_s, 2),
        "commitments_document_seconds": round(seconds, 2),
        "runs": [round(r, 2) for r in runs],
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "goals": {"seconds": GOAL_SECONDS, "met": seconds <= GOAL_SECONDS},
    }
    print(
        f"{commitments:,} commitments of {args.agreements:,} agreements: "
        f"commitments document {seconds:.2f} s (goal {GOAL_SECONDS:g} s), "
        f"write {write_s:.1f} s, peak RSS {result['peak_rss_mib']:.0f} MiB"
    )
    return write_result("commitments", result)


if __name__ == "__main__":
    raise SystemExit(main())
