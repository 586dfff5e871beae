"""Pushes: a landscape branch left stale, or a changed list of landscapes.

1. ignore deleted branches and anything but branches;
2. a push to the default branch that changes `.github/bootstrap-bot.yml` (or, without it, the
   default branch's bootstrap config): refresh the repository's landscapes, which brings every
   landscape branch up to date and reports the file's problems;
3. otherwise, a push to a landscape branch: propose the re-render if it left the rendered files
   stale (`bot.flows.landscape_branch`), and bring its upgrade proposal up to date
   (`bot.flows.upgrade`);
4. a push that changes rendered files: apply the landscape to its cluster unless that commit
   was applied already (`bot.flows.deploy`).
"""

from __future__ import annotations

from typing import Any

from gidgethub import routing
from gidgethub.sansio import Event

from bot.core.config import CONFIG_PATH
from bot.core.discovery import DISCOVERY_PATH
from bot.flows.deploy import changes_rendered_files, deploy_landscape
from bot.flows.landscape_branch import sync_landscape_branch
from bot.flows.repository import refresh_repository
from bot.flows.upgrade import check_upgrade
from bot.services.context import BotContext
from bot.services.landscapes import discover_landscapes

router = routing.Router()
#: GitHub lists at most this many commits in a push payload; a longer push may hide a change
PAYLOAD_COMMITS = 20


@router.register("push")
async def landscape_push(event: Event, context: BotContext) -> None:
    data = event.data
    # 1. branches only, not their deletion
    ref: str = data.get("ref", "")
    if not ref.startswith("refs/heads/") or data.get("deleted"):
        return
    branch = ref.removeprefix("refs/heads/")
    full_name = data["repository"]["full_name"]
    gh = context.installation(data)

    # 2. the list of landscapes changed
    if branch == data["repository"].get("default_branch") and _changes_discovery(data):
        await refresh_repository(context, gh, full_name)
        landscape_synced = True
    else:
        landscape_synced = False

    # 3. a landscape branch
    repository, discovery = await discover_landscapes(gh, full_name)
    landscape = discovery.on(branch)
    if landscape is None:
        return
    if not landscape_synced:
        await sync_landscape_branch(context, gh, repository, landscape)
        # the release it runs, or its inputs, may have changed
        await check_upgrade(context, gh, repository, landscape)

    # 4. what the cluster runs may have changed (a merged PR is applied by its own event too)
    if changes_rendered_files(data, PAYLOAD_COMMITS):
        await deploy_landscape(
            context, gh, repository, landscape, commit=data["after"], again=False
        )


def _changes_discovery(data: dict[str, Any]) -> bool:
    commits = data.get("commits") or []
    if len(commits) >= PAYLOAD_COMMITS:
        return True
    touched = {
        path
        for commit in commits
        for kind in ("added", "modified", "removed")
        for path in commit.get(kind) or []
    }
    return bool(touched & {DISCOVERY_PATH, CONFIG_PATH})
