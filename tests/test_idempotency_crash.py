"""The idempotency guarantee under a real crash: a process that has made its change
and stored its answer, but not yet committed, is killed with SIGKILL — afterwards
neither the change nor the key is there, and a retry with the same key makes the
change once. A process killed right after the commit leaves both, and a retry gets
the stored answer. On SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import func, select

from tests.test_idempotency import TOY, notes, request_for
from valuechain import Valuechain
from valuechain.services import idempotency
from valuechain.store import idempotency as store

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent(
    """
    import sys, time
    from sqlalchemy import insert
    from tests.test_idempotency import TOY, request_for
    from valuechain import Valuechain
    from valuechain.services import idempotency

    url, organisation, commit = sys.argv[1], sys.argv[2], sys.argv[3] == "commit"
    vc = Valuechain.open(url, organisation)
    with idempotency.idempotent(vc, request_for("crash")) as attempt:
        attempt.conn.execute(insert(TOY).values(org_id=vc.org_id, id="c", text="crashed"))
        attempt.record(201, '{"id":"c"}')
        if not commit:
            print("recorded", flush=True)
            time.sleep(120)  # killed here, before the commit
    print("committed", flush=True)
    time.sleep(120)  # killed here, after the commit
    """
)


def run_and_kill(url: str, organisation: str, mode: str) -> None:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, organisation, mode],
        stdout=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    assert child.stdout is not None
    line = child.stdout.readline().decode().strip()
    assert line == ("committed" if mode == "commit" else "recorded"), line
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


def keys(vc: Valuechain) -> int:
    with vc.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(store.KEYS).where(store.KEYS.c.org_id == vc.org_id)
            ).scalar_one()
        )


def test_a_crash_before_the_commit_leaves_neither_change_nor_answer(
    vc: Valuechain, database_url: str, organisation: str
) -> None:
    TOY.create(vc.engine, checkfirst=True)
    run_and_kill(database_url, organisation, "before")
    fresh = Valuechain.open(database_url, organisation, create=True)
    assert notes(fresh) == [] and keys(fresh) == 0
    # The client retries with the same key: the change happens once.
    with idempotency.idempotent(fresh, request_for("crash")) as attempt:
        assert attempt.replay is None
        attempt.conn.execute(TOY.insert().values(org_id=fresh.org_id, id="r", text="retried"))
        attempt.record(201, '{"id":"r"}')
    assert notes(fresh) == ["retried"] and keys(fresh) == 1
    fresh.engine.dispose()


def test_a_crash_after_the_commit_keeps_both_and_a_retry_replays(
    vc: Valuechain, database_url: str, organisation: str
) -> None:
    TOY.create(vc.engine, checkfirst=True)
    run_and_kill(database_url, organisation, "commit")
    fresh = Valuechain.open(database_url, organisation, create=True)
    assert notes(fresh) == ["crashed"] and keys(fresh) == 1
    with idempotency.idempotent(fresh, request_for("crash")) as attempt:
        assert attempt.replay is not None
        assert (attempt.replay.status_code, attempt.replay.body) == (201, '{"id":"c"}')
    assert notes(fresh) == ["crashed"]
    fresh.engine.dispose()
