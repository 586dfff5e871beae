"""End to end: the `flux-system/git` Secret from each kind of git credentials an operator can
configure for a cluster, with the keys Flux's source-controller reads."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.keys import new_key_pair
from bot.core.names import DEPLOY_CHECK
from bot.settings import GitCredentials
from tests.integration.deployment import (
    GIT_SECRET,
    Deployment,
    check_run,
    everything_told,
    merged,
    run_deployment,
)
from tests.integration.landscape_bot import REPO
from tests.peers.github import FakeGitHub
from tests.peers.github.app_key import AppKey
from tests.peers.kubernetes.resources import NAMESPACES, SECRETS

pytestmark = pytest.mark.peers
SSH_ORIGIN = "ssh://git@github.com/example-org/landscape"
KNOWN_HOSTS = (
    b"github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
)
TOKEN = "bearer-token-of-the-landscape"

Start = Callable[..., Any]


@pytest.fixture
def start(
    fake_github: FakeGitHub,
    app_key: AppKey,
    aiohttp_client: Any,
    tmp_path: Path,
    reference_release: str,
) -> Start:
    """A deployment of main to `dev` with the given git credentials and `repository.url`."""

    @asynccontextmanager
    async def started(
        git: GitCredentials, origin: str, *, administration: bool = True
    ) -> AsyncIterator[Deployment]:
        """`administration`: the installation granted it (deploy keys need it)."""
        async with run_deployment(
            fake_github,
            app_key,
            aiohttp_client,
            tmp_path,
            reference_release,
            repositories=[REPO],
            branches=["main"],
            git=git,
            origin=origin,
        ) as deployment:
            if administration:
                deployment.bot.installation.permissions["administration"] = "write"
            yield deployment

    return started


def secret_data(deployment: Deployment) -> dict[str, bytes]:
    secret = deployment.kube.store.objects[GIT_SECRET]
    return {k: base64.b64decode(v) for k, v in secret["data"].items()}


async def applied(deployment: Deployment) -> tuple[Any, str, dict[str, Any]]:
    """A merged change, applied with Flux running: the PR, the merge and its check run."""
    bot = deployment.bot
    pull, merge = await merged(bot)
    async with deployment.flux.running():
        await bot.deliver("pull_request", bot.pull_request_event(pull, "closed"))
    return pull, merge, check_run(bot, merge, DEPLOY_CHECK).fields


def known_hosts(tmp_path: Path) -> Path:
    path = tmp_path / "known_hosts"
    path.write_bytes(KNOWN_HOSTS)
    return path


async def test_a_deploy_key_is_created_kept_and_rotated(
    start: Start, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    git = GitCredentials(type="deploy-key", known_hosts_file=known_hosts(tmp_path))
    async with start(git, SSH_ORIGIN) as deployment:
        bot, kube = deployment.bot, deployment.kube
        keys = bot.fake.state.deploy_keys

        # 1. The first apply makes a key: its public half on the repository, read-only, and
        # its private half in the cluster only.
        pull, _, run = await applied(deployment)
        assert run["conclusion"] == "success", run["output"]
        data = secret_data(deployment)
        assert sorted(data) == ["identity", "identity.pub", "known_hosts"]
        assert data["known_hosts"] == KNOWN_HOSTS
        assert data["identity"].startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
        (first,) = keys.values()
        assert first.read_only and first.repository == REPO
        assert first.key.split()[:2] == data["identity.pub"].decode().split()[:2]
        assert first.title == "bootstrap-bot: Flux on cluster dev (main)"

        # 2. Applied again: the key is kept, the Secret is not touched.
        version = kube.store.objects[GIT_SECRET]["metadata"]["resourceVersion"]
        async with deployment.flux.running():
            await bot.deliver("pull_request", bot.pull_request_event(pull, "closed"))
        assert list(keys) == [first.id]
        assert kube.store.objects[GIT_SECRET]["metadata"]["resourceVersion"] == version

        # 3. /bootstrap apply --rotate-key: a new key; the old one leaves the repository only
        # after the Secret holding the new one is in the cluster.
        old_key_when_the_secret_changed: list[bool] = []

        def watch() -> None:
            secret = kube.store.objects[GIT_SECRET]
            if secret["metadata"]["resourceVersion"] != version:
                old_key_when_the_secret_changed.append(first.id in keys)

        kube.store.on_write.append(watch)
        bot.repository.roles["walt"] = "write"
        asked = bot.fake.add_comment(
            REPO, pull.number, "/bootstrap apply --rotate-key", user="walt"
        )
        async with deployment.flux.running():
            await bot.deliver("issue_comment", bot.comment_event(asked, on_pull=True))
        (second,) = keys.values()
        assert second.id != first.id
        rotated = secret_data(deployment)
        assert second.key.split()[:2] == rotated["identity.pub"].decode().split()[:2]
        assert rotated["identity"] != data["identity"]
        assert old_key_when_the_secret_changed[0] is True
        (reply,) = [c.body for c in bot.bot_comments(pull.number) if "--rotate-key" in c.body]
        assert "dev is at openmcp v0.0.1" in reply

        # The private keys went to the cluster only.
        for private in (data["identity"], rotated["identity"]):
            body = private.decode().splitlines()[1]
            assert body not in everything_told(bot) and body not in caplog.text


async def test_a_deploy_key_needs_an_ssh_url(start: Start, tmp_path: Path):
    git = GitCredentials(type="deploy-key", known_hosts_file=known_hosts(tmp_path))
    async with start(git, "https://github.com/example-org/landscape") as deployment:
        _, _, run = await applied(deployment)
        assert "a deploy key needs an ssh:// `repository.url`" in run["output"]["title"]
        assert deployment.bot.fake.state.deploy_keys == {}
        assert deployment.kube.store.writes == []


async def test_ssh_credentials_give_identity_and_known_hosts(start: Start, tmp_path: Path):
    private, _ = new_key_pair("flux")
    identity = tmp_path / "identity"
    identity.write_bytes(private)
    git = GitCredentials(type="ssh", identity_file=identity, known_hosts_file=known_hosts(tmp_path))
    async with start(git, SSH_ORIGIN) as deployment:
        _, _, run = await applied(deployment)
        assert run["conclusion"] == "success", run["output"]
        assert secret_data(deployment) == {"identity": private, "known_hosts": KNOWN_HOSTS}


async def test_a_bearer_token_is_written_as_flux_reads_it(start: Start, tmp_path: Path):
    token, ca = tmp_path / "token", tmp_path / "ca.crt"
    token.write_text(TOKEN + "\n")
    ca.write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    git = GitCredentials(type="bearer", token_file=token, ca_file=ca)
    async with start(git, "https://git.example/org/landscape.git") as deployment:
        _, _, run = await applied(deployment)
        assert run["conclusion"] == "success", run["output"]
        # `bearerToken`, not the `token` openmcp-bootstrapper writes, which Flux ignores
        assert secret_data(deployment) == {"bearerToken": TOKEN.encode(), "ca.crt": ca.read_bytes()}
        assert TOKEN not in everything_told(deployment.bot)


async def test_an_existing_secret_is_only_checked(start: Start, tmp_path: Path):
    async with start(GitCredentials(type="secret"), SSH_ORIGIN) as deployment:
        # 1. None there yet: refused, nothing applied.
        _, merge, run = await applied(deployment)
        assert run["conclusion"] == "failure"
        assert "Secret flux-system/git does not exist" in run["output"]["title"]
        assert deployment.kube.store.writes == []

        # 2. Created by the operator: used as it is.
        store = deployment.kube.store
        store.create(NAMESPACES, "", {"metadata": {"name": "flux-system"}}, "kubectl")
        data = {"identity": b"key", "known_hosts": KNOWN_HOSTS}
        encoded = {k: base64.b64encode(v).decode() for k, v in data.items()}
        secret = {"metadata": {"name": "git"}, "data": encoded}
        store.create(SECRETS, "flux-system", secret, "kubectl")
        bot = deployment.bot
        asked = bot.fake.add_comment(REPO, 1, "/bootstrap apply", user="octocat")
        bot.repository.roles["octocat"] = "admin"
        async with deployment.flux.running():
            await bot.deliver("issue_comment", bot.comment_event(asked, on_pull=True))
        assert check_run(bot, merge, DEPLOY_CHECK).fields["conclusion"] == "success"
        managers = [e["manager"] for e in store.objects[GIT_SECRET]["metadata"]["managedFields"]]
        assert managers == ["kubectl"]
        assert secret_data(deployment) == data


async def test_a_deploy_key_without_the_administration_permission_is_the_operator_s_to_fix(
    start: Start, tmp_path: Path
):
    git = GitCredentials(type="deploy-key", known_hosts_file=known_hosts(tmp_path))
    async with start(git, SSH_ORIGIN, administration=False) as deployment:
        _, _, run = await applied(deployment)
        assert run["conclusion"] == "failure", run["output"]
        assert "does not grant `administration: write`" in run["output"]["title"]
        assert "bug" not in run["output"]["title"]
        assert deployment.bot.fake.state.deploy_keys == {}
        assert GIT_SECRET not in deployment.kube.store.objects  # nothing reached the cluster
