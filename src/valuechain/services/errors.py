"""Errors a user can cause; the edges turn them into clear messages, never tracebacks.

Every error says what kind of mistake it is by its base class, and every kind carries
its HTTP status and a short title (class attributes), so the edges answer it the same
way everywhere (:mod:`valuechain.edge.errors`; the table is in docs/api.md):

=================  ======  ==================================================
kind               status  meaning
=================  ======  ==================================================
``Invalid``        422     the input is wrong; the same input never works
``NotSignedIn``    401     no valid session, or the sign-in was refused
``Forbidden``      403     signed in, but not allowed to see or do this
``NotFound``       404     a unit, request or other object named does not exist
``Conflict``       409     the input is fine, the current state does not allow it
``Gone``           410     it existed and can no longer be used (a spent link)
``TooMany``        429     too many attempts; try again after ``retry_after``
``Upstream``       502     a server Valuechain depends on failed (mail, SSO)
=================  ======  ==================================================

A service raises the kind (or a subclass named after its capability); an error of
no kind (``ValuechainError`` itself) answers 400.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ValuechainError(Exception):
    """Base for every error an edge shows to its user as a message."""

    #: The HTTP status an edge answers this error with.
    status: ClassVar[int] = 400
    #: A short, fixed title of the kind of mistake (problem+json ``title``).
    title: ClassVar[str] = "Bad request"

    def extensions(self) -> dict[str, Any]:
        """Members an answer carries besides the message (e.g. ``retry_after``)."""
        return {}


class Invalid(ValuechainError):
    """The input itself is wrong (a bad value, a missing field): fix it and retry."""

    status = 422
    title = "Invalid input"


class NotSignedIn(ValuechainError):
    """The request carries no valid session: sign in first."""

    status = 401
    title = "Not signed in"

    def __init__(self, message: str = "Sign in to continue.") -> None:
        super().__init__(message)


class Forbidden(ValuechainError):
    """The principal is signed in but is not allowed to see or do this."""

    status = 403
    title = "Not allowed"


class NotFound(ValuechainError):
    """A unit, result or other object named by the user does not exist."""

    status = 404
    title = "Not found"


class Conflict(ValuechainError):
    """The input is fine but the current state does not allow it (already closed,
    already settled, a step out of order)."""

    status = 409
    title = "Not possible now"


class Gone(ValuechainError):
    """The object existed and can no longer be used (an answered survey link)."""

    status = 410
    title = "No longer available"


class TooMany(ValuechainError):
    """Too many attempts; ``retry_after`` seconds until the next one is accepted."""

    status = 429
    title = "Too many attempts"
    #: Seconds until another attempt is accepted (answered as ``Retry-After``).
    retry_after: int = 0

    def extensions(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}


class Upstream(ValuechainError):
    """A server Valuechain depends on (mail, the SSO provider) failed or refused."""

    status = 502
    title = "Another server failed"


#: Every kind, most specific status first (for the docs and the tests).
KINDS: tuple[type[ValuechainError], ...] = (
    Invalid,
    NotSignedIn,
    Forbidden,
    NotFound,
    Conflict,
    Gone,
    TooMany,
    Upstream,
)
