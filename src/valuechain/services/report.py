"""Insight reports: a few true findings, each with its evidence and a next step.

Candidates come from every capability that has data (see :func:`candidates`), are
put to their test together (:func:`valuechain.analytics.finding.select`: Holm
across all of them) and ranked by effect times line of sight. Survey
candidates are computed only from numbers the confidentiality layer already
publishes (:func:`valuechain.services.measure.scores`/``drivers``): a report can
never show more about a small group than the dashboard does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from valuechain.analytics.change import welch_change
from valuechain.analytics.customer import NO_DEPTH
from valuechain.analytics.finding import (
    EXACT,
    LIMIT,
    LIMIT_ALL,
    Candidate,
    Finding,
    Kind,
    change_sentence,
    interval,
    number,
    select,
    sight_weight,
)
from valuechain.analytics.score import CONFIDENCE, Moments, moments_from_interval
from valuechain.domain.account import AccountRole
from valuechain.domain.agreement import Metric, target_words
from valuechain.domain.text import possessive
from valuechain.services import accounts, audit, measure, notification
from valuechain.services import commitment as commitment_service
from valuechain.services import connect as connect_service
from valuechain.services import flow as flow_service
from valuechain.services import watermelon as watermelon_service
from valuechain.services.audit import Actor
from valuechain.services.errors import Invalid, NotFound
from valuechain.services.flow_types import Stage
from valuechain.services.measure_types import Driver, ScoreCell
from valuechain.services.organisation import Valuechain
from valuechain.services.partner import action as action_service
from valuechain.services.partner.relationship import require
from valuechain.services.report_types import Finding as FindingJson
from valuechain.services.report_types import ReportDocument
from valuechain.services.transaction import reading, writing
from valuechain.store import capacity as capacity_store
from valuechain.store import measure as measure_store

Producer = Callable[[Valuechain, "Context"], list[Candidate]]


@dataclass(frozen=True)
class Context:
    """What producers share: unit names and each unit's steps to an external customer."""

    names: dict[str, str]
    depth: dict[str, int | None]

    def name(self, unit: str | None) -> str:
        return self.names.get(unit or "", unit or "")

    def steps(self, unit: str | None) -> int | None:
        """Steps from serving ``unit`` to the external customer (0: ``unit`` is one)."""
        if unit is None:
            return None
        return self.depth.get(unit)


def _context(vc: Valuechain) -> Context:
    chain = vc.chain()
    cols = chain.columns
    depth: dict[str, int | None] = {}
    for i, uid in enumerate(cols.unit_ids):
        d = int(chain.facts.depth[i])
        depth[uid] = None if d == NO_DEPTH else d
    return Context(dict(zip(cols.unit_ids, cols.unit_names, strict=True)), depth)


# ----------------------------------------------------------------------------------
# Survey producers: only published (protected) cells are used.


def _moments_of(cell: ScoreCell) -> Moments | None:
    """The moments behind a published cell (see :func:`moments_from_interval`)."""
    n, m, lo = cell.get("n"), cell.get("mean"), cell.get("ci_low")
    if n is None or m is None or lo is None or n < 2:
        return None
    return moments_from_interval(n, m, lo)


def _campaigns(vc: Valuechain) -> list[str]:
    """The organisation's campaigns, oldest first (the order ``scores`` takes as latest)."""
    with reading(vc) as conn:
        return list(measure_store.campaign_ids(conn, vc.org_id))


def _cell_key(cell: ScoreCell) -> tuple[str, str, str | None, str | None]:
    return (cell["instrument"], cell["provider"], cell.get("customer"), cell.get("dimension"))


