"""schemathesis against the OpenAPI schema of a real server.

Starts the app on a loopback uvicorn serving the demo organisation on a fresh SQLite
file, signs in as an admin, and calls every operation of ``/openapi.json`` with data
schemathesis generates from the schema (valid and invalid, through Hypothesis). Every
answer is checked with schemathesis' checks: no 5xx, status code, content type, headers
and body as the schema says, invalid data rejected and valid data accepted.

``.venv/bin/python -m bench.schemathesis_run --max-examples 200`` is the long run whose
result is in ``docs/benchmarks.md``; ``tests/test_schemathesis.py`` runs the same with a
short budget in CI.
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.services import accounts
from valuechain.services.audit import Actor
from valuechain.services.demo import ensure_demo
from valuechain.services.security import TEST_HASHING, Security
from valuechain.web.app import create_app

EMAIL = "fuzz-admin@example.org"
PASSWORD = "schemathesis fuzzing password"
# Signing out would end the session the run uses.
SKIPPED = {("DELETE", "/api/v1/session")}
IDEMPOTENCY = "Idempotency-Key"


@contextmanager
def demo_server(folder: Path) -> Iterator[tuple[str, str]]:
    """The demo organisation on uvicorn on a free loopback port; yields the base URL
    and an admin's bearer token."""
    vc = Valuechain.open(
        f"sqlite:///{folder / 'demo.db'}", security=Security(hashing=TEST_HASHING), create=True
    )
    ensure_demo(vc)
    accounts.create_account(vc, EMAIL, PASSWORD, AccountRole.ADMIN, Actor(None, "bench", "bench"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(create_app(vc), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        answer = httpx.post(f"{url}/api/v1/session", json={"email": EMAIL, "password": PASSWORD})
        answer.raise_for_status()
        yield url, answer.json()["token"]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        vc.engine.dispose()


@dataclass
class Outcome:
    """What one run found."""

    operations: int = 0
    calls: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "operations": self.operations,
            "calls": self.calls,
            "statuses": dict(sorted(self.statuses.items())),
            "failures": self.failures,
        }


def fuzz(url: str, token: str, max_examples: int) -> Outcome:
    """Call every operation with up to ``max_examples`` generated cases and validate
    every answer; failures are collected per operation (the first one found, shrunk)."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    # The app refuses the NUL character in every text input with 422 (docs/api.md,
    # web/input_guard.py), so a schema-valid string with NUL is not a valid request.
    schema.config.generation.update(allow_x00=False)
    headers = {"Authorization": f"Bearer {token}"}
    # Random path parameters mostly name nothing (404); real ones reach the code behind.
    units = httpx.get(f"{url}/api/v1/units", params={"limit": 200}, headers=headers).json()
    unit_ids = [u["id"] for u in units["units"]][:3] if isinstance(units, dict) else []
    outcome = Outcome()
    for result in schema.get_all_operations():
        operation: Any = result.ok()  # type: ignore[union-attr]  # an Err raises here
        label = f"{operation.method.upper()} {operation.path}"
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        outcome.operations += 1
        passes: list[tuple[GenerationMode, dict[str, Any] | None]] = [
            (GenerationMode.POSITIVE, None),
            (GenerationMode.NEGATIVE, None),
        ]
        if "{unit_id}" in operation.path:
            passes += [(GenerationMode.POSITIVE, {"unit_id": unit}) for unit in unit_ids]
        for mode, path_parameters in passes:
            failure = _run(operation, mode, path_parameters, url, headers, max_examples, outcome)
            if failure is not None:
                outcome.failures.append(f"{label} ({mode.value}): {failure}")
                break
    return outcome


def _run(
    operation: Any,
    mode: GenerationMode,
    path_parameters: dict[str, Any] | None,
    url: str,
    headers: dict[str, str],
    max_examples: int,
    outcome: Outcome,
) -> str | None:
    """One Hypothesis run over one operation; the failure it found, or ``None``."""

    @given(case=operation.as_strategy(mode, path_parameters=path_parameters))
    @settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
        print_blob=False,
    )
    def check(case: Any) -> None:
        # A client sends a new Idempotency-Key per intended change; a generated key
        # repeated with another body is rightly refused (422) and says nothing.
        if case.headers and IDEMPOTENCY in case.headers:
            case.headers[IDEMPOTENCY] = uuid.uuid4().hex
        response = case.call_and_validate(base_url=url, headers=headers)
        outcome.calls += 1
        key = str(response.status_code)
        outcome.statuses[key] = outcome.statuses.get(key, 0) + 1

    try:
        check()
    except Unsatisfiable:
        return None
    except (Exception, BaseExceptionGroup) as error:  # a failed check
        lines = [line for line in str(error).strip().splitlines() if line.strip()]
        return " | ".join(lines[:14])
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.schemathesis_run", description=__doc__)
    parser.add_argument("--max-examples", type=int, default=200, help="cases per operation")
    parser.add_argument("--json", type=Path, help="write the outcome here as JSON")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder, demo_server(Path(folder)) as (url, token):
        outcome = fuzz(url, token, args.max_examples)
    result = {
        "max_examples": args.max_examples,
        "seconds": round(time.monotonic() - started, 1),
        "schemathesis": version("schemathesis"),
        **outcome.as_dict(),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
