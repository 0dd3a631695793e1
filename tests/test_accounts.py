"""Accounts, passwords, sessions and sign-in limits in the service layer, on both
databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from tests.conftest import TEST_SECURITY
from tests.signin import PASSWORD, make_account
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.person import Person, Role
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services import accounts, audit
from valuechain.services.audit import Actor
from valuechain.services.security import (
    OWASP_MIN_MEMORY_KIB,
    OWASP_MIN_PARALLELISM,
    OWASP_MIN_TIME_COST,
    PasswordHashing,
    Security,
    SignInLimits,
)
from valuechain.store.accounts import SESSIONS
from valuechain.store.database import make_engine

ACTOR = Actor(None, "test", "test")


def with_security(vc: Valuechain, security: Security) -> Valuechain:
    """The same organisation opened through a second engine (another app process)."""
    url = vc.engine.url.render_as_string(hide_password=False)
    return Valuechain(
        make_engine(url, create=True), vc.organisation, security=security, create=True
    )


def test_production_hashing_is_argon2id_above_owasp_minimum() -> None:
    params = PasswordHashing()
    assert params.memory_kib >= OWASP_MIN_MEMORY_KIB
    assert params.time_cost >= OWASP_MIN_TIME_COST
    assert params.parallelism >= OWASP_MIN_PARALLELISM
    assert Security().hashing == params
    # Weaker parameters exist only when a test asks for them by name.
    with pytest.raises(ValueError, match="OWASP"):
        PasswordHashing(time_cost=1)
    with pytest.raises(ValueError, match="OWASP"):
        PasswordHashing(memory_kib=8 * 1024)


def test_production_hash_format(tmp_path: object) -> None:
    vc = Valuechain.open(f"sqlite:///{tmp_path}/prod.db", create=True)
    assert accounts.hash_password(vc, PASSWORD).startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    vc.engine.dispose()


def test_create_account_checks_and_links_a_person(vc: Valuechain) -> None:
    vc.write_map(
        OrganisationMap(
            units=[Unit("ops", "Operations", UnitKind.TEAM)],
            people=[Person("p1", "Ada Lovelace", "ada@example.org", "ops", Role.LEAD)],
        )
    )
    lead = make_account(vc, " Ada@Example.ORG ", AccountRole.LEAD, person_id="p1")
    assert (lead.email, lead.role, lead.unit_id, lead.name) == (
        "ada@example.org",
        AccountRole.LEAD,
        "ops",
        "ada",
    )
    for email, password, person, message in (
        ("ada@example.org", PASSWORD, None, "already an account"),
        ("ADA@example.org", PASSWORD, None, "already an account"),
        ("not-an-email", PASSWORD, None, "not an email address"),
        ("", PASSWORD, None, "required"),
        ("bob@example.org", "short", None, "at least 12 characters"),
        ("bob@example.org", PASSWORD, "p404", "no person with the id 'p404'"),
    ):
        with pytest.raises(accounts.AccountError, match=message):
            accounts.create_account(
                vc, email, password, AccountRole.MEMBER, ACTOR, person_id=person
            )
    assert [a.email for a in accounts.list_accounts(vc)] == ["ada@example.org"]


def test_first_admin_only_once(vc: Valuechain) -> None:
    assert accounts.needs_setup(vc)
    accounts.create_account(
        vc, "first@example.org", PASSWORD, AccountRole.ADMIN, ACTOR, first_admin=True
    )
    assert not accounts.needs_setup(vc)
    with pytest.raises(accounts.SetupDone):
        accounts.create_account(
            vc, "second@example.org", PASSWORD, AccountRole.ADMIN, ACTOR, first_admin=True
        )


def test_sign_in_stores_only_the_token_hash_and_rotates(vc: Valuechain) -> None:
    account = make_account(vc)
    first = accounts.sign_in(vc, "ADMIN@example.org", PASSWORD, address="10.0.0.1")
    assert len(first.token) >= 43  # 32 random bytes, URL-safe base64
    assert accounts.session_account(vc, first.token) == account
    with vc.engine.connect() as conn:
        stored = conn.execute(select(SESSIONS.c.token_hash)).scalars().all()
    assert first.token not in stored and accounts.token_hash(first.token) in stored
    assert first.csrf_token not in stored and first.csrf_token != first.token

    # Signing in again ends the session the client held before.
    second = accounts.sign_in(
        vc, "admin@example.org", PASSWORD, address="10.0.0.1", replacing=first.token
    )
    assert accounts.session_account(vc, first.token) is None
    assert accounts.session_account(vc, second.token) == account

    accounts.sign_out(vc, second.token, Actor(account.id, account.email, "10.0.0.1"))
    assert accounts.session_account(vc, second.token) is None
    assert accounts.session_account(vc, "") is None
    assert accounts.session_account(vc, "x" * 500) is None


def test_expired_session_signs_no_one_in(vc: Valuechain) -> None:
    make_account(vc)
    started = accounts.sign_in(vc, "admin@example.org", PASSWORD, address=None)
    with vc.engine.begin() as conn:
        conn.execute(update(SESSIONS).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert accounts.session_account(vc, started.token) is None


def test_wrong_password_unknown_email_and_demo_account_are_refused_alike(vc: Valuechain) -> None:
    make_account(vc)
    accounts.create_account(vc, "demo@example.org", None, AccountRole.ADMIN, ACTOR)
    messages = set()
    for email, password in (
        ("admin@example.org", "wrong password!"),
        ("nobody@example.org", PASSWORD),
        ("demo@example.org", ""),
    ):
        with pytest.raises(accounts.SignInRefused) as refused:
            accounts.sign_in(vc, email, password, address="10.0.0.2")
        messages.add(str(refused.value))
    assert messages == {accounts.SIGN_IN_REFUSED}
    details = [e.detail for e in audit.read_page(vc).events if e.outcome == audit.REFUSED]
    assert sorted(details) == ["no such account", "wrong password", "wrong password"]


def test_sign_in_limit_per_account_shared_by_processes(vc: Valuechain) -> None:
    # A long first delay, so that the check below does not race the clock.
    minutes = timedelta(minutes=15)
    limits = SignInLimits(
        per_account=3, per_address=100, window=minutes, first_delay=minutes, account_cap=minutes
    )
    one = with_security(vc, replace(TEST_SECURITY, limits=limits))
    other = with_security(vc, replace(TEST_SECURITY, limits=limits))
    make_account(one)
    for process in (one, other, one):
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in(process, "admin@example.org", "wrong password!", address="10.0.0.3")
    # Over the limit: held back even with the right password, from any process.
    with pytest.raises(accounts.TooManyAttempts) as limited:
        accounts.sign_in(other, "admin@example.org", PASSWORD, address="10.0.0.4")
    assert 0 < limited.value.retry_after <= 15 * 60
    assert "15 minutes" in str(limited.value)
    outcomes = [e.outcome for e in audit.read_page(vc).events]
    assert outcomes.count(audit.RATE_LIMITED) == 1 and outcomes.count(audit.REFUSED) == 3

    # When the failures age out of the window, sign-in works again and clears them.
    with vc.engine.begin() as conn:
        conn.execute(
            text("UPDATE sign_in_failures SET at = :at WHERE org_id = :org"),
            {"at": datetime.now(UTC) - timedelta(minutes=16), "org": vc.org_id},
        )
    accounts.sign_in(other, "admin@example.org", PASSWORD, address="10.0.0.4")
    for process in (one, other):
        process.engine.dispose()


def test_sign_in_limit_per_address_across_accounts(vc: Valuechain) -> None:
    limits = SignInLimits(
        per_account=100,
        per_address=2,
        window=timedelta(minutes=15),
        first_delay=timedelta(minutes=1),
    )
    limited_vc = with_security(vc, replace(TEST_SECURITY, limits=limits))
    make_account(limited_vc)
    for email in ("a@example.org", "b@example.org"):
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in(limited_vc, email, PASSWORD, address="192.0.2.7")
    with pytest.raises(accounts.TooManyAttempts):
        accounts.sign_in(limited_vc, "admin@example.org", PASSWORD, address="192.0.2.7")
    # Another address is not held back.
    accounts.sign_in(limited_vc, "admin@example.org", PASSWORD, address="192.0.2.8")
    limited_vc.engine.dispose()


def test_weaker_hashes_are_upgraded_at_sign_in(vc: Valuechain) -> None:
    make_account(vc)  # hashed with the test suite's cheap parameters
    stronger = PasswordHashing(time_cost=2, memory_kib=19 * 1024, parallelism=1)
    upgraded = with_security(vc, replace(TEST_SECURITY, hashing=stronger))
    accounts.sign_in(upgraded, "admin@example.org", PASSWORD, address=None)
    with vc.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT password_hash FROM accounts WHERE org_id = :org"), {"org": vc.org_id}
        ).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    accounts.sign_in(vc, "admin@example.org", PASSWORD, address=None)  # still the same password
    upgraded.engine.dispose()


def test_update_role_person_disable_and_password(vc: Valuechain) -> None:
    vc.write_map(
        OrganisationMap(
            units=[Unit("ops", "Operations", UnitKind.TEAM)],
            people=[Person("p1", "Ada Lovelace", "ada@example.org", "ops", Role.LEAD)],
        )
    )
    account = make_account(vc, "ada@example.org", AccountRole.VIEWER)
    started = accounts.sign_in(vc, "ada@example.org", PASSWORD, address=None)

    promoted = accounts.update_account(
        vc, "ADA@example.org", ACTOR, role=AccountRole.LEAD, person_id="p1"
    )
    assert (promoted.role, promoted.unit_id) == (AccountRole.LEAD, "ops")
    # A role change applies to the running session at once.
    current = accounts.session_account(vc, started.token)
    assert current is not None and current.role is AccountRole.LEAD

    accounts.update_account(vc, "ada@example.org", ACTOR, active=False)
    assert accounts.session_account(vc, started.token) is None
    with pytest.raises(accounts.SignInRefused):
        accounts.sign_in(vc, "ada@example.org", PASSWORD, address=None)
    accounts.update_account(vc, "ada@example.org", ACTOR, active=True, person_id=None)

    again = accounts.sign_in(vc, "ada@example.org", PASSWORD, address=None)
    new_password = "a different long password"
    accounts.update_account(vc, "ada@example.org", ACTOR, password=new_password)
    assert accounts.session_account(vc, again.token) is None
    with pytest.raises(accounts.SignInRefused):
        accounts.sign_in(vc, "ada@example.org", PASSWORD, address=None)
    assert (
        accounts.sign_in(vc, "ada@example.org", new_password, address=None).account.id == account.id
    )

    for kwargs, message in (
        ({"password": "short"}, "at least 12"),
        ({"person_id": "p404"}, "no person with the id 'p404'"),
    ):
        with pytest.raises(accounts.AccountError, match=message):
            accounts.update_account(vc, "ada@example.org", ACTOR, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(accounts.AccountError, match=r"no account for nobody@example\.org"):
        accounts.update_account(vc, "nobody@example.org", ACTOR, active=False)
    changes = [e.detail for e in audit.read_page(vc).events if e.action == audit.ACCOUNT_CHANGED]
    assert changes == [
        "new password, 1 session ended",
        "no person, enabled",
        "disabled, 1 session ended",
        "role lead, person p1",
    ]
