"""Benchmark: the SLA of a whole organisation and the request inbox page.

Goals (docs/benchmarks.md): with 1,000,000 requests across 20,000 provider → customer
relationships on SQLite, ``sla`` for the whole organisation takes at most 10 s (peak
memory stated), and the inbox page answers with a p95 of at most 150 ms.

Set-up (not timed): a fresh SQLite file with 20,000 units, 20,000 relationships and
1,000,000 requests over the past year (request counts per relationship are skewed,
Zipf-like; 8% still open, 5% waiting on the customer, 30% of resolved ones thanked),
written straight into the ``requests`` table. Every relationship has response and
resolution targets on one of three calendars (UTC office hours, Amsterdam with a
lunch break and Dutch holidays, New York), given to the service as its terms, so the
clocks run on three calendars with targets to judge.

``sla`` runs in a child process (its wall time, three runs, and its own peak RSS from
``wait4``). The inbox page is fetched over HTTP from a real uvicorn server by a
signed-in admin: 300 requests over random providers' inboxes, after 20 warm-up ones.

Run: ``.venv/bin/python -m bench.bench_request`` (``--help`` for sizes).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench.machine import machine_info, write_result

SLA_GOAL_S = 10.0
INBOX_P95_GOAL_MS = 150.0

CALENDARS = (
    ("utc", "UTC", "mon-fri 09:00-17:00", ""),
    ("nl", "Europe/Amsterdam", "mon-fri 08:30-12:30 13:00-17:00", "NL"),
    ("ny", "America/New_York", "mon-fri 09:00-18:00", ""),
)

CHILD = r"""
import json, os, sys, time
from valuechain import Valuechain
from valuechain.domain.calendar import calendar
from valuechain.services import request as requests
spec = json.load(sys.stdin)
cals = [calendar(*c) for c in spec["calendars"]]
vc = Valuechain.open(os.environ["VALUECHAIN_DATABASE_URL"], organisation="bench")
rel = spec["relationships"]
terms = {
    (p, c): requests.Terms(cals[k], response_hours=r, resolution_hours=z)
    for p, c, k, r, z, _ in rel
}
requests.terms_of = lambda vc: terms
times, cpu = [], []
for _ in range(spec["runs"]):
    t, c = time.perf_counter(), time.process_time()
    doc = requests.sla(vc)
    times.append(time.perf_counter() - t)
    cpu.append(time.process_time() - c)
rows = doc["relationships"]
print(json.dumps({"times": times, "cpu": cpu, "relationships": len(rows),
                  "requests": sum(r["requests"] for r in rows),
                  "sample": rows[:2]}))
