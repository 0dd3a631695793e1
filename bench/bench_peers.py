"""Benchmark: whole commands against peers, paired, on the realistic generators.

Goals (docs/benchmarks.md, issue 19): on a realistic organisation (bench/realistic.py)
and survey (bench/realistic_survey.py),

* ``valuechain map --json`` (read the map from SQLite, derive every unit's facts,
  write the document) takes less CPU than a competent networkx script writing the
  same document from the bundle's CSV files (bench/peers/nx_map.py);
* ``valuechain scores --json --by relationship`` takes less CPU than pandas and than
  DuckDB computing the same table from ``responses.csv`` (bench/peers/scores_pandas.py,
  bench/peers/scores_duckdb.py).

Each pair is two whole processes (interpreter start, imports and reading included)
run in turn, A B A B ..., ``--runs`` times; the ratio is taken pair by pair (our CPU /
the peer's CPU; below 1 means ours used less) and its median reported, so the
machine's drift between pairs cancels.
CPU seconds (user + system, of the process and the children it waited for, from
``wait4``) are the measure: on a shared machine the wall-clock also counts waiting
for a core. The outputs of the first pair are cross-checked: every published score
cell equals the peer's (n and mean), and at most 20,000 units every unit's direct
customers, external customers reached, depth and orphan results equal networkx's.

Run: ``.venv/bin/python -m bench.bench_peers --units 20000 --answers 500000``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_import import valuechain_command
from bench.generate import write_bundle
from bench.machine import add_generator_argument, machine_info, organisation, write_result
from bench.machine import organisation_stats as shape_of

PEERS = Path(__file__).parent / "peers"
# The largest ratio (our CPU / the peer's CPU, median of the pairs) each comparison may
# reach: no more CPU than the peer.
GOAL_RATIO = {"map_vs_networkx": 1.0, "scores_vs_pandas": 1.0, "scores_vs_duckdb": 1.0}
CHECK_MAP_UP_TO = 20_000  # units; beyond, both documents are too big to hold twice


def run_once(command: list[str], env: dict[str, str], out: Path) -> dict[str, float]:
    """One whole process, its standard output into ``out``: exit code, wall and CPU
    seconds (``wait4``: the process and the children it waited for)."""
    start = time.perf_counter()
    with out.open("wb") as sink:
        proc = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
    return {
        "code": os.waitstatus_to_exitcode(status),
        "wall_s": time.perf_counter() - start,
        "cpu_s": usage.ru_utime + usage.ru_stime,
    }


def paired(
    ours: list[str], peer: list[str], runs: int, env: dict[str, str], work: Path, name: str
) -> dict[str, Any]:
    """``runs`` pairs (ours, then the peer); the first pair's outputs are kept."""
    a: list[dict[str, float]] = []
    b: list[dict[str, float]] = []
    for i in range(runs):
        suffix = "" if i == 0 else ".again"
        a.append(run_once(ours, env, work / f"{name}.ours.json{suffix}"))
        b.append(run_once(peer, env, work / f"{name}.peer.json{suffix}"))
        if a[-1]["code"] or b[-1]["code"]:
            raise SystemExit(f"{name}: exit codes {a[-1]['code']} and {b[-1]['code']}")
    ratios = [x["cpu_s"] / y["cpu_s"] for x, y in zip(a, b, strict=True)]
    return {
        "runs": runs,
        "ours_cpu_s": statistics.median(x["cpu_s"] for x in a),
        "peer_cpu_s": statistics.median(y["cpu_s"] for y in b),
        "ours_wall_s": statistics.median(x["wall_s"] for x in a),
        "peer_wall_s": statistics.median(y["wall_s"] for y in b),
        "ratio_median": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
    }


def check_scores(ours: Path, peer: Path) -> list[str]:
    """Every published cell of ours has the peer's n and mean (to 1e-9)."""
    doc = json.loads(ours.read_text(encoding="utf-8"))
    theirs = json.loads(peer.read_text(encoding="utf-8"))
    if doc["campaign"] != theirs["campaign"]:
        return [f"campaign {doc['campaign']} != {theirs['campaign']}"]
    found = {(c["instrument"], c["provider"], c["customer"]): c for c in theirs["cells"]}
    problems = []
    for cell in doc["cells"]:
        if cell["suppressed"]:
            continue
        other = found.get((cell["instrument"], cell["provider"], cell["customer"]))
        if other is None or other["n"] != cell["n"] or abs(other["mean"] - cell["mean"]) > 1e-9:
            problems.append(f"cell {cell['provider']} <- {cell['customer']} differs")
    return problems[:20]


