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
    # The one-page organisation report for executives.
    VIEW_ORGANISATION_REPORT = "view_organisation_report"
    # About one provider–customer relationship: its page, health, both sides' views ...
    VIEW_RELATIONSHIP = "view_relationship"
    # ... and working on it: workspace entries, alignment marks, actions.
    WORK_ON_RELATIONSHIP = "work_on_relationship"
    # The operations lead's view across every relationship.
    FACILITATE = "facilitate"
    # Survey campaigns: create, invite, remind, close (admins) ...
    MANAGE_CAMPAIGNS = "manage_campaigns"
    # ... and the response rates of the campaigns covering one unit (its lead).
    VIEW_CAMPAIGN_RATES = "view_campaign_rates"
    # Notifications: one's own choices (what to receive, one's own webhook) ...
    MANAGE_OWN_NOTIFICATIONS = "manage_own_notifications"
    # ... and the organisation's outbox and webhook.
    MANAGE_NOTIFICATIONS = "manage_notifications"
    # Agree: act on the agreements of one's own unit (propose, agree, review, capacity
    # shares and their negotiations) ...
    ACT_ON_AGREEMENTS = "act_on_agreements"
    # ... and see every agreement's commitment log and trust, organisation-wide.
    VIEW_ALL_COMMITMENTS = "view_all_commitments"
    # Requests: file, answer and thank as a lead or member; which side of a request
    # the asker is on is decided by the request itself (services.request.sides).
    USE_REQUESTS = "use_requests"
    # A unit's inbox, outbox and thanks wall: its own people (and admins).
    REQUEST_WORK = "request_work"
    # A unit's service levels: its lead, and leads of units in a relationship with it.
    VIEW_SLA = "view_sla"
    # Every request of the organisation in one queue (admins).
    VIEW_ALL_REQUESTS = "view_all_requests"
    # The map of one unit: its results and the links from or to them (its lead, and
    # admins); which side of a link may answer is decided by the link itself
    # (services.map_edit).
    EDIT_MAP_OF_UNIT = "edit_map_of_unit"
    # The organisation's structure: add, change and remove units, and the people on
    # the map (admins) ...
    MANAGE_UNITS = "manage_units"
    MANAGE_PEOPLE = "manage_people"
    # ... but a unit's name is also its own lead's (they know what the team is
    # called); its kind, parent and headcount stay the admins' (services.map_structure).
    NAME_UNIT = "name_unit"


UNIT_SCOPED = frozenset(
    {
        Action.VIEW_UNIT_SUMMARY,
        Action.VIEW_UNIT_RESULTS,
        Action.VIEW_CAMPAIGN_RATES,
        Action.REQUEST_WORK,
        Action.VIEW_SLA,
    }
)
ADMIN_ONLY = frozenset(
    {
        Action.IMPORT,
        Action.EXPORT,
        Action.MANAGE_ACCOUNTS,
        Action.VIEW_AUDIT,
        Action.VIEW_ORGANISATION_REPORT,
        Action.FACILITATE,
        Action.MANAGE_CAMPAIGNS,
        Action.VIEW_ALL_COMMITMENTS,
    }
)
RELATIONSHIP_SCOPED = frozenset({Action.VIEW_RELATIONSHIP, Action.WORK_ON_RELATIONSHIP})
# Unit-scoped actions a lead may do for their own unit only, not its relationships.
OWN_UNIT_ONLY = frozenset({Action.VIEW_CAMPAIGN_RATES})
EVERYONE = frozenset({Action.VIEW_MAP, Action.USE_OWN_SESSION})
# The map's structure (units, people): admins only.
ADMIN_ONLY = ADMIN_ONLY | {Action.MANAGE_UNITS, Action.MANAGE_PEOPLE}
# Notifications (appended per capability, so parallel additions merge line by line).
ADMIN_ONLY = ADMIN_ONLY | {Action.MANAGE_NOTIFICATIONS}
EVERYONE = EVERYONE | {Action.MANAGE_OWN_NOTIFICATIONS}
# Requests: the organisation-wide queue.
ADMIN_ONLY = ADMIN_ONLY | {Action.VIEW_ALL_REQUESTS}


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
    results (and service levels) for their own unit and its relationships, the
    campaign response rates of their own unit only, and acts on their own unit's
    agreements and edits its part of the map (results, links, the unit's name); a
    member sees their own unit's summary; leads and members use requests and work
    their own unit's inbox, outbox and thanks wall; a viewer sees the map only. A
    unit-scoped action without a unit is refused for everyone but admins, so
    forgetting the unit never widens access.
    """
    if principal.role is AccountRole.ADMIN:
        return True
    if action in EVERYONE:
        return True
    if action is Action.ACT_ON_AGREEMENTS:
        # Only the lead of the unit itself acts for it (never for a related unit).
        return (
            principal.role is AccountRole.LEAD
            and unit_id is not None
            and unit_id == principal.unit_id
        )
    if action in (Action.EDIT_MAP_OF_UNIT, Action.NAME_UNIT):
        # As for agreements: only the lead of the unit itself, never a related unit's.
        return (
            principal.role is AccountRole.LEAD
            and unit_id is not None
            and unit_id == principal.unit_id
        )
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
        if action in OWN_UNIT_ONLY:
            return unit_id == own
        return unit_id == own or unit_id in related
    if principal.role is AccountRole.MEMBER:
        return action is Action.VIEW_UNIT_SUMMARY and unit_id == own
    return False


def allows_relationship(principal: Principal, action: Action, provider: str, customer: str) -> bool:
    """Whether ``principal`` may do a relationship-scoped ``action`` on the relationship
    of ``provider`` and ``customer``: admins always; the members and leads of either
    side may view it; only the leads of either side work on it. Being related to one of
    the two units is not enough: a relationship's workspace belongs to its two sides."""
    if principal.role is AccountRole.ADMIN:
        return True
    if action not in RELATIONSHIP_SCOPED or principal.unit_id not in (provider, customer):
        return False
    if action is Action.VIEW_RELATIONSHIP:
        return principal.role in (AccountRole.LEAD, AccountRole.MEMBER)
    return principal.role is AccountRole.LEAD
