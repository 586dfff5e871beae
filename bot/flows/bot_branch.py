"""What the bot's own branches (`bootstrap-bot/render/…`, `bootstrap-bot/upgrade/…`) share:
withdrawing a proposal nobody needs any more, and telling people when someone else committed
to one (the bot then never rewrites it)."""

from __future__ import annotations

import asyncio
import logging

from bot.adapters.github.client import InstallationClient, PullRequest
from bot.adapters.gitrepo import BOT_IDENTITY, GitRepository, StaleBranch, delete_branch
from bot.services.rerender import Token

log = logging.getLogger(__name__)


async def delete_bot_branch(
    git: GitRepository, token: Token, branch: str, *, base: str | None, full_name: str
) -> bool:
    """Delete `branch` when only the bot committed to it since `base` (None: whoever did);
    False when it was kept."""
    head = await asyncio.to_thread(git.fetch, branch, await token())
    if head is None:
        return True
    if base is not None:
        foreign = await asyncio.to_thread(git.foreign_commits, head, base, BOT_IDENTITY)
        if foreign:
            return False
    try:
        await delete_branch(git, branch, token=token, expected=head)
    except StaleBranch:
        log.info("%s of %s moved while deleting it; left it", branch, full_name)
        return False
    return True


async def withdraw_proposal(
    gh: InstallationClient,
    git: GitRepository,
    token: Token,
    pull: PullRequest,
    *,
    full_name: str,
    base: str,
    marker: str,
    why: str,
) -> None:
    """Close a proposal the landscape no longer needs, saying `why`; delete its branch when
    only the bot committed to it since `base` (the landscape branch's commit)."""
    await gh.upsert_comment(full_name, pull.number, marker=marker, body=why)
    await gh.close_pull_request(full_name, pull.number)
    await delete_bot_branch(git, token, pull.head, base=base, full_name=full_name)


def taken_over(branch: str, commits: list[str], then: str) -> str:
    """The comment on a proposal whose branch holds someone else's commits."""
    shown = ", ".join(c[:12] for c in commits)
    return (
        f"Someone else pushed to `{branch}` ({shown}), so the bot no longer updates it. "
        f"Merge or close this pull request; once it is closed and the branch deleted, {then}."
    )
