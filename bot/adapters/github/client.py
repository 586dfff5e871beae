"""GitHub: App authentication and the small REST facade the flows use (gidgethub over httpx).

`GitHubApp` owns the one shared `httpx.AsyncClient`, signs App JWTs and keeps one installation
token per installation until shortly before it expires (concurrent deliveries share one mint).
`InstallationClient` is what a handler talks to: it reads files and refs, and *ensures* pull
requests, sticky comments, check runs and deploy keys, so calling it twice changes nothing.

Every request goes through the same retry policy (`retry_delay`, pure): rate limits wait as GitHub
says (`Retry-After`, `X-RateLimit-Reset`), server errors back off exponentially where repeating
the request is safe. GETs are conditional (gidgethub's ETag cache, one per installation), so an
unchanged answer is a 304 that GitHub does not charge against the rate limit.
"""

from __future__ import annotations

import asyncio
import base64
import http
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar

import httpx
from gidgethub import BadRequest, GitHubBroken, HTTPException, RateLimitExceeded
from gidgethub import httpx as gh_httpx
from prometheus_client import CollectorRegistry, Counter, Gauge

from bot.core.failures import Temporary
from bot.core.names import comment_marker

log = logging.getLogger(__name__)

REQUESTER = "bootstrap-bot"
#: A cached installation token is renewed this long before GitHub says it expires.
TOKEN_RENEW_MARGIN = 300.0
#: GitHub accepts at most this many check run annotations per request.
ANNOTATIONS_PER_REQUEST = 50
# Requests that are safe to repeat after a 5xx: the server may have done them already.
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})
_SAFE_POSTS = ("/access_tokens", "/reactions")

Outcome = Literal["created", "updated", "unchanged"]
T = TypeVar("T")


class GitHubUnavailable(Temporary):
    """GitHub failed on its side (5xx), is out of reach, or its rate limit is used up."""


class RateLimited(Temporary):
    """GitHub asked the bot to wait longer than it is willing to wait inside one job."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    backoff: float = 0.5  # first wait after a server error, doubled each time
    secondary_wait: float = 60.0  # GitHub's advice when a secondary limit gives no header
    max_wait: float = 900.0


def retry_delay(
    policy: RetryPolicy,
    *,
    method: str,
    url: str,
    status: int,
    headers: Mapping[str, str],
    message: str,
    attempt: int,
    now: float,
) -> float | None:
    """Seconds to wait before repeating a failed request, or None to give up on it."""
    if attempt >= policy.attempts:
        return None
    retry_after = headers.get("retry-after")
    remaining = headers.get("x-ratelimit-remaining")
    rate_limited = status == 429 or (
        status == 403
        and (retry_after is not None or remaining == "0" or "rate limit" in message.lower())
    )
    if rate_limited:
        if retry_after is not None and retry_after.strip().isdigit():
            return float(retry_after)
        reset = headers.get("x-ratelimit-reset")
        if remaining == "0" and reset is not None:
            return max(0.0, float(reset) - now) + 1.0
        return float(policy.secondary_wait * 2 ** (attempt - 1))
    repeatable = method in _IDEMPOTENT or url.split("?")[0].endswith(_SAFE_POSTS)
    if status >= 500 and repeatable:
        return float(policy.backoff * 2 ** (attempt - 1))
    return None


class GitHubMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "bootstrap_bot_github_requests",
            "GitHub REST requests by method and status",
            ["method", "status"],
            registry=registry,
        )
        self.remaining = Gauge(
            "bootstrap_bot_github_rate_limit_remaining",
            "Requests left in GitHub's rate limit window",
            ["installation"],
            registry=registry,
        )
        self.retries = Counter(
            "bootstrap_bot_github_retries",
            "GitHub requests repeated after a rate limit or server error",
            ["reason"],
            registry=registry,
        )
        self.checks_completed = Counter(
            "bootstrap_bot_check_runs_completed",
            "Check runs the bot completed with a new result (render, dry run, deploy outcomes)",
            ["check", "conclusion"],
            registry=registry,
        )


class _API(gh_httpx.GitHubAPI):
    """gidgethub's httpx backend with the bot's retry policy, clock and metrics."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        label: str,
        base_url: str,
        policy: RetryPolicy,
        metrics: GitHubMetrics,
        sleep: Callable[[float], Awaitable[None]],
        clock: Callable[[], float],
        app_id: int | None = None,
        private_key: str | None = None,
        cache: _LRU | None = None,
    ) -> None:
        super().__init__(
            client,
            REQUESTER,
            base_url=base_url,
            cache=cache,
            app_id=None if app_id is None else str(app_id),
            private_key=private_key,
        )
        self._label = label
        self._policy = policy
        self._metrics = metrics
        self._sleep = sleep
        self._clock = clock

    async def sleep(self, seconds: float) -> None:
        await self._sleep(seconds)

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        status, response_headers, content = await super()._request(method, url, headers, body)
        self._metrics.requests.labels(method, str(status)).inc()
        remaining = response_headers.get("x-ratelimit-remaining")
        if remaining is not None and remaining.isdigit():
            self._metrics.remaining.labels(self._label).set(int(remaining))
        return status, response_headers, content

    async def handle_rate_limit_error(
        self, *, method: str, url: str, exception: HTTPException, attempt: int
    ) -> bool:
        status = int(exception.status_code)
        delay = retry_delay(
            self._policy,
            method=method,
            url=url,
            status=status,
            headers=exception.headers,
            message=str(exception),
            attempt=attempt,
            now=self._clock(),
        )
        if delay is None:
            return False
        if delay > self._policy.max_wait:
            raise RateLimited(
                f"GitHub asks to wait {delay:.0f}s before {method} {url}; giving up for now"
            ) from exception
        reason = "server_error" if status >= 500 else "rate_limit"
        self._metrics.retries.labels(reason).inc()
        log.warning("%s %s answered %d; retrying in %.1fs", method, url, status, delay)
        await self.sleep(delay)
        return True


