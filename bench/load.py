"""Load test: simulated people against a real server on loopback.

``.venv/bin/python -m bench.load [--database sqlite|postgresql] [--users 50]
[--duration 300] [--workers 1]`` builds the demo organisation in a fresh database,
gives the leads of the demo's units accounts, starts ``valuechain serve`` (with
``--workers`` processes), runs locust headless (bench/locustfile.py) and samples the
server processes' memory every 5 s. It prints, and with ``--write`` records in
docs/benchmarks.md: requests and failures per kind of request, p50/p95/p99 latency,
and memory at the start and end of the run. The run fails (exit 1) on any error.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil

from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.services import accounts
from valuechain.services.audit import Actor
from valuechain.services.demo import ensure_demo
from valuechain.services.relationship import relationships

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "load test password 2026"
PG_ADMIN = os.environ.get("VALUECHAIN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _database(kind: str, folder: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'load.db'}", None
    import psycopg

    name = f"valuechain_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}", name


def _drop(name: str | None) -> None:
    if name is None:
        return
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _accounts(vc: Valuechain) -> list[dict[str, Any]]:
    """An account for the lead of every demo unit that has a relationship."""
    pairs = relationships(vc)
    by_unit: dict[str, list[list[str]]] = {}
    for rel in pairs:
        by_unit.setdefault(rel.provider, []).append([rel.provider, rel.customer])
        by_unit.setdefault(rel.customer, []).append([rel.provider, rel.customer])
    out = []
    for person in vc.read_map().people:
        if person.role.value != "lead" or person.unit_id not in by_unit:
            continue
        email = f"load-{person.id}@example.org"
        accounts.create_account(
            vc, email, PASSWORD, AccountRole.LEAD, Actor.command_line(), person_id=person.id
        )
        out.append({"email": email, "password": PASSWORD, "unit": person.unit_id,
                    "pairs": by_unit[person.unit_id]})  # fmt: skip
    return out


def _wait(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "openapi.json", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the server at {url} did not start")


def _rss_mib(root: psutil.Process) -> float:
    procs = [root, *root.children(recursive=True)]
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


def _stats(prefix: Path) -> list[dict[str, str]]:
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url_db, pg_name = _database(args.database, folder)
        try:
            vc = Valuechain.open(url_db)
            ensure_demo(vc)
            people = _accounts(vc)
            vc.engine.dispose()
            port = _free_port()
            env = {**os.environ, "VALUECHAIN_DATABASE_URL": url_db}
            server = subprocess.Popen(
                [str(Path(sys.executable).parent / "valuechain"), "serve", "--port", str(port),
                 "--workers", str(args.workers)],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            base = f"http://127.0.0.1:{port}/"
            try:
                _wait(base)
                root = psutil.Process(server.pid)
                memory: list[float] = [_rss_mib(root)]
                prefix = folder / "locust"
                load = subprocess.Popen(
                    [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"),
                     "--headless", "-u", str(args.users), "-r", str(max(args.users // 10, 1)),
                     "-t", f"{args.duration}s", "--host", base.rstrip("/"), "--csv", str(prefix),
                     "--only-summary"],
                    env={**env, "VC_LOAD_ACCOUNTS": json.dumps(people)},
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                while load.poll() is None:
                    time.sleep(5)
                    memory.append(_rss_mib(root))
                rows = _stats(prefix)
            finally:
                server.send_signal(signal.SIGINT)
                try:
                    server.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    server.kill()
        finally:
            _drop(pg_name)
    kinds = [
        {
            "name": r["Name"],
            "requests": int(r["Request Count"]),
            "failures": int(r["Failure Count"]),
            "p50_ms": float(r["50%"]),
            "p95_ms": float(r["95%"]),
            "p99_ms": float(r["99%"]),
        }
        for r in rows
    ]
    return {
        "database": args.database,
        "workers": args.workers,
        "users": args.users,
        "duration_s": args.duration,
        "kinds": kinds,
        "memory_mib": {
            "start": round(memory[0]),
            "peak": round(max(memory)),
            "end": round(memory[-1]),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=300)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", dest="as_json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args)
    if args.as_json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{args.database}, {args.workers} process(es), {args.users} users, "
              f"{args.duration} s; memory {result['memory_mib']} MiB")  # fmt: skip
        for k in result["kinds"]:
            print(
                f"  {k['name']:<28} {k['requests']:>7} req {k['failures']:>4} failed  "
                f"p50 {k['p50_ms']:>6.0f}  p95 {k['p95_ms']:>6.0f}  p99 {k['p99_ms']:>6.0f} ms"
            )
    total = next((k for k in result["kinds"] if k["name"] == "Aggregated"), None)
    return 1 if total is None or total["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
