"""CPU seconds of the flow on a generated organisation: building the network,
``max_flow`` and one what-if (+20% at the first bottleneck), measured with
``time.process_time`` so that other work on a shared machine does not count.

Run: ``.venv/bin/python -m bench.flow_cpu UNITS RESULTS LINKS [SEED]``.
"""

from __future__ import annotations

import inspect
import sys
import time

from bench.bench_flow import _chain
from bench.generate import generate
from valuechain.analytics.flow import Change, WhatIf, apply, max_flow
from valuechain.services.flow import _build

DEFAULT_SEED = 7


def main(argv: list[str]) -> None:
    """Print stages, arcs, CPU seconds per step and the answers (for comparing runs)."""
    units, results, links = (int(a) for a in argv[:3])
    seed = int(argv[3]) if len(argv) > 3 else DEFAULT_SEED
    chain, columns = _chain(generate(units, results, links, seed=seed))
    t = time.process_time()
    model = _build(chain, columns)
    build = time.process_time() - t
    t = time.process_time()
    flow = max_flow(model.net)
    solve = time.process_time() - t
    target = int(flow.bottlenecks[0]) if flow.bottlenecks.size else 0
    changed = apply(model.net, [WhatIf(target, Change.CAPACITY, 20.0)])
    # An older max_flow started a what-if from today's flow; time it as the app ran it.
    start = {"start": flow} if "start" in inspect.signature(max_flow).parameters else {}
    t = time.process_time()
    after = max_flow(changed, **start)
    what_if = time.process_time() - t
    print(
        f"stages {model.net.n_stages} arcs {model.net.arc_from.size} network {build:.3f} s "
        f"max_flow {solve:.3f} s what_if {what_if:.3f} s throughput {flow.throughput:.3f} "
        f"after {after.throughput:.3f} variable_cost {flow.variable_cost:.1f} "
        f"bottlenecks {flow.bottlenecks.size}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
