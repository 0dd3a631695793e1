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
    # Agree: act on the agreements of one's own unit (propose, agree, review, capacity
    # shares and their negotiations) ...
    ACT_ON_AGREEMENTS = "act_on_agreements"
    # ... and see every agreement's commitment log and trust, organisation-wide.
    VIEW_ALL_COMMITMENTS = "view_all_commitments"


UNIT_SCOPED = frozenset({Action.VIEW_UNIT_SUMMARY, Action.VIEW_UNIT_RESULTS})
ADMIN_ONLY = frozenset(
    {
        Action.IMPORT,
        Action.EXPORT,
        Action.MANAGE_ACCOUNTS,
        Action.VIEW_AUDIT,
        Action.VIEW_ALL_COMMITMENTS,
    }
)
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
    results for their own unit and its relationships and acts on their own unit's
    agreements; a member sees their own unit's summary; a viewer sees the map only.
    A unit-scoped action without a unit is refused for everyone but admins, so
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
    if action in ADMIN_ONLY or action not in UNIT_SCOPED:
        return False
    own = principal.unit_id
    if unit_id is None or own is None:
        return False
    if principal.role is AccountRole.LEAD:
        return unit_id == own or unit_id in related
    if principal.role is AccountRole.MEMBER:
        return action is Action.VIEW_UNIT_SUMMARY and unit_id == own
    return False
