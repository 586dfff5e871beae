"""A stateful fake of GitHub's REST API on 127.0.0.1, for the bot's GitHub adapter and flows.

Every request is matched against GitHub's OpenAPI description (`contract.py`): an unknown path,
an undeclared query parameter or a body outside the schema is refused the way GitHub refuses it,
and every answer the fake gives is checked against the response schema too. Answers start from
GitHub's own examples, patched with the fake's state. Authentication is GitHub's: App JWTs (RS256,
`iss` = App id) for `/app/*` and the repository installation lookup, installation tokens for the
rest. Refs and contents come from the real bare repositories of the git server peer, so a pull
request can only be opened for a branch that was really pushed.

Tests inject faults (`fail_next`) to exercise retries, and inspect `requests` and `state`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pygit2
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.adapters.github.app import GitHubApp
from tests.peers.github.contract import ContractViolation, Operation, load_contract
from tests.peers.github.state import (
    ROLE_PERMISSION,
    CheckRun,
    Comment,
    DeployKey,
    Installation,
    PullRequest,
    Reaction,
    Repository,
    State,
)
from tests.peers.gitserver import GitServer
from tests.peers.net import LOOPBACK

RATE_LIMIT = 5000
TOKEN_LIFETIME = 3600.0
MERGED_AT = "2026-01-01T00:00:00Z"


class Refusal(Exception):
    """An error answer in GitHub's shape (`message`, `documentation_url`, optional `errors`)."""

    def __init__(self, status: int, message: str, errors: list[Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": str(status),
        }
        if errors is not None:
            self.body["errors"] = errors


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    times: int


@dataclass
class Hold:
    """A request held before the fake answers it: `reached` is set when it arrives, and it is
    answered once `release` is set (the client may have gone by then)."""

    method: str
    path: re.Pattern[str]
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


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
class Page:
    """A list answer; the dispatcher slices it with per_page/page and adds a Link header."""

    items: list[Any]
    wrap: Callable[[list[Any]], Any] = lambda items: items


@dataclass
class Call:
    operation: Operation
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    installation: Installation | None
    repository: Repository | None = None


@dataclass
class FakeGitHub:
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
    url: str = ""
    _budget: dict[str, tuple[int, int]] = field(default_factory=dict)
    _prefix: str = field(default_factory=lambda: secrets.token_hex(4))

    def __post_init__(self) -> None:
        self.state = State(self.app_id, self.app_slug)

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
    ) -> None:
        """Answer the next `times` requests matching `method` and the `path` regex with `status`."""
        body = {"message": message, "documentation_url": "https://docs.github.com/rest"}
        self.faults.append(
            Fault(method, re.compile(path), status, dict(headers or {}), body, times)
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

    def pull_requests(self, repository: str) -> list[PullRequest]:
        return [p for p in self.state.pulls.values() if p.repository == repository.lower()]

    def comments_on(self, repository: str, number: int) -> list[Comment]:
        return [
            c
            for c in self.state.comments.values()
            if c.repository == repository.lower() and c.issue_number == number
        ]

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
            hold.reached.set()
            await hold.release.wait()
        try:
            contract = load_contract()
            operation, params = contract.match(request.method, request.path)
            fault = self._take_fault(request.method, request.path)
            if fault is not None:
                self._record(request, operation, fault.status, auth)
                return web.json_response(fault.body, status=fault.status, headers=fault.headers)
            installation, auth = self._authenticate(request, operation)
            data = contract.check_request(operation, query, body)
            call = Call(operation, params, query, data, installation)
            status, answer, headers = self._dispatch(call)
        except ContractViolation as violation:
            status, answer, headers = violation.status, _error_body(violation), {}
        except Refusal as refusal:
            status, answer, headers = refusal.status, refusal.body, {}
        if operation is not None and 200 <= status < 300:
            try:
                contract.check_response(operation, status, answer)
            except AssertionError as bug:
                # Kept for the fixture to fail the test: the fake broke GitHub's contract.
                self.violations.append(str(bug))
                status, answer, headers = 500, {"message": f"fake GitHub bug: {bug}"}, {}
        self._record(request, operation, status, auth, _maybe_json(body))
        return self._respond(request, status, answer, headers, auth)

    def _respond(
        self,
        request: web.Request,
        status: int,
        answer: Any,
        headers: dict[str, str],
        auth: str,
    ) -> web.StreamResponse:
        headers = dict(headers)
        text = "" if answer is None else json.dumps(answer)
        if request.method == "GET" and status == 200:
            etag = 'W/"' + hashlib.sha256(text.encode()).hexdigest()[:40] + '"'
            headers["ETag"] = etag
            if request.headers.get("If-None-Match") == etag:
                # GitHub does not count a 304 against the rate limit.
                headers.update(self._rate_headers(auth, spend=False))
                self.requests[-1].status = 304
                return web.Response(status=304, headers=headers)
        headers.update(self._rate_headers(auth, spend=True))
        if answer is None:
            return web.Response(status=status, headers=headers)
        return web.Response(
            status=status, text=text, content_type="application/json", headers=headers
        )

    def _rate_headers(self, auth: str, *, spend: bool) -> dict[str, str]:
        if auth == "none":
            return {}
        remaining, reset = self._budget.get(auth, (RATE_LIMIT, int(self.clock()) + 3600))
        if spend:
            remaining = max(0, remaining - 1)
        self._budget[auth] = (remaining, reset)
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Used": str(RATE_LIMIT - remaining),
            "X-RateLimit-Reset": str(reset),
            "X-RateLimit-Resource": "core",
        }

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
        return None

    def _authenticate(
        self, request: web.Request, operation: Operation
    ) -> tuple[Installation | None, str]:
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        app_level = operation.template.startswith("/app/") or operation.template.endswith(
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
        handler = _HANDLERS[call.operation.operation_id]
        result = handler(self, call)
        status, answer = result
        headers: dict[str, str] = {}
        if isinstance(answer, Page):
            answer, headers = _paginate(call, answer, self.url)
        return status, answer, headers

    # -- operations -------------------------------------------------------------------------

    def _installation_json(self, installation: Installation, op: Operation) -> Any:
        example = op.example(200)
        data = example[0] if isinstance(example, list) else example
        data.update(id=installation.id, app_id=self.app_id, app_slug=self.app_slug)
        # The published description combines Simple User and Enterprise with allOf, so an
        # account there has to carry the fields of both.
        data["account"] = {
            **_user(installation.account, "Organization"),
            "name": installation.account,
            "slug": installation.account,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }
        data["repository_selection"] = "selected"
        return data

    def list_installations(self, call: Call) -> tuple[int, Any]:
        items = [
            self._installation_json(i, call.operation) for i in self.state.installations.values()
        ]
        return 200, Page(items)

    def create_token(self, call: Call) -> tuple[int, Any]:
        installation = self.state.installations.get(int(call.params["installation_id"]))
        if installation is None:
            raise Refusal(404, "Not Found")
        token = self.state.mint_token(installation.id, self.clock() + TOKEN_LIFETIME)
        self.git.accept_token(token.value)  # git over HTTPS takes it, as on GitHub
        data = call.operation.example(201)
        data.update(
            token=token.value,
            expires_at=_iso(token.expires_at),
            repository_selection="selected",
        )
        data.pop("repositories", None)
        return 201, data

    def repository_installation(self, call: Call) -> tuple[int, Any]:
        assert call.repository is not None
        installation = self.state.installation_of(call.repository.full_name)
        if installation is None:
            raise Refusal(404, "Not Found")
        return 200, self._installation_json(installation, call.operation)

    def _repository_json(self, repository: Repository, example: dict[str, Any]) -> Any:
        example.update(
            id=repository.id,
            name=repository.name,
            full_name=repository.full_name,
            private=repository.private,
            default_branch=repository.default_branch,
            clone_url=repository.clone_url,
            html_url=f"https://github.com/{repository.full_name}",
            url=f"{self.url}/repos/{repository.full_name}",
            language=None,
            fork=False,
        )
        for fork_only in ("source", "parent", "template_repository"):
            example.pop(fork_only, None)
        example["owner"] = _user(repository.owner, "Organization")
        return example

    def installation_repositories(self, call: Call) -> tuple[int, Any]:
        assert call.installation is not None
        template = call.operation.example(200)["repositories"][0]
        items = [
            self._repository_json(self.state.repositories[name], json.loads(json.dumps(template)))
            for name in call.installation.repositories
        ]
        return 200, Page(items, lambda page: {"total_count": len(items), "repositories": page})

    def get_repository(self, call: Call) -> tuple[int, Any]:
        assert call.repository is not None
        return 200, self._repository_json(call.repository, call.operation.example(200))

    def get_content(self, call: Call) -> tuple[int, Any]:
        repository = call.repository
        assert repository is not None
        commit = repository.resolve(call.query.get("ref"))
        if commit is None:
            raise Refusal(404, f"No commit found for the ref {call.query.get('ref')}")
        path = call.params["path"].strip("/")
        try:
            entry = commit.tree[path]
        except KeyError:
            raise Refusal(404, "Not Found") from None
        obj = repository.git()[entry.id]
        if isinstance(obj, pygit2.Tree):
            return 200, [
                self._content_entry(repository, f"{path}/{child.name}", child) for child in obj
            ]
        assert isinstance(obj, pygit2.Blob)
        data = self._content_entry(repository, path, entry)
        encoded = base64.b64encode(obj.data).decode()
        # GitHub wraps the base64 text at 60 characters.
        data.update(
            encoding="base64",
            content="\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60)) + "\n",
        )
        return 200, data

    def _content_entry(self, repository: Repository, path: str, entry: Any) -> dict[str, Any]:
        kind = "dir" if entry.type_str == "tree" else "file"
        url = f"{self.url}/repos/{repository.full_name}/contents/{path}"
        blob = repository.git()[entry.id]
        blob_size = blob.size if isinstance(blob, pygit2.Blob) else 0
        return {
            "type": kind,
            "size": blob_size,
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": str(entry.id),
            "url": url,
            "git_url": f"{self.url}/repos/{repository.full_name}/git/blobs/{entry.id}",
            "html_url": f"https://github.com/{repository.full_name}/blob/main/{path}",
            "download_url": None,
            "_links": {"self": url, "git": None, "html": None},
        }

    def get_ref(self, call: Call) -> tuple[int, Any]:
        assert call.repository is not None
        ref = "refs/" + call.params["ref"]
        found = call.repository.git().references.get(ref)
        if found is None:
            raise Refusal(404, "Not Found")
        url = f"{self.url}/repos/{call.repository.full_name}/git/{ref}"
        return 200, {
            "ref": ref,
            "node_id": "REF_" + ref,
            "url": url,
            "object": {"type": "commit", "sha": str(found.target), "url": url},
        }

    def delete_ref(self, call: Call) -> tuple[int, Any]:
        assert call.repository is not None
        ref = "refs/" + call.params["ref"]
        references = call.repository.git().references
        if ref not in references:
            raise Refusal(422, "Reference does not exist")
        references.delete(ref)
        return 204, None

    def _pull_json(self, pull: PullRequest, example: dict[str, Any]) -> Any:
        repository = self.state.repositories[pull.repository]
        example.update(
            number=pull.number,
            id=pull.number * 7919,
            title=pull.title,
            body=pull.body,
            state=pull.state,
            draft=pull.draft,
            html_url=f"https://github.com/{repository.full_name}/pull/{pull.number}",
            url=f"{self.url}/repos/{repository.full_name}/pulls/{pull.number}",
            requested_teams=[],
            labels=[],
            assignees=[],
            requested_reviewers=[],
            milestone=None,
            assignee=None,
            auto_merge=None,
        )
        if "merged" in example:
            example["merged"] = pull.merged
        example["merged_at"] = (pull.merged_at or MERGED_AT) if pull.merged else None
        example["merge_commit_sha"] = pull.merge_commit
        example["user"] = _user(pull.user, pull.user_type)
        for side, branch in (("head", pull.head), ("base", pull.base)):
            example[side].update(
                ref=branch,
                sha=repository.branch_sha(branch) or "0" * 40,
                label=f"{repository.owner}:{branch}",
                user=_user(repository.owner, "Organization"),
            )
            self._repository_json(repository, example[side]["repo"])
        if pull.fork is not None:
            head_sha = str(repository.git().references[pull.head_ref].target)
            owner, name = pull.fork.split("/")
            example["head"].update(sha=head_sha, label=f"{owner}:{pull.head}")
            example["head"]["repo"].update(full_name=pull.fork, name=name, fork=True)
            example["head"]["repo"]["owner"] = _user(owner, "User")
        return example

    def list_pulls(self, call: Call) -> tuple[int, Any]:
        assert call.repository is not None
        state = call.query.get("state", "open")
        head = call.query.get("head")
        base = call.query.get("base")
        template = call.operation.example(200)[0]
        items = []
        for pull in sorted(self.pull_requests(call.repository.full_name), key=lambda p: -p.number):
            if state != "all" and pull.state != state:
                continue
            if head is not None and head != f"{call.repository.owner}:{pull.head}":
                continue
            if base is not None and base != pull.base:
                continue
            items.append(self._pull_json(pull, json.loads(json.dumps(template))))
        return 200, Page(items)

    def create_pull(self, call: Call) -> tuple[int, Any]:
        repository = call.repository
        assert repository is not None
        data = call.body
        head = data["head"].split(":", 1)[-1]
        if repository.branch_sha(head) is None:
            raise Refusal(422, "Validation Failed", [_invalid("PullRequest", "head")])
        if repository.branch_sha(data["base"]) is None:
            raise Refusal(422, "Validation Failed", [_invalid("PullRequest", "base")])
        if self.state.open_pull(repository.full_name.lower(), head, data["base"]) is not None:
            message = f"A pull request already exists for {repository.owner}:{head}."
            raise Refusal(
                422,
                "Validation Failed",
                [{"resource": "PullRequest", "code": "custom", "message": message}],
            )
        if repository.branch_sha(head) == repository.branch_sha(data["base"]):
            message = f"No commits between {data['base']} and {head}"
            raise Refusal(
                422,
                "Validation Failed",
                [{"resource": "PullRequest", "code": "custom", "message": message}],
            )
        pull = PullRequest(
            self.state.next_issue_number(repository.full_name.lower()),
            repository.full_name.lower(),
            head,
            data["base"],
            data["title"],
            data.get("body"),
            self.state.bot_login,
            "Bot",
            draft=bool(data.get("draft", False)),
        )
        self.state.pulls[(pull.repository, pull.number)] = pull
        return 201, self._pull_json(pull, call.operation.example(201))

    def _pull(self, call: Call) -> PullRequest:
        assert call.repository is not None
        key = (call.repository.full_name.lower(), int(call.params["pull_number"]))
        pull = self.state.pulls.get(key)
        if pull is None:
            raise Refusal(404, "Not Found")
        return pull

    def get_pull(self, call: Call) -> tuple[int, Any]:
        return 200, self._pull_json(self._pull(call), call.operation.example(200))

    def update_pull(self, call: Call) -> tuple[int, Any]:
        pull = self._pull(call)
        for name in ("title", "body", "state", "base"):
            if name in call.body:
                setattr(pull, name, call.body[name])
        return 200, self._pull_json(pull, call.operation.example(200))

    def _comment_json(self, comment: Comment, example: dict[str, Any]) -> Any:
        repository = self.state.repositories[comment.repository]
        example.update(
            id=comment.id,
            body=comment.body,
            html_url=f"https://github.com/{repository.full_name}/pull/{comment.issue_number}"
            f"#issuecomment-{comment.id}",
            url=f"{self.url}/repos/{repository.full_name}/issues/comments/{comment.id}",
            issue_url=f"{self.url}/repos/{repository.full_name}/issues/{comment.issue_number}",
            performed_via_github_app=None
            if comment.app_id is None
            else _integration(comment.app_id, self.app_slug),
        )
        example["user"] = _user(comment.user, comment.user_type)
        return example

    def _issue_exists(self, call: Call) -> int:
        assert call.repository is not None
        number = int(call.params["issue_number"])
        if number > self.state.issue_numbers.get(call.repository.full_name.lower(), 0):
            raise Refusal(404, "Not Found")
        return number

    def list_comments(self, call: Call) -> tuple[int, Any]:
        assert call.repository is not None
        number = self._issue_exists(call)
        template = call.operation.example(200)[0]
        items = [
            self._comment_json(c, json.loads(json.dumps(template)))
            for c in sorted(self.comments_on(call.repository.full_name, number), key=lambda c: c.id)
        ]
        return 200, Page(items)

    def create_comment(self, call: Call) -> tuple[int, Any]:
        assert call.repository is not None
        number = self._issue_exists(call)
        comment = Comment(
            self.state.next_id(),
            call.repository.full_name.lower(),
            number,
            call.body["body"],
            self.state.bot_login,
            "Bot",
            self.app_id,
        )
        self.state.comments[comment.id] = comment
        return 201, self._comment_json(comment, call.operation.example(201))

    def _comment(self, call: Call) -> Comment:
        assert call.repository is not None
        comment = self.state.comments.get(int(call.params["comment_id"]))
        if comment is None or comment.repository != call.repository.full_name.lower():
            raise Refusal(404, "Not Found")
        return comment

    def update_comment(self, call: Call) -> tuple[int, Any]:
        comment = self._comment(call)
        if comment.user != self.state.bot_login:
            raise Refusal(403, "Resource not accessible by integration")
        comment.body = call.body["body"]
        return 200, self._comment_json(comment, call.operation.example(200))

    def create_reaction(self, call: Call) -> tuple[int, Any]:
        comment = self._comment(call)
        content = call.body["content"]
        existing = next(
            (
                r
                for r in self.state.reactions
                if r.comment_id == comment.id
                and r.content == content
                and r.user == self.state.bot_login
            ),
            None,
        )
        status = 200 if existing else 201
        if existing is None:
            existing = Reaction(self.state.next_id(), comment.id, content, self.state.bot_login)
            self.state.reactions.append(existing)
        data = call.operation.example(status)
        data.update(id=existing.id, content=content)
        data["user"] = _user(self.state.bot_login, "Bot")
        return status, data

    def _check_run_json(self, run: CheckRun, example: dict[str, Any]) -> Any:
        repository = self.state.repositories[run.repository]
        output = run.fields.get("output", {})
        example.update(
            id=run.id,
            name=run.name,
            head_sha=run.head_sha,
            status=run.fields.get("status", "queued"),
            conclusion=run.fields.get("conclusion"),
            details_url=run.fields.get("details_url"),
            external_id=run.fields.get("external_id"),
            url=f"{self.url}/repos/{repository.full_name}/check-runs/{run.id}",
            pull_requests=[],
        )
        if example["conclusion"] is not None:
            example["status"] = "completed"
        example["output"] = {
            "title": output.get("title"),
            "summary": output.get("summary"),
            "text": output.get("text"),
            "annotations_count": len(run.annotations),
            "annotations_url": example["url"] + "/annotations",
        }
        example["app"] = _integration(run.app_id, self.app_slug)
        return example

    def _check_output(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        annotations: list[dict[str, Any]] = list(data.get("output", {}).get("annotations", []))
        if len(annotations) > 50:
            raise Refusal(
                422, "Only 50 annotations can be sent per request", [_invalid("CheckRun", "output")]
            )
        return annotations

    def create_check_run(self, call: Call) -> tuple[int, Any]:
        repository = call.repository
        assert repository is not None
        data = call.body
        commit = repository.resolve(data["head_sha"])
        if commit is None or str(commit.id) != data["head_sha"]:
            raise Refusal(422, "No commit found for SHA: " + data["head_sha"])
        annotations = self._check_output(data)
        fields = {k: v for k, v in data.items() if k not in ("name", "head_sha")}
        run = CheckRun(
            self.state.next_id(),
            repository.full_name.lower(),
            data["head_sha"],
            data["name"],
            self.app_id,
            fields,
            annotations,
        )
        self.state.check_runs[run.id] = run
        return 201, self._check_run_json(run, call.operation.example(201))

    def update_check_run(self, call: Call) -> tuple[int, Any]:
        run = self.state.check_runs.get(int(call.params["check_run_id"]))
        if (
            run is None
            or call.repository is None
            or run.repository != call.repository.full_name.lower()
        ):
            raise Refusal(404, "Not Found")
        # GitHub appends annotations sent with an update; other fields are replaced.
        run.annotations.extend(self._check_output(call.body))
        run.fields.update({k: v for k, v in call.body.items() if k != "name"})
        run.name = call.body.get("name", run.name)
        return 200, self._check_run_json(run, call.operation.example(200))

    def list_check_runs(self, call: Call) -> tuple[int, Any]:
        repository = call.repository
        assert repository is not None
        commit = repository.resolve(call.params["ref"])
        if commit is None:
            raise Refusal(422, "No commit found for SHA: " + call.params["ref"])
        name = call.query.get("check_name")
        template = call.operation.example(200)["check_runs"][0]
        items = [
            self._check_run_json(run, json.loads(json.dumps(template)))
            for run in sorted(self.state.check_runs.values(), key=lambda r: -r.id)
            if run.repository == repository.full_name.lower()
            and run.head_sha == str(commit.id)
            and (name is None or run.name == name)
        ]
        return 200, Page(items, lambda page: {"total_count": len(items), "check_runs": page})

    def collaborator_permission(self, call: Call) -> tuple[int, Any]:
        repository = call.repository
        assert repository is not None
        login = call.params["username"]
        role = repository.roles.get(login.lower(), "none")
        data = call.operation.example(200)
        data.update(permission=ROLE_PERMISSION[role], role_name=role)
        data["user"] = {**_user(login, "User"), "role_name": role}
        return 200, data

    def _key_json(self, key: DeployKey, example: dict[str, Any]) -> Any:
        example.update(
            id=key.id,
            key=key.key,
            title=key.title,
            read_only=key.read_only,
            url=f"{self.url}/repos/{key.repository}/keys/{key.id}",
            verified=True,
        )
        return example

    def list_keys(self, call: Call) -> tuple[int, Any]:
        assert call.repository is not None
        template = call.operation.example(200)[0]
        items = [
            self._key_json(k, json.loads(json.dumps(template)))
            for k in self.state.deploy_keys.values()
            if k.repository == call.repository.full_name.lower()
        ]
        return 200, Page(items)

    def create_key(self, call: Call) -> tuple[int, Any]:
        assert call.repository is not None
        material = " ".join(call.body["key"].split()[:2])
        if any(" ".join(k.key.split()[:2]) == material for k in self.state.deploy_keys.values()):
            raise Refusal(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "PublicKey",
                        "code": "custom",
                        "field": "key",
                        "message": "key is already in use",
                    }
                ],
            )
        key = DeployKey(
            self.state.next_id(),
            call.repository.full_name.lower(),
            call.body.get("title", ""),
            call.body["key"],
            bool(call.body.get("read_only", False)),
        )
        self.state.deploy_keys[key.id] = key
        return 201, self._key_json(key, call.operation.example(201))

    def delete_key(self, call: Call) -> tuple[int, Any]:
        assert call.repository is not None
        key = self.state.deploy_keys.get(int(call.params["key_id"]))
        if key is None or key.repository != call.repository.full_name.lower():
            raise Refusal(404, "Not Found")
        del self.state.deploy_keys[key.id]
        return 204, None