def survey_changes(vc: Valuechain, ctx: Context) -> list[Candidate]:
    """A decline or rise per provider, relationship and dimension between the last two
    campaigns: Welch (1947) test on each published cell, Hedges' g as strength."""
    campaigns = _campaigns(vc)
    if len(campaigns) < 2:
        return []
    first, last = campaigns[-2], campaigns[-1]
    out: list[Candidate] = []
    for by in (measure.By.PROVIDER, measure.By.RELATIONSHIP, measure.By.DIMENSION):
        before = {_cell_key(c): c for c in measure.scores(vc, by, first)["cells"]}
        for cell in measure.scores(vc, by, last)["cells"]:
            old = before.get(_cell_key(cell))
            if old is None or cell["suppressed"] or old["suppressed"]:
                continue
            a, b = _moments_of(old), _moments_of(cell)
            mean_before, mean_after = old["mean"], cell["mean"]
            if a is None or b is None or mean_before is None or mean_after is None:
                continue
            change = welch_change(a, b)
            p = float(change.p[0])
            if math.isnan(p):
                continue
            provider, customer, dimension = (
                cell["provider"],
                cell.get("customer"),
                cell.get("dimension"),
            )
            low, high = float(change.ci_low[0]), float(change.ci_high[0])
            falls = mean_after < mean_before
            out.append(
                Candidate(
                    kind=Kind.DECLINE if falls else Kind.RISE,
                    subject=" · ".join(
                        x for x in (ctx.name(provider), ctx.name(customer), dimension) if x
                    ),
                    sentence=change_sentence(
                        ctx.name(provider),
                        ctx.name(customer) or None,
                        dimension,
                        mean_before,
                        mean_after,
                        low,
                        high,
                        first,
                        last,
                    ),
                    next_step=(
                        f"Ask {ctx.name(customer) or 'its customers'} what they need to "
                        "succeed that they no longer get, before the next campaign."
                        if falls
                        else f"Ask {ctx.name(customer) or 'its customers'} what now helps "
                        "them succeed, and keep it."
                    ),
                    effect=float(change.difference[0]),
                    strength=float(change.hedges_g[0]),
                    test="Welch t test",
                    p=p,
                    ci_low=low,
                    ci_high=high,
                    sight=sight_weight(_relationship_steps(ctx, provider, customer)),
                    units=tuple(u for u in (provider, customer) if u),
                    chart=_change_chart(old, cell, first, last),
                    evidence={
                        "n_before": old["n"],
                        "n_after": cell["n"],
                        "instrument": cell["instrument"],
                    },
                    topic=f"change:{provider}",
                )
            )
    return out


def _relationship_steps(ctx: Context, provider: str, customer: str | None) -> int | None:
    if customer is not None:
        return ctx.steps(customer)
    own = ctx.steps(provider)
    return None if own is None else max(own - 1, 0)


def survey_gaps(vc: Valuechain, ctx: Context) -> list[Candidate]:
    """Expectation gaps (P − E below zero) per provider and dimension in the latest
    campaign: one-sample t test of the mean gap, Cohen's d_z as strength."""
    from scipy import stats  # here, not at module level: scipy.stats takes ~0.3 s to import

    campaigns = _campaigns(vc)
    if not campaigns:
        return []
    wording = _wording(vc)
    out: list[Candidate] = []
    for cell in measure.scores(vc, measure.By.DIMENSION, campaigns[-1])["cells"]:
        gap, low, high, n = (
            cell.get("gap"),
            cell.get("gap_ci_low"),
            cell.get("gap_ci_high"),
            cell["n"],
        )
        dimension = cell.get("dimension")
        if (
            cell["suppressed"]
            or gap is None
            or low is None
            or high is None
            or n is None
            or dimension is None
            or n < 2
            or gap >= 0
        ):
            continue
        se = (gap - low) / float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1))
        if not se > 0:
            continue
        t = gap / se
        p = float(2 * stats.t.sf(abs(t), n - 1))
        provider = cell["provider"]
        label = wording(cell["instrument"], dimension)
        out.append(
            Candidate(
                kind=Kind.GAP,
                subject=f"{ctx.name(provider)} · {label}",
                sentence=(
                    f"On \u201c{label}\u201d, {ctx.name(provider)} delivers less than its "
                    f"customers expect: a gap of {number(gap)} points on 1–7 "
                    f"({interval(low, high)}, "
                    f"n = {n}) in {campaigns[-1]}."
                ),
                next_step=(
                    f"Ask {possessive(ctx.name(provider))} customers what "
                    f"\u201c{label}\u201d they need to succeed, and agree on it."
                ),
                effect=gap,
                strength=abs(t) / math.sqrt(n),
                test="one-sample t test of the gap P − E",
                p=p,
                ci_low=low,
                ci_high=high,
                sight=sight_weight(_relationship_steps(ctx, provider, None)),
                units=(provider,),
                chart=_interval_chart(dimension, gap, low, high, "gap P − E"),
                evidence={"n": n, "instrument": cell["instrument"]},
                topic=f"gap:{provider}",
            )
        )
    return out


