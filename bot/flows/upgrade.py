"""A newer openMCP release for a landscape: propose it in the pull request
`bootstrap-bot/upgrade/<branch>`, one per landscape, kept current.

1. the landscape branch: its config, upgrade policy and current version (a config that does
   not load is the branch sync's to report);
2. the landscape's upgrade pull requests: the open one, and the versions declined so far;
3. the root component's versions (a registry that is backing off: nothing changes);
4. the version to propose: the one asked for, the one a command pinned, or the newest allowed;
5. none: an open proposal is withdrawn (its branch deleted when only the bot committed to it);
6. the open pull request proposes it already, built from the same inputs: done (an idle poll
   ends here, having rendered nothing);
7. the version bump and the re-render in one commit on the bot branch, rebuilt from the
   landscape branch (never over someone else's commits: the PR gets a comment instead);
8. open or update the pull request: what the release changes, what merging changes, and the
   record the next run reads.

When an upgrade pull request is closed (`upgrade_closed`): merged, its branch is deleted;
unmerged, its version is declined and the PR says so.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from functools import partial
from typing import Literal

from bot.adapters.github.client import InstallationClient, PullRequest, Repository
from bot.adapters.gitrepo import ForeignCommits, update_branch
from bot.core.config_edit import ConfigEditError, set_component_version
from bot.core.discovery import Landscape
from bot.core.fileset import FileSet
from bot.core.impact import upgrade_impact
from bot.core.upgrade_pr import (
    PastUpgrade,
    UpgradeHistory,
    UpgradeRecord,
    declined_note,
    inputs_digest,
    read_record,
    undeclined,
    upgrade_body,
    upgrade_branch,
    upgrade_title,
    with_record,
)
from bot.core.upgrades import NotAvailable, requested_version, same_version, select_upgrade
from bot.flows.bot_branch import delete_bot_branch, taken_over, withdraw_proposal
from bot.golang.semver import InvalidVersion, Version
from bot.ocm.graph import ComponentGraph
from bot.ocm.location import LocationError, parse_location
from bot.services.context import BotContext
from bot.services.pipeline import (
    LandscapeError,
    LandscapeRender,
    Objects,
    change_summary,
    current_objects,
    read_config,
    release_graph,
    render_tree,
)
from bot.services.releases import RegistryUnavailable, UnknownComponent

log = logging.getLogger(__name__)
#: the directories the render owns: an upgrade is rebuilt when they change on the landscape
OWNED = ("envs", "resources")

Outcome = Literal[
    "disabled",  # the policy proposes nothing
    "unreadable",  # no branch, a config that does not load, an unknown version or component
    "unavailable",  # the registry failed or is backing off: nothing changed
    "current",  # nothing to propose
    "withdrawn",  # nothing to propose, and the open proposal was closed
    "unchanged",  # the open pull request proposes it already
    "proposed",  # opened or updated
    "taken-over",  # someone else committed to the bot branch
    "failed",  # the release does not render with this landscape's config
]


@dataclass(frozen=True)
class UpgradeResult:
    outcome: Outcome
    #: for people: why, in a sentence (Markdown)
    detail: str = ""
    current: str = ""
    version: str | None = None
    pull: PullRequest | None = None


@dataclass(frozen=True)
class Asked:
    """`/bootstrap upgrade [VERSION]`: this version exactly, or the newest allowed one."""

    version: Version | None = None


@dataclass
class _Built:
    """What the branch update's last attempt built (it may run more than once)."""

    files: FileSet
    #: the release the landscape runs, and its objects as rendered on the branch
    graph_before: ComponentGraph
    objects_before: tuple[Objects | None, str]
    after: LandscapeRender


async def upgrade_pulls(
    gh: InstallationClient, full_name: str, landscape: Landscape
) -> list[tuple[PullRequest, UpgradeRecord | None]]:
    """The landscape's upgrade pull requests from this repository, newest first, with the
    record each carries."""
    pulls = await gh.pull_requests_from(
        full_name, head=upgrade_branch(landscape.branch), base=landscape.branch
    )
    return [(p, read_record(p.body)) for p in pulls if not p.from_fork(full_name)]


async def upgrade_history(
    gh: InstallationClient, full_name: str, landscape: Landscape
) -> tuple[UpgradeHistory, PullRequest | None]:
    """What the landscape's upgrade pull requests say, and the open one."""
    pulls = await upgrade_pulls(gh, full_name, landscape)
    history = UpgradeHistory(tuple(PastUpgrade(p.number, p.state, p.merged, r) for p, r in pulls))
    return history, next((p for p, _ in pulls if p.state == "open"), None)


