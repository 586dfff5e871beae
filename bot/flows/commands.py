"""The `/bootstrap` commands of one issue or pull request comment.

1. parse the comment: nothing to do without commands, or when a bot wrote it;
2. 👀 on the comment;
3. for each command: find the landscape (the one the pull request targets, the one
   `--landscape=` names, or the repository's only one), check the commenter's role against its
   `bot.commandPermission`, run the command;
4. one reply with every answer (one per command comment: a redelivery edits it, never adds a
   second), then 🚀 when every command succeeded, 😕 otherwise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.adapters.github.models import PullRequest
from bot.adapters.github.port import GitHubPort
from bot.core import replies
from bot.core.bot_section import role_allows
from bot.core.commands import Command, Reply, parse_comment
from bot.core.config import load_bootstrap_config, read_bot_settings
from bot.core.discovery import Landscape
from bot.core.failures import Failure, Temporary
from bot.core.fileset import FileSet
from bot.core.names import DEPLOY_CHECK, MIRROR_CHECK, reply_marker
from bot.core.replies import (
    Answer,
    denied,
    help_text,
    internal_error,
    not_a_landscape,
    peer_unavailable,
    plan_text,
    reply_body,
    status_text,
    which_landscape,
)
from bot.core.upgrade_pr import declined_text, with_record
from bot.core.upgrades import is_newer
from bot.flows.deploy import cluster_rows, deploy_landscape
from bot.flows.dry_run import dry_run_landscape
from bot.flows.landscape_branch import proposal_branch, sync_landscape_branch
from bot.flows.pull_request import fork_ignored, pull_head_ref, render_pull_request
from bot.flows.scope import LandscapeScope, RepositoryScope, repository_scope
from bot.flows.upgrade import Asked, propose_upgrade, upgrade_history, upgrade_pulls
from bot.kit.logs import bind, correlation_id
from bot.ocm.location import parse_location
from bot.services.context import BotContext
from bot.services.pipeline import summarise
from bot.services.rerender import MissingRef, render_commit

log = logging.getLogger(__name__)
#: fail closed: when the `bot:` section cannot be read, only admins may act
UNREADABLE_MINIMUM = "admin"


@dataclass
class Place:
    """Where a comment was written, and by whom."""

    repository: RepositoryScope
    pull: PullRequest | None
    user: str
    role: str

    @property
    def gh(self) -> GitHubPort:
        return self.repository.gh


async def run_comment_commands(
    context: BotContext, gh: GitHubPort, payload: dict[str, Any]
) -> list[Answer]:
    comment, issue = payload["comment"], payload["issue"]
    full_name = payload["repository"]["full_name"]

    # 1. the commands
    parsed = parse_comment(comment.get("body") or "", author_type=comment["user"]["type"])
    if not parsed:
        return []

    # 2. seen
    await gh.add_reaction(full_name, int(comment["id"]), "eyes")

    # 3. each command, where it was written
    repository = await repository_scope(context, gh, full_name)
    number = int(issue["number"])
    pull = await gh.pull_request(full_name, number) if issue.get("pull_request") else None
    user = comment["user"]["login"]
    place = Place(repository, pull, user, await gh.permission(full_name, user))
    answers = []
    for item in parsed:
        if isinstance(item, Reply):
            answers.append(Answer(item.line, item.text, ok=False))
        else:
            answers.append(await _answer_or_error(place, item))

    # 4. the reply, and how it went
    body = reply_body(user, answers)
    await gh.upsert_comment(full_name, number, marker=reply_marker(comment["id"]), body=body)
    done = "rocket" if all(a.ok for a in answers) else "confused"
    await gh.add_reaction(full_name, int(comment["id"]), done)
    return answers


async def _answer_or_error(place: Place, command: Command) -> Answer:
    """The command's answer. A peer's outage is said as such; a bug is logged, and the
    reply names the correlation id its log lines carry."""
    try:
        return await _answer(place, command)
    except Failure as failure:
        return Answer(command.line, failure.text, ok=False)
    except Temporary as outage:
        log.warning("%r for %s: %s", command.line, place.user, outage)
        return Answer(command.line, peer_unavailable(str(outage)), ok=False)
    except Exception:
        error_id = correlation_id()
        log.exception("bug %s running %r for %s", error_id, command.line, place.user)
        return Answer(command.line, internal_error(error_id), ok=False)


async def _answer(place: Place, command: Command) -> Answer:
    if command.name == "help":
        return Answer(command.line, await _help(place), ok=True)
    landscape, why_not = _landscape(place, command)
    if landscape is None:
        return Answer(command.line, why_not, ok=False)
    bind(landscape=landscape.branch, command=command.name)
    minimum, unreadable = await _minimum_role(place, landscape)
    if not role_allows(place.role, minimum):
        why = (
            f" (the `bot:` section of `{landscape.config_path}` cannot be read)"
            if unreadable
            else ""
        )
        text = denied(command.name, landscape, place.role, minimum, why)
        return Answer(command.line, text, ok=False)
    run = {
        "render": _render,
        "plan": _plan,
        "status": _status,
        "upgrade": _upgrade,
        "ignore": _ignore,
        "apply": _apply,
    }[command.name]
    text, ok = await run(place, place.repository.on(landscape), command)
    return Answer(command.line, text, ok)


def _landscape(place: Place, command: Command) -> tuple[Landscape | None, str]:
    discovery = place.repository.discovery
    landscapes = discovery.landscapes
    if command.landscape is not None:
        found = discovery.on(command.landscape)
        return found, "" if found else not_a_landscape(f"`{command.landscape}`", landscapes)
    if place.pull is not None:
        found = discovery.on(place.pull.base)
        where = f"This pull request's base `{place.pull.base}`"
        return found, "" if found else not_a_landscape(where, landscapes)
    if len(landscapes) == 1:
        return landscapes[0], ""
    return None, which_landscape(landscapes)


async def _minimum_role(place: Place, landscape: Landscape) -> tuple[str, bool]:
    return await command_role(place.gh, place.repository.full_name, landscape)


async def command_role(gh: GitHubPort, full_name: str, landscape: Landscape) -> tuple[str, bool]:
    """The landscape's `bot.commandPermission`, and whether its config could not be read."""
    text = await gh.read_file(full_name, landscape.config_path, landscape.branch)
    if text is None:
        return "write", False  # no config on the branch: the default
    section = read_bot_settings(text.decode("utf-8", errors="replace"))
    if section is None:
        return UNREADABLE_MINIMUM, True
    return section.command_permission, False


