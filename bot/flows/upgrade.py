"""A newer openMCP release for a landscape: propose it in the pull request
`bootstrap-bot/upgrade/<branch>`, one per landscape, kept current.

1. the landscape branch: its config, upgrade policy and current version (a config that does
   not load is the branch sync's to report);
2. the landscape's upgrade pull requests: the open one, and the versions declined so far
   (not asked for in a refresh that listed the open pull requests, found no upgrade among
   them and no release newer than the landscape's in step 3, which runs first);
3. the root component's versions (a registry that is backing off: nothing changes), at the
   mirror's source for a landscape with `bot.mirror`;
4. the version to propose: the one asked for, the one a command pinned, or the newest allowed;
5. none: an open proposal is withdrawn (its branch deleted when only the bot committed to it);
6. the open pull request proposes it already, built from the same inputs: done (an idle poll
   ends here, having rendered nothing);
7. with `bot.mirror`, the release copied into the mirror and verified there first (nothing is
   proposed from a transfer that failed); then the version bump (with a mirror: the location
   in the mirror) and the re-render in one commit on the bot branch, rebuilt from the
   landscape branch (never over someone else's commits: the PR gets a comment instead);
8. open or update the pull request: the verdict (from → to, destructive changes, what a dry
   run against the landscape's cluster says), what the release changes, what merging
   changes, and the record the next run reads.

When an upgrade pull request is closed (`upgrade_closed`): merged, its branch is deleted;
unmerged, its version is declined and the PR says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from bot.adapters.github.models import CheckRunOutput, PullRequest
from bot.adapters.gitrepo import ForeignCommits
from bot.core import replies
from bot.core.bot_section import Mirror, UpgradePolicy
from bot.core.config import BootstrapConfig
from bot.core.config_edit import set_component_location, set_component_version
from bot.core.discovery import Landscape
from bot.core.failures import Failure, Temporary
from bot.core.fileset import FileSet
from bot.core.impact import upgrade_impact
from bot.core.names import (
    MIRROR_CHECK,
    UPGRADE_DECLINED_MARKER,
    UPGRADE_TAKEN_OVER_MARKER,
    UPGRADE_WITHDRAWN_MARKER,
    upgrade_branch,
)
from bot.core.upgrade_pr import (
    PastUpgrade,
    UpgradeHistory,
    UpgradeRecord,
    declined_note,
    inputs_digest,
    read_record,
    undeclined,
    upgrade_body,
    upgrade_title,
    with_record,
)
from bot.core.upgrades import NotAvailable, requested_version, same_version, select_upgrade
from bot.flows.bot_branch import delete_bot_branch, withdraw_proposal
from bot.flows.dry_run import dry_run_landscape
from bot.flows.scope import LandscapeScope
from bot.golang.semver import Version
from bot.ocm.graph import ComponentGraph
from bot.ocm.location import Location, LocationError, Repository, parse_location
from bot.services.mirror import MirrorRefused
from bot.services.pipeline import (
    LandscapeError,
    LandscapeRender,
    Objects,
    current_objects,
    read_config,
    release_graph,
    render_tree,
    summarise,
)
from bot.services.releases import RegistryUnavailable

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
    #: the upgrade commit, once pushed
    commit: str = ""


async def upgrade_pulls(scope: LandscapeScope) -> list[tuple[PullRequest, UpgradeRecord | None]]:
    """The landscape's upgrade pull requests from this repository, newest first, with the
    record each carries."""
    pulls = await scope.gh.pull_requests_from(
        scope.full_name, head=upgrade_branch(scope.branch), base=scope.branch
    )
    return [(p, read_record(p.body)) for p in pulls if not p.from_fork(scope.full_name)]


async def upgrade_history(scope: LandscapeScope) -> tuple[UpgradeHistory, PullRequest | None]:
    """What the landscape's upgrade pull requests say, and the open one."""
    pulls = await upgrade_pulls(scope)
    history = UpgradeHistory(tuple(PastUpgrade(p.number, p.state, p.merged, r) for p, r in pulls))
    return history, next((p for p, _ in pulls if p.state == "open"), None)


