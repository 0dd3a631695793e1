"""How often does a report claim something on pure noise?

``.venv/bin/python -m bench.report_null [--seeds 100]`` generates organisations without
any effect (tests/report_data.py: every answer independent noise), builds each one's
report and counts the reports that claim a change, gap or driver. Holm at 1% across all
candidates of a report should keep that near 1 in 100.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tests.report_data import write_bundle

from valuechain import Valuechain
from valuechain.services.bundle import import_bundle
from valuechain.services.report import report
from valuechain.store.database import make_engine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report_null", description=__doc__)
    parser.add_argument("--seeds", type=int, default=100)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    claims, tested = 0, 0
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'noise.db'}", create=True)
        for seed in range(args.seeds):
            vc = Valuechain(engine, f"noise-{seed}", create=True)
            import_bundle(vc, write_bundle(Path(folder) / f"b{seed}", seed, planted=False))
            doc = report(vc, all_findings=True)
            tested += doc.tested
            claimed = [f for f in doc.findings if f.q is not None]
            claims += bool(claimed)
            for f in claimed:
                print(f"seed {seed}: {f.candidate.sentence}")
        engine.dispose()
    print(
        f"{claims} of {args.seeds} pure-noise reports claimed a change, gap or driver "
        f"({tested / args.seeds:.0f} tested candidates per report; "
        f"{time.perf_counter() - started:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
