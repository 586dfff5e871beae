"""The REST facade one installation's jobs use: reads, and writes that are *ensures* (pull
requests, sticky comments, check runs, deploy keys), so calling one twice changes nothing.
"""

from __future__ import annotations

import base64
import http
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, TypeVar

from gidgethub import BadRequest

from bot.adapters.github.models import (
    CheckAction,
    CheckRun,
    CheckRunOutput,
    Comment,
    DeployKey,
    Outcome,
    PullRequest,
    Repository,
    fit,
    fitted,
)
from bot.adapters.github.retry import (
    GitHubAPI,
    GitHubMetrics,
    GitHubUnavailable,
    unavailable_as_temporary,
)
from bot.core import replies
from bot.core.failures import Failure
from bot.core.names import comment_marker

#: GitHub accepts at most this many check run annotations per request.
ANNOTATIONS_PER_REQUEST = 50
#: file contents read at commits, kept for all installations together
CONTENTS_CACHE_BYTES = 32 * 1024 * 1024
_COMMIT = re.compile(r"[0-9a-f]{40}")


T = TypeVar("T")


class TokenSource(Protocol):
    """What a client needs of the App (`GitHubApp`): tokens, its id, and its metrics."""

    app_id: int
    metrics: GitHubMetrics
    clock: Callable[[], float]

    async def installation_token(self, installation_id: int) -> str: ...

    def forget_token(self, installation_id: int, value: str) -> None: ...


