"""A stateful fake of GitHub's REST API on 127.0.0.1, for the bot's GitHub adapter and flows.

Every request is matched against GitHub's OpenAPI description (`contract.py`): an unknown path,
an undeclared query parameter or a body outside the schema is refused the way GitHub refuses it,
and every answer the fake gives is checked against the response schema too. Answers start from
GitHub's own examples, patched with the fake's state. Authentication is GitHub's: App JWTs (RS256,
`iss` = App id) for `/app/*` and the repository installation lookup, installation tokens for the
rest. Refs and contents come from the real bare repositories of the git server peer, so a pull
request can only be opened for a branch that was really pushed.

Tests inject faults (`fail_next`: an error answer, a reset connection, a stall, or an answer lost
after the work was done), or random ones (`chaos`), and inspect `requests` and `state`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import jwt
import pygit2
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.adapters.github.app import GitHubApp
from tests.peers.chaos import Chaos
from tests.peers.github.budget import Limited, RateLimits, primary_limit
from tests.peers.github.contract import ContractViolation, Operation, load_contract
from tests.peers.github.operations import (
    HANDLERS,
    Call,
    Operations,
    Page,
    Refusal,
    paginate,
)
from tests.peers.github.state import (
    Comment,
    Installation,
    PullRequest,
    Repository,
    State,
)
from tests.peers.gitserver import GitServer
from tests.peers.net import LOOPBACK

#: how a fault plays: `refuse` answers `status` without doing the request; `reset` drops the
#: connection unanswered; `stall` answers only after `STALL_SECONDS`; `lost` does the request,
#: then answers `status` (the client cannot know it was done); `lost-reset` does it, then drops
#: the connection
FaultMode = Literal["refuse", "reset", "stall", "lost", "lost-reset"]
STALL_SECONDS = 3.0
_SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    times: int
    mode: FaultMode = "refuse"


def chaos_fault(kind: str) -> Fault:
    """The fault a chaos draw of `kind` plays (GitHub's own headers and texts)."""
    body = {"message": "Server Error", "documentation_url": "https://docs.github.com/rest"}
    any_path = re.compile("")
    if kind == "429":
        limited = {**body, "message": "API rate limit exceeded"}
        return Fault("*", any_path, 429, {"Retry-After": "1"}, limited, 1)
    if kind == "secondary":
        limited = {**body, "message": _SECONDARY}
        return Fault("*", any_path, 403, {"Retry-After": "1"}, limited, 1)
    status = 503 if kind == "503" else 502
    modes: dict[str, FaultMode] = {m: m for m in ("reset", "stall", "lost", "lost-reset")}
    return Fault("*", any_path, status, {}, body, 1, modes.get(kind, "refuse"))


CHAOS_KINDS = ("502", "503", "429", "secondary", "reset", "stall", "lost", "lost-reset")


@dataclass
class Hold:
    """A request held before the fake answers it: `reached` is set when it arrives, and it is
    answered once `release` is set (the client may have gone by then)."""

    method: str
    path: re.Pattern[str]
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    #: the credential of the request held (which installation asked)
    authorization: str = ""


@dataclass
class Recorded:
    method: str
    path: str
    operation_id: str | None
    status: int
    auth: str  # "jwt", "token:<installation id>" or "none"
    body: Any = None
    #: when the request was answered (time.perf_counter, for benchmarks)
    at: float = field(default_factory=time.perf_counter)


@dataclass
class _Admitted:
    """The installation whose limits a request counts in, once admitted."""

    installation: int | None = None
    ended: bool = False


@dataclass
class FakeGitHub(Operations):
    git: GitServer
    app_id: int
    public_key_pem: str
    app_slug: str = "bootstrap-bot"
    clock: Callable[[], float] = time.time
    state: State = field(init=False)
    requests: list[Recorded] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    held: list[Hold] = field(default_factory=list)
    chaos: Chaos | None = None
    #: seconds each request takes before it is answered (GitHub's own latency, for benchmarks)
    latency: float = 0.0
    url: str = ""
    limits: RateLimits = field(init=False)
    _prefix: str = field(default_factory=lambda: secrets.token_hex(4))

    def __post_init__(self) -> None:
        self.state = State(self.app_id, self.app_slug)
        self.limits = RateLimits(self.clock)

    # -- set-up and inspection, called by tests directly -------------------------------------

    def add_installation(self, account: str) -> Installation:
        installation = Installation(self.state.next_id(), account)
        self.state.installations[installation.id] = installation
        return installation

    def add_repository(
        self, installation: Installation, name: str, *, default_branch: str = "main"
    ) -> Repository:
        """A repository `<account>/<name>` backed by a new bare repository on the git server."""
        # The git server outlives one fake; a fresh prefix keeps each fake's repositories apart.
        served_as = f"{self._prefix}/{installation.account}/{name}"
        bare = self.git.create_repository(served_as, default_branch=default_branch)
        repository = Repository(
            self.state.next_id(),
            installation.account,
            name,
            bare,
            self.git.http_url(served_as),
            default_branch,
        )
        self.state.repositories[repository.full_name.lower()] = repository
        installation.repositories.append(repository.full_name.lower())
        return repository

    def fail_next(
        self,
        method: str,
        path: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        message: str = "fault injected by the test",
        times: int = 1,
        mode: FaultMode = "refuse",
    ) -> None:
        """Let the next `times` requests matching `method` and the `path` regex fail: answered
        `status`, or as `mode` says."""
        body = {"message": message, "documentation_url": "https://docs.github.com/rest"}
        self.faults.append(
            Fault(method, re.compile(path), status, dict(headers or {}), body, times, mode)
        )

    def hold_next(self, method: str, path: str) -> Hold:
        """Hold the next request matching `method` and the `path` regex until released."""
        hold = Hold(method, re.compile(path))
        self.holds.append(hold)
        return hold

    def expire_tokens(self) -> None:
        """Let every installation token run out now (GitHub then answers 401 Bad credentials)."""
        for token in self.state.tokens.values():
            token.expires_at = 0.0
            self.git.revoke_token(token.value)

    def app_client(self, private_key: str, client: httpx.AsyncClient, **options: Any) -> GitHubApp:
        """The bot's GitHub App pointed at this fake."""
        return GitHubApp(
            app_id=self.app_id,
            private_key=private_key,
            client=client,
            base_url=self.url,
            **options,
        )

    def calls(self, operation_id: str) -> list[Recorded]:
        return [r for r in self.requests if r.operation_id == operation_id]

    def open_pull_request(
        self,
        repository: str,
        *,
        head: str,
        base: str,
        title: str,
        user: str,
        fork: str | None = None,
        head_sha: str | None = None,
    ) -> PullRequest:
        """A pull request a person opens (not through the API under test). For a PR from
        `fork`, `head_sha` is its head commit, which must already be in this repository's
        object store (GitHub copies it there too)."""
        full_name = repository.lower()
        pull = PullRequest(
            self.state.next_issue_number(full_name),
            full_name,
            head,
            base,
            title,
            None,
            user,
            "User",
            fork=fork,
        )
        git = self.state.repositories[full_name].git()
        sha = head_sha if fork else self.state.repositories[full_name].branch_sha(head)
        assert sha is not None, "the head commit must exist"
        git.references.create(pull.head_ref, pygit2.Oid(hex=sha), force=True)
        self.state.pulls[(full_name, pull.number)] = pull
        return pull

    def merge_pull_request(self, pull: PullRequest, *, user: str = "octocat") -> str:
        """A person merges the pull request ("Create a merge commit"); the base's new head."""
        repository = self.state.repositories[pull.repository]
        git = repository.git()
        base = git.references[f"refs/heads/{pull.base}"].peel(pygit2.Commit)
        head = git.references[f"refs/heads/{pull.head}"].peel(pygit2.Commit)
        index = git.merge_commits(base, head)
        assert not index.conflicts, "the test merges pull requests without conflicts"
        author = pygit2.Signature(user, f"{user}@users.noreply.github.com")
        merged = git.create_commit(
            f"refs/heads/{pull.base}",
            author,
            author,
            f"Merge pull request #{pull.number} from {repository.owner}/{pull.head}",
            index.write_tree(git),
            [base.id, head.id],
        )
        pull.state, pull.merged, pull.merge_commit = "closed", True, str(merged)
        pull.merged_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return str(merged)

    def pull_request_json(self, pull: PullRequest) -> dict[str, Any]:
        """The pull request as GitHub shows it (in webhook payloads too)."""
        operation, _ = load_contract().match("GET", f"/repos/{pull.repository}/pulls/1")
        data: dict[str, Any] = self._pull_json(pull, operation.example(200))
        return data

    def add_comment(self, repository: str, number: int, body: str, *, user: str) -> Comment:
        """A comment written by a person (not through the API under test)."""
        comment = Comment(
            self.state.next_id(), repository.lower(), number, body, user, "User", None
        )
        self.state.comments[comment.id] = comment
        return comment

    # -- the HTTP side ----------------------------------------------------------------------

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        admitted = _Admitted()
        try:
            return await self._answer(request, admitted)
        finally:  # a request cut short (a bug, a client gone) is no longer in flight either
            self._end(admitted, charged=True)

    async def _answer(self, request: web.Request, admitted: _Admitted) -> web.StreamResponse:
        body = await request.read()
        query = dict(request.query)
        operation: Operation | None = None
        auth = "none"
        hold = next(
            (h for h in self.holds if h.method == request.method and h.path.search(request.path)),
            None,
        )
        if hold is not None:
            self.holds.remove(hold)
            self.held.append(hold)
            hold.authorization = request.headers.get("Authorization", "")
            hold.reached.set()
            await hold.release.wait()
        headers: dict[str, str] = {}
        try:
            contract = load_contract()
            operation, params = contract.match(request.method, request.path)
            fault = self._take_fault(request.method, request.path)
            if fault is not None and fault.mode not in ("lost", "lost-reset"):
                self._record(request, operation, fault.status, auth)
                return await self._play(request, fault)
            installation, auth = self._authenticate(request, operation)
            if installation is not None:
                limit = primary_limit(
                    len(installation.repositories), enterprise_cloud=installation.enterprise_cloud
                )
                self.limits.admit(installation.id, limit, request.method, operation.operation_id)
                admitted.installation = installation.id
            if self.latency:  # GitHub at work: the request counts as one in flight meanwhile
                await asyncio.sleep(self.latency)
            _check_permission(operation, installation)
            data = contract.check_request(operation, query, body)
            call = Call(operation, params, query, data, installation)
            status, answer, headers = self._dispatch(call)
            if fault is not None:  # done, but the client never hears so
                self._record(request, operation, status, auth, _maybe_json(body))
                self._end(admitted, charged=True)
                return await self._play(request, fault)
        except ContractViolation as violation:
            status, answer = violation.status, _error_body(violation)
        except Refusal as refusal:
            status, answer = refusal.status, refusal.body
        except Limited as limited:
            status, answer, headers = limited.status, limited.body, limited.headers
        text = "" if answer is None else json.dumps(answer)
        if operation is not None and 200 <= status < 300:
            try:
                contract.check_response(operation, status, answer, text)
            except AssertionError as bug:
                # Kept for the fixture to fail the test: the fake broke GitHub's contract.
                self.violations.append(str(bug))
                status, answer, headers = 500, {"message": f"fake GitHub bug: {bug}"}, {}
                text = json.dumps(answer)
        self._record(request, operation, status, auth, _maybe_json(body))
        return self._respond(request, status, answer, headers, admitted, text)

    def _respond(
        self,
        request: web.Request,
        status: int,
        answer: Any,
        headers: dict[str, str],
        admitted: _Admitted,
        text: str,
    ) -> web.StreamResponse:
        headers = dict(headers)
        if request.method == "GET" and status == 200:
            # GitHub's ETags are the token's: after a token renewal nothing matches (`Vary:
            # Authorization`), so the first request of each URL is charged again.
            credential = request.headers.get("Authorization", "")
            digest = hashlib.sha256(f"{credential}\n{text}".encode()).hexdigest()[:40]
            etag = f'W/"{digest}"'
            headers["ETag"] = etag
            if request.headers.get("If-None-Match") == etag:
                # GitHub does not count a 304 against the rate limit.
                headers.update(self._end(admitted, charged=False))
                self.requests[-1].status = 304
                return web.Response(status=304, headers=headers)
        headers.update(self._end(admitted, charged=True))
        if answer is None:
            return web.Response(status=status, headers=headers)
        return web.Response(
            status=status, text=text, content_type="application/json", headers=headers
        )

    def _end(self, admitted: _Admitted, *, charged: bool) -> dict[str, str]:
        """The request is answered: counted in its installation's limits, once (a refused one
        was never admitted, and counts nowhere); their headers."""
        if admitted.installation is None or admitted.ended:
            return {}
        admitted.ended = True
        return self.limits.done(admitted.installation, charged=charged)

    def _record(
        self,
        request: web.Request,
        operation: Operation | None,
        status: int,
        auth: str,
        body: Any = None,
    ) -> None:
        operation_id = None if operation is None else operation.operation_id
        self.requests.append(
            Recorded(request.method, request.path, operation_id, status, auth, body)
        )

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and fault.path.search(path) and fault.times > 0:
                fault.times -= 1
                return fault
        kind = None if self.chaos is None else self.chaos.draw("github", CHAOS_KINDS)
        return None if kind is None else chaos_fault(kind)

    async def _play(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.mode in ("reset", "lost-reset"):
            assert request.transport is not None
            request.transport.abort()
            raise ConnectionResetError("fault injected: connection reset")
        if fault.mode == "stall":
            await asyncio.sleep(STALL_SECONDS)
        return web.json_response(fault.body, status=fault.status, headers=fault.headers)

    def _authenticate(
        self, request: web.Request, operation: Operation
    ) -> tuple[Installation | None, str]:
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        app_level = operation.template.startswith("/app") or operation.template.endswith(
            "/installation"
        )
        if app_level:
            if scheme.lower() != "bearer":
                raise Refusal(401, "A JSON web token could not be decoded")
            try:
                claims = jwt.decode(
                    credential,
                    self.public_key_pem,
                    algorithms=["RS256"],
                    options={"require": ["iat", "exp", "iss"]},
                    leeway=60,
                )
            except jwt.PyJWTError as exc:
                raise Refusal(401, f"A JSON web token could not be decoded: {exc}") from None
            if str(claims["iss"]) != str(self.app_id):
                raise Refusal(401, "Integration not found")
            if claims["exp"] - claims["iat"] > 600 + 60:
                raise Refusal(401, "Expiration time' claim ('exp') is too far in the future")
            return None, "jwt"
        if scheme.lower() not in ("token", "bearer"):
            raise Refusal(401, "Requires authentication")
        token = self.state.tokens.get(credential)
        if token is None or token.expires_at <= self.clock():
            raise Refusal(401, "Bad credentials")
        return self.state.installations[token.installation_id], f"token:{token.installation_id}"

    def _dispatch(self, call: Call) -> tuple[int, Any, dict[str, str]]:
        if "owner" in call.params:
            full_name = f"{call.params['owner']}/{call.params['repo']}".lower()
            repository = self.state.repository(full_name)
            visible = call.installation is None or full_name in call.installation.repositories
            if repository is None or not visible:
                raise Refusal(404, "Not Found")
            call.repository = repository
        handler = HANDLERS[call.operation.operation_id]
        result = handler(self, call)
        status, answer = result
        headers: dict[str, str] = {}
        if isinstance(answer, Page):
            answer, headers = paginate(call, answer, self.url)
        return status, answer, headers


def _error_body(violation: ContractViolation) -> dict[str, Any]:
    return {
        "message": violation.message,
        "documentation_url": "https://docs.github.com/rest",
        "status": str(violation.status),
    }


def _maybe_json(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else None
    except ValueError:
        return body


@asynccontextmanager
async def run_fake_github(
    git: GitServer, *, app_id: int, public_key_pem: str, clock: Callable[[], float] = time.time
) -> AsyncIterator[FakeGitHub]:
    """Serve a fresh fake GitHub on a free 127.0.0.1 port until the block ends."""
    fake = FakeGitHub(git, app_id, public_key_pem, clock=clock)
    server = TestServer(fake.application(), host=LOOPBACK)
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    try:
        yield fake
    finally:
        for hold in fake.held:
            hold.release.set()
        await server.close()
    assert not fake.violations, "the fake GitHub answered outside GitHub's contract:\n" + "\n".join(
        fake.violations
    )


#: the permission an operation needs, by its path (the families the App uses that need one
#: the manifest does not grant by default; the others are granted by every installation here)
_NEEDS = (("/repos/{owner}/{repo}/keys", "administration"),)
_LEVELS = {"read": 1, "write": 2}


def _check_permission(operation: Operation, installation: Installation | None) -> None:
    """GitHub's answer to an installation token without the operation's permission."""
    if installation is None:
        return
    needed = next((p for prefix, p in _NEEDS if operation.template.startswith(prefix)), None)
    if needed is None:
        return
    level = "read" if operation.method.upper() == "GET" else "write"
    if _LEVELS.get(installation.permissions.get(needed, ""), 0) < _LEVELS[level]:
        raise Refusal(403, "Resource not accessible by integration")
