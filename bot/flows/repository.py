"""One repository's landscapes, caught up: what installation events, pushes to the discovery
file and the resync loop share.

1. read the landscapes from the default branch (`.github/bootstrap-bot.yml`, or its config);
   steps 2-4 run for several landscapes at once (`PARALLEL_LANDSCAPES`);
2. bring each landscape branch up to date: propose re-renders, report failures;
3. propose a newer openMCP release (`bot.flows.upgrade`);
4. in a resync, apply a landscape head to its cluster when no apply of it finished (a lost
   merge event), and render the open pull requests into each landscape the way their
   webhooks would (again when the summary comment has gone missing);
5. report the discovery file's problems, and listed branches that do not exist, on the default
   branch's commit.

A resync skips every commit whose `bootstrap-bot/render` (or `bootstrap-bot/deploy`, or a pull
request's `bootstrap-bot/dry-run`) check run is finished or waits for a retry not yet due
(`bot.flows.checks.needs_work`), and an upgrade already proposed from the same inputs. A resync
round goes further (`resync_repository`): it asks git for the repository's heads first and
leaves a repository alone when no head and no release moved since a refresh that found nothing
to do, so an idle repository costs no GitHub request at all (`bot.services.idle`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.adapters.github.models import PullRequest, Repository
from bot.adapters.github.port import GitHubPort
from bot.adapters.gitrepo import Git, TooLarge
from bot.core.discovery import Landscape
from bot.core.heads import Heads
from bot.core.names import DISCOVERY_CHECK
from bot.core.reports import discovery_report
from bot.flows.checks import finish_render_check, pull_request_settled, rendered_already
from bot.flows.deploy import awaits_deploy, deploy_landscape
from bot.flows.landscape_branch import sync_landscape_branch
from bot.flows.pull_request import render_pull_request, summary_missing
from bot.flows.scope import LandscapeScope, repository_scope
from bot.flows.upgrade import check_upgrade
from bot.kit.logs import bind
from bot.services.context import BotContext
from bot.services.idle import Settled
from bot.services.releases import Listed, RegistryUnavailable, UnknownComponent, watching

log = logging.getLogger(__name__)

#: landscapes of one repository caught up at once (each has its own bot branches, so they
#: never write the same one, and a pull request's head branch proposed into two of them is
#: rendered into by one at a time; the job's threads still bound the renders running at once)
PARALLEL_LANDSCAPES = 8
#: upgrade outcomes that change nothing until a head or a release moves
_SETTLED_UPGRADES = frozenset({"current", "unchanged", "disabled", "unreadable", "failed"})


@dataclass(frozen=True)
class Refreshed:
    """What a refresh found: the landscape branches, and whether there was nothing to do."""

    landscapes: tuple[str, ...]
    idle: bool


async def resync_repository(
    context: BotContext, gh: GitHubPort, repository: Repository, *, round: int
) -> None:
    """A resync round's look at one repository.

    1. its heads, from git (no GitHub request); a repository with more refs than the bot
       lists is refreshed in full every round instead;
    2. when they, and the releases its landscapes watch, are as a refresh that found nothing
       to do saw them, and this is not the repository's round for a full refresh: nothing;
    3. else refresh it, reading its branches at these heads where the cache holds them (no
       fetch for each landscape), and remember what it saw if it found nothing to do.
    """
    full_name = repository.full_name
    # 1. the heads
    git = Git(context.git(full_name, repository.clone_url), context.token(gh))
    try:
        heads = await git.remote_heads()
    except TooLarge as err:
        log.warning("%s: %s; refreshed in full", full_name, err)
        await refresh_repository(context, gh, full_name, resync=True, repository=repository)
        return
    # 2. nothing moved
    known = context.idle.settled(full_name)
    if (
        known is not None
        and not context.idle.verification_due(full_name, round)
        and known.default_branch == repository.default_branch
        and known.fingerprint == heads.fingerprint(known.default_branch, known.landscapes)
        and await _releases_unchanged(context, known.listed)
    ):
        return
    # 3. a refresh
    context.idle.forget(full_name)
    with watching() as listed:
        refreshed = await refresh_repository(
            context, gh, full_name, resync=True, repository=repository, heads=heads
        )
    if refreshed.idle and all(seen.versions is not None for seen in listed.values()):
        fingerprint = heads.fingerprint(repository.default_branch, refreshed.landscapes)
        settled = Settled(
            repository.default_branch, refreshed.landscapes, fingerprint, tuple(listed.values())
        )
        context.idle.remember(full_name, settled)


class OpenPulls:
    """A repository's open pull requests, listed once for all its landscapes in a refresh
    (one listing, not one per landscape branch). The listing starts with the landscapes'
    work, while their first questions are in flight, and is read when the first one asks;
    `close` ends it, so a refresh leaves no request of its own running behind it."""

    def __init__(self, gh: GitHubPort, full_name: str) -> None:
        self._gh, self._full_name = gh, full_name
        self._listings: list[asyncio.Task[list[PullRequest]]] = []
        self._stale = True

    def start(self) -> None:
        listing = self._gh.open_pull_requests(self._full_name)
        self._listings.append(asyncio.create_task(listing))
        self._stale = False

    async def into(self, base: str) -> list[PullRequest]:
        if self._stale:
            self.start()
        # shielded: a landscape cancelled while waiting leaves the listing to the others
        pulls = await asyncio.shield(self._listings[-1])
        return [pull for pull in pulls if pull.base == base]

    def changed(self) -> None:
        """A landscape opened or closed a pull request: the next one to ask sees a listing
        made after it (those waiting for the current one still get that one)."""
        self._stale = True

    async def close(self) -> None:
        for listing in self._listings:
            listing.cancel()
        # their outcomes were the askers' to see (or nobody asked)
        await asyncio.gather(*self._listings, return_exceptions=True)


@dataclass(frozen=True)
class CaughtUp:
    """One landscape's part of a refresh."""

    outcomes: dict[str, str]
    idle: bool
    missing: bool = False
    rendered_pulls: int = 0