def _wording(vc: Valuechain) -> Callable[[str | None, str], str]:
    """A dimension's key in the instrument's own words, as the dashboard's tables say
    it (the instrument's label; the key without underscores when none is known)."""
    known = measure.instruments(vc)
    mine = {(k, d.key): d.label for k, spec in known.items() for d in spec.dimensions}
    anywhere = {d.key: d.label for spec in known.values() for d in spec.dimensions}

    def label(instrument: str | None, key: str) -> str:
        return mine.get((instrument or "", key)) or anywhere.get(key) or key.replace("_", " ")

    return label


def survey_drivers(vc: Valuechain, ctx: Context) -> list[Candidate]:
    """Per provider and dimension, the claim "it explains more of satisfaction than the
    provider's other dimensions, yet scores below them" ("fix first"). Its test is the
    intersection–union test of its two halves (Berger 1982: the larger of the two
    one-sided p-values): the dimension's relative weight exceeds the mean of the
    others' (bootstrap Wald test of the difference) and its score is below theirs
    (paired t test). Every dimension of every provider is a candidate, so the report's
    correction counts every claim that could have been made."""
    out: list[Candidate] = []
    wording = _wording(vc)
    providers = sorted(
        {c["provider"] for c in _latest_cells(vc, measure.By.PROVIDER) if not c["suppressed"]}
    )
    for provider in providers:
        try:
            result = measure.drivers(vc, provider=provider)
        except NotFound:
            continue
        found_n, found_r2 = result["n"], result["r2"]
        if result["suppressed"] or found_r2 is None or found_n is None:
            continue
        dims = [d for d in result["drivers"] if d.get("weight") is not None]
        n, r2 = int(found_n), float(found_r2)
        if len(dims) < 2:
            continue
        for top in dims:
            p_important, p_below = top.get("p_important"), top.get("p_below")
            share, performance = top.get("share"), top.get("performance")
            if p_important is None or p_below is None or share is None or performance is None:
                continue
            # A weighed dimension has a performance (the mean of its scores).
            others = [_known(d.get("performance")) for d in dims if d is not top]
            shortfall = float(np.mean(others)) - performance
            name = wording(result.get("instrument"), top["dimension"])
            out.append(
                Candidate(
                    kind=Kind.DRIVER,
                    subject=f"{ctx.name(provider)} · {name}",
                    sentence=(
                        f"\u201c{name}\u201d explains "
                        f"{number(100 * share, 0)}% of how satisfied "
                        f"{possessive(ctx.name(provider))} customers are, more than its other "
                        f"dimensions (R² = {number(r2, 2)}, n = {n}), yet scores "
                        f"{number(performance)}, below them."
                    ),
                    next_step=(
                        f"Make \u201c{name}\u201d the first thing {ctx.name(provider)} "
                        "improves: its customers need it most to succeed."
                    ),
                    effect=float(share),
                    # Importance times how far it trails the provider's other dimensions.
                    strength=2.0 * float(share) * max(shortfall, 0.0),
                    test=(
                        "its relative weight above the others' mean (bootstrap) and its "
                        "score below theirs (paired t): the larger p"
                    ),
                    p=max(float(p_important), float(p_below)),
                    ci_low=top.get("ci_low") or math.nan,
                    ci_high=top.get("ci_high") or math.nan,
                    sight=sight_weight(_relationship_steps(ctx, provider, None)),
                    units=(provider,),
                    chart=_driver_chart(dims, top["dimension"]),
                    evidence={"n": n, "r2": r2, "instrument": result["instrument"]},
                    topic=f"driver:{provider}",
                )
            )
    return out


def _known(value: float | None) -> float:
    """A number the analysis always has where it is read (NaN, never a crash, if not)."""
    return math.nan if value is None else value


def _latest_cells(vc: Valuechain, by: measure.By) -> list[ScoreCell]:
    campaigns = _campaigns(vc)
    if not campaigns:
        return []
    return measure.scores(vc, by, campaigns[-1])["cells"]


# ----------------------------------------------------------------------------------
# Map and flow producers: exact facts.


