"""The pull request render flow on the in-memory GitHub."""

from __future__ import annotations

from bot.core.fileset import FileSet
from bot.core.hand_edits import PATCHES
from bot.core.names import RENDER_CHECK, SUMMARY_MARKER, comment_marker
from bot.core.reports import UNTOUCHED
from bot.flows.pull_request import render_pull_request
from bot.services.pipeline import render_tree
from tests.flows.conftest import REPO, Landscapes


async def test_a_config_change_is_rendered_committed_and_reported(landscapes: Landscapes):
    gh = landscapes.gh
    edited = landscapes.config(**{"environment: dev": "environment: qa"})
    landscapes.push("feature", {".bootstrap/config.yaml": edited.encode()})
    pull = gh.open_pull(REPO, "feature", "main")

    result = await render_pull_request(await landscapes.scope(), pull)

    assert result is not None and result.committed
    files = landscapes.files("feature")
    assert "envs/qa/kustomization.yaml" in files and not any(
        f.startswith("envs/dev/") for f in files
    )
    (run,) = gh.runs(REPO, RENDER_CHECK)
    assert run.run.head_sha == result.rendered and run.run.conclusion == "success"
    assert run.output is not None and "added" in run.output.title
    (summary,) = gh.comments_on(REPO, pull.number)
    assert summary.comment.body.startswith(comment_marker(SUMMARY_MARKER))

    # the bot's own commit comes back as the new head: up to date, nothing pushed again, and
    # its check run and the comment still say what merging adds
    again = await render_pull_request(await landscapes.scope(), await gh.pull_request(REPO, 1))
    assert again is not None and not again.committed
    assert again.report.title == run.output.title
    assert again.report.title.startswith("Merging into main: ") and "added" in again.report.title
    assert "up to date with the bootstrap config" in again.report.summary
    assert "Kustomization `flux-system/" in again.report.summary
    (comment,) = gh.comments_on(REPO, pull.number)
    assert again.report.title in comment.comment.body

    # another config change on top of the bot's commit is rendered and committed again: the
    # files the bot generated before are no hand edits
    landscapes.push("feature", {".bootstrap/config.yaml": edited.replace("qa", "qa2").encode()})
    third = await render_pull_request(await landscapes.scope(), await gh.pull_request(REPO, 1))
    assert third is not None and third.committed and third.report.conclusion == "success"


async def test_a_config_error_is_located_and_nothing_is_pushed(landscapes: Landscapes):
    gh = landscapes.gh
    broken = landscapes.config(**{"environment:": "enviroment:"})
    head = landscapes.push("feature", {".bootstrap/config.yaml": broken.encode()})
    pull = gh.open_pull(REPO, "feature", "main")

    result = await render_pull_request(await landscapes.scope(), pull)

    assert result is not None and not result.committed
    assert (await gh.read_ref(REPO, "feature")) == head  # nothing pushed
    (run,) = gh.runs(REPO, RENDER_CHECK)
    assert run.run.conclusion == "failure" and run.output is not None
    assert run.output.title == "The bootstrap config is invalid"
    assert any(
        a.path == ".bootstrap/config.yaml" and a.start_line > 0 for a in run.output.annotations
    )


async def test_a_pull_request_that_leaves_the_inputs_alone_gets_a_green_check_unrendered(
    landscapes: Landscapes,
):
    gh = landscapes.gh
    landscapes.push("docs", {"README.md": b"# notes\n"})
    pull = gh.open_pull(REPO, "docs", "main")
    assert await render_pull_request(await landscapes.scope(), pull) is None
    (run,) = gh.runs(REPO, RENDER_CHECK)
    assert run.run.conclusion == "success" and run.output is not None
    assert run.output.title == UNTOUCHED.title and run.run.head_sha == pull.head_sha
    assert gh.comments_on(REPO, pull.number) == []
    # a redelivery writes nothing more
    assert await render_pull_request(await landscapes.scope(), pull) is None
    assert len(gh.runs(REPO)) == 1


async def test_a_hand_edited_generated_file_fails_the_check_where_it_is_and_is_kept(
    landscapes: Landscapes,
):
    gh = landscapes.gh
    rendered = render_tree(FileSet(landscapes.files("main")), landscapes.context.open_reader)
    landscapes.push("main", rendered.tree, message="rendered")
    path = "envs/dev/root-kustomization.yaml"
    text = rendered.tree[path].decode()
    edited = text.replace("  path: ./envs/dev\n", "  path: ./envs/dev\n  prune: true\n")
    assert edited != text
    head = landscapes.push("by-hand", {path: edited.encode()})
    pull = gh.open_pull(REPO, "by-hand", "main")

    result = await render_pull_request(await landscapes.scope(), pull)

    assert result is not None and not result.committed and result.render is not None
    assert await gh.read_ref(REPO, "by-hand") == head  # the edit is not reverted
    (run,) = gh.runs(REPO, RENDER_CHECK)
    assert run.run.conclusion == "failure" and run.output is not None
    assert run.output.title == "1 generated file edited by hand"
    (note,) = run.output.annotations
    first_changed = next(
        n
        for n, (a, b) in enumerate(zip(edited.split("\n"), text.split("\n"), strict=False), 1)
        if a != b
    )
    assert (note.path, note.start_line) == (path, first_changed)
    assert "reverts this edit" in note.message and PATCHES in note.message
    (comment,) = gh.comments_on(REPO, pull.number)
    assert "edited by hand" in comment.comment.body
