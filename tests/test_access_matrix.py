"""The access matrix: every route of the app (pages, API, schema, static files) x
every role (and nobody signed in) x the role's own unit and another unit, each cell
with the status it must answer, on both databases.

The routes are enumerated from the app itself, so a new route without a row in
:data:`EXPECTED` fails here (and the app refuses to start without an access rule)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from tests.builders import chain_map
from tests.signin import make_account
from valuechain import Valuechain
from valuechain.domain.access import Action
from valuechain.domain.account import AccountRole
from valuechain.domain.person import Person, Role
from valuechain.edge.dependencies import CSRF_HEADER, PRESESSION_COOKIE, SESSION_COOKIE
from valuechain.services import accounts
from valuechain.services.access import may
from valuechain.web.app import RouteWithoutAccessRule, check_access_rules, create_app

OWN, OTHER = "make", "audit"  # make's relationships: pack, ctrl (customers), steel, plan
ROLES = ("admin", "lead", "member", "viewer", "anonymous")
ADMIN_ONLY = {"admin": 200, "lead": 403, "member": 403, "viewer": 403}


def signed_in(ok: int, anonymous: int) -> dict[str, int]:
    return {role: (anonymous if role == "anonymous" else ok) for role in ROLES}


def on_relationship(ok: int, anonymous: int, *, members: bool) -> dict[str, int | tuple[int, int]]:
    """A relationship's routes: admins always; its two sides' leads (and, to view,
    members); the ``OTHER`` relationship is none of theirs."""
    return {
        "admin": ok,
        "lead": (ok, 403),
        "member": (ok, 403) if members else 403,
        "viewer": 403,
        "anonymous": anonymous,
    }


def admin_only(anonymous: int) -> dict[str, int]:
    return {**ADMIN_ONLY, "anonymous": anonymous}


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def unit_results(ok: int) -> dict[str, int | tuple[int, int]]:
    """view_unit_results: admins every unit, a lead their own (``OTHER`` is no
    relationship of it), nobody else."""
    return {"admin": ok, "lead": (ok, 403), "member": 403, "viewer": 403, "anonymous": 401}


def unit_summary(ok: int) -> dict[str, int | tuple[int, int]]:
    """view_unit_summary: admins every unit, a lead their own (and relationships), a
    member their own unit."""
    return {"admin": ok, "lead": (ok, 403), "member": (ok, 403), "viewer": 403, "anonymous": 401}


def unit_acting(ok: int) -> dict[str, int | tuple[int, int]]:
    """act_on_agreements: admins every unit, a lead only their own unit."""
    return {"admin": ok, "lead": (ok, 403), "member": 403, "viewer": 403, "anonymous": 401}


def own_unit_work(ok: int, anonymous: int) -> dict[str, int | tuple[int, int]]:
    """request_work: admins every unit, leads and members their own unit only."""
    return {"admin": ok, "lead": (ok, 403), "member": (ok, 403), "viewer": 403,
            "anonymous": anonymous}  # fmt: skip


# (method, path) -> status per role. The same for the own and the other unit: the map
# is organisation-wide knowledge (docs/access.md); unit-scoped results arrive later
# and are checked against the policy in test_scoped_actions_follow_relationships.
EXPECTED: dict[tuple[str, str], dict[str, int | tuple[int, int]]] = {
    # Pages: nobody signed in is sent to /signin (303). A relationship's report is
    # survey findings about both units: its sides' leads and admins, not members.
    ("GET", "/"): signed_in(200, 303),
    ("GET", "/map"): signed_in(200, 303),
    ("GET", "/units"): signed_in(200, 303),
    ("GET", "/units/{unit_id}"): signed_in(200, 303),
    ("GET", "/flow"): signed_in(200, 303),
    ("GET", "/units/{unit_id}/dashboard"): {**unit_results(200), "anonymous": 303},
    ("GET", "/flow/what-if"): signed_in(200, 303),
    ("GET", "/units/{unit_id}/connect"): signed_in(200, 303),
    ("GET", "/units/{unit_id}/history"): signed_in(200, 303),
    ("GET", "/admin/audit"): admin_only(303),
    ("GET", "/reports"): admin_only(303),
    ("GET", "/relationships"): admin_only(303),
    ("GET", "/relationships/{provider_id}/{customer_id}/report"): on_relationship(
        200, 303, members=False
    ),
    ("GET", "/relationships/{provider_id}/{customer_id}/report.pdf"): on_relationship(
        200, 303, members=False
    ),
    ("GET", "/api/v1/relationships/{provider_id}/{customer_id}/report"): on_relationship(
        200, 401, members=False
    ),
    ("GET", "/relationships/{provider_id}/{customer_id}"): on_relationship(200, 303, members=True),
    ("POST", "/relationships/{provider_id}/{customer_id}/workspace"): on_relationship(
        303, 303, members=False
    ),
    ("POST", "/relationships/{provider_id}/{customer_id}/workspace/{entry_id}/mark"): (
        on_relationship(404, 303, members=False)  # no such entry
    ),
    ("POST", "/relationships/{provider_id}/{customer_id}/actions"): on_relationship(
        303, 303, members=False
    ),
    ("POST", "/relationships/{provider_id}/{customer_id}/actions/{action_id}/status"): (
        on_relationship(404, 303, members=False)  # no such action
    ),
    ("GET", "/reports/organisation.pdf"): admin_only(303),
    ("GET", "/units/{unit_id}/report"): {**unit_results(200), "anonymous": 303},
    ("GET", "/units/{unit_id}/report.pdf"): {**unit_results(200), "anonymous": 303},
    ("GET", "/admin/accounts"): admin_only(303),
    ("POST", "/admin/accounts"): {**admin_only(303), "admin": 303},  # created, back to the list
    ("POST", "/admin/accounts/update"): {**admin_only(303), "admin": 303},
    ("GET", "/admin/import"): admin_only(303),
    ("POST", "/admin/import/preview"): admin_only(303),  # the preview: an empty bundle's problems
    ("POST", "/admin/import/apply"): {**admin_only(303), "admin": 404},  # no such upload
    ("GET", "/signin"): signed_in(303, 200),  # a signed-in visitor goes on
    ("POST", "/signin"): everyone(401),  # posted with a wrong password
    ("POST", "/signin/demo"): everyone(404),  # not a demo
    ("POST", "/signin/demo/as"): everyone(404),  # not a demo: no persona to see it as
    ("GET", "/demo/outbox"): signed_in(404, 303),  # not a demo
    ("GET", "/signin/sso"): everyone(404),  # no single sign-on configured
    ("GET", "/signin/sso/callback"): everyone(404),
    ("POST", "/signout"): everyone(303),  # to /signin, signed in or not
    ("GET", "/setup"): everyone(303),  # accounts exist: setup is closed
    ("POST", "/setup"): everyone(303),
    # API: nobody signed in gets 401.
    ("GET", "/api/v1/map"): signed_in(200, 401),
    ("GET", "/api/v1/map/changes"): signed_in(200, 401),
    ("GET", "/api/v1/map/departments"): signed_in(200, 401),
    ("GET", "/api/v1/units"): signed_in(200, 401),
    ("GET", "/api/v1/units/{unit_id}"): signed_in(200, 401),
    ("GET", "/api/v1/units/{unit_id}/customers"): signed_in(200, 401),
    ("GET", "/api/v1/flow"): signed_in(200, 401),
    ("GET", "/api/v1/connect"): signed_in(200, 401),
    # Unit-scoped results: (own unit, other unit) where they differ.
    ("GET", "/api/v1/units/{unit_id}/scores"): unit_results(200),
    ("GET", "/api/v1/units/{unit_id}/connect"): unit_results(200),
    ("GET", "/api/v1/units/{unit_id}/drivers"): unit_results(404),  # no responses yet
    ("GET", "/api/v1/session"): signed_in(200, 401),
    ("POST", "/api/v1/session"): everyone(401),  # posted with a wrong password
    ("DELETE", "/api/v1/session"): signed_in(204, 401),
    ("GET", "/api/v1/accounts"): admin_only(401),
    ("GET", "/api/v1/audit"): admin_only(401),
    ("GET", "/api/v1/export"): admin_only(401),
    ("POST", "/api/v1/import"): admin_only(401),  # a dry run: an empty bundle's problems
    ("GET", "/api/v1/reports/organisation"): admin_only(401),
    ("GET", "/api/v1/relationships"): admin_only(401),
    ("GET", "/api/v1/relationships/{provider_id}/{customer_id}"): on_relationship(
        200, 401, members=True
    ),
    ("POST", "/api/v1/relationships/{provider_id}/{customer_id}/workspace"): on_relationship(
        201, 401, members=False
    ),
    ("POST", "/api/v1/relationships/{provider_id}/{customer_id}/workspace/{entry_id}/mark"): (
        on_relationship(404, 401, members=False)
    ),
    ("POST", "/api/v1/relationships/{provider_id}/{customer_id}/actions"): on_relationship(
        201, 401, members=False
    ),
    ("POST", "/api/v1/relationships/{provider_id}/{customer_id}/actions/{action_id}/status"): (
        on_relationship(404, 401, members=False)
    ),
    ("GET", "/api/v1/units/{unit_id}/report"): unit_results(200),
    # Agree: reading needs view_unit_summary for the unit, acting act_on_agreements
    # (only the unit's own lead, and admins). The matrix names no real agreement or
    # negotiation, so those allowed in are answered 404.
    ("GET", "/api/v1/units/{unit_id}/agreements"): unit_summary(200),
    # Drafting: make provides parts to pack (201); audit is no side of it (409).
    ("POST", "/api/v1/units/{unit_id}/agreements"): {**unit_acting(201), "admin": (201, 409)},
    ("POST", "/units/{unit_id}/agreements"): {
        **unit_acting(303),
        "admin": (303, 409),
        "anonymous": 303,
    },
    ("GET", "/api/v1/units/{unit_id}/agreements/{agreement_id}"): unit_summary(404),
    ("POST", "/api/v1/units/{unit_id}/agreements/{agreement_id}/propose"): unit_acting(404),
    ("POST", "/api/v1/units/{unit_id}/agreements/{agreement_id}/agree"): unit_acting(404),
    ("POST", "/api/v1/units/{unit_id}/agreements/{agreement_id}/review"): unit_acting(404),
    ("POST", "/api/v1/units/{unit_id}/agreements/{agreement_id}/commitments"): unit_acting(404),
    ("GET", "/api/v1/commitments"): admin_only(401),
    # Map writes: edit_map_of_unit (a unit's own lead, and admins). Results are ids
    # across the organisation, so the admin's second create (for audit) is taken (409);
    # make's result parts is changed (200), audit has none (404); "nope" is removed (no
    # such result, 404); make produces parts, so it declares a link to ship (201), audit
    # is no side of it (409); the answers name a link that does not exist (404).
    ("POST", "/api/v1/units/{unit_id}/results"): {**unit_acting(201), "admin": (201, 409)},
    ("PUT", "/api/v1/units/{unit_id}/results/{result_id}"): {
        **unit_acting(200),
        "admin": (200, 404),
    },
    ("DELETE", "/api/v1/units/{unit_id}/results/{result_id}"): unit_acting(404),
    ("POST", "/api/v1/units/{unit_id}/links"): {**unit_acting(201), "admin": (201, 409)},
    ("POST", "/api/v1/units/{unit_id}/links/confirm"): unit_acting(404),
    ("POST", "/api/v1/units/{unit_id}/links/dispute"): unit_acting(404),
    ("POST", "/api/v1/units/{unit_id}/links/withdraw"): unit_acting(404),
    ("GET", "/api/v1/links"): signed_in(200, 401),
    # Suggested links: the unit's own lead (edit_map_of_unit) and admins; the pair in
    # the bodies has no evidence, so accepting or dismissing it finds nothing (404).
    ("GET", "/api/v1/units/{unit_id}/suggestions"): unit_acting(200),
    ("POST", "/api/v1/units/{unit_id}/suggestions/accept"): unit_acting(404),
    ("POST", "/api/v1/units/{unit_id}/suggestions/dismiss"): unit_acting(404),
    ("GET", "/api/v1/suggestions"): admin_only(401),
    ("GET", "/units/{unit_id}/suggestions"): {**unit_acting(200), "anonymous": 303},
    ("POST", "/units/{unit_id}/suggestions/accept"): {**unit_acting(404), "anonymous": 303},
    ("POST", "/units/{unit_id}/suggestions/dismiss"): {**unit_acting(404), "anonymous": 303},
    # The map's structure: units and people are the admins'; a unit's own lead may
    # rename it (name_unit: the body changes make's name only, 200). Both units are in
    # use, so removing either is refused (409); "{person_key}" names nobody (404).
    ("POST", "/api/v1/units"): {**admin_only(401), "admin": 201},
    ("PUT", "/api/v1/units/{unit_id}"): unit_acting(200),
    ("DELETE", "/api/v1/units/{unit_id}"): {**admin_only(401), "admin": 409},
    ("POST", "/api/v1/people"): {**admin_only(401), "admin": 201},
    ("PUT", "/api/v1/people/{person_key}"): {**admin_only(401), "admin": 404},
    ("POST", "/api/v1/people/{person_key}/leave"): {**admin_only(401), "admin": 404},
    ("GET", "/api/v1/units/{unit_id}/capacity"): unit_summary(200),
    ("GET", "/api/v1/units/{unit_id}/watermelon"): unit_results(200),
    # make produces parts (200); audit does not (404).
    ("PUT", "/api/v1/units/{unit_id}/capacity/shares"): {**unit_acting(200), "admin": (200, 404)},
    ("POST", "/api/v1/units/{unit_id}/negotiations/{negotiation_id}"): unit_acting(404),
    ("GET", "/units/{unit_id}/agreements"): {**unit_summary(200), "anonymous": 303},
    ("GET", "/units/{unit_id}/agreements/{agreement_id}"): {**unit_summary(404), "anonymous": 303},
    ("POST", "/units/{unit_id}/agreements/{agreement_id}/{step}"): {
        **unit_acting(404),
        "anonymous": 303,
    },
    ("POST", "/units/{unit_id}/agreements/{agreement_id}/commitments/record"): {
        **unit_acting(404),
        "anonymous": 303,
    },
    ("GET", "/units/{unit_id}/capacity"): {**unit_summary(200), "anonymous": 303},
    ("POST", "/units/{unit_id}/capacity/shares"): {
        **unit_acting(303),  # saved, back to the capacity page
        "admin": (303, 404),
        "anonymous": 303,
    },
    ("POST", "/units/{unit_id}/negotiations/{negotiation_id}"): {
        **unit_acting(404),
        "anonymous": 303,
    },
    # Data rights: admins only; "{person_key}" names nobody, so an admin gets 404.
    ("GET", "/api/v1/people/{person_key}/export"): {**admin_only(401), "admin": 404},
    ("DELETE", "/api/v1/people/{person_key}"): {**admin_only(401), "admin": 404},
    # Public: the schema and its documentation describe endpoints, hold no data.
    ("GET", "/api/v1/units/{unit_id}/change"): unit_results(404),  # no campaigns yet
    ("GET", "/api/v1/units/{unit_id}/comments"): unit_results(200),
    ("GET", "/openapi.json"): everyone(200),
    ("GET", "/docs"): everyone(200),
    ("GET", "/docs/oauth2-redirect"): everyone(200),
    ("GET", "/redoc"): everyone(200),
    ("GET", "/static"): everyone(200),
    # Probes are public (web/probe.py); metrics are for admins unless opted in.
    ("GET", "/healthz"): everyone(200),
    ("GET", "/readyz"): everyone(200),
    ("GET", "/metrics"): admin_only(303),
    # Campaigns: admins run them ("{campaign_id}" names no campaign: 404 past the
    # access rule, or back to the page with the error for the page forms).
    ("GET", "/campaigns"): admin_only(303),
    ("POST", "/campaigns"): {**admin_only(303), "admin": 303},  # created, to its page
    ("GET", "/campaigns/{campaign_id}"): {**admin_only(303), "admin": 404},
    ("GET", "/campaigns/{campaign_id}/rates"): {**admin_only(303), "admin": 404},
    ("POST", "/campaigns/{campaign_id}/invite"): {**admin_only(303), "admin": 404},
    ("POST", "/campaigns/{campaign_id}/remind"): {**admin_only(303), "admin": 404},
    ("POST", "/campaigns/{campaign_id}/close"): {**admin_only(303), "admin": 404},
    ("GET", "/api/v1/campaigns"): admin_only(401),
    ("POST", "/api/v1/campaigns"): {**admin_only(401), "admin": 201},
    ("GET", "/api/v1/campaigns/{campaign_id}"): {**admin_only(401), "admin": 404},
    ("POST", "/api/v1/campaigns/{campaign_id}/invite"): {**admin_only(401), "admin": 404},
    ("POST", "/api/v1/campaigns/{campaign_id}/remind"): {**admin_only(401), "admin": 404},
    ("POST", "/api/v1/campaigns/{campaign_id}/close"): {**admin_only(401), "admin": 404},
    # ... and a lead sees the response rates of their own unit only (not its relationships).
    ("GET", "/units/{unit_id}/campaigns"): {**unit_results(200), "anonymous": 303},
    ("GET", "/api/v1/units/{unit_id}/campaigns"): unit_results(200),
    # Survey links: the token is the credential; "{token}" is no token.
    ("GET", "/s/{token}"): everyone(404),
    ("POST", "/s/{token}"): everyone(404),
    ("GET", "/survey/thanks"): everyone(200),
    ("GET", "/api/v1/survey/{token}"): everyone(404),
    ("POST", "/api/v1/survey/{token}"): everyone(404),
    # Notifications: one's own settings need an account linked to a person (the admin
    # and viewer accounts of this matrix are not); the outbox is the admins'.
    ("GET", "/settings/notifications"): signed_in(200, 303),
    ("POST", "/settings/notifications"): {**signed_in(303, 303), "admin": 409, "viewer": 409},
    ("GET", "/admin/outbox"): admin_only(303),
    ("POST", "/admin/outbox/retry"): {**admin_only(303), "admin": 303},
    ("GET", "/api/v1/notifications/preferences"): {
        **signed_in(200, 401),
        "admin": 409,
        "viewer": 409,
    },
    ("PUT", "/api/v1/notifications/preferences"): {
        **signed_in(200, 401),
        "admin": 409,
        "viewer": 409,
    },
    ("GET", "/api/v1/notifications/outbox"): admin_only(401),
    ("POST", "/api/v1/notifications/outbox/retry"): admin_only(401),
    ("GET", "/api/v1/notifications/webhook"): admin_only(401),
    ("PUT", "/api/v1/notifications/webhook"): admin_only(401),
    # Requests: leads and members (and admins) use them; a unit's boxes and thanks wall
    # are for its own people; a request's id answers 404 to anyone on neither side.
    ("GET", "/requests"): {**signed_in(200, 303), "viewer": 403},
    ("POST", "/requests"): {**signed_in(303, 303), "admin": 409, "viewer": 403},  # admin: no unit
    ("GET", "/requests/{request_id}"): {**signed_in(404, 303), "viewer": 403},
    ("POST", "/requests/{request_id}/events"): {**signed_in(404, 303), "viewer": 403},
    ("POST", "/requests/{request_id}/thanks"): {**signed_in(404, 303), "viewer": 403},
    ("POST", "/requests/{request_id}/assignee"): {**signed_in(404, 303), "viewer": 403},
    ("POST", "/requests/{request_id}/comments"): {**signed_in(404, 303), "viewer": 403},
    ("GET", "/requests/all"): admin_only(303),
    ("GET", "/units/{unit_id}/inbox"): own_unit_work(200, 303),
    ("GET", "/units/{unit_id}/outbox"): own_unit_work(200, 303),
    ("GET", "/units/{unit_id}/thanks"): own_unit_work(200, 303),
    ("GET", "/api/v1/requests"): {**signed_in(200, 401), "viewer": 403},
    ("POST", "/api/v1/requests"): {**signed_in(201, 401), "viewer": 403},
    ("GET", "/api/v1/requests/{request_id}"): {**signed_in(404, 401), "viewer": 403},
    ("POST", "/api/v1/requests/{request_id}/events"): {**signed_in(404, 401), "viewer": 403},
    ("POST", "/api/v1/requests/{request_id}/thanks"): {**signed_in(404, 401), "viewer": 403},
    ("POST", "/api/v1/requests/{request_id}/assignee"): {**signed_in(404, 401), "viewer": 403},
    ("POST", "/api/v1/requests/{request_id}/comments"): {**signed_in(404, 401), "viewer": 403},
    ("GET", "/api/v1/queue"): admin_only(401),
    ("GET", "/api/v1/units/{unit_id}/inbox"): own_unit_work(200, 401),
    ("GET", "/api/v1/units/{unit_id}/outbox"): own_unit_work(200, 401),
    ("GET", "/api/v1/units/{unit_id}/thanks"): own_unit_work(200, 401),
    ("GET", "/api/v1/units/{unit_id}/sla"): unit_results(200),  # leads: own + relationships
    ("GET", "/api/v1/sla"): admin_only(401),
}

# A zip archive with no entries (its end-of-central-directory record alone).
EMPTY_ZIP = b"PK\x05\x06" + bytes(18)

# What each state-changing request sends (besides the CSRF token).
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/v1/map/changes"): {"params": {"from": "2026-01-01"}},
    ("POST", "/signin"): {"data": {"email": "admin@example.org", "password": "not it"}},
    ("POST", "/signin/demo/as"): {"data": {"persona": "lead"}},
    ("POST", "/setup"): {
        "data": {
            "email": "late@example.org",
            "password": "another long password",
            "password_again": "another long password",
        }
    },
    ("POST", "/api/v1/session"): {"json": {"email": "admin@example.org", "password": "not it"}},
    ("POST", "/admin/accounts"): {
        "data": {"email": "new@example.org", "password": "a long first password", "role": "viewer"}
    },
    ("POST", "/admin/accounts/update"): {
        "data": {"email": "viewer@example.org", "role": "viewer", "active": "true"}
    },
    ("POST", "/api/v1/import"): {"files": {"file": ("empty.zip", EMPTY_ZIP)}},
    ("POST", "/admin/import/preview"): {"data": {}, "files": {"file": ("empty.zip", EMPTY_ZIP)}},
    ("POST", "/admin/import/apply"): {"data": {"token": "x" * 32}},
    ("POST", "/campaigns"): {"data": {"id": "m-web", "instrument": "pulse"}},
    ("POST", "/api/v1/campaigns"): {"json": {"id": "m-api", "instrument": "pulse"}},
    ("POST", "/api/v1/survey/{token}"): {"json": {"answers": []}},
    ("POST", "/settings/notifications"): {"data": {"email:thanks": "on"}},
    ("PUT", "/api/v1/notifications/preferences"): {
        "json": {"preferences": [{"kind": "thanks", "email": True, "webhook": False}]}
    },
    ("PUT", "/api/v1/notifications/webhook"): {"json": {"url": None}},
    ("POST", "/requests"): {"data": {"provider": "pack", "title": "Matrix request"}},
    ("POST", "/requests/{request_id}/events"): {"data": {"verb": "ack"}},
    ("POST", "/requests/{request_id}/thanks"): {"data": {"note": "thanks"}},
    ("POST", "/requests/{request_id}/assignee"): {"data": {"person": ""}},
    ("POST", "/requests/{request_id}/comments"): {"data": {"body": "A question"}},
    ("POST", "/api/v1/requests"): {
        "json": {"customer": "make", "provider": "pack", "title": "Matrix request"}
    },
    ("POST", "/api/v1/requests/{request_id}/events"): {"json": {"verb": "ack"}},
    ("POST", "/api/v1/requests/{request_id}/thanks"): {"json": {"note": "thanks"}},
    ("POST", "/api/v1/requests/{request_id}/assignee"): {"json": {"person": None}},
    ("POST", "/api/v1/requests/{request_id}/comments"): {"json": {"body": "A question"}},
}
_REL = "/relationships/{provider_id}/{customer_id}"
_ACTION_FORM = {"title": "Agree a cut-off", "owner": "Lea", "due_on": "2099-01-01",
                "metric": "service_factors"}  # fmt: skip
BODIES.update(
    {
        ("POST", f"{_REL}/workspace"): {"data": {"kind": "need", "text": "x", "side": "provider"}},
        ("POST", f"{_REL}/workspace/{{entry_id}}/mark"): {"data": {"alignment": "aligned"}},
        ("POST", f"{_REL}/actions"): {"data": _ACTION_FORM},
        ("POST", f"{_REL}/actions/{{action_id}}/status"): {"data": {"status": "done"}},
        ("POST", f"/api/v1{_REL}/workspace"): {
            "json": {"kind": "need", "text": "x", "side": "provider"}
        },
        ("POST", f"/api/v1{_REL}/workspace/{{entry_id}}/mark"): {"json": {"alignment": None}},
        ("POST", f"/api/v1{_REL}/actions"): {
            "json": {
                "title": "t",
                "owner": "o",
                "due_on": "2099-01-01",
                "instrument": "service_factors",
            }
        },
        ("POST", f"/api/v1{_REL}/actions/{{action_id}}/status"): {"json": {"status": "done"}},
    }
)
# The lead's own relationship (make provides to pack) and one that is not theirs.
OWN_PAIR, OTHER_PAIR = ("make", "pack"), ("ctrl", "audit")
for _unit in (OWN, OTHER):  # bodies are looked up by the concrete path
    BODIES[("POST", f"/api/v1/units/{_unit}/agreements")] = {
        "json": {"result_id": "parts", "customer_id": "pack", "targets": {"on_time_pct": 95}}
    }
    BODIES[("POST", f"/units/{_unit}/agreements")] = {
        "data": {"pair": "parts|pack", "on_time_pct": "95"}
    }
    BODIES[("PUT", f"/api/v1/units/{_unit}/capacity/shares")] = {
        "json": {"result_id": "parts", "customer_id": "pack", "share": 5}
    }
    BODIES[("POST", f"/api/v1/units/{_unit}/negotiations/{{negotiation_id}}")] = {
        "json": {"settlement": "accepted"}
    }
    BODIES[("POST", f"/api/v1/units/{_unit}/agreements/{{agreement_id}}/commitments")] = {
        "json": {"due_at": "2026-11-30T09:00:00+00:00", "event": "delivered"}
    }
    BODIES[("POST", f"/units/{_unit}/agreements/{{agreement_id}}/commitments/record")] = {
        "data": {"due_at": "2026-11-30T09:00:00+00:00", "event": "delivered"}
    }
    BODIES[("POST", f"/units/{_unit}/capacity/shares")] = {
        "data": {"result_id": "parts", "customer_id": "pack", "share": "5"}
    }
    BODIES[("POST", f"/units/{_unit}/negotiations/{{negotiation_id}}")] = {
        "data": {"settlement": "accepted"}
    }
_NO_LINK = {"result_id": "parts", "customer_id": "ctrl", "relation": "pays"}
_NO_PAIR = {"provider_id": "make", "customer_id": "ship"}
_NO_SUGGESTION = {**_NO_PAIR, "result_id": "parts", "relation": "consumes"}
BODIES.update(
    {
        ("POST", "/api/v1/units/{unit_id}/results"): {
            "json": {"id": "matrix-result", "name": "Matrix", "kind": "finished"}
        },
        ("PUT", "/api/v1/units/{unit_id}/results/{result_id}"): {
            "json": {"name": "Machined parts", "kind": "intermediate"}
        },
        ("POST", "/api/v1/units/{unit_id}/links"): {
            "json": {"result_id": "parts", "customer_id": "ship", "relation": "depends_on"}
        },
        ("POST", "/api/v1/units/{unit_id}/links/confirm"): {"json": _NO_LINK},
        ("POST", "/api/v1/units/{unit_id}/links/dispute"): {"json": {**_NO_LINK, "reason": "no"}},
        ("POST", "/api/v1/units/{unit_id}/links/withdraw"): {"json": _NO_LINK},
        ("POST", "/api/v1/units/{unit_id}/suggestions/accept"): {"json": _NO_SUGGESTION},
        ("POST", "/api/v1/units/{unit_id}/suggestions/dismiss"): {"json": _NO_PAIR},
        ("POST", "/units/{unit_id}/suggestions/accept"): {"data": _NO_SUGGESTION},
        ("POST", "/units/{unit_id}/suggestions/dismiss"): {"data": _NO_PAIR},
    }
)
# The map-editing pages (web/map_edit.py): edit_map_of_unit as the API's writes. A new
# result is named, its id made from the unit and the name (303 for both units); a
# change or removal names "nope" (404); make declares that Shipping adds to its
# parts (303), audit is no side of it (409); "{answer}" is no answer (404).
EXPECTED.update(
    {
        ("GET", "/units/{unit_id}/results"): {**unit_acting(200), "anonymous": 303},
        ("POST", "/units/{unit_id}/results"): {**unit_acting(303), "anonymous": 303},
        ("POST", "/units/{unit_id}/results/{result_id}"): {**unit_acting(404), "anonymous": 303},
        ("POST", "/units/{unit_id}/results/{result_id}/remove"): {
            **unit_acting(404),
            "anonymous": 303,
        },
        ("POST", "/units/{unit_id}/links"): {
            **unit_acting(303),
            "admin": (303, 409),
            "anonymous": 303,
        },
        ("POST", "/units/{unit_id}/links/{answer}"): {**unit_acting(404), "anonymous": 303},
        ("GET", "/admin/links"): admin_only(303),
    }
)
BODIES.update(
    {
        ("POST", "/units/{unit_id}/results"): {"data": {"name": "Matrix page", "kind": "finished"}},
        ("POST", "/units/{unit_id}/results/{result_id}"): {
            "data": {"name": "Matrix page", "kind": "finished"}
        },
        ("POST", "/units/{unit_id}/links"): {
            "data": {"side": "provider", "result": "parts", "customer": "Shipping",
                     "relation": "adds_to"}
        },
        ("POST", "/units/{unit_id}/links/{answer}"): {"data": _NO_LINK},
    }
)  # fmt: skip
_PERSON = {"name": "Matrix", "email": "matrix@example.org", "unit_id": OWN, "role": "member"}
BODIES.update(
    {
        ("POST", "/api/v1/units"): {"json": {"id": "matrix-unit", "name": "M", "kind": "team"}},
        ("PUT", f"/api/v1/units/{OWN}"): {
            "json": {"name": "Machining 2", "kind": "team", "parent_id": "ops", "headcount": 30}
        },
        ("PUT", f"/api/v1/units/{OTHER}"): {"json": {"name": "Audit", "kind": "team"}},
        ("POST", "/api/v1/people"): {"json": {"id": "p-matrix", **_PERSON}},
        ("PUT", "/api/v1/people/{person_key}"): {"json": _PERSON},
    }
)
# The result a path names: a change needs one of make's results, a removal none at all.
RESULT_IN_PATH = {"PUT": "parts", "DELETE": "nope"}
STATIC_FILE = "/static/css/valuechain.css"


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, HEAD and OPTIONS aside."""
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute | Route):
            found.update((m, route.path) for m in route.methods or () if m != "HEAD")
        elif isinstance(route.original_route, Mount):
            found.add(("GET", route.path))
    return found


