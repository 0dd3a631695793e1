"""Load test: simulated people against a real server on loopback.

``.venv/bin/python -m bench.load [--database sqlite|postgresql] [--users 50]
[--duration 300] [--workers 1] [--worker]`` builds the demo organisation in a fresh
database, gives the leads of the demo's units accounts, opens survey campaigns whose
invitations a loopback SMTP server (aiosmtpd) receives (the survey links become the
simulated respondents' pool), starts ``valuechain serve`` (with ``--workers``
processes) and, with ``--worker``, one ``valuechain worker`` on its own Redis queue
(``redis://127.0.0.1:6379/0`` unless ``--queue-url``), runs locust headless
(bench/locustfile.py) and samples the memory of every server and worker process
every 5 s. It prints requests and failures per kind of request, p50/p95/p99 latency,
memory at the start, peak and end, and the tracebacks the processes logged. The run
fails (exit 1) on any failed request or logged traceback.
"""

from __future__ import annotations

import argparse
import csv
import email
import email.policy
import json
import os
import re
import shutil
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
from valuechain.jobs.queue import make_huey
from valuechain.services import accounts, campaign
from valuechain.services.audit import Actor
from valuechain.services.demo import ensure_demo
from valuechain.services.mail import Mailer
from valuechain.services.partner.relationship import relationships

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