"""


def _stamp(epochs: np.ndarray) -> np.ndarray:
    """Epoch seconds as the text SQLAlchemy stores a UTC DateTime in SQLite."""
    text = np.datetime_as_string(epochs.astype("datetime64[s]"), unit="us")
    return np.char.replace(text, "T", " ")


def build(url: str, units: int, relationships: int, n: int, seed: int) -> list[list[Any]]:
    """Write the organisation and its requests; returns the relationships with their
    calendar index, targets (the terms) and number of requests."""
    from valuechain import Valuechain
    from valuechain.domain.organisation import OrganisationMap
    from valuechain.domain.unit import Unit, UnitKind
    from valuechain.store.request import REQUESTS

    rng = np.random.default_rng(seed)
    vc = Valuechain.open(url, organisation="bench", create=True)
    ids = [f"u{i:05d}" for i in range(units)]
    vc.write_map(OrganisationMap(units=[Unit(u, f"Team {u}", UnitKind.TEAM) for u in ids]))
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < relationships:
        a, b = rng.integers(0, units, 2)
        if a != b:
            pairs.add((int(a), int(b)))
    ordered = sorted(pairs)
    weights = 1.0 / np.arange(1, relationships + 1) ** 0.6
    rng.shuffle(weights)
    per = rng.multinomial(n, weights / weights.sum())
    rel = np.repeat(np.arange(relationships), per)
    now = datetime.now(UTC).timestamp()
    created = now - rng.uniform(0, 365 * 86400, n)
    response = created + rng.lognormal(np.log(3 * 3600), 1.0, n)
    resolved = response + rng.lognormal(np.log(20 * 3600), 1.0, n)
    state = np.full(n, "resolved", dtype=object)
    open_ = rng.random(n) < 0.08
    waiting = open_ & (rng.random(n) < 0.6)
    resolved[open_] = np.nan
    state[open_] = "in_progress"
    state[waiting] = "waiting"
    response[open_ & (rng.random(n) < 0.2)] = np.nan
    state[open_ & np.isnan(response)] = "new"
    waiting &= ~np.isnan(response)
    resolved = np.where(resolved > now, np.nan, resolved)
    state[np.isnan(resolved) & (state == "resolved")] = "in_progress"
    thanked = ~np.isnan(resolved) & (rng.random(n) < 0.3)
    paused = np.where(rng.random(n) < 0.05, rng.uniform(0, 8 * 3600, n), 0.0)
    since = np.where(waiting, np.minimum(response + 3600, now), np.nan)
    providers = np.array([ids[a] for a, _ in ordered], dtype=object)[rel]
    customers = np.array([ids[b] for _, b in ordered], dtype=object)[rel]
    columns = {
        "created_at": _stamp(created),
        "first_response_at": _stamp(np.nan_to_num(response)),
        "resolved_at": _stamp(np.nan_to_num(resolved)),
        "thanked_at": _stamp(np.nan_to_num(resolved)),
        "paused_since": _stamp(np.nan_to_num(since)),
    }
    sql = (
        "insert into requests (org_id, id, customer_id, provider_id, title, body, state, "
        "created_at, first_response_at, resolved_at, paused_since, paused_seconds, events, "
        "thanked_at) values (?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, 1, ?)"
    )
    assert REQUESTS.name == "requests"
    raw = vc.engine.raw_connection()
    try:
        cursor = raw.cursor()
        chunk = 50_000
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            cursor.executemany(
                sql,
                [
                    (
                        vc.org_id,
                        f"b{i:07d}",
                        customers[i],
                        providers[i],
                        f"Request {i}",
                        state[i],
                        columns["created_at"][i],
                        None if np.isnan(response[i]) else columns["first_response_at"][i],
                        None if np.isnan(resolved[i]) else columns["resolved_at"][i],
                        None if np.isnan(since[i]) else columns["paused_since"][i],
                        float(paused[i]),
                        columns["thanked_at"][i] if thanked[i] else None,
                    )
                    for i in range(start, stop)
                ],
            )
        raw.commit()
        cursor.execute("analyze")
        raw.commit()
    finally:
        raw.close()
    vc.engine.dispose()
    targets = rng.choice([(2.0, 16.0), (4.0, 24.0), (8.0, 40.0)], relationships)
    return [
        [ids[a], ids[b], int(rng.integers(len(CALENDARS))), float(t[0]), float(t[1]), int(k)]
        for (a, b), t, k in zip(ordered, targets, per, strict=True)
    ]


def run_sla(url: str, relationships: list[list[Any]], runs: int) -> dict[str, Any]:
    spec = {"calendars": [list(c) for c in CALENDARS], "relationships": relationships,
            "runs": runs}  # fmt: skip
    env = {**os.environ, "VALUECHAIN_DATABASE_URL": url}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = proc.communicate(json.dumps(spec))
    if proc.returncode != 0:
        raise RuntimeError(err)
    found: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    found["peak_rss_mib"] = _child_rss()
    return found


def _child_rss() -> float:
    """The peak RSS of the (only) child process this benchmark ran."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on a free loopback port."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


QUEUES = {
    "inbox": "/units/{unit}/inbox",
    "inbox at risk": "/units/{unit}/inbox?clock=at_risk",
    "inbox search": "/units/{unit}/inbox?open=0&q=request+1",
    "inbox high, unassigned": "/units/{unit}/inbox?priority=high&assignee=unassigned",
    "all requests": "/requests/all",
    "all requests breached": "/requests/all?clock=breached",
    "all requests search": "/requests/all?q=request+12345",
}
"""The pages timed: a provider's inbox (random providers) as it opens, filtered to
requests at risk, searched, and by priority and assignee; the organisation-wide queue
(admins) as it opens, filtered to breached requests and searched."""


