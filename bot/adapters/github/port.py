"""`GitHubPort`: the GitHub the flows see, one installation's REST calls.

The flows depend on this Protocol only; `InstallationClient` is the real one (gidgethub over
httpx), and the flow unit tests run on an in-memory one (`tests/peers/github/memory.py`) that
keeps the same state the contract-checked HTTP fake keeps, without a server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from bot.adapters.github.models import (
    CheckAction,
    CheckRun,
    CheckRunOutput,
    Comment,
    DeployKey,
    PullRequest,
    Repository,
)

CheckStatus = Literal["queued", "in_progress", "completed"]


class GitHubPort(Protocol):
    installation_id: int

    # -- reading --------------------------------------------------------------------------------
    async def repository(self, full_name: str) -> Repository: ...
    async def repositories(self) -> list[Repository]: ...
    async def read_file(self, full_name: str, path: str, ref: str) -> bytes | None: ...
    async def read_ref(self, full_name: str, branch: str) -> str | None: ...
    async def delete_branch(self, full_name: str, branch: str) -> bool: ...
    async def permission(self, full_name: str, username: str) -> str: ...

    # -- pull requests and comments -------------------------------------------------------------
    async def find_pull_request(
        self, full_name: str, *, head: str, base: str | None = None, state: str = "open"
    ) -> PullRequest | None: ...
    async def pull_requests_from(
        self, full_name: str, *, head: str, base: str | None = None, state: str = "all"
    ) -> list[PullRequest]: ...
    async def edit_pull_request_body(self, full_name: str, number: int, body: str) -> None: ...
    async def open_pull_requests(
        self, full_name: str, *, base: str | None = None
    ) -> list[PullRequest]: ...
    async def merged_pull_request(
        self, full_name: str, *, base: str, merge_commit: str
    ) -> PullRequest | None: ...
    async def close_pull_request(self, full_name: str, number: int) -> PullRequest: ...
    async def pull_request(self, full_name: str, number: int) -> PullRequest: ...
    async def ensure_pull_request(
        self, full_name: str, *, head: str, base: str, title: str, body: str
    ) -> PullRequest: ...
    async def find_comment(self, full_name: str, number: int, marker: str) -> Comment | None: ...
    async def upsert_comment(
        self, full_name: str, number: int, *, marker: str, body: str
    ) -> Comment: ...
    async def add_reaction(self, full_name: str, comment_id: int, content: str) -> None: ...

    # -- check runs -----------------------------------------------------------------------------
    async def latest_check_run(
        self, full_name: str, head_sha: str, name: str
    ) -> CheckRun | None: ...
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
    ) -> CheckRun: ...

    # -- deploy keys ----------------------------------------------------------------------------
    async def ensure_deploy_key(
        self, full_name: str, *, title: str, public_key: str, read_only: bool = True
    ) -> DeployKey: ...
    async def find_deploy_key(self, full_name: str, public_key: str) -> DeployKey | None: ...
    async def delete_deploy_key(self, full_name: str, key_id: int) -> None: ...
