"""The probes an orchestrator asks: ``/healthz`` (the process answers) and ``/readyz``
(it can do its work: the database answers a trivial query, and so does the Redis
queue when one is configured). Both are public, cheap and read no session."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from valuechain.domain.access import Principal
from valuechain.edge.dependencies import AccessRule
from valuechain.services.organisation import Valuechain
from valuechain.store.database import ping

if TYPE_CHECKING:
    import redis

# Seconds a readiness check waits for Redis: an orchestrator's probe times out after a
# few seconds, and a blackholed queue must answer 503, not hang the probe.
QUEUE_TIMEOUT_S = 2.0
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class ProbeRule(AccessRule):
    """Anyone, without looking a session up or starting one (not even the demo's): a
    probe must not touch the database it is not asked about, nor leave a cookie."""

    def __init__(self) -> None:
        super().__init__(None, csrf=False)

    def __repr__(self) -> str:
        return "AccessRule(probe)"

    async def __call__(self, request: Request) -> Principal | None:
        return None


PROBE = [Depends(ProbeRule())]


@dataclass(frozen=True)
class RedisQueue:
    """The huey queue in Redis: its list's length and whether Redis answers."""

    client: redis.Redis
    key: str

    @classmethod
    def configured(cls, vc: Valuechain) -> RedisQueue | None:
        """The queue ``VALUECHAIN_QUEUE_URL`` names if it is in Redis, else ``None``
        (the embedded SQLite queue is a file beside the database, nothing to probe)."""
        # Imported here: huey and redis take seconds to import on a busy machine, and
        # an app process must start fast (a restart after a crash waits for it).
        import redis

        from valuechain.jobs.queue import make_huey, queue_url

        url = queue_url(vc.engine.url.render_as_string(hide_password=False))
        if not url.startswith(REDIS_SCHEMES):
            return None
        # huey names the list; a client of our own carries the timeouts.
        key: str = make_huey(url).storage.queue_key
        client = redis.Redis.from_url(
            url, socket_timeout=QUEUE_TIMEOUT_S, socket_connect_timeout=QUEUE_TIMEOUT_S
        )
        return cls(client, key)

    def depth(self) -> int:
        """How many tasks wait in the queue."""
        return int(self.client.llen(self.key))

    def ping(self) -> None:
        """Raises unless Redis answers."""
        self.client.ping()


class Queue:
    """The app's queue to probe, found at its first use (see
    :meth:`RedisQueue.configured`)."""

    def __init__(self, vc: Valuechain) -> None:
        self.vc = vc

    @cached_property
    def redis(self) -> RedisQueue | None:
        return RedisQueue.configured(self.vc)


router = APIRouter(dependencies=PROBE, include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """200 while the process serves requests; reads nothing."""
    return {"status": "ok"}


def _check(probe: Any) -> str:
    try:
        probe()
    except Exception as error:  # any failure means "not ready"; the reason is shown
        return f"failed: {type(error).__name__}"
    return "ok"


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """200 when the database (and the Redis queue, if configured) answer, else 503
    naming the check that failed: ``{"status", "checks": {"database", "queue"?}}``."""
    vc: Valuechain = request.app.state.valuechain
    checks = {"database": await run_in_threadpool(_check, lambda: ping(vc.engine))}
    queue = await run_in_threadpool(lambda: request.app.state.queue.redis)
    if queue is not None:
        checks["queue"] = await run_in_threadpool(_check, queue.ping)
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
        headers={"Cache-Control": "no-store"},
    )
