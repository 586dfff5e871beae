"""End to end: pushes that leave a landscape branch stale, and the list of landscapes, through
the real webhook server."""

from __future__ import annotations

import asyncio
from typing import Any

import pygit2
import pytest

from bot.core.discovery import DISCOVERY_PATH
from bot.core.names import DISCOVERY_CHECK, RENDER_CHECK
from bot.flows import landscape_branch
from bot.server.http import QUEUE
from bot.services import rerender
from tests.integration.landscape_bot import REPO, SECRET, LandscapeBot, head_of, replica
from tests.peers.github.app_key import AppKey
from tests.peers.github.payloads import example, signed
from tests.peers.github.state import CheckRun
from tests.peers.gitserver import commit_directly

pytestmark = pytest.mark.peers
PROPOSAL = "bootstrap-bot/render/main"


def push(bot: LandscapeBot, files: dict[str, bytes]) -> tuple[str, str]:
    """A person pushes straight to main; (before, after)."""
    before = str(head_of(bot.repository.bare, "main").id)
    return before, commit_directly(bot.repository.bare, "main", files)


def run_on(bot: LandscapeBot, sha: str, name: str = RENDER_CHECK) -> CheckRun:
    (run,) = [r for r in bot.fake.state.check_runs.values() if r.head_sha == sha and r.name == name]
    return run


async def test_a_config_pushed_without_a_pull_request_gets_a_proposal(
    landscape_bot: LandscapeBot,
):
    bot = landscape_bot
    before, after = push(bot, {".bootstrap/config.yaml": bot.config.encode()})
    event = bot.push_event("main", before, after)
    await bot.deliver("push", event)

    (pull,) = bot.fake.pull_requests(REPO)
    assert (pull.head, pull.base, pull.state, pull.user_type) == (PROPOSAL, "main", "open", "Bot")
    assert pull.title == "Re-render manifests of main"
    assert "resources/openmcp/service-providers/test.yaml" in (pull.body or "")
    proposed = head_of(bot.repository.bare, PROPOSAL)
    assert proposed.message == "Re-render manifests"
    assert [str(p) for p in proposed.parent_ids] == [after]
    assert "resources/openmcp/service-providers/test.yaml" in proposed.tree
    run = run_on(bot, after)
    assert run.fields["conclusion"] == "neutral"
    assert "proposed in" in run.fields["output"]["summary"]

    # Redelivered: the same PR, the same branch.
    await bot.deliver("push", event)
    assert len(bot.fake.pull_requests(REPO)) == 1
    assert head_of(bot.repository.bare, PROPOSAL).id == proposed.id

    # main moves on: the proposal is rebuilt on it, still one PR.
    before, after = push(bot, {"README.md": b"notes\n"})
    await bot.deliver("push", bot.push_event("main", before, after))
    assert len(bot.fake.pull_requests(REPO)) == 1
    rebuilt = head_of(bot.repository.bare, PROPOSAL)
    assert [str(p) for p in rebuilt.parent_ids] == [after]

    # The proposal is merged (fast-forward): main is up to date, the PR is done.
    git = pygit2.Repository(str(bot.repository.bare))
    git.references["refs/heads/main"].set_target(rebuilt.id)
    await bot.deliver("push", bot.push_event("main", after, str(rebuilt.id)))
    assert run_on(bot, str(rebuilt.id)).fields["conclusion"] == "success"
    (pull,) = bot.fake.pull_requests(REPO)
    assert pull.state == "closed"
    assert f"refs/heads/{PROPOSAL}" not in git.references


async def test_a_burst_of_pushes_renders_each_head_at_most_once(
    landscape_bot: LandscapeBot, monkeypatch: pytest.MonkeyPatch
):
    bot = landscape_bot
    rendered: list[str] = []
    render_commit = rerender.render_commit

    async def counted(*args: Any, **kwargs: Any) -> Any:
        result = await render_commit(*args, **kwargs)
        rendered.append(result.commit)
        return result

    monkeypatch.setattr(landscape_branch, "render_commit", counted)
    # Eight pushes to main land before GitHub's deliveries of them reach the bot.
    events = []
    for n in range(8):
        before, after = push(bot, {f"notes/{n}.md": f"note {n}\n".encode()})
        events.append(bot.push_event("main", before, after))
    said = [await bot.post("push", event) for event in events]
    await asyncio.wait_for(bot.app[QUEUE].settle(), 120)

    # The first job read main at its newest head; the pushes queued behind it joined one job,
    # which found that head rendered already.
    assert rendered == [after]
    assert said[0] == "accepted\n" and said.count("accepted\n") < len(said)
    assert run_on(bot, after).fields["conclusion"] == "success"
    # A push later on is a head of its own, rendered once.
    before, later = push(bot, {"notes/later.md": b"later\n"})
    await bot.deliver("push", bot.push_event("main", before, later))
    await bot.deliver("push", bot.push_event("main", before, later))  # a redelivery
    assert rendered == [after, later]
    metrics = await (await bot.client.get("/metrics")).text()
    assert 'bootstrap_bot_branch_renders_total{outcome="up-to-date"} 2.0' in metrics


