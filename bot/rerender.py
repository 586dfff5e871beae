"""Re-render a landscape branch and, when allowed, commit the result onto it as the App.

1. fetch the branch into the cache repository and read its files;
2. render them (`bot.landscape.render_tree`: OCM, templates, kustomize) off the event loop;
3. summarise what the render changes against the branch;
4. if it changes anything and the bot may push there, commit "Re-render manifests" with a
   compare-and-swap push; if someone pushed meanwhile, render their newer files and try again.

A render that fails changes nothing; the report says where the problems are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.config import CONFIG_PATH
from bot.core.fileset import FileSet
from bot.core.reports import RenderReport, render_failed, render_succeeded
from bot.gitrepo import BOT_IDENTITY, GitFailure, GitRepository, Identity, update_branch
from bot.landscape import LandscapeError, LandscapeRender, change_summary, render_tree
from bot.ocm.location import Repository
from bot.ocm.reader import ComponentReader

RERENDER_MESSAGE = "Re-render manifests"


@dataclass(frozen=True)
class Rerender:
    report: RenderReport
    #: the commit rendered, and the branch's commit afterwards (the bot's, when it committed)
    rendered: str
    head: str
    committed: bool


async def rerender_branch(
    repository: GitRepository,
    *,
    branch: str,
    open_reader: Callable[[Repository], ComponentReader],
    token: Callable[[], Awaitable[str]],
    may_commit: bool,
    config_path: str = CONFIG_PATH,
    identity: Identity = BOT_IDENTITY,
    read_from: str | None = None,
) -> Rerender:
    """`read_from` renders another ref than the branch (a fork's pull request head,
    `refs/pull/N/head`); the bot never commits then."""
    if read_from is not None and may_commit:
        raise ValueError("a render read from another ref than the branch cannot be committed")
    secret = await token()
    head = await asyncio.to_thread(repository.fetch, read_from or branch, secret)
    if head is None:
        raise GitFailure(f"{read_from or branch} does not exist")
    tree = await asyncio.to_thread(repository.read_tree, head)

    def render(files: FileSet) -> LandscapeRender:
        return render_tree(files, open_reader, config_path=config_path)

    try:
        result = await asyncio.to_thread(render, tree)
    except LandscapeError as failed:
        report = render_failed(failed.stage, failed.problems, failed.warnings, failed.go_message)
        return Rerender(report, head, head, committed=False)
    summary = await asyncio.to_thread(change_summary, tree, result)
    if result.tree == tree:
        return Rerender(render_succeeded(summary, result.warnings, "up-to-date"), head, head, False)
    if not may_commit:
        report = render_succeeded(summary, result.warnings, "not-committed-fork")
        return Rerender(report, head, head, committed=False)

    def rerendered(files: FileSet) -> FileSet:
        # The first attempt reuses the render above; a retry renders what someone pushed.
        return result.tree if files == tree else render(files).tree

    try:
        update = await update_branch(
            repository,
            branch=branch,
            change=rerendered,
            message=RERENDER_MESSAGE,
            token=token,
            identity=identity,
        )
    except LandscapeError as failed:  # the newer push no longer renders
        report = render_failed(failed.stage, failed.problems, failed.warnings, failed.go_message)
        return Rerender(report, head, head, committed=False)
    assert update.commit is not None
    report = render_succeeded(summary, result.warnings, "committed")
    return Rerender(report, head, update.commit, committed=update.outcome != "unchanged")
