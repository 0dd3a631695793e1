"""Notifications as JSON: each signed-in person's own choices (what to receive, by
email and through a webhook), and for admins the outbox and the organisation's
webhook. Delivery itself is the workers' job (``valuechain.jobs``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from valuechain.domain.access import Action, Principal
from valuechain.domain.notification import Preference, Status
from valuechain.edge.dependencies import AccessRule, CurrentValuechain, allow
from valuechain.edge.errors import Problem, Unprocessable
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services import notification
from valuechain.services.organisation import Valuechain
from valuechain.services.report_types import Preferences, Retried, Webhook

router = APIRouter(route_class=IdempotentRoute, prefix="/notifications", tags=["notifications"])

OwnChoices = Annotated[Principal, Depends(AccessRule(Action.MANAGE_OWN_NOTIFICATIONS))]
ADMIN = [allow(Action.MANAGE_NOTIFICATIONS)]
NO_PERSON: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "The account is not linked to a person"}
}
# A webhook URL as the service accepts it (http or https, a host name or IPv4
# address), or "" to remove it; surrounding whitespace is ignored.
WEBHOOK_URL = (
    r"^[ \t\r\n]*(?:[hH][tT][tT][pP][sS]?://(?:[-A-Za-z0-9._~%!$&'()*+,;=:]*@)?"
    r"[-A-Za-z0-9._~%!$&'()*+,;=]+(?::[0-9]{0,5})?(?:[/?#][^ \t\r\n]*)?[ \t\r\n]*)?$"
)
WebhookUrl = Annotated[str, Field(pattern=WEBHOOK_URL)]
INVALID: dict[int | str, dict[str, Any]] = {
    422: {"model": Unprocessable, "description": "An unknown kind or a bad URL"}
}


class KindChoiceIn(BaseModel):
    """Whether a person receives one kind of notification by email and by webhook."""

    kind: str = Field(description="One of the notification kinds.")
    label: str | None = Field(default=None, description="What the kind is about (read-only).")
    email: bool = True
    webhook: bool = True


class PreferencesIn(BaseModel):
    """Choices to change (kinds not listed keep theirs). ``webhook_url``: a
    Slack-compatible incoming webhook of one's own; ``""`` removes it; absent
    leaves it as it is."""

    preferences: list[KindChoiceIn] = Field(default_factory=list)
    webhook_url: WebhookUrl | None = None


class WebhookIn(BaseModel):
    """The organisation's webhook to set; ``null`` or ``""`` removes it."""

    url: WebhookUrl | None


def _person(vc: Valuechain, principal: Principal) -> str:
    return notification.person_of_account(vc, principal.account_id)


@router.get(
    "/preferences", response_model=Preferences, responses=NO_PERSON, summary="My notifications"
)
def get_preferences(principal: OwnChoices, vc: CurrentValuechain) -> Preferences:
    """What the signed-in person receives, per kind, by email and by webhook."""
    return notification.choices(vc, _person(vc, principal))


@router.put(
    "/preferences",
    response_model=Preferences,
    responses={**NO_PERSON, **INVALID},
    summary="Change my notifications",
)
def put_preferences(
    body: PreferencesIn, principal: OwnChoices, vc: CurrentValuechain
) -> Preferences:
    """Change the signed-in person's choices (and their own webhook)."""
    person = _person(vc, principal)
    notification.set_preferences(
        vc, person, [Preference(c.kind, c.email, c.webhook) for c in body.preferences]
    )
    if body.webhook_url is not None:
        notification.set_webhook(vc, body.webhook_url.strip() or None, person)
    return notification.choices(vc, person)


@router.get("/outbox", response_model=notification.Outbox, dependencies=ADMIN, summary="The outbox")
def get_outbox(
    vc: CurrentValuechain,
    status: Annotated[Status | None, Query(description="Only rows of this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> notification.Outbox:
    """How many notifications are pending, sent and failed, and the newest rows with
    their attempts, next try and last error."""
    return notification.outbox(vc, status, limit)


@router.post(
    "/outbox/retry", response_model=Retried, dependencies=ADMIN, summary="Retry failed rows"
)
def retry_outbox(vc: CurrentValuechain) -> Retried:
    """Give every failed row a fresh set of attempts, due now."""
    return {"retried": notification.retry_failed(vc)}


@router.get("/webhook", response_model=Webhook, dependencies=ADMIN, summary="Organisation webhook")
def get_webhook(vc: CurrentValuechain) -> Webhook:
    return {"url": notification.webhook(vc)}


@router.put(
    "/webhook",
    response_model=Webhook,
    dependencies=ADMIN,
    responses=INVALID,
    summary="Set the organisation webhook",
)
def put_webhook(body: WebhookIn, vc: CurrentValuechain) -> Webhook:
    """Set the organisation's webhook (``null`` or ``""`` removes it)."""
    notification.set_webhook(vc, (body.url or "").strip() or None)
    return {"url": notification.webhook(vc)}