async def _catch_up_landscape(
    scope: LandscapeScope,
    head_of: Callable[[str], Awaitable[str | None]],
    *,
    resync: bool,
    head_branches: defaultdict[tuple[str, str], asyncio.Lock],
    open_pulls: OpenPulls,
) -> CaughtUp:
    """Steps 2-4 for one landscape. A pull request's head branch may be proposed into two
    landscapes at once: `head_branches` renders into it one at a time."""
    gh, full_name, landscape = scope.gh, scope.full_name, scope.landscape
    outcomes: dict[str, str] = {}
    # 2. the landscape branch
    head = await head_of(landscape.branch)
    if head is None:
        return CaughtUp(outcomes, idle=True, missing=True)
    idle = True
    if not (resync and await rendered_already(gh, full_name, head)):
        synced = await sync_landscape_branch(scope)
        outcomes[landscape.branch] = synced.outcome
        idle = False
    # 3. a newer openMCP release
    upgrade = await check_upgrade(
        scope, in_round=resync, open_pulls=await open_pulls.into(landscape.branch)
    )
    if upgrade not in ("current", "unchanged", "disabled"):
        outcomes[landscape.branch + " upgrade"] = upgrade
    idle &= upgrade in _SETTLED_UPGRADES
    if upgrade in ("proposed", "withdrawn"):
        open_pulls.changed()  # step 4 renders a proposal opened just now
    if not resync:
        return CaughtUp(outcomes, idle)
    # 4. the cluster, and the pull requests into it
    if await awaits_deploy(scope, head):
        # the merged pull request is told too, as its `closed` delivery would have done
        merged = await gh.merged_pull_request(full_name, base=landscape.branch, merge_commit=head)
        deployed = await deploy_landscape(scope, commit=head, pull=merged)
        idle = False
        if deployed is not None:
            outcomes[landscape.branch + " deploy"] = deployed.conclusion
    rendered_pulls = 0
    for pull in await open_pulls.into(landscape.branch):
        settled = await pull_request_settled(gh, full_name, pull.head_sha)
        if settled and not await summary_missing(scope, pull):
            continue
        idle = False
        async with head_branches[pull.head_repository.lower(), pull.head]:
            if await render_pull_request(scope, pull) is not None:
                rendered_pulls += 1
    return CaughtUp(outcomes, idle, rendered_pulls=rendered_pulls)