def bottleneck(vc: Valuechain, ctx: Context) -> list[Candidate]:
    """The bottleneck and what raising it by 20% would gain (maximum flow)."""
    state = flow_service.flow(vc)
    first = state.get("bottleneck")
    if first is None or not state.get("throughput"):
        return []
    stage = next(s for s in state["stages"] if s["id"] == first)
    raised = flow_service.flow(vc, [f"{first}=+20%"])["what_if"]
    assert raised is not None  # a what-if was asked
    gain = raised["throughput_change"] or 0.0
    before = raised["throughput_before"] or 0.0
    new = raised["new_bottleneck"]
    new_name = next((s["unit_name"] for s in state["stages"] if s["id"] == new), None)
    then = f", and {new_name} would become the bottleneck" if new_name else ""
    return [
        Candidate(
            kind=Kind.BOTTLENECK,
            subject=stage["unit_name"],
            sentence=(
                f"{state['summary']} Raising {possessive(stage['unit_name'])} capacity by 20% "
                "would deliver "
                f"{number(gain, 0)} more a week "
                f"({number(100 * gain / before if before else 0, 0)}%){then}."
            ),
            next_step=(
                f"Protect {possessive(stage['unit_name'])} time first: the external "
                "customers need it to get more; speeding up any other stage adds nothing."
            ),
            effect=gain,
            # A 10% gain in what reaches the external customer counts as a large effect.
            strength=8.0 * gain / before if before else 0.0,
            test=EXACT,
            sight=1.0,
            units=(stage["unit"],),
            chart=_utilisation_chart(state["stages"], first),
            evidence={"throughput": state["throughput"], "capacity": stage["capacity"]},
        )
    ]


def orphans(vc: Valuechain, ctx: Context) -> list[Candidate]:
    """Results nobody uses: work that reaches no customer at all."""
    chain = vc.chain()
    cols = chain.columns
    found = [int(r) for r in chain.facts.orphan_results]
    if not found:
        return []
    units = sorted({cols.unit_ids[int(chain.graph.result_unit[r])] for r in found})
    names = [cols.result_names[r] for r in found]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return [
        Candidate(
            kind=Kind.ORPHAN,
            subject="results without a customer",
            sentence=f"{len(names)} results have no customer on the map: {shown}.",
            next_step="Ask their producers who uses them; stop making what nobody needs.",
            effect=float(len(names)),
            strength=0.2,  # small: a cost, not a risk to the customer
            test=EXACT,
            sight=sight_weight(None),
            units=tuple(units),
            evidence={"results": [cols.result_ids[r] for r in found]},
        )
    ]


def entitlements(vc: Valuechain, ctx: Context) -> list[Candidate]:
    """Internal customers asking stricter targets than the external customer at the end
    of their chain agreed (exact comparison of agreement targets along the path)."""
    out: list[Candidate] = []
    for f in connect_service.connect(vc, over_time=False)["entitlement"].get("flags", []):
        provider, customer = f["provider"], f["customer"]
        metric = Metric(f["metric"])
        out.append(
            Candidate(
                kind=Kind.ENTITLEMENT,
                subject=f"{ctx.name(provider)} → {ctx.name(customer)}: "
                f"{target_words(metric, f['target'])}",
                sentence=(
                    f"{ctx.name(customer)} asks {ctx.name(provider)} for "
                    f"{target_words(metric, f['target'])}, stricter than the "
                    f"{target_words(metric, f['external_target'])} that "
                    f"{ctx.name(f['external_customer'])}, "
                    "the external customer it works for, asks of the chain."
                ),
                next_step=(
                    "Relax the internal target to what the external customer needs and "
                    "spend the slack where the bottleneck is."
                ),
                effect=float(f["excess"]),
                strength=0.4,
                test=EXACT,
                sight=1.0,
                units=(provider, customer),
                evidence={"agreement": f["agreement"], "metric": f["metric"]},
                topic=f"entitlement:{provider}:{customer}",
            )
        )
    return out


def internal_focus(vc: Valuechain, ctx: Context) -> list[Candidate]:
    """Units whose work reaches no external customer at all (exact, from the map)."""
    focus = connect_service.connect(vc, over_time=False)["internal_focus"]
    if not focus:
        return []
    names = [f["name"] for f in focus]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return [
        Candidate(
            kind=Kind.INTERNAL_FOCUS,
            subject="units serving no external customer",
            sentence=(
                f"{len(names)} unit{'s' if len(names) != 1 else ''} produce work that reaches "
                f"no external customer: {shown}."
            ),
            next_step=(
                "Trace who their work is for; either the map misses a link or the work can go."
            ),
            effect=float(len(names)),
            strength=0.3,
            test=EXACT,
            sight=sight_weight(None),
            units=tuple(f["unit"] for f in focus),
            evidence={"units": [f["unit"] for f in focus]},
        )
    ]


