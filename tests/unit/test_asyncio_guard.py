"""The guard fails an async test that leaves tasks behind, and passes one that does not."""

from __future__ import annotations

import asyncio

LEAKY = """
import asyncio

async def test_leaks_a_task():
    asyncio.get_running_loop().create_task(asyncio.sleep(3600))

async def test_cleans_up():
    task = asyncio.get_running_loop().create_task(asyncio.sleep(3600))
    task.cancel()
"""


def test_guard_fails_a_test_that_leaves_a_task_running(pytester):
    pytester.makepyfile(test_leaky=LEAKY)
    result = pytester.runpytest(
        "-p",
        "tests.plugins.asyncio_guard",
        "-o",
        "asyncio_mode=auto",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
    )
    # The leaky test itself passes; the guard turns its teardown into an error.
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*the test left 1 asyncio task(s) running*"])


async def test_a_clean_async_test_passes_the_guard():
    await asyncio.sleep(0)
