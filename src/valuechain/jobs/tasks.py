"""The jobs and the queue they run on. Jobs are thin: each calls one service.

A periodic job is one function taking the database engine, registered with
:func:`periodic` and a huey ``crontab``::

    @periodic(crontab(minute="0", hour="7"))
    def review_reminders(engine: Engine) -> None:
        for vc in each_organisation(engine):
            agreement.send_review_reminders(vc)

Every job must be idempotent: huey removes a task from the queue when a worker
takes it, so a worker killed mid-job loses that task; the work it stood for is
still in the database (an outbox row, a due commitment) and the next run of the
periodic job, or the drain every worker queues when it starts, does it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from huey import Huey, crontab
from huey.api import TaskWrapper
from huey.consumer import Consumer
from sqlalchemy import Engine

from valuechain.jobs.queue import make_huey, queue_url
from valuechain.services import alert, campaign, notification, report, retention
from valuechain.services.audit import Actor
from valuechain.services.mail import MailNotConfigured
from valuechain.services.organisation import Valuechain, organisations
from valuechain.services.partner import action
from valuechain.store.database import make_engine

Job = Callable[[Engine], Any]
# huey backs off to 10 s between polls of an empty queue; a notification queued by a
# web request should not wait that long, and a SQLite poll costs microseconds.
MAX_POLL_DELAY = 2.0


@dataclass(frozen=True)
class PeriodicJob:
    """A job the workers run on a schedule (a huey ``crontab``: a test of the minute)."""

    name: str
    schedule: Callable[[datetime], bool]
    run: Job


PERIODIC: dict[str, PeriodicJob] = {}
logger = logging.getLogger("valuechain.jobs")


def periodic(schedule: Callable[[datetime], bool], name: str | None = None) -> Callable[[Job], Job]:
    """Register ``run(engine)`` to run on ``schedule`` in the worker that runs the
    periodic jobs (``valuechain worker``; see docs/deploy.md)."""

    def register(run: Job) -> Job:
        key = name or run.__name__
        PERIODIC[key] = PeriodicJob(key, schedule, run)
        return run

    return register


def each_organisation(engine: Engine) -> Iterator[Valuechain]:
    """Every organisation in the database, for jobs that work per organisation."""
    for slug in organisations(engine):
        yield Valuechain(engine, slug)


# -- the periodic jobs ------------------------------------------------------------------


@periodic(crontab(minute="*"))
def drain_outbox(engine: Engine) -> notification.DrainResult:
    """Every minute: send what is due in the notification outbox (new rows, retries
    whose backoff has passed, rows a killed worker held when their lease ended)."""
    done = notification.drain(engine)
    _log_drain(done)
    return done


@periodic(crontab(minute="15", hour="3"))
def purge_outbox(engine: Engine) -> int:
    """Every night: forget notifications sent more than 30 days ago."""
    purged = notification.purge_sent(engine)
    logger.info("outbox: purged %d sent row(s)", purged)
    return purged


@periodic(crontab(minute="0", hour="8", day_of_week="1"))
def survey_reminders(engine: Engine) -> int:
    """Mondays 08:00 UTC: remind everyone who has not answered an open campaign (a
    fresh link to the same invitation; answered invitations get nothing)."""
    sent = 0
    for vc in each_organisation(engine):
        for row in campaign.list_campaigns(vc):
            if row["state"] != "open":
                continue
            try:
                sent += campaign.send_reminders(
                    vc, row["id"], actor=Actor(None, "job:survey_reminders", None)
                )
            except MailNotConfigured as error:
                logger.warning("survey reminders: %s", error)
                return sent
    logger.info("survey reminders: sent %d", sent)
    return sent


@periodic(crontab(minute="0", hour="7", day_of_week="1"))
def regroup_reminders(engine: Engine) -> int:
    """Mondays 07:00 UTC: tell the leads of both sides about overdue actions."""
    queued = 0
    for vc in each_organisation(engine):
        queued += action.send_regroup_reminders(vc)
    logger.info("regroup reminders: queued %d", queued)
    return queued


@periodic(crontab(minute="45", hour="3"))
def purge_comments(engine: Engine) -> int:
    """Every night: delete raw comments older than each organisation's retention."""
    purged = sum(retention.purge_comments(vc) for vc in each_organisation(engine))
    logger.info("comment retention: purged %d", purged)
    return purged


