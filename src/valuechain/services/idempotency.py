"""Idempotent state-changing requests (the ``Idempotency-Key`` header, after the IETF
draft *The Idempotency-Key HTTP Header Field*).

A caller sends a key with a request that changes something. The first request with
that key does the change and its answer (status and body) is stored under the key; a
replay with the same key and the same body gets the stored answer back and changes
nothing; the same key with another body, method or path is refused
(:class:`KeyReused`, HTTP 422). Keys belong to one caller (``scope``, the account):
two callers never share a key.

**Guarantee.** The key is claimed, the change is made and the answer is stored in
*one* database transaction, so after any crash either all three are there or none
is: never a change without its stored answer (a replay would repeat it) and never a
stored answer without its change (a replay would claim something that did not
happen). An exception in the route rolls all of it back, so the caller may retry
with the same key. Two concurrent requests with the same key are serialised by the
key's primary key: the second waits for the first to commit, then gets its answer
(the first statement of the unit claims the key; on SQLite the unit holds the write
lock from its start, so a read never has to be upgraded to a write).
On SQLite these transactions are committed with ``PRAGMA synchronous=FULL``, so an
acknowledged answer also survives a power loss, not only a process crash.

Usage from any edge (see :mod:`valuechain.api.idempotency` for FastAPI)::

    with idempotent(vc, request) as attempt:
        if attempt.replay is not None:
            return attempt.replay            # the stored answer
        change_something(attempt.conn)       # in the same transaction
        attempt.record(201, json_text)       # stored with the change
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import Connection

from valuechain.services.errors import Invalid
from valuechain.services.organisation import Valuechain
from valuechain.services.transaction import writing
from valuechain.store import idempotency as store

MAX_KEY_LENGTH = 255
# How long a stored answer is replayed; older keys may be purged (purge_expired).
KEEP_FOR = timedelta(hours=24)


class KeyReused(Invalid):
    """An idempotency key sent again with a different request."""

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request "
            "(another body, method or path). Use a new key for a new request."
        )


class InvalidKey(Invalid):
    """An idempotency key that is empty, too long or not printable ASCII."""


@dataclass(frozen=True)
class IdempotentRequest:
    """What identifies a request: who sends it (``scope``), its key, and its
    fingerprint (method, path and the SHA-256 of the body)."""

    scope: str
    key: str
    method: str
    path: str
    body_sha256: str

    @classmethod
    def of(
        cls,
        *,
        scope: str,
        key: str,
        method: str,
        path: str,
        body: bytes,
        secret: bytes | None = None,
    ) -> IdempotentRequest:
        """Build one from the raw request; raises :class:`InvalidKey`. With a
        ``secret`` the body's fingerprint is an HMAC-SHA256 keyed by it (a survey
        link's token: the stored fingerprint of a survey answer must not let anybody
        try candidate answers against it)."""
        if not key or len(key) > MAX_KEY_LENGTH or not all(" " <= c <= "~" for c in key):
            raise InvalidKey(
                f"An Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters."
            )
        if secret is None:
            digest = hashlib.sha256(body).hexdigest()
        else:
            digest = hmac.new(secret, body, "sha256").hexdigest()
        return cls(scope, key, method.upper(), path, digest)


@dataclass(frozen=True)
class StoredResponse:
    """An answer stored under a key."""

    status_code: int
    media_type: str
    body: str


class Attempt:
    """The state of one idempotent request inside its transaction: either a
    ``replay`` (the stored answer; do nothing) or a fresh run whose change goes
    through ``conn`` and whose answer is stored with :meth:`record`."""

    def __init__(
        self,
        conn: Connection,
        org_id: int,
        request: IdempotentRequest | None,
        replay: StoredResponse | None,
    ) -> None:
        self.conn = conn
        self.replay = replay
        self._org_id = org_id
        self._request = request
        self.recorded: StoredResponse | None = None

    def record(
        self, status_code: int, body: str, media_type: str = "application/json"
    ) -> StoredResponse:
        """Store the answer with the change (a no-op store without a key); returns it."""
        if self.replay is not None:
            raise RuntimeError("a replayed request records nothing")
        answer = StoredResponse(status_code, media_type, body)
        if self._request is not None:
            store.complete(
                self.conn,
                self._org_id,
                scope=self._request.scope,
                key=self._request.key,
                status_code=status_code,
                media_type=media_type,
                response_body=body,
            )
        self.recorded = answer
        return answer


def _replay(row: Any, request: IdempotentRequest) -> StoredResponse:
    same = (
        row.method == request.method
        and row.path == request.path
        and row.request_sha256 == request.body_sha256
    )
    if not same:
        raise KeyReused()
    return StoredResponse(int(row.status_code), row.media_type, row.response_body)


@contextmanager
def idempotent(vc: Valuechain, request: IdempotentRequest | None) -> Iterator[Attempt]:
    """One durable writing unit of work for an idempotent request (see the module's
    guarantee); the body's service calls join it.

    Without a key (``request`` is ``None``) the body simply runs in the unit. With a
    key: a stored answer for the same request is yielded as ``replay``; one for a
    different request raises :class:`KeyReused`; otherwise the key is claimed and the
    body must call :meth:`Attempt.record` before the unit commits.
    """
    with writing(vc, durable=True) as conn:
        attempt = _start(conn, vc.org_id, request)
        yield attempt
        if attempt.replay is None and attempt.recorded is None:
            raise RuntimeError("an idempotent request must record its answer")


def _start(conn: Connection, org_id: int, request: IdempotentRequest | None) -> Attempt:
    if request is None:
        return Attempt(conn, org_id, None, None)
    # Claim first: one statement when the key is new. A concurrent claim of the same
    # key waits here until the first commits, then finds its answer.
    claimed = store.claim(
        conn,
        org_id,
        scope=request.scope,
        key=request.key,
        method=request.method,
        path=request.path,
        request_sha256=request.body_sha256,
        at=datetime.now(UTC),
    )
    if claimed:
        return Attempt(conn, org_id, request, None)
    row = store.find(conn, org_id, request.scope, request.key)
    if row is None:  # pragma: no cover - the key was purged between the two statements
        raise RuntimeError("could not claim an idempotency key")
    return Attempt(conn, org_id, request, _replay(row, request))


Result = TypeVar("Result", bound=Mapping[str, Any])


def run_once(
    vc: Valuechain,
    *,
    scope: str,
    key: str | None,
    command: str,
    arguments: Mapping[str, Any],
    change: Callable[[], Result],
    secret: bytes | None = None,
) -> Result:
    """Run ``change`` (a use case whose writes join the unit) once per ``key``: the
    command line's edge of this mechanism. The fingerprint is the command's name and
    its arguments as canonical JSON; a replay returns the stored result, another
    command or other arguments under the same key raise :class:`KeyReused`. Without
    a key ``change`` simply runs. ``secret``: see :meth:`IdempotentRequest.of`."""
    request = (
        None
        if key is None
        else IdempotentRequest.of(
            scope=scope,
            key=key,
            method="COMMAND",
            path=command,
            body=json.dumps(arguments, sort_keys=True, default=str).encode(),
            secret=secret,
        )
    )
    with idempotent(vc, request) as attempt:
        if attempt.replay is not None:
            # The stored result is the JSON of a ``Result`` the first run returned.
            return cast(Result, json.loads(attempt.replay.body))
        result = change()
        attempt.record(200, json.dumps(result, default=str))
        return result


def purge_expired(vc: Valuechain, keep_for: timedelta = KEEP_FOR) -> int:
    """Delete keys older than ``keep_for`` (a job calls this); the number deleted."""
    with writing(vc) as conn:
        return store.purge_before(conn, vc.org_id, datetime.now(UTC) - keep_for)


# Used by edges to name a caller's keys.
def account_scope(account_id: str) -> str:
    """The scope of an account's keys."""
    return f"account:{account_id}"


def link_scope(token: str) -> str:
    """The scope of a survey link's keys: an HMAC keyed by the token, which the
    database does not hold, so a stored key says nothing about which invitation (or
    stored token hash) it belongs to."""
    return "link:" + hmac.new(token.encode(), b"survey idempotency scope", "sha256").hexdigest()


def command_scope(actor: str) -> str:
    """The scope of keys given on the command line by ``actor`` (the column holds
    100 characters)."""
    return f"command:{actor}"[:100]
