"""What the bot tells people about a render: the check run and the sticky comment. Pure.

A render either succeeds (with a change summary, and whether the bot committed the result) or
fails at one stage (config, ocm, render, kustomize) with located problems; both come with the
config warnings. Problems that name a file and line become check run annotations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.core.changes import ChangeSummary, summary_markdown
from bot.core.discovery import DISCOVERY_PATH, DiscoveryProblem, Landscape
from bot.core.problems import Problem
from bot.core.retries import RetryPlan

Conclusion = Literal["success", "failure", "neutral"]
_STAGE_TITLES = {
    "config": "The bootstrap config is invalid",
    "ocm": "The openMCP release could not be read",
    "render": "The templates could not be rendered",
    "kustomize": "The rendered manifests do not build with kustomize",
}

#: what the bot did with a successful render
Action = Literal["committed", "up-to-date", "not-committed-fork", "proposed"]


@dataclass(frozen=True)
class Finding:
    """A problem at a place in a file, for a check run annotation."""

    path: str
    line: int
    column: int
    message: str
    level: Literal["failure", "warning"]


@dataclass(frozen=True)
class RenderReport:
    conclusion: Conclusion
    title: str
    summary: str
    findings: tuple[Finding, ...] = ()


def _findings(problems: Sequence[Problem]) -> list[Finding]:
    return [
        Finding(
            p.file,
            p.line,
            p.column,
            p.message,
            "warning" if p.severity == "warning" else "failure",
        )
        for p in problems
        if p.file and p.line
    ]


def _problem_list(heading: str, problems: Sequence[Problem]) -> str:
    if not problems:
        return ""
    lines = "\n".join(
        f"- `{_where(p)}` {p.message}" if _where(p) else f"- {p.message}" for p in problems
    )
    return f"**{heading}**\n\n{lines}\n"


def _where(problem: Problem) -> str:
    if not problem.file:
        return ""
    if not problem.line:
        return problem.file
    return f"{problem.file}:{problem.line}" + (f":{problem.column}" if problem.column else "")


def render_succeeded(
    summary: ChangeSummary,
    warnings: Sequence[Problem],
    action: Action,
    *,
    proposal: str = "a pull request",
) -> RenderReport:
    """`proposal` names the pull request a "proposed" render went to."""
    said = {
        "committed": "The re-rendered manifests were committed to this branch.",
        "up-to-date": "The rendered manifests are up to date with the bootstrap config.",
        "not-committed-fork": (
            "This pull request comes from a fork, so the bot does not push to it: run "
            "`bootstrap-bot render` and commit the result, or open the PR from this repository."
        ),
        "proposed": (
            f"The rendered manifests on this commit are stale: the re-render is proposed in "
            f"{proposal}."
        ),
    }[action]
    title = "Up to date" if action == "up-to-date" else summary.headline()
    conclusion: Conclusion = "success"
    if action == "not-committed-fork" and summary.files_differ:
        conclusion = "failure"
    elif action == "proposed":
        conclusion = "neutral"  # nothing is wrong with the commit; it is just not rendered
    parts = [said, summary_markdown(summary) if summary.files_differ else ""]
    parts.append(_problem_list("Warnings", warnings))
    return RenderReport(
        conclusion,
        title,
        "\n\n".join(p.strip() for p in parts if p) + "\n",
        tuple(_findings(warnings)),
    )


def render_failed(
    stage: str,
    problems: Sequence[Problem],
    warnings: Sequence[Problem],
    go_message: str | None = None,
) -> RenderReport:
    title = _STAGE_TITLES.get(stage, "The landscape could not be rendered")
    parts = [
        "Nothing was committed. Fix the problems below and push again.",
        _problem_list("Problems", problems),
        _problem_list("Warnings", warnings),
    ]
    if go_message:
        parts.append(f"openmcp-bootstrapper would say:\n\n```\n{go_message}\n```")
    findings = _findings(problems) + _findings(warnings)
    return RenderReport(
        "failure", title, "\n\n".join(p.strip() for p in parts if p) + "\n", tuple(findings)
    )


def render_comment(report: RenderReport, *, branch: str, commit: str) -> str:
    """The sticky comment on a pull request: the latest render, replaced on every push."""
    mark = "✅" if report.conclusion == "success" else "❌"
    return (
        f"### {mark} bootstrap-bot render: {report.title}\n\n"
        f"Rendered `{branch}` at {commit[:12]}.\n\n{report.summary}"
    )


def render_proposal(
    summary: ChangeSummary, warnings: Sequence[Problem], *, branch: str, commit: str
) -> tuple[str, str]:
    """Title and body of the pull request that brings a stale landscape branch up to date."""
    title = f"Re-render manifests of {branch}"
    parts = [
        f"The bootstrap config of `{branch}` was changed without a pull request, so its rendered "
        f"manifests are stale at {commit[:12]}. This pull request commits the re-render; merge "
        f"it to bring them up to date. The bot keeps it current until then.",
        summary_markdown(summary),
        _problem_list("Warnings", warnings),
    ]
    return title, "\n\n".join(p.strip() for p in parts if p) + "\n"


def discovery_report(
    problems: Sequence[DiscoveryProblem], landscapes: Sequence[Landscape], missing: Sequence[str]
) -> RenderReport:
    """The check run on the default branch about `.github/bootstrap-bot.yml`."""
    findings = tuple(Finding(p.file, p.line, p.column, p.message, "failure") for p in problems)
    listed = "\n".join(
        f"- `{la.branch}` ({la.config_path})"
        + (" — **no such branch**" if la.branch in missing else "")
        for la in landscapes
    )
    parts = [f"**Landscapes**\n\n{listed}" if listed else "No landscape is listed."]
    if problems:
        parts.append(
            "**Problems**\n\n"
            + "\n".join(f"- `{p.file}:{p.line}:{p.column}` {p.message}" for p in problems)
        )
    if problems or missing:
        count = len(problems) + len(missing)
        title = f"{count} problem{'s' if count != 1 else ''} in {DISCOVERY_PATH}"
        return RenderReport("failure", title, "\n\n".join(parts) + "\n", findings)
    count = len(landscapes)
    title = f"{count} landscape{'s' if count != 1 else ''}"
    return RenderReport("success", title, "\n\n".join(parts) + "\n")


# -- a check run a job could not finish -----------------------------------------------------------
def failure_texts(text: str) -> tuple[str, str]:
    """(title, summary) of a check run stopped by something the user has to fix."""
    return "Stopped: this needs a change", text


def waiting_texts(what: str, plan: RetryPlan) -> tuple[str, str]:
    """(title, summary) of a check run waiting for a peer (registry, GitHub, git, a cluster),
    with the plan's hidden marker."""
    return (
        f"Waiting: a service the bot needs is unavailable; retrying at {plan.clock_time}",
        f"{what}. Nothing is wrong with this commit; the bot tries again at {plan.clock_time} "
        f"and after that until the service is back.\n\n{plan.marker}",
    )


def bug_texts(error_id: str) -> tuple[str, str]:
    """(title, summary) of a check run stopped by a bug in the bot."""
    return (
        "bootstrap-bot failed: this is a bug",
        f"This is a bug in bootstrap-bot, not a problem with this commit; the operators can "
        f"find it under id `{error_id}` in the bot's logs.",
    )