async def _help(place: Place) -> str:
    allowed: list[Landscape] = []
    others: list[Landscape] = []
    for landscape in place.repository.discovery.landscapes:
        minimum, _ = await _minimum_role(place, landscape)
        (allowed if role_allows(place.role, minimum) else others).append(landscape)
    return help_text(place.role, allowed, others)


async def _render(place: Place, scope: LandscapeScope, _: Command) -> tuple[str, bool]:
    if place.pull is not None:
        if fork_ignored(scope, place.pull):
            return replies.FORKS_IGNORED, False
        result = await render_pull_request(scope, place.pull, always=True)
        assert result is not None
        text = replies.rendered_pull(
            result.rendered, result.head, result.committed, result.report.title
        )
        return text, result.report.conclusion != "failure"
    synced = await sync_landscape_branch(scope)
    commit = synced.commit or ""
    if synced.outcome == "missing":
        return replies.branch_missing(scope.branch), False
    if synced.outcome == "up-to-date":
        return replies.branch_up_to_date(scope.branch, commit), True
    if synced.outcome == "proposed" and synced.pull is not None:
        return replies.branch_stale(scope.branch, commit, synced.pull.html_url), True
    if synced.outcome == "taken-over":
        return replies.proposal_taken_over(proposal_branch(scope.landscape)), False
    summary = synced.report.summary if synced.report else ""
    return replies.branch_does_not_render(scope.branch, commit, summary), False


async def _plan(place: Place, scope: LandscapeScope, _: Command) -> tuple[str, bool]:
    target: FileSet
    if place.pull is not None and fork_ignored(scope, place.pull):
        return replies.FORKS_IGNORED, False
    ref = pull_head_ref(place.pull) if place.pull is not None else scope.branch
    try:
        rendered = await render_commit(
            scope.git, ref, open_reader=scope.context.open_reader, config_path=scope.config_path
        )
    except MissingRef:
        return replies.ref_missing(ref), False
    if rendered.failure is not None:
        return replies.render_failed_text(rendered.failure.title, rendered.failure.summary), False
    assert rendered.result is not None
    if place.pull is None:
        target = rendered.tree
    else:
        base = await scope.git.fetch_tree(scope.branch)
        if base is None:
            return replies.branch_missing(scope.branch), False
        target = base[1]
    summary = await summarise(target, rendered.result)
    number = place.pull.number if place.pull is not None else None
    text = plan_text(summary, branch=scope.branch, commit=rendered.commit, pull=number)
    # what the landscape's cluster would say to it (a fork's objects never reach a cluster)
    if place.pull is not None and place.pull.from_fork(scope.full_name):
        return text, True
    checked = await dry_run_landscape(scope, rendered.result, rendered.commit, check_run=False)
    if checked is None:
        return text, True
    return f"{text}\n\n{checked.comment()}", checked.conclusion == "success"


