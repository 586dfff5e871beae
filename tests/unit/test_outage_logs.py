"""GitHub out of reach (a DNS failure) is one log line with its cause, never a traceback."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest

from bot.adapters.github.app import GitHubApp
from bot.adapters.github.retry import RetryPolicy
from bot.server.resync import Resync
from bot.services.context import BotContext
from bot.settings import Settings
from tests.peers.github.app_key import AppKey

DNS_FAILURE = "[Errno -2] Name or service not known"


def unresolvable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError(DNS_FAILURE, request=request)


async def no_wait(_: float) -> None:
    pass


async def test_a_resync_round_without_github_is_one_line(
    app_key: AppKey, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    async with httpx.AsyncClient(transport=httpx.MockTransport(unresolvable)) as client:
        github = GitHubApp(
            app_id=app_key.app_id,
            private_key=app_key.private_pem,
            client=client,
            base_url="https://github.example",
            policy=RetryPolicy(attempts=3),
            sleep=no_wait,
        )
        resync = Resync(BotContext(Settings(cache_dir=tmp_path), github))
        task = asyncio.create_task(resync.run_forever(3600))
        for _ in range(200):
            if any("resync round stopped" in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    said = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in said if "resync" in r.getMessage()] == [
        f"resync round stopped: GitHub is out of reach: {DNS_FAILURE}"
    ]
    assert all(r.exc_info is None for r in said), "an outage is no traceback"
    assert sum(len(r.getMessage()) for r in said) < 2000
