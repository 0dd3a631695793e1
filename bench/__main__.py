"""Run every benchmark: ``.venv/bin/python -m bench`` (or ``make bench``).

Each benchmark runs in its own process, one after the other, so pinning, peak memory
and caches of one never colour the next. ``--quick`` runs them on a small organisation
(a smoke test of the benchmarks themselves, not a measurement).
"""

from __future__ import annotations

import argparse
import subprocess
import sys

BENCHMARKS = (
    "bench.bench_customers",
    "bench.bench_import",
    "bench.bench_flow",
    "bench.bench_commitments",
    "bench.bench_request",
    "bench.bench_measure",
    "bench.heavy_rater",
    "bench.report_null",
    "bench.bench_bigorg",
    "bench.bench_peers",
    "bench.bench_map_page",
)
QUICK = ["--units", "2000", "--results", "5000", "--links", "20000"]
QUICK_REQUEST = ["--requests", "20000", "--relationships", "2000", "--units", "2000"]
QUICK_EXTRA = {
    "bench.bench_measure": ["--answers", "200000", "--repeat", "1", "--sample", "20"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    args = parser.parse_args(argv)
    failed = []
    for module in BENCHMARKS:
        extra = QUICK + QUICK_EXTRA.get(module, [])
        if module.endswith("commitments"):
            extra = ["--agreements", "200", "--repeats", "1"]
        if module.endswith("report_null"):
            extra = ["--seeds", "5", "--planted", "2"]
        if module.endswith("request"):
            extra = [*QUICK_REQUEST, "--pages", "30"]
        if module.endswith("bigorg"):
            extra = ["--units", "2000"]
        if module.endswith("peers"):
            extra = ["--units", "2000", "--answers", "100000", "--runs", "1"]
        if module.endswith("map_page"):
            extra = ["--sizes", "500", "4000", "--repeat", "1"]
        if module.endswith("heavy_rater"):
            extra = ["--sizes", "100"]
        code = subprocess.call([sys.executable, "-m", module, *(extra if args.quick else [])])
        if code != 0:
            failed.append(module)
    if failed:
        print("Goals missed or benchmark failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