@dataclass
class World:
    vc: Valuechain
    app: FastAPI
    principals: dict[str, str]  # role -> account email


@pytest.fixture
def world(vc: Valuechain) -> Iterator[World]:
    org = chain_map()
    org.people = [
        Person("p-lead", "Lea Lead", "lead@example.org", OWN, Role.LEAD),
        Person("p-member", "Max Member", "member@example.org", OWN, Role.MEMBER),
    ]
    vc.write_map(org)
    make_account(vc, "admin@example.org", AccountRole.ADMIN)
    make_account(vc, "lead@example.org", AccountRole.LEAD, person_id="p-lead")
    make_account(vc, "member@example.org", AccountRole.MEMBER, person_id="p-member")
    make_account(vc, "viewer@example.org", AccountRole.VIEWER)
    app = create_app(vc)
    yield World(vc, app, {r: f"{r}@example.org" for r in ROLES if r != "anonymous"})


def _client(world: World, role: str) -> tuple[TestClient, str]:
    """A client with a fresh session for ``role`` (none for anonymous) and the CSRF
    token a browser holding it would send."""
    client = TestClient(world.app)
    if role == "anonymous":
        client.cookies.set(PRESESSION_COOKIE, "presession-token")
        return client, "presession-token"
    account = accounts.account_by_email(world.vc, world.principals[role])
    assert account is not None
    started = accounts.start_session(world.vc, account, address="matrix")
    client.cookies.set(SESSION_COOKIE, started.token)
    return client, started.csrf_token