def actions(vc: Valuechain, ctx: Context) -> list[Candidate]:
    """Actions whose metric was measured again: improved or worse (Welch, tested), or
    done without a measurable change (the interval contains zero)."""
    out: list[Candidate] = []
    for a in action_service.actions(vc):
        r = a["result"]
        before, after = r["before"], r["after"]
        difference, ci_low, ci_high = r.get("difference"), r.get("ci_low"), r.get("ci_high")
        # Measured again: both sides and the interval of the difference are known.
        if before is None or after is None or difference is None:
            continue
        mean_before, mean_after = before["mean"], after["mean"]
        if mean_before is None or mean_after is None or ci_low is None or ci_high is None:
            continue
        provider, customer = a["provider"], a["customer"]
        metric = (a["metric"]["dimension"] or "overall score").replace("_", " ")
        change = (
            f"{metric} went from {number(mean_before)} to {number(mean_after)} "
            f"({'+' if difference >= 0 else ''}{number(difference)}, "
            f"{interval(ci_low, ci_high)}) between {before['campaign']} and "
            f"{after['campaign']}"
        )
        worked = r["verdict"] == "improved"
        if r["verdict"] in ("improved", "worse"):
            kind, p, test = (
                Kind.ACTION_WORKED if worked else Kind.ACTION_FAILED,
                r.get("p"),
                "Welch t test",
            )
        elif a["status"] == "done":
            kind, p, test = Kind.ACTION_FAILED, None, "Welch interval contains zero"
        else:
            continue
        verdict = {
            Kind.ACTION_WORKED: "worked",
            Kind.ACTION_FAILED: "made no measurable difference"
            if r["verdict"] != "worse"
            else "was followed by a decline",
        }[kind]
        out.append(
            Candidate(
                kind=kind,
                subject=f"{ctx.name(provider)} → {ctx.name(customer)}: {a['title']}",
                sentence=(
                    f"{possessive(ctx.name(provider))} action "
                    f"\u201c{a['title']}\u201d {verdict}: {change}."
                ),
                next_step=(
                    "Keep it, ask the customer what it needs next to succeed, and tell other teams."
                    if worked
                    else "Regroup with the customer: ask what it needs to succeed instead."
                ),
                effect=float(difference),
                strength=abs(float(difference)) / 2 if p is not None else 0.3,
                test=test,
                p=p,
                ci_low=float(ci_low),
                ci_high=float(ci_high),
                sight=sight_weight(_relationship_steps(ctx, provider, customer)),
                units=(provider, customer),
                evidence={
                    "n_before": before["n"],
                    "n_after": after["n"],
                    "action": a["id"],
                },
                topic=f"action:{a['id']}",
            )
        )
    return out


def low_trust(vc: Valuechain, ctx: Context) -> list[Candidate]:
    """Relationships whose commitment trust is low beyond doubt: the 95% credible
    interval of the Beta posterior lies below one half (surprise misses dominate)."""
    out: list[Candidate] = []
    for row in commitment_service.relationship_trust(vc):
        if row["trust_high"] >= 0.5:
            continue
        provider, customer = row["provider"], row["customer"]
        out.append(
            Candidate(
                kind=Kind.LOW_TRUST,
                subject=f"{ctx.name(provider)} → {ctx.name(customer)}",
                sentence=(
                    f"{ctx.name(customer)} can count on "
                    f"{possessive(ctx.name(provider))} commitments "
                    f"less than half the time: trust {number(row['trust'], 2)} "
                    f"(95% credible interval {number(row['trust_low'], 2)} to "
                    f"{number(row['trust_high'], 2)}); {row['missed']} misses came as a "
                    f"surprise, {row['warned']} were announced."
                ),
                next_step=(
                    f"Agree with {ctx.name(provider)} to warn before a due date it will "
                    "miss, so its customer can still succeed on time."
                ),
                effect=float(row["trust"]),
                strength=2 * (0.5 - float(row["trust"])) + 0.2,
                test="Beta posterior, 95% credible interval below 1/2",
                ci_low=float(row["trust_low"]),
                ci_high=float(row["trust_high"]),
                sight=sight_weight(_relationship_steps(ctx, provider, customer)),
                units=(provider, customer),
                evidence={k: row[k] for k in ("kept", "exceeded", "warned", "missed")},
                topic=f"trust:{provider}:{customer}",
            )
        )
    return out


