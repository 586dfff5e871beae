"""Pull requests into a landscape branch: re-render from the head and report on it.

On opened, synchronize and reopened:
1. find the landscape the PR targets (discovery on the default branch); none, nothing to do;
2. skip PRs that leave `.bootstrap/` as the base has it;
3. mark the head commit's `bootstrap-bot/render` check run in progress;
4. re-render the head; commit the result onto it when the PR comes from this repository
   (a fork is never pushed to: its check run says what to do);
5. finish the check run with the change summary or the located problems;
6. keep one summary comment on the PR up to date.

The bot's own commit arrives as another `synchronize`: its render is up to date, so the new head
gets a green check run and nothing is pushed again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from gidgethub import routing
from gidgethub.sansio import Event

from bot.context import BotContext
from bot.core.reports import RENDER_CHECK, RenderReport, render_comment
from bot.github import Annotation, CheckRunOutput, InstallationClient
from bot.gitrepo import GitRepository
from bot.landscapes import discover_landscapes, landscape_on
from bot.rerender import rerender_branch

router = routing.Router()
SUMMARY_MARKER = "render-summary"


@router.register("pull_request", action="opened")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="reopened")
async def rerender_pull_request(event: Event, context: BotContext) -> None:
    pull = event.data["pull_request"]
    full_name = event.data["repository"]["full_name"]
    head, base = pull["head"], pull["base"]
    gh = context.installation(event.data)

    # 1. the landscape this PR targets
    repository, discovery = await discover_landscapes(gh, full_name)
    landscape = landscape_on(discovery, base["ref"])
    if landscape is None:
        return
    same_repository = (head.get("repo") or {}).get("full_name", "").lower() == full_name.lower()
    git = context.git(full_name, repository.clone_url)

    async def token() -> str:
        return await context.github.installation_token(gh.installation_id)

    # 2. only PRs that change the bootstrap inputs
    if same_repository and not await _touches_bootstrap(git, head["ref"], base["ref"], token):
        return

    # 3. the head commit's check run, in progress (unless this commit was already rendered:
    #    a redelivery then leaves the finished run as it is when the result is the same)
    if await gh.latest_check_run(full_name, head["sha"], RENDER_CHECK) is None:
        await gh.ensure_check_run(
            full_name, head_sha=head["sha"], name=RENDER_CHECK, status="in_progress"
        )

    # 4. render from the head, committing where the bot may
    result = await rerender_branch(
        git,
        branch=head["ref"],
        open_reader=context.open_reader,
        token=token,
        may_commit=same_repository,
        config_path=landscape.config_path,
        # A fork's branch is not in this repository; GitHub keeps its head here.
        read_from=None if same_repository else f"refs/pull/{pull['number']}/head",
    )

    # 5. the check run on the head commit rendered
    await _report(gh, full_name, result.rendered, result.report)

    # 6. the sticky summary comment
    comment = render_comment(result.report, branch=head["ref"], commit=result.head)
    await gh.upsert_comment(full_name, int(pull["number"]), marker=SUMMARY_MARKER, body=comment)


async def _touches_bootstrap(
    git: GitRepository, head: str, base: str, token: Callable[[], Awaitable[str]]
) -> bool:
    secret = await token()
    head_sha, base_sha = await asyncio.gather(
        asyncio.to_thread(git.fetch, head, secret), asyncio.to_thread(git.fetch, base, secret)
    )
    if head_sha is None or base_sha is None:
        return True
    head_files = await asyncio.to_thread(git.read_tree, head_sha)
    base_files = await asyncio.to_thread(git.read_tree, base_sha)
    return head_files.under(".bootstrap") != base_files.under(".bootstrap")


async def _report(gh: InstallationClient, full_name: str, sha: str, report: RenderReport) -> None:
    annotations = [
        Annotation(f.path, f.line, f.message, level=f.level, start_column=f.column or None)
        for f in report.findings
    ]
    await gh.ensure_check_run(
        full_name,
        head_sha=sha,
        name=RENDER_CHECK,
        status="completed",
        conclusion=report.conclusion,
        output=CheckRunOutput(report.title, report.summary, annotations=annotations),
    )
