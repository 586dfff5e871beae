"""The composition root: the one place that builds the bot's clients and wires them together.

`serve` is `bootstrap-bot serve`: one GitHub App (with its one HTTP client), the context every job
is given, the aiohttp app with the handlers of `handlers/`, and, on the Lease holder only, the
resync loop; until SIGTERM.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from bot.adapters.github.app import GitHubApp
from bot.adapters.leases.leader import SoleProcess, leadership
from bot.server.http import bot_application, run_server
from bot.server.resync import Resync
from bot.services.context import BotContext
from bot.settings import Settings


async def serve(settings: Settings, *, app_id: int, private_key: str) -> None:
    """The App as `bootstrap-bot serve` runs it: one shared HTTP client for GitHub, the
    handlers of `handlers/`, until SIGTERM."""
    assert settings.webhook_secret is not None
    registry = CollectorRegistry()
    async with GitHubApp.open(
        app_id=app_id,
        private_key=private_key,
        base_url=settings.github_api_url,
        registry=registry,
    ) as github:
        context = BotContext(settings, github, metrics=registry)
        async with leadership(settings.leader_election) as leader:
            if isinstance(leader, SoleProcess) and context.schedule is not None:
                # the only process: a check run it did not start is nobody's any more
                started = datetime.now(UTC).replace(microsecond=0)
                context.schedule = replace(context.schedule, orphaned_before=started)
            app = bot_application(context, settings.webhook_secret.get_secret_value())
            background = []
            if settings.resync:
                resync = Resync(context, leader)
                interval = settings.poll_interval.total_seconds()
                retry = settings.leader_election.duration.total_seconds() / 3
                background.append(
                    asyncio.create_task(
                        resync.run_forever(interval, follower_retry=retry), name="resync"
                    )
                )
            try:
                await run_server(app, settings.listen_host, settings.listen_port)
            finally:
                for task in background:
                    task.cancel()
                await asyncio.gather(*background, return_exceptions=True)
