"""Notification pages: each signed-in person's own settings (what they receive, by
email and through a webhook) and, for admins, the outbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from valuechain.domain.access import Action, Principal
from valuechain.domain.notification import KINDS, MAX_ATTEMPTS, Channel, Preference, Status
from valuechain.edge.dependencies import AccessRule, CurrentValuechain
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services import notification
from valuechain.services.organisation import Valuechain
from valuechain.web.templating import templates

router = APIRouter(route_class=IdempotentRoute, include_in_schema=False)

OwnChoices = Annotated[Principal, Depends(AccessRule(Action.MANAGE_OWN_NOTIFICATIONS))]
OutboxManager = Annotated[Principal, Depends(AccessRule(Action.MANAGE_NOTIFICATIONS))]


def _settings(
    request: Request,
    vc: Valuechain,
    principal: Principal,
    *,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    try:
        person: str | None = notification.person_of_account(vc, principal.account_id)
    except notification.NoPerson as problem:
        person, error = None, str(problem)
    return templates.TemplateResponse(
        request,
        "notification/settings.html",
        {
            "nav": "notifications",
            "person": person,
            "kinds": KINDS,
            "choices": notification.preferences(vc, person) if person else [],
            "webhook_url": notification.webhook(vc, person) if person else None,
            "organisation_webhook": notification.webhook(vc) is not None,
            "done": done,
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/settings/notifications", response_class=HTMLResponse)
def settings_page(
    request: Request, principal: OwnChoices, vc: CurrentValuechain, done: str = ""
) -> Response:
    """The signed-in person's notifications: one row per kind with an email and a
    webhook switch, and their own webhook URL."""
    return _settings(request, vc, principal, done="Saved" if done else None)


@router.post("/settings/notifications")
async def save_settings(request: Request, principal: OwnChoices, vc: CurrentValuechain) -> Response:
    """Save every switch of the form (an unchecked box is off) and the webhook URL."""
    form = await request.form()
    try:
        person = notification.person_of_account(vc, principal.account_id)
    except notification.NoPerson as problem:
        return _settings(request, vc, principal, status_code=problem.status)
    choices = [
        Preference(
            kind,
            email=form.get(f"{Channel.EMAIL.value}:{kind}") == "on",
            webhook=form.get(f"{Channel.WEBHOOK.value}:{kind}") == "on",
        )
        for kind in KINDS
    ]
    url = form.get("webhook_url")
    url = url.strip() if isinstance(url, str) else ""

    def save() -> None:
        notification.set_preferences(vc, person, choices)
        notification.set_webhook(vc, url or None, person)

    try:
        await run_in_threadpool(save)
    except notification.NotificationError as problem:
        text = str(problem)
        return _settings(
            request, vc, principal, error=text[:1].upper() + text[1:], status_code=problem.status
        )
    return RedirectResponse("/settings/notifications?done=1", status_code=303)


@router.get("/admin/outbox", response_class=HTMLResponse)
def outbox_page(
    request: Request,
    principal: OutboxManager,
    vc: CurrentValuechain,
    status: Annotated[Status | None, Query()] = None,
    retried: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """The outbox: counts per status and the newest 200 rows (of one status)."""
    return templates.TemplateResponse(
        request,
        "notification/outbox.html",
        {
            "nav": "outbox",
            "outbox": notification.outbox(vc, status, 200),
            "status": status.value if status else None,
            "statuses": [s.value for s in Status],
            "retried": retried,
            "max_attempts": MAX_ATTEMPTS,
        },
    )


@router.post("/admin/outbox/retry")
def retry_page(principal: OutboxManager, vc: CurrentValuechain) -> Response:
    """Give every failed row new attempts; back to the outbox."""
    count = notification.retry_failed(vc)
    return RedirectResponse(f"/admin/outbox?retried={count}", status_code=303)
