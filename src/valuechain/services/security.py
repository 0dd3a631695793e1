"""Settings of the trust layer: password hashing, sessions, sign-in limits.

The defaults are the production values. Tests may weaken the password hashing to
keep the suite fast, but only by saying so (``for_tests=True``); nothing else can
create parameters below OWASP's minimum."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

# OWASP Password Storage Cheat Sheet, argon2id: m=19 MiB, t=2, p=1 at least.
OWASP_MIN_MEMORY_KIB = 19 * 1024
OWASP_MIN_TIME_COST = 2
OWASP_MIN_PARALLELISM = 1


@dataclass(frozen=True)
class PasswordHashing:
    """argon2id parameters. The default is RFC 9106's second recommended option
    (t=3, m=64 MiB, p=4), above OWASP's minimum on every axis."""

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 4
    for_tests: bool = False

    def __post_init__(self) -> None:
        weak = (
            self.time_cost < OWASP_MIN_TIME_COST
            or self.memory_kib < OWASP_MIN_MEMORY_KIB
            or self.parallelism < OWASP_MIN_PARALLELISM
        )
        if weak and not self.for_tests:
            raise ValueError(
                "argon2id parameters below OWASP's minimum (m=19 MiB, t=2, p=1) are "
                "allowed in tests only (for_tests=True)"
            )


# Cheap enough for hundreds of hashes in a test run; never used outside tests.
TEST_HASHING = PasswordHashing(time_cost=1, memory_kib=8, parallelism=1, for_tests=True)


@dataclass(frozen=True)
class SignInLimits:
    """Failed sign-ins slow further attempts down; they never lock an account.

    Failures count within ``window``. Once an account has ``per_account`` of them,
    every attempt on it (any address, any password) waits ``first_delay`` after its
    latest failure, doubled for each failure beyond ``per_account``, at most
    ``account_cap``: short, so an attacker cannot keep the owner out. Once an address
    has ``per_address`` failures (on any accounts), every attempt from it waits the
    same way, at most ``address_cap``. Attempts made while waiting are answered 429
    without checking the password and do not count as failures."""

    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)
    first_delay: timedelta = timedelta(seconds=1)
    account_cap: timedelta = timedelta(seconds=30)
    address_cap: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Security:
    """Everything the trust layer can be tuned by."""

    hashing: PasswordHashing = field(default_factory=PasswordHashing)
    session_lifetime: timedelta = timedelta(hours=12)
    limits: SignInLimits = field(default_factory=SignInLimits)
