"""The resync loop: at start and every interval, every landscape of every installation gets the
decisions the webhooks would have made (level-triggered), so a lost delivery or a restart is
caught up. GitHub never redelivers a webhook on its own; the state it holds (branches, pull
requests, check runs) says what is unfinished.

1. skip the round unless this process holds a shard of the resync (`Leadership`: with one
   shard, the leader alone; with several, the replicas share them, `bot.adapters.leases.shards`);
2. list the App's installations and the repositories each one sees, tell the leadership how
   many fall into each shard (the replicas share the shards out by that), and keep those of
   the shards held (`bot.core.shards`);
3. queue one job per repository behind its webhook jobs: look at its heads, and refresh its
   landscapes where one moved (`bot.flows.repository.resync_repository`). At most
   `ROUND_WINDOW` of a round's jobs are queued at once, and a full queue is waited out, never
   skipped: every repository gets its turn every round. Each round starts one stride further
   down the list, so a round cut short (a shutdown) leaves others out next time;
4. wait for those jobs, then sleep until the next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from gidgethub.sansio import Event

from bot.adapters.github.client import InstallationClient
from bot.adapters.github.models import Repository
from bot.adapters.leases.leader import Leadership, SoleProcess
from bot.core.failures import Temporary
from bot.core.shards import shard_weights, shards_of
from bot.flows.checks import checks_completed
from bot.flows.repository import refresh_repository, resync_repository
from bot.kit.jobs import Draining, Job, QueueFull, time_budget
from bot.kit.logs import bound, new_correlation_id
from bot.services.context import BotContext

log = logging.getLogger(__name__)

#: a round's repositories queued or running at once (each holds threads and a connection)
ROUND_WINDOW = 32
#: installations whose repositories are listed at once
LISTING_WINDOW = 8
#: how long a round waits for room when webhook jobs fill the queue
QUEUE_FULL_WAIT = 1.0


@dataclass
class Resync:
    context: BotContext
    leadership: Leadership = field(default_factory=SoleProcess)
    rounds: int = 0

    async def run_once(self) -> int:
        """One round; the number of repositories resynced (0 when holding no shard)."""
        # 1. only with a shard of the work
        held = await self.leadership.held()
        if not held:
            return 0
        return await self._round(held)

    async def _round(self, held: frozenset[int]) -> int:
        # 2. installations and their repositories, those of the shards held
        github = self.context.github
        self.context.releases.begin_round()
        listed = await self._repositories()
        shards = shards_of([(i, r.full_name) for i, r in listed], self.leadership.count)
        self.leadership.weigh(shard_weights(shards, self.leadership.count))
        work = [
            (github.installation(installation_id), repository)
            for (installation_id, repository), shard in zip(listed, shards, strict=True)
            if shard in held
        ]
        window = asyncio.Semaphore(ROUND_WINDOW)
        queued: list[asyncio.Task[None]] = []
        for gh, repository in rotated(work, self.rounds):
            # 3. one job per repository, serialised with its webhook jobs
            await window.acquire()
            try:
                job = await self._submit(gh, repository)
            except Draining:
                window.release()
                break  # shutting down
            job.add_done_callback(lambda _: window.release())
            queued.append(job)
        # 4. until those jobs are done (webhook jobs arriving meanwhile are not waited for)
        await asyncio.gather(*queued)
        self.rounds += 1
        log.info("resync round %d: %d repositories", self.rounds, len(queued))
        return len(queued)

    async def _repositories(self) -> list[tuple[int, Repository]]:
        """Every installation's repositories, several installations asked at once (one after
        another, a thousand installations would cost a thousand answer times a round)."""
        github = self.context.github
        window = asyncio.Semaphore(LISTING_WINDOW)

        async def of(installation_id: int) -> list[Repository]:
            async with window:
                return await github.installation(installation_id).repositories()

        ids = await github.installation_ids()
        listings = [asyncio.create_task(of(installation_id)) for installation_id in ids]
        try:
            found = await asyncio.gather(*listings)
        finally:  # one failed: the others are not left running behind the round
            for listing in listings:
                listing.cancel()
            await asyncio.gather(*listings, return_exceptions=True)
        return [(i, r) for i, repositories in zip(ids, found, strict=True) for r in repositories]

    async def _submit(self, gh: InstallationClient, repository: Repository) -> asyncio.Task[None]:
        """Queue the repository's job, waiting while the queue is full (backpressure)."""
        full_name = repository.full_name
        while True:
            try:
                return self.context.submit(
                    full_name, self._job(gh, repository), name=f"resync {full_name}"
                )
            except QueueFull:
                log.info("resync: the job queue is full; %s waits for room", full_name)
                await asyncio.sleep(QUEUE_FULL_WAIT)

    def _job(self, gh: InstallationClient, repository: Repository) -> Job:
        context, round = self.context, self.rounds + 1
        work = functools.partial(resync_repository, context, gh, repository, round=round)
        return resync_job(context, repository.full_name, work, round=round)

    async def run_forever(self, interval: float, *, follower_retry: float | None = None) -> None:
        """A round every `interval` seconds while leading; while another process leads, ask
        again every `follower_retry` seconds, so a takeover starts polling at once."""
        while True:
            led = False
            try:
                held = await self.leadership.held()
                led = bool(held)
                if led:
                    await self._round(held)
            except asyncio.CancelledError:
                raise
            except Temporary as outage:  # GitHub out of reach: one line, the next round retries
                log.warning("resync round stopped: %s", outage)
            except Exception:
                log.exception("resync round failed")
            await asyncio.sleep(interval if led else (follower_retry or interval))


