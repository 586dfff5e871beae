"""What every handler is given after the event: the operator's settings and the GitHub App.

Handlers find the installation that sent a delivery here and get its REST client and the
cache repository for a GitHub repository; nothing else is shared between deliveries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from bot.adapters.github.app import GitHubApp
from bot.adapters.github.client import InstallationClient
from bot.adapters.github.port import GitHubPort
from bot.adapters.gitrepo import GitRepository
from bot.core.failures import Failure
from bot.core.names import repository_key
from bot.core.retries import Schedule
from bot.kit.jobs import Job, JobQueue
from bot.kit.peers import PEERS, register_peer_metrics
from bot.ocm.location import Repository
from bot.ocm.registry import READ_OBSERVERS
from bot.services.idle import IdleMemory, RenderedHeads
from bot.services.mirror import MirrorMetrics, Mirrors
from bot.services.registries import open_landscape_reader, open_landscape_store
from bot.services.releases import ReleaseMetrics, ReleaseWatch
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.ocm.reader import ComponentReader


class DeployMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.applies = Counter(
            "bootstrap_bot_applies",
            "Landscapes applied to a cluster, by cluster and conclusion",
            ["cluster", "conclusion"],
            registry=registry,
        )
        self.merge_to_ready = Histogram(
            "bootstrap_bot_merge_to_ready_seconds",
            "From a landscape pull request merged to Flux Ready at its merge commit",
            ["cluster"],
            buckets=(15, 30, 60, 120, 300, 600, 900, 1800, 3600, float("inf")),
            registry=registry,
        )


class RenderMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.branch_renders = Counter(
            "bootstrap_bot_branch_renders",
            "Landscape branch heads rendered to see whether their manifests are stale, by outcome",
            ["outcome"],
            registry=registry,
        )


class NotFromAnInstallation(Failure, ValueError):
    """A delivery without an installation (the App's own hooks, such as `ping`)."""


def _registry_read(outage: str | None) -> None:
    if outage is None:
        PEERS.answered("registry")
    else:
        PEERS.failed("registry", outage)


READ_OBSERVERS.append(_registry_read)


@dataclass
class BotContext:
    settings: Settings
    github: GitHubApp
    #: the queue webhook jobs run in; other work for a repository is queued behind them
    jobs: JobQueue = field(default_factory=JobQueue)
    #: where the bot's own metrics go (`/metrics` shows it)
    metrics: CollectorRegistry = field(default_factory=CollectorRegistry)
    #: when unfinished check runs are worked on again (default: from the settings)
    schedule: Schedule | None = None
    # One handle per cache repository: its lock keeps two jobs off the same libgit2 repository.
    _repositories: dict[str, GitRepository] = field(default_factory=dict)

    def __post_init__(self) -> None:
        register_peer_metrics(self.metrics)
        if self.schedule is None:
            self.schedule = Schedule(self.settings.poll_interval, self.settings.job_timeout)
        self.release_metrics = ReleaseMetrics(self.metrics)
        self.deploy_metrics = DeployMetrics(self.metrics)
        self.render_metrics = RenderMetrics(self.metrics)
        self.mirrors = Mirrors(self.settings, MirrorMetrics(self.metrics))
        self.idle = IdleMemory(self.settings.full_resync_every)
        self.rendered_heads = RenderedHeads()
        self.releases = ReleaseWatch(
            lambda repository, on_request: open_landscape_store(
                self.settings, repository, on_request
            ),
            self.release_metrics,
        )

    def token(self, gh: GitHubPort) -> Callable[[], Awaitable[str]]:
        """The installation's token for git, fetched (or renewed) when git needs it."""

        async def token() -> str:
            return await self.github.installation_token(gh.installation_id)

        return token

    def submit(self, full_name: str, job: Job, *, name: str) -> asyncio.Task[None]:
        """Queue `job` behind the other work for a repository (webhook jobs included)."""
        return self.jobs.submit(repository_key(full_name), job, name=name)

    def installation(self, payload: dict[str, Any]) -> InstallationClient:
        """The REST client of the installation a webhook payload came from."""
        installation = payload.get("installation") or {}
        if "id" not in installation:
            raise NotFromAnInstallation("the delivery names no installation")
        return self.github.installation(int(installation["id"]))

    def git(self, full_name: str, clone_url: str) -> GitRepository:
        """The cache repository for a GitHub repository."""
        key = full_name.lower()
        repository = self._repositories.get(key)
        if repository is None or repository.url != clone_url:
            repository = GitRepository.in_cache(self.settings.cache_dir, full_name, clone_url)
            self._repositories[key] = repository
        return repository

    def open_reader(self, repository: Repository) -> ComponentReader:
        on_request = self.release_metrics.counter_for(repository)
        return open_landscape_reader(self.settings, repository, on_request)
