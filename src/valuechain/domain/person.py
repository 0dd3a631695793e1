"""People: members of units, with the role that decides what they may see."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

#: The domain of the pseudonymous email an erased person is left with (RFC 2606:
#: ``.invalid`` never resolves, so nothing is ever sent to it).
ERASED_DOMAIN = "erased.invalid"


class Role(StrEnum):
    """Admins run the organisation, leads run a unit, members belong to one."""

    ADMIN = "admin"
    LEAD = "lead"
    MEMBER = "member"


@dataclass(frozen=True, slots=True)
class Person:
    """A person who belongs to one unit."""

    id: str
    name: str
    email: str
    unit_id: str
    role: Role
