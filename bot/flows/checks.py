"""The bot's check runs: started, finished or already done, and never left in progress.

Every check run a job starts goes through `start_check`, which notes it in the job's context;
`finish_*` strike it off. The job's runner wraps the job in `checks_completed()`: when the job
ends with a check run still open, that run is ended for what stopped the job, so nothing the
bot started stays "in progress":

- a `Failure` (the user's): completed as failed, with its text;
- a `Temporary` (a peer's): queued again, saying what it waits for and when the bot tries
  again (`bot.core.retries`); the resync redoes it then, so this is no verdict;
- anything else (a bug): completed as failed, "this is a bug", with the job's correlation id,
  which every log line of the job carries.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal, Protocol

from bot.adapters.github.models import Annotation, CheckAction, CheckRun, CheckRunOutput
from bot.adapters.github.port import GitHubPort
from bot.core.failures import Failure, Temporary
from bot.core.names import (
    APPLY_ACTION,
    DEPLOY_CHECK,
    DRY_RUN_CHECK,
    RENDER_CHECK,
    RERENDER_ACTION,
)
from bot.core.replies import ACTION_TEXTS
from bot.core.reports import RenderReport, bug_texts, failure_texts, waiting_texts
from bot.core.retries import RetryPlan, Schedule, next_retry, read_retry, retry_due
from bot.kit.logs import correlation_id

log = logging.getLogger(__name__)


_SCHEDULE: ContextVar[Schedule | None] = ContextVar("check_schedule", default=None)


def _schedule() -> Schedule:
    return _SCHEDULE.get() or Schedule()


#: the check runs the current job started and has not finished: (repository, commit, name)
_OPEN: ContextVar[dict[tuple[str, str, str], GitHubPort] | None] = ContextVar(
    "open_check_runs", default=None
)


async def start_check(gh: GitHubPort, full_name: str, sha: str, name: str) -> None:
    """Mark the check run `name` on the commit in progress (ended by the job, whatever
    happens)."""
    opened = _OPEN.get()
    if opened is not None:
        opened[(full_name, sha, name)] = gh
    await gh.ensure_check_run(full_name, head_sha=sha, name=name, status="in_progress")


def _finished(full_name: str, sha: str, name: str) -> None:
    opened = _OPEN.get()
    if opened is not None:
        opened.pop((full_name, sha, name), None)


@asynccontextmanager
async def checks_completed(schedule: Schedule | None = None) -> AsyncIterator[None]:
    """Run a job; the check runs it leaves open are ended for what stopped it (see above).
    A `Temporary` that stopped it leaves with `retry_after` set to the soonest retry."""
    opened: dict[tuple[str, str, str], GitHubPort] = {}
    token = _OPEN.set(opened)
    planned = _SCHEDULE.set(schedule or _schedule())
    try:
        yield
    except Exception as error:  # a cancelled job (shutdown) is redone by the next resync
        if opened:
            await _end_open_checks(opened, error)
        raise
    finally:
        _OPEN.reset(token)
        _SCHEDULE.reset(planned)


async def _end_open_checks(
    opened: dict[tuple[str, str, str], GitHubPort], error: BaseException
) -> None:
    soonest: float | None = None
    for (full_name, sha, name), gh in list(opened.items()):
        status: Literal["queued", "completed"] = "completed"
        conclusion: str | None = "failure"
        if isinstance(error, Failure):
            texts = failure_texts(error.text)
        elif isinstance(error, Temporary):
            status, conclusion = "queued", None
            try:
                plan = await _next_plan(gh, full_name, sha, name, error.retry_after)
            except Exception:  # GitHub itself may be out: counted afresh
                plan = next_retry(None, now=_now(), longest=_schedule().round_interval)
            texts = waiting_texts(str(error), plan)
            wait = (plan.at - _now()).total_seconds()
            soonest = wait if soonest is None else min(soonest, wait)
        else:
            texts = bug_texts(correlation_id())
        try:
            await gh.ensure_check_run(
                full_name,
                head_sha=sha,
                name=name,
                status=status,
                conclusion=conclusion,
                output=CheckRunOutput(*texts),
            )
        except Exception:  # GitHub itself may be what failed; the log has the job's id
            log.exception("could not end the check run %s on %s@%s", name, full_name, sha[:12])
    if isinstance(error, Temporary) and soonest is not None:
        error.retry_after = max(0.0, soonest)


def _now() -> datetime:
    return datetime.now(UTC)


async def _next_plan(
    gh: GitHubPort, full_name: str, sha: str, name: str, hint: float | None
) -> RetryPlan:
    """The plan after this failed attempt, counting on from the one the run carries."""
    latest = await gh.latest_check_run(full_name, sha, name)
    previous = None if latest is None else read_retry(latest.summary)
    longest = _schedule().round_interval
    return next_retry(previous, now=_now(), longest=longest, hint=hint)


@asynccontextmanager
async def started_again(
    gh: GitHubPort, full_name: str, sha: str, names: Sequence[str]
) -> AsyncIterator[None]:
    """The check runs `names` on the commit started again (a Re-run shows at once) for the
    block that redoes their steps; one the block did not finish is put back as it was (a
    step may find nothing to redo)."""
    before = {name: await gh.latest_check_run(full_name, sha, name) for name in names}
    for name in names:
        await start_check(gh, full_name, sha, name)
    yield
    opened = _OPEN.get() or {}
    for name, run in before.items():
        if (full_name, sha, name) not in opened:
            continue
        _finished(full_name, sha, name)
        if run is None or run.status != "completed":
            continue  # nothing to go back to: the resync finds it in progress
        output = CheckRunOutput(run.title, run.summary)
        await gh.ensure_check_run(full_name, head_sha=sha, name=name, status="completed",
                                  conclusion=run.conclusion, output=output)  # fmt: skip


async def wait_check(gh: GitHubPort, full_name: str, sha: str, name: str, error: Temporary) -> None:
    """The check run `name` on the commit queued, saying which peer it waits for and when the
    bot tries again: no verdict (for a step that goes on without the peer, such as the dry
    run)."""
    plan = await _next_plan(gh, full_name, sha, name, error.retry_after)
    await gh.ensure_check_run(
        full_name,
        head_sha=sha,
        name=name,
        status="queued",
        output=CheckRunOutput(*waiting_texts(str(error), plan)),
    )
    _finished(full_name, sha, name)


async def start_render_check(gh: GitHubPort, full_name: str, sha: str) -> None:
    """Mark the commit's render in progress, unless it was already rendered (a redelivery
    then leaves the finished run alone when the result is the same); a run left waiting for a
    peer is started again."""
    latest = await gh.latest_check_run(full_name, sha, RENDER_CHECK)
    if latest is None or latest.status != "completed":
        await start_check(gh, full_name, sha, RENDER_CHECK)


async def finish_render_check(
    gh: GitHubPort,
    full_name: str,
    sha: str,
    report: RenderReport,
    *,
    name: str = RENDER_CHECK,
) -> None:
    annotations = [
        Annotation(f.path, f.line, f.message, level=f.level, start_column=f.column or None)
        for f in report.findings
    ]
    await gh.ensure_check_run(
        full_name,
        head_sha=sha,
        name=name,
        status="completed",
        conclusion=report.conclusion,
        output=CheckRunOutput(report.title, report.summary, annotations=annotations),
        actions=_actions(name),
    )
    _finished(full_name, sha, name)


#: the button each of the bot's completed check runs offers
_BUTTONS = {RENDER_CHECK: RERENDER_ACTION, DEPLOY_CHECK: APPLY_ACTION}


def _actions(name: str) -> tuple[CheckAction, ...]:
    identifier = _BUTTONS.get(name)
    if identifier is None:
        return ()
    return (CheckAction(*ACTION_TEXTS[identifier], identifier=identifier),)


class TabledReport(Protocol):
    """A report whose check run has a details table (deploy, dry run)."""

    @property
    def commit(self) -> str: ...

    @property
    def conclusion(self) -> Literal["success", "failure"]: ...
    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def text(self) -> str: ...


async def finish_check(gh: GitHubPort, full_name: str, name: str, report: TabledReport) -> None:
    """The check run `name` on the report's commit, completed with the report."""
    await gh.ensure_check_run(
        full_name,
        head_sha=report.commit,
        name=name,
        status="completed",
        conclusion=report.conclusion,
        output=CheckRunOutput(report.title, report.summary, text=report.text or None),
        actions=_actions(name),
    )
    _finished(full_name, report.commit, name)