class _LRU(OrderedDict[str, Any]):
    """gidgethub's ETag cache, bounded: the least recently used answers are dropped."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self._size = size

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        self.move_to_end(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self._size:
            self.popitem(last=False)


@dataclass
class _Token:
    value: str
    expires_at: float


def _epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


class GitHubApp:
    """The App: JWTs, installation tokens (cached), and one client per installation."""

    def __init__(
        self,
        *,
        app_id: int,
        private_key: str,
        client: httpx.AsyncClient,
        base_url: str = "https://api.github.com",
        registry: CollectorRegistry | None = None,
        policy: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_id = app_id
        self._client = client
        self._base_url = base_url
        self._policy = policy
        self._sleep = sleep
        self.clock = clock
        self.metrics = GitHubMetrics(registry or CollectorRegistry())
        self._app_api = self._api("app", app_id=app_id, private_key=private_key)
        self._tokens: dict[int, _Token] = {}
        self._token_locks: dict[int, asyncio.Lock] = {}
        self._installations: dict[int, InstallationClient] = {}

    @classmethod
    @asynccontextmanager
    async def open(
        cls, *, app_id: int, private_key: str, base_url: str, registry: CollectorRegistry
    ) -> AsyncIterator[GitHubApp]:
        """The App with an HTTP client of its own, closed at the end."""
        async with httpx.AsyncClient(timeout=httpx.Timeout(30.0)) as client:
            yield cls(
                app_id=app_id,
                private_key=private_key,
                client=client,
                base_url=base_url,
                registry=registry,
            )

    def _api(self, label: str, **kwargs: Any) -> _API:
        return _API(
            self._client,
            label=label,
            base_url=self._base_url,
            policy=self._policy,
            metrics=self.metrics,
            sleep=self._sleep,
            clock=self.clock,
            **kwargs,
        )

    async def installation_token(self, installation_id: int) -> str:
        """A token for the installation, minted once and reused until shortly before expiry."""
        lock = self._token_locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            token = self._tokens.get(installation_id)
            if token is None or self.clock() >= token.expires_at - TOKEN_RENEW_MARGIN:
                answer = await self._app_api.post(
                    "/app/installations/{installation_id}/access_tokens",
                    {"installation_id": installation_id},
                    data=b"",
                )
                token = _Token(answer["token"], _epoch(answer["expires_at"]))
                self._tokens[installation_id] = token
            return token.value

    def forget_token(self, installation_id: int, value: str) -> None:
        """Drop a token GitHub refused (revoked, or the clocks disagree), unless already renewed."""
        token = self._tokens.get(installation_id)
        if token is not None and token.value == value:
            del self._tokens[installation_id]

    async def installation_id_for(self, repository: str) -> int:
        owner, repo = repository.split("/", 1)
        answer = await self._app_api.getitem(
            "/repos/{owner}/{repo}/installation", {"owner": owner, "repo": repo}
        )
        return int(answer["id"])

    async def installation_ids(self) -> list[int]:
        return [int(i["id"]) async for i in self._app_api.getiter("/app/installations")]

    def installation(self, installation_id: int) -> InstallationClient:
        client = self._installations.get(installation_id)
        if client is None:
            api = self._api(str(installation_id), cache=_LRU(512))
            client = InstallationClient(self, installation_id, api)
            self._installations[installation_id] = client
        return client


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


@dataclass(frozen=True)
class DeployKey:
    id: int
    title: str
    read_only: bool
    outcome: Outcome = "unchanged"


class InstallationClient:
    """REST calls as one installation; every write is an ensure."""

    def __init__(self, app: GitHubApp, installation_id: int, api: _API) -> None:
        self._app = app
        self.installation_id = installation_id
        self._api = api

    async def _as_installation(self, call: Callable[[str], Awaitable[T]]) -> T:
        """Run `call` with the installation token; once more with a new one if it was refused.
        GitHub failing on its side, or out of reach, is a `GitHubUnavailable`."""
        try:
            token = await self._app.installation_token(self.installation_id)
            try:
                return await call(token)
            except BadRequest as exc:
                if exc.status_code != http.HTTPStatus.UNAUTHORIZED:
                    raise
                self._app.forget_token(self.installation_id, token)
            return await call(await self._app.installation_token(self.installation_id))
        except RateLimitExceeded as exc:
            raise GitHubUnavailable(f"GitHub's rate limit is used up: {exc}") from None
        except GitHubBroken as exc:
            raise GitHubUnavailable(f"GitHub answered {exc.status_code}") from None
        except httpx.TransportError as exc:
            raise GitHubUnavailable(f"GitHub is out of reach: {type(exc).__name__}") from None

    async def _get(self, url: str, url_vars: Mapping[str, Any]) -> Any:
        return await self._as_installation(
            lambda token: self._api.getitem(url, url_vars, oauth_token=token)
        )

    async def _get_or_none(self, url: str, url_vars: Mapping[str, Any]) -> Any:
        try:
            return await self._get(url, url_vars)
        except BadRequest as exc:
            if exc.status_code == http.HTTPStatus.NOT_FOUND:
                return None
            raise

    async def _list(
        self, url: str, url_vars: Mapping[str, Any], *, key: str | None = None
    ) -> list[Any]:
        async def collect(token: str) -> list[Any]:
            items = self._api.getiter(url, url_vars, oauth_token=token, iterable_key=key)
            return [item async for item in items]

        return await self._as_installation(collect)

    async def _send(
        self,
        method: Literal["post", "patch", "put", "delete"],
        url: str,
        url_vars: Mapping[str, Any],
        data: Any = None,
    ) -> Any:
        async def send(token: str) -> Any:
            if method == "delete":
                return await self._api.delete(url, url_vars, oauth_token=token)
            send_method = getattr(self._api, method)
            return await send_method(url, url_vars, data=data, oauth_token=token)

        return await self._as_installation(send)

    # -- reading -------------------------------------------------------------------------------

    async def repository(self, full_name: str) -> Repository:
        data = await self._get("/repos/{owner}/{repo}", _repo_vars(full_name))
        return Repository(
            data["full_name"], data["default_branch"], data["clone_url"], bool(data["private"])
        )

    async def repositories(self) -> list[str]:
        """Full names of the repositories this installation can see."""
        items = await self._list("/installation/repositories", {}, key="repositories")
        return [item["full_name"] for item in items]

    async def read_file(self, full_name: str, path: str, ref: str) -> bytes | None:
        """A file's bytes at `ref` (branch or commit), or None when it does not exist there."""
        data = await self._get_or_none(
            "/repos/{owner}/{repo}/contents/{+path}{?ref}",
            {**_repo_vars(full_name), "path": path, "ref": ref},
        )
        if data is None or not isinstance(data, dict) or data.get("type") != "file":
            return None
        return base64.b64decode(data["content"])

    async def read_ref(self, full_name: str, branch: str) -> str | None:
        """The commit a branch points to, or None when there is no such branch."""
        data = await self._get_or_none(
            "/repos/{owner}/{repo}/git/ref/{+ref}",
            {**_repo_vars(full_name), "ref": f"heads/{branch}"},
        )
        return None if data is None else str(data["object"]["sha"])

    async def delete_branch(self, full_name: str, branch: str) -> bool:
        """Delete a branch; False when it was already gone."""
        try:
            await self._send(
                "delete",
                "/repos/{owner}/{repo}/git/refs/{+ref}",
                {**_repo_vars(full_name), "ref": f"heads/{branch}"},
            )
        except BadRequest as exc:
            if exc.status_code == http.HTTPStatus.UNPROCESSABLE_ENTITY:
                return False  # "Reference does not exist"
            raise
        return True

    async def permission(self, full_name: str, username: str) -> str:
        """The user's role on the repository: admin, maintain, write, triage, read or none."""
        data = await self._get(
            "/repos/{owner}/{repo}/collaborators/{username}/permission",
            {**_repo_vars(full_name), "username": username},
        )
        return str(data.get("role_name") or data["permission"])

    # -- pull requests and comments ----------------------------------------------------------------

    async def find_pull_request(
        self, full_name: str, *, head: str, base: str | None = None, state: str = "open"
    ) -> PullRequest | None:
        found = await self.pull_requests_from(full_name, head=head, base=base, state=state)
        return found[0] if found else None

    async def pull_requests_from(
        self, full_name: str, *, head: str, base: str | None = None, state: str = "all"
    ) -> list[PullRequest]:
        """The pull requests from branch `head` of this repository, newest first."""
        owner = full_name.split("/", 1)[0]
        query = {**_repo_vars(full_name), "head": f"{owner}:{head}", "state": state}
        url = "/repos/{owner}/{repo}/pulls{?head,state}"
        if base is not None:
            query["base"] = base
            url = "/repos/{owner}/{repo}/pulls{?head,base,state}"
        return [PullRequest.from_json(item) for item in await self._list(url, query)]

    async def edit_pull_request_body(self, full_name: str, number: int, body: str) -> None:
        """Set the body of a pull request, open or closed."""
        await self._send(
            "patch",
            "/repos/{owner}/{repo}/pulls/{number}",
            {**_repo_vars(full_name), "number": number},
            {"body": body},
        )

    async def open_pull_requests(self, full_name: str, *, base: str) -> list[PullRequest]:
        """The open pull requests into `base`."""
        found = await self._list(
            "/repos/{owner}/{repo}/pulls{?base,state,per_page}",
            {**_repo_vars(full_name), "base": base, "state": "open", "per_page": 100},
        )
        return [PullRequest.from_json(item) for item in found]

    async def close_pull_request(self, full_name: str, number: int) -> PullRequest:
        """Close a pull request unmerged (closing a closed one changes nothing)."""
        current = await self.pull_request(full_name, number)
        if current.state == "closed":
            return current
        data = await self._send(
            "patch",
            "/repos/{owner}/{repo}/pulls/{number}",
            {**_repo_vars(full_name), "number": number},
            {"state": "closed"},
        )
        return PullRequest.from_json(data, "updated")

    async def pull_request(self, full_name: str, number: int) -> PullRequest:
        data = await self._get(
            "/repos/{owner}/{repo}/pulls/{number}", {**_repo_vars(full_name), "number": number}
        )
        return PullRequest.from_json(data)

    async def ensure_pull_request(
        self, full_name: str, *, head: str, base: str, title: str, body: str
    ) -> PullRequest:
        """The one open PR from `head` into `base`, with this title and body; never a second."""
        existing = await self.find_pull_request(full_name, head=head, base=base)
        if existing is None:
            try:
                data = await self._send(
                    "post",
                    "/repos/{owner}/{repo}/pulls",
                    _repo_vars(full_name),
                    {"head": head, "base": base, "title": title, "body": body},
                )
            except BadRequest as exc:
                if exc.status_code != http.HTTPStatus.UNPROCESSABLE_ENTITY:
                    raise
                # Another replica may have opened it between our lookup and our request.
                existing = await self.find_pull_request(full_name, head=head, base=base)
                if existing is None:
                    raise
            else:
                return PullRequest.from_json(data, "created")
        if existing.title == title and existing.body == body:
            return existing
        data = await self._send(
            "patch",
            "/repos/{owner}/{repo}/pulls/{number}",
            {**_repo_vars(full_name), "number": existing.number},
            {"title": title, "body": body},
        )
        return PullRequest.from_json(data, "updated")

    async def create_comment(self, full_name: str, number: int, body: str) -> Comment:
        data = await self._send(
            "post",
            "/repos/{owner}/{repo}/issues/{number}/comments",
            {**_repo_vars(full_name), "number": number},
            {"body": body},
        )
        return Comment(int(data["id"]), data["html_url"], data["body"], "created")

    async def upsert_comment(
        self, full_name: str, number: int, *, marker: str, body: str
    ) -> Comment:
        """The one bot comment carrying `marker` on the issue or PR, edited in place."""
        hidden = comment_marker(marker)
        text = f"{hidden}\n{body}"
        comments = await self._list(
            "/repos/{owner}/{repo}/issues/{number}/comments{?per_page}",
            {**_repo_vars(full_name), "number": number, "per_page": 100},
        )
        mine = next(
            (
                c
                for c in comments
                if (c.get("performed_via_github_app") or {}).get("id") == self._app.app_id
                and (c.get("body") or "").startswith(hidden)
            ),
            None,
        )
        if mine is None:
            return await self.create_comment(full_name, number, text)
        if mine["body"] == text:
            return Comment(int(mine["id"]), mine["html_url"], text)
        data = await self._send(
            "patch",
            "/repos/{owner}/{repo}/issues/comments/{comment_id}",
            {**_repo_vars(full_name), "comment_id": mine["id"]},
            {"body": text},
        )
        return Comment(int(data["id"]), data["html_url"], data["body"], "updated")

    async def add_reaction(self, full_name: str, comment_id: int, content: str) -> None:
        """React to an issue or PR comment (GitHub keeps one reaction per kind per user)."""
        await self._send(
            "post",
            "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
            {**_repo_vars(full_name), "comment_id": comment_id},
            {"content": content},
        )

    # -- check runs ------------------------------------------------------------------------------

    async def latest_check_run(self, full_name: str, head_sha: str, name: str) -> CheckRun | None:
        """This App's most recent check run called `name` on the commit."""
        latest = await self._latest_check_run(full_name, head_sha, name)
        return None if latest is None else _check_run(latest)

    async def _latest_check_run(
        self, full_name: str, head_sha: str, name: str
    ) -> dict[str, Any] | None:
        runs = await self._list(
            "/repos/{owner}/{repo}/commits/{ref}/check-runs{?check_name,filter}",
            {**_repo_vars(full_name), "ref": head_sha, "check_name": name, "filter": "latest"},
            key="check_runs",
        )
        mine = [r for r in runs if (r.get("app") or {}).get("id") == self._app.app_id]
        return max(mine, key=lambda r: int(r["id"])) if mine else None

    async def ensure_check_run(
        self,
        full_name: str,
        *,
        head_sha: str,
        name: str,
        status: Literal["queued", "in_progress", "completed"],
        conclusion: str | None = None,
        output: CheckRunOutput | None = None,
        details_url: str | None = None,
    ) -> CheckRun:
        """The check run `name` on the commit in this state.

        A run still in progress is moved on; a finished run with the same result is left alone;
        a finished run with another result gets a new run, which GitHub then shows.
        """
        latest = await self._latest_check_run(full_name, head_sha, name)
        if latest is not None and latest["status"] == "completed":
            if status == "completed" and _shows(latest, conclusion, output):
                return _check_run(latest)
            latest = None
        annotations = [a.to_json() for a in output.annotations] if output else []
        batches = [
            annotations[i : i + ANNOTATIONS_PER_REQUEST]
            for i in range(0, len(annotations), ANNOTATIONS_PER_REQUEST)
        ]
        fields: dict[str, Any] = {"status": status}
        if conclusion is not None:
            fields["conclusion"] = conclusion
        if details_url is not None:
            fields["details_url"] = details_url
        if output is not None:
            fields["output"] = _output_json(output, batches[0] if batches else [])
        vars_ = _repo_vars(full_name)
        if latest is None:
            body = {"name": name, "head_sha": head_sha, **fields}
            data = await self._send("post", "/repos/{owner}/{repo}/check-runs", vars_, body)
            outcome: Outcome = "created"
        else:
            data = await self._update_check_run(full_name, int(latest["id"]), fields)
            outcome = "updated"
        for batch in batches[1:]:
            assert output is not None
            # GitHub appends the annotations of each update to the run's.
            update = {"output": _output_json(output, batch)}
            data = await self._update_check_run(full_name, int(data["id"]), update)
        if status == "completed":
            self._app.metrics.checks_completed.labels(name, conclusion or "").inc()
        return _check_run(data, outcome)

    async def _update_check_run(
        self, full_name: str, check_run_id: int, fields: dict[str, Any]
    ) -> Any:
        return await self._send(
            "patch",
            "/repos/{owner}/{repo}/check-runs/{check_run_id}",
            {**_repo_vars(full_name), "check_run_id": check_run_id},
            fields,
        )

    # -- deploy keys -----------------------------------------------------------------------------

    async def ensure_deploy_key(
        self, full_name: str, *, title: str, public_key: str, read_only: bool = True
    ) -> DeployKey:
        """The deploy key on the repository (matched by key material, not title)."""
        found = await self.find_deploy_key(full_name, public_key)
        if found is not None:
            return found
        data = await self._send(
            "post",
            "/repos/{owner}/{repo}/keys",
            _repo_vars(full_name),
            {"title": title, "key": public_key, "read_only": read_only},
        )
        return DeployKey(int(data["id"]), data["title"], bool(data["read_only"]), "created")

    async def find_deploy_key(self, full_name: str, public_key: str) -> DeployKey | None:
        """The repository's deploy key with this key material, if there is one."""
        material = " ".join(public_key.split()[:2])
        for key in await self._list("/repos/{owner}/{repo}/keys", _repo_vars(full_name)):
            if " ".join(key["key"].split()[:2]) == material:
                return DeployKey(int(key["id"]), key["title"], bool(key["read_only"]))
        return None

    async def delete_deploy_key(self, full_name: str, key_id: int) -> None:
        await self._send(
            "delete",
            "/repos/{owner}/{repo}/keys/{key_id}",
            {**_repo_vars(full_name), "key_id": key_id},
        )


def _repo_vars(full_name: str) -> dict[str, str]:
    owner, _, repo = full_name.partition("/")
    return {"owner": owner, "repo": repo}


def _output_json(output: CheckRunOutput, annotations: list[dict[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {"title": output.title, "summary": output.summary}
    if output.text is not None:
        data["text"] = output.text
    if annotations:
        data["annotations"] = annotations
    return data


def _shows(run: Mapping[str, Any], conclusion: str | None, output: CheckRunOutput | None) -> bool:
    """Whether a finished run already says this (annotations compared by count)."""
    if run.get("conclusion") != conclusion:
        return False
    if output is None:
        return True
    shown = run.get("output") or {}
    return (
        shown.get("title") == output.title
        and shown.get("summary") == output.summary
        and shown.get("text") == output.text
        and shown.get("annotations_count") == len(output.annotations)
    )


def _check_run(data: Mapping[str, Any], outcome: Outcome = "unchanged") -> CheckRun:
    return CheckRun(
        int(data["id"]),
        data["name"],
        data["head_sha"],
        data["status"],
        data.get("conclusion"),
        outcome,
    )
