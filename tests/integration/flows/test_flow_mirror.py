"""End to end: a landscape with `bot.mirror` watches the upstream registry, and a new release is
copied into the operator's mirror (a second real registry, with auth), verified there, and only
then proposed, with `component.location` in the mirror."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli.main import main
from bot.ocm import open_reader, open_store
from bot.ocm.credentials import CredentialStore
from bot.ocm.location import parse_repository
from bot.ocm.reader import ComponentError, ComponentReader
from bot.server.resync import Resync
from bot.settings import MirrorSettings, RegistrySettings
from tests.integration.flows.test_flow_commands import reply_to
from tests.integration.flows.test_flow_upgrade import tree_of
from tests.integration.landscape_bot import REPO, LandscapeBot, serve_landscape
from tests.integration.ocm.test_transfer import image
from tests.peers.github import FakeGitHub
from tests.peers.github.app_key import AppKey
from tests.peers.registry import Registry
from tests.reference_case import CASE, ROOT_COMPONENT, config_text, release_constructor

pytestmark = pytest.mark.peers
UPGRADE = "bootstrap-bot/upgrade/main"


@dataclass(frozen=True)
class Upstream:
    repository: str  # where the releases are published
    mirror: str  # the operator's mirror
    docker_config: Path  # the mirror's credentials


def images_of_the_reference_release() -> list[tuple[str, str, str]]:
    """(component, resource, image reference) of every OCI image the reference release names."""
    data = yaml.safe_load((CASE / "component-constructor.yaml").read_text())
    return [
        (spec["name"], resource["name"], resource["access"]["imageReference"])
        for spec in data["components"]
        for resource in spec.get("resources") or []
        if (resource.get("access") or {}).get("type") == "ociArtifact"
    ]


@pytest.fixture
def upstream(oci_registry: Registry, oci_registry_basic_auth: Registry, tmp_path: Path) -> Upstream:
    """The reference release at v0.0.1 and v0.0.2 in the plain registry, every image it names
    pushed there too (small ones) so nothing reaches past 127.0.0.1."""
    run = secrets.token_hex(4)
    prefix = f"up-{run}"
    store = open_store(parse_repository(f"http://{oci_registry.host}/{prefix}"))
    images = {}
    for component, resource, reference in images_of_the_reference_release():
        path, _, tag = reference.partition("/")[2].rpartition(":")
        digest = image(store, f"{prefix}/{path}", tag, "amd64")
        images[(component, resource)] = f"{oci_registry.host}/{prefix}/{path}:{tag}@{digest}"
    repository = f"{oci_registry.host}/{prefix}"
    for version in ("v0.0.1", "v0.0.2"):
        constructor = release_constructor(
            tmp_path / f"{version}.yaml", root_version=version, images=images
        )
        argv = ["ocm", "build", str(constructor), "--to", repository, "--plain-http-loopback"]
        assert main(argv) == 0
    auth = f"{oci_registry_basic_auth.username}:{oci_registry_basic_auth.password}"
    secret = base64.b64encode(auth.encode()).decode()
    docker = tmp_path / "docker-config.json"
    docker.write_text(json.dumps({"auths": {oci_registry_basic_auth.host: {"auth": secret}}}))
    return Upstream(repository, f"{oci_registry_basic_auth.host}/mirror-{run}", docker)


def mirror_reader(upstream: Upstream) -> ComponentReader:
    """What the mirror holds, read with its credentials."""
    credentials = CredentialStore.from_texts(upstream.docker_config.read_text(), None)
    repository = parse_repository(upstream.mirror)
    return open_reader(repository, credentials=credentials, plain_http_loopback=True)


def landscape_config(upstream: Upstream) -> str:
    location = f"{upstream.repository}//{ROOT_COMPONENT}:v0.0.1"
    mirror = f"bot:\n  mirror:\n    from: {upstream.repository}\n    to: {upstream.mirror}\n"
    return config_text(location) + mirror


@asynccontextmanager
async def mirror_bot(
    fake_github: FakeGitHub,
    app_key: AppKey,
    aiohttp_client: Any,
    tmp_path: Path,
    upstream: Upstream,
    *,
    listed: bool,
) -> AsyncIterator[LandscapeBot]:
    mirrors = [MirrorSettings.model_validate({"from": upstream.repository, "to": upstream.mirror})]
    registry = RegistrySettings(
        plain_http_loopback=True,
        docker_config=upstream.docker_config,
        mirrors=mirrors if listed else [],
    )
    config = landscape_config(upstream)
    async with serve_landscape(
        fake_github, app_key, aiohttp_client, tmp_path, config=config, on_main=config,
        registry=registry,
    ) as bot:  # fmt: skip
        yield bot


async def test_a_new_release_is_mirrored_verified_and_proposed_from_the_mirror(
    fake_github: FakeGitHub, app_key: AppKey, aiohttp_client: Any, tmp_path: Path, upstream
):
    async with mirror_bot(
        fake_github, app_key, aiohttp_client, tmp_path, upstream, listed=True
    ) as bot:
        await Resync(bot.context).run_once()
        (pull,) = [p for p in bot.fake.pull_requests(REPO) if p.head == UPGRADE]
        body = pull.body or ""
        assert body.splitlines()[2].startswith(
            f"**Mirrored:** copied into `{upstream.mirror}` and verified there: 9 component "
            "versions, 12 OCI artifacts, "
        )
        proposed = tree_of(bot, UPGRADE)
        config = proposed[".bootstrap/config.yaml"].decode()
        assert f"  location: {upstream.mirror}//{ROOT_COMPONENT}:v0.0.2\n" in config
        flux = proposed["resources/fluxcd/kustomization.yaml"].decode()
        assert f"newName: {upstream.mirror}/fluxcd/source-controller" in flux

        # the mirror holds the release: every image a copy, pinned by digest
        graph = mirror_reader(upstream).resolve(ROOT_COMPONENT, "v0.0.2")
        images = [
            str(r.access["imageReference"])
            for cv in graph.versions.values()
            for r in cv.resources
            if r.access_type == "ociArtifact"
        ]
        assert len(images) == 12 and all(i.startswith(upstream.mirror + "/") for i in images)

        # an idle round transfers nothing again and leaves the pull request as it is
        await Resync(bot.context).run_once()
        (again,) = [p for p in bot.fake.pull_requests(REPO) if p.head == UPGRADE]
        assert again.body == pull.body
        metrics = await (await bot.client.get("/metrics")).text()
        assert 'bootstrap_bot_mirror_transfers_total{outcome="copied"} 1.0' in metrics

        # the landscape branch says how its last copy went, and so does its status
        (run,) = mirror_runs(bot)
        assert (run["conclusion"], run["output"]["title"]) == (
            "success", "v0.0.2 copied into the mirror and verified"
        )  # fmt: skip
        status = await ask_status(bot)
        assert "| mirror | ✅ v0.0.2 copied into the mirror and verified |" in status


async def test_a_mirror_the_operator_does_not_list_is_never_written(
    fake_github: FakeGitHub, app_key: AppKey, aiohttp_client: Any, tmp_path: Path, upstream
):
    async with mirror_bot(
        fake_github, app_key, aiohttp_client, tmp_path, upstream, listed=False
    ) as bot:
        await Resync(bot.context).run_once()
        assert [p for p in bot.fake.pull_requests(REPO) if p.head == UPGRADE] == []
        bot.repository.roles["walt"] = "write"
        number = bot.fake.state.next_issue_number(REPO)
        asked = bot.fake.add_comment(REPO, number, "/bootstrap upgrade", user="walt")
        await bot.deliver("issue_comment", bot.comment_event(asked, on_pull=False))
        said = reply_to(bot, number, asked.id)
        assert "is not a mirror the bot's operators list (setting `registry.mirrors`)" in said
        with pytest.raises(ComponentError, match="not found"):
            mirror_reader(upstream).get(ROOT_COMPONENT, "v0.0.2")

        # told on the landscape branch, where the status finds it; nothing half-proposed
        (run,) = mirror_runs(bot)
        assert run["conclusion"] == "failure"
        assert run["output"]["title"] == "Nothing can be copied into the mirror"
        assert "setting `registry.mirrors`" in run["output"]["summary"]
        status = await ask_status(bot)
        assert "| mirror | ❌ Nothing can be copied into the mirror |" in status
        assert [p for p in bot.fake.pull_requests(REPO) if p.head == UPGRADE] == []


def mirror_runs(bot: LandscapeBot) -> list[dict[str, Any]]:
    """The mirror check runs on the landscape branch's head (their fields, as GitHub has them)."""
    head = bot.repository.branch_sha("main")
    return [r.fields for r in bot.fake.state.check_runs.values()
            if r.name == "bootstrap-bot/mirror" and r.head_sha == head]  # fmt: skip


async def ask_status(bot: LandscapeBot) -> str:
    bot.repository.roles["walt"] = "write"
    number = bot.fake.state.next_issue_number(REPO)
    asked = bot.fake.add_comment(REPO, number, "/bootstrap status", user="walt")
    await bot.deliver("issue_comment", bot.comment_event(asked, on_pull=False))
    return reply_to(bot, number, asked.id)
