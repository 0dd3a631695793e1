"""Capability 7, Connect: every internal relationship's line of sight to the external
customers, whether internal scores move with those customers' outcomes, and the
"internal focus" flag (``valuechain connect``).

* An **internal relationship** is a result of a team or department used (paid for,
  consumed, added to, depended on) by another team or department.
* Its **line of sight** is the set of external customers its customer unit reaches
  along the map (any relation), the length of the shortest path from the provider
  to one of them, and (for one unit) one shortest path to each.
* **Over time**: for each campaign, the relationship's score (the customer's rating
  of the provider, from :func:`valuechain.services.measure.scores`, so only numbers
  the confidentiality rule already publishes are used) is paired with the mean
  outcome of the external customers it served in the campaign's month (the month of
  its last response), on the map as it was at the end of that month (docs/map.md,
  "History"; before the history begins, the first map it holds). Pearson's r with
  its Fisher-z 95% interval per metric; below
  :data:`MIN_PERIODS` paired periods no r is given ("too few periods"). A
  correlation is said to "move with" the outcome only when it passes Holm's
  correction across every correlation the document tries, at the report's 1%
  (:func:`valuechain.analytics.connect.moves_with`).
* **Internal focus**: a relationship whose customer reaches no external customer,
  and a team or department none of whose work reaches one.
* **Entitlement** needs service agreements (the Agree capability), which this
  version does not store yet: the comparison itself is
  :func:`valuechain.analytics.connect.entitlement`; the document says so under
  ``entitlement``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

from valuechain.analytics.connect import (
    correlation,
    entitlement,
    line_of_sight,
    moves_with,
    served_units,
)
from valuechain.analytics.customer import NO_DEPTH, customers_of
from valuechain.domain.agreement import AgreementState, Metric
from valuechain.domain.text import possessive
from valuechain.domain.unit import UnitKind
from valuechain.services import agreement as agreement_service
from valuechain.services import history, measure
from valuechain.services.connect_types import (
    ConnectOut,
    Entitlement,
    EntitlementFlag,
    Focus,
    OverTime,
    Relationship,
)
from valuechain.services.organisation import RELATIONS, Chain, Valuechain
from valuechain.services.transaction import reading
from valuechain.store import outcome as store

INTERNAL = (UnitKind.TEAM.value, UnitKind.DEPARTMENT.value)
#: Fewer paired periods than this give no correlation: with n = 6 a 95% interval
#: of r still spans about 1.5 of its 2 possible units, so fewer says nothing.
MIN_PERIODS = 6
INTERNAL_FOCUS = "internal_focus"
ENTITLEMENT = "entitlement"
ENTITLEMENT_NOTE = (
    "not assessed: entitlement compares service agreement targets along a path, and "
    "this organisation has no agreement in force"
)


def _relationships(chain: Chain) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (result, customer) pairs between two different internal units, with a
    bitmask of their relations, ordered by result then customer position."""
    g, cols = chain.graph, chain.columns
    kinds = np.array(cols.unit_kinds, dtype=object)
    internal = np.isin(kinds, INTERNAL)
    provider = g.result_unit[g.link_result]
    keep = internal[provider] & internal[g.link_customer] & (provider != g.link_customer)
    result, customer = g.link_result[keep], g.link_customer[keep]
    bits = np.left_shift(1, g.link_relation[keep]).astype(np.int64)
    if result.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    key = result * g.n_units + customer
    order = np.argsort(key, kind="stable")
    key, bits = key[order], bits[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    mask = np.bitwise_or.reduceat(bits, starts)
    first = key[starts]
    return first // g.n_units, first % g.n_units, mask


def _num(value: float) -> float | None:
    return None if not math.isfinite(value) else round(float(value), 6) + 0.0


def _outcome_table(vc: Valuechain) -> tuple[dict[tuple[str, str], dict[str, float]], list[str]]:
    """Outcomes as {(metric, period): {external customer: value}} and the metrics."""
    with reading(vc) as conn:
        rows = store.read_outcomes(conn, vc.org_id)
    table: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for o in rows:
        table[(o.metric, o.period)][o.unit_id] = o.value
    return table, sorted({o.metric for o in rows})


def _campaign_months(vc: Valuechain) -> dict[str, str]:
    with reading(vc) as conn:
        return {c: day[:7] for c, day in store.campaign_days(conn, vc.org_id).items()}


def _relationship_scores(
    vc: Valuechain, months: dict[str, str]
) -> dict[tuple[str, str], dict[str, float]]:
    """Published relationship scores: {(provider, customer): {month: mean}}. Each
    campaign is asked of the measure service, which protects every cut together."""
    by_instrument: dict[tuple[str, str], dict[str, dict[str, float]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for campaign, month in sorted(months.items()):
        doc = measure.scores(vc, by=measure.By.RELATIONSHIP, campaign=campaign)
        for cell in doc["cells"]:
            if cell["suppressed"] or cell["mean"] is None:
                continue
            # A relationship cell always names its customer.
            pair = (cell["provider"], cell.get("customer") or "")
            series = by_instrument[pair][cell["instrument"]]
            series.setdefault(month, float(cell["mean"]))
    # Scales differ between instruments: a series never mixes them; the instrument
    # with the most months speaks for the relationship.
    return {key: max(per.values(), key=len) for key, per in by_instrument.items() if per}


def connect(
    vc: Valuechain,
    unit: str | None = None,
    *,
    over_time: bool = True,
    offset: int = 0,
    limit: int | None = None,
) -> ConnectOut:
    """The ``valuechain connect --json`` document: every internal relationship (or,
    with ``unit``, those where ``unit`` is the provider, each with one shortest path
    to every external customer it serves), its line of sight, its flags and, with
    ``over_time``, the correlation of its scores with its external customers'
    outcomes per metric; the units with internal focus; the outcomes held.

    With ``limit`` (only without ``over_time``: Holm's correction runs across every
    correlation) ``relationships`` holds rows ``offset`` to ``offset + limit``;
    ``total`` counts all of them and those with a line of sight, and the summary
    and the entitlement flags still speak for the whole organisation."""
    if limit is not None and over_time:
        raise ValueError("a page of relationships has no over-time correlations")
    with reading(vc):
        chain = vc.chain()
        cols, g, facts = chain.columns, chain.graph, chain.facts
        pos = chain.position(unit) if unit is not None else None
        result, customer, mask = _relationships(chain)
        if pos is not None:
            mine = g.result_unit[result] == pos
            result, customer, mask = result[mine], customer[mine], mask[mine]
        sight = line_of_sight(g, facts, customer)
        table, metrics = _outcome_table(vc)
        periods = sorted({p for _m, p in table})
        months = _campaign_months(vc) if over_time and table else {}
        scores = _relationship_scores(vc, months) if months else {}
        # Each month's outcomes are paired with whom the relationship served then.
        then = _served_by_month(vc, sorted({m for s in scores.values() for m in s}))
        paths: dict[int, dict[int, list[int]]] = {}
        if pos is not None:
            for c in np.unique(customer).tolist():
                found = customers_of(g, c, facts.reaches_external)
                via = dict(zip(found.indirect.tolist(), found.via, strict=True))
                paths[c] = {
                    int(e): [pos, c, *(int(v) for v in via.get(int(e), ())), int(e)]
                    for e in found.external
                    if int(e) != c
                }
                if g.unit_external_customer[c]:
                    paths[c][c] = [pos, c]
        ids, names = cols.unit_ids, cols.unit_names
        agreed = _agreement_rows(vc, chain, result, customer) if limit is not None else []
        shown = range(offset, result.size if limit is None else min(result.size, offset + limit))
        rows: list[Relationship] = []
        # Rows outside the page are built only where an agreement may flag them.
        extra: list[Relationship] = []
        for i in sorted({*shown, *agreed}):
            r, c = int(result[i]), int(customer[i])
            provider = int(g.result_unit[r])
            reached = served_units(sight, i)
            served = [ids[e] for e in reached]
            flags = [] if sight.reaches[i] else [INTERNAL_FOCUS]
            row: Relationship = {
                "provider": ids[provider],
                "provider_name": names[provider],
                "result": cols.result_ids[r],
                "result_name": cols.result_names[r],
                "customer": ids[c],
                "customer_name": names[c],
                "relations": [RELATIONS[k] for k in range(len(RELATIONS)) if int(mask[i]) >> k & 1],
                "line_of_sight": bool(sight.reaches[i]),
                "length": int(sight.length[i]) if sight.length[i] != NO_DEPTH else None,
                "external": served,
                "external_names": [names[e] for e in reached],
                "flags": flags,
            }
            if pos is not None:
                row["paths"] = [
                    {"external": ids[e], "path": [ids[u] for u in p], "length": len(p) - 1}
                    for e, p in sorted(paths[c].items(), key=lambda kv: ids[kv[0]])
                ]
            if over_time:
                pair = (ids[provider], ids[c])
                row["over_time"] = _over_time(
                    scores.get(pair, {}),
                    {month: by_pair.get(pair, []) for month, by_pair in then.items()},
                    table,
                    metrics,
                )
            (rows if i in shown else extra).append(row)
        if over_time:
            _correct(rows)
        kinds = cols.unit_kinds
        # Only units that produce something can serve anyone; a department that only
        # groups teams is no service.
        producers = np.bincount(g.result_unit, minlength=g.n_units) > 0
        unit_range = range(g.n_units) if pos is None else [pos]
        focus: list[Focus] = [
            {
                "unit": ids[u],
                "name": names[u],
                "reason": "none of its work reaches an external customer",
            }
            for u in unit_range
            if kinds[u] in INTERNAL and producers[u] and facts.depth[u] == NO_DEPTH
        ]
        focus.sort(key=lambda f: f["unit"])
        served_any = _served_anywhere(sight, ids)
        sighted = int(np.count_nonzero(sight.reaches))
        return {
            "unit": unit,
            "min_periods": MIN_PERIODS,
            "outcomes": {
                "metrics": metrics,
                "first_period": periods[0] if periods else None,
                "last_period": periods[-1] if periods else None,
                "customers": len({u for values in table.values() for u in values}),
            },
            "relationships": rows,
            "total": {"relationships": int(result.size), "line_of_sight": sighted},
            "internal_focus": focus,
            "entitlement": _entitlement(vc, rows + extra, served_any),
            "summary": _summary(rows, focus, over_time, (int(result.size), sighted)),
        }


def _agreement_rows(
    vc: Valuechain, chain: Chain, result: np.ndarray, customer: np.ndarray
) -> list[int]:
    """Positions of the relationships whose provider and customer have an agreement:
    the only rows the entitlement check reads."""
    pairs = {(a.provider_id, a.customer_id) for a in agreement_service.agreements_of(vc)}
    pos = chain.unit_pos
    keys = [
        pos[p] * chain.graph.n_units + pos[c]
        for p, c in pairs
        if p is not None and p in pos and c in pos
    ]
    if not keys or result.size == 0:
        return []
    key = chain.graph.result_unit[result] * chain.graph.n_units + customer
    return np.flatnonzero(np.isin(key, np.array(keys, dtype=np.int64))).tolist()


def _served_anywhere(sight: Any, ids: list[str]) -> set[str]:
    """The external customers some relationship serves: the union of every
    relationship's customer's reach bitset, and the customers that are external."""
    facts = sight.facts
    if sight.customer.size == 0:
        return set()
    bits = np.bitwise_or.reduce(facts.external_bits[np.unique(sight.customer)], axis=0)
    flags = np.unpackbits(np.atleast_1d(bits).view(np.uint8), bitorder="little")
    chosen = facts.external_units[flags[: facts.external_units.size].astype(bool)]
    own = sight.customer[sight.own]
    return {ids[int(u)] for u in np.union1d(chosen, own)}


STRICTER_WHEN_HIGHER = {Metric.ON_TIME_PCT: True, Metric.QUALITY_PCT: True,
                        Metric.RESPONSE_HOURS: False, Metric.RESOLUTION_HOURS: False}  # fmt: skip


def _entitlement(vc: Valuechain, rows: list[Relationship], external: set[str]) -> Entitlement:
    """Flag internal relationships whose agreement asks a stricter target than the
    external customers at the end of their line of sight agreed (seed 002). Compared
    with the *strictest* external target for the same metric, so a flag means the
    internal target is stricter than any external customer served asks for. Adds
    ``entitlement`` to the flags of the rows concerned."""
    agreements = [
        a for a in agreement_service.agreements_of(vc)
        if a.state in (AgreementState.AGREED, AgreementState.UNDER_REVIEW)
    ]  # fmt: skip
    if not agreements:
        return {"assessed": False, "note": ENTITLEMENT_NOTE, "flags": []}
    asks: dict[tuple[str, Metric], list[float]] = {}
    internal: dict[tuple[str, str], list[tuple[str, Metric, float]]] = {}
    for a in agreements:
        for metric, target in a.targets.items():
            if a.customer_id in external:
                asks.setdefault((a.customer_id, metric), []).append(target)
            else:
                key = (a.provider_id or "", a.customer_id)
                internal.setdefault(key, []).append((a.id, metric, target))
    if not asks:
        note = "not assessed: no agreement with an external customer states what it needs"
        return {"assessed": False, "note": note, "flags": []}
    flags: list[EntitlementFlag] = []
    for row in rows:
        for agreement_id, metric, target in internal.get((row["provider"], row["customer"]), []):
            higher = STRICTER_WHEN_HIGHER[metric]
            ends = [(e, t) for e in row["external"] for t in asks.get((e, metric), [])]
            if not ends:
                continue
            customer, need = max(ends, key=lambda et: et[1] if higher else -et[1])
            found = entitlement([target], need, higher)
            if bool(found.entitled[0]):
                if ENTITLEMENT not in row["flags"]:
                    row["flags"].append(ENTITLEMENT)
                flags.append(
                    {
                        "provider": row["provider"],
                        "customer": row["customer"],
                        "agreement": agreement_id,
                        "metric": metric.value,
                        "target": target,
                        "external_customer": customer,
                        "external_target": need,
                        "excess": float(found.excess[0]),
                    }
                )
    return {"assessed": True, "flags": flags}


def _correct(rows: list[Relationship]) -> None:
    """Adds ``p_adjusted`` (Holm across every correlation of ``rows``) and
    ``moves_with`` (it passes at the report's 1%) to each ``over_time`` entry."""
    entries = [t for row in rows for t in row.get("over_time") or []]
    p = [math.nan if t["p_value"] is None else t["p_value"] for t in entries]
    adjusted, claim = moves_with(p)
    for t, q, c in zip(entries, adjusted.tolist(), claim.tolist(), strict=True):
        t["p_adjusted"] = _num(q)
        t["moves_with"] = bool(c)


def _served_by_month(
    vc: Valuechain, months: list[str]
) -> dict[str, dict[tuple[str, str], list[str]]]:
    """Per month (``YYYY-MM``): each internal relationship (provider, customer) on
    the map as it was at the end of that month (:func:`history.chains_as_of`; before
    the history begins, the first map it holds), and the external customers it served
    then."""
    found: dict[str, dict[tuple[str, str], list[str]]] = {}
    done: dict[int, dict[tuple[str, str], list[str]]] = {}  # months sharing one map
    chains = history.chains_as_of(vc, [history.end_of_month(m) for m in months])
    for month, chain in zip(months, chains, strict=True):
        if id(chain) not in done:
            result, customer, _ = _relationships(chain)
            sight = line_of_sight(chain.graph, chain.facts, customer)
            ids = chain.columns.unit_ids
            served: dict[tuple[str, str], list[str]] = {}
            for i in range(result.size):
                provider = ids[int(chain.graph.result_unit[int(result[i])])]
                served.setdefault(
                    (provider, ids[int(customer[i])]), [ids[e] for e in served_units(sight, i)]
                )
            done[id(chain)] = served
        found[month] = done[id(chain)]
    return found


def _over_time(
    series: dict[str, float],
    served: dict[str, list[str]],
    table: dict[tuple[str, str], dict[str, float]],
    metrics: list[str],
) -> list[OverTime]:
    """Per outcome metric: r, its interval and n over the months with a published
    score and an outcome of at least one external customer the relationship served
    in that month (``served`` per month, from the map as it was then)."""
    out: list[OverTime] = []
    months = sorted(series)
    for metric in metrics:
        x, y = [], []
        for month in months:
            values = table.get((metric, month), {})
            known = [values[e] for e in served.get(month, []) if e in values]
            if known:
                x.append(series[month])
                y.append(float(np.mean(known)))
        result = correlation(x, y, min_pairs=MIN_PERIODS)
        out.append(
            {
                "metric": metric,
                "n": result.n,
                "r": _num(result.r),
                "ci_low": _num(result.ci_low),
                "ci_high": _num(result.ci_high),
                # Unrounded: the correction across the document needs small ones exactly.
                "p_value": result.p_value if math.isfinite(result.p_value) else None,
                "reason": result.reason,
            }
        )
    return out


def _summary(
    rows: list[Relationship],
    focus: list[Focus],
    over_time: bool,
    counts: tuple[int, int],
) -> str:
    """One plain sentence about the line of sight (``counts``: all relationships and
    those with a line of sight) and, when there is one, the strongest correlation
    that passes the correction across all of them."""
    total, sighted = counts
    if not total and not focus:
        return "No internal relationship on the map yet."
    text = (
        f"{sighted} of {total} internal relationships have a line of sight to an external customer"
    )
    if focus:
        text += f"; {len(focus)} internal unit{'s' if len(focus) != 1 else ''} serve none"
    text += "."
    if over_time:
        clear = [
            (r, t)
            for r in rows
            for t in r.get("over_time") or []
            if t["r"] is not None and t.get("moves_with")
        ]
        if clear:
            r, t = max(clear, key=lambda rt: abs(rt[1]["r"] or 0.0))  # r is known here
            text += (
                f" {possessive(r['customer_name'])} rating of {r['provider_name']} moves with the "
                f"{t['metric']} of the external customers it serves (r = {t['r']:.2f}, "
                f"95% CI {t['ci_low']:.2f} to {t['ci_high']:.2f}, {t['n']} months)."
            )
    return text


__all__ = ["INTERNAL_FOCUS", "MIN_PERIODS", "connect"]
