"""The in-process job queue behind the webhook: supervised, bounded, serialised per key.

The webhook handler only submits; jobs run as tasks the queue keeps references to (so none is
garbage-collected mid-flight), one at a time per key (a repository), any number of keys side by
side. A full queue refuses new jobs, so the server can answer 503 and GitHub shows the failed
delivery. `drain` stops intake and waits for what is queued, for a graceful shutdown.

Blocking work (git, the renderer, kustomize) runs through `in_thread` on threads of the job's
own key: a repository whose peers stall holds its own threads, never another repository's. A
job that runs past its `time_budget` is stopped with `OverBudget`, a Failure its check runs
say.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import ParamSpec, TypeVar

from bot.core.failures import Failure, Temporary

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]
P = ParamSpec("P")
T = TypeVar("T")
#: threads each key's jobs may block at once (a job runs a git fetch and a render side by side)
THREADS_PER_KEY = 2
_THREADS: contextvars.ContextVar[ThreadPoolExecutor | None] = contextvars.ContextVar(
    "job_threads", default=None
)


async def in_thread(function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`asyncio.to_thread` on the current job's threads (outside a job: the loop's own)."""
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, function, *args, **kwargs)
    try:  # the submission alone: a RuntimeError of `function` itself is not run again
        running = loop.run_in_executor(_THREADS.get(), call)
    except RuntimeError:  # a task that outlived its job: its key's threads are shut down
        running = loop.run_in_executor(None, call)
    return await running


class OverBudget(Failure):
    """A job ran longer than the operator allows (`job_timeout`) and was stopped."""


@asynccontextmanager
async def time_budget(seconds: float | None) -> AsyncIterator[None]:
    """Stop the block after `seconds` (None: no limit) with OverBudget. What it ran in threads
    ends on its own bounds (every peer's answers are bounded in time)."""
    budget = asyncio.timeout(seconds)
    try:
        async with budget:
            yield
    except TimeoutError:
        if not budget.expired():
            raise
        minutes = f"{seconds / 60:g} minutes" if seconds and seconds >= 60 else f"{seconds:g} s"
        raise OverBudget(
            f"stopped after {minutes}, the longest a job may run (the operator's `job_timeout`)"
        ) from None


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
        self._threads: dict[str, ThreadPoolExecutor] = {}
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
                threads = self._threads.get(key)
                if threads is None:
                    threads = ThreadPoolExecutor(THREADS_PER_KEY, thread_name_prefix=f"job {key}")
                    self._threads[key] = threads
                _THREADS.set(threads)  # this task's context only
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
                idle = self._threads.pop(key, None)
                if idle is not None:
                    idle.shutdown(wait=False)  # a thread still blocked ends on its own bounds

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
