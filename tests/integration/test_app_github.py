"""The webhook server, the GitHub App and the fake GitHub together: deliveries become API calls
as the installation, and `bootstrap-bot serve` runs as operators start it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from gidgethub import routing
from gidgethub.sansio import Event
from prometheus_client import CollectorRegistry

from bot.app import QUEUE, create_app
from bot.context import BotContext
from bot.settings import Settings
from tests.peers.github import FakeGitHub
from tests.peers.github.payloads import example, signed
from tests.peers.gitserver import commit_directly
from tests.peers.net import free_port

pytestmark = pytest.mark.peers
SECRET = "webhook-secret-for-tests"


def push_delivery(installation_id: int, full_name: str) -> tuple[bytes, dict[str, str]]:
    """GitHub's push example, re-addressed to the fake's installation and repository."""
    payload = example("push")
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
        for _ in range(12):
            body, headers = push_delivery(installation.id, repository.full_name)
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
    port = free_port()
    key_file = tmp_path / "app.pem"
    key_file.write_text(app_key.private_pem)
    env = {
        **os.environ,
        "BOOTSTRAP_BOT_APP_ID": str(app_key.app_id),
        "BOOTSTRAP_BOT_PRIVATE_KEY_FILE": str(key_file),
        "BOOTSTRAP_BOT_WEBHOOK_SECRET": SECRET,
        "BOOTSTRAP_BOT_LISTEN": f"127.0.0.1:{port}",
        "BOOTSTRAP_BOT_CACHE_DIR": str(tmp_path / "cache"),
        "BOOTSTRAP_BOT_GITHUB_API_URL": "http://127.0.0.1:9",  # never called by a ping
    }
    env.pop("BOOTSTRAP_BOT_SETTINGS_FILE", None)
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], env=env, stdout=output, stderr=output
        )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text()
            time.sleep(0.05)
        body, headers = signed("ping", example("ping"), SECRET)
        assert httpx.post(f"{base}/webhook", content=body, headers=headers).status_code == 202
        assert httpx.get(f"{base}/readyz").status_code == 200
        metrics = httpx.get(f"{base}/metrics").text
        assert 'bootstrap_bot_webhook_deliveries_total{event="ping",outcome="accepted"} 1.0' in (
            metrics
        )
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert SECRET not in log.read_text()
    assert "webhook ping" in log.read_text()
