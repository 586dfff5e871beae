"""The webhook server, the GitHub App and the fake GitHub together: deliveries become API calls
as the installation, and `bootstrap-bot serve` runs as operators start it."""

from __future__ import annotations

import signal
import time

import httpx
import pytest
from gidgethub import routing
from gidgethub.sansio import Event
from prometheus_client import CollectorRegistry

from bot.server.http import QUEUE, create_app
from bot.services.context import BotContext
from bot.settings import Settings
from tests.integration.serve_process import serve, serve_environment
from tests.peers.github import FakeGitHub
from tests.peers.github.payloads import example, signed
from tests.peers.gitserver import commit_directly

pytestmark = pytest.mark.peers
SECRET = "webhook-secret-for-tests"


def push_delivery(
    installation_id: int, full_name: str, ref: str = "refs/heads/main"
) -> tuple[bytes, dict[str, str]]:
    """GitHub's push example, re-addressed to the fake's installation and repository."""
    payload = example("push")
    payload["ref"] = ref
    payload["installation"] = {"id": installation_id, "node_id": "I_1"}
    payload["repository"]["full_name"] = full_name
    payload["repository"]["name"] = full_name.split("/")[1]
    return signed("push", payload, SECRET)


async def test_many_deliveries_for_one_installation_mint_one_token(
    fake_github: FakeGitHub, app_key, aiohttp_client, tmp_path
):
    installation = fake_github.add_installation("example-org")
    repository = fake_github.add_repository(installation, "landscape")
    head = commit_directly(repository.bare, "main", {"README.md": b"hi\n"})
    seen: list[str | None] = []
    router = routing.Router()

    @router.register("push")
    async def read_head(event: Event, context: BotContext) -> None:
        client = context.installation(event.data)
        seen.append(await client.read_ref(event.data["repository"]["full_name"], "main"))

    registry = CollectorRegistry()
    async with httpx.AsyncClient() as http:
        github = fake_github.app_client(app_key.private_pem, http, registry=registry)
        settings = Settings(cache_dir=tmp_path / "cache")
        app = create_app(
            webhook_secret=SECRET,
            router=router,
            context=BotContext(settings, github),
            registry=registry,
        )
        client = await aiohttp_client(app)
        for n in range(12):  # pushes to twelve branches: none joins another's job
            body, headers = push_delivery(installation.id, repository.full_name, f"refs/heads/{n}")
            assert (await client.post("/webhook", data=body, headers=headers)).status == 202
        await app[QUEUE].drain(10)
        metrics = await (await client.get("/metrics")).text()

    assert seen == [head] * 12
    assert len(fake_github.calls("apps/create-installation-access-token")) == 1
    assert f'bootstrap_bot_github_rate_limit_remaining{{installation="{installation.id}"}}' in (
        metrics
    )


def test_serve_starts_answers_and_drains_on_sigterm(tmp_path, app_key):
    """The real `bootstrap-bot serve` process: settings from the environment, ping answered,
    probes and metrics served, SIGTERM ends it cleanly."""
    env = serve_environment(
        tmp_path,
        app_id=app_key.app_id,
        private_pem=app_key.private_pem,
        secret=SECRET,
        github_url="http://127.0.0.1:9",  # never called: a ping needs no API, no resync runs
        resync="false",
    )
    with serve(env, tmp_path / "serve.log") as bot:
        for _ in range(200):
            if bot.healthy():
                break
            time.sleep(0.05)
        body, headers = signed("ping", example("ping"), SECRET)
        assert httpx.post(f"{bot.base}/webhook", content=body, headers=headers).status_code == 202
        assert httpx.get(f"{bot.base}/readyz").status_code == 200
        metrics = httpx.get(f"{bot.base}/metrics").text
        assert 'bootstrap_bot_webhook_deliveries_total{event="ping",outcome="accepted"} 1.0' in (
            metrics
        )
        bot.process.send_signal(signal.SIGTERM)
        assert bot.process.wait(timeout=30) == 0, bot.log.read_text()
    assert SECRET not in bot.log.read_text()
    assert "webhook ping" in bot.log.read_text()
