"""The Jinja2 environment every page renders with, and where the static files live."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from valuechain import __version__
from valuechain.domain.account import DEMO_PERSONAS
from valuechain.domain.link import Relation
from valuechain.domain.unit import UnitKind
from valuechain.services.mail import mail_goes_to_folder
from valuechain.services.partner.health import COMPONENT_LABELS
from valuechain.web.links import may_visit

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"

KIND_LABELS = {
    UnitKind.TEAM.value: "Team",
    UnitKind.DEPARTMENT.value: "Department",
    UnitKind.EXTERNAL_CUSTOMER.value: "External customer",
    UnitKind.EXTERNAL_SUPPLIER.value: "External supplier",
}
RELATION_LABELS = {
    Relation.PAYS.value: "pays for",
    Relation.CONSUMES.value: "consumes",
    Relation.ADDS_TO.value: "adds to",
    Relation.DEPENDS_ON.value: "depends on",
}


def static_url(path: str) -> str:
    """URL of a packaged static file; the version in the query makes browsers fetch
    files again after an upgrade instead of running stale scripts."""
    return f"/static/{path}?v={__version__}"


def signed_in_context(request: Request) -> dict[str, Any]:
    """Who is signed in and the session's CSRF token, for the layout (set on the
    request by the access rule; absent on public pages)."""
    return {
        "principal": getattr(request.state, "principal", None),
        "csrf_token": getattr(request.state, "csrf_token", None),
    }


templates = Jinja2Templates(directory=str(TEMPLATES), context_processors=[signed_in_context])
templates.env.globals.update(
    static_url=static_url,
    kind_labels=KIND_LABELS,
    relation_labels=RELATION_LABELS,
    version=__version__,
    may_visit=may_visit,
    health_labels=COMPONENT_LABELS,
    # Whether mail goes to a folder (the demo's outbox page) rather than a server.
    mail_to_folder=lambda: mail_goes_to_folder(),
    demo_personas=[(key, label, role.value) for key, (label, role, _) in DEMO_PERSONAS.items()],
    # Every form that changes something carries a fresh key (edge/idempotency.py): a
    # double submit, or a retry after a lost answer, changes it once.
    new_key=lambda: secrets.token_hex(16),
)