@dataclass(frozen=True)
class _Now:
    """1. The landscape branch as it is: its commit, files, config and release."""

    head: str
    tree: FileSet
    config: BootstrapConfig
    location: Location
    policy: UpgradePolicy

    @property
    def current(self) -> str:
        return self.location.version or ""

    @property
    def mirror(self) -> Mirror | None:
        return self.config.bot.mirror


@dataclass(frozen=True)
class _Proposed:
    """2. What was proposed before: the open pull request, its record, the declined versions."""

    pull: PullRequest | None
    record: UpgradeRecord | None
    declined: tuple[str, ...]


@dataclass(frozen=True)
class _Choice:
    """4. The version to propose, and how it was chosen."""

    version: Version | None
    pinned: bool = False
    downgrade: bool = False


class _Stop(Exception):
    """A step found nothing more to do: the flow ends with this result."""

    def __init__(self, result: UpgradeResult) -> None:
        super().__init__(result.outcome)
        self.result = result


async def propose_upgrade(
    scope: LandscapeScope,
    *,
    asked: Asked | None = None,
    in_round: bool = False,
    open_pulls: Sequence[PullRequest] | None = None,
) -> UpgradeResult:
    """The steps above. `open_pulls`, the open pull requests into the landscape branch when
    the caller listed them: with none of them the upgrade pull request and no release newer
    than the landscape's at all, the history of step 2 is not asked for (the landscape is
    current whatever was declined)."""
    try:
        now = await _landscape_now(scope, asked)  # 1.
        available = await _releases(scope, now, in_round)  # 3. (before 2., which it may spare)
        if asked is None and _current_without_history(scope, now, available, open_pulls):
            return UpgradeResult("current", replies.nothing_newer(now.current, ()), now.current)
        proposed = await _proposed_before(scope, asked)  # 2.
        choice = _version_to_propose(scope, now, proposed, available, asked)  # 4.
        if choice.version is None:  # 5.
            return await _nothing_to_propose(scope, now, proposed)
        record = UpgradeRecord(
            landscape=scope.branch,
            before=now.current,
            after=str(choice.version),
            inputs=_digest(now.tree, scope.landscape, str(choice.version)),
            declined=proposed.declined,
            pinned=choice.pinned,
            downgrade=choice.downgrade,
        )
        if proposed.pull is not None and proposed.record == record:  # 6.
            return UpgradeResult("unchanged", "", now.current, record.after, proposed.pull)
        mirrored = await _mirrored(scope, now, record) if now.mirror else ""  # 7.
        built = await _commit_upgrade(scope, now, proposed, record)
        return await _open_pull_request(scope, now, proposed, record, built, mirrored)  # 8.
    except _Stop as stop:
        return stop.result


async def _landscape_now(scope: LandscapeScope, asked: Asked | None) -> _Now:
    """1. The landscape branch's config, upgrade policy and current version."""
    fetched = await scope.git.fetch_tree(scope.branch)
    if fetched is None:
        raise _Stop(UpgradeResult("unreadable", replies.branch_missing(scope.branch)))
    head, tree = fetched
    try:
        config, _ = read_config(tree, scope.config_path)
        location = parse_location(config.component.location)
    except LandscapeError as err:
        said = replies.config_does_not_load(scope.config_path, err)
        raise _Stop(UpgradeResult("unreadable", said)) from None
    except LocationError as err:
        raise _Stop(UpgradeResult("unreadable", replies.location_unreadable(err))) from None
    policy = config.bot.upgrade
    if asked is not None:
        policy = replace(policy, enabled=True)  # asking is enabling, once
    if not location.version:
        raise _Stop(UpgradeResult("unreadable", "`component.location` names no version."))
    if not policy.enabled:
        raise _Stop(UpgradeResult("disabled", replies.UPGRADES_DISABLED))
    return _Now(head, tree, config, location, policy)