_HANDLERS: dict[str, Callable[[FakeGitHub, Call], tuple[int, Any]]] = {
    "apps/list-installations": FakeGitHub.list_installations,
    "apps/create-installation-access-token": FakeGitHub.create_token,
    "apps/get-repo-installation": FakeGitHub.repository_installation,
    "apps/list-repos-accessible-to-installation": FakeGitHub.installation_repositories,
    "repos/get": FakeGitHub.get_repository,
    "repos/get-content": FakeGitHub.get_content,
    "git/get-ref": FakeGitHub.get_ref,
    "git/delete-ref": FakeGitHub.delete_ref,
    "pulls/list": FakeGitHub.list_pulls,
    "pulls/create": FakeGitHub.create_pull,
    "pulls/get": FakeGitHub.get_pull,
    "pulls/update": FakeGitHub.update_pull,
    "issues/list-comments": FakeGitHub.list_comments,
    "issues/create-comment": FakeGitHub.create_comment,
    "issues/update-comment": FakeGitHub.update_comment,
    "reactions/create-for-issue-comment": FakeGitHub.create_reaction,
    "checks/create": FakeGitHub.create_check_run,
    "checks/update": FakeGitHub.update_check_run,
    "checks/list-for-ref": FakeGitHub.list_check_runs,
    "repos/get-collaborator-permission-level": FakeGitHub.collaborator_permission,
    "repos/list-deploy-keys": FakeGitHub.list_keys,
    "repos/create-deploy-key": FakeGitHub.create_key,
    "repos/delete-deploy-key": FakeGitHub.delete_key,
}


