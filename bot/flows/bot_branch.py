"""What the bot's own branches (`bootstrap-bot/render/…`, `bootstrap-bot/upgrade/…`) share:
withdrawing a proposal nobody needs any more, and telling people when someone else committed
to one (the bot then never rewrites it)."""

from __future__ import annotations

import logging

from bot.adapters.github.models import PullRequest
from bot.adapters.gitrepo import StaleBranch
from bot.flows.scope import LandscapeScope

log = logging.getLogger(__name__)


async def delete_bot_branch(scope: LandscapeScope, branch: str, *, base: str | None) -> bool:
    """Delete `branch` when only the bot committed to it since `base` (None: whoever did);
    False when it was kept."""
    head = await scope.git.fetch(branch)
    if head is None:
        return True
    if base is not None and await scope.git.foreign_commits(head, base):
        return False
    try:
        await scope.git.delete_branch(branch, expected=head)
    except StaleBranch:
        log.info("%s of %s moved while deleting it; left it", branch, scope.full_name)
        return False
    return True


async def withdraw_proposal(
    scope: LandscapeScope, pull: PullRequest, *, base: str, marker: str, why: str
) -> None:
    """Close a proposal the landscape no longer needs, saying `why`; delete its branch when
    only the bot committed to it since `base` (the landscape branch's commit)."""
    await scope.gh.upsert_comment(scope.full_name, pull.number, marker=marker, body=why)
    await scope.gh.close_pull_request(scope.full_name, pull.number)
    await delete_bot_branch(scope, pull.head, base=base)
