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
    """Failed sign-ins allowed per account and per client address within ``window``;
    beyond them sign-in answers 429 until the oldest failure leaves the window."""

    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Security:
    """Everything the trust layer can be tuned by."""

    hashing: PasswordHashing = field(default_factory=PasswordHashing)
    session_lifetime: timedelta = timedelta(hours=12)
    limits: SignInLimits = field(default_factory=SignInLimits)