async def test_the_discovery_file_is_checked_on_push_and_on_installation(
    landscape_bot: LandscapeBot,
):
    bot = landscape_bot
    listing = b"landscapes:\n  - branch: main\n  - branch: staging\n  - brnch: prod\n"
    before, after = push(bot, {DISCOVERY_PATH: listing})
    await bot.deliver("push", bot.push_event("main", before, after))
    run = run_on(bot, after, DISCOVERY_CHECK)
    assert run.fields["conclusion"] == "failure"
    located = [(a["path"], a["start_line"]) for a in run.annotations]
    assert located == [(DISCOVERY_PATH, 4), (DISCOVERY_PATH, 4)]  # unknown brnch, no branch
    summary = run.fields["output"]["summary"]
    assert "`staging` (.bootstrap/config.yaml) — **no such branch**" in summary
    assert "did you mean 'branch'?" in summary
    # main itself was looked at too: rendered and up to date.
    assert run_on(bot, after).fields["conclusion"] == "success"

    # Fixed, and the App installed again: the refresh reports a clean list.
    before, after = push(bot, {DISCOVERY_PATH: b"landscapes:\n  - branch: main\n"})
    installed = example("installation", "created")
    installed["installation"]["id"] = bot.installation.id
    installed["repositories"][0].update(full_name=REPO, name="landscape")
    await bot.deliver("installation", installed)
    run = run_on(bot, after, DISCOVERY_CHECK)
    assert (run.fields["conclusion"], run.fields["output"]["title"]) == ("success", "1 landscape")

    # The repository added to an installation: refreshed the same way.
    before, after = push(bot, {DISCOVERY_PATH: b"landscapes:\n  - branch: main\n  - branch: x\n"})
    added = example("installation_repositories", "added")
    added["installation"]["id"] = bot.installation.id
    added["repositories_added"] = [{**added["repositories_added"][0], "full_name": REPO}]
    await bot.deliver("installation_repositories", added)
    run = run_on(bot, after, DISCOVERY_CHECK)
    assert run.fields["output"]["title"] == f"1 problem in {DISCOVERY_PATH}"


async def test_a_proposal_someone_pushed_to_is_left_alone(landscape_bot: LandscapeBot):
    bot = landscape_bot
    before, after = push(bot, {".bootstrap/config.yaml": bot.config.encode()})
    await bot.deliver("push", bot.push_event("main", before, after))
    (pull,) = bot.fake.pull_requests(REPO)
    theirs = commit_directly(bot.repository.bare, PROPOSAL, {"NOTES.md": b"mine\n"})

    before, after = push(bot, {"README.md": b"notes\n"})
    await bot.deliver("push", bot.push_event("main", before, after))
    assert str(head_of(bot.repository.bare, PROPOSAL).id) == theirs
    (comment,) = bot.bot_comments(pull.number)
    assert f"Someone else pushed to `{PROPOSAL}` ({theirs[:12]})" in comment.body
    assert run_on(bot, after).fields["conclusion"] == "neutral"


async def test_two_replicas_given_the_same_delivery_open_one_pull_request(
    landscape_bot: LandscapeBot, app_key: AppKey, aiohttp_client, tmp_path
):
    """A Deployment's replicas share no state but GitHub: the same push delivered to both
    (GitHub redelivering to another pod, say) still gives one proposal with one commit."""
    bot = landscape_bot
    async with replica(bot, app_key, aiohttp_client, tmp_path / "second") as second:
        before, after = push(bot, {".bootstrap/config.yaml": bot.config.encode()})
        body, headers = signed("push", bot.push_event("main", before, after), SECRET)
        # Whichever replica opens the pull request first is held there until the other has
        # opened it too: both looked and found none, the race several replicas run into.
        held = bot.fake.hold_next("POST", r"^/repos/[^/]+/[^/]+/pulls$")
        answers = await asyncio.gather(
            *(r.client.post("/webhook", data=body, headers=headers) for r in (bot, second))
        )
        assert [a.status for a in answers] == [202, 202]
        await asyncio.wait_for(held.reached.wait(), 120)

        async def opened() -> None:
            while not bot.fake.pull_requests(REPO):
                await asyncio.sleep(0.05)

        await asyncio.wait_for(opened(), 120)
        held.release.set()
        await asyncio.wait_for(
            asyncio.gather(bot.app[QUEUE].settle(), second.app[QUEUE].settle()), 120
        )

        (pull,) = bot.fake.pull_requests(REPO)
        assert (pull.head, pull.state) == (PROPOSAL, "open")
        assert len(bot.fake.calls("pulls/create")) == 2  # one of them refused as a duplicate
        proposed = head_of(bot.repository.bare, PROPOSAL)
        assert [str(p) for p in proposed.parent_ids] == [after]
        assert proposed.message == "Re-render manifests"
        assert run_on(bot, after).fields["conclusion"] == "neutral"
        for one in (bot, second):
            metrics = await (await one.client.get("/metrics")).text()
            assert 'outcome="ok"' in metrics and 'outcome="error"' not in metrics
