"""A landscape bound to a cluster: the bot, the fake API server and the Flux simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pygit2

from bot.settings import ClusterSettings, GitCredentials
from tests.integration.flows.test_flow_pull_request import propose
from tests.integration.landscape_bot import SERVICE_PROVIDER, LandscapeBot, serve_landscape
from tests.peers.github import FakeGitHub
from tests.peers.github.app_key import AppKey
from tests.peers.github.state import CheckRun, PullRequest
from tests.peers.kubernetes import FakeKubernetes, run_fake_kubernetes
from tests.peers.kubernetes.flux import FluxSimulator
from tests.reference_case import ORIGIN, ROOT_COMPONENT, config_text

PASSWORD = "s3cr3t-password-of-the-landscape"
SOURCE = ("source.toolkit.fluxcd.io", "gitrepositories", "flux-system", "environments")
BOOTSTRAP = ("kustomize.toolkit.fluxcd.io", "kustomizations", "default", "bootstrap")
GIT_SECRET = ("", "secrets", "flux-system", "git")


def cluster_config(config: str) -> str:
    """The reference config, synced by Flux from the landscape branch itself, naming `dev`."""
    edited = config.replace("pullBranch: outgoing", "pullBranch: main").replace(
        "  provider: github\n", ""
    )
    assert edited.count("main") == 1
    return edited + "bot:\n  cluster: dev\n"


@dataclass
class Deployment:
    bot: LandscapeBot
    kube: FakeKubernetes
    flux: FluxSimulator


@asynccontextmanager
async def run_deployment(
    fake_github: FakeGitHub,
    app_key: AppKey,
    aiohttp_client: Any,
    tmp_path: Path,
    reference_release: str,
    *,
    repositories: list[str],
    branches: list[str],
    git: GitCredentials | None = None,
    origin: str = ORIGIN,
    extra_config: str = "",
) -> AsyncIterator[Deployment]:
    """main is rendered (without the service provider) from a config whose `repository.url` is
    `origin` and that names cluster `dev`, bound to `repositories` and `branches` with `git`
    credentials (default: basic auth with PASSWORD); `extra_config` is added to the config."""
    location = f"{reference_release}//{ROOT_COMPONENT}:v0.0.1"
    config = cluster_config(config_text(location, origin)) + extra_config
    if git is None:
        password = tmp_path / "git-password"
        password.write_text(PASSWORD + "\n")
        git = GitCredentials(type="basic", username="flux", password_file=password)
    async with run_fake_kubernetes() as kube:
        cluster = ClusterSettings(
            kubeconfig=kube.kubeconfig(tmp_path / "kubeconfig"),
            repositories=repositories,
            branches=branches,
            git=git,
            ready_timeout=timedelta(seconds=30),
        )
        async with serve_landscape(
            fake_github,
            app_key,
            aiohttp_client,
            tmp_path,
            config=config,
            on_main=config.replace(SERVICE_PROVIDER, ""),
            clusters={"dev": cluster},
        ) as bot:

            def revision_of(url: str, branch: str) -> str | None:
                refs = pygit2.Repository(str(bot.repository.bare)).references
                ref = refs.get(f"refs/heads/{branch}")
                return str(ref.target) if ref is not None else None

            yield Deployment(bot, kube, FluxSimulator(kube.store, revision_of))


def check_run(bot: LandscapeBot, sha: str, name: str) -> CheckRun:
    """The newest check run `name` on `sha`."""
    runs = [r for r in bot.fake.state.check_runs.values() if (r.head_sha, r.name) == (sha, name)]
    assert runs, f"no {name} check run on {sha[:12]}"
    return runs[-1]


async def merged(
    bot: LandscapeBot, config: str | None = None, branch: str = "enable-provider"
) -> tuple[PullRequest, str]:
    """The re-render PR of a config change (default: enabling the service provider), opened,
    re-rendered by the bot, and merged."""
    pull, _ = propose(bot, branch, config or bot.config, title=f"Change {branch}")
    await bot.deliver("pull_request", bot.pull_request_event(pull, "opened"))
    merge = bot.fake.merge_pull_request(pull)
    return pull, merge


def everything_told(bot: LandscapeBot) -> str:
    """Every comment and check run the bot wrote."""
    comments = "\n".join(c.body for c in bot.fake.state.comments.values())
    runs = "\n".join(repr(r.fields) for r in bot.fake.state.check_runs.values())
    return comments + runs
