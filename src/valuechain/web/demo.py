"""The demo's own page: its outbox, the mail the demo would have sent (survey
invitations, reminders, notifications) when no mail server is configured, so a visitor
can answer a campaign from the links in it. Only in the demo's app; elsewhere 404."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape

from valuechain.domain.access import Action
from valuechain.edge.dependencies import allow
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services.mail import mail_folder, read_folder
from valuechain.web.templating import templates

router = APIRouter(
    route_class=IdempotentRoute, include_in_schema=False, dependencies=[allow(Action.VIEW_MAP)]
)
URL = re.compile(r"https?://[^\s<>\"']+")


def _linked(text: str) -> Markup:
    """``text`` escaped, its web addresses as links."""
    out = []
    last = 0
    for found in URL.finditer(text):
        out.append(escape(text[last : found.start()]))
        href = escape(found.group(0))
        out.append(Markup(f'<a href="{href}">{href}</a>'))
        last = found.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


@router.get("/demo/outbox", response_class=HTMLResponse)
def demo_outbox(request: Request) -> Response:
    """Mail the demo wrote to its folder (``file://`` mailer), newest first."""
    folder = mail_folder()
    if getattr(request.app.state, "demo_account_id", None) is None or folder is None:
        return templates.TemplateResponse(
            request, "errors/404.html", {"message": "This demo has no outbox."}, status_code=404
        )
    mails = [
        {
            "to": m["To"],
            "subject": m["Subject"],
            "date": m["Date"],
            "body": _linked(m.get_content() if not m.is_multipart() else ""),
        }
        for m in read_folder(folder)
    ]
    return templates.TemplateResponse(
        request, "demo/outbox.html", {"nav": "demo-outbox", "mails": mails}
    )
