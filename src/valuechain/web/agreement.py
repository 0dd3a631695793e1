"""Capability 3, Agree, as pages: a unit's agreements (both sides, reviews due), one
agreement (both sides' obligations, targets against actuals, the commitment timeline,
and the steps of its life for the unit's lead), and the capacity view with shares and
negotiations. Reading needs ``view_unit_summary``, acting ``act_on_agreements``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from valuechain.domain.access import Action, Principal
from valuechain.domain.agreement import Metric, target_problem
from valuechain.edge.dependencies import AccessRule, CurrentValuechain, client_address
from valuechain.edge.errors import status_of
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services import agreement as agreements
from valuechain.services import capacity as capacities
from valuechain.services.access import may
from valuechain.services.agreement import AgreementStepRefused
from valuechain.services.audit import Actor
from valuechain.services.capacity import CapacityError, Settlement
from valuechain.services.commitment import CommitmentError, agreement_detail, log_json, logs, record
from valuechain.services.errors import Invalid, NotFound
from valuechain.services.organisation import Valuechain
from valuechain.services.watermelon import watermelon
from valuechain.web.picker import FieldProblem, pick, unit_choices
from valuechain.web.templating import templates

router = APIRouter(route_class=IdempotentRoute, include_in_schema=False)
Reader = Annotated[Principal, Depends(AccessRule(Action.VIEW_UNIT_SUMMARY, unit_param="unit_id"))]
Acting = Annotated[Principal, Depends(AccessRule(Action.ACT_ON_AGREEMENTS, unit_param="unit_id"))]
STEPS = {"propose": "Propose", "agree": "Agree", "review": "Ask for a review"}
METRIC_LABELS = {
    "on_time_pct": "Delivered on time",
    "response_hours": "First response (business hours)",
    "resolution_hours": "Resolution (business hours)",
    "quality_pct": "Right first time",
}


def _actor(principal: Principal, request: Request) -> Actor:
    return Actor(principal.account_id, principal.email, client_address(request))


def _unit_name(vc: Valuechain, unit_id: str) -> str:
    return str(vc.unit(unit_id)["name"])


def _draft_form(
    direct: list[dict[str, Any]], units: dict[str, dict[str, str]], results: dict[str, str]
) -> dict[str, Any] | None:
    """The choices of the drafting form, by name: every (result, customer) the unit
    provides (``direct``: the unit's direct customers)."""
    pairs = [
        {
            "value": f"{result}|{row['unit']}",
            "label": f"{results.get(result, result)} → "
            f"{units[row['unit']]['name'] if row['unit'] in units else row['unit']}",
        }
        for row in direct
        for result in row["results"]
    ]
    if not pairs:
        return None
    return {"pairs": pairs, "metrics": list(METRIC_LABELS.items())}


@router.get("/units/{unit_id}/agreements", response_class=HTMLResponse)
def agreements_page(
    request: Request, unit_id: str, vc: CurrentValuechain, principal: Reader
) -> Response:
    """Every agreement the unit is a side of, as provider and as customer; for the
    unit's lead, a form to draft a new one."""
    return _agreements_page(request, unit_id, vc, principal)


def _agreements_page(
    request: Request,
    unit_id: str,
    vc: Valuechain,
    principal: Principal,
    *,
    draft_error: str | None = None,
    draft_errors: dict[str, str] | None = None,
    draft: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    name = _unit_name(vc, unit_id)
    found = logs(vc, unit_id=unit_id)
    today = datetime.now(UTC).date()
    due = {a.id for a in agreements.reviews_due_of([x.agreement for x in found], today)}
    rows: list[dict[str, Any]] = [
        {**agreements.as_json(x.agreement), "log": log_json(x)} for x in found
    ]
    drafts = may(vc, principal, Action.ACT_ON_AGREEMENTS, unit_id)
    direct: list[dict[str, Any]] = list(vc.customers(unit_id)["direct"]) if drafts else []
    names, result_names = vc.names(
        {r["provider"] for r in rows} | {r["customer"] for r in rows} | {d["unit"] for d in direct},
        {r["result"] for r in rows} | {x for d in direct for x in d["results"]},
    )
    return templates.TemplateResponse(
        request,
        "agree/agreements.html",
        {
            "nav": "units",
            "unit_id": unit_id,
            "unit_name": name,
            "provides": [r for r in rows if r["provider"] == unit_id],
            "receives": [r for r in rows if r["customer"] == unit_id],
            "reviews_due": due,
            "names": names,
            "result_names": result_names,
            "titles": {
                r["id"]: f"{result_names.get(r['result'], r['result'])} → "
                f"{names[r['customer']]['name'] if r['customer'] in names else r['customer']}"
                for r in rows
            },
            # Survey numbers only for those who may see the unit's results.
            "melon": watermelon(vc, unit_id=unit_id)
            if may(vc, principal, Action.VIEW_UNIT_RESULTS, unit_id)
            else None,
            "draft_form": _draft_form(direct, names, result_names) if drafts else None,
            "draft_error": draft_error,
            "draft_errors": draft_errors or {},
            "draft": draft or {},
        },
        status_code=status_code,
    )


def _number(raw: str, metric: Metric) -> float | None:
    """The target typed for ``metric``, or None when left empty; refused next to its
    field in words (:func:`domain.agreement.target_problem`)."""
    text = raw.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise FieldProblem(metric.value, f"Type a number, not “{text}”.") from None
    problem = target_problem(metric, value)
    if problem is not None:
        raise FieldProblem(metric.value, problem[:1].upper() + problem[1:] + ".")
    return value


@router.post("/units/{unit_id}/agreements", response_class=HTMLResponse)
def draft_agreement(
    request: Request,
    unit_id: str,
    vc: CurrentValuechain,
    principal: Acting,
    pair: Annotated[str, Form(max_length=500)],
    on_time_pct: Annotated[str, Form(max_length=20)] = "",
    response_hours: Annotated[str, Form(max_length=20)] = "",
    resolution_hours: Annotated[str, Form(max_length=20)] = "",
    quality_pct: Annotated[str, Form(max_length=20)] = "",
    obligations: Annotated[str, Form(max_length=4000)] = "",
    review_on: Annotated[str, Form(max_length=10)] = "",
    channel: Annotated[str, Form(max_length=300)] = "",
    cadence: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Save a draft agreement (the unit is the provider); back to the form on errors."""
    result_id, _, customer_id = pair.partition("|")
    raw = {"on_time_pct": on_time_pct, "response_hours": response_hours,
           "resolution_hours": resolution_hours, "quality_pct": quality_pct}  # fmt: skip
    typed = {**raw, "pair": pair, "obligations": obligations, "review_on": review_on,
             "channel": channel, "cadence": cadence}  # fmt: skip
    problems: dict[str, str] = {}
    targets: dict[Metric, float] = {}
    for key, text in raw.items():
        try:
            if (value := _number(text, Metric(key))) is not None:
                targets[Metric(key)] = value
        except FieldProblem as problem:
            problems[problem.field] = str(problem)
    if problems:
        # Every refused target said at once, next to its field; nothing typed is lost.
        return _agreements_page(
            request, unit_id, vc, principal, draft_errors=problems, draft=typed, status_code=422
        )
    try:
        made = agreements.draft(
            vc, unit_id, _actor(principal, request), result_id=result_id,
            customer_id=customer_id, targets=targets,
            obligations=tuple(obligations.splitlines()),
            review_on=date.fromisoformat(review_on) if review_on else None,
            channel=channel.strip() or None, cadence=cadence.strip() or None,
        )  # fmt: skip
    except (AgreementStepRefused, Invalid, ValueError) as problem:
        return _agreements_page(
            request,
            unit_id,
            vc,
            principal,
            draft_error=str(problem),
            draft=typed,
            status_code=status_of(problem),
        )
    return RedirectResponse(f"/units/{unit_id}/agreements/{made.id}", status_code=303)


def _agreement_page(
    request: Request,
    vc: Valuechain,
    unit_id: str,
    agreement_id: str,
    principal: Principal,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    detail = agreement_detail(vc, agreement_id, unit_id)
    side = "provider" if unit_id == detail["provider"] else "customer"
    state = detail["state"]
    steps = []
    if may(vc, principal, Action.ACT_ON_AGREEMENTS, unit_id):
        if state in ("draft", "under_review"):
            steps.append("propose")
        if state in ("proposed", "under_review"):
            steps.append("agree")
        if state == "agreed":
            steps.append("review")
    return templates.TemplateResponse(
        request,
        "agree/agreement.html",
        {
            "nav": "units",
            "unit_id": unit_id,
            "side": side,
            "a": detail,
            "names": vc.describe_units({detail["provider"], detail["customer"]}),
            "steps": steps,
            "records": side == "provider" and may(vc, principal, Action.ACT_ON_AGREEMENTS, unit_id),
            "step_labels": STEPS,
            "metric_labels": METRIC_LABELS,
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/units/{unit_id}/agreements/{agreement_id}", response_class=HTMLResponse)
def agreement_page(
    request: Request, unit_id: str, agreement_id: str, vc: CurrentValuechain, principal: Reader
) -> Response:
    """One agreement seen from one side: obligations of both sides, targets against
    actuals, trust, the commitment timeline, and the lead's next step."""
    return _agreement_page(request, vc, unit_id, agreement_id, principal)


@router.post("/units/{unit_id}/agreements/{agreement_id}/{step}", response_class=HTMLResponse)
def agreement_step(
    request: Request,
    unit_id: str,
    agreement_id: str,
    step: str,
    vc: CurrentValuechain,
    principal: Acting,
) -> Response:
    """Propose, agree or ask for a review for the unit's side; back to the page."""
    if step not in STEPS:
        raise NotFound(f"no step {step!r}")
    try:
        getattr(agreements, step)(vc, agreement_id, unit_id, _actor(principal, request))
    except AgreementStepRefused as error:
        return _agreement_page(
            request,
            vc,
            unit_id,
            agreement_id,
            principal,
            error=str(error),
            status_code=error.status,
        )
    return RedirectResponse(f"/units/{unit_id}/agreements/{agreement_id}", status_code=303)


def _capacity_page(
    request: Request,
    vc: Valuechain,
    unit_id: str,
    principal: Principal,
    *,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    name = _unit_name(vc, unit_id)
    view = capacities.capacity(vc, unit_id)
    units: set[str] = {unit_id}
    for r in view["provides"]:
        units |= {c["customer"] for c in r["customers"]}
    units |= {r["provider"] for r in view["receives"]}
    units |= {n["customer"] for n in view["negotiations"]} | {
        n["provider"] for n in view["negotiations"]
    }
    names, result_names = vc.names(
        units, {r["result"] for r in view["receives"]} | {n["result"] for n in view["negotiations"]}
    )
    return templates.TemplateResponse(
        request,
        "agree/capacity.html",
        {
            "nav": "units",
            "unit_id": unit_id,
            "unit_name": name,
            "view": view,
            "names": names,
            "result_names": result_names,
            "may_act": may(vc, principal, Action.ACT_ON_AGREEMENTS, unit_id),
            "settlements": [s.value for s in Settlement],
            "error": error,
            "errors": errors or {},
            "typed": typed or {},
        },
        status_code=status_code,
    )


@router.get("/units/{unit_id}/capacity", response_class=HTMLResponse)
def capacity_page(
    request: Request, unit_id: str, vc: CurrentValuechain, principal: Reader
) -> Response:
    """Capacity and shares as a provider, demand against shares as a customer, and
    the negotiations of either side."""
    return _capacity_page(request, vc, unit_id, principal)


@router.post("/units/{unit_id}/capacity/shares", response_class=HTMLResponse)
def set_share(
    request: Request,
    unit_id: str,
    vc: CurrentValuechain,
    principal: Acting,
    result_id: Annotated[str, Form()],
    customer_id: Annotated[str, Form()],
    share: Annotated[float, Form()],
) -> Response:
    """The provider sets a customer's weekly share of a result; the customer is typed
    by name (or id) and refused next to its field when no unit has that name."""
    field = f"customer-{result_id}"
    try:
        # Any unit's name resolves; whether it may have a share is the service's rule
        # (an unknown result stays a 404).
        every = vc.describe_units(vc.chain().columns.unit_ids)
        customer = pick(customer_id, unit_choices(every), field=field, what="unit")
        capacities.set_share(vc, unit_id, result_id, customer, share, _actor(principal, request))
    except FieldProblem as problem:
        typed = {field: customer_id, f"share-{result_id}": f"{share:g}"}
        return _capacity_page(
            request, vc, unit_id, principal, errors={field: str(problem)}, typed=typed,
            status_code=problem.status,
        )  # fmt: skip
    except CapacityError as error:
        return _capacity_page(
            request, vc, unit_id, principal, error=str(error), status_code=error.status
        )
    return RedirectResponse(f"/units/{unit_id}/capacity", status_code=303)


@router.post("/units/{unit_id}/negotiations/{negotiation_id}", response_class=HTMLResponse)
def settle(
    request: Request,
    unit_id: str,
    negotiation_id: str,
    vc: CurrentValuechain,
    principal: Acting,
    settlement: Annotated[Settlement, Form()],
    share: Annotated[str, Form()] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Either side settles a negotiation."""
    try:
        new_share: Any = float(share) if share.strip() else None
        capacities.settle(
            vc,
            unit_id,
            negotiation_id,
            settlement,
            _actor(principal, request),
            share=new_share,
            note=note.strip() or None,
        )
    except (CapacityError, ValueError) as error:
        return _capacity_page(
            request, vc, unit_id, principal, error=str(error), status_code=status_of(error)
        )
    return RedirectResponse(f"/units/{unit_id}/capacity", status_code=303)


@router.post(
    "/units/{unit_id}/agreements/{agreement_id}/commitments/record", response_class=HTMLResponse
)
def record_commitment(
    request: Request,
    unit_id: str,
    agreement_id: str,
    vc: CurrentValuechain,
    principal: Acting,
    due_at: Annotated[str, Form()],
    event: Annotated[str, Form(pattern="^(delivered|warned)$")],
) -> Response:
    """The provider records a delivery or warns early; back to the agreement page."""
    try:
        due = datetime.fromisoformat(due_at)
        record(
            vc,
            agreement_id,
            due if due.tzinfo else due.replace(tzinfo=UTC),
            unit_id,
            _actor(principal, request),
            delivered=event == "delivered",
            warned=event == "warned",
        )
    except (CommitmentError, ValueError) as error:
        return _agreement_page(
            request, vc, unit_id, agreement_id, principal, error=str(error),
            status_code=status_of(error),
        )  # fmt: skip
    return RedirectResponse(f"/units/{unit_id}/agreements/{agreement_id}", status_code=303)