class InstallationClient:
    """REST calls as one installation; every write is an ensure."""

    def __init__(
        self,
        app: TokenSource,
        installation_id: int,
        api: GitHubAPI,
        contents: ContentCache,
    ) -> None:
        self._app = app
        self.installation_id = installation_id
        self._api = api
        self._contents = contents

    async def _as_installation(self, call: Callable[[str], Awaitable[T]]) -> T:
        """Run `call` with the installation token; once more with a new one if it was refused.
        GitHub failing on its side, or out of reach, is a `GitHubUnavailable`."""
        with unavailable_as_temporary():
            token = await self._app.installation_token(self.installation_id)
            try:
                return await call(token)
            except BadRequest as exc:
                if exc.status_code != http.HTTPStatus.UNAUTHORIZED:
                    raise
                self._app.forget_token(self.installation_id, token)
            return await call(await self._app.installation_token(self.installation_id))

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

    async def _create(
        self, send: Callable[[], Awaitable[T]], find: Callable[[], Awaitable[T | None]]
    ) -> T:
        """Create something with a POST, once. When GitHub fails or the connection breaks,
        the POST may have been done all the same (only its answer lost), so before sending it
        again the object is looked for (`find`): a retry never makes a second one."""
        attempt = 1
        while True:
            try:
                return await send()
            except GitHubUnavailable:
                if attempt >= self._api.attempts:
                    raise
            await self._api.pause(attempt)
            attempt += 1
            found = await find()
            if found is not None:
                return found

    # -- reading -------------------------------------------------------------------------------

    async def repository(self, full_name: str) -> Repository:
        return _repository(await self._get("/repos/{owner}/{repo}", _repo_vars(full_name)))

    async def repositories(self) -> list[Repository]:
        """The repositories this installation can see (100 a page: an installation on 2,000
        repositories is listed in 20 requests, each a free 304 while nothing changed)."""
        items = await self._list(
            "/installation/repositories{?per_page}", {"per_page": 100}, key="repositories"
        )
        return [_repository(item) for item in items]

    async def read_file(self, full_name: str, path: str, ref: str) -> bytes | None:
        """A file's bytes at `ref` (branch or commit), or None when it does not exist there.
        Read at a commit, the answer never changes: it is kept (`CONTENTS_CACHE_BYTES` for
        all installations), a missing file too, and read again without asking GitHub, whatever
        the token."""
        at_commit = _COMMIT.fullmatch(ref) is not None
        key = f"{self.installation_id}\0{full_name.lower()}\0{path}\0{ref}"
        if at_commit and key in self._contents:
            return self._contents[key]
        data = await self._get_or_none(
            "/repos/{owner}/{repo}/contents/{+path}{?ref}",
            {**_repo_vars(full_name), "path": path, "ref": ref},
        )
        found = None
        if isinstance(data, dict) and data.get("type") == "file":
            found = base64.b64decode(data["content"])
        if at_commit:
            self._contents[key] = found
        return found

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
        body = fit(body)
        await self._send(
            "patch",
            "/repos/{owner}/{repo}/pulls/{number}",
            {**_repo_vars(full_name), "number": number},
            {"body": body},
        )

    async def open_pull_requests(
        self, full_name: str, *, base: str | None = None
    ) -> list[PullRequest]:
        """The open pull requests into `base` (into any branch when None)."""
        url_vars = {**_repo_vars(full_name), "state": "open", "per_page": 100}
        if base is not None:
            url_vars["base"] = base
        found = await self._list("/repos/{owner}/{repo}/pulls{?base,state,per_page}", url_vars)
        return [PullRequest.from_json(item) for item in found]

    async def merged_pull_request(
        self, full_name: str, *, base: str, merge_commit: str
    ) -> PullRequest | None:
        """The pull request into `base` whose merge made `merge_commit`, among the last 30
        closed (a merge a resync applies is recent)."""
        found = await self._get(
            "/repos/{owner}/{repo}/pulls{?base,state,sort,direction,per_page}",
            {**_repo_vars(full_name), "base": base, "state": "closed", "sort": "updated",
             "direction": "desc", "per_page": 30},
        )  # fmt: skip
        for item in found if isinstance(found, list) else []:
            if item.get("merge_commit_sha") == merge_commit and item.get("merged_at"):
                return PullRequest.from_json(item)
        return None

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
        body = fit(body)
        existing = await self.find_pull_request(full_name, head=head, base=base)
        if existing is None:

            async def open_it() -> PullRequest:
                data = await self._send(
                    "post",
                    "/repos/{owner}/{repo}/pulls",
                    _repo_vars(full_name),
                    {"head": head, "base": base, "title": title, "body": body},
                )
                return PullRequest.from_json(data, "created")

            async def find_it() -> PullRequest | None:
                return await self.find_pull_request(full_name, head=head, base=base)

            try:
                existing = await self._create(open_it, find_it)
            except BadRequest as exc:
                if exc.status_code != http.HTTPStatus.UNPROCESSABLE_ENTITY:
                    raise
                # Another replica may have opened it between our lookup and our request.
                existing = await find_it()
                if existing is None:
                    raise
            if existing.outcome == "created":
                return existing
        if existing.title == title and existing.body == body:
            return existing
        data = await self._send(
            "patch",
            "/repos/{owner}/{repo}/pulls/{number}",
            {**_repo_vars(full_name), "number": existing.number},
            {"title": title, "body": body},
        )
        return PullRequest.from_json(data, "updated")

    async def find_comment(self, full_name: str, number: int, marker: str) -> Comment | None:
        """The bot's comment carrying `marker` on the issue or pull request, if there is one."""
        found = await self._find_comment(full_name, number, comment_marker(marker))
        return (
            None if found is None else Comment(int(found["id"]), found["html_url"], found["body"])
        )

    async def _find_comment(
        self, full_name: str, number: int, hidden: str
    ) -> dict[str, Any] | None:
        comments = await self._list(
            "/repos/{owner}/{repo}/issues/{number}/comments{?per_page}",
            {**_repo_vars(full_name), "number": number, "per_page": 100},
        )
        return next(
            (
                c
                for c in comments
                if (c.get("performed_via_github_app") or {}).get("id") == self._app.app_id
                and (c.get("body") or "").startswith(hidden)
            ),
            None,
        )

    async def upsert_comment(
        self, full_name: str, number: int, *, marker: str, body: str
    ) -> Comment:
        """The one bot comment carrying `marker` on the issue or PR, edited in place."""
        hidden = comment_marker(marker)
        text = fit(f"{hidden}\n{body}")

        async def find_it() -> dict[str, Any] | None:
            return await self._find_comment(full_name, number, hidden)

        async def write_it() -> dict[str, Any]:
            data: dict[str, Any] = await self._send(
                "post",
                "/repos/{owner}/{repo}/issues/{number}/comments",
                {**_repo_vars(full_name), "number": number},
                {"body": text},
            )
            return {**data, "created": True}

        mine = await find_it()
        if mine is None:
            mine = await self._create(write_it, find_it)
            if mine.get("created"):
                return Comment(int(mine["id"]), mine["html_url"], mine["body"], "created")
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
        actions: Sequence[CheckAction] = (),
    ) -> CheckRun:
        """The check run `name` on the commit in this state.

        A run still in progress is moved on; a finished run with the same result is left alone;
        a finished run with another result gets a new run, which GitHub then shows.
        """
        output = fitted(output)
        latest = seen = await self._latest_check_run(full_name, head_sha, name)
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
        if status == "in_progress":
            # GitHub keeps a run's first start; a run started again starts now
            fields["started_at"] = _iso(self._app.clock())
        if conclusion is not None:
            fields["conclusion"] = conclusion
        if details_url is not None:
            fields["details_url"] = details_url
        if actions:
            fields["actions"] = [a.to_json() for a in actions]
        if output is not None:
            fields["output"] = _output_json(output, batches[0] if batches else [])
        vars_ = _repo_vars(full_name)
        if latest is None:

            async def create_it() -> Any:
                body = {"name": name, "head_sha": head_sha, **fields}
                return await self._send("post", "/repos/{owner}/{repo}/check-runs", vars_, body)

            async def find_it() -> Any:
                # the run the lost POST made: newer than the one there was
                found = await self._latest_check_run(full_name, head_sha, name)
                unseen = found is not None and (seen is None or found["id"] != seen["id"])
                return found if unseen else None

            data = await self._create(create_it, find_it)
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

        async def add_it() -> DeployKey:
            data = await self._send(
                "post",
                "/repos/{owner}/{repo}/keys",
                _repo_vars(full_name),
                {"title": title, "key": public_key, "read_only": read_only},
            )
            return DeployKey(int(data["id"]), data["title"], bool(data["read_only"]), "created")

        with _administration_needed():
            return await self._create(add_it, lambda: self.find_deploy_key(full_name, public_key))

    async def find_deploy_key(self, full_name: str, public_key: str) -> DeployKey | None:
        """The repository's deploy key with this key material, if there is one."""
        material = " ".join(public_key.split()[:2])
        with _administration_needed():
            keys = await self._list("/repos/{owner}/{repo}/keys", _repo_vars(full_name))
        for key in keys:
            if " ".join(key["key"].split()[:2]) == material:
                return DeployKey(int(key["id"]), key["title"], bool(key["read_only"]))
        return None

    async def delete_deploy_key(self, full_name: str, key_id: int) -> None:
        with _administration_needed():
            await self._send(
                "delete",
                "/repos/{owner}/{repo}/keys/{key_id}",
                {**_repo_vars(full_name), "key_id": key_id},
            )