def watermelons(vc: Valuechain, ctx: Context) -> list[Candidate]:
    """Targets met while the customer is unhappy (or the reverse): compliance next to
    protected satisfaction, whose interval lies wholly on one side of the midpoint."""
    out: list[Candidate] = []
    # Read as plain rows: a flag implies the satisfaction and the compliance it compares.
    rows: list[Mapping[str, Any]] = list(watermelon_service.watermelon(vc)["relationships"])
    for row in rows:
        flag = row.get("flag")
        if flag is None or row.get("satisfaction") is None:
            continue
        provider, customer = row["provider"], row["customer"]
        sat = row["satisfaction"]
        met = flag == "targets_met_customer_unhappy"
        out.append(
            Candidate(
                kind=Kind.WATERMELON,
                subject=f"{ctx.name(provider)} → {ctx.name(customer)}",
                sentence=(
                    f"{ctx.name(provider)} {'meets' if met else 'misses'} its on-time target "
                    f"for {ctx.name(customer)} ({number(row['on_time_pct'], 0)}% against "
                    f"{number(row['on_time_target'], 0)}%), yet {ctx.name(customer)} is "
                    f"{'unhappy' if met else 'happy'}: {number(sat['mean'])} on "
                    f"{sat['scale'][0]}–{sat['scale'][1]} "
                    f"({interval(sat['ci_low'], sat['ci_high'])}, n = {sat['n']})."
                ),
                next_step=(
                    "The agreement measures the wrong thing: ask the customer what it "
                    "needs to succeed."
                    if met
                    else "Ask the customer what it needs to succeed, and renegotiate a "
                    "target both sides believe in."
                ),
                effect=float(sat["mean"]),
                strength=0.6,
                test="satisfaction's 95% interval wholly on one side of the scale midpoint",
                ci_low=float(sat["ci_low"]),
                ci_high=float(sat["ci_high"]),
                sight=sight_weight(_relationship_steps(ctx, provider, customer)),
                units=(provider, customer),
                evidence={"n": sat["n"], "on_time_pct": row["on_time_pct"]},
                topic=f"watermelon:{provider}:{customer}",
            )
        )
    return out


def over_share(vc: Valuechain, ctx: Context) -> list[Candidate]:
    """Open negotiations: a customer's demand above the share it agreed (exact)."""
    with reading(vc) as conn:
        talks = [n for n in capacity_store.negotiations(conn, vc.org_id) if n["state"] == "open"]
    out: list[Candidate] = []
    for n in talks:
        customer = n["customer_id"]
        provider = (
            vc.chain().columns.unit_ids[
                int(vc.chain().graph.result_unit[vc.chain().result_pos[n["result_id"]]])
            ]
            if n["result_id"] in vc.chain().result_pos
            else None
        )
        if provider is None:
            continue
        gain = float(n["demand"]) / float(n["share"]) - 1 if n["share"] else 1.0
        out.append(
            Candidate(
                kind=Kind.OVER_SHARE,
                subject=f"{ctx.name(provider)} → {ctx.name(customer)}",
                sentence=(
                    f"{ctx.name(customer)} asks {number(float(n['demand']), 0)} a week of "
                    f"{possessive(ctx.name(provider))} work against an agreed share of "
                    f"{number(float(n['share']), 0)} ({number(100 * gain, 0)}% over); the "
                    "negotiation is still open."
                ),
                next_step="Settle it: accept, reschedule, or change the share, together.",
                effect=gain,
                strength=min(gain, 1.0),
                test=EXACT,
                sight=sight_weight(_relationship_steps(ctx, provider, customer)),
                units=(provider, customer),
                evidence={"negotiation": n["id"]},
                topic=f"share:{provider}:{customer}",
            )
        )
    return out


PRODUCERS: tuple[Producer, ...] = (
    survey_changes,
    survey_gaps,
    survey_drivers,
    bottleneck,
    orphans,
    internal_focus,
    entitlements,
    actions,
    low_trust,
    watermelons,
    over_share,
)


def candidates(vc: Valuechain, producers: Iterable[Producer] = PRODUCERS) -> list[Candidate]:
    """Every candidate finding the organisation's data offers (all from one reading
    of the survey results, :func:`measure.one_reading`)."""
    out: list[Candidate] = []
    with measure.one_reading(vc):
        ctx = _context(vc)
        for produce in producers:
            out.extend(produce(vc, ctx))
    return out


# ----------------------------------------------------------------------------------
# Charts: small Vega-Lite specs (rendered to SVG by the web layer).

_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"


def _base(height: int = 90) -> dict[str, Any]:
    return {
        "$schema": _SCHEMA,
        "width": 220,
        "height": height,
        # One named font, so the SVG's text is measured (vl-convert) and drawn
        # (WeasyPrint, browsers) with the same metrics.
        "config": {
            "font": "Liberation Sans",
            "view": {"stroke": None},
            "axis": {"labelLimit": 130, "labelFontSize": 9},
        },
    }


