"""schemathesis against the OpenAPI schema of a real server: the app on a loopback
uvicorn serving the demo organisation, signed in as an admin. Every operation of the
schema is called with generated data (valid and invalid): no answer may be a 5xx, and
every answer must match the schema (status code, content type, body, headers).

A short budget here (CI); ``bench/schemathesis_run.py`` runs a longer one (its result
is in docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path

from bench.schemathesis_run import demo_server, fuzz

MAX_EXAMPLES = 10


def test_the_api_answers_generated_requests_within_its_schema(tmp_path: Path) -> None:
    with demo_server(tmp_path) as (url, token):
        outcome = fuzz(url, token, MAX_EXAMPLES)
    assert outcome.operations >= 10
    assert outcome.calls >= outcome.operations
    assert outcome.failures == []
    assert not any(status.startswith("5") for status in outcome.statuses)
