"""GitHub answers are bounded like every peer's: one that grows without end or trickles is cut
off, and that is GitHub out of reach (a Temporary), never a hang."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from aiohttp import web

from bot.adapters.github import retry
from bot.adapters.github.app import GitHubApp
from bot.adapters.github.retry import GitHubUnavailable
from tests.peers.net import LOOPBACK, free_port

pytestmark = pytest.mark.peers
Answer = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def token(_: web.Request) -> web.Response:
    return web.json_response({"token": "t0k3n", "expires_at": "2999-01-01T00:00:00Z"}, status=201)


@pytest.fixture
async def github_answering() -> AsyncIterator[Callable[[Answer], Awaitable[str]]]:
    runners: list[web.AppRunner] = []

    async def start(answer: Answer) -> str:
        app = web.Application()
        app.router.add_post("/app/installations/1/access_tokens", token)
        app.router.add_get("/repos/o/r", answer)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, LOOPBACK, port).start()
        runners.append(runner)
        return f"http://{LOOPBACK}:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


async def endless(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    try:
        for _ in range(1000):
            await response.write(b" " * 65536)
    except ConnectionError:
        pass  # the bot hung up, as it should
    return response


async def trickle(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    try:
        for _ in range(200):
            await response.write(b" ")
            await asyncio.sleep(0.05)
    except ConnectionError:
        pass
    return response


@pytest.mark.parametrize(
    ("answer", "limit", "value"),
    [(endless, "MAX_RESPONSE_BYTES", 256 * 1024), (trickle, "TOTAL_SECONDS", 0.5)],
)
async def test_an_answer_past_its_bounds_is_github_out_of_reach(
    github_answering, app_key, monkeypatch, answer, limit, value
):
    monkeypatch.setattr(retry, limit, value)
    url = await github_answering(answer)
    async with httpx.AsyncClient() as client:
        app = GitHubApp(app_id=1, private_key=app_key.private_pem, client=client, base_url=url)
        with pytest.raises(GitHubUnavailable, match="GitHub is out of reach"):
            await app.installation(1).repository("o/r")
