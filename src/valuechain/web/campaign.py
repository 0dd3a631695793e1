"""Campaign pages: admins create a campaign, send invitations and reminders, close
it and watch its response rates live (HTMX polls the rates every 15 s); a lead sees
the rates of the campaigns covering their own unit. Every rate comes from
:func:`valuechain.services.campaign.status`: a band, or suppressed where the group
is too small for one (docs/measure.md)."""

from __future__ import annotations

import smtplib
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from valuechain.domain.access import Action, Principal
from valuechain.edge.dependencies import AccessRule, CurrentValuechain, allow, client_address
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services import campaign as campaigns
from valuechain.services import measure
from valuechain.services.audit import Actor
from valuechain.services.errors import Conflict, Invalid, Upstream
from valuechain.web.templating import templates

router = APIRouter(route_class=IdempotentRoute, include_in_schema=False)
MANAGE = [allow(Action.MANAGE_CAMPAIGNS)]
#: The admin acting on a campaign, for the audit log.
Managing = Annotated[Principal, Depends(AccessRule(Action.MANAGE_CAMPAIGNS))]


def _actor(principal: Principal, request: Request) -> Actor:
    return Actor(principal.account_id, principal.email, client_address(request))


RATES = [allow(Action.VIEW_CAMPAIGN_RATES, unit_param="unit_id")]
POLL_SECONDS = 15


def _sentence(problem: Exception) -> str:
    text = str(problem)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _list_page(
    request: Request,
    vc: Any,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    known = measure.instruments(vc)
    rows = campaigns.newest_first_with_rates(vc)
    return templates.TemplateResponse(
        request,
        "campaign/campaigns.html",
        {
            "nav": "campaigns",
            "campaigns": rows,
            "instrument_names": {key: i.name for key, i in known.items()},
            "instruments": sorted(known, key=lambda key: known[key].name.casefold()),
            "error": error,
            "form": form or {"instrument": "internal_servqual"},
        },
        status_code=status_code,
    )


@router.get("/campaigns", response_class=HTMLResponse, dependencies=MANAGE)
def campaigns_page(request: Request, vc: CurrentValuechain) -> Response:
    """Every campaign with its state, and a form to create one."""
    return _list_page(request, vc)


@router.post("/campaigns")
async def create_campaign(
    request: Request,
    vc: CurrentValuechain,
    principal: Managing,
    id: Annotated[str, Form(max_length=200)],
    instrument: Annotated[str, Form(max_length=100)],
    name: Annotated[str, Form(max_length=300)] = "",
    opens_on: Annotated[str, Form(max_length=10)] = "",
    closes_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Create a draft campaign over the map's relationships."""
    form = {
        "id": id,
        "name": name,
        "instrument": instrument,
        "opens_on": opens_on,
        "closes_on": closes_on,
    }
    try:
        opens = date.fromisoformat(opens_on) if opens_on else None
        closes = date.fromisoformat(closes_on) if closes_on else None
    except ValueError:
        return _list_page(
            request, vc, error="Dates are written YYYY-MM-DD.", form=form, status_code=422
        )
    try:
        made = await run_in_threadpool(
            lambda: campaigns.create_campaign(
                vc,
                id,
                name=name.strip() or None,
                instrument=instrument,
                opens_on=opens,
                closes_on=closes,
                actor=_actor(principal, request),
            )
        )
    except (Invalid, Conflict) as problem:
        # The form again, with what was typed and why it was refused.
        return _list_page(
            request, vc, error=_sentence(problem), form=form, status_code=problem.status
        )
    return RedirectResponse(f"/campaigns/{quote(made['id'], safe='')}", status_code=303)


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse, dependencies=MANAGE)
def campaign_page(
    request: Request, vc: CurrentValuechain, campaign_id: str, done: str = "", error: str = ""
) -> Response:
    """One campaign: its state, actions and live response rates."""
    found = campaigns.status(vc, campaign_id)
    known = measure.instruments(vc)
    instrument = known.get(found["instrument"] or "")
    return templates.TemplateResponse(
        request,
        "campaign/campaign.html",
        {
            "nav": "campaigns",
            "c": found,
            "instrument_name": instrument.name if instrument else found["instrument"],
            "poll": POLL_SECONDS,
            "live": True,
            "done": done[:200] or None,
            "error": error[:300] or None,
        },
    )


@router.get("/campaigns/{campaign_id}/rates", response_class=HTMLResponse, dependencies=MANAGE)
def campaign_rates(request: Request, vc: CurrentValuechain, campaign_id: str) -> Response:
    """The response-rate tables alone, for HTMX polling."""
    found = campaigns.status(vc, campaign_id)
    return templates.TemplateResponse(
        request, "campaign/_rates.html", {"c": found, "poll": POLL_SECONDS, "live": True}
    )


async def _act(campaign_id: str, call: Any, done: str) -> Response:
    target = f"/campaigns/{quote(campaign_id, safe='')}"
    try:
        result = await run_in_threadpool(call)
    except (Invalid, Conflict, Upstream) as problem:
        # Shown on the campaign's page, where the admin acted (an unknown campaign
        # is the error page's, like any other).
        return RedirectResponse(f"{target}?error={quote(_sentence(problem))}", status_code=303)
    except (smtplib.SMTPException, OSError) as problem:
        message = f"The mail server refused: {problem}."
        return RedirectResponse(f"{target}?error={quote(message)}", status_code=303)
    return RedirectResponse(f"{target}?done={quote(done.format(result))}", status_code=303)


@router.post("/campaigns/{campaign_id}/invite")
async def invite(
    vc: CurrentValuechain, campaign_id: str, principal: Managing, request: Request
) -> Response:
    """Open the campaign and send its invitations."""
    actor = _actor(principal, request)
    return await _act(
        campaign_id,
        lambda: campaigns.invite(vc, campaign_id, actor=actor),
        "Sent {} invitations",
    )


@router.post("/campaigns/{campaign_id}/remind")
async def remind(
    vc: CurrentValuechain, campaign_id: str, principal: Managing, request: Request
) -> Response:
    """Remind everyone who has not answered."""
    actor = _actor(principal, request)
    return await _act(
        campaign_id,
        lambda: campaigns.send_reminders(vc, campaign_id, actor=actor),
        "Reminded everyone who has not answered",  # not how many: see the API
    )


@router.post("/campaigns/{campaign_id}/close")
async def close(
    vc: CurrentValuechain, campaign_id: str, principal: Managing, request: Request
) -> Response:
    """Close the campaign."""
    actor = _actor(principal, request)
    return await _act(
        campaign_id,
        lambda: campaigns.close_campaign(vc, campaign_id, actor=actor),
        "Campaign closed",
    )


@router.get("/units/{unit_id}/campaigns", response_class=HTMLResponse, dependencies=RATES)
def unit_campaigns(request: Request, vc: CurrentValuechain, unit_id: str) -> Response:
    """The response rates of every campaign covering the unit (its lead, admins)."""
    found = campaigns.campaigns_of_unit(vc, unit_id)
    return templates.TemplateResponse(
        request,
        "campaign/unit.html",
        {
            "nav": "rates",
            "unit": vc.describe_units([unit_id])[unit_id],
            "campaigns": found,
            "poll": POLL_SECONDS,
        },
    )
