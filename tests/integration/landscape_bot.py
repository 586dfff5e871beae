"""The bot as `serve` runs it, in the test's event loop: the real webhook server and handlers
against the fake GitHub, the real git server and the real registry, fed GitHub's own example
payloads re-addressed to the test repository (only the fields that name things change, so each
payload keeps the webhook's shape, and is checked against its schema before it is signed)."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pygit2
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry

from bot.adapters.gitrepo import Git, GitRepository
from bot.server.http import QUEUE, bot_application
from bot.services.context import BotContext
from bot.services.registries import open_landscape_reader
from bot.services.rerender import rerender_branch
from bot.settings import ClusterSettings, RegistrySettings, Settings
from tests.peers.github import FakeGitHub
from tests.peers.github.app_key import AppKey
from tests.peers.github.payloads import example, examples, signed
from tests.peers.github.state import CheckRun, Comment, Installation, PullRequest, Repository
from tests.peers.gitserver import commit_directly
from tests.reference_case import landscape_tree

SECRET = "webhook-secret-for-tests"
SERVICE_PROVIDER = "  serviceProviders:\n    - name: test\n"
REPO = "example-org/landscape"


def head_of(bare: Any, branch: str) -> pygit2.Commit:
    return pygit2.Repository(str(bare)).references[f"refs/heads/{branch}"].peel(pygit2.Commit)


@dataclass
class LandscapeBot:
    fake: FakeGitHub
    installation: Installation
    repository: Repository
    #: the bootstrap config with the service provider (main has it without)
    config: str
    context: BotContext
    app: web.Application
    client: TestClient[web.Request, web.Application]

    async def deliver(self, event: str, payload: dict[str, Any]) -> None:
        """Deliver a signed event and wait until the bot has finished with it."""
        await self.post(event, payload)
        await asyncio.wait_for(self.app[QUEUE].settle(), 120)

    async def post(self, event: str, payload: dict[str, Any]) -> str:
        """Deliver a signed event, not waiting for the bot; what the server answered."""
        body, headers = signed(event, payload, SECRET)
        response = await self.client.post("/webhook", data=body, headers=headers)
        assert response.status == 202
        return await response.text()

    def bot_comments(self, number: int) -> list[Comment]:
        """The comments this App wrote."""
        return [c for c in self.fake.comments_on(REPO, number) if c.app_id == self.fake.app_id]

    # -- payloads --------------------------------------------------------------------------------

    def _readdress(self, repo: dict[str, Any], full_name: str | None = None) -> None:
        owner, name = (full_name or self.repository.full_name).split("/")
        repo.update(
            full_name=f"{owner}/{name}",
            name=name,
            clone_url=self.repository.clone_url,
            default_branch=self.repository.default_branch,
        )
        repo["owner"]["login"] = owner

    def _addressed(self, payload: dict[str, Any]) -> dict[str, Any]:
        self._readdress(payload["repository"])
        payload["installation"] = {"id": self.installation.id, "node_id": "I_1"}
        return payload

    def pull_request_event(self, pull: PullRequest, action: str) -> dict[str, Any]:
        payload = example("pull_request", action)
        shown = self.fake.pull_request_json(pull)
        pr = payload["pull_request"]
        pr.update(number=pull.number, title=pull.title, body=pull.body, state=pull.state)
        pr.update(merged=pull.merged, merged_at=shown["merged_at"])
        pr.update(merge_commit_sha=pull.merge_commit)
        pr["user"]["login"] = pull.user
        for side in ("head", "base"):
            pr[side].update({k: shown[side][k] for k in ("ref", "sha", "label")})
            self._readdress(pr[side]["repo"], shown[side]["repo"]["full_name"])
        payload["number"] = pull.number
        return self._addressed(payload)

    def comment_event(self, comment: Comment, *, on_pull: bool) -> dict[str, Any]:
        payload = example("issue_comment", "created")
        payload["comment"].update(id=comment.id, body=comment.body)
        payload["comment"]["user"].update(login=comment.user, type=comment.user_type)
        payload["issue"]["number"] = comment.issue_number
        if on_pull:
            url = f"https://api.github.com/repos/{REPO}/pulls/{comment.issue_number}"
            payload["issue"]["pull_request"] = {
                "url": url,
                "html_url": f"https://github.com/{REPO}/pull/{comment.issue_number}",
                "diff_url": f"https://github.com/{REPO}/pull/{comment.issue_number}.diff",
                "patch_url": f"https://github.com/{REPO}/pull/{comment.issue_number}.patch",
                "merged_at": None,
            }
        return self._addressed(payload)

    def check_run_event(
        self, run: CheckRun, action: str, *, user: str = "alice", identifier: str | None = None
    ) -> dict[str, Any]:
        """`rerequested` (Re-run) or `requested_action` (a button) on one of the bot's runs."""
        payload = example("check_run", action)
        shown = payload["check_run"]
        shown.update(id=run.id, name=run.name, head_sha=run.head_sha)
        shown.update(status="completed", conclusion=run.fields.get("conclusion") or "neutral")
        shown["app"]["id"] = self.fake.app_id
        shown["check_suite"].update(head_sha=run.head_sha, pull_requests=[])
        shown["check_suite"]["app"]["id"] = self.fake.app_id
        shown["pull_requests"] = []
        payload["sender"]["login"] = user
        if identifier is not None:
            payload["requested_action"] = {"identifier": identifier}
        return self._addressed(payload)

    def check_suite_event(self, sha: str, *, user: str = "alice") -> dict[str, Any]:
        """`rerequested`: "Re-run all checks" on a commit."""
        payload = example("check_suite", "rerequested")
        suite = payload["check_suite"]
        suite.update(head_sha=sha, after=sha, pull_requests=[])
        suite["app"]["id"] = self.fake.app_id
        payload["sender"]["login"] = user
        return self._addressed(payload)

    def push_event(self, branch: str, before: str, after: str) -> dict[str, Any]:
        """A push of `before..after` to `branch`, with the commits' changed paths."""
        git = pygit2.Repository(str(self.repository.bare))
        walker = git.walk(pygit2.Oid(hex=after), pygit2.enums.SortMode.REVERSE)
        walker.hide(pygit2.Oid(hex=before))
        payload = example("push")
        template = next(p for p in examples()["push"] if p["commits"])["commits"][0]
        commits = []
        for commit in walker:
            parent = commit.parents[0].tree if commit.parents else None
            diff = commit.tree.diff_to_tree(parent, swap=True) if parent else None
            changed: dict[str, list[str]] = {"added": [], "modified": [], "removed": []}
            for delta in diff.deltas if diff is not None else []:
                kind = {"A": "added", "D": "removed"}.get(delta.status_char(), "modified")
                changed[kind].append(delta.new_file.path)
            stamp = datetime.datetime.fromtimestamp(commit.commit_time, datetime.UTC)
            commits.append(
                {
                    **template,
                    **changed,
                    "id": str(commit.id),
                    "tree_id": str(commit.tree_id),
                    "message": commit.message,
                    "timestamp": stamp.isoformat().replace("+00:00", "Z"),
                }
            )
        payload.update(
            ref=f"refs/heads/{branch}",
            before=before,
            after=after,
            created=False,
            deleted=False,
            forced=False,
            commits=commits,
            head_commit=commits[-1] if commits else None,
        )
        return self._addressed(payload)


