"""The GitHub App: its JWTs, one installation token per installation (minted once, reused until
shortly before it expires; concurrent jobs share one mint), and one client per installation.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from prometheus_client import CollectorRegistry

from bot.adapters.github.client import CONTENTS_CACHE_BYTES, ContentCache, InstallationClient
from bot.adapters.github.retry import (
    ETagCache,
    GitHubAPI,
    GitHubMetrics,
    RetryPolicy,
    unavailable_as_temporary,
)

log = logging.getLogger(__name__)


#: Connections to GitHub the App may hold: GitHub's limit of requests at once (each
#: installation's pacer lets `pacing.CONCURRENT` of them run). All may stay open between
#: requests: httpcore closes every idle connection while the pool holds more than its keep-alive
#: count (it counts all connections, not the idle ones), so a smaller count reconnects (a TLS
#: handshake each) on most requests whenever more than that many are running.
CONNECTIONS = 100


def http_client() -> httpx.AsyncClient:
    """The HTTP client the App talks to GitHub with."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(30.0, connect=10.0),
        limits=httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS),
    )


#: A cached installation token is renewed this long before GitHub says it expires.
TOKEN_RENEW_MARGIN = 300.0


@dataclass
class _Token:
    value: str
    expires_at: float


def _epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


class GitHubApp:
    """The App: JWTs, installation tokens (cached), and one client per installation."""

    def __init__(
        self,
        *,
        app_id: int,
        private_key: str,
        client: httpx.AsyncClient,
        base_url: str = "https://api.github.com",
        registry: CollectorRegistry | None = None,
        policy: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_id = app_id
        self._client = client
        self._base_url = base_url
        self._policy = policy
        self._sleep = sleep
        self.clock = clock
        self.metrics = GitHubMetrics(registry or CollectorRegistry())
        self._app_api = self._api("app", app_id=app_id, private_key=private_key)
        self._tokens: dict[int, _Token] = {}
        self._token_locks: dict[int, asyncio.Lock] = {}
        self._installations: dict[int, InstallationClient] = {}
        self._contents = ContentCache(CONTENTS_CACHE_BYTES)

    @classmethod
    @asynccontextmanager
    async def open(
        cls, *, app_id: int, private_key: str, base_url: str, registry: CollectorRegistry
    ) -> AsyncIterator[GitHubApp]:
        """The App with an HTTP client of its own, closed at the end."""
        async with http_client() as client:
            yield cls(
                app_id=app_id,
                private_key=private_key,
                client=client,
                base_url=base_url,
                registry=registry,
            )

    def _api(self, label: str, **kwargs: Any) -> GitHubAPI:
        return GitHubAPI(
            self._client,
            label=label,
            base_url=self._base_url,
            policy=self._policy,
            metrics=self.metrics,
            sleep=self._sleep,
            clock=self.clock,
            **kwargs,
        )

    async def installation_token(self, installation_id: int) -> str:
        """A token for the installation, minted once and reused until shortly before expiry."""
        lock = self._token_locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            token = self._tokens.get(installation_id)
            if token is None or self.clock() >= token.expires_at - TOKEN_RENEW_MARGIN:
                answer = await self._app_api.post(
                    "/app/installations/{installation_id}/access_tokens",
                    {"installation_id": installation_id},
                    data=b"",
                )
                token = _Token(answer["token"], _epoch(answer["expires_at"]))
                self._tokens[installation_id] = token
            return token.value

    def forget_token(self, installation_id: int, value: str) -> None:
        """Drop a token GitHub refused (revoked, or the clocks disagree), unless already renewed."""
        token = self._tokens.get(installation_id)
        if token is not None and token.value == value:
            del self._tokens[installation_id]

    async def installation_id_for(self, repository: str) -> int:
        owner, repo = repository.split("/", 1)
        with unavailable_as_temporary():
            answer = await self._app_api.getitem(
                "/repos/{owner}/{repo}/installation", {"owner": owner, "repo": repo}
            )
        return int(answer["id"])

    async def app_name(self) -> str:
        """The App the credentials belong to (GET /app, with the App's JWT)."""
        with unavailable_as_temporary():
            answer = await self._app_api.getitem("/app")
        return str(answer.get("slug") or answer.get("name") or self.app_id)

    async def installation_ids(self) -> list[int]:
        with unavailable_as_temporary():
            return [int(i["id"]) async for i in self._app_api.getiter("/app/installations")]

    def installation(self, installation_id: int) -> InstallationClient:
        client = self._installations.get(installation_id)
        if client is None:
            api = self._api(str(installation_id), cache=ETagCache(512))
            client = InstallationClient(self, installation_id, api, self._contents)
            self._installations[installation_id] = client
        return client
