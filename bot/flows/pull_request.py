"""A pull request into a landscape branch: re-render its head and report on it.

1. (the caller found the landscape the PR targets)
2. skip PRs from forks when the operator has the bot ignore them; a PR that changes neither
   `.bootstrap/` nor a generated file gets a green check run without a render (so the check
   can be required), unless someone asked for a render;
3. mark the head commit's `bootstrap-bot/render` check run in progress;
4. re-render the head; commit the result onto it when the PR comes from this repository
   (a fork is never pushed to: its check run says what to do) and edits no generated file
   by hand (those edits fail the check, annotated; the bot commits nothing over them);
5. keep one summary comment on the PR up to date (none on the bot's own proposals while
   their render is up to date: their body says what they change);
6. finish the check run with what merging changes in the base, or the located problems:
   last, so a completed run means its comment was written (a job stopped before leaves it
   queued, and the resync does it all again);
7. when the landscape names a cluster, dry-run the render against it: a
   `bootstrap-bot/dry-run` check run with what the API server would refuse (not for forks:
   their objects never reach a cluster).

The bot's own commit comes back as another `synchronize`: its render is up to date, so the new
head gets a green check run and nothing is pushed again.
"""

from __future__ import annotations

import asyncio
import logging

from bot.adapters.github.models import PullRequest
from bot.core.names import BOT_BRANCHES, RENDER_CHECK, SUMMARY_MARKER
from bot.core.reports import UNTOUCHED, render_comment
from bot.flows.checks import finish_render_check, needs_work, start_render_check
from bot.flows.dry_run import dry_run_landscape
from bot.flows.scope import LandscapeScope
from bot.kit.logs import bind
from bot.services.rerender import (
    Rerender,
    committed_report,
    rerender_branch,
    rerendered_parent,
)

log = logging.getLogger(__name__)


def pull_head_ref(pull: PullRequest) -> str:
    """Where GitHub keeps a pull request's head in the base repository, forks' included."""
    return f"refs/pull/{pull.number}/head"


def fork_ignored(scope: LandscapeScope, pull: PullRequest) -> bool:
    """Whether the operator has the bot leave this pull request alone: it comes from a fork
    and `fork_pull_requests` is `ignore`."""
    ignoring = scope.context.settings.fork_pull_requests == "ignore"
    return ignoring and pull.from_fork(scope.full_name)


async def render_pull_request(
    scope: LandscapeScope, pull: PullRequest, *, always: bool = False
) -> Rerender | None:
    """Render, commit and report; None when the PR does not touch the bootstrap inputs or
    comes from a fork the operator has the bot ignore."""
    context, gh, full_name, landscape = scope.context, scope.gh, scope.full_name, scope.landscape
    bind(landscape=landscape.branch, pull=pull.number)
    fork = pull.from_fork(full_name)
    if fork_ignored(scope, pull):
        log.info("pull request %d comes from a fork; fork_pull_requests is ignore", pull.number)
        return None

    # 2. only PRs that change the bootstrap inputs or the generated files
    if not (always or fork) and not await touches_landscape(scope, pull.head, pull.base):
        if await gh.latest_check_run(full_name, pull.head_sha, RENDER_CHECK) is None:
            await finish_render_check(gh, full_name, pull.head_sha, UNTOUCHED)
        return None

    # 3. the head commit's check run, in progress
    await start_render_check(gh, full_name, pull.head_sha)

    # 4. render from the head, committing where the bot may
    result = await rerender_branch(
        scope.git,
        branch=pull.head,
        open_reader=context.open_reader,
        may_commit=not fork,
        config_path=landscape.config_path,
        read_from=pull_head_ref(pull) if fork else None,
        base=pull.base,
    )

    # 5. the sticky summary comment (the bot's own proposals say it in their body already,
    # unless someone else's commit had to be re-rendered)
    quiet = pull.head.startswith(BOT_BRANCHES) and result.report.conclusion == "success"
    if fork or not quiet or result.committed:
        comment = render_comment(result.report, branch=pull.head, commit=result.head)
        await gh.upsert_comment(full_name, pull.number, marker=SUMMARY_MARKER, body=comment)

    # 6. the check run on the head commit rendered, and on the commit it re-rendered when
    # that one's job stopped before saying so (killed after its push)
    await finish_render_check(gh, full_name, result.rendered, result.report)
    await _finish_rerendered_parent(scope, result)

    # 7. the dry run against the landscape's cluster
    if not fork and result.render is not None:
        await dry_run_landscape(scope, result.render, result.head, check_run=True)
    return result


async def _finish_rerendered_parent(scope: LandscapeScope, result: Rerender) -> None:
    parent = await rerendered_parent(scope.git, result)
    if parent is None or not await needs_work(scope.gh, scope.full_name, parent, RENDER_CHECK):
        return
    report = await committed_report(scope.git, parent, result)
    await finish_render_check(scope.gh, scope.full_name, parent, report)


async def summary_missing(scope: LandscapeScope, pull: PullRequest) -> bool:
    """Whether a pull request whose render is done lacks the summary comment it should have
    (someone deleted it): the resync then renders it again, which writes it."""
    gh, full_name = scope.gh, scope.full_name
    if fork_ignored(scope, pull):
        return False
    run = await gh.latest_check_run(full_name, pull.head_sha, RENDER_CHECK)
    if run is None or run.status != "completed":
        return False
    if pull.head.startswith(BOT_BRANCHES) and run.conclusion == "success":
        return False  # the bot's own proposals say it in their body
    return await gh.find_comment(full_name, pull.number, SUMMARY_MARKER) is None


#: where the render writes, whatever the environment: a PR changing files there is rendered
GENERATED = ("envs/", "resources/")


async def touches_landscape(scope: LandscapeScope, head: str, base: str) -> bool:
    """Whether `head` changes the render's inputs (`.bootstrap/`, the landscape's config) or
    the files it generates."""
    head_tree, base_tree = await asyncio.gather(
        scope.git.fetch_tree(head), scope.git.fetch_tree(base)
    )
    if head_tree is None or base_tree is None:
        return True
    head_files, base_files = head_tree[1], base_tree[1]
    inputs = [".bootstrap", *(d.rstrip("/") for d in GENERATED)]
    return any(head_files.under(d) != base_files.under(d) for d in inputs) or (
        head_files.get(scope.config_path) != base_files.get(scope.config_path)
    )
