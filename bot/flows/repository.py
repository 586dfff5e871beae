"""One repository's landscapes, caught up: what installation events, pushes to the discovery
file and the resync loop share.

1. read the landscapes from the default branch (`.github/bootstrap-bot.yml`, or its config);
2. bring each landscape branch up to date: propose re-renders, report failures;
3. propose a newer openMCP release (`bot.flows.upgrade`);
4. in a resync, apply a landscape head to its cluster when no apply of it finished (a lost
   merge event), and render the open pull requests into each landscape the way their
   webhooks would (again when the summary comment has gone missing);
5. report the discovery file's problems, and listed branches that do not exist, on the default
   branch's commit.

A resync skips every commit whose `bootstrap-bot/render` (or `bootstrap-bot/deploy`, or a pull
request's `bootstrap-bot/dry-run`) check run is finished or waits for a retry not yet due
(`bot.flows.checks.needs_work`), and an upgrade already proposed from the same inputs, so an
idle resync costs a few conditional requests and one tag list per landscape, and no render.
"""

from __future__ import annotations

import logging

from bot.adapters.github.port import GitHubPort
from bot.core.names import DISCOVERY_CHECK
from bot.core.reports import discovery_report
from bot.flows.checks import finish_render_check, pull_request_settled, rendered_already
from bot.flows.deploy import awaits_deploy, deploy_landscape
from bot.flows.landscape_branch import sync_landscape_branch
from bot.flows.pull_request import render_pull_request, summary_missing
from bot.flows.scope import repository_scope
from bot.flows.upgrade import check_upgrade
from bot.kit.logs import bind
from bot.services.context import BotContext

log = logging.getLogger(__name__)


async def refresh_repository(
    context: BotContext, gh: GitHubPort, full_name: str, *, resync: bool = False
) -> None:
    # 1. the landscapes
    scopes = await repository_scope(context, gh, full_name)
    repository, discovery = scopes.repository, scopes.discovery
    outcomes: dict[str, str] = {}
    rendered_pulls = 0
    missing = []
    for landscape in discovery.landscapes:
        bind(landscape=landscape.branch)
        scope = scopes.on(landscape)
        # 2. the landscape branch
        head = await gh.read_ref(full_name, landscape.branch)
        if head is None:
            missing.append(landscape.branch)
            continue
        if not (resync and await rendered_already(gh, full_name, head)):
            synced = await sync_landscape_branch(scope)
            outcomes[landscape.branch] = synced.outcome
        # 3. a newer openMCP release
        upgrade = await check_upgrade(scope, in_round=resync)
        if upgrade not in ("current", "unchanged", "disabled"):
            outcomes[landscape.branch + " upgrade"] = upgrade
        if not resync:
            continue
        # 4. the cluster, and the pull requests into it
        if await awaits_deploy(scope, head):
            # the merged pull request is told too, as its `closed` delivery would have done
            merged = await gh.merged_pull_request(
                full_name, base=landscape.branch, merge_commit=head
            )
            deployed = await deploy_landscape(scope, commit=head, pull=merged)
            if deployed is not None:
                outcomes[landscape.branch + " deploy"] = deployed.conclusion
        for pull in await gh.open_pull_requests(full_name, base=landscape.branch):
            settled = await pull_request_settled(gh, full_name, pull.head_sha)
            if settled and not await summary_missing(scope, pull):
                continue
            if await render_pull_request(scope, pull) is not None:
                rendered_pulls += 1

    # 5. the discovery file's own check run
    if discovery.listed:
        report = discovery_report(discovery.problems, discovery.landscapes, missing)
        default_head = await gh.read_ref(full_name, repository.default_branch)
        if default_head is not None:
            await finish_render_check(gh, full_name, default_head, report, name=DISCOVERY_CHECK)
    log.info(
        "%s %s: %d landscape(s), %s; %d pull request(s) rendered",
        "resynced" if resync else "refreshed",
        full_name,
        len(discovery.landscapes),
        ", ".join(f"{b} {o}" for b, o in outcomes.items()) or "no branch to bring up to date",
        rendered_pulls,
    )
