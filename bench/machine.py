"""What the benchmarks ran on, and the single-core pinning they share."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.generate import Organisation

# BLAS and OpenMP read these when they load, so they are set before numpy is imported
# by anything that imports this module first.
SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


def pin_one_core() -> int:
    """Restrict this process (and its threads) to one core and one thread per pool;
    returns the core. Must run before numpy/scipy are imported to affect BLAS."""
    os.environ.update(SINGLE_THREAD_ENV)
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return core


def cpu_model() -> str:
    """The CPU model name as /proc/cpuinfo states it."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, Any]:
    """Cores, CPU, memory and the versions that decide the figures."""
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "memory_gib": round(pages / 2**30, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "networkx": _version("networkx"),
        "sqlalchemy": _version("sqlalchemy"),
    }


def peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(who).ru_maxrss / 1024


OUT = Path(__file__).parent / "out"


def add_size_arguments(parser: argparse.ArgumentParser) -> None:
    """The size of the generated organisation, the same for every benchmark."""
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--results", type=int, default=250_000)
    parser.add_argument("--links", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    add_generator_argument(parser)


GENERATORS = ("realistic", "uniform")


def add_generator_argument(parser: argparse.ArgumentParser) -> None:
    """``--generator``: the realistic organisation (bench.realistic, the default) or the
    old uniform one (bench.generate; it flatters the figures, kept for comparison)."""
    parser.add_argument(
        "--generator",
        choices=GENERATORS,
        default="realistic",
        help="realistic (default) or uniform (the old generator, flattering)",
    )


def organisation(args: argparse.Namespace) -> Organisation:
    """The organisation of ``--generator`` at the sizes of ``args``."""
    if getattr(args, "generator", "realistic") == "uniform":
        from bench.generate import generate

        return generate(args.units, args.results, args.links, seed=args.seed)
    from bench.realistic import generate_realistic

    return generate_realistic(args.units, args.results, args.links, seed=args.seed)


def organisation_stats(args: argparse.Namespace, org: Organisation) -> dict[str, Any]:
    """The shape figures of ``bench.realistic.stats`` with the generator's name."""
    from bench.realistic import stats

    return {"generator": getattr(args, "generator", "realistic"), **stats(org)}


def write_result(name: str, result: dict[str, Any]) -> int:
    """Write ``bench/out/NAME.json``, say where, and return the exit code of the goal."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"Wrote {path}")
    return 0 if result["goals"]["met"] else 1


def print_shape(shape: dict[str, Any]) -> None:
    """One line of the generator's shape figures, printed beside the timings."""
    print(
        f"Shape ({shape.get('generator', '?')} generator): "
        f"max customers of one unit {shape['max_customers_per_unit']:,}, "
        f"largest strongly connected component {shape['largest_scc']:,} units, "
        f"{shape['sccs_over_one_unit']:,} components of more than one unit, "
        f"{shape['unit_arcs']:,} unit arcs"
    )
