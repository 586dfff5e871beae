"""An in-memory `GitHubPort` for flow unit tests (bedevere's FakeGH, but stateful).

It keeps what the flows read back — pull requests, comments, check runs, reactions, deploy
keys — and reads repository contents from real bare git repositories on disk (the same ones
the bot's git adapter fetches from by path), so a flow test runs a whole flow without any
server. It answers as `InstallationClient` does (the same records, the same ensure semantics:
one open pull request per head and base, one sticky comment per marker, a completed check run
replaced only when its result changes); the contract-checked HTTP fake (`server.py`) is what
checks those answers against GitHub's own description, in the integration tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pygit2

from bot.adapters.github.models import (
    CheckAction,
    CheckRun,
    CheckRunOutput,
    Comment,
    DeployKey,
    PullRequest,
    Repository,
)
from bot.adapters.github.port import CheckStatus
from bot.core.names import comment_marker

BOT_LOGIN = "bootstrap-bot[bot]"


@dataclass
class StoredCheckRun:
    run: CheckRun
    output: CheckRunOutput | None = None


@dataclass
class StoredComment:
    comment: Comment
    number: int
    author: str


@dataclass
class MemoryGitHub:
    """One installation's view of GitHub, in memory."""

    installation_id: int = 1
    repositories_: dict[str, Repository] = field(default_factory=dict)
    pulls: dict[str, list[PullRequest]] = field(default_factory=dict)
    comments: dict[str, list[StoredComment]] = field(default_factory=dict)
    check_runs: dict[str, list[StoredCheckRun]] = field(default_factory=dict)
    reactions: dict[int, list[str]] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)
    deploy_keys: dict[str, list[tuple[DeployKey, str]]] = field(default_factory=dict)
    #: every call, as (method, full_name) — what a test asserts was (not) done
    calls: list[tuple[str, str]] = field(default_factory=list)
    #: a method name -> the exception its next call raises
    faults: dict[str, BaseException] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100))

    # -- set-up ---------------------------------------------------------------------------------
    def add_repository(self, full_name: str, bare: Path, default_branch: str = "main") -> None:
        """A repository whose git content is the bare repository at `bare`."""
        if not (bare / "HEAD").exists():
            pygit2.init_repository(str(bare), bare=True)
        self.repositories_[full_name] = Repository(full_name, default_branch, str(bare), False)

    def open_pull(
        self, full_name: str, head: str, base: str, *, author: str = "walt"
    ) -> PullRequest:
        """A pull request someone opened from `head` (pushed already) into `base`."""
        sha = self._sha(full_name, head)
        assert sha is not None, f"push {head} first"
        pull = PullRequest(
            number=self._number(full_name),
            html_url=f"https://github.test/{full_name}/pull/0",
            head=head,
            head_sha=sha,
            base=base,
            title=f"Change {head}",
            body="",
            state="open",
            author=author,
            head_repository=full_name,
        )
        pull = replace(pull, html_url=f"https://github.test/{full_name}/pull/{pull.number}")
        self.pulls.setdefault(full_name, []).append(pull)
        return pull

    def runs(self, full_name: str, name: str | None = None) -> list[StoredCheckRun]:
        return [r for r in self.check_runs.get(full_name, []) if name in (None, r.run.name)]

    def comments_on(self, full_name: str, number: int) -> list[StoredComment]:
        return [c for c in self.comments.get(full_name, []) if c.number == number]

    # -- plumbing -------------------------------------------------------------------------------
    def _call(self, method: str, full_name: str = "") -> None:
        self.calls.append((method, full_name))
        fault = self.faults.pop(method, None)
        if fault is not None:
            raise fault

    def _git(self, full_name: str) -> pygit2.Repository:
        return pygit2.Repository(self.repositories_[full_name].clone_url)

    def _sha(self, full_name: str, branch: str) -> str | None:
        ref = self._git(full_name).references.get(f"refs/heads/{branch}")
        return None if ref is None else str(ref.target)

    def _number(self, full_name: str) -> int:
        taken = [p.number for p in self.pulls.get(full_name, [])]
        return max(taken, default=0) + 1

    # -- reading --------------------------------------------------------------------------------
    async def repository(self, full_name: str) -> Repository:
        self._call("repository", full_name)
        return self.repositories_[full_name]

    async def repositories(self) -> list[Repository]:
        self._call("repositories")
        return [self.repositories_[name] for name in sorted(self.repositories_)]

    async def read_file(self, full_name: str, path: str, ref: str) -> bytes | None:
        self._call("read_file", full_name)
        repo = self._git(full_name)
        try:
            commit = repo.revparse_single(ref).peel(pygit2.Commit)
        except (KeyError, ValueError):
            return None
        try:
            entry = commit.tree[path]
        except KeyError:
            return None
        blob = repo[entry.id]
        return bytes(blob.data) if isinstance(blob, pygit2.Blob) else None

    async def read_ref(self, full_name: str, branch: str) -> str | None:
        self._call("read_ref", full_name)
        return self._sha(full_name, branch)

    async def delete_branch(self, full_name: str, branch: str) -> bool:
        self._call("delete_branch", full_name)
        ref = self._git(full_name).references.get(f"refs/heads/{branch}")
        if ref is None:
            return False
        ref.delete()
        return True

    async def permission(self, full_name: str, username: str) -> str:
        self._call("permission", full_name)
        return self.permissions.get(username, "read")

    # -- pull requests and comments -------------------------------------------------------------
    def _refreshed(self, full_name: str, pull: PullRequest) -> PullRequest:
        """The pull request with its head at the branch's commit now (GitHub follows pushes)."""
        sha = self._sha(full_name, pull.head) if pull.state == "open" else None
        return replace(pull, head_sha=sha or pull.head_sha, outcome="unchanged")

    def _store(self, full_name: str, pull: PullRequest) -> None:
        stored = self.pulls[full_name]
        stored[[p.number for p in stored].index(pull.number)] = replace(pull, outcome="unchanged")

    async def find_pull_request(
        self, full_name: str, *, head: str, base: str | None = None, state: str = "open"
    ) -> PullRequest | None:
        found = await self.pull_requests_from(full_name, head=head, base=base, state=state)
        return found[0] if found else None

    async def pull_requests_from(
        self, full_name: str, *, head: str, base: str | None = None, state: str = "all"
    ) -> list[PullRequest]:
        self._call("pull_requests_from", full_name)
        return [
            self._refreshed(full_name, p)
            for p in reversed(self.pulls.get(full_name, []))
            if p.head == head and base in (None, p.base) and state in ("all", p.state)
        ]

    async def edit_pull_request_body(self, full_name: str, number: int, body: str) -> None:
        self._call("edit_pull_request_body", full_name)
        self._store(full_name, replace(await self.pull_request(full_name, number), body=body))

    async def open_pull_requests(
        self, full_name: str, *, base: str | None = None
    ) -> list[PullRequest]:
        self._call("open_pull_requests", full_name)
        return [
            self._refreshed(full_name, p)
            for p in self.pulls.get(full_name, [])
            if base in (None, p.base) and p.state == "open"
        ]

    async def merged_pull_request(
        self, full_name: str, *, base: str, merge_commit: str
    ) -> PullRequest | None:
        self._call("merged_pull_request", full_name)
        for p in self.pulls.get(full_name, []):
            if p.base == base and p.merged and p.merge_commit == merge_commit:
                return self._refreshed(full_name, p)
        return None

    async def close_pull_request(self, full_name: str, number: int) -> PullRequest:
        self._call("close_pull_request", full_name)
        pull = await self.pull_request(full_name, number)
        if pull.state == "closed":
            return pull
        closed = replace(pull, state="closed")
        self._store(full_name, closed)
        return replace(closed, outcome="updated")

    async def pull_request(self, full_name: str, number: int) -> PullRequest:
        self._call("pull_request", full_name)
        pull = next(p for p in self.pulls.get(full_name, []) if p.number == number)
        return self._refreshed(full_name, pull)

    async def ensure_pull_request(
        self, full_name: str, *, head: str, base: str, title: str, body: str
    ) -> PullRequest:
        self._call("ensure_pull_request", full_name)
        existing = await self.find_pull_request(full_name, head=head, base=base)
        if existing is None:
            pull = self.open_pull(full_name, head, base, author=BOT_LOGIN)
            pull = replace(pull, title=title, body=body)
            self._store(full_name, pull)
            return replace(pull, outcome="created")
        if (existing.title, existing.body) == (title, body):
            return existing
        updated = replace(existing, title=title, body=body)
        self._store(full_name, updated)
        return replace(updated, outcome="updated")

    def _create_comment(self, full_name: str, number: int, body: str) -> Comment:
        comment_id = next(self._ids)
        url = f"https://github.test/{full_name}/issues/{number}#issuecomment-{comment_id}"
        comment = Comment(comment_id, url, body)
        self.comments.setdefault(full_name, []).append(StoredComment(comment, number, BOT_LOGIN))
        return replace(comment, outcome="created")

    def add_comment(self, full_name: str, number: int, body: str, *, user: str) -> Comment:
        """A comment someone wrote (the bot's own go through `upsert_comment`)."""
        comment_id = next(self._ids)
        comment = Comment(comment_id, f"https://github.test/c/{comment_id}", body)
        self.comments.setdefault(full_name, []).append(StoredComment(comment, number, user))
        return comment

    async def find_comment(self, full_name: str, number: int, marker: str) -> Comment | None:
        self._call("find_comment", full_name)
        for stored in self.comments_on(full_name, number):
            if stored.author == BOT_LOGIN and stored.comment.body.startswith(
                comment_marker(marker)
            ):
                return stored.comment
        return None

    async def upsert_comment(
        self, full_name: str, number: int, *, marker: str, body: str
    ) -> Comment:
        self._call("upsert_comment", full_name)
        text = f"{comment_marker(marker)}\n{body}"
        for stored in self.comments_on(full_name, number):
            if stored.author == BOT_LOGIN and stored.comment.body.startswith(
                comment_marker(marker)
            ):
                if stored.comment.body == text:
                    return stored.comment
                stored.comment = replace(stored.comment, body=text)
                return replace(stored.comment, outcome="updated")
        return self._create_comment(full_name, number, text)

    async def add_reaction(self, full_name: str, comment_id: int, content: str) -> None:
        self._call("add_reaction", full_name)
        kept = self.reactions.setdefault(comment_id, [])
        if content not in kept:  # one reaction of each kind per user
            kept.append(content)

    # -- check runs -----------------------------------------------------------------------------
    async def latest_check_run(self, full_name: str, head_sha: str, name: str) -> CheckRun | None:
        self._call("latest_check_run", full_name)
        found = [r for r in self.runs(full_name, name) if r.run.head_sha == head_sha]
        return found[-1].run if found else None

    async def ensure_check_run(
        self,
        full_name: str,
        *,
        head_sha: str,
        name: str,
        status: CheckStatus,
        conclusion: str | None = None,
        output: CheckRunOutput | None = None,
        details_url: str | None = None,
        actions: Sequence[CheckAction] = (),
    ) -> CheckRun:
        self._call("ensure_check_run", full_name)
        found = [r for r in self.runs(full_name, name) if r.run.head_sha == head_sha]
        latest = found[-1] if found else None
        if latest is not None and latest.run.status == "completed":
            same = latest.run.conclusion == conclusion and (
                output is None or latest.output == output
            )
            if status == "completed" and same:
                return latest.run
            latest = None
        started = _now() if status == "in_progress" else None
        if latest is None:
            summary, title = (output.summary, output.title) if output else ("", "")
            run = CheckRun(
                next(self._ids), name, head_sha, status, conclusion, "created", summary,
                title, started or _now(),
            )  # fmt: skip
            self.check_runs.setdefault(full_name, []).append(StoredCheckRun(run, output))
            return run
        latest.output = output if output is not None else latest.output
        latest.run = replace(
            latest.run,
            status=status,
            conclusion=conclusion,
            outcome="updated",
            summary=latest.output.summary if latest.output is not None else "",
            title=latest.output.title if latest.output is not None else "",
            started_at=started or latest.run.started_at,
        )
        return latest.run

    # -- deploy keys ----------------------------------------------------------------------------
    async def ensure_deploy_key(
        self, full_name: str, *, title: str, public_key: str, read_only: bool = True
    ) -> DeployKey:
        self._call("ensure_deploy_key", full_name)
        found = await self.find_deploy_key(full_name, public_key)
        if found is not None:
            return found
        key = DeployKey(next(self._ids), title, read_only)
        self.deploy_keys.setdefault(full_name, []).append((key, _material(public_key)))
        return replace(key, outcome="created")

    async def find_deploy_key(self, full_name: str, public_key: str) -> DeployKey | None:
        self._call("find_deploy_key", full_name)
        wanted = _material(public_key)
        return next((k for k, m in self.deploy_keys.get(full_name, []) if m == wanted), None)

    async def delete_deploy_key(self, full_name: str, key_id: int) -> None:
        self._call("delete_deploy_key", full_name)
        keys = self.deploy_keys.get(full_name, [])
        self.deploy_keys[full_name] = [(k, m) for k, m in keys if k.id != key_id]


def _material(public_key: str) -> str:
    """A public key without its comment: GitHub matches keys by this."""
    return " ".join(public_key.split()[:2])


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
