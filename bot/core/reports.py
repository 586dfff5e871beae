"""What the bot tells people about a render: the check run and the sticky comment. Pure.

A render either succeeds (with a change summary, and whether the bot committed the result) or
fails at one stage (config, ocm, render, kustomize) with located problems; both come with the
config warnings. Problems that name a file and line become check run annotations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.core.changes import ChangeSummary, code, destructive_caution, summary_markdown
from bot.core.discovery import DISCOVERY_PATH, DiscoveryProblem, Landscape
from bot.core.dry_run import DryRunReport
from bot.core.hand_edits import HandEdit
from bot.core.problems import Problem
from bot.core.retries import RetryPlan

Conclusion = Literal["success", "failure", "neutral"]
_STAGE_TITLES = {
    "config": "The bootstrap config is invalid",
    "ocm": "The openMCP release could not be read",
    "render": "The templates could not be rendered",
    "kustomize": "The rendered manifests do not build with kustomize",
}

#: the most hand-edited files a report lists (each is annotated too, up to GitHub's limit)
MAX_LISTED = 100

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


@dataclass(frozen=True)
class Merging:
    """What merging a pull request changes in the branch it goes into: the head's render
    against the base as it is."""

    base: str
    summary: ChangeSummary


def _tally(noun: str, counts: Sequence[int]) -> str:
    """The counts that are not zero, as in "5 objects added, 1 changed" (one is not zero)."""
    said = [(n, word) for n, word in zip(counts, ("added", "changed", "removed"), strict=True) if n]
    (first, word), rest = said[0], said[1:]
    lead = f"{first} {noun}{'s' if first != 1 else ''} {word}"
    return ", ".join([lead, *(f"{n} {w}" for n, w in rest)])


def merge_title(merging: Merging) -> str:
    """One line of what merging does, for a check run's title and the comment's heading."""
    summary, base = merging.summary, merging.base
    if not summary.files_differ:
        return f"Merging changes nothing in {base}"
    counts = (
        len(summary.objects_added),
        len(summary.objects_changed),
        len(summary.objects_removed),
    )
    if summary.objects_unknown:
        what = "objects unknown: the branch does not build now"
    elif sum(counts):
        what = _tally("object", counts)
    else:
        files = (summary.files_added, summary.files_changed, summary.files_removed)
        what = _tally("file", [len(f) for f in files]) + ", no object changes"
    destructive = " is destructive" if summary.destructive else ""
    return f"Merging into {base}{destructive}: {what}"


#: what the bot did with a successful render, as the status line above what merging changes
_ACTION_SAID = {
    "committed": "The bot committed the re-rendered manifests to this branch.",
    "up-to-date": "The rendered manifests are up to date with the bootstrap config.",
    "not-committed-fork": (
        "This pull request comes from a fork, so the bot does not push to it: run "
        "`bootstrap-bot render` and commit the result, or open the PR from this repository."
    ),
}


def render_succeeded(
    summary: ChangeSummary,
    warnings: Sequence[Problem],
    action: Action,
    *,
    proposal: str = "a pull request",
    merging: Merging | None = None,
) -> RenderReport:
    """`summary`: what the render changes on its own commit; `merging`: what merging the pull
    request changes in its base (then the content, with the action as a status line);
    `proposal` names the pull request a "proposed" render went to."""
    said = _ACTION_SAID.get(action) or (
        f"The rendered manifests on this commit are stale: the re-render is proposed in {proposal}."
    )
    conclusion: Conclusion = "success"
    if action == "not-committed-fork" and summary.files_differ:
        conclusion = "failure"
    elif action == "proposed":
        conclusion = "neutral"  # nothing is wrong with the commit; it is just not rendered
    if merging is not None and not merging.summary.files_differ:
        title, parts = merge_title(merging), [said]  # the title says it all
    elif merging is not None:
        title = merge_title(merging)
        parts = [
            destructive_caution(merging.summary),  # destruction first, before anything else
            said,
            f"#### What merging changes in `{merging.base}`",
            summary_markdown(merging.summary, caution=False),
        ]
    else:
        title = "Up to date" if action == "up-to-date" else summary.headline()
        parts = [said, summary_markdown(summary) if summary.files_differ else ""]
    parts.append(_problem_list("Warnings", warnings))
    return RenderReport(
        conclusion,
        title,
        "\n\n".join(p.strip() for p in parts if p) + "\n",
        tuple(_findings(warnings)),
    )


def hand_edit_note(edit: HandEdit) -> str:
    """The annotation on a generated file a pull request edits by hand."""
    return (
        f"Generated from .bootstrap/ by bootstrap-bot: the next render reverts this edit. "
        f"Change {edit.instead} instead."
    )


def render_hand_edited(edits: Sequence[HandEdit], warnings: Sequence[Problem]) -> RenderReport:
    """A pull request that edits generated files by hand: failed, each file annotated; the
    bot committed nothing over the edits."""
    count = len(edits)
    title = f"{count} generated file{'s' if count != 1 else ''} edited by hand"
    rows = "\n".join(f"| {code(e.path)} | {e.line} | {e.instead} |" for e in edits[:MAX_LISTED])
    if count > MAX_LISTED:
        rows += f"\n| … and {count - MAX_LISTED} more | | |"
    parts = [
        f"{'This file is' if count == 1 else 'These files are'} generated from `.bootstrap/` "
        "by bootstrap-bot: the next render reverts what this pull request changes in "
        f"{'it' if count == 1 else 'them'}, so the bot commits nothing over "
        f"{'it' if count == 1 else 'them'}. Make the change where it belongs and undo the "
        "edit; the bot then renders the change and commits the result here.",
        f"| generated file | line | change instead |\n|---|---|---|\n{rows}",
        _problem_list("Warnings", warnings),
    ]
    findings = [Finding(e.path, e.line, 0, hand_edit_note(e), "failure") for e in edits]
    return RenderReport(
        "failure",
        title,
        "\n\n".join(p.strip() for p in parts if p) + "\n",
        (*findings, *_findings(warnings)),
    )


#: a pull request into a landscape branch that changes no input and no generated file
UNTOUCHED = RenderReport(
    "success",
    "Changes nothing the bot renders",
    "This pull request changes neither `.bootstrap/` nor the rendered manifests (`envs/`, "
    "`resources/`): merging it leaves what the landscape runs as it is.\n",
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
    if go_message:  # for those who compare with the Go tool: once, folded
        parts.append(
            "<details><summary>openmcp-bootstrapper would say</summary>\n\n"
            f"```\n{go_message}\n```\n\n</details>"
        )
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
    summary: ChangeSummary,
    warnings: Sequence[Problem],
    *,
    branch: str,
    commit: str,
    dry_run: DryRunReport | None = None,
) -> tuple[str, str]:
    """Title and body of the pull request that brings a stale landscape branch up to date:
    the verdict first, then what merging changes, then the commands."""
    title = f"Re-render manifests of {branch}"
    parts = [
        f"**Brings the rendered manifests of `{branch}` up to date** with its bootstrap config "
        f"at {commit[:12]}, which was changed without a pull request. Merge this to bring them "
        f"up to date; the bot keeps it current until then.",
        destructive_caution(summary),
        dry_run.verdict() if dry_run is not None else "",
        f"### What merging changes in `{branch}`",
        summary_markdown(summary, caution=False),
        _problem_list("Warnings", warnings),
        "**Commands:** `/bootstrap plan` (what merging changes, dry run again) · "
        "`/bootstrap render` (render again) · `/bootstrap help`.",
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