def check_map(ours: Path, peer: Path) -> list[str]:
    """Every unit's direct customers, external customers, depth and orphan results."""
    mine = {u["id"]: u for u in json.loads(ours.read_text(encoding="utf-8"))["units"]}
    theirs = json.loads(peer.read_text(encoding="utf-8"))["units"]
    problems = []
    for u in theirs:
        m = mine[u["id"]]
        for key in ("direct", "depth"):
            if m[key] != u[key]:
                problems.append(f"unit {u['id']}: {key} differs")
        # Lists in no promised order: the map's order of results is not the CSV's.
        for key in ("external", "orphan_results"):
            if set(m[key]) != set(u[key]):
                problems.append(f"unit {u['id']}: {key} differs")
    if len(mine) != len(theirs):
        problems.append(f"{len(mine)} units vs {len(theirs)}")
    return problems[:20]


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench.realistic_survey import (
        generate_realistic_survey,
        survey_stats,
        write_realistic_responses,
    )

    work = Path(tempfile.mkdtemp(prefix="valuechain-bench-peers-"))
    try:
        org = organisation(args)
        shape = shape_of(args, org)
        bundle = work / "bundle"
        write_bundle(org, bundle)
        survey = generate_realistic_survey(org, args.answers, seed=args.seed)
        write_realistic_responses(org, survey, bundle / "responses.csv")
        shape["survey"] = survey_stats(survey)
        print(f"Shape: {shape}")
        env = {
            **os.environ,
            "VALUECHAIN_DATABASE_URL": f"sqlite:///{work / 'valuechain.db'}",
            "VALUECHAIN_ORGANISATION": "bench",
        }
        cli = valuechain_command()
        imported = run_once([*cli, "import", str(bundle)], env, work / "import.out")
        if imported["code"]:
            raise SystemExit("import failed")
        py = sys.executable
        responses = str(bundle / "responses.csv")
        pairs = {
            "map_vs_networkx": paired(
                [*cli, "map", "--json"],
                [py, str(PEERS / "nx_map.py"), str(bundle)],
                args.runs,
                env,
                work,
                "map",
            ),
            "scores_vs_pandas": paired(
                [*cli, "scores", "--json", "--by", "relationship"],
                [py, str(PEERS / "scores_pandas.py"), responses],
                args.runs,
                env,
                work,
                "pandas",
            ),
            "scores_vs_duckdb": paired(
                [*cli, "scores", "--json", "--by", "relationship"],
                [py, str(PEERS / "scores_duckdb.py"), responses],
                args.runs,
                env,
                work,
                "duckdb",
            ),
        }
        problems = check_scores(work / "pandas.ours.json", work / "pandas.peer.json")
        problems += check_scores(work / "duckdb.ours.json", work / "duckdb.peer.json")
        map_checked = org.n_units <= CHECK_MAP_UP_TO
        if map_checked:
            problems += check_map(work / "map.ours.json", work / "map.peer.json")
    finally:
        if args.keep:
            print(f"Kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    each = {name: pairs[name]["ratio_median"] <= goal for name, goal in GOAL_RATIO.items()}
    for name, p in pairs.items():
        print(
            f"{name}: ours {p['ours_cpu_s']:.2f} CPU s, peer {p['peer_cpu_s']:.2f} CPU s, "
            f"ratio {p['ratio_median']:.2f}x (min {p['ratio_min']:.2f}, max {p['ratio_max']:.2f},"
            f" {p['runs']} pairs); goal ≤ {GOAL_RATIO[name]:g}x: "
            + ("met" if each[name] else "MISSED")
        )
    for problem in problems:
        print(f"mismatch: {problem}")
    print(
        "Outputs identical: "
        + ("yes" if not problems else "NO")
        + ("" if map_checked else " (map not checked at this size)")
    )
    return {
        "benchmark": "peers",
        "machine": machine_info(),
        "shape": shape,
        "import": imported,
        "pairs": pairs,
        "map_checked": map_checked,
        "problems": problems,
        "goals": {"ratio": GOAL_RATIO, "each": each, "met": all(each.values()) and not problems},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--results", type=int, default=None, help="default: 2.5 per unit")
    parser.add_argument("--links", type=int, default=None, help="default: 10 per unit")
    parser.add_argument("--answers", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", type=int, default=3, help="pairs per comparison")
    parser.add_argument("--keep", action="store_true", help="keep the bundle and database")
    add_generator_argument(parser)
    args = parser.parse_args(argv)
    args.results = args.results or args.units * 5 // 2
    args.links = args.links or args.units * 10
    return write_result(f"peers-{args.units}", run(args))


if __name__ == "__main__":
    raise SystemExit(main())
