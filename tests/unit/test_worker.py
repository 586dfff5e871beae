"""The job queue: one job at a time per key, keys side by side, bounded, drained on shutdown."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.kit.jobs import Draining, Job, JobQueue, OverBudget, QueueFull, in_thread, time_budget


async def test_jobs_for_one_key_run_in_order_one_at_a_time_and_other_keys_overlap():
    queue = JobQueue()
    log: list[str] = []
    gate = asyncio.Event()

    def job(name: str, wait: bool = False):
        async def run() -> None:
            log.append(f"start {name}")
            if wait:
                await gate.wait()
            log.append(f"end {name}")

        return run

    queue.submit("repo:a", job("a1", wait=True))
    queue.submit("repo:a", job("a2"))
    queue.submit("repo:b", job("b1"))
    await asyncio.sleep(0.01)
    assert log == ["start a1", "start b1", "end b1"]  # a2 waits for a1; b1 does not
    gate.set()
    assert await queue.drain(5)
    assert log[3:] == ["end a1", "start a2", "end a2"]
    assert (queue.completed, queue.failures, queue.depth) == (3, 0, 0)


async def test_a_failing_job_is_counted_and_the_next_one_for_its_key_runs():
    queue = JobQueue()
    ran = []

    async def fails() -> None:
        raise RuntimeError("boom")

    async def runs() -> None:
        ran.append(True)

    queue.submit("k", fails)
    queue.submit("k", runs)
    assert await queue.drain(5)
    assert ran == [True] and queue.failures == 1


async def test_full_and_draining_queues_refuse_and_drain_cancels_what_overruns():
    queue = JobQueue(max_jobs=1)
    never = asyncio.Event()

    async def stuck() -> None:
        await never.wait()

    queue.submit("k", stuck)
    with pytest.raises(QueueFull):
        queue.submit("other", stuck)
    assert not await queue.drain(0.01)  # the stuck job is cancelled
    assert queue.depth == 0
    with pytest.raises(Draining):
        queue.submit("k", stuck)


async def test_settle_waits_for_every_job_and_keeps_taking_new_ones():
    queue = JobQueue()
    done: list[str] = []

    async def second() -> None:
        done.append("second")

    async def first() -> None:
        await asyncio.sleep(0)
        queue.submit("k", second)
        done.append("first")

    queue.submit("k", first)
    await queue.settle()
    assert done == ["first", "second"] and queue.depth == 0 and not queue.draining
    queue.submit("k", second)  # still taking jobs
    await queue.settle()
    assert done == ["first", "second", "second"]


async def test_a_key_whose_threads_are_all_blocked_does_not_hold_another_key_s():
    queue = JobQueue()
    release = threading.Event()
    done: list[str] = []

    def blocked_job() -> Job:
        async def run() -> None:
            # more blocked calls than the loop's own pool has threads
            await asyncio.gather(*(in_thread(release.wait, 10) for _ in range(40)))

        return run

    async def other() -> None:
        done.append(await in_thread(lambda: threading.current_thread().name))

    queue.submit("repo:stuck", blocked_job())
    await asyncio.sleep(0.05)
    try:
        await asyncio.wait_for(queue.submit("repo:other", other), timeout=10)
    finally:
        release.set()
    assert done and done[0].startswith("job repo:other")
    assert await queue.drain(10)


async def test_a_job_past_its_budget_is_stopped_with_a_failure_that_says_so():
    with pytest.raises(OverBudget, match=r"stopped after 0.05 s, the longest a job may run"):
        async with time_budget(0.05):
            await asyncio.sleep(10)
    async with time_budget(None):  # no limit
        await asyncio.sleep(0)


async def test_a_timeout_of_the_job_s_own_is_not_taken_for_the_budget():
    with pytest.raises(TimeoutError):
        async with time_budget(10):
            await asyncio.wait_for(asyncio.sleep(10), timeout=0.01)


async def test_a_function_that_raises_runtime_error_runs_once():
    calls: list[int] = []

    def failing() -> None:
        calls.append(1)
        raise RuntimeError("its own")

    with pytest.raises(RuntimeError, match="its own"):
        await in_thread(failing)
    assert calls == [1]


async def test_a_task_that_outlives_its_job_still_runs_its_blocking_work():
    queue = JobQueue()
    later = asyncio.Event()
    spawned: list[asyncio.Task[int]] = []

    async def job() -> None:
        async def after() -> int:
            await later.wait()
            return await in_thread(lambda: 42)

        spawned.append(asyncio.create_task(after()))

    await queue.submit("repo:a", job)  # the job ends; its key's threads are shut down
    later.set()
    assert await spawned[0] == 42
