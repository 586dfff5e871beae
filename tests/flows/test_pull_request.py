"""The pull request render flow on the in-memory GitHub."""

from __future__ import annotations

from bot.core.names import RENDER_CHECK, SUMMARY_MARKER, comment_marker
from bot.flows.pull_request import render_pull_request
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

    # the bot's own commit comes back as the new head: up to date, nothing pushed again
    again = await render_pull_request(await landscapes.scope(), await gh.pull_request(REPO, 1))
    assert again is not None and not again.committed and again.report.title == "Up to date"
    assert len(gh.comments_on(REPO, pull.number)) == 1


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


async def test_a_pull_request_that_leaves_the_inputs_alone_is_not_rendered(
    landscapes: Landscapes,
):
    gh = landscapes.gh
    landscapes.push("docs", {"README.md": b"# notes\n"})
    pull = gh.open_pull(REPO, "docs", "main")
    assert await render_pull_request(await landscapes.scope(), pull) is None
    assert gh.runs(REPO) == [] and gh.comments_on(REPO, pull.number) == []