def _call(world: World, role: str, method: str, path: str, template: str | None = None) -> Any:
    client, csrf = _client(world, role)
    kwargs: dict[str, Any] = dict(
        BODIES.get((method, path)) or BODIES.get((method, template or path), {})
    )
    if method != "GET":
        if "data" in kwargs:
            kwargs["data"] = {**kwargs["data"], "csrf_token": csrf}
        else:
            kwargs["headers"] = {CSRF_HEADER: csrf}
    url = STATIC_FILE if path == "/static" else path
    return client.request(method, url, follow_redirects=False, **kwargs)


def test_every_route_has_a_row_and_every_openapi_path_is_a_route(world: World) -> None:
    routes = app_routes(world.app)
    assert routes == set(EXPECTED), (
        f"routes without a row: {sorted(routes - set(EXPECTED))}; "
        f"rows without a route: {sorted(set(EXPECTED) - routes)}"
    )
    schema = TestClient(world.app).get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method in operations:
            assert (method.upper(), path) in routes


@pytest.mark.parametrize("role", ROLES)
def test_matrix(world: World, role: str) -> None:
    failures: list[str] = []
    for (method, path), statuses in sorted(EXPECTED.items()):
        units = (OWN, OTHER) if "{unit_id}" in path else (None,)
        if "{provider_id}" in path:
            units = (OWN, OTHER)
        for unit in units:
            concrete = path.replace("{unit_id}", unit) if unit else path
            concrete = concrete.replace("{result_id}", RESULT_IN_PATH.get(method, "nope"))
            if "{provider_id}" in path:
                provider, customer = OWN_PAIR if unit == OWN else OTHER_PAIR
                concrete = (
                    path.replace("{provider_id}", provider)
                    .replace("{customer_id}", customer)
                    .replace("{entry_id}", "nope")
                    .replace("{action_id}", "nope")
                )
            answer = _call(world, role, method, concrete, path)
            expected = statuses[role]
            if isinstance(expected, tuple):
                expected = expected[0 if unit == OWN else 1]
            if answer.status_code != expected:
                failures.append(f"{role} {method} {concrete}: {answer.status_code} != {expected}")
            elif role == "anonymous" and expected == 303 and path != "/setup":
                assert answer.headers["location"].startswith("/signin"), concrete
            elif expected == 403 and path.startswith("/api/"):
                assert answer.json()["detail"] == "Your account is not allowed to see or do this."
    assert failures == [], "\n".join(failures)