def _paginate(call: Call, page: Page, base: str) -> tuple[Any, dict[str, str]]:
    per_page = min(int(call.query.get("per_page", 30)), 100)
    number = max(int(call.query.get("page", 1)), 1)
    items = page.items[(number - 1) * per_page : number * per_page]
    headers = {}
    if number * per_page < len(page.items):
        query = {**call.query, "per_page": str(per_page), "page": str(number + 1)}
        path = call.operation.template.format(**call.params)
        link = "&".join(f"{k}={v}" for k, v in query.items())
        headers["Link"] = f'<{base}{path}?{link}>; rel="next"'
    return page.wrap(items), headers


def _user(login: str, kind: str) -> dict[str, Any]:
    return {
        "login": login,
        "id": int(hashlib.sha256(login.encode()).hexdigest()[:8], 16),
        "node_id": "U_" + login,
        "avatar_url": "https://avatars.githubusercontent.com/u/1",
        "gravatar_id": "",
        "url": f"https://api.github.com/users/{login}",
        "html_url": f"https://github.com/{login}",
        "followers_url": "",
        "following_url": "",
        "gists_url": "",
        "starred_url": "",
        "subscriptions_url": "",
        "organizations_url": "",
        "repos_url": "",
        "events_url": "",
        "received_events_url": "",
        "type": kind,
        "site_admin": False,
    }


def _integration(app_id: int, slug: str) -> dict[str, Any]:
    return {
        "id": app_id,
        "slug": slug,
        "node_id": "A_" + slug,
        "client_id": "Iv1." + slug,
        "owner": _user("example-org", "Organization"),
        "name": slug,
        "description": None,
        "external_url": "https://example.invalid",
        "html_url": f"https://github.com/apps/{slug}",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "permissions": {},
        "events": [],
    }


def _invalid(resource: str, name: str) -> dict[str, str]:
    return {"resource": resource, "field": name, "code": "invalid"}


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


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


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
