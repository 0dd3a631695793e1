"""Generated organisations for Connect's honesty tests and benchmark: four teams serve
Assembly, whose pumps two external customers buy; every month Assembly rates each
team (a pulse campaign, five respondents) and the customers report satisfaction and
complaints. Pure noise, or with one planted relationship that moves with
satisfaction."""

from __future__ import annotations

from datetime import date

import numpy as np

from valuechain.domain.instrument import PULSE
from valuechain.domain.link import Link, Relation
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.outcome import Outcome
from valuechain.domain.response import Answer, Response
from valuechain.domain.result import Result, ResultKind
from valuechain.domain.unit import Unit, UnitKind

PROVIDERS = ("plan", "mach", "paint", "qa")
CUSTOMERS = ("retail", "web")
METRICS = ("satisfaction", "complaints")
RESPONDENTS = 5


def organisation(seed: int, *, planted: bool, months: int = 24) -> OrganisationMap:
    """The organisation of ``seed``. Planted: a monthly latent drives Assembly's rating
    of Planning (1.5 points per unit) and the customers' satisfaction (0.5 per unit);
    everything else is independent noise."""
    rng = np.random.default_rng(seed)
    team, external = UnitKind.TEAM, UnitKind.EXTERNAL_CUSTOMER
    units = [Unit("asm", "Assembly", team)]
    units += [Unit(p, p.capitalize(), team) for p in PROVIDERS]
    units += [Unit(c, c.capitalize(), external) for c in CUSTOMERS]
    results = [Result("pumps", "asm", "Pumps", ResultKind.FINISHED)]
    results += [Result(f"{p}-r", p, f"{p} work", ResultKind.INTERMEDIATE) for p in PROVIDERS]
    links = [Link("pumps", c, Relation.PAYS) for c in CUSTOMERS]
    links += [Link(f"{p}-r", "asm", Relation.DEPENDS_ON) for p in PROVIDERS]
    latent = rng.normal(0.0, 1.0, months)
    responses: list[Response] = []
    outcomes: list[Outcome] = []
    for m in range(months):
        month = f"{2024 + m // 12}-{m % 12 + 1:02d}"
        day = date(2024 + m // 12, m % 12 + 1, 25)
        for p in PROVIDERS:
            shift = 1.5 * latent[m] if planted and p == "plan" else 0.0
            scores = np.clip(np.rint(4.0 + shift + rng.normal(0.0, 1.2, RESPONDENTS)), 1, 7)
            responses += [
                Response(
                    f"{month}-{p}-{k}",
                    f"{month}-pulse",
                    PULSE.key,
                    "asm",
                    p,
                    day,
                    answers=[Answer("need_now", "need", float(s))],
                )
                for k, s in enumerate(scores.tolist())
            ]
        for c in CUSTOMERS:
            boost = 0.5 * latent[m] if planted else 0.0
            outcomes.append(Outcome(c, month, "satisfaction", 7.0 + boost + rng.normal(0, 0.2)))
            outcomes.append(Outcome(c, month, "complaints", float(rng.poisson(20))))
    return OrganisationMap(
        units=units, results=results, links=links, responses=responses, outcomes=outcomes
    )
