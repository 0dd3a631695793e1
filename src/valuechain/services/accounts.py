"""Accounts, sign-in and sessions.

Passwords are hashed with argon2id (parameters in :mod:`valuechain.services.security`).
A session is a random 256-bit token held by the client; the database keeps only its
SHA-256, so neither a copy of the database nor its logs sign anyone in. Failed
sign-ins are counted in the database per account and per client address, so several
app processes enforce one limit; they delay further attempts (capped), never lock.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from valuechain.domain.access import Principal
from valuechain.domain.account import (
    Account,
    AccountRole,
    email_problem,
    normalise_email,
    password_problem,
)
from valuechain.services import audit
from valuechain.services.audit import Actor
from valuechain.services.errors import Conflict, Invalid, NotSignedIn, TooMany
from valuechain.services.organisation import Valuechain
from valuechain.services.security import PasswordHashing
from valuechain.services.transaction import reading, writing
from valuechain.store import accounts as store

SIGN_IN_REFUSED = "The email address or the password is not right."


class AccountError(Invalid):
    """An account cannot be created or changed as asked (bad email, short password,
    email taken, unknown person)."""


class SetupDone(Conflict):
    """First-run setup was asked for, but the organisation already has an account."""


class SignInRefused(NotSignedIn):
    """Wrong email or password, or an inactive account; deliberately one message so
    a caller cannot learn which accounts exist."""

    def __init__(self) -> None:
        super().__init__(SIGN_IN_REFUSED)


class TooManyAttempts(TooMany):
    """Too many failed sign-ins for this account or from this address; try again in
    ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        if retry_after < 60:
            amount, unit = retry_after, "second"
        else:
            amount, unit = math.ceil(retry_after / 60), "minute"
        super().__init__(
            "Too many failed sign-in attempts. Please wait "
            f"{amount} {unit}{'s' if amount != 1 else ''} and try again."
        )


@dataclass(frozen=True)
class NewSession:
    """A session just started: give ``token`` to the client (cookie or bearer) and
    put ``csrf_token`` in its forms."""

    token: str
    csrf_token: str
    expires_at: datetime
    account: Account


def _hasher(params: PasswordHashing) -> PasswordHasher:
    return PasswordHasher(
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        type=Type.ID,
    )


def hash_password(vc: Valuechain, password: str) -> str:
    """The argon2id hash (PHC string, with its own random salt) of ``password``."""
    return _hasher(vc.security.hashing).hash(password)


