"""Pushes: a landscape branch left stale, or a changed list of landscapes.

1. ignore deleted branches and anything but branches;
2. a push to the default branch that changes `.github/bootstrap-bot.yml` (or, without it, the
   default branch's bootstrap config): refresh the repository's landscapes, which brings every
   landscape branch up to date and reports the file's problems;
3. otherwise, a push to a landscape branch: propose the re-render if it left the rendered files
   stale (`bot.flows.landscape_branch`), and bring its upgrade proposal up to date
   (`bot.flows.upgrade`), unless a job did so at the branch's head already (a job for an
   earlier push reads the branch after the later pushes);
4. a push that changes rendered files: apply the landscape to its cluster unless that commit
   was applied already (`bot.flows.deploy`).
"""

from __future__ import annotations

from gidgethub import routing
from gidgethub.sansio import Event

from bot.core.pushes import changes_discovery, changes_rendered_files
from bot.flows.deploy import deploy_landscape
from bot.flows.landscape_branch import sync_landscape_branch
from bot.flows.repository import refresh_repository
from bot.flows.scope import delivery_scope
from bot.flows.upgrade import check_upgrade
from bot.services.context import BotContext

router = routing.Router()


@router.register("push")
async def landscape_push(event: Event, context: BotContext) -> None:
    data = event.data
    # 1. branches only, not their deletion
    ref: str = data.get("ref", "")
    if not ref.startswith("refs/heads/") or data.get("deleted"):
        return
    branch = ref.removeprefix("refs/heads/")

    # 2. the list of landscapes changed
    landscape_synced = False
    if branch == data["repository"].get("default_branch") and changes_discovery(data):
        gh = context.installation(data)
        await refresh_repository(context, gh, data["repository"]["full_name"])
        landscape_synced = True

    # 3. a landscape branch
    repository = await delivery_scope(context, data)
    landscape = repository.discovery.on(branch)
    if landscape is None:
        return
    scope = repository.on(landscape)
    full_name, heads = scope.full_name, context.rendered_heads
    if not landscape_synced:
        # where the branch is now: a later push may have moved it to a head rendered already
        head = await scope.git.fetch(branch)
        if head is None or not heads.rendered(full_name, branch, landscape.config_path, head):
            synced = await sync_landscape_branch(scope)
            # the release it runs, or its inputs, may have changed
            await check_upgrade(scope)
            if synced.commit is not None:
                heads.remember(full_name, branch, landscape.config_path, synced.commit)

    # 4. what the cluster runs may have changed (a merged PR is applied by its own event too)
    if changes_rendered_files(data):
        await deploy_landscape(scope, commit=data["after"], again=False)
