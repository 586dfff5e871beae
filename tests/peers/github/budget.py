"""GitHub's rate limits, as the fake enforces them on installation tokens.

From "Rate limits for the REST API" and "Rate limits for GitHub Apps" (docs.github.com):

- **primary**: an installation may send 5,000 requests an hour, plus 50 for each repository
  over 20, at most 12,500 (15,000 on GitHub Enterprise Cloud). The window starts with the
  first charged request and resets an hour later. A conditional request answered 304 is not
  charged. When the budget is spent GitHub answers 403 with `x-ratelimit-remaining: 0` and
  `x-ratelimit-reset`, and does nothing;
- **secondary**: at most 100 requests at once; at most 900 points a minute (a GET 1 point, a
  POST, PATCH, PUT or DELETE 5); at most 80 content-creating requests a minute and 500 an
  hour. Over any of them GitHub answers 403 with its "secondary rate limit" message and a
  `retry-after`.

The App's own JWT requests (tokens, installations) are not an installation's and are not
limited here.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

PRIMARY_MINIMUM = 5000
PER_REPOSITORY = 50
FREE_REPOSITORIES = 20
PRIMARY_MAXIMUM = 12_500
ENTERPRISE_CLOUD = 15_000
WINDOW_SECONDS = 3600
CONCURRENT = 100
POINTS_PER_MINUTE = 900
CONTENT_PER_MINUTE = 80
CONTENT_PER_HOUR = 500
#: what GitHub counts as creating content, of what the App does
CONTENT_CREATING = frozenset(
    {"pulls/create", "issues/create", "issues/create-comment", "pulls/create-review-comment"}
)
DOCUMENTATION = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID {request}."
)


class Limited(Exception):
    """A request GitHub refuses for a rate limit: its status, body and headers."""

    def __init__(self, message: str, headers: dict[str, str]) -> None:
        super().__init__(message)
        self.status = 403
        self.body = {"message": message, "documentation_url": DOCUMENTATION}
        self.headers = headers


def primary_limit(repositories: int, *, enterprise_cloud: bool = False) -> int:
    """Requests an hour an installation on this many repositories may send."""
    if enterprise_cloud:
        return ENTERPRISE_CLOUD
    bonus = PER_REPOSITORY * max(0, repositories - FREE_REPOSITORIES)
    return min(PRIMARY_MAXIMUM, PRIMARY_MINIMUM + bonus)


@dataclass
class _Window:
    limit: int
    reset: float
    used: int = 0


@dataclass
class _Secondary:
    in_flight: int = 0
    points: deque[tuple[float, int]] = field(default_factory=deque)
    created: deque[float] = field(default_factory=deque)


@dataclass
class RateLimits:
    """Every installation's windows; `clock` is the fake's."""

    clock: Callable[[], float]
    windows: dict[int, _Window] = field(default_factory=dict)
    secondary: dict[int, _Secondary] = field(default_factory=dict)
    #: requests refused, by kind ("primary", "concurrent", "points", "content")
    refused: dict[str, int] = field(default_factory=dict)
    #: whether the secondary limits hold, and the primary budget is spent (a benchmark's
    #: set-up may lift them)
    enforce_secondary: bool = True
    enforce_primary: bool = True
    _requests: int = 0

    def window(self, installation: int, limit: int) -> _Window:
        now = self.clock()
        window = self.windows.get(installation)
        if window is None or now >= window.reset:
            window = _Window(limit, now + WINDOW_SECONDS)
            self.windows[installation] = window
        window.limit = limit
        return window

    def admit(self, installation: int, limit: int, method: str, operation_id: str) -> None:
        """Refuse the request (`Limited`) if a limit is spent; else note it as in flight
        (`done` ends it)."""
        now = self.clock()
        window = self.window(installation, limit)
        if window.used >= window.limit:
            self._refuse("primary")
            # no retry-after: a client waits for x-ratelimit-reset
            message = f"API rate limit exceeded for installation ID {installation}."
            raise Limited(message, self.headers(window))
        state = self.secondary.setdefault(installation, _Secondary())
        if not self.enforce_secondary:
            state.in_flight += 1
            return
        _forget_before(state.points, now - 60)
        _forget_before(state.created, now - WINDOW_SECONDS)
        if state.in_flight >= CONCURRENT:
            self._secondary("concurrent", window, 60)
        cost = 1 if method in ("GET", "HEAD", "OPTIONS") else 5
        spent = sum(points for _, points in state.points)
        if spent + cost > POINTS_PER_MINUTE:
            self._secondary("points", window, math.ceil(state.points[0][0] + 60 - now))
        if operation_id in CONTENT_CREATING:
            last_minute = sum(1 for at in state.created if at > now - 60)
            if last_minute >= CONTENT_PER_MINUTE:
                self._secondary("content", window, 60)
            if len(state.created) >= CONTENT_PER_HOUR:
                wait = state.created[0] + WINDOW_SECONDS - now
                self._secondary("content", window, math.ceil(wait))
            state.created.append(now)
        state.points.append((now, cost))
        state.in_flight += 1

    def done(self, installation: int, *, charged: bool) -> dict[str, str]:
        """The request ended; charged to the primary budget unless it was a 304. The rate
        limit headers of its answer."""
        state = self.secondary.get(installation)
        if state is not None:
            state.in_flight = max(0, state.in_flight - 1)
        window = self.windows[installation]
        if charged and self.enforce_primary:
            window.used = min(window.limit, window.used + 1)
        return self.headers(window)

    def headers(self, window: _Window) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(window.limit),
            "X-RateLimit-Remaining": str(max(0, window.limit - window.used)),
            "X-RateLimit-Used": str(window.used),
            "X-RateLimit-Reset": str(math.ceil(window.reset)),
            "X-RateLimit-Resource": "core",
        }

    def _refuse(self, kind: str) -> None:
        self.refused[kind] = self.refused.get(kind, 0) + 1

    def _secondary(self, kind: str, window: _Window, wait: int) -> None:
        self._refuse(kind)
        self._requests += 1
        message = SECONDARY_MESSAGE.format(request=f"C0DE:{self._requests:06X}")
        raise Limited(message, {**self.headers(window), "retry-after": str(max(1, wait))})


def _forget_before(entries: deque[tuple[float, int]] | deque[float], horizon: float) -> None:
    while entries:
        first = entries[0]
        at = first[0] if isinstance(first, tuple) else first
        if at > horizon:
            return
        entries.popleft()
