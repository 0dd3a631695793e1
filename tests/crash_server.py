"""A real ``valuechain serve`` process for crash tests: start it on a free loopback
port against a test database, kill it with SIGKILL, start it again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import _free_port

ROOT = Path(__file__).resolve().parents[1]

# A "zygote": it imports the app once (seconds of SciPy and scikit-learn on a busy
# machine) without touching the database, then for every ``serve PORT`` line forks a
# fresh process that runs ``valuechain serve --port PORT`` exactly as the console script
# does, with this checkout's code, and answers its pid; ``wait PID`` reaps one and
# answers its wait status. A forked server opens the database itself after the fork,
# so a restart after a kill is a new process meeting the crashed database, as in
# production, only without the import time.
ZYGOTE = """
import os, sys
from valuechain.cli.main import main
log = sys.argv[1]
while line := sys.stdin.readline():
    command, argument = line.split()
    if command == "serve":
        pid = os.fork()
        if pid == 0:
            out = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            os.dup2(out, 1)
            os.dup2(out, 2)
            sys.argv = ["valuechain", "serve", "--port", argument]
            try:
                main()
            finally:
                os._exit(0)
        print(pid, flush=True)
    elif command == "wait":
        print(os.waitpid(int(argument), 0)[1], flush=True)
"""


class Server:
    """``valuechain serve`` for ``database_url`` and ``organisation`` as a subprocess
    (forked by a zygote, see ``ZYGOTE``); its output goes to ``log``."""

    def __init__(self, database_url: str, organisation: str, log: Path) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._log_path = log
        self._log = log.open("ab")
        self._zygote = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE, str(log)],
            env={
                **os.environ,
                "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
                "VALUECHAIN_DATABASE_URL": database_url,
                "VALUECHAIN_ORGANISATION": organisation,
            },
            cwd=log.parent,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        self.pid: int | None = None
        self.starts = 0
        self.kills = 0

    def _ask(self, line: str) -> int:
        zygote = self._zygote
        assert zygote.stdin is not None and zygote.stdout is not None
        zygote.stdin.write(f"{line}\n".encode())
        zygote.stdin.flush()
        answer = zygote.stdout.readline().decode().strip()
        if not answer:
            raise RuntimeError(f"the zygote ended: {self.log}")
        return int(answer)

    def start(self, timeout: float = 90.0) -> None:
        """Start a server process and return once it answers HTTP."""
        assert self.pid is None, "already running"
        self.pid = self._ask(f"serve {self.port}")
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.base_url}/signin", timeout=2.0)
                return
            except httpx.TransportError:
                time.sleep(0.02)
        raise RuntimeError(f"the server did not answer within {timeout} s: {self.log}")

    def _end(self, sig: signal.Signals) -> int:
        assert self.pid is not None
        os.kill(self.pid, sig)
        status = self._ask(f"wait {self.pid}")
        self.pid = None
        return status

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no rollback; the process is just gone."""
        status = self._end(signal.SIGKILL)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
        self.kills += 1

    def stop(self) -> None:
        """End the server (SIGTERM) and the zygote."""
        if self.pid is not None:
            self._end(signal.SIGTERM)
        assert self._zygote.stdin is not None
        self._zygote.stdin.close()
        try:
            self._zygote.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._zygote.kill()
            self._zygote.wait(timeout=15)
        if self._zygote.stdout is not None:
            self._zygote.stdout.close()
        self._log.close()

    @property
    def log(self) -> str:
        """The server's output so far (the tail)."""
        return self._log_path.read_text(errors="replace")[-4000:]
