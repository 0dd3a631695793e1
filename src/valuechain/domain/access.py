"""The access policy: which role may do what, about which unit. Pure and total: every
action has a rule for every role, so the web pages, the API and the exports ask the
same question and get the same answer (see ``docs/access.md``)."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from enum import StrEnum

from valuechain.domain.account import AccountRole


class Action(StrEnum):
    """Everything a signed-in account may be allowed to do."""

    # Organisation-wide knowledge: the map of units, results and links.
    VIEW_MAP = "view_map"
    # About one unit: its summary (scores, agreements, requests in aggregate) ...
    VIEW_UNIT_SUMMARY = "view_unit_summary"
    # ... and the detailed results about it (survey results by relationship, drivers).
    VIEW_UNIT_RESULTS = "view_unit_results"
    # One's own session: who am I, sign out.
    USE_OWN_SESSION = "use_own_session"
    # Administration.
    IMPORT = "import"
    EXPORT = "export"
    MANAGE_ACCOUNTS = "manage_accounts"
    VIEW_AUDIT = "view_audit"
    # Requests: file, answer and thank as a lead or member; which side of a request
    # the asker is on is decided by the request itself (services.request.sides).
    USE_REQUESTS = "use_requests"
    # A unit's inbox, outbox and thanks wall: its own people (and admins).
    REQUEST_WORK = "request_work"
    # A unit's service levels: its lead, and leads of units in a relationship with it.
    VIEW_SLA = "view_sla"


UNIT_SCOPED = frozenset(
    {Action.VIEW_UNIT_SUMMARY, Action.VIEW_UNIT_RESULTS, Action.REQUEST_WORK, Action.VIEW_SLA}
)
ADMIN_ONLY = frozenset({Action.IMPORT, Action.EXPORT, Action.MANAGE_ACCOUNTS, Action.VIEW_AUDIT})
EVERYONE = frozenset({Action.VIEW_MAP, Action.USE_OWN_SESSION})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a signed-in account with its role and (if linked to a person)
    its unit. ``demo`` marks the demo admin the demo signs in automatically."""

    account_id: str
    email: str
    name: str
    role: AccountRole
    unit_id: str | None
    demo: bool = False


def allows(
    principal: Principal,
    action: Action,
    unit_id: str | None = None,
    related: Set[str] = frozenset(),
) -> bool:
    """Whether ``principal`` may do ``action``.

    For a unit-scoped action, ``unit_id`` is the unit the data is about and
    ``related`` the units in a relationship with the principal's own unit (its direct
    customers and suppliers). Admins may do everything; a lead sees summary and
    results (and service levels) for their own unit and its relationships; a member
    sees their own unit's summary; leads and members use requests and work their own
    unit's inbox, outbox and thanks wall; a viewer sees the map only. A unit-scoped
    action without a unit is refused for everyone but admins, so forgetting the unit
    never widens access.
    """
    if principal.role is AccountRole.ADMIN:
        return True
    if action in EVERYONE:
        return True
    if action is Action.USE_REQUESTS:
        return principal.role in (AccountRole.LEAD, AccountRole.MEMBER)
    if action in ADMIN_ONLY or action not in UNIT_SCOPED:
        return False
    own = principal.unit_id
    if unit_id is None or own is None:
        return False
    if action is Action.REQUEST_WORK:
        return principal.role in (AccountRole.LEAD, AccountRole.MEMBER) and unit_id == own
    if principal.role is AccountRole.LEAD:
        return unit_id == own or unit_id in related
    if principal.role is AccountRole.MEMBER:
        return action is Action.VIEW_UNIT_SUMMARY and unit_id == own
    return False