def _current_without_history(
    scope: LandscapeScope,
    now: _Now,
    available: list[str],
    open_pulls: Sequence[PullRequest] | None,
) -> bool:
    """Whether the landscape is current however its upgrades were declined: no open upgrade
    pull request (whose record may pin a version) and no allowed release newer than its own."""
    if open_pulls is None:
        return False
    branch = upgrade_branch(scope.branch)
    if any(p.head == branch and not p.from_fork(scope.full_name) for p in open_pulls):
        return False
    return select_upgrade(now.current, available, now.policy) is None


async def _proposed_before(scope: LandscapeScope, asked: Asked | None) -> _Proposed:
    """2. The open upgrade pull request, and the versions declined so far (one asked for by
    name is no longer declined)."""
    history, open_pull = await upgrade_history(scope)
    open_record = read_record(open_pull.body) if open_pull is not None else None
    declined = history.declined
    if asked is not None and asked.version is not None:
        declined = undeclined(declined, str(asked.version))
    return _Proposed(open_pull, open_record, declined)


async def _releases(scope: LandscapeScope, now: _Now, in_round: bool) -> list[str]:
    """3. The root component's versions (a registry backing off: nothing changes)."""
    location = now.location
    try:
        watched = _watched(scope, now)
    except MirrorRefused as err:
        await _tell_mirror_check(scope, now, None, err)
        raise _Stop(UpgradeResult("unreadable", str(err), now.current)) from None
    try:
        return await scope.context.releases.versions(watched, location.component, in_round=in_round)
    except RegistryUnavailable as err:
        detail = replies.registry_unreadable(err)
        raise _Stop(UpgradeResult("unavailable", detail, now.current)) from None
    except Failure as err:  # an unknown component, a CTF path
        raise _Stop(UpgradeResult("unreadable", str(err), now.current)) from None


def _watched(scope: LandscapeScope, now: _Now) -> Repository:
    """Where new releases appear: the mirror's source, or the repository the config names."""
    if now.mirror is None:
        return now.location.repository
    return scope.context.mirrors.source_of(now.mirror)


async def _mirrored(scope: LandscapeScope, now: _Now, record: UpgradeRecord) -> str:
    """7. The release in the landscape's mirror, verified; what was copied, for the body."""
    assert now.mirror is not None
    component, version = now.location.component, record.after
    try:
        done = await scope.context.mirrors.ensure(now.mirror, component, version)
    except Failure as err:
        detail = replies.mirror_failed(version, now.mirror.target, err)
        log.warning("%s: %s", scope.full_name, detail)
        await _tell_mirror_check(scope, now, version, err)
        raise _Stop(UpgradeResult("failed", detail, now.current, version)) from None
    except Temporary as err:  # no verdict: the copy is tried again
        detail = replies.registry_unreadable(err)
        raise _Stop(UpgradeResult("unavailable", detail, now.current, version)) from None
    await _tell_mirror_check(scope, now, version, None)
    return replies.mirrored(done.target, done.versions, done.artifacts, done.bytes)


async def _tell_mirror_check(
    scope: LandscapeScope, now: _Now, version: str | None, error: Failure | None
) -> None:
    """The copy's outcome as the mirror check run on the landscape branch's head, where
    `/bootstrap status` and the branch's commit show it."""
    assert now.mirror is not None
    title, summary = replies.mirror_check_texts(version, now.mirror.target, error)
    await scope.gh.ensure_check_run(
        scope.full_name,
        head_sha=now.head,
        name=MIRROR_CHECK,
        status="completed",
        conclusion="failure" if error is not None else "success",
        output=CheckRunOutput(title, summary),
    )


