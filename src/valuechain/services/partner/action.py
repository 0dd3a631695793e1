"""Action plans: from a finding, a score or a conflict, an action with an owner, a due
date, a status and the metric it should move; the next measurement of that metric
gives the before/after with its uncertainty and a verdict
(:func:`valuechain.analytics.action.before_after`)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from valuechain.analytics.action import BeforeAfter, Verdict, before_after
from valuechain.analytics.score import Moments, moments_from_interval
from valuechain.domain.access import Principal
from valuechain.services import measure, notification
from valuechain.services.errors import Invalid, NotFound
from valuechain.services.measure_types import ScoreCell
from valuechain.services.organisation import Valuechain
from valuechain.services.partner.relationship import require
from valuechain.services.partner.types import ActionPlan, ActionResult, Measured, Overdue
from valuechain.services.transaction import reading, writing
from valuechain.store import measure as measure_store
from valuechain.store import partner as store
from valuechain.store.tables import ACTION_STATUSES

OPEN = ("open", "in_progress")


class ActionError(Invalid):
    """An action that cannot be stored as given."""


def _campaigns(vc: Valuechain) -> list[str]:
    with reading(vc) as conn:
        return list(measure_store.campaign_ids(conn, vc.org_id))


def create(
    vc: Valuechain,
    principal: Principal | None,
    provider: str,
    customer: str,
    *,
    title: str,
    owner: str,
    due_on: date,
    instrument: str,
    dimension: str | None = None,
    rated: str | None = None,
    source: str = "",
) -> ActionPlan:
    """Store an action on the relationship. The metric is ``rated``'s score (default:
    the provider's) on ``instrument``, one ``dimension`` or overall; its baseline is
    the latest campaign today."""
    with writing(vc):
        require(vc, provider, customer)
        rated = rated or provider
        if rated not in (provider, customer):
            raise ActionError("the metric must be about the provider or the customer")
        if not title.strip() or not owner.strip():
            raise ActionError("an action needs a title and an owner")
        known = measure.instruments(vc)
        if instrument not in known:
            raise ActionError(f"no instrument {instrument!r}")
        if dimension is not None and dimension not in {d.key for d in known[instrument].dimensions}:
            raise ActionError(f"instrument {instrument!r} has no dimension {dimension!r}")
        campaigns = _campaigns(vc)
        now = datetime.now(UTC)
        row = {
            "id": uuid.uuid4().hex[:16],
            "provider_id": provider,
            "customer_id": customer,
            "title": " ".join(title.split()),
            "owner": owner.strip(),
            "due_on": due_on,
            "status": "open",
            "metric_instrument": instrument,
            "metric_dimension": dimension,
            "metric_rated_id": rated,
            "baseline_campaign": campaigns[-1] if campaigns else None,
            "source": source.strip(),
            "author_account_id": principal.account_id if principal else None,
            "created_at": now,
            "updated_at": now,
        }
        with writing(vc) as conn:
            store.insert_action(conn, vc.org_id, row)
        return _describe(vc, row, date.today())


def set_status(
    vc: Valuechain, provider: str, customer: str, action_id: str, status: str
) -> ActionPlan:
    """Move an action to ``status`` (open, in_progress, done, dropped)."""
    with writing(vc):
        if status not in ACTION_STATUSES:
            raise ActionError(f"status must be one of {', '.join(ACTION_STATUSES)}, not {status!r}")
        with writing(vc) as conn:
            row = store.action(conn, vc.org_id, action_id)
            if row is None or (row["provider_id"], row["customer_id"]) != (provider, customer):
                raise NotFound(f"no action {action_id!r} in this relationship")
            store.set_action_status(conn, vc.org_id, action_id, status, datetime.now(UTC))
            row["status"] = status
        return _describe(vc, row, date.today())


#: The cells an action's metric is read from, narrowest first: the relationship's own
#: cell (``relationship``), then, only when that one is suppressed, the rated unit's
#: cell across everyone who rated it (``unit``).
_SCOPES: dict[bool, tuple[tuple[measure.By, str], ...]] = {
    False: ((measure.By.RELATIONSHIP, "relationship"), (measure.By.PROVIDER, "unit")),
    True: (
        (measure.By.RELATIONSHIP_DIMENSION, "relationship"),
        (measure.By.DIMENSION, "unit"),
    ),
}


def _cell(vc: Valuechain, row: dict[str, Any], campaign: str, by: measure.By) -> ScoreCell | None:
    """The published cell of the action's metric in ``campaign`` and cut ``by`` (None
    if it is not shown)."""
    rated = row["metric_rated_id"]
    rater = row["customer_id"] if rated == row["provider_id"] else row["provider_id"]
    dimension = row["metric_dimension"]
    cells = measure.scores(vc, by, campaign, row["metric_instrument"])["cells"]
    for cell in cells:
        if cell["provider"] != rated or cell["suppressed"]:
            continue
        if "customer" in cell and cell["customer"] != rater:
            continue
        if "dimension" in cell and cell["dimension"] != dimension:
            continue
        return cell
    return None


def _moments(cell: ScoreCell) -> Moments | None:
    n, mean, ci_low = cell["n"], cell["mean"], cell["ci_low"]
    if n is None or n < 2 or mean is None or ci_low is None:
        return None
    return moments_from_interval(n, mean, ci_low)


def evaluate(vc: Valuechain, row: dict[str, Any]) -> ActionResult:
    """Before (the baseline campaign) and after (the first later campaign where the
    metric is published) with Welch's interval and the verdict.

    The metric is read from the relationship's own cell (provider × customer, × the
    dimension when it names one); only when that cell is suppressed in the baseline
    or in every later campaign is the rated unit's cell across all its raters used,
    and ``scope`` and ``note`` say so."""
    with reading(vc):
        campaigns = _campaigns(vc)
        base = row["baseline_campaign"]
        out: ActionResult = {
            "verdict": Verdict.NOT_YET.value,
            "before": None,
            "after": None,
            "scope": None,
            "note": None,
        }
        if base is None or base not in campaigns:
            return out
        later_campaigns = campaigns[campaigns.index(base) + 1 :]
        scopes = _SCOPES[row["metric_dimension"] is not None]
        for level, (by, scope) in enumerate(scopes):
            before_cell = _cell(vc, row, base, by)
            if before_cell is None or (before := _moments(before_cell)) is None:
                continue
            measured: Measured = {
                "campaign": base,
                "n": before_cell["n"],
                "mean": before_cell["mean"],
            }
            if out["before"] is None:
                out["before"] = measured
                out["scope"] = scope
            for later in later_campaigns:
                after_cell = _cell(vc, row, later, by)
                if after_cell is None or (after := _moments(after_cell)) is None:
                    continue
                result: BeforeAfter = before_after(before, after)
                return {
                    "verdict": result.verdict.value,
                    "before": measured,
                    "after": {"campaign": later, "n": after_cell["n"], "mean": after_cell["mean"]},
                    "scope": scope,
                    "note": (
                        None
                        if level == 0
                        else "the relationship's own score is suppressed (too few "
                        "respondents): measured across everyone who rated "
                        f"{row['metric_rated_id']}"
                    ),
                    "difference": result.difference,
                    "ci_low": result.ci_low,
                    "ci_high": result.ci_high,
                    "p": result.p,
                }
        return out


def _describe(vc: Valuechain, row: dict[str, Any], today: date) -> ActionPlan:
    return {
        "id": row["id"],
        "provider": row["provider_id"],
        "customer": row["customer_id"],
        "title": row["title"],
        "owner": row["owner"],
        "due_on": row["due_on"].isoformat(),
        "status": row["status"],
        "overdue": row["status"] in OPEN and row["due_on"] < today,
        "metric": {
            "instrument": row["metric_instrument"],
            "dimension": row["metric_dimension"],
            "rated": row["metric_rated_id"],
        },
        "baseline_campaign": row["baseline_campaign"],
        "source": row["source"],
        "result": evaluate(vc, row),
    }


def actions(
    vc: Valuechain, provider: str | None = None, customer: str | None = None
) -> list[ActionPlan]:
    """Actions (of one relationship when both are given) with their verdicts."""
    with reading(vc):
        if provider is not None and customer is not None:
            require(vc, provider, customer)
        with reading(vc) as conn:
            rows = store.actions(conn, vc.org_id, provider, customer)
        today = date.today()
        return [_describe(vc, row, today) for row in rows]


def overdue(vc: Valuechain, today: date | None = None) -> list[Overdue]:
    """Open actions past their due date: what the "regroup" reminders are about."""
    with reading(vc) as conn:
        rows = store.overdue_actions(conn, vc.org_id, today or date.today())
    return [
        {
            "id": r["id"],
            "provider": r["provider_id"],
            "customer": r["customer_id"],
            "title": r["title"],
            "owner": r["owner"],
            "due_on": r["due_on"].isoformat(),
        }
        for r in rows
    ]


def send_regroup_reminders(vc: Valuechain, today: date | None = None) -> int:
    """Queue one notification per overdue action to the leads of both its units (kind
    ``action_overdue``, as each chose); returns how many outbox rows were written."""
    with writing(vc):
        late = overdue(vc, today)
        if not late:
            return 0
        leads: dict[str, list[str]] = {}
        for person in vc.read_map().people:
            if person.role.value == "lead":
                leads.setdefault(person.unit_id, []).append(person.id)
        names = vc.describe_units({a["provider"] for a in late} | {a["customer"] for a in late})
        queued = 0
        with writing(vc) as conn:
            for a in late:
                pair = (
                    f"{names.get(a['provider'], {}).get('name', a['provider'])} → "
                    f"{names.get(a['customer'], {}).get('name', a['customer'])}"
                )
                body = (
                    f'The action "{a["title"]}" ({a["owner"]}) on {pair} was due on '
                    f"{a['due_on']}. Time to regroup: finish it, move its date or drop it."
                )
                link = f"/relationships/{a['provider']}/{a['customer']}#actions"
                for unit in (a["provider"], a["customer"]):
                    for person_id in leads.get(unit, []):
                        queued += len(
                            notification.notify(
                                vc, person_id, "action_overdue", f"Overdue: {a['title']}", body,
                                link, conn=conn,
                            )
                        )  # fmt: skip
        return queued