async def propose_upgrade(
    context: BotContext,
    gh: InstallationClient,
    repository: Repository,
    landscape: Landscape,
    *,
    asked: Asked | None = None,
    in_round: bool = False,
) -> UpgradeResult:
    full_name = repository.full_name
    git = context.git(full_name, repository.clone_url)
    token = context.token(gh)
    branch = upgrade_branch(landscape.branch)

    # 1. the landscape as it is
    head = await asyncio.to_thread(git.fetch, landscape.branch, await token())
    if head is None:
        return UpgradeResult("unreadable", f"The branch `{landscape.branch}` does not exist.")
    tree = await asyncio.to_thread(git.read_tree, head)
    try:
        config, _ = read_config(tree, landscape.config_path)
        location = parse_location(config.component.location)
    except LandscapeError as err:
        return UpgradeResult("unreadable", f"`{landscape.config_path}` does not load: {err}")
    except LocationError as err:
        return UpgradeResult("unreadable", f"`component.location`: {err}")
    current = location.version
    policy = config.bot.upgrade
    if asked is not None:
        policy = replace(policy, enabled=True)  # asking is enabling, once
    if not current:
        return UpgradeResult("unreadable", "`component.location` names no version.")
    if not policy.enabled:
        return UpgradeResult("disabled", "Upgrades are disabled (`bot.upgrade.enabled`).")

    # 2. what was proposed and declined before
    history, open_pull = await upgrade_history(gh, full_name, landscape)
    open_record = read_record(open_pull.body) if open_pull is not None else None
    declined = history.declined
    if asked is not None and asked.version is not None:
        declined = undeclined(declined, str(asked.version))

    # 3. the releases
    try:
        available = await context.releases.versions(
            location.repository, location.component, in_round=in_round
        )
    except RegistryUnavailable as err:
        return UpgradeResult("unavailable", f"The registry cannot be read now: {err}", current)
    except (UnknownComponent, LocationError) as err:  # LocationError: a CTF path
        return UpgradeResult("unreadable", str(err), current)

    # 4. the version to propose
    pinned = downgrade = False
    if asked is not None and asked.version is not None:
        try:
            requested = requested_version(current, available, asked.version)
        except NotAvailable as err:
            return UpgradeResult("unreadable", f"{err}.", current)
        if same_version(str(requested.version), current):
            return UpgradeResult("current", f"`{landscape.branch}` is at `{current}` already.")
        target: Version | None = requested.version
        pinned, downgrade = True, requested.downgrade
    elif asked is None and open_record is not None and open_record.pinned:
        target, pinned, downgrade = _pinned(open_record, current, available)
    else:
        target = select_upgrade(current, available, policy, declined=declined)

    # 5. nothing to propose
    if target is None:
        why = f"No allowed release newer than `{current}`" + (
            f" (declined: {', '.join(f'`{v}`' for v in declined)})." if declined else "."
        )
        if open_pull is None or open_record is None:
            return UpgradeResult("current", why, current)
        await _withdraw(context, gh, repository, open_pull, open_record, head, why)
        return UpgradeResult("withdrawn", why, current, pull=open_pull)
    version = str(target)

    # 6. proposed already, from these inputs
    record = UpgradeRecord(
        landscape=landscape.branch,
        before=current,
        after=version,
        inputs=_digest(tree, landscape, version),
        declined=declined,
        pinned=pinned,
        downgrade=downgrade,
    )
    if open_pull is not None and open_record == record:
        return UpgradeResult("unchanged", "", current, version, open_pull)

    # 7. the bump and the re-render, in one commit
    built: list[_Built] = []

    def bumped(files: FileSet) -> FileSet:
        # The files as fetched now: is the config still there, and does it load?
        config, _ = read_config(files, landscape.config_path)
        text = files[landscape.config_path].decode("utf-8", errors="replace")
        edited = set_component_version(text, version)
        after = render_tree(
            files | {landscape.config_path: edited.encode("utf-8")},
            context.open_reader,
            config_path=landscape.config_path,
        )
        graph = release_graph(config, context.open_reader, config_path=landscape.config_path)
        built.append(_Built(files, graph, current_objects(files, config), after))
        return after.tree

    environment = config.environment
    try:
        await update_branch(
            git,
            branch=branch,
            change=bumped,
            message=upgrade_title(environment, version, downgrade=downgrade),
            token=token,
            start_from=landscape.branch,
        )
    except ForeignCommits as taken:
        if open_pull is not None:
            then = "the bot proposes the newest release again"
            await gh.upsert_comment(
                full_name,
                open_pull.number,
                marker="upgrade-taken-over",
                body=taken_over(branch, taken.commits, then),
            )
        return UpgradeResult(
            "taken-over", f"`{branch}` holds someone else's commits.", current, version, open_pull
        )
    except (ConfigEditError, LandscapeError) as err:
        detail = f"`{version}` cannot be proposed for `{landscape.branch}`: {err}"
        log.warning("%s: %s", full_name, detail)
        return UpgradeResult("failed", detail, current, version, open_pull)

    # 8. the pull request
    last = built[-1]
    record = replace(record, inputs=_digest(last.files, landscape, version))
    objects_before, _ = last.objects_before
    impact = upgrade_impact(
        last.graph_before,
        last.after.graph,
        [o for directory in (objects_before or {}).values() for o in directory],
        last.after.all_objects,
    )
    summary = await asyncio.to_thread(
        partial(change_summary, objects_before=last.objects_before), last.files, last.after
    )
    body = upgrade_body(
        record,
        environment=environment,
        impact=impact,
        summary=summary,
        warnings=last.after.warnings,
    )
    title = upgrade_title(environment, version, downgrade=downgrade)
    pull = await gh.ensure_pull_request(
        full_name, head=branch, base=landscape.branch, title=title, body=body
    )
    if open_record is None or open_record.after != version:
        context.releases.proposed(location.repository, location.component, version)
    log.info("%s: upgrade of %s to %s %s", full_name, landscape.branch, version, pull.outcome)
    return UpgradeResult("proposed", "", current, version, pull)


