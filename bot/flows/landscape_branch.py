"""A landscape branch whose rendered files are stale (its config changed without a pull request):
propose the re-render in the pull request `bootstrap-bot/render/<branch>`.

1. render the landscape branch as it is;
2. a config that does not render: say so on the commit (check run with the located problems),
   propose nothing;
3. up to date: a green check run; an earlier proposal is obsolete, so it is closed;
4. stale: commit the re-render onto the bot branch, rebuilt from the landscape branch (never
   over commits someone else pushed to it: the PR then gets a comment and is left alone);
5. open or update the pull request: the verdict first (destructive changes, a dry run
   against the landscape's cluster), then what merging changes;
6. the landscape commit's check run points at it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from bot.adapters.github.models import PullRequest
from bot.adapters.gitrepo import ForeignCommits
from bot.core import replies
from bot.core.discovery import Landscape
from bot.core.names import RENDER_TAKEN_OVER_MARKER, RENDER_WITHDRAWN_MARKER, render_branch
from bot.core.reports import RenderReport, render_proposal, render_succeeded
from bot.flows.bot_branch import withdraw_proposal
from bot.flows.checks import finish_render_check
from bot.flows.dry_run import dry_run_landscape
from bot.flows.scope import LandscapeScope
from bot.services.pipeline import LandscapeError
from bot.services.rerender import MissingRef, commit_rerender, render_commit

log = logging.getLogger(__name__)
Outcome = Literal["missing", "failed", "up-to-date", "proposed", "taken-over"]


@dataclass(frozen=True)
class BranchSync:
    outcome: Outcome
    #: the landscape branch's commit rendered (None when the branch does not exist)
    commit: str | None = None
    report: RenderReport | None = None
    pull: PullRequest | None = None


def proposal_branch(landscape: Landscape) -> str:
    return render_branch(landscape.branch)


async def sync_landscape_branch(scope: LandscapeScope) -> BranchSync:
    synced = await _sync_landscape_branch(scope)
    if synced.outcome != "missing":
        scope.context.render_metrics.branch_renders.labels(synced.outcome).inc()
    return synced


async def _sync_landscape_branch(scope: LandscapeScope) -> BranchSync:
    context, gh, full_name, landscape = scope.context, scope.gh, scope.full_name, scope.landscape
    branch = proposal_branch(landscape)

    # 1. the landscape branch, rendered
    try:
        rendered = await render_commit(
            scope.git,
            landscape.branch,
            open_reader=context.open_reader,
            config_path=landscape.config_path,
        )
    except MissingRef:
        return BranchSync("missing")

    # 2. it does not render: the commit says why, nothing is proposed
    if rendered.failure is not None:
        await finish_render_check(gh, full_name, rendered.commit, rendered.failure)
        return BranchSync("failed", rendered.commit, rendered.failure)
    assert rendered.result is not None and rendered.summary is not None
    warnings = rendered.result.warnings
    existing = await gh.find_pull_request(full_name, head=branch, base=landscape.branch)

    # 3. up to date: nothing to propose any more
    if not rendered.stale:
        report = render_succeeded(rendered.summary, warnings, "up-to-date")
        await finish_render_check(gh, full_name, rendered.commit, report)
        if existing is not None:
            why = replies.rerender_withdrawn(landscape.branch, rendered.commit)
            await withdraw_proposal(
                scope, existing, base=rendered.commit, marker=RENDER_WITHDRAWN_MARKER, why=why
            )
        return BranchSync("up-to-date", rendered.commit, report)

    # 4. the re-render, on the bot branch started from the landscape branch
    try:
        update = await commit_rerender(
            scope.git,
            rendered,
            branch=branch,
            open_reader=context.open_reader,
            config_path=landscape.config_path,
            start_from=landscape.branch,
        )
    except ForeignCommits as taken:
        if existing is not None:
            await gh.upsert_comment(
                full_name,
                existing.number,
                marker=RENDER_TAKEN_OVER_MARKER,
                body=replies.taken_over(branch, taken.commits, replies.THEN_FRESH_RERENDER),
            )
        # The commit is done with (a resync leaves it) until the branch is handed back.
        where = existing.html_url if existing is not None else f"`{branch}`"
        stale = render_succeeded(rendered.summary, warnings, "proposed", proposal=where)
        await finish_render_check(gh, full_name, rendered.commit, stale)
        return BranchSync("taken-over", rendered.commit, stale, existing)
    except LandscapeError:
        # The landscape branch moved on to files that do not render; its own push is
        # handled (and reported on its commit) by the next sync.
        return BranchSync("failed", rendered.commit)

    # 5. the pull request proposing it, with what the landscape's cluster says to it
    checked = None
    if update.commit is not None:
        checked = await dry_run_landscape(scope, rendered.result, update.commit, check_run=False)
    title, body = render_proposal(
        rendered.summary,
        warnings,
        branch=landscape.branch,
        commit=rendered.commit,
        dry_run=checked,
    )
    pull = await gh.ensure_pull_request(
        full_name, head=branch, base=landscape.branch, title=title, body=body
    )

    # 6. the landscape commit's check run points at it
    proposed = render_succeeded(rendered.summary, warnings, "proposed", proposal=pull.html_url)
    await finish_render_check(gh, full_name, rendered.commit, proposed)
    return BranchSync("proposed", rendered.commit, proposed, pull)
