"""The fake GitHub's operations: one method per REST operation the bot uses, each answering
from the fake's `State` in the shape GitHub's examples have (the server checks every answer
against the contract before it goes out)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pygit2

from tests.peers.github.contract import Operation
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
class Page:
    """A list answer; the dispatcher slices it with per_page/page and adds a Link header."""

    items: list[Any]
    wrap: Callable[[list[Any]], Any] = lambda items: items
    #: turns one item into its JSON, for the page asked for only (a list of thousands of
    #: repositories is not rendered in full for each page)
    render: Callable[[Any], Any] = lambda item: item


@dataclass
class Call:
    operation: Operation
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    installation: Installation | None
    repository: Repository | None = None


class Operations:
    """The operations, over what the server holds (`FakeGitHub` is one)."""

    git: GitServer
    app_id: int
    app_slug: str
    clock: Callable[[], float]
    state: State
    url: str

    def pull_requests(self, repository: str) -> list[PullRequest]:
        return [p for p in self.state.pulls.values() if p.repository == repository.lower()]

    def comments_on(self, repository: str, number: int) -> list[Comment]:
        return [
            c
            for c in self.state.comments.values()
            if c.repository == repository.lower() and c.issue_number == number
        ]

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

    def get_app(self, call: Call) -> tuple[int, Any]:
        data = call.operation.example(200)
        data.update(_integration(self.app_id, self.app_slug))
        return 200, data

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
        names = list(call.installation.repositories)
        return 200, Page(
            names,
            lambda page: {"total_count": len(names), "repositories": page},
            lambda name: self._repository_json(
                self.state.repositories[name], json.loads(json.dumps(template))
            ),
        )

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
        _body_within_limit(data, "PullRequest")
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
        _body_within_limit(call.body, "PullRequest")
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
        _body_within_limit(call.body, "IssueComment")
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
        _body_within_limit(call.body, "IssueComment")
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
            started_at=run.fields["started_at"],
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
        output = data.get("output") or {}
        for name in ("summary", "text"):
            if len(output.get(name) or "") > MAX_CHECK_RUN_TEXT:
                message = f"Invalid request.\n\nOnly {MAX_CHECK_RUN_TEXT} characters are allowed; "
                raise Refusal(422, message + f"{len(output[name])} were supplied.")
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
        fields.setdefault("started_at", _iso(self.clock()))
        run = CheckRun(
            self.state.next_id(),
            repository.full_name.lower(),
            data["head_sha"],
            data["name"],
            self.app_id,
            fields,
            annotations,
        )
        self.state.add_check_run(run)
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
        runs = [
            run
            for run in self.state.check_runs_at(repository.full_name.lower(), str(commit.id))
            if name is None or run.name == name
        ]
        return 200, Page(
            runs,
            lambda page: {"total_count": len(runs), "check_runs": page},
            lambda run: self._check_run_json(run, json.loads(json.dumps(template))),
        )

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


HANDLERS: dict[str, Callable[[Operations, Call], tuple[int, Any]]] = {
    "apps/get-authenticated": Operations.get_app,
    "apps/list-installations": Operations.list_installations,
    "apps/create-installation-access-token": Operations.create_token,
    "apps/get-repo-installation": Operations.repository_installation,
    "apps/list-repos-accessible-to-installation": Operations.installation_repositories,
    "repos/get": Operations.get_repository,
    "repos/get-content": Operations.get_content,
    "git/get-ref": Operations.get_ref,
    "git/delete-ref": Operations.delete_ref,
    "pulls/list": Operations.list_pulls,
    "pulls/create": Operations.create_pull,
    "pulls/get": Operations.get_pull,
    "pulls/update": Operations.update_pull,
    "issues/list-comments": Operations.list_comments,
    "issues/create-comment": Operations.create_comment,
    "issues/update-comment": Operations.update_comment,
    "reactions/create-for-issue-comment": Operations.create_reaction,
    "checks/create": Operations.create_check_run,
    "checks/update": Operations.update_check_run,
    "checks/list-for-ref": Operations.list_check_runs,
    "repos/get-collaborator-permission-level": Operations.collaborator_permission,
    "repos/list-deploy-keys": Operations.list_keys,
    "repos/create-deploy-key": Operations.create_key,
    "repos/delete-deploy-key": Operations.delete_key,
}


#: GitHub's limits on what a body (issue, pull request, comment) and a check run's summary and
#: text may hold; past them GitHub answers 422
MAX_BODY = 65_536
MAX_CHECK_RUN_TEXT = 65_535


def _body_within_limit(data: dict[str, Any], resource: str) -> None:
    body = data.get("body") or ""
    if len(body) > MAX_BODY:
        error = {
            "resource": resource,
            "code": "custom",
            "field": "body",
            "message": f"body is too long (maximum is {MAX_BODY} characters)",
        }
        raise Refusal(422, "Validation Failed", [error])


def paginate(call: Call, page: Page, base: str) -> tuple[Any, dict[str, str]]:
    per_page = min(int(call.query.get("per_page", 30)), 100)
    number = max(int(call.query.get("page", 1)), 1)
    items = [page.render(item) for item in page.items[(number - 1) * per_page : number * per_page]]
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


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
