"""The aiohttp server: `POST /webhook`, `GET /healthz`, `GET /readyz`, `GET /metrics`.

A delivery is verified (`bot.server.webhook`), deduplicated, queued (`bot.kit.jobs`) and
acknowledged with 202 before any handler runs; a push to a branch whose last push still waits
in the queue joins that job (`bot.server.coalesce`). Handlers come from gidgethub Routers; every
handler an event matches runs, in a stable order, and one that fails is logged
without stopping the others.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from gidgethub.routing import Router
from gidgethub.sansio import Event
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bot.core.failures import Failure, Temporary
from bot.core.retries import Schedule
from bot.flows.checks import checks_completed
from bot.kit.jobs import JobQueue, QueueFull, time_budget
from bot.kit.logs import bound, new_correlation_id
from bot.server.coalesce import QueuedPushes
from bot.server.webhook import (
    MAX_BODY_BYTES,
    RecentDeliveries,
    Rejection,
    accept_delivery,
    serialisation_key,
)

if TYPE_CHECKING:
    from bot.server.resync import RetryTimers
    from bot.services.context import BotContext

log = logging.getLogger(__name__)

DRAIN_SECONDS = 30.0
#: a connection must send a whole request's headers within this time, and its body within
#: BODY_SECONDS more (GitHub sends a delivery at once; a trickle holds a connection for nothing)
HEADER_SECONDS = 15.0
BODY_SECONDS = 30.0
#: how long the rest of a body refused unread is taken in before the connection is closed
LINGER_SECONDS = 2.0
QUEUE = web.AppKey("queue", JobQueue)
TIMERS: web.AppKey[RetryTimers] = web.AppKey("retry_timers")


#: the event label of a delivery refused before its signature was verified
UNVERIFIED = "unverified"


class Metrics:
    """The server's Prometheus metrics, in a registry of its own (one per app)."""

    def __init__(self, queue: JobQueue, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.deliveries = Counter(
            "bootstrap_bot_webhook_deliveries",
            "Webhook deliveries by event and outcome",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.handler_runs = Counter(
            "bootstrap_bot_handler_runs",
            "Handler runs by outcome",
            ["handler", "outcome"],
            registry=self.registry,
        )
        self.job_seconds = Histogram(
            "bootstrap_bot_job_duration_seconds",
            "Time to handle one delivery",
            registry=self.registry,
        )
        depth = Gauge("bootstrap_bot_queue_depth", "Jobs queued or running", registry=self.registry)
        depth.set_function(lambda: queue.depth)


#: told of a delivery a peer's outage stopped, with the outage (its `retry_after` is when the
#: work should be tried again)
OnTemporary = Callable[[Event, Temporary], None]


async def dispatch(
    router: Router,
    event: Event,
    context: Any,
    metrics: Metrics,
    budget: float | None = None,
    *,
    schedule: Schedule | None = None,
    on_temporary: OnTemporary | None = None,
) -> None:
    """Run every handler the event matches, each within `budget` seconds; a failing one is
    logged and the rest still run."""
    handlers = sorted(router.fetch(event), key=lambda h: (h.__module__, h.__qualname__))
    started = time.perf_counter()
    data = event.data if isinstance(event.data, dict) else {}
    about = {
        "delivery": event.delivery_id,
        "event": event.event,
        "installation": (data.get("installation") or {}).get("id"),
        "repository": (data.get("repository") or {}).get("full_name"),
    }
    for handler in handlers:
        name = f"{handler.__module__}.{handler.__qualname__}"
        with bound(**about, correlation=new_correlation_id()):
            try:
                async with checks_completed(schedule), time_budget(budget):
                    await handler(event, context)
            except (Failure, Temporary) as err:  # told where it belongs; no traceback
                metrics.handler_runs.labels(name, "error").inc()
                log.warning("handler %s stopped on delivery %s: %s", name, event.delivery_id, err)
                if isinstance(err, Temporary) and on_temporary is not None:
                    on_temporary(event, err)
            except Exception:
                metrics.handler_runs.labels(name, "error").inc()
                log.exception("handler %s failed on delivery %s", name, event.delivery_id)
            else:
                metrics.handler_runs.labels(name, "ok").inc()
    metrics.job_seconds.observe(time.perf_counter() - started)


def create_app(
    *,
    webhook_secret: str,
    router: Router,
    context: Any = None,
    queue: JobQueue | None = None,
    registry: CollectorRegistry | None = None,
    job_seconds: float | None = None,
    schedule: Schedule | None = None,
    on_temporary: OnTemporary | None = None,
    on_accepted: Callable[[Event], None] | None = None,
) -> web.Application:
    """The web application. `context` is handed to every handler after the event, which has
    `job_seconds` to run; `/metrics` shows `registry` (where adapters such as the GitHub
    client put theirs too). A delivery stopped by a peer's outage is handed to
    `on_temporary`; every accepted one to `on_accepted`."""
    if not webhook_secret:
        raise ValueError("a webhook secret is required: unsigned deliveries are never accepted")
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    jobs = queue or JobQueue()
    metrics = Metrics(jobs, registry)
    deliveries = RecentDeliveries()
    pushes = QueuedPushes()
    app[QUEUE] = jobs

    async def webhook(request: web.Request) -> web.Response:
        event_name = request.headers.get("X-GitHub-Event", "")
        try:
            async with asyncio.timeout(BODY_SECONDS):
                body = await request.read()
            event = accept_delivery(request.headers, body, secret=webhook_secret)
        except TimeoutError:
            slow = _refuse(metrics, UNVERIFIED, Rejection(408, "body too slow"), event_name)
            slow.force_close()  # the rest of the body is not waited for either
            return slow
        except web.HTTPRequestEntityTooLarge:
            return _refuse(metrics, UNVERIFIED, Rejection(413, "payload too large"), event_name)
        except Rejection as rejection:
            return _refuse(metrics, UNVERIFIED, rejection, event_name)
        if not deliveries.first_time(event.delivery_id):
            metrics.deliveries.labels(event.event, "duplicate").inc()
            return web.Response(status=202, text="duplicate delivery, ignored\n")
        if not router.fetch(event):
            metrics.deliveries.labels(event.event, "ignored").inc()
            return web.Response(status=202, text="no handler for this event\n")
        if not jobs.draining and pushes.absorb(event):  # a draining queue runs no more jobs
            metrics.deliveries.labels(event.event, "coalesced").inc()
            if on_accepted is not None:
                on_accepted(event)
            return web.Response(status=202, text="joined the queued push to this branch\n")
        try:
            jobs.submit(
                serialisation_key(event),
                lambda: dispatch(
                    router,
                    pushes.take(event),
                    context,
                    metrics,
                    job_seconds,
                    schedule=schedule,
                    on_temporary=on_temporary,
                ),
                name=f"{event.event} {event.delivery_id}",
            )
        except Temporary as busy:  # the queue is full, or the process is draining
            deliveries.forget(event.delivery_id)  # GitHub may redeliver it later
            reason = "queue full" if isinstance(busy, QueueFull) else "shutting down"
            return _refuse(metrics, event.event, Rejection(503, reason))
        pushes.queued(event)
        metrics.deliveries.labels(event.event, "accepted").inc()
        if on_accepted is not None:
            on_accepted(event)
        return web.Response(status=202, text="accepted\n")

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(_: web.Request) -> web.Response:
        if jobs.draining:
            return web.Response(status=503, text="shutting down\n")
        return web.Response(text="ready\n")

    async def prometheus(_: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app.router.add_post("/webhook", webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", prometheus)
    return app


def _refuse(
    metrics: Metrics, label: str, rejection: Rejection, claimed: str | None = None
) -> web.Response:
    """Refuse a delivery. Only a verified event name becomes a metrics label: what an unsigned
    request claims to be is shown, cut short, in the log line alone."""
    metrics.deliveries.labels(label, f"rejected_{rejection.status}").inc()
    said = f" (says it is {claimed[:40]!r})" if claimed else ""
    log.warning("refused a %s delivery%s: %s", label, said, rejection.reason)
    return web.Response(status=rejection.status, text=rejection.reason + "\n")


def app_runner(app: web.Application) -> web.AppRunner:
    """The app served with a deadline for each request's headers (aiohttp closes a connection
    still waiting for a whole request after its keep-alive timeout, from the moment it opens),
    and a short linger after a refusal."""
    return web.AppRunner(app, keepalive_timeout=HEADER_SECONDS, lingering_time=LINGER_SECONDS)


async def run_server(app: web.Application, host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT, then stop taking deliveries and drain the queue."""
    runner = app_runner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("listening on %s:%d", host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        finished = await app[QUEUE].drain(DRAIN_SECONDS)
        log.info("drained the job queue%s", "" if finished else " (some jobs were cancelled)")
        await runner.cleanup()


def forget_repository(context: BotContext, event: Event) -> None:
    """What a delivery changes may show in no head (a pull request closed, a comment): the
    next resync round refreshes its repository in full."""
    data = event.data if isinstance(event.data, dict) else {}
    full_name = (data.get("repository") or {}).get("full_name")
    if isinstance(full_name, str):
        context.idle.forget(full_name)


def bot_application(context: BotContext, webhook_secret: str) -> web.Application:
    """The bot's server: every handler, its context's queue, and `/metrics` showing the
    context's registry (where the GitHub App's metrics are too)."""
    from bot.server.resync import RetryTimers
    from handlers import router

    timers = RetryTimers(context)
    app = create_app(
        webhook_secret=webhook_secret,
        router=router,
        context=context,
        queue=context.jobs,
        registry=context.metrics,
        job_seconds=context.settings.job_timeout.total_seconds(),
        schedule=context.schedule,
        on_temporary=timers.after_delivery,
        on_accepted=lambda event: forget_repository(context, event),
    )
    app[TIMERS] = timers

    async def stop_timers(_: web.Application) -> None:
        timers.cancel_all()

    app.on_cleanup.append(stop_timers)
    return app