async def _status(place: Place, scope: LandscapeScope, _: Command) -> tuple[str, bool]:
    gh, full_name, landscape = scope.gh, scope.full_name, scope.landscape
    head = await gh.read_ref(full_name, landscape.branch)
    if head is None:
        return replies.branch_missing(landscape.branch), False
    config = await gh.read_file(full_name, landscape.config_path, head)
    version = replies.STATUS_NO_CONFIG
    mirrored: tuple[tuple[str, str], ...] = ()
    if config is not None:
        try:
            loaded = load_bootstrap_config(config.decode("utf-8", errors="replace"))
            location = parse_location(loaded.config.component.location)
            version = replies.status_release(location.version, location.component)
            if loaded.config.bot.mirror is not None:
                mirrored = (("mirror", await _mirror_state(scope, head)),)
        except Failure:
            version = replies.STATUS_INVALID_CONFIG
    proposal = await gh.find_pull_request(
        full_name, head=proposal_branch(landscape), base=landscape.branch
    )
    render = await _render_state(scope, proposal.html_url if proposal else None)
    run = await gh.latest_check_run(full_name, head, DEPLOY_CHECK)
    applied = (
        replies.STATUS_NOT_APPLIED
        if run is None
        else replies.check_state(run.status, run.conclusion, run.title)
    )
    history, upgrade = await upgrade_history(scope)
    text = status_text(
        landscape=landscape,
        commit=head,
        version=version,
        render=render,
        proposal=proposal.html_url if proposal else None,
        upgrade=f"{upgrade.title}: {upgrade.html_url}" if upgrade else None,
        declined=declined_text(history.declined),
        cluster=(*mirrored, ("last apply", applied), *await cluster_rows(scope)),
    )
    return text, True


async def _mirror_state(scope: LandscapeScope, head: str) -> str:
    run = await scope.gh.latest_check_run(scope.full_name, head, MIRROR_CHECK)
    if run is None:
        return replies.STATUS_NO_MIRROR_COPY
    return replies.check_state(run.status, run.conclusion, run.title)


async def _render_state(scope: LandscapeScope, proposal: str | None) -> str:
    """Whether the landscape branch's manifests are what its config renders (the branch's
    head is often a merge commit, which no render check run is on: so it is rendered); a
    peer that is out leaves it unknown, and the rest of the status is still told."""
    try:
        rendered = await render_commit(
            scope.git,
            scope.branch,
            open_reader=scope.context.open_reader,
            config_path=scope.config_path,
        )
    except Temporary as outage:
        return replies.status_render_unknown(str(outage))
    if rendered.failure is not None:
        return replies.status_unrenderable(rendered.failure.title)
    return replies.status_stale(proposal) if rendered.stale else replies.STATUS_RENDERED


async def _upgrade(place: Place, scope: LandscapeScope, command: Command) -> tuple[str, bool]:
    result = await propose_upgrade(scope, asked=Asked(command.version))
    pull = result.pull
    if result.outcome == "proposed" and pull is not None:
        text = replies.upgrade_proposed(pull.outcome, result.version, scope.branch, pull.html_url)
        return text, True
    if result.outcome == "unchanged" and pull is not None:
        return replies.upgrade_proposed_already(pull.html_url, result.version), True
    return result.detail, result.outcome in ("current", "withdrawn")


async def _apply(place: Place, scope: LandscapeScope, command: Command) -> tuple[str, bool]:
    report = await deploy_landscape(scope, rotate_key="--rotate-key" in command.options)
    if report is None:
        return replies.no_cluster_named(scope.branch, scope.config_path), False
    pull = place.pull.number if place.pull is not None else None
    text = replies.applied(report.comment(), branch=scope.branch, commit=report.commit, pull=pull)
    return text, report.conclusion == "success"


async def _ignore(place: Place, scope: LandscapeScope, command: Command) -> tuple[str, bool]:
    gh, full_name = scope.gh, scope.full_name
    records = await upgrade_pulls(scope)
    here = next((r for p, r in records if place.pull and p.number == place.pull.number), None)
    version = str(command.version) if command.version else (here.after if here else None)
    if version is None:
        return replies.IGNORE_WHICH, False
    # The newest upgrade PR carries what was declined; without one there is no place for it.
    newest = next(((p, r) for p, r in records if r is not None), None)
    if newest is None:
        return replies.nothing_to_ignore_in(scope.branch, version, scope.config_path), False
    pull, record = newest
    assert record is not None
    await gh.edit_pull_request_body(
        full_name, pull.number, with_record(pull.body, record.declining(version))
    )
    closed = None
    if pull.state == "open" and not is_newer(record.after, version):
        await gh.close_pull_request(full_name, pull.number)
        closed = (pull.html_url, record.after)
    return replies.ignored(version, scope.branch, closed), True
