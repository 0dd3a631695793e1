"""`valuechain worker`: runs the background jobs (notifications, reminders, alerts)
with huey's consumer on the configured queue (see ``valuechain.jobs``)."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Annotated

import typer

from valuechain.cli.app import app, err_console


class WorkerType(StrEnum):
    THREAD = "thread"
    PROCESS = "process"


@app.command()
def worker(
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="How many jobs run at once.")
    ] = 1,
    worker_type: Annotated[
        WorkerType,
        typer.Option("--worker-type", help="Run jobs in threads or in processes."),
    ] = WorkerType.THREAD,
    periodic: Annotated[
        bool,
        typer.Option(
            "--periodic/--no-periodic",
            help="Also start the periodic jobs. Run them in one worker of a deployment "
            "(the others with --no-periodic).",
        ),
    ] = True,
) -> None:
    """Run the background jobs until stopped (Ctrl+C or SIGTERM finishes the jobs in
    hand first). The queue is VALUECHAIN_QUEUE_URL: a SQLite file next to the
    database by default, or redis://host:port/db for several workers."""
    # Imported here: the jobs pull in huey and its storage drivers, which only the
    # worker needs; every other command starts without them.
    from valuechain.jobs.queue import queue_url
    from valuechain.jobs.tasks import PERIODIC, open_queue
    from valuechain.services.errors import ValuechainError
    from valuechain.store.database import MissingDatabase, database_url, make_engine

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Migrate once here, before any worker process forks.
    try:
        make_engine().dispose()
    except MissingDatabase as error:
        raise ValuechainError(str(error)) from None
    queue = open_queue()
    # Work a killed worker left behind is in the database; look at it now rather
    # than at the next minute.
    queue.drain_outbox()
    jobs = ", ".join(sorted(PERIODIC)) if periodic else "none"
    err_console.print(
        f"Worker: {workers} {worker_type.value}(s) on {queue_url()} for "
        f"{database_url()}; periodic jobs: {jobs}",
        highlight=False,
        soft_wrap=True,
    )
    queue.consumer(workers, worker_type.value, periodic=periodic).run()
