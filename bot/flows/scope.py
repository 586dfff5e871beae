"""What a flow works on: one landscape of one repository, as one installation of the App.

A `LandscapeScope` is built once where the work starts (a handler, a command, the resync) and
handed down, so no flow passes the context, the client, the repository and the landscape
around separately, and the cache repository and its token are looked up once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from bot.adapters.github.models import PullRequest, Repository
from bot.adapters.github.port import GitHubPort
from bot.adapters.gitrepo import Git
from bot.core.discovery import Discovery, Landscape
from bot.core.heads import Heads
from bot.services.context import BotContext
from bot.services.landscapes import discover_landscapes


@dataclass(frozen=True)
class RepositoryScope:
    """A repository as one installation sees it, and its landscapes."""

    context: BotContext
    gh: GitHubPort
    repository: Repository
    discovery: Discovery
    #: the repository's heads as a resync round listed them, when it did (`Git.listed`)
    heads: Heads | None = None

    @property
    def full_name(self) -> str:
        return self.repository.full_name

    @cached_property
    def git(self) -> Git:
        """The repository's cache repository, authenticated as the installation."""
        return Git.with_heads(
            self.context.git(self.full_name, self.repository.clone_url),
            self.context.token(self.gh),
            self.heads,
        )

    def on(self, landscape: Landscape) -> LandscapeScope:
        return LandscapeScope(self.context, self.gh, self.repository, landscape, self.git)


@dataclass(frozen=True)
class LandscapeScope:
    """One landscape of a repository: where every flow's work happens."""

    context: BotContext
    gh: GitHubPort
    repository: Repository
    landscape: Landscape
    git: Git

    @property
    def full_name(self) -> str:
        return self.repository.full_name

    @property
    def branch(self) -> str:
        return self.landscape.branch

    @property
    def config_path(self) -> str:
        return self.landscape.config_path


async def repository_scope(
    context: BotContext,
    gh: GitHubPort,
    full_name: str,
    *,
    repository: Repository | None = None,
    heads: Heads | None = None,
) -> RepositoryScope:
    """The repository and its landscapes (discovery on the default branch, at its head in
    `heads` when known)."""
    default_head = None
    if heads is not None and repository is not None:
        default_head = heads.branch(repository.default_branch)
    repository, discovery = await discover_landscapes(
        gh, full_name, repository=repository, default_head=default_head
    )
    return RepositoryScope(context, gh, repository, discovery, heads)


async def delivery_scope(context: BotContext, payload: dict[str, Any]) -> RepositoryScope:
    """The repository a webhook delivery is about, as the installation that sent it."""
    gh = context.installation(payload)
    return await repository_scope(context, gh, payload["repository"]["full_name"])


async def pull_request_scope(
    context: BotContext, payload: dict[str, Any]
) -> tuple[LandscapeScope, PullRequest] | None:
    """The landscape a `pull_request` delivery's pull request targets, and the pull request;
    None when its base is no landscape branch."""
    pull = PullRequest.from_json(payload["pull_request"])
    scope = await delivery_scope(context, payload)
    landscape = scope.discovery.on(pull.base)
    return None if landscape is None else (scope.on(landscape), pull)