T = TypeVar("T")


def rotated(items: list[T], round: int) -> list[T]:
    """`items` starting one stride further each round (a stride of about a tenth of them, so
    ten rounds start in ten different places)."""
    if not items:
        return items
    start = (round * max(1, len(items) // 10)) % len(items)
    return items[start:] + items[:start]


def resync_job(
    context: BotContext,
    full_name: str,
    work: Callable[[], Awaitable[object]],
    *,
    round: int | None = None,
) -> Job:
    """A resync of one repository as a job: within the job budget, and every check run it
    starts ends."""

    async def resync() -> None:
        with bound(repository=full_name, round=round, correlation=new_correlation_id()):
            budget = context.settings.job_timeout.total_seconds()
            async with checks_completed(context.schedule), time_budget(budget):
                await work()

    return resync


def repository_job(context: BotContext, gh: InstallationClient, full_name: str) -> Job:
    """A full resync of one repository (no look at its heads first), as a job."""
    work = functools.partial(refresh_repository, context, gh, full_name, resync=True)
    return resync_job(context, full_name, work)


class RetryTimers:
    """The retry a peer's outage asks for, in this process: when a delivery's work stopped on
    a `Temporary`, its repository is resynced once the retry is due (`retry_after`, which the
    waiting check runs show), without waiting for the next round. One timer per repository,
    the soonest; a restart loses them, and the resync, reading the check runs, does not."""

    def __init__(self, context: BotContext) -> None:
        self.context = context
        self._timers: dict[str, tuple[float, asyncio.TimerHandle]] = {}

    def after_delivery(self, event: Event, outage: Temporary) -> None:
        data = event.data if isinstance(event.data, dict) else {}
        full_name = (data.get("repository") or {}).get("full_name")
        if not full_name or "id" not in (data.get("installation") or {}):
            return
        delay = 60.0 if outage.retry_after is None else outage.retry_after
        self.later(self.context.installation(data), full_name, delay)

    def later(self, gh: InstallationClient, full_name: str, delay: float) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() + delay
        planned = self._timers.get(full_name)
        if planned is not None:
            if planned[0] <= due:
                return
            planned[1].cancel()
        handle = loop.call_at(due, self._fire, gh, full_name)
        self._timers[full_name] = (due, handle)

    def _fire(self, gh: InstallationClient, full_name: str) -> None:
        self._timers.pop(full_name, None)
        job = repository_job(self.context, gh, full_name)
        with contextlib.suppress(Draining, QueueFull):  # the resync round comes
            self.context.submit(full_name, job, name=f"retry {full_name}")

    @property
    def pending(self) -> list[str]:
        return sorted(self._timers)

    def cancel_all(self) -> None:
        for _, handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
