"""What GitHub's REST API answers, as the flows see it: plain frozen records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class Repository:
    full_name: str
    default_branch: str
    clone_url: str
    private: bool


@dataclass(frozen=True)
class PullRequest:
    number: int
    html_url: str
    head: str
    head_sha: str
    base: str
    title: str
    body: str
    state: str
    author: str
    #: the repository the head branch lives in ("" when a fork was deleted)
    head_repository: str = ""
    merged: bool = False
    #: the commit merging put on the base branch (GitHub names a test merge while open)
    merge_commit: str | None = None
    #: when it was merged (ISO 8601, as GitHub writes it)
    merged_at: str | None = None
    outcome: Outcome = "unchanged"

    def from_fork(self, full_name: str) -> bool:
        return self.head_repository.lower() != full_name.lower()

    @classmethod
    def from_json(cls, data: Mapping[str, Any], outcome: Outcome = "unchanged") -> PullRequest:
        return cls(
            number=int(data["number"]),
            html_url=data["html_url"],
            head=data["head"]["ref"],
            head_sha=data["head"]["sha"],
            base=data["base"]["ref"],
            title=data["title"],
            body=data.get("body") or "",
            state=data["state"],
            author=(data.get("user") or {}).get("login", ""),
            head_repository=(data["head"].get("repo") or {}).get("full_name", ""),
            # single pull requests say `merged`; lists only `merged_at`
            merged=bool(data.get("merged") or data.get("merged_at")),
            merge_commit=data.get("merge_commit_sha"),
            merged_at=data.get("merged_at"),
            outcome=outcome,
        )


@dataclass(frozen=True)
class Comment:
    id: int
    html_url: str
    body: str
    outcome: Outcome = "unchanged"


@dataclass(frozen=True)
class CheckAction:
    """A button on a check run (GitHub: at most 3, label 20 and description 40 characters);
    pressing it sends a `check_run` `requested_action` with the identifier."""

    label: str
    description: str
    identifier: str

    def to_json(self) -> dict[str, str]:
        return {"label": self.label, "description": self.description, "identifier": self.identifier}


@dataclass(frozen=True)
class Annotation:
    """A located message on a check run (GitHub shows it on the file's line)."""

    path: str
    start_line: int
    message: str
    level: Literal["notice", "warning", "failure"] = "failure"
    end_line: int | None = None
    title: str | None = None
    start_column: int | None = None
    end_column: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line or self.start_line,
            "annotation_level": self.level,
            "message": self.message,
        }
        # GitHub accepts columns only when the annotation stays on one line.
        if self.start_column is not None and data["end_line"] == self.start_line:
            data["start_column"] = self.start_column
            data["end_column"] = self.end_column or self.start_column
        if self.title:
            data["title"] = self.title
        return data


@dataclass(frozen=True)
class CheckRunOutput:
    title: str
    summary: str
    text: str | None = None
    annotations: Sequence[Annotation] = field(default_factory=tuple)


@dataclass(frozen=True)
class CheckRun:
    id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    outcome: Outcome = "unchanged"
    #: the output's summary ("" without one)
    summary: str = ""
    #: the output's title ("" without one)
    title: str = ""
    #: when it was started (ISO 8601, as GitHub writes it)
    started_at: str | None = None


@dataclass(frozen=True)
class DeployKey:
    id: int
    title: str
    read_only: bool
    outcome: Outcome = "unchanged"


#: GitHub's limits: a body (issue, pull request, comment) and a check run's summary and text
MAX_BODY = 65_536
MAX_CHECK_RUN_TEXT = 65_535
#: the most annotations one check run carries (50 per request): the first ones, in order
MAX_ANNOTATIONS = 200


def fit(text: str, limit: int = MAX_BODY) -> str:
    """`text` within GitHub's `limit`: a longer one is cut at the end, saying so (GitHub would
    refuse it whole with a 422)."""
    if len(text) <= limit:
        return text
    note = "\n\n… cut here: {} more characters did not fit GitHub's limit of {}."
    kept = limit - len(note.format(len(text), limit))
    return text[:kept] + note.format(len(text) - kept, limit)


def fitted(output: CheckRunOutput | None) -> CheckRunOutput | None:
    """A check run's output within GitHub's limits."""
    if output is None:
        return None
    text = None if output.text is None else fit(output.text, MAX_CHECK_RUN_TEXT)
    summary = fit(output.summary, MAX_CHECK_RUN_TEXT)
    return CheckRunOutput(output.title, summary, text, output.annotations[:MAX_ANNOTATIONS])
