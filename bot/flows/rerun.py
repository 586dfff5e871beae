"""Re-run: a person asks for one of the bot's check runs again, with GitHub's Re-run button, a
re-run of the whole check suite, or a button on the run (`Re-render`, `Apply again`).

1. find the commit's place: a landscape branch's head, or the head of an open pull request
   into a landscape (forks' too); a commit that is neither any more has nothing to redo;
2. the person must be allowed the landscape's commands (`bot.commandPermission`), as for
   `/bootstrap`; if not, they are told on the pull request (where there is one) and the runs
   stay as they were;
3. the runs are started again at once, so the Re-run shows, and the step behind them redone:
   - `render`, `dry-run` on a pull request: its render, comment and dry run;
   - `render` on a landscape branch: its re-render proposal;
   - `deploy` on a landscape branch: the apply of its head to its cluster;
   - `discovery`: the repository's landscapes, caught up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from bot.adapters.github.models import PullRequest
from bot.core.bot_section import role_allows
from bot.core.names import (
    DEPLOY_CHECK,
    DISCOVERY_CHECK,
    DRY_RUN_CHECK,
    RENDER_CHECK,
    rerun_marker,
)
from bot.core.replies import rerun_denied
from bot.flows.checks import started_again
from bot.flows.commands import command_role
from bot.flows.deploy import deploy_landscape
from bot.flows.landscape_branch import sync_landscape_branch
from bot.flows.pull_request import fork_ignored, render_pull_request
from bot.flows.repository import refresh_repository
from bot.flows.scope import LandscapeScope, RepositoryScope
from bot.kit.logs import bind

log = logging.getLogger(__name__)
RERUNNABLE = (RENDER_CHECK, DRY_RUN_CHECK, DEPLOY_CHECK, DISCOVERY_CHECK)
#: what a Re-run redoes, by the place of the commit
_ON_PULL_REQUESTS = (RENDER_CHECK, DRY_RUN_CHECK)
_ON_BRANCHES = (RENDER_CHECK, DEPLOY_CHECK)


@dataclass(frozen=True)
class Place:
    """Where a commit is: a landscape branch's head, or an open pull request's head."""

    scope: LandscapeScope
    pull: PullRequest | None


async def rerun_checks(
    repository: RepositoryScope, sha: str, names: Iterable[str], *, user: str
) -> list[str]:
    """Redo for `user` the steps behind the bot's check runs `names` on `sha`; the names
    whose step was redone."""
    gh, full_name = repository.gh, repository.full_name
    names = list(dict.fromkeys(names))
    if DISCOVERY_CHECK in names:
        async with started_again(gh, full_name, sha, [DISCOVERY_CHECK]):
            await refresh_repository(repository.context, gh, full_name)
        return [DISCOVERY_CHECK]

    # 1. where the commit is
    place = await _place_of(repository, sha)
    if place is None:
        log.info("re-run of %s on %s@%s: no landscape head is that commit", names, full_name, sha)
        return []
    scope, pull = place.scope, place.pull
    bind(landscape=scope.branch, pull=pull.number if pull else None)
    names = [n for n in names if n in (_ON_PULL_REQUESTS if pull else _ON_BRANCHES)]
    if not names or (pull is not None and fork_ignored(scope, pull)):
        return []

    # 2. allowed?
    role = await gh.permission(full_name, user)
    minimum, _ = await command_role(gh, full_name, scope.landscape)
    if not role_allows(role, minimum):
        log.info("re-run of %s by %s (%s) refused: needs %s", names, user, role, minimum)
        if pull is not None:
            text = rerun_denied(", ".join(names), scope.landscape, user, role, minimum)
            await gh.upsert_comment(full_name, pull.number, marker=rerun_marker(sha), body=text)
        return []

    # 3. started again, and redone
    async with started_again(gh, full_name, sha, names):
        if pull is not None:
            await render_pull_request(scope, pull, always=True)
            return names
        if RENDER_CHECK in names:
            await sync_landscape_branch(scope)
        if DEPLOY_CHECK in names:
            await deploy_landscape(scope, commit=sha)
    return names


async def rerun_check_suite(repository: RepositoryScope, sha: str, *, user: str) -> list[str]:
    """Redo for `user` the steps of every check run the bot has on `sha`."""
    gh, full_name = repository.gh, repository.full_name
    names = [n for n in RERUNNABLE if await gh.latest_check_run(full_name, sha, n) is not None]
    return await rerun_checks(repository, sha, names, user=user)


async def _place_of(repository: RepositoryScope, sha: str) -> Place | None:
    gh, full_name = repository.gh, repository.full_name
    for landscape in repository.discovery.landscapes:
        scope = repository.on(landscape)
        if await gh.read_ref(full_name, landscape.branch) == sha:
            return Place(scope, None)
        for pull in await gh.open_pull_requests(full_name, base=landscape.branch):
            if pull.head_sha == sha:
                return Place(scope, pull)
    return None
