"""Peers that fail, end to end: an outage is never a verdict, and the work is done once the
peer is back, without anyone pressing anything."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pygit2
import pytest

from bot.core.discovery import DISCOVERY_PATH
from bot.core.names import (
    APPLY_ACTION,
    DEPLOY_CHECK,
    DISCOVERY_CHECK,
    DRY_RUN_CHECK,
    RENDER_CHECK,
    RERENDER_ACTION,
    SUMMARY_MARKER,
    comment_marker,
)
from bot.core.retries import read_retry
from bot.server.http import QUEUE, TIMERS
from bot.server.resync import Resync
from tests.integration.deployment import BOOTSTRAP, Deployment, merged
from tests.integration.flows.test_flow_pull_request import propose
from tests.integration.flows.test_flow_push import push
from tests.integration.landscape_bot import REPO, LandscapeBot, serve_landscape
from tests.peers.github import FakeGitHub
from tests.peers.github.app_key import AppKey
from tests.peers.github.state import CheckRun, PullRequest
from tests.peers.registry import Registry
from tests.peers.registry_proxy import run_registry_proxy
from tests.reference_case import ROOT_COMPONENT, config_text

pytestmark = pytest.mark.peers


def verdicts(fake: FakeGitHub) -> list[str | None]:
    """Every conclusion any check run was ever given, in the order the bot sent them."""
    sent = [r.body for r in fake.requests if r.operation_id in ("checks/create", "checks/update")]
    return [body.get("conclusion") for body in sent if isinstance(body, dict)]


@pytest.mark.parametrize("retried", [False, True], ids=["by the resync", "by this process"])
async def test_a_registry_outage_during_a_render_turns_green_in_one_round(
    retried: bool,
    fake_github: FakeGitHub,
    app_key: AppKey,
    aiohttp_client: Any,
    tmp_path: Path,
    reference_release: str,
    oci_registry: Registry,
):
    direct = config_text(f"{reference_release}//{ROOT_COMPONENT}:v0.0.1")
    with run_registry_proxy(oci_registry.host) as proxy:
        through_proxy = direct.replace(oci_registry.host, proxy.host)
        async with serve_landscape(
            fake_github, app_key, aiohttp_client, tmp_path, config=through_proxy, on_main=direct
        ) as bot:
            # 1. the registry is down while the pull request is rendered
            proxy.failing = True
            pull, commit = propose(bot, "via-proxy", through_proxy, title="Read via the proxy")
            await bot.deliver("pull_request", bot.pull_request_event(pull, "opened"))
            assert proxy.requests, "the render asked the registry"

            (waiting,) = [r for r in fake_github.state.check_runs.values() if r.head_sha == commit]
            assert (waiting.name, waiting.fields["status"]) == (RENDER_CHECK, "queued")
            output = waiting.fields["output"]
            assert "retrying at" in output["title"]
            plan = read_retry(output["summary"])
            assert plan is not None and plan.attempt == 1
            assert plan.clock_time in output["summary"]
            assert "failure" not in verdicts(fake_github)
            assert bot.bot_comments(pull.number) == []  # nothing was rendered to talk about
            assert bot.app[TIMERS].pending == [pull.repository]  # retried in this process

            # 2. the registry is back: one resync round renders it, as the webhook would have
            # (or this process's retry, when it is due: `retried`)
            proxy.failing = False
            if retried:
                timers = bot.app[TIMERS]
                timers.later(bot.context.github.installation(bot.installation.id), REPO, 0.01)
                await asyncio.sleep(0.1)
                await asyncio.wait_for(bot.app[QUEUE].settle(), 120)
                assert timers.pending == []
            else:
                assert await Resync(bot.context).run_once() == 1
            head = fake_github.state.repositories[pull.repository].branch_sha("via-proxy")
            assert head != commit, "the re-render was committed onto the pull request"
            runs = {(r.head_sha, r.name): r.fields for r in fake_github.state.check_runs.values()}
            assert runs[(commit, RENDER_CHECK)]["conclusion"] == "success"
            (comment,) = bot.bot_comments(pull.number)
            assert comment.body.startswith(comment_marker(SUMMARY_MARKER))
            assert "failure" not in verdicts(fake_github), "nobody saw a failure verdict"


# -- Re-run, through the webhook ------------------------------------------------------------


def runs_named(bot: LandscapeBot, sha: str, name: str) -> list[CheckRun]:
    return [r for r in bot.fake.state.check_runs.values() if (r.head_sha, r.name) == (sha, name)]


async def rendered_pull(bot: LandscapeBot) -> tuple[PullRequest, str]:
    bot.repository.roles["alice"] = "write"  # who presses Re-run
    pull, _ = propose(bot, "enable-provider", bot.config, title="Enable the provider")
    await bot.deliver("pull_request", bot.pull_request_event(pull, "opened"))
    # the bot's re-render commit comes back as a `synchronize`: the head it renders green
    await bot.deliver("pull_request", bot.pull_request_event(pull, "synchronize"))
    head = bot.fake.state.repositories[pull.repository].branch_sha("enable-provider")
    assert head is not None
    return pull, head


async def test_re_run_of_a_pull_request_render_renders_it_again(landscape_bot: LandscapeBot):
    bot = landscape_bot
    pull, head = await rendered_pull(bot)
    (first,) = runs_named(bot, head, RENDER_CHECK)
    # the summary comment went missing (someone deleted it): the Re-run brings it back
    (comment,) = bot.bot_comments(pull.number)
    del bot.fake.state.comments[comment.id]

    await bot.deliver("check_run", bot.check_run_event(first, "rerequested"))
    again = runs_named(bot, head, RENDER_CHECK)
    assert len(again) == 2, "a Re-run shows as a new run"
    assert again[-1].fields["status"] == "completed"
    assert again[-1].fields["conclusion"] == "success"
    assert [a["identifier"] for a in again[-1].fields["actions"]] == [RERENDER_ACTION]
    assert len(bot.bot_comments(pull.number)) == 1

    # the button on the run does the same
    await bot.deliver(
        "check_run", bot.check_run_event(again[-1], "requested_action", identifier="rerender")
    )
    assert len(runs_named(bot, head, RENDER_CHECK)) == 3


async def test_re_run_by_someone_the_landscape_does_not_allow_changes_nothing(
    landscape_bot: LandscapeBot,
):
    bot = landscape_bot
    pull, head = await rendered_pull(bot)
    (run,) = runs_named(bot, head, RENDER_CHECK)
    bot.repository.roles["bob"] = "read"
    await bot.deliver("check_run", bot.check_run_event(run, "rerequested", user="bob"))
    assert runs_named(bot, head, RENDER_CHECK) == [run]
    refused = [c for c in bot.bot_comments(pull.number) if "@bob" in c.body]
    assert len(refused) == 1 and "needs the `write` role" in refused[0].body


async def test_re_run_of_a_landscape_branch_render(landscape_bot: LandscapeBot):
    bot = landscape_bot
    bot.repository.roles["alice"] = "write"
    main = bot.fake.state.repositories[REPO.lower()].branch_sha("main")
    assert main is not None
    await Resync(bot.context).run_once()  # main's own render run
    (run,) = runs_named(bot, main, RENDER_CHECK)
    await bot.deliver("check_suite", bot.check_suite_event(main))
    again = runs_named(bot, main, RENDER_CHECK)
    assert len(again) == 2 and again[-1].fields["conclusion"] == run.fields["conclusion"]


async def test_re_run_of_a_deploy_applies_again(deployment: Deployment):
    bot, kube, flux = deployment.bot, deployment.kube, deployment.flux
    bot.repository.roles["alice"] = "write"
    pull, merge = await merged(bot)
    async with flux.running():
        await bot.deliver("pull_request", bot.pull_request_event(pull, "closed"))
        (deployed,) = runs_named(bot, merge, DEPLOY_CHECK)
        assert deployed.fields["conclusion"] == "success"
        del kube.store.objects[BOOTSTRAP]  # someone deleted the Kustomization

        await bot.deliver("check_run", bot.check_run_event(deployed, "rerequested"))
        assert BOOTSTRAP in kube.store.objects, "applied again"
        runs = runs_named(bot, merge, DEPLOY_CHECK)
        assert len(runs) == 2 and runs[-1].fields["conclusion"] == "success"
        assert [a["identifier"] for a in runs[-1].fields["actions"]] == [APPLY_ACTION]

        del kube.store.objects[BOOTSTRAP]
        button = bot.check_run_event(runs[-1], "requested_action", identifier="apply")
        await bot.deliver("check_run", button)
        assert BOOTSTRAP in kube.store.objects


async def test_re_run_of_a_dry_run_checks_again(deployment: Deployment):
    bot = deployment.bot
    _, head = await rendered_pull(bot)
    (dry_run,) = runs_named(bot, head, DRY_RUN_CHECK)
    requests = len(deployment.kube.requests)
    await bot.deliver("check_run", bot.check_run_event(dry_run, "rerequested"))
    assert len(deployment.kube.requests) > requests, "the API server was asked again"
    again = runs_named(bot, head, DRY_RUN_CHECK)
    assert len(again) == 2
    assert again[-1].fields["conclusion"] == dry_run.fields["conclusion"]


async def test_re_run_of_the_discovery_check_reads_the_branches_again(
    landscape_bot: LandscapeBot,
):
    bot = landscape_bot
    bot.repository.roles["alice"] = "write"
    listing = b"landscapes:\n  - branch: main\n  - branch: staging\n"
    before, after = push(bot, {DISCOVERY_PATH: listing})
    await bot.deliver("push", bot.push_event("main", before, after))
    (missing,) = runs_named(bot, after, DISCOVERY_CHECK)
    assert missing.fields["conclusion"] == "failure"  # staging does not exist

    git = pygit2.Repository(str(bot.repository.bare))
    git.references.create("refs/heads/staging", git.references["refs/heads/main"].target)
    await bot.deliver("check_run", bot.check_run_event(missing, "rerequested"))
    runs = runs_named(bot, after, DISCOVERY_CHECK)
    assert len(runs) == 2 and runs[-1].fields["conclusion"] == "success"
    assert runs[-1].fields["output"]["title"] == "2 landscapes"


async def test_the_resync_writes_a_summary_comment_that_went_missing(landscape_bot: LandscapeBot):
    bot = landscape_bot
    pull, _ = await rendered_pull(bot)
    (comment,) = bot.bot_comments(pull.number)
    resync = Resync(bot.context)
    await resync.run_once()
    assert bot.bot_comments(pull.number) == [comment]  # present: nothing redone

    del bot.fake.state.comments[comment.id]  # someone deleted it
    await resync.run_once()
    (again,) = bot.bot_comments(pull.number)
    assert again.body == comment.body