def _change_chart(old: ScoreCell, new: ScoreCell, first: str, last: str) -> dict[str, Any]:
    rows = [
        {"campaign": first, "mean": old["mean"], "low": old["ci_low"], "high": old["ci_high"]},
        {"campaign": last, "mean": new["mean"], "low": new["ci_low"], "high": new["ci_high"]},
    ]
    return {
        **_base(60),
        "data": {"values": rows},
        "layer": [
            {
                "mark": {"type": "rule", "strokeWidth": 2},
                "encoding": {
                    "y": {"field": "campaign", "type": "nominal", "title": None, "sort": None},
                    "x": {
                        "field": "low",
                        "type": "quantitative",
                        "title": "mean with 95% CI",
                        "scale": {"zero": False},
                    },
                    "x2": {"field": "high"},
                },
            },
            {
                "mark": {"type": "point", "filled": True, "size": 80},
                "encoding": {
                    "y": {"field": "campaign", "type": "nominal", "sort": None},
                    "x": {"field": "mean", "type": "quantitative"},
                },
            },
        ],
    }


def _interval_chart(
    label: str, value: float, low: float, high: float, title: str
) -> dict[str, Any]:
    rows = [{"label": label, "value": value, "low": low, "high": high}]
    return {
        **_base(50),
        "data": {"values": rows},
        "layer": [
            # The zero line is decoration: hidden from screen readers (no data in it).
            {
                "mark": {"type": "rule", "color": "#999", "aria": False},
                "encoding": {"x": {"datum": 0}},
            },
            {
                "mark": {"type": "rule", "strokeWidth": 2},
                "encoding": {
                    "y": {"field": "label", "type": "nominal", "title": None},
                    "x": {"field": "low", "type": "quantitative", "title": f"{title} with 95% CI"},
                    "x2": {"field": "high"},
                },
            },
            {
                "mark": {"type": "point", "filled": True, "size": 80},
                "encoding": {
                    "y": {"field": "label", "type": "nominal"},
                    "x": {"field": "value", "type": "quantitative"},
                },
            },
        ],
    }


def _driver_chart(dims: list[Driver], top: str) -> dict[str, Any]:
    rows = [
        {"dimension": d["dimension"], "share": d["share"], "top": d["dimension"] == top}
        for d in dims
    ]
    return {
        **_base(14 * len(rows)),
        "data": {"values": rows},
        "mark": "bar",
        "encoding": {
            "y": {"field": "dimension", "type": "nominal", "sort": "-x", "title": None},
            "x": {
                "field": "share",
                "type": "quantitative",
                "axis": {"format": "%"},
                "title": "share of explained satisfaction",
            },
            "color": {
                "field": "top",
                "type": "nominal",
                "legend": None,
                "scale": {"domain": [False, True], "range": ["#b8c4d6", "#c0392b"]},
            },
        },
    }


def _utilisation_chart(stages: list[Stage], first: str) -> dict[str, Any]:
    loaded = sorted(
        ((s, load) for s in stages if (load := s["load"]) is not None), key=lambda sl: -sl[1]
    )
    rows = [
        {"stage": s["unit_name"], "load": load, "bottleneck": s["id"] == first}
        for s, load in loaded[:6]
    ]
    return {
        **_base(14 * len(rows)),
        "data": {"values": rows},
        "mark": "bar",
        "encoding": {
            "y": {"field": "stage", "type": "nominal", "sort": "-x", "title": None},
            "x": {
                "field": "load",
                "type": "quantitative",
                "axis": {"format": "%"},
                "title": "demand against capacity",
            },
            "color": {
                "field": "bottleneck",
                "type": "nominal",
                "legend": None,
                "scale": {"domain": [False, True], "range": ["#b8c4d6", "#c0392b"]},
            },
        },
    }


# ----------------------------------------------------------------------------------
# The report.


@dataclass(frozen=True)
class Report:
    """A report's findings (already tested, ranked and cut) and what stood behind them."""

    title: str
    unit: str | None
    generated: datetime
    findings: list[Finding]
    considered: int
    tested: int
    threshold: int
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> ReportDocument:
        """The ``valuechain report --format json`` document (keys per PRODUCT.md)."""
        return {
            "title": self.title,
            "unit": self.unit,
            "generated": self.generated.isoformat(timespec="seconds"),
            "threshold": self.threshold,
            "considered": self.considered,
            "tested": self.tested,
            "findings": [_finding_json(f) for f in self.findings],
        }