def _version_to_propose(
    scope: LandscapeScope,
    now: _Now,
    proposed: _Proposed,
    available: list[str],
    asked: Asked | None,
) -> _Choice:
    """4. The version asked for, the one a command pinned, or the newest allowed."""
    current = now.current
    if asked is not None and asked.version is not None:
        try:
            requested = requested_version(current, available, asked.version)
        except NotAvailable as err:
            raise _Stop(UpgradeResult("unreadable", f"{err}.", current)) from None
        if same_version(str(requested.version), current):
            at = replies.at_version_already(scope.branch, current)
            raise _Stop(UpgradeResult("current", at))
        return _Choice(requested.version, pinned=True, downgrade=requested.downgrade)
    if asked is None and proposed.record is not None and proposed.record.pinned:
        return _Choice(*_pinned(proposed.record, current, available))
    return _Choice(select_upgrade(current, available, now.policy, declined=proposed.declined))


async def _nothing_to_propose(
    scope: LandscapeScope, now: _Now, proposed: _Proposed
) -> UpgradeResult:
    """5. No version to propose: an open proposal is withdrawn (its branch deleted when only
    the bot committed to it)."""
    declined = proposed.declined
    why = replies.nothing_newer(now.current, declined)
    if proposed.pull is None or proposed.record is None:
        return UpgradeResult("current", why, now.current)
    await _withdraw(scope, proposed.pull, proposed.record, now.head, why)
    return UpgradeResult("withdrawn", why, now.current, pull=proposed.pull)


async def _commit_upgrade(
    scope: LandscapeScope, now: _Now, proposed: _Proposed, record: UpgradeRecord
) -> _Built:
    """7. The version bump and the re-render in one commit on the bot branch, rebuilt from the
    landscape branch (never over someone else's commits: the PR gets a comment instead)."""
    context, landscape, version = scope.context, scope.landscape, record.after
    branch = upgrade_branch(scope.branch)
    built: list[_Built] = []

    def bumped(files: FileSet) -> FileSet:
        # The files as fetched now: is the config still there, and does it load?
        config, _ = read_config(files, landscape.config_path)
        text = files[landscape.config_path].decode("utf-8", errors="replace")
        if now.mirror is not None:  # from now on the landscape reads its release there
            location = f"{now.mirror.target}//{now.location.component}:{version}"
            edited = set_component_location(text, location)
        else:
            edited = set_component_version(text, version)
        after = render_tree(
            files | {landscape.config_path: edited.encode("utf-8")},
            context.open_reader,
            config_path=landscape.config_path,
        )
        graph = release_graph(config, context.open_reader, config_path=landscape.config_path)
        built.append(_Built(files, graph, current_objects(files, config), after))
        return after.tree

    try:
        update = await scope.git.update_branch(
            branch=branch,
            change=bumped,
            message=upgrade_title(now.config.environment, version, downgrade=record.downgrade),
            start_from=scope.branch,
        )
    except ForeignCommits as taken:
        if proposed.pull is not None:
            await scope.gh.upsert_comment(
                scope.full_name,
                proposed.pull.number,
                marker=UPGRADE_TAKEN_OVER_MARKER,
                body=replies.taken_over(branch, taken.commits, replies.THEN_NEWEST_AGAIN),
            )
        held = replies.proposal_taken_over(branch)
        result = UpgradeResult("taken-over", held, now.current, version, proposed.pull)
        raise _Stop(result) from None
    except Failure as err:  # the config no longer edits, or the release does not render
        detail = replies.cannot_propose(version, scope.branch, err)
        log.warning("%s: %s", scope.full_name, detail)
        raise _Stop(UpgradeResult("failed", detail, now.current, version, proposed.pull)) from None
    built[-1].commit = update.commit or ""
    return built[-1]


