"""The shapes the campaign use cases answer (``services.campaign``), declared once:
mypy checks them from the service to the API, whose routes use them as their
response models (a key a result holds beyond these is left out of an answer).

``TypedDict`` comes from ``typing_extensions`` because Pydantic needs it there on
Python before 3.12.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

# A day as the service writes it (``date.isoformat()``), documented as a date.
Day = Annotated[str, Field(json_schema_extra={"format": "date"})]


class CampaignOut(TypedDict):
    id: str
    name: str
    instrument: str | None
    opens_on: Day | None
    closes_on: Day | None
    state: str


class CreatedCampaign(CampaignOut):
    """:class:`CampaignOut` with how many relationships the new campaign covers (the
    CLI says it; the API answers the :class:`CampaignOut` part)."""

    relationships: int


class Rate(TypedDict):
    """A response rate as it may be shown: a band, or suppressed where it would say
    nothing (docs/measure.md, "Response rates and the threshold")."""

    invited: int
    rate_low: Annotated[
        float | None, Field(description="Lower end of the band, 0–1 (a multiple of 0.1).")
    ]
    rate_high: float | None
    rate: Annotated[str, Field(description="The band as text (`40–50%`) or `suppressed`.")]
    suppressed: bool


class GroupBand(Rate):
    """One group's band as :func:`valuechain.services.campaign.rates` shows it."""

    provider: str
    customer: str


class ProviderBand(Rate):
    provider: str


class Rates(TypedDict):
    """:func:`valuechain.services.campaign.rates`: bands per group, provider, in total."""

    groups: list[GroupBand]
    providers: list[ProviderBand]
    total: Rate


class GroupRate(Rate):
    provider: str
    provider_name: str
    customer: str
    customer_name: str


class ProviderRate(Rate):
    provider: str
    provider_name: str


class CampaignStatus(CampaignOut):
    threshold: int
    unit: str | None
    groups: list[GroupRate]
    providers: list[ProviderRate]
    total: Rate


class UnitCampaigns(TypedDict):
    unit: str
    campaigns: list[CampaignStatus]


class Sent(TypedDict):
    sent: Annotated[int, Field(description="Messages the mail server accepted.")]


class Reminded(TypedDict):
    """Reminders went out; how many is not said (it is how many have not answered)."""

    campaign: str
    reminded: bool


class SurveyStored(TypedDict):
    """What a stored submission answers (never a response id)."""

    status: str
    campaign: str
    provider: str
    submitted_on: Day


class SurveyItem(TypedDict):
    item: str
    dimension: str
    text: str
    scale_min: int | None
    scale_max: int | None
    expectation: bool


class SurveyOut(TypedDict):
    campaign: str
    campaign_name: str
    instrument: str
    provider: str
    provider_name: str
    importance_split: bool
    items: list[SurveyItem]
