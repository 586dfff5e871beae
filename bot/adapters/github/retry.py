"""How the bot talks to GitHub's REST API: gidgethub over httpx with one retry policy.

Rate limits wait as GitHub says (`Retry-After`, `X-RateLimit-Reset`); server errors back off
exponentially where repeating the request is safe (`retry_delay`, pure). A wait longer than a job
accepts is `RateLimited`; GitHub failing or out of reach is `GitHubUnavailable`: both are
`Temporary`. GETs are conditional (gidgethub's ETag cache, bounded here), so an unchanged answer
is a 304 that GitHub does not charge against the rate limit. Every request waits its turn
(`pacing`): under the secondary limits, and slower as the hourly budget runs low.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import aclosing, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from gidgethub import GitHubBroken, HTTPException, RateLimitExceeded
from gidgethub import httpx as gh_httpx
from prometheus_client import CollectorRegistry, Counter, Gauge

from bot.adapters.github.pacing import Pacer
from bot.core.failures import Temporary
from bot.kit.peers import PEERS

log = logging.getLogger(__name__)


REQUESTER = "bootstrap-bot"
#: one answer in all: its time and its size (GitHub's run to kilobytes; contents come at most
#: 1 MB a file through the contents API)
TOTAL_SECONDS = 120.0
MAX_RESPONSE_BYTES = 32 * 1024 * 1024


# Requests that are safe to repeat after a 5xx: the server may have done them already.
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})


_SAFE_POSTS = ("/access_tokens", "/reactions")


class GitHubUnavailable(Temporary):
    """GitHub failed on its side (5xx), is out of reach, or its rate limit is used up."""


class RateLimited(Temporary):
    """GitHub asked the bot to wait longer than it is willing to wait inside one job."""


@contextmanager
def unavailable_as_temporary() -> Iterator[None]:
    """GitHub failing on its side, or out of reach, as a `GitHubUnavailable` that says which,
    in one line (the cause of a connection failure included: DNS, refused, reset)."""
    try:
        yield
    except RateLimitExceeded as exc:
        raise GitHubUnavailable(f"GitHub's rate limit is used up: {exc}") from None
    except GitHubBroken as exc:
        raise GitHubUnavailable(f"GitHub answered {exc.status_code}") from None
    except httpx.TransportError as exc:
        cause = str(exc).strip() or type(exc).__name__
        raise GitHubUnavailable(f"GitHub is out of reach: {cause[:200]}") from None


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    backoff: float = 0.5  # first wait after a server error, doubled each time
    secondary_wait: float = 60.0  # GitHub's advice when a secondary limit gives no header
    max_wait: float = 900.0


def retry_delay(
    policy: RetryPolicy,
    *,
    method: str,
    url: str,
    status: int,
    headers: Mapping[str, str],
    message: str,
    attempt: int,
    now: float,
) -> float | None:
    """Seconds to wait before repeating a failed request, or None to give up on it."""
    if attempt >= policy.attempts:
        return None
    retry_after = headers.get("retry-after")
    remaining = headers.get("x-ratelimit-remaining")
    rate_limited = status == 429 or (
        status == 403
        and (retry_after is not None or remaining == "0" or "rate limit" in message.lower())
    )
    if rate_limited:
        if retry_after is not None and retry_after.strip().isdigit():
            return float(retry_after)
        reset = headers.get("x-ratelimit-reset")
        if remaining == "0" and reset is not None:
            return max(0.0, float(reset) - now) + 1.0
        return float(policy.secondary_wait * 2 ** (attempt - 1))
    if status >= 500 and repeatable(method, url):
        return float(policy.backoff * 2 ** (attempt - 1))
    return None


def repeatable(method: str, url: str) -> bool:
    """Whether sending the request twice does what sending it once does."""
    return method in _IDEMPOTENT or url.split("?")[0].endswith(_SAFE_POSTS)


def transport_delay(policy: RetryPolicy, *, method: str, url: str, attempt: int) -> float | None:
    """Seconds to wait before repeating a request whose connection failed, or None."""
    if attempt >= policy.attempts or not repeatable(method, url):
        return None
    return float(policy.backoff * 2 ** (attempt - 1))


class GitHubMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "bootstrap_bot_github_requests",
            "GitHub REST requests by method and status",
            ["method", "status"],
            registry=registry,
        )
        self.remaining = Gauge(
            "bootstrap_bot_github_rate_limit_remaining",
            "Requests left in GitHub's rate limit window",
            ["installation"],
            registry=registry,
        )
        self.retries = Counter(
            "bootstrap_bot_github_retries",
            "GitHub requests repeated after a rate limit or server error",
            ["reason"],
            registry=registry,
        )
        self.checks_completed = Counter(
            "bootstrap_bot_check_runs_completed",
            "Check runs the bot completed with a new result (render, dry run, deploy outcomes)",
            ["check", "conclusion"],
            registry=registry,
        )


class GitHubAPI(gh_httpx.GitHubAPI):
    """gidgethub's httpx backend with the bot's retry policy, clock and metrics."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        label: str,
        base_url: str,
        policy: RetryPolicy,
        metrics: GitHubMetrics,
        sleep: Callable[[float], Awaitable[None]],
        clock: Callable[[], float],
        app_id: int | None = None,
        private_key: str | None = None,
        cache: ETagCache | None = None,
    ) -> None:
        super().__init__(
            client,
            REQUESTER,
            base_url=base_url,
            cache=cache,
            app_id=None if app_id is None else str(app_id),
            private_key=private_key,
        )
        self._label = label
        self._policy = policy
        self._metrics = metrics
        self._sleep = sleep
        self._clock = clock
        self.pacer = Pacer(clock, asyncio.sleep)  # real waits: a test's sleep is for retries

    async def sleep(self, seconds: float) -> None:
        await self._sleep(seconds)

    @property
    def attempts(self) -> int:
        return self._policy.attempts

    async def pause(self, attempt: int) -> None:
        """The wait after the `attempt`-th failed try of something not safe to repeat blindly."""
        self._metrics.retries.labels("lookup").inc()
        await self.sleep(self._policy.backoff * 2 ** (attempt - 1))

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        """One request, streamed: httpx's timeouts hold each read, this the whole answer, in
        time (TOTAL_SECONDS) and in size (MAX_RESPONSE_BYTES). A request safe to repeat is
        repeated when the connection fails (refused, reset, timed out) as after a 5xx; any other
        is left to its caller, who looks for what it may have created before sending it again
        (`InstallationClient`)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self.pacer.request(method, url):
                    answer = await self._answer(method, url, headers, body)
                status, response_headers, content = answer
                if status not in (403, 429):  # a refusal's wait is the retry's (below)
                    self.pacer.answered(response_headers)
                break
            except httpx.TransportError as error:
                delay = transport_delay(self._policy, method=method, url=url, attempt=attempt)
                if delay is None:
                    PEERS.failed("github", f"{method} {url}: {str(error) or type(error).__name__}")
                    raise
                self._metrics.retries.labels("connection").inc()
                log.warning("%s %s failed (%s); retrying in %.1fs", method, url, error, delay)
                await self.sleep(delay)
        if status >= 500:
            PEERS.failed("github", f"{method} {url} answered {status}")
        else:
            PEERS.answered("github")
        self._metrics.requests.labels(method, str(status)).inc()
        remaining = response_headers.get("x-ratelimit-remaining")
        if remaining is not None and remaining.isdigit():
            self._metrics.remaining.labels(self._label).set(int(remaining))
        return status, response_headers, content

    async def _answer(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, httpx.Headers, bytes]:
        try:
            async with asyncio.timeout(TOTAL_SECONDS):
                return await self._bounded(method, url, headers, body)
        except TimeoutError:
            said = f"{method} {url} took longer than {TOTAL_SECONDS:.0f} s"
            raise httpx.ReadTimeout(said) from None

    async def _bounded(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, httpx.Headers, bytes]:
        request = self._client.build_request(method, url, headers=dict(headers), content=body)
        response = await self._client.send(request, stream=True)
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
                raise httpx.RemoteProtocolError(f"{method} {url}: the answer has {declared} bytes")
            content = bytearray()
            # decoded, so a gzip bomb counts whole; closed here, not by the garbage collector
            async with aclosing(response.aiter_bytes()) as chunks:
                async for chunk in chunks:
                    content += chunk
                    if len(content) > MAX_RESPONSE_BYTES:
                        raise httpx.RemoteProtocolError(f"{method} {url}: the answer is too large")
        finally:
            await response.aclose()
        return response.status_code, response.headers, bytes(content)

    async def handle_rate_limit_error(
        self, *, method: str, url: str, exception: HTTPException, attempt: int
    ) -> bool:
        status = int(exception.status_code)
        delay = retry_delay(
            self._policy,
            method=method,
            url=url,
            status=status,
            headers=exception.headers,
            message=str(exception),
            attempt=attempt,
            now=self._clock(),
        )
        if delay is None:
            return False
        if delay > self._policy.max_wait:
            raise RateLimited(
                f"GitHub asks to wait {delay:.0f}s before {method} {url}; giving up for now",
                retry_after=delay,
            ) from exception
        reason = "server_error" if status >= 500 else "rate_limit"
        self._metrics.retries.labels(reason).inc()
        log.warning("%s %s answered %d; retrying in %.1fs", method, url, status, delay)
        await self.sleep(delay)
        return True


class ETagCache(OrderedDict[str, Any]):
    """gidgethub's ETag cache, bounded: the least recently used answers are dropped."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self._size = size

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        self.move_to_end(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self._size:
            self.popitem(last=False)