async def needs_work(gh: GitHubPort, full_name: str, sha: str, name: str) -> bool:
    """Whether a resync should do the step behind the check run `name` on the commit now: it
    never ran; it waits for a peer and its retry is due; or it was left in progress by a job
    that is gone (see `Schedule`). A completed run is done with."""
    return _needs_work(await gh.latest_check_run(full_name, sha, name))


def _needs_work(run: CheckRun | None) -> bool:
    if run is None:
        return True
    if run.status == "completed":
        return False
    schedule, now = _schedule(), _now()
    if run.status == "queued":
        return retry_due(read_retry(run.summary), now=now, within=schedule.round_interval)
    started = _parse_time(run.started_at)
    if started is None or now - started >= schedule.job_budget:
        return True
    return schedule.orphaned_before is not None and started < schedule.orphaned_before


def _parse_time(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


async def pull_request_settled(gh: GitHubPort, full_name: str, sha: str) -> bool:
    """Whether a pull request's head needs nothing of a resync now: rendered, and no dry run
    of it waiting with its retry due."""
    if not await rendered_already(gh, full_name, sha):
        return False
    dry_run = await gh.latest_check_run(full_name, sha, DRY_RUN_CHECK)
    return dry_run is None or not _needs_work(dry_run)


async def rendered_already(gh: GitHubPort, full_name: str, sha: str) -> bool:
    """Whether the bot is done rendering this commit for now (the resync then leaves it)."""
    return not await needs_work(gh, full_name, sha, RENDER_CHECK)
