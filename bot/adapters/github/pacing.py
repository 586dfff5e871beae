"""How fast the bot asks GitHub, per installation: below GitHub's secondary limits always, and
slower as the hourly budget runs low, so a round spreads over the time left instead of
spending the budget and then waiting for its reset.

GitHub's limits (docs.github.com, "Rate limits for the REST API"): at most 100 requests at
once; at most 900 points a minute (a GET 1 point, a write 5); at most 80 content-creating
requests a minute and 500 an hour. The pacer keeps a margin under each: `CONCURRENT` at once,
`POINTS_PER_MINUTE` as a token bucket, `CREATES_PER_MINUTE`. When `x-ratelimit-remaining`
falls below `SLOW_BELOW` of the limit, requests are spaced so the rest lasts until
`x-ratelimit-reset`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

CONCURRENT = 32
POINTS_PER_MINUTE = 720
#: the points the bucket holds: a burst of this many GETs goes out at once
BURST_POINTS = 60
CREATES_PER_MINUTE = 60
SLOW_BELOW = 0.25
_CREATING = ("/pulls", "/comments", "/issues")


def points(method: str) -> int:
    return 1 if method in ("GET", "HEAD", "OPTIONS") else 5


def creates_content(method: str, url: str) -> bool:
    return method == "POST" and url.split("?")[0].endswith(_CREATING)


@dataclass
class _Budget:
    limit: int = 0
    remaining: int = 0
    reset: float = 0.0


class Pacer:
    """One installation's pace. `clock` is wall time (GitHub's reset is an epoch second)."""

    def __init__(
        self, clock: Callable[[], float], sleep: Callable[[float], Awaitable[None]]
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._slots = asyncio.Semaphore(CONCURRENT)
        self._lock = asyncio.Lock()
        self._bucket = float(BURST_POINTS)
        self._filled_at: float | None = None
        self._creates: list[float] = []
        self._next_at = 0.0
        self.budget = _Budget()

    @asynccontextmanager
    async def request(self, method: str, url: str) -> AsyncIterator[None]:
        """Hold a request until its turn; it stays counted as in flight inside the block."""
        async with self._slots:
            async with self._lock:  # turns are given in order
                await self._wait_turn(points(method), creates_content(method, url))
            yield

    def answered(self, headers: Mapping[str, str]) -> None:
        """Note what GitHub said of the budget."""
        limit, remaining = headers.get("x-ratelimit-limit"), headers.get("x-ratelimit-remaining")
        reset = headers.get("x-ratelimit-reset")
        if limit and remaining and reset and limit.isdigit() and remaining.isdigit():
            try:
                self.budget = _Budget(int(limit), int(remaining), float(reset))
            except ValueError:
                return

    async def _wait_turn(self, cost: int, creating: bool) -> None:
        now = self._clock()
        wait = max(0.0, self._next_at - now)
        # the points bucket
        self._refill(now)
        if self._bucket < cost:
            wait = max(wait, (cost - self._bucket) * 60.0 / POINTS_PER_MINUTE)
        # content creation, a minute back
        if creating:
            self._creates = [at for at in self._creates if at > now - 60.0]
            if len(self._creates) >= CREATES_PER_MINUTE:
                wait = max(wait, self._creates[0] + 60.0 - now)
        if wait > 0:
            await self._sleep(wait)
            now = self._clock()
            self._refill(now)
        self._bucket -= cost
        if creating:
            self._creates.append(now)
        self._next_at = now + self._spacing(now)

    def _refill(self, now: float) -> None:
        if self._filled_at is not None:
            gained = (now - self._filled_at) * POINTS_PER_MINUTE / 60.0
            self._bucket = min(float(BURST_POINTS), self._bucket + gained)
        self._filled_at = now

    def _spacing(self, now: float) -> float:
        """Seconds until the next request may go: none while the budget is ample, else the
        time left in the window shared by the requests left."""
        budget = self.budget
        if not budget.limit or budget.remaining >= budget.limit * SLOW_BELOW:
            return 0.0
        left = max(0.0, budget.reset - now)
        return left / max(1, budget.remaining)
