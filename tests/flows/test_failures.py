"""What stops a job ends every check run it started: a bug with the id its log lines carry, a
peer's outage as waiting (no verdict), the user's failure with its text."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.core.deploy import refused
from bot.core.names import DEPLOY_CHECK, DRY_RUN_CHECK, RENDER_CHECK
from bot.flows.checks import checks_completed, finish_check, start_check
from bot.flows.pull_request import render_pull_request
from bot.kit.jobs import JobQueue
from bot.kit.logs import JsonFormatter
from bot.ocm.location import LocationError
from bot.ocm.store import StoreUnavailable
from bot.server.http import Metrics, dispatch
from bot.settings import ClusterSettings
from tests.flows.conftest import REPO, Landscapes
from tests.peers.net import free_port


class Lines(logging.Handler):
    """Log records as the JSON lines operators read (with the job's bound fields)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def logged() -> Iterator[Lines]:
    lines = Lines()
    root = logging.getLogger()
    root.addHandler(lines)
    try:
        yield lines
    finally:
        root.removeHandler(lines)


async def deliver_pull_request(
    landscapes: Landscapes, reader_fails_with: Exception, budget: float | None = None
) -> None:
    """A pull request event whose handler renders while the release cannot be read (or, with
    `budget`, takes longer than the job may)."""
    gh = landscapes.gh
    edited = landscapes.config(**{"environment: dev": "environment: qa"})
    landscapes.push("feature", {".bootstrap/config.yaml": edited.encode()})
    pull = gh.open_pull(REPO, "feature", "main")
    scope = await landscapes.scope()

    def failing_reader(repository: Any) -> Any:
        if budget is not None:
            time.sleep(budget * 5)  # a peer that answers, but too slowly
        raise reader_fails_with

    landscapes.context.open_reader = failing_reader  # type: ignore[method-assign]
    router = Router()

    @router.register("pull_request")
    async def handler(event: Event, context: Any) -> None:
        await render_pull_request(scope, pull)

    event = Event({"action": "opened"}, event="pull_request", delivery_id="delivery-1")
    await dispatch(router, event, landscapes.context, Metrics(JobQueue()), budget)


async def test_a_bug_ends_the_check_run_with_the_id_the_log_carries(
    landscapes: Landscapes, logged: Lines
):
    await deliver_pull_request(landscapes, KeyError("a bug in the bot"))

    (run,) = landscapes.gh.runs(REPO, RENDER_CHECK)
    assert (run.run.status, run.run.conclusion) == ("completed", "failure")
    assert run.output is not None and run.output.title == "bootstrap-bot failed: this is a bug"
    (failed,) = [line for line in logged.lines if "exception" in line]
    assert "a bug in the bot" in failed["exception"]
    assert failed["delivery"] == "delivery-1"
    assert f"under id `{failed['correlation']}`" in run.output.summary


async def test_a_peer_outage_leaves_the_check_run_waiting_not_failed(
    landscapes: Landscapes, logged: Lines
):
    await deliver_pull_request(landscapes, StoreUnavailable("registry.test: HTTP 503"))

    (run,) = landscapes.gh.runs(REPO, RENDER_CHECK)
    assert (run.run.status, run.run.conclusion) == ("queued", None)
    assert run.output is not None
    assert run.output.summary.startswith("registry.test: HTTP 503. Nothing is wrong with this")


async def test_a_failure_that_escapes_a_flow_ends_its_check_runs_with_its_text(
    landscapes: Landscapes,
):
    gh = landscapes.gh
    head = await gh.read_ref(REPO, "main")
    assert head is not None
    with pytest.raises(LocationError):
        async with checks_completed():
            await start_check(gh, REPO, head, DEPLOY_CHECK)
            await start_check(gh, REPO, head, RENDER_CHECK)
            await finish_check(gh, REPO, DEPLOY_CHECK, refused("dev", "dev", head, "no"))
            raise LocationError("component.location: no such repository")
    deploy, render = gh.runs(REPO)
    assert deploy.output is not None and deploy.output.title.endswith(": no")  # its own report
    assert (render.run.status, render.run.conclusion) == ("completed", "failure")
    assert render.output is not None
    assert render.output.summary == "component.location: no such repository"


async def test_a_cluster_out_of_reach_leaves_the_dry_run_waiting_not_failed(
    landscapes: Landscapes, tmp_path
):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: dev\n"
        f"clusters: [{{name: dev, cluster: {{server: 'https://127.0.0.1:{free_port()}'}}}}]\n"
        "users: [{name: dev, user: {token: t}}]\n"
        "contexts: [{name: dev, context: {cluster: dev, user: dev}}]\n"
    )
    landscapes.context.settings.clusters["dev"] = ClusterSettings(
        kubeconfig=kubeconfig, repositories=[REPO], branches=["main"]
    )
    gh = landscapes.gh
    edited = landscapes.config(**{"environment: dev": "environment: qa"}) + "bot:\n  cluster: dev\n"
    landscapes.push("feature", {".bootstrap/config.yaml": edited.encode()})
    pull = gh.open_pull(REPO, "feature", "main")

    result = await render_pull_request(await landscapes.scope(), pull)

    assert result is not None and result.report.conclusion == "success"
    (dry_run,) = landscapes.gh.runs(REPO, DRY_RUN_CHECK)
    assert (dry_run.run.status, dry_run.run.conclusion) == ("queued", None)
    assert dry_run.output is not None and "cannot reach the API server" in dry_run.output.summary
    assert len(gh.comments_on(REPO, pull.number)) == 1  # the render still told its summary


async def test_a_render_left_waiting_is_started_again_and_ended_by_what_stops_it(
    landscapes: Landscapes,
):
    await deliver_pull_request(landscapes, StoreUnavailable("registry.test: HTTP 503"))
    (run,) = landscapes.gh.runs(REPO, RENDER_CHECK)
    assert run.run.status == "queued"

    # the redo (the resync renders what is not completed) meets a bug this time
    def buggy_reader(repository: Any) -> Any:
        raise KeyError("a bug in the bot")

    landscapes.context.open_reader = buggy_reader  # type: ignore[method-assign]
    (pull,) = await landscapes.gh.open_pull_requests(REPO, base="main")
    scope = await landscapes.scope()
    with pytest.raises(KeyError):
        async with checks_completed():
            await render_pull_request(scope, pull)
    assert (run.run.status, run.run.conclusion) == ("completed", "failure")
    assert run.output is not None and run.output.title == "bootstrap-bot failed: this is a bug"


async def test_a_job_past_its_time_budget_fails_its_check_run_saying_so(landscapes: Landscapes):
    await deliver_pull_request(landscapes, StoreUnavailable("never reached"), budget=0.2)

    (run,) = landscapes.gh.runs(REPO, RENDER_CHECK)
    assert (run.run.status, run.run.conclusion) == ("completed", "failure")
    assert run.output is not None
    assert run.output.summary.startswith("stopped after 0.2 s, the longest a job may run")
