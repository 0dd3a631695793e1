"""Failed sign-ins slow attempts down but never lock the owner out: an attacker who
fails 50 times from one address leaves the owner, at another address, signing in
after at most the account's short, capped delay. Through the JSON API, on SQLite and
PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.signin import PASSWORD, make_account
from valuechain import Valuechain
from valuechain.services import accounts
from valuechain.services.security import SignInLimits
from valuechain.web.app import create_app

LIMITS = SignInLimits()  # the production values
ATTACKER = ("203.0.113.66", 40000)
OWNER = ("198.51.100.7", 40001)


@pytest.fixture
def app(vc: Valuechain) -> Iterator[object]:
    assert vc.security.limits == LIMITS
    make_account(vc)
    yield create_app(vc)


def _sign_in(client: TestClient, password: str) -> tuple[int, int | None]:
    answer = client.post(
        "/api/v1/session", json={"email": "admin@example.org", "password": password}
    )
    retry = answer.headers.get("retry-after")
    return answer.status_code, int(retry) if retry else None


def test_fifty_failures_from_one_address_do_not_lock_the_owner_out(
    vc: Valuechain, app: object
) -> None:
    with TestClient(app, client=ATTACKER) as attacker:  # type: ignore[arg-type]
        answers = [_sign_in(attacker, f"guess number {i}!") for i in range(50)]
    assert {status for status, _ in answers} <= {401, 429}
    refused = sum(status == 401 for status, _ in answers)
    assert refused >= LIMITS.per_account  # the attacker's guesses were checked, then slowed
    # An attempt made while waiting is not checked and does not count.
    with vc.engine.connect() as conn:
        counted = conn.execute(
            text("SELECT count(*) FROM sign_in_failures WHERE org_id = :org AND key = :key"),
            {"org": vc.org_id, "key": "account:admin@example.org"},
        ).scalar_one()
    assert counted == refused
    # The owner, elsewhere, waits at most the account's cap and is signed in.
    waited = 0.0
    with TestClient(app, client=OWNER) as owner:  # type: ignore[arg-type]
        status, retry = _sign_in(owner, PASSWORD)
        while status == 429:
            assert retry is not None and retry <= LIMITS.account_cap.total_seconds()
            time.sleep(retry)
            waited += retry
            status, retry = _sign_in(owner, PASSWORD)
    assert status == 201
    assert waited <= LIMITS.account_cap.total_seconds()


def test_delays_double_from_the_limit_and_stop_at_the_cap() -> None:
    now = datetime.now(UTC)
    first, cap = timedelta(seconds=1), timedelta(seconds=30)

    def wait(failures: int) -> int | None:
        times = [now - timedelta(milliseconds=failures - i) for i in range(failures)]
        return accounts._retry_after(times, 5, first, cap, now)

    assert [wait(n) for n in (0, 4)] == [None, None]
    assert [wait(n) for n in (5, 6, 7, 8, 9)] == [1, 2, 4, 8, 16]
    assert [wait(n) for n in (10, 11, 50, 10_000)] == [30, 30, 30, 30]
    # Once the delay after the latest failure has passed, nobody waits.
    later = now + timedelta(seconds=31)
    assert accounts._retry_after([now] * 50, 5, first, cap, later) is None


def test_a_throttled_address_waits_even_with_the_right_password(vc: Valuechain) -> None:
    make_account(vc)
    for i in range(LIMITS.per_address):
        # A different unknown account each time: only the address collects failures.
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in(vc, f"nobody{i}@example.org", "wrong!", address="203.0.113.9")
    with pytest.raises(accounts.TooManyAttempts) as limited:
        accounts.sign_in(vc, "admin@example.org", PASSWORD, address="203.0.113.9")
    assert limited.value.retry_after <= LIMITS.first_delay.total_seconds()
    # Another address signs in at once.
    accounts.sign_in(vc, "admin@example.org", PASSWORD, address="203.0.113.10")
