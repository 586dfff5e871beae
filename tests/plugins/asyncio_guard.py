"""Fail any async test that leaves asyncio tasks running behind it.

A task nobody awaits hides its exception and keeps running into the next test; kopf's test suite
showed that catching them at the source is cheaper than debugging the next test's failure.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(item.obj):
            # First in, so torn down last: fixtures that own tasks (servers, clients) close them
            # before the check runs.
            item.fixturenames.insert(0, "no_pending_asyncio_tasks")


@pytest.fixture
async def no_pending_asyncio_tasks() -> AsyncIterator[None]:
    before = asyncio.all_tasks()
    yield
    await asyncio.sleep(0)  # let tasks that were just cancelled finish
    current = asyncio.current_task()
    leftover = [t for t in asyncio.all_tasks() - before if t is not current and not t.done()]
    # The loop closes an async generator left suspended (an answer stream given up on) in a
    # task of its own; such a finaliser must finish soon, and is no leak when it does.
    closing = [t for t in leftover if type(t.get_coro()).__name__ == "async_generator_athrow"]
    if closing:
        await asyncio.wait(closing, timeout=2)
        leftover = [t for t in leftover if not t.done()]
    for task in leftover:
        task.cancel()
    if leftover:
        names = ", ".join(sorted(repr(t.get_coro()) for t in leftover))
        pytest.fail(f"the test left {len(leftover)} asyncio task(s) running: {names}")