class MissingPermission(Failure):
    """The installation did not grant what a call needs (GitHub answered 403): the operator's
    to fix, on the App's settings and the installation."""


@contextmanager
def _administration_needed() -> Iterator[None]:
    """Deploy keys need `administration`, which the App asks for only with `--deploy-keys`;
    a rate limit's 403 is a `RateLimited` before it gets here."""
    try:
        yield
    except BadRequest as exc:
        if exc.status_code != http.HTTPStatus.FORBIDDEN:
            raise
        raise MissingPermission(replies.DEPLOY_KEYS_NEED_ADMINISTRATION) from None


class ContentCache:
    """Files read at commits (immutable), least recently used dropped past `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._entries: OrderedDict[str, bytes | None] = OrderedDict()

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __getitem__(self, key: str) -> bytes | None:
        self._entries.move_to_end(key)
        return self._entries[key]

    def __setitem__(self, key: str, value: bytes | None) -> None:
        cost = _cost(key, value)
        if cost > self.limit:
            return
        if key in self._entries:
            self.size -= _cost(key, self._entries.pop(key))
        self._entries[key] = value
        self.size += cost
        while self.size > self.limit:
            old_key, old_value = self._entries.popitem(last=False)
            self.size -= _cost(old_key, old_value)


def _cost(key: str, value: bytes | None) -> int:
    return len(key) + (0 if value is None else len(value)) + 64


def _repository(data: Mapping[str, Any]) -> Repository:
    return Repository(
        data["full_name"], data["default_branch"], data["clone_url"], bool(data["private"])
    )


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        (data.get("output") or {}).get("summary") or "",
        (data.get("output") or {}).get("title") or "",
        data.get("started_at"),
    )