def _pinned(
    record: UpgradeRecord, current: str, available: list[str]
) -> tuple[Version | None, bool, bool]:
    """The version a command pinned, while the registry has it and it still is the change
    that was asked for (not reached, and still a downgrade if it was one)."""
    try:
        kept = requested_version(current, available, Version.parse(record.after))
    except (NotAvailable, InvalidVersion):
        return None, False, False
    if same_version(str(kept.version), current) or kept.downgrade != record.downgrade:
        return None, False, False
    return kept.version, True, kept.downgrade


def _digest(files: FileSet, landscape: Landscape, version: str) -> str:
    return inputs_digest(files, config_path=landscape.config_path, version=version, owned=OWNED)


async def _withdraw(
    context: BotContext,
    gh: InstallationClient,
    repository: Repository,
    pull: PullRequest,
    record: UpgradeRecord,
    base: str,
    why: str,
) -> None:
    """Close the open proposal as no longer needed (which declines nothing)."""
    full_name = repository.full_name
    await gh.edit_pull_request_body(
        full_name, pull.number, with_record(pull.body, replace(record, withdrawn=True))
    )
    await withdraw_proposal(
        gh,
        context.git(full_name, repository.clone_url),
        context.token(gh),
        pull,
        full_name=full_name,
        base=base,
        marker="upgrade-withdrawn",
        why=f"{why} This upgrade is no longer proposed.",
    )


async def upgrade_closed(
    context: BotContext, gh: InstallationClient, repository: Repository, pull: PullRequest
) -> None:
    """An upgrade pull request was closed: merged, its branch goes; unmerged, its version is
    declined (recorded in the PR, which says so) and its branch goes unless someone else
    committed to it."""
    record = read_record(pull.body)
    if record is None or pull.from_fork(repository.full_name) or record.withdrawn:
        return
    full_name = repository.full_name
    git = context.git(full_name, repository.clone_url)
    token = context.token(gh)
    if pull.merged:
        await delete_bot_branch(git, token, pull.head, base=None, full_name=full_name)
        return
    declined = record.declining(record.after)
    if declined != record:
        await gh.edit_pull_request_body(full_name, pull.number, with_record(pull.body, declined))
    base = await asyncio.to_thread(git.fetch, pull.base, await token())
    deleted = await delete_bot_branch(git, token, pull.head, base=base, full_name=full_name)
    await gh.upsert_comment(
        full_name,
        pull.number,
        marker="upgrade-declined",
        body=declined_note(record.after, branch_kept=not deleted),
    )


async def check_upgrade(
    context: BotContext,
    gh: InstallationClient,
    repository: Repository,
    landscape: Landscape,
    *,
    in_round: bool = False,
) -> str:
    """`propose_upgrade` where nobody asked for it (a poll, a push): its outcome; an error is
    logged rather than stopping the landscapes after this one."""
    try:
        result = await propose_upgrade(context, gh, repository, landscape, in_round=in_round)
    except Exception:
        log.exception("%s: the upgrade check of %s failed", repository.full_name, landscape.branch)
        return "error"
    return result.outcome
