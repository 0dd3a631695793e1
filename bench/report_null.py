"""How often do the report and Connect claim something on null data, and how often do
they find what was planted?

``.venv/bin/python -m bench.report_null`` (``--seeds 100 --planted 20`` by default;
``--noise`` adds the independent-noise organisations) builds, each in a fresh
organisation of one SQLite file, through the code the app runs:

* **halo null** (``tests/report_data.py``, ``halo=True``): a general impression moves
  all of a respondent's answers, every dimension matters equally to ``overall`` and
  each provider scores one dimension a point below its others: the shape the key
  driver sentence is about, without a key driver. Counted: reports claiming a
  driver, and reports claiming anything tested;
* **planted report** (``planted=True``): a decline, a driver (Quality · value), an
  expectation gap; counted: reports finding each;
* **Connect null** (``tests/connect_data.py``): four relationships rated monthly for
  24 months against two outcome metrics of pure noise; counted: documents whose
  summary says "moves with";
* **Connect planted**: one relationship and satisfaction share a monthly latent;
  counted: documents that name it.
* ``--noise``: the report on organisations whose every answer is independent noise.

Goals: at most 2 claims per 100 null organisations of each kind, and a planted driver
and correlation found in at least 90% of planted ones. Writes
``bench/out/report_null.json``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.connect_data import organisation
from tests.report_data import write_bundle

from bench.machine import machine_info, write_result
from valuechain import Valuechain
from valuechain.analytics.finding import Kind
from valuechain.services.bundle import import_bundle
from valuechain.services.connect import connect
from valuechain.services.connect_types import ConnectOut
from valuechain.services.report import Report, report
from valuechain.store.database import make_engine

FALSE_PER_100 = 2
DETECTED = 0.9


def _report(engine: Any, folder: Path, name: str, seed: int, **shape: bool) -> Report:
    vc = Valuechain(engine, name, create=True)
    import_bundle(vc, write_bundle(folder / name, seed, **shape))
    return report(vc, all_findings=True)


def _connect(engine: Any, name: str, seed: int, *, planted: bool) -> ConnectOut:
    vc = Valuechain(engine, name, create=True)
    vc.write_map(organisation(seed, planted=planted))
    return connect(vc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report_null", description=__doc__)
    parser.add_argument("--seeds", type=int, default=100, help="null organisations of each kind")
    parser.add_argument("--planted", type=int, default=20, help="planted organisations")
    parser.add_argument("--noise", action="store_true", help="also independent-noise reports")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts: dict[str, int] = dict.fromkeys(
        ("halo_driver", "halo_any", "noise_any", "connect_null", "driver", "decline", "gap"), 0
    )
    counts["connect_planted"] = 0
    tested: list[int] = []
    # Seeds of the planted organisations start where the null ones end: no overlap.
    planted_seeds = range(10_000, 10_000 + args.planted)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        engine = make_engine(f"sqlite:///{folder / 'null.db'}", create=True)
        for seed in range(args.seeds):
            doc = _report(engine, folder, f"halo-{seed}", seed, planted=False, halo=True)
            tested.append(doc.tested)
            claimed = [f for f in doc.findings if f.q is not None]
            counts["halo_any"] += bool(claimed)
            counts["halo_driver"] += any(f.candidate.kind is Kind.DRIVER for f in claimed)
            for f in claimed:
                print(f"halo seed {seed}: {f.candidate.sentence}")
            if args.noise:
                doc = _report(engine, folder, f"noise-{seed}", seed, planted=False)
                claimed = [f for f in doc.findings if f.q is not None]
                counts["noise_any"] += bool(claimed)
                for f in claimed:
                    print(f"noise seed {seed}: {f.candidate.sentence}")
            summary = _connect(engine, f"cnull-{seed}", seed, planted=False)["summary"]
            if "moves with" in summary:
                counts["connect_null"] += 1
                print(f"connect seed {seed}: {summary}")
        for seed in planted_seeds:
            doc = _report(engine, folder, f"planted-{seed}", seed, planted=True)
            found = {(f.candidate.kind, f.candidate.subject) for f in doc.findings}
            counts["driver"] += (Kind.DRIVER, "Quality · value") in found
            counts["decline"] += any(
                k is Kind.DECLINE and s.startswith("Machining") for k, s in found
            )
            counts["gap"] += (Kind.GAP, "Planning · reliability") in found
            summary = _connect(engine, f"cplanted-{seed}", seed, planted=True)["summary"]
            counts["connect_planted"] += "rating of Plan moves with the satisfaction" in summary
        engine.dispose()
    seconds = time.perf_counter() - started
    n, m = max(args.seeds, 1), max(args.planted, 1)
    false_limit = FALSE_PER_100 * n / 100
    met = (
        counts["halo_driver"] <= false_limit
        and counts["connect_null"] <= false_limit
        and counts["driver"] >= DETECTED * m
        and counts["connect_planted"] >= DETECTED * m
    )
    print(
        f"halo null: {counts['halo_driver']} of {args.seeds} reports claimed a key driver, "
        f"{counts['halo_any']} claimed anything tested "
        f"({sum(tested) / n:.0f} tested candidates per report)"
    )
    if args.noise:
        print(f"independent noise: {counts['noise_any']} of {args.seeds} reports claimed anything")
    print(f"Connect null: {counts['connect_null']} of {args.seeds} summaries said 'moves with'")
    print(
        f"planted: driver found in {counts['driver']} of {args.planted}, decline in "
        f"{counts['decline']}, gap in {counts['gap']}; Connect named the planted "
        f"relationship in {counts['connect_planted']} of {args.planted} "
        f"({seconds:.0f} s)"
    )
    return write_result(
        "report_null",
        {
            "machine": machine_info(),
            "seeds": args.seeds,
            "planted": args.planted,
            "counts": counts,
            "tested_per_report": sum(tested) / n,
            "seconds": seconds,
            "goals": {
                "false_claims_per_100": FALSE_PER_100,
                "detected": DETECTED,
                "met": met,
            },
        },
    )


if __name__ == "__main__":
    raise SystemExit(main())
