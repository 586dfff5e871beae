"""Fixtures for the end-to-end flows: a landscape repository and the bot serving it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import create_app
from bot.context import BotContext, open_landscape_reader
from bot.gitrepo import GitRepository
from bot.rerender import rerender_branch
from bot.settings import ClusterSettings, RegistrySettings, Settings
from handlers import router
from tests.conftest import AppKey
from tests.integration.landscape_bot import REPO, SECRET, SERVICE_PROVIDER, LandscapeBot
from tests.peers.github import FakeGitHub
from tests.peers.gitserver import commit_directly
from tests.reference_case import ROOT_COMPONENT, config_text, landscape_tree


def bot_settings(cache_dir: Path, clusters: dict[str, ClusterSettings] | None = None) -> Settings:
    return Settings(
        cache_dir=cache_dir,
        registry=RegistrySettings(plain_http_loopback=True),
        clusters=clusters or {},
    )


@asynccontextmanager
async def serve_landscape(
    fake_github: FakeGitHub,
    app_key: AppKey,
    aiohttp_client: Any,
    tmp_path: Path,
    *,
    config: str,
    on_main: str,
    clusters: dict[str, ClusterSettings] | None = None,
) -> AsyncIterator[LandscapeBot]:
    """`example-org/landscape`: main holds the config `on_main`, rendered as the bot leaves it;
    the bot serves it through the real webhook server. `config` is what the tests propose."""
    installation = fake_github.add_installation("example-org")
    repository = fake_github.add_repository(installation, "landscape")
    commit_directly(repository.bare, "main", dict(landscape_tree(on_main)))
    cache = GitRepository.in_cache(tmp_path / "setup", REPO, repository.clone_url)

    async def token() -> str:
        return str(fake_github.git.token)

    rendered = await rerender_branch(
        cache,
        branch="main",
        open_reader=partial(open_landscape_reader, bot_settings(tmp_path / "setup")),
        token=token,
        may_commit=True,
    )
    assert rendered.committed
    async with httpx.AsyncClient() as http:
        github = fake_github.app_client(app_key.private_pem, http)
        context = BotContext(bot_settings(tmp_path / "cache", clusters), github)
        app = create_app(webhook_secret=SECRET, router=router, context=context, queue=context.jobs)
        client = await aiohttp_client(app)
        yield LandscapeBot(fake_github, installation, repository, config, context, app, client)


@pytest.fixture
async def landscape_bot(
    fake_github: FakeGitHub, app_key: AppKey, aiohttp_client: Any, tmp_path: Path, reference_release
):
    """main is rendered from a config without the service provider."""
    config = config_text(f"{reference_release}//{ROOT_COMPONENT}:v0.0.1")
    without_provider = config.replace(SERVICE_PROVIDER, "")
    assert without_provider != config
    async with serve_landscape(
        fake_github, app_key, aiohttp_client, tmp_path, config=config, on_main=without_provider
    ) as bot:
        yield bot
