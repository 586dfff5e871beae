"""Re-render a landscape commit and, when allowed, commit the result onto a branch as the App.

1. fetch the branch (or ref) into the cache repository and read its files;
2. render them (`bot.services.pipeline.render_tree`: OCM, templates, kustomize) off the event loop;
3. summarise what the render changes against the commit;
4. for a pull request (`base`): find the generated files someone edited by hand (then the
   report fails, annotated on them, and nothing is committed), and summarise what merging
   the render changes in the base: the report's content;
5. if it changes anything and the bot may push there, commit "Re-render manifests" with a
   compare-and-swap push (onto the branch itself, or onto a bot branch started from it); if
   someone pushed meanwhile, render their newer files and try again.

A render that fails changes nothing; the report says where the problems are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.adapters.gitrepo import BOT_IDENTITY, BranchUpdate, Git, GitFailure, Identity
from bot.core.changes import ChangeSummary
from bot.core.config import CONFIG_PATH
from bot.core.fileset import FileSet
from bot.core.hand_edits import hand_edits
from bot.core.reports import (
    Action,
    Merging,
    RenderReport,
    render_failed,
    render_hand_edited,
    render_succeeded,
)
from bot.kit.jobs import in_thread
from bot.ocm.location import Repository
from bot.ocm.reader import ComponentReader
from bot.services.pipeline import LandscapeError, LandscapeRender, render_tree, summarise

RERENDER_MESSAGE = "Re-render manifests"
OpenReader = Callable[[Repository], ComponentReader]


class MissingRef(GitFailure):
    """The branch or ref to render does not exist."""

    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(f"{ref} does not exist")


@dataclass(frozen=True)
class RenderedCommit:
    """One commit rendered: the new files and what they change, or why it failed."""

    commit: str
    tree: FileSet
    result: LandscapeRender | None = None
    summary: ChangeSummary | None = None
    failure: RenderReport | None = None

    @property
    def stale(self) -> bool:
        """Whether the commit's rendered files differ from a fresh render."""
        return self.result is not None and self.result.tree != self.tree


def _failed(failed: LandscapeError) -> RenderReport:
    return render_failed(failed.stage, failed.problems, failed.warnings, failed.go_message)


async def render_commit(
    git: Git,
    ref: str,
    *,
    open_reader: OpenReader,
    config_path: str = CONFIG_PATH,
) -> RenderedCommit:
    """Fetch `ref` (a branch, or a full ref such as `refs/pull/7/head`) and render it."""
    fetched = await git.fetch_tree(ref)
    if fetched is None:
        raise MissingRef(ref)
    commit, tree = fetched
    try:
        result = await in_thread(render_tree, tree, open_reader, config_path=config_path)
    except LandscapeError as failed:
        return RenderedCommit(commit, tree, failure=_failed(failed))
    summary = await summarise(tree, result)
    return RenderedCommit(commit, tree, result, summary)


async def commit_rerender(
    git: Git,
    rendered: RenderedCommit,
    *,
    branch: str,
    open_reader: OpenReader,
    config_path: str = CONFIG_PATH,
    start_from: str | None = None,
    identity: Identity = BOT_IDENTITY,
) -> BranchUpdate:
    """Push the render of `rendered` onto `branch` (or onto `branch` rebuilt from `start_from`).

    Raises LandscapeError when files someone pushed meanwhile no longer render.
    """
    assert rendered.result is not None, "only a successful render can be committed"
    result = rendered.result

    def rerendered(files: FileSet) -> FileSet:
        # The first attempt reuses the render; a retry renders what someone pushed.
        if files == rendered.tree:
            return result.tree
        return render_tree(files, open_reader, config_path=config_path).tree

    return await git.update_branch(
        branch=branch,
        change=rerendered,
        message=RERENDER_MESSAGE,
        start_from=start_from,
        identity=identity,
    )


@dataclass(frozen=True)
class Rerender:
    report: RenderReport
    #: the commit rendered, and the branch's commit afterwards (the bot's, when it committed)
    rendered: str
    head: str
    committed: bool
    #: the render, when it succeeded
    render: LandscapeRender | None = None
    #: what merging the render changes in the pull request's base, when there is one
    merging: Merging | None = None


async def rerender_branch(
    git: Git,
    *,
    branch: str,
    open_reader: OpenReader,
    may_commit: bool,
    config_path: str = CONFIG_PATH,
    identity: Identity = BOT_IDENTITY,
    read_from: str | None = None,
    base: str | None = None,
) -> Rerender:
    """Render `branch` and commit the result onto it when `may_commit`.

    `read_from` renders another ref than the branch (a fork's pull request head,
    `refs/pull/N/head`); the bot never commits then. `base` is the branch a pull request
    from `branch` goes into (step 4)."""
    if read_from is not None and may_commit:
        raise ValueError("a render read from another ref than the branch cannot be committed")
    rendered = await render_commit(
        git, read_from or branch, open_reader=open_reader, config_path=config_path
    )
    head = rendered.commit
    if rendered.failure is not None:
        return Rerender(rendered.failure, head, head, committed=False)
    assert rendered.result is not None and rendered.summary is not None
    summary, warnings, result = rendered.summary, rendered.result.warnings, rendered.result
    merging = None
    if base is not None:
        fetched = await git.fetch_tree(base)
        if fetched is None:
            raise MissingRef(base)
        base_commit, base_tree = fetched
        touched = await git.changed_by_others(head, base_commit, identity)
        owned = result.rendering.owned
        edits = hand_edits(
            rendered.tree,
            base_tree,
            result.tree,
            touched=touched,
            owned=owned,
            config_path=config_path,
        )
        if edits:
            return Rerender(render_hand_edited(edits, warnings), head, head, False, result)
        merging = Merging(base, await summarise(base_tree, result))

    def done(action: Action, new_head: str = head, committed: bool = False) -> Rerender:
        report = render_succeeded(summary, warnings, action, merging=merging)
        return Rerender(report, head, new_head, committed, result, merging)

    if not rendered.stale:
        return done("up-to-date")
    if not may_commit:
        return done("not-committed-fork")
    try:
        update = await commit_rerender(
            git,
            rendered,
            branch=branch,
            open_reader=open_reader,
            config_path=config_path,
            identity=identity,
        )
    except LandscapeError as failed:  # the newer push no longer renders
        return Rerender(_failed(failed), head, head, committed=False)
    assert update.commit is not None
    return done("committed", update.commit, update.outcome != "unchanged")


async def rerendered_parent(git: Git, head: Rerender) -> str | None:
    """The commit `head` re-rendered, when `head` is up to date because it is the bot's own
    re-render commit of it; None otherwise."""
    if head.committed or head.render is None or head.report.conclusion != "success":
        return None
    parents = await git.parents(head.head)
    if len(parents) != 1 or await git.foreign_commits(head.head, parents[0]):
        return None
    return parents[0]


async def committed_report(git: Git, parent: str, head: Rerender) -> RenderReport:
    """The report `parent`'s render gave when the bot committed `head` onto it."""
    assert head.render is not None
    summary = await summarise(await git.read_tree(parent), head.render)
    return render_succeeded(summary, head.render.warnings, "committed", merging=head.merging)