def bot_settings(
    cache_dir: Path,
    clusters: dict[str, ClusterSettings] | None = None,
    registry: RegistrySettings | None = None,
) -> Settings:
    return Settings(
        cache_dir=cache_dir,
        registry=registry or RegistrySettings(plain_http_loopback=True),
        clusters=clusters or {},
    )


@asynccontextmanager
async def serve_landscape(
    fake_github: FakeGitHub,
    app_key: AppKey,
    aiohttp_client: Any,
    tmp_path: Path,
    *,
    config: str,
    on_main: str,
    clusters: dict[str, ClusterSettings] | None = None,
    registry: RegistrySettings | None = None,
) -> AsyncIterator[LandscapeBot]:
    """`example-org/landscape`: main holds the config `on_main`, rendered as the bot leaves it;
    the bot serves it through the real webhook server. `config` is what the tests propose;
    `registry` the operator's registry settings (default: plain HTTP to loopback only)."""
    installation = fake_github.add_installation("example-org")
    repository = fake_github.add_repository(installation, "landscape")
    commit_directly(repository.bare, "main", dict(landscape_tree(on_main)))
    cache = GitRepository.in_cache(tmp_path / "setup", REPO, repository.clone_url)

    async def token() -> str:
        return str(fake_github.git.token)

    rendered = await rerender_branch(
        Git(cache, token),
        branch="main",
        open_reader=partial(open_landscape_reader, bot_settings(tmp_path / "setup")),
        may_commit=True,
    )
    assert rendered.committed
    landscape = Served(fake_github, installation, repository, config)
    async with replica(
        landscape, app_key, aiohttp_client, tmp_path / "cache", clusters, registry
    ) as bot:
        yield bot


@dataclass(frozen=True)
class Served:
    """The landscape repository the bot serves, whichever replica."""

    fake: FakeGitHub
    installation: Installation
    repository: Repository
    config: str


@asynccontextmanager
async def replica(
    landscape: Served | LandscapeBot,
    app_key: AppKey,
    aiohttp_client: Any,
    cache_dir: Path,
    clusters: dict[str, ClusterSettings] | None = None,
    registry: RegistrySettings | None = None,
) -> AsyncIterator[LandscapeBot]:
    """One bot process serving the landscape: its own webhook server, cache and metrics, as
    each replica of a Deployment has."""
    fake = landscape.fake
    async with httpx.AsyncClient() as http:
        metrics = CollectorRegistry()  # one for the App and the server, as `serve` has
        github = fake.app_client(app_key.private_pem, http, registry=metrics)
        settings = bot_settings(cache_dir, clusters, registry)
        context = BotContext(settings, github, metrics=metrics)
        app = bot_application(context, SECRET)
        client = await aiohttp_client(app)
        yield LandscapeBot(
            fake,
            landscape.installation,
            landscape.repository,
            landscape.config,
            context,
            app,
            client,
        )
