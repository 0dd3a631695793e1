"""Generated organisations for the report's honesty tests: a small chain with two
survey campaigns, with or without planted effects (a decline, a driver, a gap, a
bottleneck)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import numpy.typing as npt

# Items of the built-in instruments (see domain/instrument.py).
FACTORS = {
    "courtesy": 2,
    "promptness": 2,
    "conscientiousness": 2,
    "value": 3,
    "problem_solving": 2,
}
SERVQUAL = {"tangibles": 3, "reliability": 4, "responsiveness": 3, "assurance": 3, "empathy": 3}

UNITS = [
    ("shop", "Shop customers", "external_customer"),
    ("asm", "Assembly", "team"),
    ("mach", "Machining", "team"),
    ("plan", "Planning", "team"),
    ("qa", "Quality", "team"),
]
RESULTS = [
    # id, unit, name, kind, capacity
    ("pumps", "asm", "Pumps", "finished", 110),
    ("parts", "mach", "Parts", "intermediate", 100),
    ("schedule", "plan", "Schedule", "intermediate", 1000),
    ("checks", "qa", "Checks", "intermediate", 1000),
]
LINKS = [
    ("pumps", "shop", "pays", 200),
    ("parts", "asm", "consumes", 200),
    ("schedule", "asm", "depends_on", 200),
    ("schedule", "mach", "depends_on", 200),
    ("checks", "asm", "depends_on", 200),
    ("checks", "mach", "depends_on", 200),
]
# (rater = customer unit, rated = provider unit)
RELATIONSHIPS = [("asm", "mach"), ("asm", "plan"), ("asm", "qa"), ("mach", "plan"), ("mach", "qa")]
CAMPAIGNS = ("2026-q1", "2026-q2")
#: The dimension each provider does worst in a halo organisation.
LOW = {"mach": "courtesy", "plan": "promptness", "qa": "value"}


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _answer(x: npt.ArrayLike) -> npt.NDArray[np.int64]:
    rounded: npt.NDArray[np.int64] = np.clip(np.rint(x), 1, 7).astype(np.int64)
    return rounded


def _factors(
    rng: np.random.Generator,
    rid: str,
    campaign: str,
    day: str,
    rater: str,
    rated: str,
    *,
    planted: bool,
    later: bool,
    halo: bool = False,
) -> list[list[object]]:
    """One service-factors response. Without planted effects every answer is
    independent noise around the middle of the scale; with ``halo`` (and nothing
    planted) a respondent's general impression moves all their answers, every
    dimension matters equally to ``overall``, and each provider scores one dimension
    lower than its others (:data:`LOW`): a "fix first" shape without a key driver."""
    if halo and not planted:
        base = rng.normal(5.0, 0.7)
        dims = {
            d: base + rng.normal(0, 0.6) - (1.0 if LOW.get(rated) == d else 0.0) for d in FACTORS
        }
        overall = float(np.mean(list(dims.values()))) + rng.normal(0, 0.5)
    elif planted:
        base = rng.normal(5.0, 0.7)
        dims = {d: base + rng.normal(0, 0.6) for d in FACTORS}
        if rated == "mach" and later:
            dims = {d: v - 1.5 for d, v in dims.items()}
        if rated == "qa":
            dims["value"] -= 1.5
            overall = dims["value"] + 0.9 + rng.normal(0, 0.3)
        else:
            overall = base + rng.normal(0, 0.7)
    else:
        dims = dict.fromkeys(FACTORS, 4.0)
        overall = rng.normal(4.0, 1.2)
    spread = 0.5 if planted or halo else 1.2
    out: list[list[object]] = []
    for d, k in FACTORS.items():
        for i, score in enumerate(_answer(dims[d] + rng.normal(0, spread, k)), 1):
            out.append(
                [
                    rid,
                    campaign,
                    "service_factors",
                    rater,
                    rated,
                    day,
                    f"{d}_{i}",
                    "",
                    int(score),
                    "",
                ]
            )
    out.append(
        [
            rid,
            campaign,
            "service_factors",
            rater,
            rated,
            day,
            "overall_1",
            "",
            int(_answer(np.array([overall]))[0]),
            "",
        ]
    )
    return out


def write_bundle(
    folder: Path, seed: int, *, planted: bool, respondents: int = 24, halo: bool = False
) -> Path:
    """A bundle under ``folder``. ``halo`` without ``planted``: the null organisation
    of the driver analysis (see :func:`_factors`), no change and no gap. Planted:
    Machining's score from Assembly falls by 1.5 between the campaigns; Quality's
    customers' satisfaction is driven by value, which Quality does worst; Planning
    delivers 2 points below expectation on reliability; Machining (capacity 100 of a
    demand of 200) is the bottleneck in both cases."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "units.csv", ["id", "name", "kind"], [list(u) for u in UNITS])
    _write(
        folder / "results.csv",
        ["id", "unit_id", "name", "kind", "capacity"],
        [list(r) for r in RESULTS],
    )
    _write(
        folder / "links.csv",
        ["result_id", "customer_id", "relation", "demand"],
        [list(link) for link in LINKS],
    )
    rows: list[list[object]] = []
    header = [
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
    ]
    for c, campaign in enumerate(CAMPAIGNS):
        day = f"2026-{3 * c + 3:02d}-15"
        for rater, rated in RELATIONSHIPS:
            for r in range(respondents):
                rows += _factors(
                    rng,
                    f"{campaign}-{rater}-{rated}-{r}",
                    campaign,
                    day,
                    rater,
                    rated,
                    planted=planted,
                    later=c == 1,
                    halo=halo,
                )
            if rated != "plan":
                continue
            for r in range(respondents):
                rid = f"{campaign}-sq-{rater}-{r}"
                for d, k in SERVQUAL.items():
                    # Centred on 4 so the 1-7 ends clip both sides alike.
                    expect = _answer(rng.normal(4.5 if planted else 4.0, 1.0, k))
                    if planted:
                        got = _answer(
                            expect - (2.0 if d == "reliability" else 0.0) + rng.normal(0, 0.8, k)
                        )
                    else:
                        got = _answer(rng.normal(4.0, 1.0, k))
                    for i in range(k):
                        rows.append(
                            [
                                rid,
                                campaign,
                                "internal_servqual",
                                rater,
                                rated,
                                day,
                                f"{d}_{i + 1}",
                                int(expect[i]),
                                int(got[i]),
                                "",
                            ]
                        )
    _write(folder / "responses.csv", header, rows)
    return folder
