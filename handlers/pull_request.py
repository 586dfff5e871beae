"""Pull requests into a landscape branch: re-render from the head and report on it.

On opened, synchronize and reopened:
1. find the landscape the PR targets (discovery on the default branch); none, nothing to do;
2. re-render, commit and report (`bot.flows.pull_request`).

On closed: for the bot's upgrade pull requests, merged, the branch goes; unmerged, the version
is declined (`bot.flows.upgrade`). Any merged pull request is then applied to the landscape's
cluster and reported on the merge commit and the pull request (`bot.flows.deploy`).
"""

from __future__ import annotations

from gidgethub import routing
from gidgethub.sansio import Event

from bot.adapters.github.client import InstallationClient, PullRequest, Repository
from bot.core.discovery import Landscape
from bot.core.upgrade_pr import BRANCH_PREFIX
from bot.flows.deploy import deploy_landscape
from bot.flows.pull_request import render_pull_request
from bot.flows.upgrade import upgrade_closed
from bot.services.context import BotContext
from bot.services.landscapes import discover_landscapes

router = routing.Router()


async def _targeted(
    event: Event, context: BotContext
) -> tuple[InstallationClient, Repository, Landscape, PullRequest] | None:
    """The landscape the pull request targets (discovery on the default branch); None when
    its base is no landscape branch."""
    pull = PullRequest.from_json(event.data["pull_request"])
    gh = context.installation(event.data)
    repository, discovery = await discover_landscapes(gh, event.data["repository"]["full_name"])
    landscape = discovery.on(pull.base)
    return None if landscape is None else (gh, repository, landscape, pull)


@router.register("pull_request", action="opened")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="reopened")
async def rerender_pull_request(event: Event, context: BotContext) -> None:
    # 1. the landscape this PR targets
    targeted = await _targeted(event, context)
    if targeted is None:
        return
    gh, repository, landscape, pull = targeted

    # 2. render, commit, report
    await render_pull_request(context, gh, repository, landscape, pull)


@router.register("pull_request", action="closed")
async def landscape_pull_request_closed(event: Event, context: BotContext) -> None:
    targeted = await _targeted(event, context)
    if targeted is None:
        return
    gh, repository, landscape, pull = targeted
    if pull.head.startswith(BRANCH_PREFIX):
        await upgrade_closed(context, gh, repository, pull)
    if pull.merged and pull.merge_commit:
        await deploy_landscape(
            context, gh, repository, landscape, commit=pull.merge_commit, pull=pull
        )
