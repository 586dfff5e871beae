"""What the fake GitHub remembers: installations, tokens, repositories, pull requests, comments,
reactions, check runs, permissions and deploy keys. Refs and file contents are never stored here:
they are read from the real bare repositories the git server peer serves.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pygit2
import yaml

#: GitHub's repository roles and the legacy `permission` each reports.
ROLE_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}


def manifest_permissions() -> dict[str, str]:
    """What an installation of the App granted: the App manifest's default permissions."""
    manifest = yaml.safe_load((Path(__file__).parents[3] / "app-manifest.yml").read_text())
    return {str(k): str(v) for k, v in manifest["default_permissions"].items()}


@dataclass
class Installation:
    id: int
    account: str
    repositories: list[str] = field(default_factory=list)
    #: what the installation granted, as GitHub keeps it (`permissions` of the installation)
    permissions: dict[str, str] = field(default_factory=manifest_permissions)
    #: an organization on GitHub Enterprise Cloud: 15,000 requests an hour
    enterprise_cloud: bool = False


@dataclass
class Token:
    value: str
    installation_id: int
    expires_at: float


@dataclass
class Repository:
    id: int
    owner: str
    name: str
    bare: Path
    clone_url: str
    default_branch: str = "main"
    private: bool = True
    roles: dict[str, str] = field(default_factory=dict)  # user login -> role

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def git(self) -> pygit2.Repository:
        return pygit2.Repository(str(self.bare))

    def branch_sha(self, branch: str) -> str | None:
        ref = self.git().references.get(f"refs/heads/{branch}")
        return None if ref is None else str(ref.target)

    def resolve(self, ref: str | None) -> pygit2.Commit | None:
        """A branch name, full ref or commit SHA, as GitHub's `ref` parameters accept."""
        repo = self.git()
        spec = ref or self.default_branch
        for candidate in (f"refs/heads/{spec}", f"refs/tags/{spec}", spec):
            try:
                found = repo.revparse_single(candidate)
            except (KeyError, ValueError, pygit2.GitError):
                continue
            try:
                commit: pygit2.Commit = found.peel(pygit2.Commit)
            except (pygit2.GitError, ValueError):
                return None
            return commit
        return None


@dataclass
class PullRequest:
    number: int
    repository: str
    head: str
    base: str
    title: str
    body: str | None
    user: str
    user_type: str
    draft: bool = False
    state: str = "open"
    merged: bool = False
    merge_commit: str | None = None
    merged_at: str | None = None
    fork: str | None = None  # the head repository, when it is not this one

    @property
    def head_ref(self) -> str:
        """Where GitHub keeps the head commit in the base repository, forks' too."""
        return f"refs/pull/{self.number}/head"


@dataclass
class Comment:
    id: int
    repository: str
    issue_number: int
    body: str
    user: str
    user_type: str
    app_id: int | None  # performed_via_github_app


@dataclass
class Reaction:
    id: int
    comment_id: int
    content: str
    user: str


@dataclass
class CheckRun:
    id: int
    repository: str
    head_sha: str
    name: str
    app_id: int
    fields: dict[str, Any]
    annotations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class DeployKey:
    id: int
    repository: str
    title: str
    key: str
    read_only: bool


@dataclass
class State:
    app_id: int
    app_slug: str
    installations: dict[int, Installation] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    repositories: dict[str, Repository] = field(default_factory=dict)
    pulls: dict[tuple[str, int], PullRequest] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    reactions: list[Reaction] = field(default_factory=list)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    #: the check runs' ids by (repository, head SHA), which never change
    _runs_at: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    deploy_keys: dict[int, DeployKey] = field(default_factory=dict)
    issue_numbers: dict[str, int] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))

    @property
    def bot_login(self) -> str:
        return f"{self.app_slug}[bot]"

    def next_id(self) -> int:
        return next(self._ids)

    def add_check_run(self, run: CheckRun) -> None:
        self.check_runs[run.id] = run
        self._runs_at.setdefault((run.repository, run.head_sha), []).append(run.id)

    def check_runs_at(self, repository: str, sha: str) -> list[CheckRun]:
        """The check runs on one commit, newest first (as GitHub lists them)."""
        return [self.check_runs[i] for i in reversed(self._runs_at.get((repository, sha), []))]

    def next_issue_number(self, repository: str) -> int:
        """Issues and pull requests share one sequence of numbers per repository, as on GitHub."""
        self.issue_numbers[repository] = self.issue_numbers.get(repository, 0) + 1
        return self.issue_numbers[repository]

    def mint_token(self, installation_id: int, expires_at: float) -> Token:
        token = Token("ghs_" + secrets.token_hex(18), installation_id, expires_at)
        self.tokens[token.value] = token
        return token

    def repository(self, full_name: str) -> Repository | None:
        return self.repositories.get(full_name.lower())

    def installation_of(self, full_name: str) -> Installation | None:
        return next(
            (i for i in self.installations.values() if full_name.lower() in i.repositories), None
        )

    def open_pull(self, repository: str, head: str, base: str | None = None) -> PullRequest | None:
        return next(
            (
                p
                for p in self.pulls.values()
                if p.repository == repository
                and p.state == "open"
                and p.head == head
                and (base is None or p.base == base)
            ),
            None,
        )