@periodic(crontab(minute="*/15"))
def sla_alerts(engine: Engine) -> int:
    """Every 15 minutes: near-breach and breach alerts for open requests (each once)."""
    queued = sum(alert.sla_alerts(vc) for vc in each_organisation(engine))
    logger.info("sla alerts: queued %d", queued)
    return queued


@periodic(crontab(minute="30", hour="6"))
def agreement_jobs(engine: Engine) -> int:
    """Every day 06:30 UTC: due commitments for the next two weeks, reviews that start."""
    done = 0
    for vc in each_organisation(engine):
        done += alert.commitments_due(vc) + alert.review_reminders(vc)
    logger.info("agreement jobs: %d commitments and reminders", done)
    return done


@periodic(crontab(minute="0", hour="6", day="1"))
def monthly_reports(engine: Engine) -> int:
    """The 1st of each month, 06:00 UTC: every admin gets the organisation's report and
    every lead their unit's, through the outbox (links use VALUECHAIN_BASE_URL)."""
    base = campaign.base_url()
    queued = sum(report.deliver_reports(vc, base) for vc in each_organisation(engine))
    logger.info("monthly reports: queued %d", queued)
    return queued


def _log_drain(done: notification.DrainResult) -> None:
    if done.sent or done.failed_attempts:
        logger.info(
            "outbox: sent %d, failed attempts %d, given up %d",
            done.sent,
            done.failed_attempts,
            done.given_up,
        )
    for error in done.errors:
        logger.warning("outbox: %s", error)


# -- the queue --------------------------------------------------------------------------


class Queue:
    """A huey instance with every job registered, serving one database.

    Producers and workers build it the same way (:func:`open_queue`), so a task
    queued by one process is found by name in another."""

    def __init__(self, huey: Huey, db_url: str | None = None) -> None:
        self.huey = huey
        self.db_url = db_url
        self._engine: Engine | None = None
        self._engine_pid = 0
        self._lock = threading.Lock()
        self.drain_outbox: TaskWrapper = huey.task(name="drain_outbox")(self._drain)
        self.deliver_notification: TaskWrapper = huey.task(name="deliver_notification")(
            self._deliver
        )
        for job in PERIODIC.values():
            huey.periodic_task(job.schedule, name=f"periodic.{job.name}")(self._runner(job))

    def engine(self) -> Engine:
        """This process's engine (a process worker forks: it must not share the
        parent's connections, so each process makes its own on first use)."""
        with self._lock:
            if self._engine is None or self._engine_pid != os.getpid():
                self._engine = make_engine(self.db_url)
                self._engine_pid = os.getpid()
            return self._engine

    def _drain(self) -> None:
        _log_drain(notification.drain(self.engine()))

    def _deliver(self, org_id: int, row_id: str) -> None:
        _log_drain(notification.deliver(self.engine(), org_id, row_id))

    def _runner(self, job: PeriodicJob) -> Callable[[], None]:
        def run() -> None:
            job.run(self.engine())

        run.__name__ = job.name
        return run

    def consumer(
        self, workers: int = 1, worker_type: str = "thread", *, periodic: bool = True
    ) -> Consumer:
        """huey's consumer for this queue: ``workers`` threads or processes, running
        the periodic jobs unless ``periodic`` is false. An idle worker polls the SQLite
        queue at most :data:`MAX_POLL_DELAY` seconds apart (Redis blocks instead)."""
        return self.huey.create_consumer(
            workers=workers,
            worker_type=worker_type,
            periodic=periodic,
            check_worker_health=True,
            max_delay=MAX_POLL_DELAY,
        )


def open_queue(
    db_url: str | None = None, queue: str | None = None, name: str | None = None
) -> Queue:
    """The queue configured for the database at ``db_url`` (see ``jobs.queue``), or
    the one at ``queue`` under ``name``."""
    return Queue(make_huey(queue or queue_url(db_url), name), db_url)
