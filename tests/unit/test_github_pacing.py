"""The bot's pace towards GitHub: under the secondary limits, slower as the budget runs low."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from bot.adapters.github.pacing import (
    BURST_POINTS,
    CONCURRENT,
    CREATES_PER_MINUTE,
    POINTS_PER_MINUTE,
    Pacer,
)
from tests.peers.github import budget as github


@dataclass
class Time:
    """A clock that moves only when the pacer sleeps."""

    now: float = 1_800_000_000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_pacer_s_limits_are_under_github_s():
    assert CONCURRENT < github.CONCURRENT
    assert POINTS_PER_MINUTE < github.POINTS_PER_MINUTE
    assert CREATES_PER_MINUTE < github.CONTENT_PER_MINUTE


async def test_a_burst_goes_out_then_requests_are_spaced_to_the_points_rate():
    time = Time()
    pacer = Pacer(time, time.sleep)
    started = time.now
    for _ in range(BURST_POINTS + 120):
        async with pacer.request("GET", "/repos/o/r"):
            pass
    assert len(time.slept) == 120  # the burst went out without a wait
    assert time.now - started == pytest.approx(120 * 60 / POINTS_PER_MINUTE)


async def test_writes_cost_five_points():
    time = Time()
    pacer = Pacer(time, time.sleep)
    for _ in range(BURST_POINTS // 5 + 10):
        async with pacer.request("PATCH", "/repos/o/r/check-runs/1"):
            pass
    assert sum(time.slept) == pytest.approx(10 * 5 * 60 / POINTS_PER_MINUTE)


async def test_content_creation_waits_for_the_minute_to_pass():
    time = Time()
    pacer = Pacer(time, time.sleep)
    started = time.now
    for n in range(CREATES_PER_MINUTE + 1):
        async with pacer.request("POST", f"/repos/o/r/issues/{n}/comments"):
            pass
    assert time.now - started >= 60.0


async def test_a_low_budget_spreads_the_rest_over_the_time_to_the_reset():
    time = Time()
    pacer = Pacer(time, time.sleep)
    reset = time.now + 1000
    headers = {"x-ratelimit-limit": "5000", "x-ratelimit-reset": str(reset)}
    pacer.answered({**headers, "x-ratelimit-remaining": "4000"})
    for _ in range(3):
        async with pacer.request("GET", "/repos/o/r"):
            pass
    assert time.slept == []  # ample: no spacing
    pacer.answered({**headers, "x-ratelimit-remaining": "100"})
    async with pacer.request("GET", "/repos/o/r"):
        pass
    async with pacer.request("GET", "/repos/o/r"):
        pass
    assert time.slept == [10.0]  # 1,000 s left, 100 requests left


async def test_no_more_than_the_concurrent_limit_are_in_flight():
    time = Time()
    pacer = Pacer(time, time.sleep)
    in_flight = peak = 0

    async def one() -> None:
        nonlocal in_flight, peak
        async with pacer.request("GET", "/repos/o/r"):
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0)
            in_flight -= 1

    await asyncio.gather(*(one() for _ in range(CONCURRENT * 2)))
    assert peak == CONCURRENT
