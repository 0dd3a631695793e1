"""Accounts: who may sign in, with the role that decides what they may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AccountRole(StrEnum):
    """What an account may do; see ``docs/access.md`` for the full table.

    Admins run the organisation, leads run one unit, members belong to one, viewers
    may look at the map only. A person's role in the bundle (``people.csv``) is a
    fact about the organisation; an account's role is a permission, set by an admin.
    """

    ADMIN = "admin"
    LEAD = "lead"
    MEMBER = "member"
    VIEWER = "viewer"


#: The most audit events one page shows (here, with no storage imported, so the
#: command line can offer it as an option's limit without loading the services).
MAX_AUDIT_PAGE = 500

#: The id of the demo's admin account. Only ``valuechain demo`` writes it, last, into a
#: database of its own (``services.demo``): it marks that database as the demo's, and
#: no app but the demo's accepts a session of it.
DEMO_ADMIN_ID = "valuechain-demo-admin"
#: The demo's accounts all have ids with this prefix: the admin and the personas a
#: visitor may "see it as" (``services.demo.DEMO_PERSONAS``).
DEMO_ACCOUNT_PREFIX = "valuechain-demo-"


#: Who a visitor of the demo may "see it as" (one click on every page of the demo):
#: key -> (what the button says, account role, the demo person, or None for a viewer).
#: The lead and member are of Assembly, the chain's bottleneck, whose pages have the
#: most to show.
DEMO_PERSONAS: dict[str, tuple[str, AccountRole, str | None]] = {
    "admin": ("the admin", AccountRole.ADMIN, None),
    "lead": ("a lead (Assembly)", AccountRole.LEAD, "person-020"),
    "member": ("a member (Assembly)", AccountRole.MEMBER, "person-021"),
    "viewer": ("a viewer", AccountRole.VIEWER, None),
}


def is_demo_account(account_id: str) -> bool:
    """Whether ``account_id`` is one of the demo's own accounts, whose sessions no app
    but the demo's accepts."""
    return account_id.startswith(DEMO_ACCOUNT_PREFIX)


@dataclass(frozen=True, slots=True)
class Account:
    """One account of one organisation. ``person_id`` links it to a person of the map
    and so to that person's unit; ``unit_id`` is that unit (``None`` when unlinked or
    when the person is no longer on the map)."""

    id: str
    email: str
    name: str
    role: AccountRole
    person_id: str | None
    unit_id: str | None
    active: bool
    created_at: datetime
    has_password: bool


def normalise_email(email: str) -> str:
    """The form an email is stored and compared in: trimmed and case-folded, so
    ``Ada@Example.org`` and ``ada@example.org `` are one account."""
    return email.strip().casefold()


def email_problem(email: str) -> str | None:
    """Why ``email`` cannot name an account, or ``None`` when it can. Deliberately
    loose (one ``@`` with text on both sides, no spaces): delivery is what proves an
    address, and a strict pattern refuses real ones."""
    text = email.strip()
    if not text:
        return "an email address is required"
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in text):
        return f"{email!r} is not an email address"
    if len(text) > 320:
        return "an email address has at most 320 characters"
    return None


MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


def password_problem(password: str) -> str | None:
    """Why ``password`` is not accepted for a new account, or ``None``.

    Length is the rule (NIST SP 800-63B §5.1.1.2: at least 8, no composition rules;
    we ask for 12); the upper bound keeps hashing cost bounded."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"a password has at most {MAX_PASSWORD_LENGTH} characters"
    return None