def test_a_route_without_an_access_rule_stops_the_app(world: World) -> None:
    @world.app.get("/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    with pytest.raises(RouteWithoutAccessRule, match="/forgotten"):
        check_access_rules(world.app)


def test_an_included_router_without_an_access_rule_stops_the_app(world: World) -> None:
    extra = APIRouter(prefix="/api/v1")

    @extra.get("/later")
    def later() -> dict[str, str]:
        return {}

    world.app.include_router(extra)
    with pytest.raises(RouteWithoutAccessRule, match="/api/v1/later"):
        check_access_rules(world.app)


def test_scoped_actions_follow_relationships(world: World) -> None:
    """Unit-scoped results (arriving with Measure and Agree) through the one layer:
    a lead sees their unit and its relationships, a member their unit's summary."""
    vc = world.vc
    principal: dict[str, Any] = {}
    for role in ROLES[:-1]:
        account = accounts.account_by_email(vc, world.principals[role])
        assert account is not None
        principal[role] = accounts.principal(account)
    assert principal["lead"].unit_id == OWN and principal["viewer"].unit_id is None
    cases: list[tuple[str, Action, str, bool]] = []
    for unit, lead_sees in (
        (OWN, True),
        ("pack", True),  # a direct customer
        ("ctrl", True),  # a direct customer
        ("steel", True),  # a supplier
        ("plan", True),  # a supplier
        ("ship", False),  # an indirect customer is not a relationship
        (OTHER, False),
    ):
        for action in (Action.VIEW_UNIT_SUMMARY, Action.VIEW_UNIT_RESULTS):
            cases.append(("admin", action, unit, True))
            cases.append(("lead", action, unit, lead_sees))
            cases.append(("viewer", action, unit, False))
        cases.append(("member", Action.VIEW_UNIT_SUMMARY, unit, unit == OWN))
        cases.append(("member", Action.VIEW_UNIT_RESULTS, unit, False))
    wrong = [c for c in cases if may(vc, principal[c[0]], c[1], c[2]) is not c[3]]
    assert wrong == []
    admin_actions: list[Callable[[], bool]] = [
        lambda a=a, r=r: may(vc, principal[r], a) is (r == "admin")  # type: ignore[misc]
        for a in (
            Action.IMPORT,
            Action.EXPORT,
            Action.MANAGE_ACCOUNTS,
            Action.VIEW_AUDIT,
            Action.VIEW_ORGANISATION_REPORT,
        )
        for r in ROLES[:-1]
    ]
    assert all(check() for check in admin_actions)


def test_campaign_actions(world: World) -> None:
    """Admins manage campaigns; a lead sees the response rates of their own unit only,
    not of its relationships; members and viewers neither."""
    vc = world.vc
    principal = {}
    for role in ROLES[:-1]:
        account = accounts.account_by_email(vc, world.principals[role])
        assert account is not None
        principal[role] = accounts.principal(account)
    for role in ROLES[:-1]:
        assert may(vc, principal[role], Action.MANAGE_CAMPAIGNS) is (role == "admin")
        for unit in (OWN, "pack", "steel", OTHER):
            expected = role == "admin" or (role == "lead" and unit == OWN)
            assert may(vc, principal[role], Action.VIEW_CAMPAIGN_RATES, unit) is expected


def test_map_editing_is_for_the_units_own_lead(world: World) -> None:
    """edit_map_of_unit: admins every unit; a lead their own unit only, never one of
    its relationships; members and viewers none."""
    vc = world.vc
    principal = {}
    for role in ROLES[:-1]:
        account = accounts.account_by_email(vc, world.principals[role])
        assert account is not None
        principal[role] = accounts.principal(account)
    for role in ROLES[:-1]:
        assert may(vc, principal[role], Action.EDIT_MAP_OF_UNIT) is (role == "admin")
        for unit in (OWN, "pack", "steel", OTHER):
            expected = role == "admin" or (role == "lead" and unit == OWN)
            assert may(vc, principal[role], Action.EDIT_MAP_OF_UNIT, unit) is expected


def test_the_maps_structure_is_the_admins_but_a_lead_names_their_unit(world: World) -> None:
    """manage_units and manage_people: admins only; name_unit: admins every unit, a
    lead their own unit only (never a related one); members and viewers none."""
    vc = world.vc
    principal = {}
    for role in ROLES[:-1]:
        account = accounts.account_by_email(vc, world.principals[role])
        assert account is not None
        principal[role] = accounts.principal(account)
    for role in ROLES[:-1]:
        for action in (Action.MANAGE_UNITS, Action.MANAGE_PEOPLE):
            assert may(vc, principal[role], action) is (role == "admin")
            assert may(vc, principal[role], action, OWN) is (role == "admin")
        assert may(vc, principal[role], Action.NAME_UNIT) is (role == "admin")
        for unit in (OWN, "pack", "steel", OTHER):
            expected = role == "admin" or (role == "lead" and unit == OWN)
            assert may(vc, principal[role], Action.NAME_UNIT, unit) is expected