class _Inbox:
    """The survey links a loopback SMTP server (aiosmtpd) received."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        self.tokens.extend(re.findall(r"/s/([A-Za-z0-9_-]+)", text))
        return "250 Message accepted for delivery"


def _survey_links(vc: Valuechain, inbox: _Inbox, mailer: Mailer, wanted: int) -> list[str]:
    """Open campaigns (the service-factors instrument, every relationship of the demo)
    until at least ``wanted`` survey links were mailed; the links as received."""
    number = 0
    while len(inbox.tokens) < wanted and number < 50:
        number += 1
        name = f"load-{number}"
        campaign.create_campaign(vc, name, instrument="service_factors")
        campaign.invite(vc, name, mailer=mailer)  # returns once the server accepted all
    return list(dict.fromkeys(inbox.tokens))


def _wait(url: str, server: subprocess.Popen[bytes], log: Path, timeout: float = 240) -> None:
    """Wait until the server answers; on failure, say why with the end of its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(url + "openapi.json", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
    raise RuntimeError(f"the server at {url} did not start:\n{tail}")


def _rss_mib(root: psutil.Process) -> float:
    """Resident memory of ``root`` and all its children (uvicorn's worker processes,
    huey's), in MiB."""
    total = 0
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


def _tracebacks(log: Path) -> list[str]:
    """The tracebacks a process wrote to its log, each as its text."""
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    found = []
    for part in text.split("Traceback (most recent call last):")[1:]:
        found.append("Traceback (most recent call last):" + part[:3000])
    return found


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _stats(prefix: Path) -> list[dict[str, str]]:
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def run(args: argparse.Namespace) -> dict[str, Any]:
    """One load test as the arguments say; the measured figures."""
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    queue_name = f"valuechain-load-{uuid.uuid4().hex[:8]}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            url_db, pg_name = _database(args.database, folder)
            try:
                return _measure(args, folder, url_db, inbox, smtp.port, queue_name)
            finally:
                _drop(pg_name)
                if args.worker:
                    make_huey(args.queue_url, queue_name).flush()
    finally:
        smtp.stop()


def _measure(
    args: argparse.Namespace,
    folder: Path,
    url_db: str,
    inbox: _Inbox,
    smtp_port: int,
    queue_name: str,
) -> dict[str, Any]:
    env = {
        **os.environ,
        "VALUECHAIN_DATABASE_URL": url_db,
        "VALUECHAIN_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "VALUECHAIN_MAIL_FROM": "Valuechain <valuechain@example.org>",
    }
    if args.worker:
        env |= {"VALUECHAIN_QUEUE_URL": args.queue_url, "VALUECHAIN_QUEUE_NAME": queue_name}
    else:
        env |= {"VALUECHAIN_QUEUE_URL": f"sqlite:///{folder / 'queue.db'}"}
    vc = Valuechain.open(url_db, create=True)
    ensure_demo(vc)
    people = _accounts(vc)
    # Enough links that nobody runs out: a person answers about once in 15 s (3 of the
    # locustfile's 33 task weights, 0.5-2 s apart), so one link per 8 s is ample.
    mailer = Mailer.from_url(env["VALUECHAIN_SMTP_URL"], env["VALUECHAIN_MAIL_FROM"])
    tokens = _survey_links(vc, inbox, mailer, args.users * args.duration // 8)
    vc.engine.dispose()
    bin_dir = Path(sys.executable).parent
    port = _free_port()
    logs = {"server": folder / "server.log", "worker": folder / "worker.log"}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    with open(logs["server"], "wb") as server_log, open(logs["worker"], "wb") as worker_log:
        processes["server"] = subprocess.Popen(
            [str(bin_dir / "valuechain"), "serve", "--port", str(port),
             "--workers", str(args.workers)],
            env=env, stdout=server_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        if args.worker:
            processes["worker"] = subprocess.Popen(
                [str(bin_dir / "valuechain"), "worker"],
                env=env, stdout=worker_log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        base = f"http://127.0.0.1:{port}/"
        try:
            _wait(base, processes["server"], logs["server"])
            roots = {name: psutil.Process(p.pid) for name, p in processes.items()}
            memory: dict[str, list[float]] = {name: [] for name in roots}

            def sample() -> None:
                for name, root in roots.items():
                    memory[name].append(_rss_mib(root))

            sample()
            prefix = folder / "locust"
            load = subprocess.Popen(
                [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"),
                 "--headless", "-u", str(args.users), "-r", str(max(args.users // 10, 1)),
                 "-t", f"{args.duration}s", "--host", base.rstrip("/"), "--csv", str(prefix),
                 "--only-summary"],
                env={**env, "VC_LOAD_ACCOUNTS": json.dumps(people),
                     "VC_LOAD_TOKENS": json.dumps(tokens)},
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            while load.poll() is None:
                time.sleep(5)
                sample()
            rows = _stats(prefix)
            with open(f"{prefix}_failures.csv", newline="", encoding="utf-8") as handle:
                failures = list(csv.DictReader(handle))
        finally:
            for process in processes.values():
                _stop(process)
    tracebacks = {name: _tracebacks(logs[name]) for name in processes}
    kept = ROOT / "bench" / "out"  # git-ignored: the processes' logs of the last run
    kept.mkdir(parents=True, exist_ok=True)
    for name in processes:
        shutil.copyfile(logs[name], kept / f"load-{args.database}-{name}.log")
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
    total = [sum(values) for values in zip(*memory.values(), strict=True)]
    return {
        "database": args.database,
        "workers": args.workers,
        "worker": args.worker,
        "users": args.users,
        "duration_s": args.duration,
        "survey_links": len(tokens),
        "kinds": kinds,
        "failures": failures,
        "tracebacks": {name: len(found) for name, found in tracebacks.items()},
        "first_tracebacks": [t for found in tracebacks.values() for t in found[:1]],
        "memory_mib": {
            name: {"start": round(v[0]), "peak": round(max(v)), "end": round(v[-1])}
            for name, v in {**memory, "total": total}.items()
        },
        # Every minute of the run (the samples are 5 s apart): is memory stable?
        "memory_by_minute_mib": [round(v) for v in total[::12]],
    }


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line's options (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=300)
    parser.add_argument("--workers", type=int, default=1, help="app processes")
    parser.add_argument("--worker", action="store_true", help="also run valuechain worker")
    parser.add_argument("--queue-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--json", dest="as_json", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    result = run(args)
    if args.as_json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{args.database}, {args.workers} app process(es)"
              f"{' + 1 worker' if args.worker else ''}, {args.users} users, "
              f"{args.duration} s, {result['survey_links']} survey links")  # fmt: skip
        for name, mem in result["memory_mib"].items():
            print(f"  memory {name:<7} start {mem['start']} peak {mem['peak']} "
                  f"end {mem['end']} MiB")  # fmt: skip
        print(f"  tracebacks logged: {result['tracebacks']}")
        for failure in result["failures"]:
            print(f"  FAILED {failure}")
        for text in result["first_tracebacks"]:
            print(text)
        for k in result["kinds"]:
            print(
                f"  {k['name']:<28} {k['requests']:>7} req {k['failures']:>4} failed  "
                f"p50 {k['p50_ms']:>6.0f}  p95 {k['p95_ms']:>6.0f}  p99 {k['p99_ms']:>6.0f} ms"
            )
    total = next((k for k in result["kinds"] if k["name"] == "Aggregated"), None)
    broken = total is None or total["failures"] or any(result["tracebacks"].values())
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
