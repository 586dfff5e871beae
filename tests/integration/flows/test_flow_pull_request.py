"""End to end: a pull request changing the bootstrap config, through the real webhook server,
against the fake GitHub, the real git server and the real registry."""

from __future__ import annotations

import pygit2
import pytest

from bot.core.names import RENDER_CHECK
from bot.core.replies import FORKS_IGNORED
from bot.server.resync import Resync
from tests.integration.landscape_bot import REPO, LandscapeBot, head_of
from tests.peers.github.state import PullRequest
from tests.peers.gitserver import commit_directly

pytestmark = pytest.mark.peers


def propose(bot: LandscapeBot, branch: str, config: str, *, title: str) -> tuple[PullRequest, str]:
    """A person pushes `config` on a new branch from main and opens a PR into main."""
    git = pygit2.Repository(str(bot.repository.bare))
    git.references.create(f"refs/heads/{branch}", head_of(bot.repository.bare, "main").id)
    commit = commit_directly(
        bot.repository.bare, branch, {".bootstrap/config.yaml": config.encode()}
    )
    pull = bot.fake.open_pull_request(REPO, head=branch, base="main", title=title, user="alice")
    return pull, commit


def fork_commit(bot: LandscapeBot, files: dict[str, bytes]) -> str:
    """A fork's commit of `files` on top of main: GitHub has it in the base repository's
    objects, under no branch (only refs/pull/N/head, once its PR is open)."""
    git = pygit2.Repository(str(bot.repository.bare))
    git.references.create("refs/heads/fork-work", head_of(bot.repository.bare, "main").id)
    commit = commit_directly(bot.repository.bare, "fork-work", files)
    git.references.delete("refs/heads/fork-work")
    return commit


def open_fork_pull(bot: LandscapeBot, commit: str, *, title: str) -> PullRequest:
    """mallory's PR from her fork's `commit` into main."""
    return bot.fake.open_pull_request(
        REPO,
        head="main",
        base="main",
        title=title,
        user="mallory",
        fork="mallory/landscape",
        head_sha=commit,
    )


def runs_on(bot: LandscapeBot, sha: str) -> list[tuple[str, str | None]]:
    return [
        (r.name, r.fields.get("conclusion"))
        for r in bot.fake.state.check_runs.values()
        if r.head_sha == sha
    ]


async def test_enabling_a_service_provider_gets_one_rerender_commit(landscape_bot: LandscapeBot):
    bot = landscape_bot
    pull, user_commit = propose(bot, "enable-provider", bot.config, title="Enable the provider")
    opened = bot.pull_request_event(pull, "opened")
    await bot.deliver("pull_request", opened)

    head = head_of(bot.repository.bare, "enable-provider")
    assert head.message == "Re-render manifests"
    assert [str(p) for p in head.parent_ids] == [user_commit]
    git = pygit2.Repository(str(bot.repository.bare))
    diff = git.diff(pygit2.Oid(hex=user_commit), head.id)
    changes = sorted((d.status_char(), d.new_file.path) for d in diff.deltas)
    assert changes == [
        ("A", "resources/openmcp/service-providers/test.yaml"),
        ("M", "resources/openmcp/kustomization.yaml"),
    ]
    kustomization = head.tree["resources/openmcp/kustomization.yaml"].peel(pygit2.Blob).data
    assert b"service-providers/test.yaml" in kustomization
    assert runs_on(bot, user_commit) == [(RENDER_CHECK, "success")]
    comments = bot.bot_comments(pull.number)
    assert len(comments) == 1 and "committed the re-rendered manifests" in comments[0].body
    added = "| added | ServiceProvider `test` <sub>"
    assert added in comments[0].body

    # The same event delivered again (a new delivery id) changes nothing.
    await bot.deliver("pull_request", opened)
    assert head_of(bot.repository.bare, "enable-provider").id == head.id
    assert len(bot.bot_comments(pull.number)) == 1
    assert runs_on(bot, user_commit) == [(RENDER_CHECK, "success")]

    # The bot's own commit arrives as synchronize: up to date, green, nothing pushed; the
    # head's check run and the sticky comment still show what merging adds to main.
    await bot.deliver("pull_request", bot.pull_request_event(pull, "synchronize"))
    assert head_of(bot.repository.bare, "enable-provider").id == head.id
    (bot_run,) = [r for r in bot.fake.state.check_runs.values() if r.head_sha == str(head.id)]
    output = bot_run.fields["output"]
    assert bot_run.fields["conclusion"] == "success"
    assert output["title"].startswith("Merging into main: ") and "added" in output["title"]
    assert added in output["summary"] and "up to date with the bootstrap" in output["summary"]
    (comment,) = bot.bot_comments(pull.number)
    assert added in comment.body and output["title"] in comment.body
    assert "up to date with the bootstrap config" in comment.body

    # The resync loop finds only main's commit unreported (set up without the bot) and marks
    # it up to date; run again, it changes nothing at all.
    def writes() -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in bot.fake.requests if r.method != "GET"]

    before = writes()
    resync = Resync(bot.context)
    assert await resync.run_once() == 1
    main = str(head_of(bot.repository.bare, "main").id)
    assert writes()[len(before) :] == [("POST", f"/repos/{REPO}/check-runs")]
    assert runs_on(bot, main) == [(RENDER_CHECK, "success")]
    before = writes()
    assert await resync.run_once() == 1
    assert writes() == before
    assert head_of(bot.repository.bare, "enable-provider").id == head.id
    assert not [p for p in bot.fake.pull_requests(REPO) if p.user != "alice"]