async def _releases_unchanged(context: BotContext, listed: tuple[Listed, ...]) -> bool:
    """Whether every version list is as it was (a registry backed off from changes nothing:
    the refresh would leave its landscapes as they are too)."""
    for seen in listed:
        try:
            versions = await context.releases.versions(
                seen.repository, seen.component, in_round=True
            )
        except RegistryUnavailable:
            continue
        except UnknownComponent:
            versions = []
        if tuple(versions) != seen.versions:
            return False
    return True


async def refresh_repository(
    context: BotContext,
    gh: GitHubPort,
    full_name: str,
    *,
    resync: bool = False,
    repository: Repository | None = None,
    heads: Heads | None = None,
) -> Refreshed:
    """Catch the repository's landscapes up (steps 1-5 above); `repository` and `heads`, when
    the caller has them, spare asking GitHub for them."""

    async def head_of(branch: str) -> str | None:
        return heads.branch(branch) if heads is not None else await gh.read_ref(full_name, branch)

    # 1. the landscapes
    scopes = await repository_scope(context, gh, full_name, repository=repository, heads=heads)
    repository, discovery = scopes.repository, scopes.discovery
    window = asyncio.Semaphore(PARALLEL_LANDSCAPES)
    head_branches: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
    open_pulls = OpenPulls(gh, full_name)

    async def catch_up(landscape: Landscape) -> CaughtUp:
        async with window:
            bind(landscape=landscape.branch)  # this task's own context
            scope = scopes.on(landscape)
            return await _catch_up_landscape(
                scope, head_of, resync=resync, head_branches=head_branches, open_pulls=open_pulls
            )

    # Every landscape gets its turn, whatever another one's peers do; the first failure is
    # raised once all are done (a job that ends leaves none of its work running behind it).
    if discovery.landscapes:
        open_pulls.start()
    try:
        done_or_failed = await asyncio.gather(
            *(catch_up(each) for each in discovery.landscapes), return_exceptions=True
        )
    finally:
        await open_pulls.close()
    failure = next((f for f in done_or_failed if isinstance(f, BaseException)), None)
    if failure is not None:
        raise failure
    caught_up = [done for done in done_or_failed if isinstance(done, CaughtUp)]
    missing = [
        landscape.branch
        for landscape, done in zip(discovery.landscapes, caught_up, strict=True)
        if done.missing
    ]
    outcomes = {key: outcome for done in caught_up for key, outcome in done.outcomes.items()}
    rendered_pulls = sum(done.rendered_pulls for done in caught_up)
    idle = all(done.idle for done in caught_up)

    # 5. the discovery file's own check run
    if discovery.listed:
        report = discovery_report(discovery.problems, discovery.landscapes, missing)
        default_head = await head_of(repository.default_branch)
        if default_head is not None:
            await finish_render_check(gh, full_name, default_head, report, name=DISCOVERY_CHECK)
    log.info(
        "%s %s: %d landscape(s), %s; %d pull request(s) rendered",
        "resynced" if resync else "refreshed",
        full_name,
        len(discovery.landscapes),
        ", ".join(f"{b} {o}" for b, o in outcomes.items()) or "no branch to bring up to date",
        rendered_pulls,
    )
    return Refreshed(tuple(landscape.branch for landscape in discovery.landscapes), idle)
