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

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from bot.adapters.github.client import InstallationClient, PullRequest, Repository
from bot.core.bot_section import role_allows
from bot.core.commands import Command, Reply, parse_comment
from bot.core.config import ConfigError, load_bootstrap_config, read_bot_settings
from bot.core.discovery import Discovery, Landscape
from bot.core.replies import (
    Answer,
    denied,
    help_text,
    internal_error,
    not_a_landscape,
    plan_text,
    reply_body,
    status_text,
    which_landscape,
)
from bot.core.reports import RENDER_CHECK
from bot.core.upgrade_pr import declined_text, with_record
from bot.core.upgrades import is_newer
from bot.flows.deploy import cluster_rows, deploy_landscape
from bot.flows.dry_run import dry_run_landscape
from bot.flows.landscape_branch import proposal_branch, sync_landscape_branch
from bot.flows.pull_request import pull_head_ref, render_pull_request
from bot.flows.upgrade import Asked, propose_upgrade, upgrade_history, upgrade_pulls
from bot.kit.logs import bind
from bot.ocm.location import LocationError, parse_location
from bot.services.context import BotContext
from bot.services.landscapes import discover_landscapes
from bot.services.pipeline import change_summary
from bot.services.rerender import MissingRef, render_commit

log = logging.getLogger(__name__)
#: fail closed: when the `bot:` section cannot be read, only admins may act
UNREADABLE_MINIMUM = "admin"


@dataclass
class Place:
    """Where a comment was written, and by whom."""

    context: BotContext
    gh: InstallationClient
    repository: Repository
    discovery: Discovery
    pull: PullRequest | None
    user: str
    role: str


