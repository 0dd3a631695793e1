"""The command line starts without the heavy libraries only some commands need.

Every ``valuechain`` command imports ``valuechain.cli.main`` first; the web app,
the server, the task queue, PDF rendering, charts and the machine-learning and
data-frame libraries are imported inside the commands and functions that use them
(see docs/benchmarks.md for the start-up figures). This checks what is loaded, not
how long it takes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

PROBE = (
    "import valuechain.cli.main; import sys; "
    "print(sorted(m for m in sys.modules if m.split('.')[0] in "
    "{'fastapi','uvicorn','weasyprint','sklearn','altair','huey','starlette','vl_convert',"
    "'pandas','statsmodels'}))"
)


def test_importing_the_cli_loads_no_heavy_library() -> None:
    # A fresh interpreter on this checkout's sources: the test process itself has
    # imported the web app long ago.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    )
    assert done.stdout.strip() == "[]", done.stdout
