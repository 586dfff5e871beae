"""What the bot answers to `/bootstrap` commands. Pure.

One comment may hold several commands; the bot answers them all in one reply, each under the
quoted command line, and reacts 🚀 when every one succeeded, 😕 otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.changes import ChangeSummary, summary_markdown
from bot.core.commands import LANDSCAPE_OPTION, PREFIX, usage
from bot.core.discovery import Landscape


@dataclass(frozen=True)
class Answer:
    """The answer to one command line; `ok` is False for refusals and failures."""

    line: str
    text: str
    ok: bool


def reply_body(user: str, answers: Sequence[Answer]) -> str:
    parts = [f"@{user}"]
    for answer in answers:
        parts.append(f"> {answer.line}\n\n{answer.text.strip()}")
    return "\n\n".join(parts) + "\n"


def help_text(role: str, allowed: Sequence[Landscape], others: Sequence[Landscape]) -> str:
    def listed(landscapes: Sequence[Landscape]) -> str:
        return ", ".join(f"`{la.branch}`" for la in landscapes)

    if allowed:
        mine = f"With your role `{role}` you may act on: {listed(allowed)}."
    else:
        mine = f"With your role `{role}` you may not act on any landscape here."
    if others:
        mine += f" Not on: {listed(others)} (they need a stronger role)."
    if not allowed and not others:
        mine = "This repository has no landscape yet."
    return f"{usage()}\n\n{mine}"


def not_a_landscape(where: str, landscapes: Sequence[Landscape]) -> str:
    known = ", ".join(f"`{la.branch}`" for la in landscapes) or "none"
    return f"{where} is not a landscape branch (landscapes: {known})."


def which_landscape(landscapes: Sequence[Landscape]) -> str:
    if not landscapes:
        return (
            "This repository has no landscape: add `.bootstrap/config.yaml` to the default "
            "branch, or list landscapes in `.github/bootstrap-bot.yml`."
        )
    known = ", ".join(f"`{la.branch}`" for la in landscapes)
    return (
        f"This repository has several landscapes ({known}): say which with "
        f"`{LANDSCAPE_OPTION}BRANCH`, or comment on a pull request into it."
    )


def denied(name: str, landscape: Landscape, role: str, minimum: str, why: str = "") -> str:
    return (
        f"`{PREFIX} {name}` on `{landscape.branch}` needs the `{minimum}` role on this "
        f"repository{why}; you have `{role}`."
    )


def internal_error(error_id: str) -> str:
    return (
        f"bootstrap-bot failed on this command (error `{error_id}`); its operators find the "
        f"details in the logs under that id. Try again later."
    )


def plan_text(summary: ChangeSummary, *, branch: str, commit: str, pull: int | None) -> str:
    source = (
        f"Merging #{pull} (rendered at {commit[:12]})"
        if pull
        else (f"Re-rendering `{branch}` at {commit[:12]}")
    )
    if not summary.files_differ:
        return f"{source} changes nothing in `{branch}`."
    return f"{source} would change `{branch}`:\n\n{summary_markdown(summary)}"


def status_text(
    *,
    landscape: Landscape,
    commit: str,
    version: str,
    render: str,
    proposal: str | None,
    upgrade: str | None = None,
    declined: str = "none",
    cluster: tuple[tuple[str, str], ...] = (),
) -> str:
    """The landscape's state as a table; `cluster` adds rows about what its cluster runs."""
    rows = [
        ("landscape branch", f"`{landscape.branch}` at {commit[:12]}"),
        ("bootstrap config", f"`{landscape.config_path}`"),
        ("openMCP release", version),
        ("rendered manifests", render),
        ("open re-render proposal", proposal or "none"),
        ("open upgrade proposal", upgrade or "none"),
        ("declined releases", declined),
        *cluster,
    ]
    return "| | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)