async def run_comment_commands(
    context: BotContext, gh: InstallationClient, payload: dict[str, Any]
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
    repository, discovery = await discover_landscapes(gh, full_name)
    number = int(issue["number"])
    pull = await gh.pull_request(full_name, number) if issue.get("pull_request") else None
    user = comment["user"]["login"]
    place = Place(
        context, gh, repository, discovery, pull, user, await gh.permission(full_name, user)
    )
    answers = []
    for item in parsed:
        if isinstance(item, Reply):
            answers.append(Answer(item.line, item.text, ok=False))
        else:
            answers.append(await _answer_or_error(place, item))

    # 4. the reply, and how it went
    body = reply_body(user, answers)
    await gh.upsert_comment(full_name, number, marker=f"reply-to-{comment['id']}", body=body)
    done = "rocket" if all(a.ok for a in answers) else "confused"
    await gh.add_reaction(full_name, int(comment["id"]), done)
    return answers


async def _answer_or_error(place: Place, command: Command) -> Answer:
    """The command's answer; a bug or an outage is logged under an id the reply names."""
    try:
        return await _answer(place, command)
    except Exception:
        error_id = uuid.uuid4().hex[:12]
        log.exception("error %s running %r for %s", error_id, command.line, place.user)
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
    text, ok = await run(place, landscape, command)
    return Answer(command.line, text, ok)


def _landscape(place: Place, command: Command) -> tuple[Landscape | None, str]:
    landscapes = place.discovery.landscapes
    if command.landscape is not None:
        found = place.discovery.on(command.landscape)
        return found, "" if found else not_a_landscape(f"`{command.landscape}`", landscapes)
    if place.pull is not None:
        found = place.discovery.on(place.pull.base)
        where = f"This pull request's base `{place.pull.base}`"
        return found, "" if found else not_a_landscape(where, landscapes)
    if len(landscapes) == 1:
        return landscapes[0], ""
    return None, which_landscape(landscapes)


async def _minimum_role(place: Place, landscape: Landscape) -> tuple[str, bool]:
    """The landscape's `bot.commandPermission`, and whether its config could not be read."""
    text = await place.gh.read_file(
        place.repository.full_name, landscape.config_path, landscape.branch
    )
    if text is None:
        return "write", False  # no config on the branch: the default
    section = read_bot_settings(text.decode("utf-8", errors="replace"))
    if section is None:
        return UNREADABLE_MINIMUM, True
    return section.command_permission, False


async def _help(place: Place) -> str:
    allowed: list[Landscape] = []
    others: list[Landscape] = []
    for landscape in place.discovery.landscapes:
        minimum, _ = await _minimum_role(place, landscape)
        (allowed if role_allows(place.role, minimum) else others).append(landscape)
    return help_text(place.role, allowed, others)


async def _render(place: Place, landscape: Landscape, _: Command) -> tuple[str, bool]:
    if place.pull is not None:
        result = await render_pull_request(
            place.context, place.gh, place.repository, landscape, place.pull, always=True
        )
        assert result is not None
        done = (
            f"Rendered {result.rendered[:12]} and committed the result as {result.head[:12]}"
            if result.committed
            else f"Rendered {result.rendered[:12]}"
        )
        text = (
            f"{done}: **{result.report.title}** (details in the `{RENDER_CHECK}` check run "
            f"and the summary comment)."
        )
        return text, result.report.conclusion != "failure"
    synced = await sync_landscape_branch(place.context, place.gh, place.repository, landscape)
    commit = (synced.commit or "")[:12]
    if synced.outcome == "missing":
        return f"The branch `{landscape.branch}` does not exist.", False
    if synced.outcome == "up-to-date":
        return f"The manifests of `{landscape.branch}` are up to date at {commit}.", True
    if synced.outcome == "proposed" and synced.pull is not None:
        return (
            f"The manifests of `{landscape.branch}` are stale at {commit}: the re-render is "
            f"proposed in {synced.pull.html_url}.",
            True,
        )
    if synced.outcome == "taken-over":
        return f"`{proposal_branch(landscape)}` holds someone else's commits: left alone.", False
    summary = synced.report.summary if synced.report else ""
    return f"`{landscape.branch}` at {commit} does not render.\n\n{summary}", False


async def _plan(place: Place, landscape: Landscape, _: Command) -> tuple[str, bool]:
    context, full_name = place.context, place.repository.full_name
    git = context.git(full_name, place.repository.clone_url)
    token = context.token(place.gh)
    ref = pull_head_ref(place.pull) if place.pull is not None else landscape.branch
    try:
        rendered = await render_commit(
            git,
            ref,
            open_reader=context.open_reader,
            token=token,
            config_path=landscape.config_path,
        )
    except MissingRef:
        return f"`{ref}` does not exist.", False
    if rendered.failure is not None:
        return f"{rendered.failure.title}.\n\n{rendered.failure.summary}", False
    assert rendered.result is not None
    if place.pull is None:
        target = rendered.tree
    else:
        base = await asyncio.to_thread(git.fetch, landscape.branch, await token())
        if base is None:
            return f"The branch `{landscape.branch}` does not exist.", False
        target = await asyncio.to_thread(git.read_tree, base)
    summary = await asyncio.to_thread(change_summary, target, rendered.result)
    number = place.pull.number if place.pull is not None else None
    text = plan_text(summary, branch=landscape.branch, commit=rendered.commit, pull=number)
    # what the landscape's cluster would say to it (a fork's objects never reach a cluster)
    if place.pull is not None and place.pull.from_fork(full_name):
        return text, True
    checked = await dry_run_landscape(
        context,
        place.gh,
        place.repository,
        landscape,
        rendered.result,
        rendered.commit,
        check_run=False,
    )
    if checked is None:
        return text, True
    return f"{text}\n\n{checked.comment()}", checked.conclusion == "success"


async def _status(place: Place, landscape: Landscape, _: Command) -> tuple[str, bool]:
    gh, full_name = place.gh, place.repository.full_name
    head = await gh.read_ref(full_name, landscape.branch)
    if head is None:
        return f"The branch `{landscape.branch}` does not exist.", False
    config = await gh.read_file(full_name, landscape.config_path, head)
    version = "unknown: no bootstrap config"
    if config is not None:
        try:
            loaded = load_bootstrap_config(config.decode("utf-8", errors="replace"))
            location = parse_location(loaded.config.component.location)
            version = f"`{location.version or 'none'}` of `{location.component}`"
        except (ConfigError, LocationError):
            version = "unknown: the bootstrap config is invalid"
    run = await gh.latest_check_run(full_name, head, RENDER_CHECK)
    render = "not rendered yet" if run is None else (run.conclusion or run.status)
    proposal = await gh.find_pull_request(
        full_name, head=proposal_branch(landscape), base=landscape.branch
    )
    history, upgrade = await upgrade_history(gh, full_name, landscape)
    text = status_text(
        landscape=landscape,
        commit=head,
        version=version,
        render=render,
        proposal=proposal.html_url if proposal else None,
        upgrade=f"{upgrade.title}: {upgrade.html_url}" if upgrade else None,
        declined=declined_text(history.declined),
        cluster=await cluster_rows(place.context, gh, place.repository, landscape),
    )
    return text, True


async def _upgrade(place: Place, landscape: Landscape, command: Command) -> tuple[str, bool]:
    result = await propose_upgrade(
        place.context, place.gh, place.repository, landscape, asked=Asked(command.version)
    )
    pull = result.pull
    if result.outcome == "proposed" and pull is not None:
        verb = {"created": "Proposed", "updated": "Updated the proposal of"}.get(
            pull.outcome, "Proposing"
        )
        return f"{verb} `{result.version}` for `{landscape.branch}` in {pull.html_url}.", True
    if result.outcome == "unchanged" and pull is not None:
        return f"{pull.html_url} proposes `{result.version}` already.", True
    return result.detail, result.outcome in ("current", "withdrawn")


async def _apply(place: Place, landscape: Landscape, command: Command) -> tuple[str, bool]:
    report = await deploy_landscape(
        place.context,
        place.gh,
        place.repository,
        landscape,
        rotate_key="--rotate-key" in command.options,
    )
    if report is None:
        return (
            f"`{landscape.branch}` names no cluster: set `bot.cluster` in "
            f"`{landscape.config_path}` to one the bot's operators configured.",
            False,
        )
    return f"**{report.title}**\n\n{report.summary}", report.conclusion == "success"


async def _ignore(place: Place, landscape: Landscape, command: Command) -> tuple[str, bool]:
    gh, full_name = place.gh, place.repository.full_name
    records = await upgrade_pulls(gh, full_name, landscape)
    here = next((r for p, r in records if place.pull and p.number == place.pull.number), None)
    version = str(command.version) if command.version else (here.after if here else None)
    if version is None:
        return "Say which release: `/bootstrap ignore VERSION`.", False
    # The newest upgrade PR carries what was declined; without one there is no place for it.
    newest = next(((p, r) for p, r in records if r is not None), None)
    if newest is None:
        return (
            f"No upgrade of `{landscape.branch}` was proposed yet, so there is no pull request "
            f"to record this in; list `{version}` under `bot.upgrade.ignoredVersions` in "
            f"`{landscape.config_path}` instead.",
            False,
        )
    pull, record = newest
    assert record is not None
    await gh.edit_pull_request_body(
        full_name, pull.number, with_record(pull.body, record.declining(version))
    )
    text = (
        f"`{version}` is declined for `{landscape.branch}`: the bot proposes only releases "
        f"newer than it. `/bootstrap upgrade {version}` undoes this."
    )
    if pull.state == "open" and not is_newer(record.after, version):
        await gh.close_pull_request(full_name, pull.number)
        text += f" {pull.html_url} proposed `{record.after}`, so it is closed."
    return text, True
