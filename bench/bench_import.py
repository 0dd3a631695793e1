"""Benchmark: ``valuechain import`` of a big data bundle into a fresh SQLite file.

Goal (docs/benchmarks.md): the bundle of a generated organisation of 100,000 units,
~250,000 results and 1,000,000 links imports in at most 30 s of CPU (user + system
of the import process and the children it waited for; the machine is shared, and on
an idle one the wall-clock is no more than that).

The bundle is generated into a temporary folder (not timed), then the real command line
runs as a child process; its wall-clock and CPU time and its own peak memory (``ru_maxrss`` of
that child, from ``wait4``) are measured. Afterwards the stored row counts are checked
against the bundle and, as a second figure, the first load of the graph with its derived
facts from the new database is timed in this process.

Run: ``.venv/bin/python -m bench.bench_import`` (``--help`` for sizes).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.generate import write_bundle
from bench.machine import (
    add_size_arguments,
    machine_info,
    organisation,
    organisation_stats,
    peak_rss_mib,
    print_shape,
    write_result,
)

GOAL_SECONDS = 30.0


# Used only while the command line has no ``import`` verb yet: the same service call
# the verb makes, in a child process too, so the figures stay comparable.
SERVICE_FALLBACK = (
    "import os, sys\n"
    "from valuechain import Valuechain\n"
    "from valuechain.services.bundle import import_bundle\n"
    "vc = Valuechain.open(organisation=os.environ['VALUECHAIN_ORGANISATION'])\n"
    "print(import_bundle(vc, sys.argv[1]))\n"
)


def valuechain_command() -> list[str]:
    """The installed ``valuechain`` script next to this interpreter, else the module."""
    script = Path(sys.executable).with_name("valuechain")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from valuechain.cli.main import main; main()"]


def import_command(bundle: Path) -> tuple[list[str], str]:
    """``valuechain import BUNDLE`` when the CLI has the verb; else the service call.
    Returns the command and how it imports ("cli" or "service")."""
    cli = valuechain_command()
    probe = subprocess.run([*cli, "import", "--help"], capture_output=True, text=True, check=False)
    if probe.returncode == 0:
        return [*cli, "import", str(bundle)], "cli"
    return [sys.executable, "-c", SERVICE_FALLBACK, str(bundle)], "service"


def run_child(command: list[str], env: dict[str, str]) -> tuple[int, float, float, str, float]:
    """Run a command; returns (exit code, wall seconds, the child's peak RSS in MiB,
    its combined output, its CPU seconds). ``wait4`` gives the rusage of exactly this
    child (and of the children it waited for: the summary worker)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    # Read output while it runs so a full pipe cannot stall the child.
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, wall, usage.ru_maxrss / 1024, output, usage.ru_utime + usage.ru_stime


def run(args: argparse.Namespace) -> dict[str, Any]:
    console = Console()
    work = Path(tempfile.mkdtemp(prefix="valuechain-bench-"))
    try:
        t = time.perf_counter()
        org = organisation(args)
        paths = write_bundle(org, work / "bundle")
        generate_s = time.perf_counter() - t
        sizes = {name: path.stat().st_size for name, path in paths.items()}
        console.print(
            f"Bundle: {org.n_units:,} units, {org.n_results:,} results, {org.n_links:,} links "
            f"({sum(sizes.values()) / 2**20:.0f} MiB of CSV) written in {generate_s:.1f} s."
        )

        url = f"sqlite:///{work / 'valuechain.db'}"
        env = {**os.environ, "VALUECHAIN_DATABASE_URL": url, "VALUECHAIN_ORGANISATION": "bench"}
        command, via = import_command(work / "bundle")
        shown = " ".join(command) if via == "cli" else "import_bundle() in a child process"
        console.print(f"Running ({via}): {shown}")
        code, wall, child_rss, output, cpu = run_child(command, env)
        db_mib = sum(p.stat().st_size for p in work.glob("valuechain.db*")) / 2**20

        counts: dict[str, int] = {}
        load_s: float | None = None
        if code == 0:
            from valuechain import Valuechain

            vc = Valuechain.open(url, organisation="bench", create=True)
            counts = vc.counts()
            t = time.perf_counter()
            vc.chain()
            load_s = time.perf_counter() - t
            vc.engine.dispose()
        expected = {"units": org.n_units, "results": org.n_results, "links": org.n_links}
        complete = code == 0 and all(counts.get(k) == v for k, v in expected.items())
        result: dict[str, Any] = {
            "benchmark": "import",
            "machine": machine_info(),
            "shape": organisation_stats(args, org),
            "bundle": {**expected, "bytes": sizes, "seed": args.seed, "generate_s": generate_s},
            "via": via,
            "exit_code": code,
            "import_s": wall,
            "import_cpu_s": cpu,
            "import_peak_rss_mib": child_rss,
            "database_mib": db_mib,
            "stored": counts,
            "complete": complete,
            "first_load_s": load_s,
            "bench_peak_rss_mib": peak_rss_mib(),
            "output_tail": output.strip().splitlines()[-15:],
            # CPU seconds: on a shared machine the wall-clock also counts waiting for a
            # core (on an idle one the import's wall-clock is at most its CPU time).
            "goals": {"cpu_seconds": GOAL_SECONDS, "met": complete and cpu <= GOAL_SECONDS},
        }
    finally:
        if args.keep:
            console.print(f"Kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    report(console, result)
    return result


def report(console: Console, r: dict[str, Any]) -> None:
    table = Table(title="valuechain import into a fresh SQLite file", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    b = r["bundle"]
    table.add_row("bundle", f"{b['units']:,} units, {b['results']:,} results, {b['links']:,} links")
    table.add_row("CSV size", f"{sum(b['bytes'].values()) / 2**20:.0f} MiB")
    table.add_row(
        "imported via",
        "valuechain import" if r["via"] == "cli" else "import_bundle() (no CLI verb yet)",
    )
    table.add_row("exit code", str(r["exit_code"]))
    table.add_row("import wall-clock", f"{r['import_s']:.1f} s")
    table.add_row("import CPU (user + system)", f"{r['import_cpu_s']:.1f} s")
    table.add_row("import peak RSS (child)", f"{r['import_peak_rss_mib']:.0f} MiB")
    table.add_row("database size", f"{r['database_mib']:.0f} MiB")
    table.add_row("rows stored = bundle", "yes" if r["complete"] else f"NO {r['stored']}")
    if r["first_load_s"] is not None:
        table.add_row("first graph load + facts from SQLite", f"{r['first_load_s']:.1f} s")
    console.print(table)
    print_shape(r["shape"])
    if r["exit_code"] != 0:
        console.print("[red]import failed:[/]\n" + "\n".join(r["output_tail"]))
    verdict = "[green]met[/]" if r["goals"]["met"] else "[red]MISSED[/]"
    console.print(f"Goal (≤ {GOAL_SECONDS:g} CPU s, every row stored): {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time `valuechain import` of a big bundle.")
    add_size_arguments(parser)
    parser.add_argument("--keep", action="store_true", help="keep the bundle and database")
    args = parser.parse_args(argv)
    return write_result("import", run(args))


if __name__ == "__main__":
    raise SystemExit(main())
