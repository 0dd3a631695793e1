"""One relationship as one principal may see it: the relationship page's document
(health, both sides' views per topic, the workspace, the actions), with every number
behind the same rule as the units' own pages (docs/access.md):

- survey numbers about the provider (how its customers rate it, the action results
  that rate it) need ``view_unit_results`` for the provider; those about the customer
  (how its providers rate it as a partner) for the customer; a difference of the two,
  the largest disagreement, and the health score and its coverage (which blend them)
  need both;
- service levels (requests within target, requests thanked) need ``view_sla`` for the
  provider;
- trust and demand within the agreed share (the agreements' summary) need
  ``view_unit_summary`` for either unit.

A withheld number is ``None``, as an unknown one is; ``shown`` says which groups were
withheld, so a page can say why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from valuechain.domain.access import Action, Principal
from valuechain.services.access import may
from valuechain.services.organisation import Valuechain
from valuechain.services.partner import action, health, workspace
from valuechain.services.partner.relationship import Relationship, relationships
from valuechain.services.partner.types import (
    ActionPlan,
    BothSides,
    HealthRow,
    RelationshipView,
    Shown,
    ShownAction,
    Topic,
)
from valuechain.services.transaction import reading

# Health components by the group of numbers they belong to.
PROVIDER_RESULTS = ("customer_view",)  # customers rate the provider
CUSTOMER_RESULTS = ("provider_view",)  # the provider rates the customer as a partner
SERVICE_LEVELS = ("sla", "thanks")
SUMMARY = ("trust", "capacity")
ShownGroup = Literal["provider_results", "customer_results", "service_levels", "summary"]


def shown(vc: Valuechain, principal: Principal, provider: str, customer: str) -> Shown:
    """Which groups of numbers about the relationship ``principal`` may see."""
    return {
        "provider_results": may(vc, principal, Action.VIEW_UNIT_RESULTS, provider),
        "customer_results": may(vc, principal, Action.VIEW_UNIT_RESULTS, customer),
        "service_levels": may(vc, principal, Action.VIEW_SLA, provider),
        "summary": may(vc, principal, Action.VIEW_UNIT_SUMMARY, provider)
        or may(vc, principal, Action.VIEW_UNIT_SUMMARY, customer),
    }


def _health_row(row: HealthRow, see: Shown) -> HealthRow:
    groups: dict[ShownGroup, tuple[str, ...]] = {
        "provider_results": PROVIDER_RESULTS,
        "customer_results": CUSTOMER_RESULTS,
        "service_levels": SERVICE_LEVELS,
        "summary": SUMMARY,
    }
    hidden = {name for group, names in groups.items() if not see[group] for name in names}
    out: HealthRow = {
        **row,
        "components": {k: (None if k in hidden else v) for k, v in row["components"].items()},
    }
    if not see["provider_results"]:
        out["customer_view"] = None
    if not see["customer_results"]:
        out["provider_view"] = None
    if not see["service_levels"]:
        out["sla_met_pct"] = None
    if not see["summary"]:
        out["trust"] = None
    if not all(see.values()):
        # The score and its coverage are made of every component: one withheld part
        # could be read back from them.
        out["health"] = None
        out["coverage"] = None
    return out


def _sides(sides: BothSides, see: Shown) -> BothSides:
    both = see["provider_results"] and see["customer_results"]
    topics: list[Topic] = [
        {
            **t,
            "customers_rate_provider": t["customers_rate_provider"]
            if see["provider_results"]
            else None,
            "providers_rate_customer": t["providers_rate_customer"]
            if see["customer_results"]
            else None,
            "difference": t["difference"] if both else None,
        }
        for t in sides["topics"]
    ]
    return {
        **sides,
        "health": _health_row(sides["health"], see),
        "topics": topics,
        "largest_disagreement": sides["largest_disagreement"] if both else None,
    }


def action_shown(vc: Valuechain, principal: Principal, found: ActionPlan) -> ShownAction:
    """An action with its before/after (survey numbers about the unit it rates) only
    for those who may see that unit's results; else ``result`` is ``None``."""
    if may(vc, principal, Action.VIEW_UNIT_RESULTS, found["metric"]["rated"]):
        return {**found}
    return {**found, "result": None}


def relationship(
    vc: Valuechain, principal: Principal, provider: str, customer: str
) -> RelationshipView:
    """The relationship page's document for ``principal``: ``health``, ``topics``,
    ``largest_disagreement``, ``weights``, ``workspace``, ``actions`` and ``shown``.
    Raises :class:`~valuechain.services.errors.NotFound` for a pair not on the map."""
    with reading(vc):
        see = shown(vc, principal, provider, customer)
        sides = health.both_sides(vc, provider, customer)
        return {
            **_sides(sides, see),
            "workspace": workspace.workspace(vc, provider, customer),
            "actions": [
                action_shown(vc, principal, a) for a in action.actions(vc, provider, customer)
            ],
            "shown": see,
        }


@dataclass(frozen=True)
class Served:
    """How well one provider serves one customer, as ``principal`` may see it: the
    customer's latest published survey score of the provider (its mean on the
    instrument's scale) and the relationship's health (0–100). ``None`` is unknown or
    withheld; ``score_shown``/``health_shown`` say which, so a page can say why."""

    provider: str
    customer: str
    score: float | None
    health: float | None
    score_shown: bool
    health_shown: bool


@dataclass(frozen=True)
class HeroAndSidekick:
    """A unit as the hero its suppliers help succeed (``helped_by``: one row per
    supplier) and as the sidekick of its direct customers (``helps``: one per customer)."""

    unit: str
    helped_by: list[Served]
    helps: list[Served]


def hero_and_sidekick(
    vc: Valuechain,
    principal: Principal,
    unit_id: str,
    suppliers: list[str],
    customers: list[str],
) -> HeroAndSidekick:
    """Who helps ``unit_id`` succeed (its ``suppliers``, from the map) and whom it helps
    (its direct ``customers``), each relationship with its score and health behind the
    relationship page's rules (:func:`shown`: the score needs ``view_unit_results``
    for the provider, the health every group). One reading; the health rows come
    from :func:`health.health_table` for all pairs at once. A pair that is no internal
    relationship (an external supplier, say) has neither number."""
    with reading(vc):
        pairs = [Relationship(s, unit_id) for s in suppliers] + [
            Relationship(unit_id, c) for c in customers
        ]
        known = set(relationships(vc))
        rows = {
            (r["provider"], r["customer"]): r
            for r in health.health_table(vc, [p for p in pairs if p in known])
        }

        def served(pair: Relationship) -> Served:
            see = shown(vc, principal, pair.provider, pair.customer)
            row = rows.get((pair.provider, pair.customer))
            shown_row = _health_row(row, see) if row is not None else None
            return Served(
                provider=pair.provider,
                customer=pair.customer,
                score=shown_row["customer_view"] if shown_row else None,
                health=shown_row["health"] if shown_row else None,
                score_shown=see["provider_results"],
                health_shown=all(see.values()),
            )

        return HeroAndSidekick(
            unit=unit_id,
            helped_by=[served(p) for p in pairs[: len(suppliers)]],
            helps=[served(p) for p in pairs[len(suppliers) :]],
        )