def _clean(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _finding_json(found: Finding) -> FindingJson:
    c = found.candidate
    return {
        "kind": c.kind.value,
        "subject": c.subject,
        "sentence": c.sentence,
        "next_step": c.next_step,
        "effect": _clean(c.effect),
        "evidence": {
            "test": c.test,
            "p": _clean(c.p) if c.p is not None else None,
            "q": found.q,
            "ci_low": _clean(c.ci_low),
            "ci_high": _clean(c.ci_high),
            "strength": _clean(c.strength),
            "line_of_sight": c.sight,
            **c.evidence,
        },
        "units": list(c.units),
        "chart": c.chart,
    }


def report(
    vc: Valuechain,
    unit: str | None = None,
    *,
    relationship: tuple[str, str] | None = None,
    all_findings: bool = False,
) -> Report:
    """The organisation's report, one unit's ("your customers": candidates about the
    unit) or one relationship's (candidates about its provider and customer only),
    tested together; at most 5 findings (7 with ``all_findings``)."""
    ctx = _context(vc)
    for known in (unit, *(relationship or ())):
        if known is not None and known not in ctx.names:
            raise NotFound(f"no unit with id {known!r}")
    if relationship is not None:
        require(vc, *relationship)  # only a relationship on the map has a report
    found = candidates(vc)
    if unit is not None:
        found = [c for c in found if unit in c.units]
        title = f"{ctx.name(unit)}: what your customers tell you"
    elif relationship is not None:
        provider, customer = relationship
        found = [c for c in found if provider in c.units and set(c.units) <= {provider, customer}]
        title = f"{ctx.name(provider)} and {ctx.name(customer)}: how the relationship is doing"
    else:
        title = "The value chain this month"
    chosen = select(found, limit=LIMIT_ALL if all_findings else LIMIT)
    return Report(
        title=title,
        unit=unit,
        generated=datetime.now(UTC),
        findings=chosen,
        considered=len(found),
        tested=sum(1 for c in found if c.p is not None),
        threshold=measure.threshold(vc),
    )


class ReportError(Invalid):
    """A report could not be produced (bad format, unwritable file)."""


__all__ = ["PRODUCERS", "Context", "Report", "ReportError", "candidates", "report"]


# ----------------------------------------------------------------------------------
# Scheduled delivery.

REPORT_DELIVERED = "report_delivered"


def as_text(doc: Report, link: str) -> str:
    """A report as a plain-text email body: each finding, its next step and its test."""
    if not doc.findings:
        lines = [
            f"Nothing stands out: none of {doc.considered} candidate findings passed its test."
        ]
    else:
        lines = []
        for i, found in enumerate(doc.findings, 1):
            c = found.candidate
            lines += [f"{i}. {c.sentence}", f"   Next step: {c.next_step}", f"   ({c.test})", ""]
    return "\n".join([doc.title, "", *lines, f"The report with its charts: {link}"])


def deliver_reports(vc: Valuechain, base_url: str = "http://127.0.0.1:8000") -> int:
    """Queue this period's reports through the notification outbox (kind ``report``, as
    each person chose): admins get the organisation's report, each lead the report of
    their own unit, so nobody receives more than their role may see on screen. Every
    delivery is recorded in the audit log. Returns how many reports were queued."""
    base = base_url.rstrip("/")
    queued = 0
    organisation_doc: Report | None = None
    unit_docs: dict[str, Report] = {}
    for account in accounts.list_accounts(vc):
        if not account.active:
            continue
        if account.role is AccountRole.ADMIN:
            organisation_doc = organisation_doc or report(vc)
            doc, link = organisation_doc, f"{base}/reports"
        elif account.role is AccountRole.LEAD and account.unit_id:
            unit = account.unit_id
            if unit not in unit_docs:
                unit_docs[unit] = report(vc, unit)
            doc, link = unit_docs[unit], f"{base}/units/{unit}/report"
        else:
            continue
        with writing(vc) as conn:
            rows = notification.notify(
                vc,
                account.person_id or account.email,
                "report",
                doc.title,
                as_text(doc, link),
                link,
                conn=conn,
            )
            audit.record(
                vc,
                REPORT_DELIVERED,
                Actor(None, "scheduled reports", "worker"),
                subject=account.email,
                detail=f"{doc.title}: {len(doc.findings)} findings, {len(rows)} message(s)",
                conn=conn,
            )
        queued += bool(rows)
    return queued
