"""The bot's check runs: started, finished or already done, and never left in progress.

Every check run a job starts goes through `start_check`, which notes it in the job's context;
`finish_*` strike it off. The job's runner wraps the job in `checks_completed()`: when the job
ends with a check run still open, that run is ended for what stopped the job, so nothing the
bot started stays "in progress":

- a `Failure` (the user's): completed as failed, with its text;
- a `Temporary` (a peer's): queued again, saying what it waits for; the resync redoes every
  commit whose check run is not completed, so this is no verdict;
- anything else (a bug): completed as failed, "this is a bug", with the job's correlation id,
  which every log line of the job carries.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Literal, Protocol

from bot.adapters.github.models import Annotation, CheckRunOutput
from bot.adapters.github.port import GitHubPort
from bot.core.failures import Failure, Temporary
from bot.core.names import RENDER_CHECK
from bot.core.reports import RenderReport, bug_texts, failure_texts, waiting_texts
from bot.kit.logs import correlation_id

log = logging.getLogger(__name__)
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
async def checks_completed() -> AsyncIterator[None]:
    """Run a job; the check runs it leaves open are ended for what stopped it (see above)."""
    opened: dict[tuple[str, str, str], GitHubPort] = {}
    token = _OPEN.set(opened)
    try:
        yield
    except Exception as error:  # a cancelled job (shutdown) is redone by the next resync
        if opened:
            await _end_open_checks(opened, error)
        raise
    finally:
        _OPEN.reset(token)


async def _end_open_checks(
    opened: dict[tuple[str, str, str], GitHubPort], error: BaseException
) -> None:
    for (full_name, sha, name), gh in list(opened.items()):
        status: Literal["queued", "completed"] = "completed"
        conclusion: str | None = "failure"
        if isinstance(error, Failure):
            texts = failure_texts(error.text)
        elif isinstance(error, Temporary):
            status, conclusion, texts = "queued", None, waiting_texts(str(error))
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


async def wait_check(gh: GitHubPort, full_name: str, sha: str, name: str, what: str) -> None:
    """The check run `name` on the commit queued, saying which peer it waits for: no verdict
    (for a step that goes on without the peer, such as the dry run)."""
    await gh.ensure_check_run(
        full_name,
        head_sha=sha,
        name=name,
        status="queued",
        output=CheckRunOutput(*waiting_texts(what)),
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
    )
    _finished(full_name, sha, name)


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
    )
    _finished(full_name, report.commit, name)


async def rendered_already(gh: GitHubPort, full_name: str, sha: str) -> bool:
    """Whether the bot finished rendering this commit (the resync loop then leaves it)."""
    run = await gh.latest_check_run(full_name, sha, RENDER_CHECK)
    return run is not None and run.status == "completed"
