"""The landscapes of one repository are caught up side by side, each on its own bot branches,
and one landscape's outage neither stops the others nor goes unreported."""

from __future__ import annotations

import asyncio
from typing import Any

import pygit2
import pytest

from bot.core.discovery import DISCOVERY_PATH
from bot.core.failures import Temporary
from bot.flows import checks, landscape_branch
from bot.flows import repository as repository_flow
from bot.flows.repository import PARALLEL_LANDSCAPES, refresh_repository
from tests.integration.landscape_bot import REPO, LandscapeBot
from tests.peers.gitserver import commit_directly, files_at

pytestmark = pytest.mark.peers
BRANCHES = [f"env-{n}" for n in range(4)]
assert len(BRANCHES) <= PARALLEL_LANDSCAPES


def stale_landscapes(bot: LandscapeBot) -> None:
    """Four landscape branches whose config gained the service provider, none re-rendered."""
    git = pygit2.Repository(str(bot.repository.bare))
    main = files_at(git.references["refs/heads/main"].peel(pygit2.Commit))
    stale = {**main, ".bootstrap/config.yaml": bot.config.encode()}
    for branch in BRANCHES:
        commit_directly(bot.repository.bare, branch, stale)
    listed = "landscapes:\n" + "".join(f"  - branch: {b}\n" for b in BRANCHES)
    commit_directly(bot.repository.bare, "main", {**main, DISCOVERY_PATH: listed.encode()})


async def test_the_landscapes_of_a_repository_are_caught_up_side_by_side(
    landscape_bot: LandscapeBot, monkeypatch: pytest.MonkeyPatch
):
    bot = landscape_bot
    stale_landscapes(bot)
    together = asyncio.Barrier(len(BRANCHES))
    sync = landscape_branch.sync_landscape_branch

    async def all_at_once(scope: Any) -> Any:
        # one after another, the first would wait here for the others forever
        await asyncio.wait_for(together.wait(), 60)
        return await sync(scope)

    monkeypatch.setattr(repository_flow, "sync_landscape_branch", all_at_once)
    gh = bot.context.github.installation(bot.installation.id)
    refreshed = await refresh_repository(bot.context, gh, REPO)
    assert refreshed.landscapes == tuple(BRANCHES)
    # each on its own bot branch: one proposal per landscape, none crossed over
    proposals = {(p.head, p.base) for p in bot.fake.pull_requests(REPO) if p.state == "open"}
    assert proposals == {(f"bootstrap-bot/render/{b}", b) for b in BRANCHES}


async def test_an_outage_in_one_landscape_lets_the_others_finish_and_is_raised(
    landscape_bot: LandscapeBot, monkeypatch: pytest.MonkeyPatch
):
    bot = landscape_bot
    stale_landscapes(bot)
    sync = landscape_branch.sync_landscape_branch

    async def one_fails(scope: Any) -> Any:
        if scope.landscape.branch == BRANCHES[0]:
            raise Temporary("the registry is away")
        return await sync(scope)

    monkeypatch.setattr(repository_flow, "sync_landscape_branch", one_fails)
    gh = bot.context.github.installation(bot.installation.id)
    with pytest.raises(Temporary, match="the registry is away"):
        await refresh_repository(bot.context, gh, REPO)
    proposed = {p.base for p in bot.fake.pull_requests(REPO) if p.state == "open"}
    assert proposed == set(BRANCHES[1:])


async def test_a_resync_lists_the_open_pull_requests_once_for_all_landscapes(
    landscape_bot: LandscapeBot, monkeypatch: pytest.MonkeyPatch
):
    bot = landscape_bot
    stale_landscapes(bot)
    gh = bot.context.github.installation(bot.installation.id)
    await refresh_repository(bot.context, gh, REPO)  # a proposal into each landscape
    listings: list[str | None] = []
    listing = type(gh).open_pull_requests

    async def counted(self: Any, full_name: str, *, base: str | None = None) -> Any:
        listings.append(base)
        return await listing(self, full_name, base=base)

    monkeypatch.setattr(type(gh), "open_pull_requests", counted)
    looked_at: list[str] = []
    settled = checks.pull_request_settled

    async def looked(gh: Any, full_name: str, sha: str) -> bool:
        looked_at.append(sha)
        return await settled(gh, full_name, sha)

    monkeypatch.setattr(repository_flow, "pull_request_settled", looked)
    await refresh_repository(bot.context, gh, REPO, resync=True)
    assert listings == [None]  # one listing of every branch's, not one per landscape
    # and each landscape found its own proposal in it
    proposals = [p for p in bot.fake.pull_requests(REPO) if p.state == "open"]
    assert len(proposals) == len(BRANCHES)
    repository = bot.fake.state.repository(REPO)
    assert repository is not None
    assert sorted(looked_at) == sorted(repository.branch_sha(p.head) or "" for p in proposals)