async def test_a_config_error_fails_the_check_at_its_line_and_commits_nothing(
    landscape_bot: LandscapeBot,
):
    bot = landscape_bot
    broken = bot.config.replace("environment: dev\n", "environment: [dev]\n")
    line = broken.splitlines().index("environment: [dev]") + 1
    pull, user_commit = propose(bot, "broken", broken, title="Break it")
    await bot.deliver("pull_request", bot.pull_request_event(pull, "opened"))

    assert str(head_of(bot.repository.bare, "broken").id) == user_commit  # nothing committed
    (run,) = [r for r in bot.fake.state.check_runs.values() if r.head_sha == user_commit]
    assert (run.name, run.fields["conclusion"]) == (RENDER_CHECK, "failure")
    assert run.fields["output"]["title"] == "The bootstrap config is invalid"
    located = [(a["path"], a["start_line"], a["annotation_level"]) for a in run.annotations]
    assert (".bootstrap/config.yaml", line, "failure") in located
    (comment,) = bot.bot_comments(pull.number)
    assert f".bootstrap/config.yaml:{line}" in comment.body
    assert "Nothing was committed" in comment.body

    # The author fixes it: the push re-renders again, and the same comment turns green.
    fixed = commit_directly(
        bot.repository.bare, "broken", {".bootstrap/config.yaml": bot.config.encode()}
    )
    await bot.deliver("pull_request", bot.pull_request_event(pull, "synchronize"))
    head = head_of(bot.repository.bare, "broken")
    assert head.message == "Re-render manifests" and [str(p) for p in head.parent_ids] == [fixed]
    assert runs_on(bot, fixed) == [(RENDER_CHECK, "success")]
    (comment,) = bot.bot_comments(pull.number)
    assert "committed the re-rendered manifests to this branch" in comment.body


async def test_a_lost_delivery_is_caught_up_by_the_resync_loop(landscape_bot: LandscapeBot):
    bot = landscape_bot
    pull, user_commit = propose(bot, "enable-provider", bot.config, title="Enable the provider")
    # No webhook arrives (lost, or the bot was down): the resync finds the unrendered head.
    await Resync(bot.context).run_once()
    head = head_of(bot.repository.bare, "enable-provider")
    assert head.message == "Re-render manifests"
    assert [str(p) for p in head.parent_ids] == [user_commit]
    assert runs_on(bot, user_commit) == [(RENDER_CHECK, "success")]
    assert len(bot.bot_comments(pull.number)) == 1


async def test_a_fork_pull_request_is_rendered_but_never_pushed_to(landscape_bot: LandscapeBot):
    bot = landscape_bot
    git = pygit2.Repository(str(bot.repository.bare))
    fork = fork_commit(bot, {".bootstrap/config.yaml": bot.config.encode()})
    refs_before = {name: str(git.references[name].target) for name in git.references}
    pull = open_fork_pull(bot, fork, title="Enable it")
    await bot.deliver("pull_request", bot.pull_request_event(pull, "opened"))
    # The resync loop leaves it alone too.
    await Resync(bot.context).run_once()

    # Nothing was pushed anywhere: the only new ref is GitHub's own refs/pull/N/head.
    refs_after = {name: str(git.references[name].target) for name in git.references}
    assert refs_after == {**refs_before, pull.head_ref: fork}
    runs = [r for r in bot.fake.state.check_runs.values() if r.head_sha == fork]
    assert [(r.name, r.fields["conclusion"]) for r in runs] == [(RENDER_CHECK, "failure")]
    assert "fork" in runs[0].fields["output"]["summary"]
    assert "service-providers/test.yaml" in runs[0].fields["output"]["summary"]
    (comment,) = bot.bot_comments(pull.number)
    assert "fork" in comment.body


async def test_an_operator_can_have_fork_pull_requests_left_alone(landscape_bot: LandscapeBot):
    bot = landscape_bot
    bot.context.settings = bot.context.settings.model_copy(update={"fork_pull_requests": "ignore"})
    bot.repository.roles.update(walt="write")
    fork = fork_commit(bot, {".bootstrap/config.yaml": bot.config.encode()})
    pull = open_fork_pull(bot, fork, title="Enable it")
    await bot.deliver("pull_request", bot.pull_request_event(pull, "opened"))
    await Resync(bot.context).run_once()
    assert runs_on(bot, fork) == []
    assert bot.bot_comments(pull.number) == []

    for command in ("render", "plan"):  # asked for, it is said why not
        asked = bot.fake.add_comment(REPO, pull.number, f"/bootstrap {command}", user="walt")
        await bot.deliver("issue_comment", bot.comment_event(asked, on_pull=True))
        (reply,) = [c for c in bot.bot_comments(pull.number) if f"reply-to-{asked.id}" in c.body]
        assert FORKS_IGNORED in reply.body
    assert runs_on(bot, fork) == []
