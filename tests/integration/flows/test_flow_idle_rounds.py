"""Resync rounds where nothing moved cost no GitHub request beyond the repository list: the
heads come from git, the releases from the registry; a moved head, a new release, a delivery
or the repository's verification round brings the full refresh back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.adapters import gitrepo
from bot.server.resync import Resync, rotated
from tests.integration.flows.test_flow_pull_request import propose
from tests.integration.flows.test_flow_upgrade import (  # noqa: F401 (fixtures)
    Releases,
    releases,
    upgrade_bot,
    upgrade_pulls,
    v0_0_2,
)
from tests.integration.landscape_bot import REPO, LandscapeBot, head_of
from tests.peers.gitserver import commit_directly

LIST_REPOSITORIES = "apps/list-repos-accessible-to-installation"


def operations(bot: LandscapeBot, since: int) -> list[str]:
    """The installation's requests since the `since`-th, by GitHub operation."""
    return [str(r.operation_id) for r in bot.fake.requests[since:] if r.auth.startswith("token:")]


async def settled(bot: LandscapeBot) -> Resync:
    """Rounds until one finds nothing to do (the first reports main, the next confirms)."""
    resync = Resync(bot.context)
    for _ in range(3):
        await resync.run_once()
        if bot.context.idle.settled(REPO) is not None:
            return resync
    raise AssertionError("the repository never settled")


async def round_operations(bot: LandscapeBot, resync: Resync) -> list[str]:
    seen = len(bot.fake.requests)
    await resync.run_once()
    return operations(bot, seen)


async def test_an_idle_round_asks_github_only_for_the_repository_list(
    upgrade_bot: LandscapeBot,  # noqa: F811
):
    bot = upgrade_bot
    resync = await settled(bot)
    git_before = len(bot.fake.git.requests)
    for _ in range(3):
        assert await round_operations(bot, resync) == [LIST_REPOSITORIES]
    # each round asked git for the heads instead: one ref advertisement each (libgit2 asks
    # without credentials first, as git does, and again with the token when refused)
    requests = bot.fake.git.requests[git_before:]
    assert {p.split("/info/")[1] for _, p, _ in requests} == {"refs?service=git-upload-pack"}
    assert len([user for _, _, user in requests if user]) == 3


async def test_a_new_release_is_proposed_in_the_next_round(
    upgrade_bot: LandscapeBot,  # noqa: F811
    releases: Releases,  # noqa: F811
    tmp_path: Path,
):
    bot = upgrade_bot
    resync = await settled(bot)
    assert await round_operations(bot, resync) == [LIST_REPOSITORIES]
    v0_0_2(releases, tmp_path)
    assert "pulls/create" in await round_operations(bot, resync)
    (pull,) = upgrade_pulls(bot)
    assert pull.title.endswith("v0.0.2")


async def test_a_pull_request_opened_without_its_delivery_is_rendered(
    landscape_bot: LandscapeBot,
):
    bot = landscape_bot
    resync = await settled(bot)
    pull, commit = propose(bot, "enable-provider", bot.config, title="Enable the provider")
    assert "checks/create" in await round_operations(bot, resync)
    head = head_of(bot.repository.bare, "enable-provider")
    assert head.message == "Re-render manifests"
    assert [str(p) for p in head.parent_ids] == [commit]
    assert len(bot.bot_comments(pull.number)) == 1  # as its delivery would have had it


async def test_each_repository_is_refreshed_in_full_once_in_its_rounds(
    upgrade_bot: LandscapeBot,  # noqa: F811
):
    bot = upgrade_bot
    bot.context.idle.verify_every = 3
    resync = await settled(bot)
    full = [
        (await round_operations(bot, resync)) != [LIST_REPOSITORIES] for _ in range(6)
    ]  # fmt: skip
    first, second = [n for n, in_full in enumerate(full) if in_full]
    assert second - first == 3


async def test_a_delivery_makes_the_next_round_look_in_full(upgrade_bot: LandscapeBot):  # noqa: F811
    bot = upgrade_bot
    resync = await settled(bot)
    comment = bot.fake.add_comment(REPO, 1, "just a remark", user="alice")
    await bot.deliver("issue_comment", bot.comment_event(comment, on_pull=False))
    assert bot.context.idle.settled(REPO) is None
    assert await round_operations(bot, resync) != [LIST_REPOSITORIES]
    assert await round_operations(bot, resync) == [LIST_REPOSITORIES]


async def test_a_round_waits_for_room_in_a_full_queue_and_skips_no_repository(
    upgrade_bot: LandscapeBot,  # noqa: F811
):
    bot = upgrade_bot
    for n in range(5):
        other = bot.fake.add_repository(bot.installation, f"other-{n}")
        commit_directly(other.bare, "main", {"README.md": b"no landscape here\n"})
    bot.context.jobs.max_jobs = 2  # webhook jobs and the round's share two places
    assert await Resync(bot.context).run_once() == 6
    listed = {r.path for r in bot.fake.requests if r.path.endswith("/bootstrap-bot.yml")}
    assert len(listed) == 6  # every repository's discovery file was read


def test_each_round_starts_further_down_the_list():
    items = list(range(20))
    starts = [rotated(items, round)[0] for round in range(12)]
    assert starts[:10] == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18] and starts[10] == 0
    assert sorted(rotated(items, 3)) == items
    assert rotated([], 5) == []


async def test_a_repository_with_more_refs_than_listed_is_refreshed_in_full_every_round(
    upgrade_bot: LandscapeBot,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
):
    bot = upgrade_bot
    resync = await settled(bot)
    monkeypatch.setattr(gitrepo, "MAX_REFS", 1)  # main and the upgrade branch are two
    for _ in range(2):
        made = await round_operations(bot, resync)
        assert "checks/list-for-ref" in made  # refreshed, not failed and not skipped
    assert bot.context.jobs.failures == 0


async def test_the_installations_repositories_are_listed_side_by_side(
    upgrade_bot: LandscapeBot,  # noqa: F811
):
    bot = upgrade_bot
    other = bot.fake.add_installation("other-org")
    bot.fake.add_repository(other, "plain")
    resync = await settled(bot)
    holds = [bot.fake.hold_next("GET", r"^/installation/repositories") for _ in range(2)]
    round_ = asyncio.create_task(resync.run_once())
    try:
        # one after another, the second listing would wait for the first to be answered
        await asyncio.wait_for(asyncio.gather(*(h.reached.wait() for h in holds)), 30)
    finally:
        for hold in holds:
            hold.release.set()
    assert await round_ == 2  # a repository of each installation
    # both installations' listings were in flight at once (not one listing asked again)
    assert len({hold.authorization for hold in holds}) == 2
