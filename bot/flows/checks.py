"""The bot's check runs: `bootstrap-bot/render` started, finished or already done, and the
reports with a details table (deploy, dry run) completed."""

from __future__ import annotations

from typing import Literal, Protocol

from bot.adapters.github.client import Annotation, CheckRunOutput, InstallationClient
from bot.core.reports import RENDER_CHECK, RenderReport


async def start_render_check(gh: InstallationClient, full_name: str, sha: str) -> None:
    """Mark the commit's render in progress, unless it was already rendered (a redelivery
    then leaves the finished run alone when the result is the same)."""
    if await gh.latest_check_run(full_name, sha, RENDER_CHECK) is None:
        await gh.ensure_check_run(full_name, head_sha=sha, name=RENDER_CHECK, status="in_progress")


async def finish_render_check(
    gh: InstallationClient,
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


async def finish_check(
    gh: InstallationClient, full_name: str, name: str, report: TabledReport
) -> None:
    """The check run `name` on the report's commit, completed with the report."""
    await gh.ensure_check_run(
        full_name,
        head_sha=report.commit,
        name=name,
        status="completed",
        conclusion=report.conclusion,
        output=CheckRunOutput(report.title, report.summary, text=report.text or None),
    )


async def rendered_already(gh: InstallationClient, full_name: str, sha: str) -> bool:
    """Whether the bot finished rendering this commit (the resync loop then leaves it)."""
    run = await gh.latest_check_run(full_name, sha, RENDER_CHECK)
    return run is not None and run.status == "completed"
