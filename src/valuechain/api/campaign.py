"""Survey campaigns as JSON: admins create, invite, remind and close; a lead reads
the response rates of the campaigns covering their own unit; a respondent submits
answers through the single-use token of their link, with no account.

Response rates come from :func:`valuechain.services.campaign.status`: a band per group
whose edges lie where at least the threshold have and have not answered, totals as
the group bands imply, never an exact count.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from valuechain.domain.access import Action, Principal
from valuechain.edge.dependencies import (
    SURVEY_LINK,
    AccessRule,
    CurrentValuechain,
    allow,
    client_address,
)
from valuechain.edge.errors import NOT_FOUND, Problem
from valuechain.edge.idempotency import RESPONSES, IdempotentRoute
from valuechain.services import campaign as campaigns
from valuechain.services.audit import Actor
from valuechain.services.campaign_types import (
    CampaignOut,
    CampaignStatus,
    CreatedCampaign,
    Reminded,
    Sent,
    SurveyOut,
    SurveyStored,
    UnitCampaigns,
)
from valuechain.services.mail import MailFailed

router = APIRouter(route_class=IdempotentRoute, tags=["campaigns"])
MANAGE = [allow(Action.MANAGE_CAMPAIGNS)]
#: The admin acting on a campaign, for the audit log.
Managing = Annotated[Principal, Depends(AccessRule(Action.MANAGE_CAMPAIGNS))]


def _actor(principal: Principal, request: Request) -> Actor:
    return Actor(principal.account_id, principal.email, client_address(request))


RATES = [allow(Action.VIEW_CAMPAIGN_RATES, unit_param="unit_id")]


# -- models ---------------------------------------------------------------------------


class Relationship(BaseModel):
    provider: str = Field(max_length=200, description="The rated unit.")
    customer: str = Field(max_length=200, description="The rating unit, whose people are invited.")


class CampaignIn(BaseModel):
    id: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=300)
    instrument: str = Field(
        max_length=100, description="internal_servqual, service_factors, pulse, ..."
    )
    opens_on: date | None = None
    closes_on: date | None = None
    relationships: list[Relationship] | None = Field(
        default=None,
        description="Default: every customer unit rates every provider whose results it uses.",
    )


class AnswerIn(BaseModel):
    item: str
    score: float | None = None
    expectation: float | None = Field(default=None, description="Where the item asks it.")


class SurveyIn(BaseModel):
    """The answers of one link, as the answer form sends them."""

    answers: list[AnswerIn] = Field(default_factory=list)
    texts: dict[str, str] = Field(default_factory=dict, description="Free-text items.")
    importance: dict[str, float] = Field(
        default_factory=dict, description="Optional 100-point split across dimensions."
    )
    comment: str = ""


GONE: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    410: {"model": Problem, "description": "The link was used, or the survey is closed"},
}


# -- admins ---------------------------------------------------------------------------


@router.get(
    "/campaigns", response_model=list[CampaignOut], dependencies=MANAGE, summary="Campaigns"
)
def list_campaigns(vc: CurrentValuechain) -> list[CampaignOut]:
    """Every campaign with its state (admins)."""
    return campaigns.list_campaigns(vc)


@router.post(
    "/campaigns",
    response_model=CampaignOut,
    status_code=201,
    responses={409: {"model": Problem}, **NOT_FOUND},
    summary="Create a campaign",
)
def create_campaign(
    body: CampaignIn, vc: CurrentValuechain, principal: Managing, request: Request
) -> CreatedCampaign:
    """Create a draft campaign over the given relationships (default: the map's)."""
    return campaigns.create_campaign(
        vc,
        body.id,
        name=body.name,
        instrument=body.instrument,
        opens_on=body.opens_on,
        closes_on=body.closes_on,
        relationships=None
        if body.relationships is None
        else [(r.provider, r.customer) for r in body.relationships],
        actor=_actor(principal, request),
    )


@router.get(
    "/campaigns/{campaign_id}",
    response_model=CampaignStatus,
    responses=NOT_FOUND,
    dependencies=MANAGE,
    summary="A campaign's response rates",
)
def get_campaign(campaign_id: str, vc: CurrentValuechain) -> CampaignStatus:
    """The campaign with its response rate per group, provider and in total."""
    return campaigns.status(vc, campaign_id)


def _mailing(call: Callable[[], int]) -> Sent:
    try:
        return {"sent": call()}
    except (smtplib.SMTPException, OSError) as error:
        # A library's error, not a service's: the mail server is the upstream (502).
        raise MailFailed(f"the mail server refused: {error}") from None


@router.post(
    "/campaigns/{campaign_id}/invite",
    response_model=Sent,
    responses={409: {"model": Problem}, 502: {"model": Problem}, **NOT_FOUND},
    summary="Open a campaign and send its invitations",
)
def invite(campaign_id: str, vc: CurrentValuechain, principal: Managing, request: Request) -> Sent:
    """Open the campaign and mail a link to everyone not yet invited (a rerun after a
    mail failure sends the ones not sent)."""
    actor = _actor(principal, request)
    return _mailing(lambda: campaigns.invite(vc, campaign_id, actor=actor))


@router.post(
    "/campaigns/{campaign_id}/remind",
    response_model=Reminded,
    responses={409: {"model": Problem}, 502: {"model": Problem}, **NOT_FOUND},
    summary="Remind those who have not answered",
)
def remind(
    campaign_id: str, vc: CurrentValuechain, principal: Managing, request: Request
) -> Reminded:
    """Mail a fresh link to every invitee who has not answered (not how many: that
    is how many have not answered)."""
    actor = _actor(principal, request)
    _mailing(lambda: campaigns.send_reminders(vc, campaign_id, actor=actor))
    return {"campaign": campaign_id, "reminded": True}


@router.post(
    "/campaigns/{campaign_id}/close",
    response_model=CampaignOut,
    responses={409: {"model": Problem}, **NOT_FOUND},
    summary="Close a campaign",
)
def close(
    campaign_id: str, vc: CurrentValuechain, principal: Managing, request: Request
) -> CampaignOut:
    """Close the campaign: its links stop working."""
    return campaigns.close_campaign(vc, campaign_id, actor=_actor(principal, request))


# -- leads ----------------------------------------------------------------------------


@router.get(
    "/units/{unit_id}/campaigns",
    response_model=UnitCampaigns,
    responses=NOT_FOUND,
    dependencies=RATES,
    summary="Response rates of the campaigns covering a unit",
)
def unit_campaigns(unit_id: str, vc: CurrentValuechain) -> UnitCampaigns:
    """Every campaign covering the unit, with the rates of its groups only; needs
    ``view_campaign_rates`` for the unit (admins, and the unit's own lead)."""
    return {"unit": unit_id, "campaigns": campaigns.campaigns_of_unit(vc, unit_id)}


# -- respondents ----------------------------------------------------------------------


@router.get(
    "/survey/{token}",
    response_model=SurveyOut,
    responses=GONE,
    dependencies=SURVEY_LINK,
    summary="The questions of a survey link",
)
def get_survey(token: str, vc: CurrentValuechain, response: Response) -> SurveyOut:
    """The questions a link opens, worded for its provider; ``410`` once answered."""
    response.headers["Cache-Control"] = "no-store"
    form = campaigns.open_link(vc, token)
    return {
        "campaign": form.campaign.id,
        "campaign_name": form.campaign.name,
        "instrument": form.instrument.key,
        "provider": form.provider_id,
        "provider_name": form.provider_name,
        "importance_split": form.instrument.importance_split,
        "items": [
            {
                "item": i.key,
                "dimension": i.dimension,
                "text": i.wording(form.provider_name),
                "scale_min": None if i.scale is None else i.scale.low,
                "scale_max": None if i.scale is None else i.scale.high,
                "expectation": i.expectation,
            }
            for i in form.instrument.items
        ],
    }


@router.post(
    "/survey/{token}",
    response_model=SurveyStored,
    status_code=201,
    responses={**GONE, **RESPONSES},
    dependencies=SURVEY_LINK,
    summary="Answer a survey link",
)
def post_survey(token: str, body: SurveyIn, vc: CurrentValuechain) -> SurveyStored:
    """Store the answers once. ``201`` stored (a retry with the same
    ``Idempotency-Key`` gets the same answer again, with ``Idempotent-Replayed:
    true``); ``422`` with a field → message map for invalid answers (the link stays
    unused), or the key used before with other answers; ``410`` when the link was used
    or the survey is closed; ``404`` for an unknown link."""
    submission = campaigns.Submission(
        scores={a.item: (a.score, a.expectation) for a in body.answers},
        texts=dict(body.texts),
        importance=dict(body.importance),
        comment=body.comment,
    )
    return campaigns.submit(vc, token, submission)
