"""The one authorisation layer: pages, the API and exports all ask :func:`authorise`.

The rules themselves are the pure policy in :mod:`valuechain.domain.access`; this
module adds what needs the database: which units are in a relationship with the
principal's unit."""

from __future__ import annotations

from valuechain.domain.access import Action, Principal, allows, allows_relationship
from valuechain.domain.account import AccountRole
from valuechain.services import errors
from valuechain.services.errors import NotFound, NotSignedIn
from valuechain.services.organisation import Valuechain
from valuechain.services.partner.relationship import require


class Forbidden(errors.Forbidden):
    """The principal is signed in but their role does not allow this."""

    def __init__(self, action: Action) -> None:
        self.action = action
        super().__init__("Your account is not allowed to see or do this.")


def related_units(vc: Valuechain, unit_id: str | None) -> frozenset[str]:
    """The units in a relationship with ``unit_id``: its direct customers and its
    suppliers (empty for no unit, or a unit no longer on the map)."""
    if unit_id is None:
        return frozenset()
    try:
        customers = {row["unit"] for row in vc.customers(unit_id)["direct"]}
        suppliers = {row["unit"] for row in vc.suppliers(unit_id)}
    except NotFound:
        return frozenset()
    return frozenset(customers | suppliers)


def may(vc: Valuechain, principal: Principal, action: Action, unit_id: str | None = None) -> bool:
    """Whether ``principal`` may do ``action`` (about ``unit_id`` when it is scoped)."""
    # Only a lead's answer depends on relationships; skip the graph for the rest.
    related = (
        related_units(vc, principal.unit_id)
        if principal.role is AccountRole.LEAD and unit_id is not None
        else frozenset()
    )
    return allows(principal, action, unit_id, related)


def authorise(
    vc: Valuechain, principal: Principal | None, action: Action, unit_id: str | None = None
) -> Principal:
    """``principal`` when it may do ``action``; raises :class:`NotSignedIn` for no
    principal and :class:`Forbidden` when the policy says no."""
    if principal is None:
        raise NotSignedIn()
    if not may(vc, principal, action, unit_id):
        raise Forbidden(action)
    return principal


def authorise_relationship(
    vc: Valuechain,
    principal: Principal | None,
    action: Action,
    provider: str,
    customer: str,
    *,
    results: bool = False,
) -> Principal:
    """``principal`` when it may do ``action`` on the provider–customer relationship.

    A relationship that is not on the map raises :class:`NotFound` for every role,
    admins included, before anything about it is read (its two units' own pages stay
    the only place their numbers are shown). With ``results`` the principal must also
    see both units' survey results (``view_unit_results``), as for a unit's report."""
    if principal is None:
        raise NotSignedIn()
    require(vc, provider, customer)
    if not allows_relationship(principal, action, provider, customer):
        raise Forbidden(action)
    if results:
        for unit in (provider, customer):
            if not may(vc, principal, Action.VIEW_UNIT_RESULTS, unit):
                raise Forbidden(Action.VIEW_UNIT_RESULTS)
    return principal