async def _open_pull_request(
    scope: LandscapeScope,
    now: _Now,
    proposed: _Proposed,
    record: UpgradeRecord,
    last: _Built,
    mirrored: str = "",
) -> UpgradeResult:
    """8. Open or update the pull request: what the release changes, what merging changes,
    and the record the next run reads."""
    version, environment = record.after, now.config.environment
    record = replace(record, inputs=_digest(last.files, scope.landscape, version))
    objects_before, _ = last.objects_before
    impact = upgrade_impact(
        last.graph_before,
        last.after.graph,
        [o for directory in (objects_before or {}).values() for o in directory],
        last.after.all_objects,
    )
    summary = await summarise(last.files, last.after, objects_before=last.objects_before)
    checked = None
    if last.commit:  # what the cluster says, for the verdict at the top of the body
        checked = await dry_run_landscape(scope, last.after, last.commit, check_run=False)
    body = upgrade_body(
        record,
        environment=environment,
        impact=impact,
        summary=summary,
        warnings=last.after.warnings,
        dry_run=checked,
        mirrored=mirrored,
    )
    title = upgrade_title(environment, version, downgrade=record.downgrade)
    pull = await scope.gh.ensure_pull_request(
        scope.full_name,
        head=upgrade_branch(scope.branch),
        base=scope.branch,
        title=title,
        body=body,
    )
    if proposed.record is None or proposed.record.after != version:
        scope.context.releases.proposed(_watched(scope, now), now.location.component, version)
    log.info("%s: upgrade of %s to %s %s", scope.full_name, scope.branch, version, pull.outcome)
    return UpgradeResult("proposed", "", now.current, version, pull)


def _pinned(
    record: UpgradeRecord, current: str, available: list[str]
) -> tuple[Version | None, bool, bool]:
    """The version a command pinned, while the registry has it and it still is the change
    that was asked for (not reached, and still a downgrade if it was one)."""
    try:
        kept = requested_version(current, available, Version.parse(record.after))
    except Failure:  # not available any more, or not a version
        return None, False, False
    if same_version(str(kept.version), current) or kept.downgrade != record.downgrade:
        return None, False, False
    return kept.version, True, kept.downgrade


def _digest(files: FileSet, landscape: Landscape, version: str) -> str:
    return inputs_digest(files, config_path=landscape.config_path, version=version, owned=OWNED)


async def _withdraw(
    scope: LandscapeScope, pull: PullRequest, record: UpgradeRecord, base: str, why: str
) -> None:
    """Close the open proposal as no longer needed (which declines nothing)."""
    await scope.gh.edit_pull_request_body(
        scope.full_name, pull.number, with_record(pull.body, replace(record, withdrawn=True))
    )
    await withdraw_proposal(
        scope,
        pull,
        base=base,
        marker=UPGRADE_WITHDRAWN_MARKER,
        why=replies.upgrade_withdrawn(why),
    )


async def upgrade_closed(scope: LandscapeScope, pull: PullRequest) -> None:
    """An upgrade pull request was closed: merged, its branch goes; unmerged, its version is
    declined (recorded in the PR, which says so) and its branch goes unless someone else
    committed to it."""
    record = read_record(pull.body)
    if record is None or pull.from_fork(scope.full_name) or record.withdrawn:
        return
    if pull.merged:
        await delete_bot_branch(scope, pull.head, base=None)
        return
    declined = record.declining(record.after)
    if declined != record:
        await scope.gh.edit_pull_request_body(
            scope.full_name, pull.number, with_record(pull.body, declined)
        )
    base = await scope.git.fetch(pull.base)
    deleted = await delete_bot_branch(scope, pull.head, base=base)
    await scope.gh.upsert_comment(
        scope.full_name,
        pull.number,
        marker=UPGRADE_DECLINED_MARKER,
        body=declined_note(record.after, branch_kept=not deleted),
    )


async def check_upgrade(
    scope: LandscapeScope,
    *,
    in_round: bool = False,
    open_pulls: Sequence[PullRequest] | None = None,
) -> str:
    """`propose_upgrade` where nobody asked for it (a poll, a push): its outcome; an error is
    logged rather than stopping the landscapes after this one."""
    try:
        result = await propose_upgrade(scope, in_round=in_round, open_pulls=open_pulls)
    except Temporary as outage:  # the next poll tries again
        log.warning("%s: the upgrade check of %s: %s", scope.full_name, scope.branch, outage)
        return "unavailable"
    except Exception:
        log.exception("%s: the upgrade check of %s failed", scope.full_name, scope.branch)
        return "error"
    return result.outcome
