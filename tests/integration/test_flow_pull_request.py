"""End to end: a pull request changing the bootstrap config, through the real webhook server,
against the fake GitHub, the real git server and the real registry."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import httpx
import pygit2
import pytest

from bot.app import QUEUE, create_app
from bot.context import BotContext, open_landscape_reader
from bot.core.reports import RENDER_CHECK
from bot.gitrepo import GitRepository
from bot.rerender import rerender_branch
from bot.settings import RegistrySettings, Settings
from handlers import router
from tests.peers.github import FakeGitHub
from tests.peers.github.payloads import example, signed
from tests.peers.github.state import PullRequest
from tests.peers.gitserver import commit_directly
from tests.reference_case import ROOT_COMPONENT, config_text, landscape_tree

pytestmark = pytest.mark.peers
SECRET = "webhook-secret-for-tests"
SERVICE_PROVIDER = "  serviceProviders:\n    - name: test\n"
REPO = "example-org/landscape"


def pull_request_event(
    fake: FakeGitHub, pull: PullRequest, action: str, installation_id: int
) -> dict[str, Any]:
    """GitHub's example payload for `action`, re-addressed to the fake's pull request (only
    the fields that name things change, so the payload keeps the webhook's own shape)."""
    payload = example("pull_request", action)
    repository = fake.state.repositories[pull.repository]
    shown = fake.pull_request_json(pull)

    def readdress(repo: dict[str, Any], full_name: str) -> None:
        owner, name = full_name.split("/")
        repo.update(
            full_name=full_name,
            name=name,
            clone_url=repository.clone_url,
            default_branch=repository.default_branch,
        )
        repo["owner"]["login"] = owner

    pr = payload["pull_request"]
    pr.update(number=pull.number, title=pull.title, body=pull.body, state=pull.state)
    pr["user"]["login"] = pull.user
    for side in ("head", "base"):
        pr[side].update({k: shown[side][k] for k in ("ref", "sha", "label")})
        readdress(pr[side]["repo"], shown[side]["repo"]["full_name"])
    readdress(payload["repository"], repository.full_name)
    payload["number"] = pull.number
    payload["installation"] = {"id": installation_id, "node_id": "I_1"}
    return payload


@pytest.fixture
async def bot(fake_github: FakeGitHub, app_key, aiohttp_client, tmp_path, reference_release):
    installation = fake_github.add_installation("example-org")
    repository = fake_github.add_repository(installation, "landscape")
    config = config_text(f"{reference_release}//{ROOT_COMPONENT}:v0.0.1")
    without_provider = config.replace(SERVICE_PROVIDER, "")
    assert without_provider != config
    commit_directly(repository.bare, "main", dict(landscape_tree(without_provider)))
    # The landscape branch starts rendered, as the bot leaves it.
    cache = GitRepository.in_cache(tmp_path / "setup", REPO, repository.clone_url)
    reader = partial(
        open_landscape_reader,
        Settings(cache_dir=tmp_path / "setup", registry=RegistrySettings(plain_http_loopback=True)),
    )

    async def token() -> str:
        return str(fake_github.git.token)

    rendered = await rerender_branch(
        cache, branch="main", open_reader=reader, token=token, may_commit=True
    )
    assert rendered.committed
    async with httpx.AsyncClient() as http:
        github = fake_github.app_client(app_key.private_pem, http)
        settings = Settings(
            cache_dir=tmp_path / "cache", registry=RegistrySettings(plain_http_loopback=True)
        )
        app = create_app(webhook_secret=SECRET, router=router, context=BotContext(settings, github))
        client = await aiohttp_client(app)

        async def deliver(event: str, payload: dict[str, Any]) -> None:
            body, headers = signed(event, payload, SECRET)
            response = await client.post("/webhook", data=body, headers=headers)
            assert response.status == 202
            await asyncio.wait_for(app[QUEUE].settle(), 120)

        yield fake_github, installation, repository, config, deliver


def head_of(bare, branch: str) -> pygit2.Commit:
    return pygit2.Repository(str(bare)).references[f"refs/heads/{branch}"].peel(pygit2.Commit)


async def test_enabling_a_service_provider_gets_one_rerender_commit(bot):
    fake, installation, repository, config, deliver = bot
    # A person enables the service provider in a PR.
    git = pygit2.Repository(str(repository.bare))
    git.references.create("refs/heads/enable-provider", head_of(repository.bare, "main").id)
    user_commit = commit_directly(
        repository.bare, "enable-provider", {".bootstrap/config.yaml": config.encode()}
    )
    pull = fake.open_pull_request(
        REPO,
        head="enable-provider",
        base="main",
        title="Enable the test service provider",
        user="alice",
    )
    opened = pull_request_event(fake, pull, "opened", installation.id)
    await deliver("pull_request", opened)

    head = head_of(repository.bare, "enable-provider")
    assert head.message == "Re-render manifests"
    assert [str(p) for p in head.parent_ids] == [user_commit]
    diff = git.diff(pygit2.Oid(hex=user_commit), head.id)
    changes = sorted((d.status_char(), d.new_file.path) for d in diff.deltas)
    assert changes == [
        ("A", "resources/openmcp/service-providers/test.yaml"),
        ("M", "resources/openmcp/kustomization.yaml"),
    ]
    kustomization = head.tree["resources/openmcp/kustomization.yaml"].peel(pygit2.Blob).data
    assert b"service-providers/test.yaml" in kustomization
    runs = [r for r in fake.state.check_runs.values() if r.head_sha == user_commit]
    assert [(r.name, r.fields.get("conclusion")) for r in runs] == [(RENDER_CHECK, "success")]
    comments = [c for c in fake.comments_on(REPO, pull.number) if c.user_type == "Bot"]
    assert len(comments) == 1 and "committed to this branch" in comments[0].body

    # The same event delivered again (a new delivery id) changes nothing.
    await deliver("pull_request", opened)
    assert head_of(repository.bare, "enable-provider").id == head.id
    assert len([c for c in fake.comments_on(REPO, pull.number) if c.user_type == "Bot"]) == 1
    assert len([r for r in fake.state.check_runs.values() if r.head_sha == user_commit]) == 1

    # The bot's own commit arrives as synchronize: up to date, green, nothing pushed.
    synchronize = pull_request_event(fake, pull, "synchronize", installation.id)
    await deliver("pull_request", synchronize)
    assert head_of(repository.bare, "enable-provider").id == head.id
    bot_runs = [r for r in fake.state.check_runs.values() if r.head_sha == str(head.id)]
    assert [(r.fields.get("conclusion"), r.fields["output"]["title"]) for r in bot_runs] == [
        ("success", "Up to date")
    ]


async def test_a_fork_pull_request_is_rendered_but_never_pushed_to(bot):
    fake, installation, repository, config, deliver = bot
    git = pygit2.Repository(str(repository.bare))
    # The fork's commit: GitHub has it in the base repository's objects, under refs/pull/N/head.
    git.references.create("refs/heads/fork-work", head_of(repository.bare, "main").id)
    fork_commit = commit_directly(
        repository.bare, "fork-work", {".bootstrap/config.yaml": config.encode()}
    )
    git.references.delete("refs/heads/fork-work")
    refs_before = {name: str(git.references[name].target) for name in git.references}
    pull = fake.open_pull_request(
        REPO,
        head="main",
        base="main",
        title="Enable it",
        user="mallory",
        fork="mallory/landscape",
        head_sha=fork_commit,
    )
    await deliver("pull_request", pull_request_event(fake, pull, "opened", installation.id))

    # Nothing was pushed anywhere: the only new ref is GitHub's own refs/pull/N/head.
    refs_after = {name: str(git.references[name].target) for name in git.references}
    assert refs_after == {**refs_before, pull.head_ref: fork_commit}
    runs = [r for r in fake.state.check_runs.values() if r.head_sha == fork_commit]
    assert [(r.name, r.fields["conclusion"]) for r in runs] == [(RENDER_CHECK, "failure")]
    assert "fork" in runs[0].fields["output"]["summary"]
    assert "service-providers/test.yaml" in runs[0].fields["output"]["summary"]
    (comment,) = [c for c in fake.comments_on(REPO, pull.number) if c.user_type == "Bot"]
    assert "fork" in comment.body
