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

from bot.core.names import UPGRADE_BRANCH_PREFIX
from bot.flows.deploy import deploy_landscape
from bot.flows.pull_request import render_pull_request
from bot.flows.scope import pull_request_scope
from bot.flows.upgrade import upgrade_closed
from bot.services.context import BotContext

router = routing.Router()


@router.register("pull_request", action="opened")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="reopened")
async def rerender_pull_request(event: Event, context: BotContext) -> None:
    # 1. the landscape this PR targets
    targeted = await pull_request_scope(context, event.data)
    if targeted is None:
        return
    scope, pull = targeted

    # 2. render, commit, report
    await render_pull_request(scope, pull)


@router.register("pull_request", action="closed")
async def landscape_pull_request_closed(event: Event, context: BotContext) -> None:
    targeted = await pull_request_scope(context, event.data)
    if targeted is None:
        return
    scope, pull = targeted
    if pull.head.startswith(UPGRADE_BRANCH_PREFIX):
        await upgrade_closed(scope, pull)
    if pull.merged and pull.merge_commit:
        await deploy_landscape(scope, commit=pull.merge_commit, pull=pull)
