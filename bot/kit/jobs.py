"""The in-process job queue behind the webhook: supervised, bounded, serialised per key.

The webhook handler only submits; jobs run as tasks the queue keeps references to (so none is
garbage-collected mid-flight), one at a time per key (a repository), any number of keys side by
side. A full queue refuses new jobs, so the server can answer 503 and GitHub shows the failed
delivery. `drain` stops intake and waits for what is queued, for a graceful shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.core.failures import Temporary

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class QueueFull(Temporary):
    """The queue holds its maximum number of jobs."""


class Draining(Temporary):
    """The queue no longer takes jobs: the process is shutting down."""


class JobQueue:
    def __init__(self, max_jobs: int = 1000) -> None:
        self.max_jobs = max_jobs
        self._tasks: set[asyncio.Task[None]] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}
        self.draining = False
        self.failures = 0
        self.completed = 0

    @property
    def depth(self) -> int:
        """Jobs queued or running."""
        return len(self._tasks)

    def submit(self, key: str, job: Job, *, name: str = "job") -> asyncio.Task[None]:
        """Queue `job` behind the other jobs for `key`; raises QueueFull or Draining. The task
        ends when the job has run (a failing job is logged, never raised)."""
        if self.draining:
            raise Draining()
        if len(self._tasks) >= self.max_jobs:
            raise QueueFull()
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        task = asyncio.create_task(self._run(key, lock, job), name=f"{name} [{key}]")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, key: str, lock: asyncio.Lock, job: Job) -> None:
        try:
            async with lock:  # asyncio.Lock wakes waiters first in, first out
                await job()
            self.completed += 1
        except asyncio.CancelledError:
            raise
        except Exception:
            self.failures += 1
            log.exception("job for %s failed", key)
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                self._locks.pop(key, None)

    async def settle(self) -> None:
        """Wait until no job is queued or running, taking new jobs all along (jobs may queue
        more jobs)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def drain(self, timeout: float) -> bool:
        """Stop taking jobs and wait up to `timeout` seconds for the queued ones; cancel what is
        left. True when everything finished."""
        self.draining = True
        pending = set(self._tasks)
        if not pending:
            return True
        _done, still_running = await asyncio.wait(pending, timeout=timeout)
        for task in still_running:
            task.cancel()
        if still_running:
            await asyncio.gather(*still_running, return_exceptions=True)
            log.warning("shutdown cancelled %d unfinished job(s)", len(still_running))
        return not still_running
