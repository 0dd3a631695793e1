"""Hidden-cell share under ordinary item nonresponse (issue 15, item 11).

A generated organisation of ``PROVIDERS`` internal providers, each rated by 2 to 6
customer units in two campaigns (3 to 12 respondents per relationship and campaign,
so nearly every provider and most relationships have at least the threshold),
half with the *service factors* (an ``overall`` question), half with the internal
SERVQUAL (no ``overall``: a provider's score is each respondent's mean of their
dimensions). A share of the respondents (``--skip``) leaves out every item of one
dimension chosen at random; nobody else skips anything. The summaries are computed
with ``services.summary.summarise`` (the code every survey number is read from), no
database, and the script prints:

- ``hidden``: the share of score cells (all four cuts) with at least the threshold
  answers that are hidden;
- ``provider_hidden``: the same for provider totals (the ``provider`` cut);
- ``drivers_shown``: providers whose driver analysis is shown, of those with one;
- ``organisation_drivers``: whether the organisation-wide driver analysis is shown.

Run: ``PYTHONPATH=src python -m bench.nonresponse --skip 0.03 --skip 0.15``.
"""

from __future__ import annotations

import argparse
import inspect
import json

import numpy as np

from valuechain.domain.instrument import BUILT_IN, INTERNAL_SERVQUAL, SERVICE_FACTORS
from valuechain.domain.response import By
from valuechain.services import measure
from valuechain.services.summary import DRIVER_PART, DRIVERS, _Answers, summarise

PROVIDERS = 60
THRESHOLD = 5
CAMPAIGNS = ("2026-q1", "2026-q2")
SCORE_CUTS = {cut.value for cut in By}


def organisation(skip: float, seed: int = 11) -> _Answers:
    """The generated answers (see the module docstring)."""
    rng = np.random.default_rng(seed)
    ids: list[str] = []
    inst: list[str] = []
    camp: list[str] = []
    prov: list[str] = []
    cust: list[str] = []
    response: list[int] = []
    item: list[str] = []
    dimension: list[str] = []
    score: list[float] = []
    expectation: list[float] = []
    for p in range(PROVIDERS):
        instrument = SERVICE_FACTORS if p % 2 == 0 else INTERNAL_SERVQUAL
        dims = [d.key for d in instrument.dimensions]
        quality = rng.normal(4.6, 0.8)
        for c in CAMPAIGNS:
            for u in range(int(rng.integers(2, 7))):
                for _ in range(int(rng.integers(3, 13))):
                    r = len(ids)
                    ids.append(f"r{r}")
                    inst.append(instrument.key)
                    camp.append(c)
                    prov.append(f"p{p}")
                    cust.append(f"p{p}-c{u}")
                    skipped = dims[int(rng.integers(len(dims)))] if rng.random() < skip else None
                    for it in instrument.items:
                        if it.dimension == skipped or it.scale is None:
                            continue
                        response.append(r)
                        item.append(it.key)
                        dimension.append(it.dimension)
                        score.append(float(np.clip(np.rint(rng.normal(quality, 1.0)), 1, 7)))
                        expectation.append(
                            float(np.clip(np.rint(rng.normal(5.6, 0.9)), 1, 7))
                            if it.expectation
                            else np.nan
                        )
    return _Answers(
        ids,
        inst,
        camp,
        prov,
        cust,
        np.asarray(response, dtype=np.int64),
        item,
        dimension,
        np.asarray(score),
        np.asarray(expectation),
    )


def measure_hidden(skip: float, seed: int = 11) -> dict[str, float | bool]:
    """The figures of the module docstring for one nonresponse share."""
    cells, _blocks = summarise(organisation(skip, seed), dict(BUILT_IN), THRESHOLD)
    scored = [c for c in cells if c[0] in SCORE_CUTS and c[6] >= THRESHOLD]
    totals = [c for c in scored if c[0] == By.PROVIDER.value]
    drivers = [c for c in cells if c[0] == DRIVERS]
    parts = [c for c in cells if c[0] == DRIVER_PART]
    leaks = measure._organisation_leaks
    if "limit" in inspect.signature(leaks).parameters:
        organisation_hidden = leaks(parts, limit=THRESHOLD)
    else:  # the code before issue 15 item 11
        organisation_hidden = leaks(parts)
    return {
        "skip": skip,
        "cells": len(scored),
        "hidden": round(sum(c[12] is not None for c in scored) / len(scored), 3),
        "provider_hidden": round(sum(c[12] is not None for c in totals) / len(totals), 3),
        "drivers_shown": round(sum(c[12] is None for c in drivers) / len(drivers), 3),
        "organisation_drivers": not organisation_hidden,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip", type=float, action="append", default=None)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    for skip in args.skip or [0.0, 0.03, 0.15]:
        print(json.dumps(measure_hidden(skip, args.seed)))


if __name__ == "__main__":
    main()