def run_inbox(
    url: str,
    units: list[str],
    requests_n: int,
    relationships: list[list[Any]] | None = None,
    path: str = QUEUES["inbox"],
) -> dict[str, Any]:
    import httpx

    from valuechain import Valuechain
    from valuechain.domain.account import AccountRole
    from valuechain.domain.calendar import calendar
    from valuechain.edge.dependencies import SESSION_COOKIE
    from valuechain.services import accounts
    from valuechain.services import request as requests
    from valuechain.services.audit import Actor
    from valuechain.services.security import TEST_HASHING, Security
    from valuechain.web.app import create_app

    if relationships is not None:
        # The pages judge clocks on the same terms as the SLA (three calendars).
        cals = [calendar(*c) for c in CALENDARS]
        terms = {
            (p, c): requests.Terms(cals[k], response_hours=r, resolution_hours=z)
            for p, c, k, r, z, _ in relationships
        }
        requests.terms_of = lambda vc: terms

    # Cheap hashing: the bench measures pages, not sign-in.
    vc = Valuechain.open(
        url, organisation="bench", security=Security(hashing=TEST_HASHING), create=True
    )
    email = "bench@example.org"
    account = accounts.account_by_email(vc, email) or accounts.create_account(
        vc, email, "a bench password, never used", AccountRole.ADMIN, Actor.command_line()
    )
    session = accounts.start_session(vc, account, address="bench")
    rng = random.Random(1)
    timings: list[float] = []
    sizes: list[int] = []
    with (
        serving(create_app(vc)) as base,
        httpx.Client(base_url=base, cookies={SESSION_COOKIE: session.token}, timeout=120) as client,
    ):
        for i in range(requests_n + 20):
            unit = rng.choice(units)
            t = time.perf_counter()
            answer = client.get(path.format(unit=unit))
            elapsed = time.perf_counter() - t
            assert answer.status_code == 200, answer.text[:200]
            if i >= 20:
                timings.append(elapsed * 1000)
                sizes.append(answer.text.count('<tr class="request-row'))
    vc.engine.dispose()
    ms = np.array(timings)
    return {
        "requests": requests_n,
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
        "rows_per_page_mean": float(np.mean(sizes)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_request", description=__doc__)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--relationships", type=int, default=20_000)
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--work", type=Path, help="keep the database here and reuse it when it exists"
    )
    parser.add_argument(
        "--queues-only",
        action="store_true",
        help="time the queue pages (QUEUES) only, not the SLA",
    )
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="valuechain-bench-request-"))
    work.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{work / 'valuechain.db'}"
    terms_file = work / "terms.json"
    t = time.perf_counter()
    if terms_file.exists() and (work / "valuechain.db").exists():
        rel = json.loads(terms_file.read_text())
    else:
        rel = build(url, args.units, args.relationships, args.requests, args.seed)
        terms_file.write_text(json.dumps(rel))
    build_s = time.perf_counter() - t
    db_mib = sum(p.stat().st_size for p in work.glob("valuechain.db*")) / 2**20
    print(f"Built {args.requests:,} requests over {args.relationships:,} relationships "
          f"in {build_s:.0f} s ({db_mib:.0f} MiB).")  # fmt: skip
    providers = sorted({r[0] for r in rel})
    if args.queues_only:
        queues = {}
        for name, path in QUEUES.items():
            queues[name] = found = run_inbox(url, providers, args.pages, rel, path)
            print(f"{name} ({path}): p50 {found['p50_ms']:.1f} ms, p95 "
                  f"{found['p95_ms']:.1f} ms, p99 {found['p99_ms']:.1f} ms "
                  f"({found['rows_per_page_mean']:.0f} rows a page)")  # fmt: skip
        return write_result(
            "request-queues",
            {
                "benchmark": "request-queues",
                "machine": machine_info(),
                "size": {"requests": args.requests, "relationships": args.relationships},
                "load_average": os.getloadavg(),
                "queues": queues,
                "goals": {
                    "inbox_p95_ms": INBOX_P95_GOAL_MS,
                    "met": queues["inbox"]["p95_ms"] <= INBOX_P95_GOAL_MS,
                },
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
    sla = run_sla(url, rel, args.runs)
    best, median = min(sla["times"]), float(np.median(sla["times"]))
    print(f"sla: {', '.join(f'{x:.2f}' for x in sla['times'])} s wall, "
          f"{', '.join(f'{x:.2f}' for x in sla['cpu'])} s CPU; peak RSS "
          f"{sla['peak_rss_mib']:.0f} MiB; {sla['relationships']:,} relationships, "
          f"{sla['requests']:,} requests")  # fmt: skip
    inbox = run_inbox(url, providers, args.pages, rel)
    print(
        f"inbox page: p50 {inbox['p50_ms']:.1f} ms, p95 {inbox['p95_ms']:.1f} ms, "
        f"p99 {inbox['p99_ms']:.1f} ms ({inbox['rows_per_page_mean']:.0f} rows a page)"
    )
    met = (
        median <= SLA_GOAL_S
        and inbox["p95_ms"] <= INBOX_P95_GOAL_MS
        and sla["requests"] == args.requests
        and sla["relationships"] == sum(1 for r in rel if r[5] > 0)
    )
    result = {
        "benchmark": "request",
        "machine": machine_info(),
        "size": {
            "requests": args.requests,
            "relationships": args.relationships,
            "units": args.units,
            "seed": args.seed,
        },
        "build_s": build_s,
        "database_mib": db_mib,
        "sla": {
            "runs_s": sla["times"],
            "cpu_s": sla["cpu"],
            "load_average": os.getloadavg(),
            "best_s": best,
            "median_s": median,
            "peak_rss_mib": sla["peak_rss_mib"],
            "relationships": sla["relationships"],
            "requests": sla["requests"],
        },
        "inbox": inbox,
        "goals": {"sla_s": SLA_GOAL_S, "inbox_p95_ms": INBOX_P95_GOAL_MS, "met": met},
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return write_result("request", result)


if __name__ == "__main__":
    raise SystemExit(main())