def token_hash(token: str) -> str:
    """What the database stores for a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(token: str) -> str:
    """The CSRF token of the session with ``token``: derived from the token (so it
    needs no storage and dies with the session) under a different key from the
    stored hash, so the database does not reveal it either."""
    return hmac.new(token.encode(), b"valuechain csrf", hashlib.sha256).hexdigest()


def principal(account: Account, *, demo: bool = False) -> Principal:
    """The account as the access policy sees it."""
    return Principal(
        account_id=account.id,
        email=account.email,
        name=account.name,
        role=account.role,
        unit_id=account.unit_id,
        demo=demo,
    )


# -- accounts ------------------------------------------------------------------------


def needs_setup(vc: Valuechain) -> bool:
    """True while the organisation has no account at all (first run)."""
    with reading(vc) as conn:
        return store.count_accounts(conn, vc.org_id) == 0


def list_accounts(vc: Valuechain) -> list[Account]:
    """Every account of the organisation, by email."""
    with reading(vc) as conn:
        return store.list_accounts(conn, vc.org_id)


def people(vc: Valuechain) -> list[tuple[str, str, str, str, str]]:
    """Every person on the map as (id, name, email, unit id, unit name), by name: what
    an account may be linked to."""
    with reading(vc) as conn:
        return store.people_names(conn, vc.org_id)


def directory(
    vc: Valuechain,
) -> tuple[list[Account], list[tuple[str, str, str, str, str]]]:
    """Every account (by email) and every person on the map (as :func:`people`), read
    in one transaction for the accounts page."""
    with reading(vc) as conn:
        return store.list_accounts(conn, vc.org_id), store.people_names(conn, vc.org_id)


def create_account(
    vc: Valuechain,
    email: str,
    password: str | None,
    role: AccountRole,
    actor: Actor,
    *,
    name: str | None = None,
    person_id: str | None = None,
    first_admin: bool = False,
    account_id: str | None = None,
) -> Account:
    """Create an account and record it in the audit log, in one transaction.
    ``account_id`` is for the demo's own accounts only (its admin and personas, ids
    with ``domain.account.DEMO_ACCOUNT_PREFIX``); every other account gets a random id.

    ``password`` ``None`` makes an account that cannot sign in with a password (the
    demo admin). With ``first_admin`` the account is created only if the organisation
    has none yet (first-run setup), else :class:`SetupDone` is raised. Raises
    :class:`AccountError` for a bad email or password, a taken email or an unknown
    person."""
    problem = email_problem(email)
    if problem is None and password is not None:
        problem = password_problem(password)
    if problem is not None:
        raise AccountError(problem)
    normal = normalise_email(email)
    password_hash = None if password is None else hash_password(vc, password)
    account_id = account_id or secrets.token_hex(16)
    try:
        with writing(vc) as conn:
            if first_admin:
                store.lock_organisation(conn, vc.org_id)
                if store.count_accounts(conn, vc.org_id):
                    raise SetupDone("setup is done: this organisation already has an account")
            if person_id is not None and not store.person_exists(conn, vc.org_id, person_id):
                raise AccountError(f"there is no person with the id {person_id!r} on the map")
            if store.account_by_email(conn, vc.org_id, normal) is not None:
                raise AccountError(f"there is already an account for {normal}")
            store.insert_account(
                conn,
                vc.org_id,
                id=account_id,
                email=normal,
                name=(name or "").strip() or normal.split("@", 1)[0],
                role=role.value,
                person_id=person_id,
                password_hash=password_hash,
                active=True,
                created_at=datetime.now(UTC),
            )
            audit.record(
                vc,
                audit.SETUP if first_admin else audit.ACCOUNT_CREATED,
                actor,
                subject=normal,
                detail=f"role {role.value}" + (f", person {person_id}" if person_id else ""),
                conn=conn,
            )
            account = store.account_by_id(conn, vc.org_id, account_id)
    except IntegrityError:
        # Two creations of the same email raced; the other one won.
        raise AccountError(f"there is already an account for {normal}") from None
    assert account is not None
    return account


_UNCHANGED: Any = object()


def update_account(
    vc: Valuechain,
    email: str,
    actor: Actor,
    *,
    role: AccountRole | None = None,
    person_id: str | None = _UNCHANGED,
    active: bool | None = None,
    password: str | None = None,
) -> Account:
    """Change an account's role, person (``None`` unlinks), active flag or password,
    in one transaction with its audit event. Disabling an account or setting its
    password ends all its sessions (a role change takes effect at the next request
    anyway, because every request reads the account). Raises :class:`AccountError`
    for an unknown account or person, or a password that is not accepted."""
    if password is not None and (problem := password_problem(password)) is not None:
        raise AccountError(problem)
    normal = normalise_email(email)
    changes: dict[str, Any] = {}
    said: list[str] = []
    if role is not None:
        changes["role"] = role.value
        said.append(f"role {role.value}")
    if person_id is not _UNCHANGED:
        changes["person_id"] = person_id
        said.append(f"person {person_id}" if person_id else "no person")
    if active is not None:
        changes["active"] = active
        said.append("enabled" if active else "disabled")
    if password is not None:
        changes["password_hash"] = hash_password(vc, password)
        said.append("new password")
    with writing(vc) as conn:
        found = store.account_by_email(conn, vc.org_id, normal)
        if found is None:
            raise AccountError(f"there is no account for {normal}")
        account = found[0]
        if person_id not in (None, _UNCHANGED) and not store.person_exists(
            conn, vc.org_id, person_id
        ):
            raise AccountError(f"there is no person with the id {person_id!r} on the map")
        if changes:
            store.update_account(conn, vc.org_id, account.id, **changes)
            if active is False or password is not None:
                ended = store.delete_sessions_of(conn, vc.org_id, account.id)
                said.append(f"{ended} session{'s' if ended != 1 else ''} ended")
            audit.record(
                vc, audit.ACCOUNT_CHANGED, actor, subject=normal, detail=", ".join(said), conn=conn
            )
        updated = store.account_by_id(conn, vc.org_id, account.id)
    assert updated is not None
    return updated


# -- signing in ------------------------------------------------------------------------

# A hash of a password nobody knows: unknown emails are verified against it so that a
# wrong email takes as long as a wrong password.
_DUMMY: dict[PasswordHashing, str] = {}


def _dummy_hash(vc: Valuechain) -> str:
    params = vc.security.hashing
    if params not in _DUMMY:
        _DUMMY[params] = _hasher(params).hash(secrets.token_urlsafe(16))
    return _DUMMY[params]


def _retry_after(
    times: list[datetime], limit: int, first: timedelta, cap: timedelta, now: datetime
) -> int | None:
    """Seconds to wait after ``times`` (the failures in the window, oldest first):
    none below ``limit`` failures, else ``first`` after the latest one, doubled for
    each failure beyond ``limit``, at most ``cap``; ``None`` when that has passed."""
    if len(times) < limit:
        return None
    # min() before the power keeps the number small however many failures there are.
    delay = min(cap, first * 2 ** min(len(times) - limit, 30))
    left = (times[-1] + delay - now).total_seconds()
    return max(1, math.ceil(left)) if left > 0 else None


def sign_in(
    vc: Valuechain,
    email: str,
    password: str,
    *,
    address: str | None,
    user_agent: str | None = None,
    replacing: str | None = None,
) -> NewSession:
    """Check the password and start a session; the session with token ``replacing``
    (the one the client held before) ends, so a session id never survives sign-in.

    Raises :class:`TooManyAttempts` while the account or the address must wait after
    its failures (:class:`~valuechain.services.security.SignInLimits`; the password is
    not checked then), :class:`SignInRefused` for a wrong email or password. Every
    attempt lands in the audit log."""
    normal = normalise_email(email)
    limits = vc.security.limits
    now = datetime.now(UTC)
    account_key = f"account:{normal}"[:400]
    address_key = f"address:{address or 'unknown'}"
    attempt = Actor(None, normal[:400] or None, address)
    with writing(vc) as conn:
        store.delete_old_failures(conn, vc.org_id, now - limits.window)
        waits = [
            _retry_after(
                store.failures_since(conn, vc.org_id, key, now - limits.window),
                n,
                limits.first_delay,
                cap,
                now,
            )
            for key, n, cap in (
                (account_key, limits.per_account, limits.account_cap),
                (address_key, limits.per_address, limits.address_cap),
            )
        ]
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        audit.record(vc, audit.SIGN_IN, attempt, outcome=audit.RATE_LIMITED, subject=normal)
        raise TooManyAttempts(wait)

    with reading(vc) as conn:
        found = store.account_by_email(conn, vc.org_id, normal)
    hasher = _hasher(vc.security.hashing)
    stored_hash = found[1] if found is not None else None
    try:
        hasher.verify(stored_hash or _dummy_hash(vc), password)
        verified = stored_hash is not None
    except (VerificationError, InvalidHashError):
        verified = False
    if found is None or not verified or not found[0].active:
        with writing(vc) as conn:
            store.insert_failures(
                conn,
                vc.org_id,
                [
                    {"id": secrets.token_hex(16), "key": k, "at": now}
                    for k in (account_key, address_key)
                ],
            )
            audit.record(
                vc,
                audit.SIGN_IN,
                attempt,
                outcome=audit.REFUSED,
                subject=normal,
                detail="no such account"
                if found is None
                else ("inactive account" if verified else "wrong password"),
                conn=conn,
            )
        raise SignInRefused()

    account = found[0]
    with writing(vc) as conn:
        store.clear_failures(conn, vc.org_id, account_key)
        assert stored_hash is not None
        if hasher.check_needs_rehash(stored_hash):
            # Parameters were raised since this hash was made; upgrade it now, while
            # the password is at hand.
            store.set_password_hash(conn, vc.org_id, account.id, hasher.hash(password))
    return start_session(vc, account, address=address, user_agent=user_agent, replacing=replacing)


def start_session(
    vc: Valuechain,
    account: Account,
    *,
    address: str | None,
    user_agent: str | None = None,
    replacing: str | None = None,
    detail: str | None = None,
) -> NewSession:
    """Start a session for ``account`` (already authenticated by the caller), end the
    one with token ``replacing``, and record the sign-in."""
    now = datetime.now(UTC)
    token = secrets.token_urlsafe(32)  # 256 bits from the OS's CSPRNG
    expires = now + vc.security.session_lifetime
    with writing(vc) as conn:
        if replacing:
            store.delete_session(conn, vc.org_id, token_hash(replacing))
        store.delete_expired_sessions(conn, vc.org_id, now)
        store.insert_session(
            conn,
            vc.org_id,
            token_hash=token_hash(token),
            account_id=account.id,
            created_at=now,
            expires_at=expires,
            address=(address or None) and address[:64],
            user_agent=(user_agent or None) and user_agent[:300],
        )
        audit.record(
            vc,
            audit.SIGN_IN,
            Actor(account.id, account.email, address),
            subject=account.email,
            detail=detail,
            conn=conn,
        )
    return NewSession(token, csrf_token(token), expires, account)


def session_account(vc: Valuechain, token: str) -> Account | None:
    """The active account whose unexpired session has ``token``, else ``None``."""
    if not token or len(token) > 200:
        return None
    with reading(vc) as conn:
        return store.session_account(conn, vc.org_id, token_hash(token), datetime.now(UTC))


def sign_out(vc: Valuechain, token: str, actor: Actor) -> None:
    """End the session with ``token`` and record it; ending an ended session is a
    no-op that is not recorded."""
    with writing(vc) as conn:
        if store.delete_session(conn, vc.org_id, token_hash(token)):
            audit.record(vc, audit.SIGN_OUT, actor, subject=actor.label, conn=conn)


def account_by_email(vc: Valuechain, email: str) -> Account | None:
    """The account with ``email`` (compared normalised), if any."""
    with reading(vc) as conn:
        found = store.account_by_email(conn, vc.org_id, normalise_email(email))
    return None if found is None else found[0]


def account_by_id(vc: Valuechain, account_id: str) -> Account | None:
    """The account with ``account_id``, if any."""
    with reading(vc) as conn:
        return store.account_by_id(conn, vc.org_id, account_id)
