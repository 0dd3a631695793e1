"""Benchmark: one provider rated by many customer units (the heavy rater).

HR, IT or payroll is rated by nearly every department, so one provider's cells form
one big linked group for the protection (``analytics.confidentiality``): a total
per campaign, a cell per customer, per dimension and per customer × dimension, all
sharing respondents. Issue 19 measured 3.3, 8.9 and 139 s of CPU to import 50, 75
and 100 raters; 200 did not finish in 600 s.

The generator: one provider (``u000000``, a department with one result linked to
every rater) and ``raters`` customer departments; in each of two campaigns each
rater sends 5 to 12 responses (uniform), all with one instrument (``service_factors``
by default, ``internal_servqual`` with ``--instrument``); scores follow a latent
quality per rater and dimension plus a person effect and noise on the 1–7 scale,
leaning to the top; 3% of the item answers are skipped at random (a response keeps
at least its first item), so some respondents miss a dimension or the outcome item
and the protection meets small atoms in many customers' blocks.

Goal (docs/benchmarks.md): ``valuechain import`` of one provider rated by 5,000
raters into a fresh SQLite file in at most ``GOAL_SECONDS`` of CPU (the import's
processes; on a machine shared with other work the wall-clock is reported next to
it). Each size runs as a child process (wall-clock, CPU and peak RSS from GNU time).

Run: ``.venv/bin/python -m bench.heavy_rater`` (``--help`` for sizes; ``--write
OUT`` only writes the bundle).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from bench.bench_import import valuechain_command
from bench.bench_measure import run_child
from bench.machine import machine_info, write_result
from bench.survey import CAMPAIGNS, INSTRUMENTS

SIZES = (100, 1_000, 5_000)
GOAL_SECONDS = 30.0
SKIP = 0.03
RESPONDENTS = (5, 12)  # per rater and campaign, both included
PROVIDER = "u000000"


def rater_ids(raters: int) -> list[str]:
    return [f"u{i + 1:06d}" for i in range(raters)]


def write_heavy_bundle(
    folder: Path, raters: int, *, instrument: str = "service_factors", seed: int = 42
) -> dict[str, int]:
    """Write units.csv, results.csv, links.csv and responses.csv for one provider
    rated by ``raters`` units (see the module docstring); returns the counts."""
    rng = np.random.default_rng(seed)
    items = next(item_list for name, item_list, _ in INSTRUMENTS if name == instrument)
    asks_expectation = next(e for name, _, e in INSTRUMENTS if name == instrument)
    dims = list(dict.fromkeys(d for _, d in items))
    item_dim = np.array([dims.index(d) for _, d in items])
    ids = rater_ids(raters)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "units.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(("id", "name", "kind", "parent_id", "headcount"))
        w.writerow((PROVIDER, "Shared services", "department", "", 40))
        w.writerows((u, f"Department {u}", "department", "", 15) for u in ids)
    with (folder / "results.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(("id", "unit_id", "name", "kind", "capacity", "cost_per_item"))
        w.writerow(("r0000000", PROVIDER, "Payroll and HR", "intermediate", "", ""))
    with (folder / "links.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(("result_id", "customer_id", "relation", "demand"))
        w.writerows(("r0000000", u, "depends_on", "") for u in ids)

    quality = rng.normal(5.4, 0.6, size=(raters, len(dims)))  # leans to the top of 1–7
    answers = 0
    responses = 0
    with (folder / "responses.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(
            (
                "response_id",
                "campaign",
                "instrument",
                "rater_id",
                "rated_id",
                "submitted_at",
                "item",
                "expectation",
                "score",
                "comment",
            )
        )
        for c, campaign in enumerate(CAMPAIGNS):
            count = rng.integers(RESPONDENTS[0], RESPONDENTS[1] + 1, raters)
            rater = np.repeat(np.arange(raters), count)
            n = rater.shape[0]
            person = rng.normal(0.0, 0.6, n)
            score = np.clip(
                np.rint(
                    quality[rater][:, item_dim]
                    + person[:, None]
                    + rng.normal(0.0, 0.7, (n, len(items)))
                ),
                1,
                7,
            ).astype(np.int64)
            expectation = np.clip(np.rint(rng.normal(5.9, 0.8, (n, len(items)))), 1, 7)
            kept = rng.random((n, len(items))) >= SKIP
            kept[:, 0] = True  # every response keeps its first answer
            day = f"2026-{3 * c + 3:02d}-{int(rng.integers(1, 28)):02d}"
            rows = []
            for r, k in zip(*np.nonzero(kept), strict=True):
                rows.append(
                    (
                        f"c{c}r{r:07d}",
                        campaign,
                        instrument,
                        ids[rater[r]],
                        PROVIDER,
                        day,
                        items[k][0],
                        int(expectation[r, k]) if asks_expectation else "",
                        int(score[r, k]),
                        "",
                    )
                )
            w.writerows(rows)
            answers += len(rows)
            responses += n
    return {"raters": raters, "responses": responses, "answers": answers}


def run(args: argparse.Namespace) -> dict[str, Any]:
    console = Console()
    cli = valuechain_command()
    runs = []
    for raters in args.sizes:
        work = Path(tempfile.mkdtemp(prefix="valuechain-bench-heavy-"))
        try:
            counts = write_heavy_bundle(
                work / "bundle", raters, instrument=args.instrument, seed=args.seed
            )
            url = f"sqlite:///{work / 'valuechain.db'}"
            env = {
                **os.environ,
                "VALUECHAIN_DATABASE_URL": url,
                "VALUECHAIN_ORGANISATION": "bench",
            }
            console.print(
                f"Importing one provider rated by {raters:,} units "
                f"({counts['responses']:,} responses, {counts['answers']:,} answers)"
            )
            code, wall, rss, output, cpu = run_child([*cli, "import", str(work / "bundle")], env)
            if code != 0:
                raise SystemExit("import failed:\n" + output[-3000:])
            shown = _published(url)
            runs.append(
                {**counts, "import_s": wall, "import_cpu_s": cpu, "peak_rss_mib": rss, **shown}
            )
            console.print(f"  {wall:.1f} s wall, {cpu:.1f} s CPU, {rss:.0f} MiB peak")
        finally:
            if args.keep:
                console.print(f"Kept {work}")
            else:
                shutil.rmtree(work, ignore_errors=True)
    largest = max(runs, key=lambda r: r["raters"])
    # A run that does not reach the goal's size (``--quick``) misses no goal.
    met = largest["raters"] < SIZES[-1] or largest["import_cpu_s"] <= GOAL_SECONDS
    result = {
        "benchmark": "heavy_rater",
        "machine": machine_info(),
        "load_average_at_end": os.getloadavg(),
        "instrument": args.instrument,
        "seed": args.seed,
        "runs": runs,
        "goals": {"seconds": GOAL_SECONDS, "raters": SIZES[-1], "met": met},
    }
    report(console, result)
    return result


def _published(url: str) -> dict[str, int]:
    """How many relationship cells the import stored and how many it suppressed."""
    from valuechain import Valuechain
    from valuechain.services import measure

    vc = Valuechain.open(url, organisation="bench")
    try:
        cells = measure.scores(vc, "relationship")["cells"]
    finally:
        vc.engine.dispose()
    return {
        "relationship_cells": len(cells),
        "relationship_cells_suppressed": sum(bool(c["suppressed"]) for c in cells),
    }


def report(console: Console, r: dict[str, Any]) -> None:
    table = Table(
        title=f"One provider rated by many units ({r['instrument']}, SQLite)",
        title_justify="left",
    )
    for column in ("raters", "answers", "import wall (CPU)", "peak RSS", "relationship cells"):
        table.add_column(column, justify="right")
    for run_ in r["runs"]:
        table.add_row(
            f"{run_['raters']:,}",
            f"{run_['answers']:,}",
            f"{run_['import_s']:.1f} s ({run_['import_cpu_s']:.1f} s)",
            f"{run_['peak_rss_mib']:.0f} MiB",
            f"{run_['relationship_cells_suppressed']:,} of {run_['relationship_cells']:,} hidden",
        )
    console.print(table)
    g = r["goals"]
    verdict = "[green]met[/]" if g["met"] else "[red]MISSED[/]"
    console.print(
        f"Goal ({g['raters']:,} raters imported in ≤ {g['seconds']:g} s of CPU): {verdict}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument(
        "--instrument", default="service_factors", choices=[name for name, _, _ in INSTRUMENTS]
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the bundles and databases")
    parser.add_argument("--write", type=Path, help="only write the bundle of the first size here")
    args = parser.parse_args(argv)
    if args.write is not None:
        print(write_heavy_bundle(args.write, args.sizes[0], instrument=args.instrument))
        return 0
    return write_result("heavy_rater", run(args))


if __name__ == "__main__":
    raise SystemExit(main())
