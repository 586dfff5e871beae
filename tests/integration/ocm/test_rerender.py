"""Re-rendering a landscape branch on the real git server from the real registry, as the App."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import pygit2
import pytest

from bot.adapters.gitrepo import Git, GitRepository
from bot.core.fileset import FileSet
from bot.ocm.location import Repository
from bot.ocm.reader import ComponentReader
from bot.services.registries import open_landscape_reader
from bot.services.rerender import rerender_branch
from bot.settings import RegistrySettings, Settings
from tests.peers.gitserver import GitServer, commit_directly
from tests.reference_case import ROOT_COMPONENT, config_text, expected_tree, landscape_tree

pytestmark = pytest.mark.peers


@pytest.fixture
def release(reference_release: str) -> str:
    return reference_release


@pytest.fixture
def open_reader(tmp_path) -> Callable[[Repository], ComponentReader]:
    settings = Settings(
        cache_dir=tmp_path / "cache", registry=RegistrySettings(plain_http_loopback=True)
    )
    return partial(open_landscape_reader, settings)


def as_installation(server: GitServer) -> Callable[[], Awaitable[str]]:
    async def token() -> str:
        return server.token

    return token


def landscape_branch(
    server: GitServer, tmp_path: Path, files: FileSet
) -> tuple[Path, GitRepository]:
    name = f"landscape-{secrets.token_hex(4)}"
    bare = server.create_repository(name)
    commit_directly(bare, "main", dict(files), message="bootstrap config")
    return bare, GitRepository.in_cache(tmp_path / "git", f"org/{name}", server.http_url(name))


def files_at(bare: Path, branch: str) -> dict[str, bytes]:
    repo = pygit2.Repository(str(bare))
    commit = repo.references[f"refs/heads/{branch}"].peel(pygit2.Commit)
    out: dict[str, bytes] = {}

    def walk(tree: pygit2.Tree, prefix: str) -> None:
        for entry in tree:
            obj = repo[entry.id]
            if isinstance(obj, pygit2.Tree):
                walk(obj, f"{prefix}{entry.name}/")
            else:
                out[f"{prefix}{entry.name}"] = obj.peel(pygit2.Blob).data

    walk(commit.tree, "")
    return out


async def test_a_branch_is_rerendered_and_committed_once(
    release, open_reader, git_server, tmp_path
):
    config = config_text(f"{release}//{ROOT_COMPONENT}:v0.0.1")
    bare, cache = landscape_branch(git_server, tmp_path, landscape_tree(config))
    token = as_installation(git_server)
    first = await rerender_branch(
        Git(cache, token), branch="main", open_reader=open_reader, may_commit=True
    )
    assert first.committed and first.head != first.rendered
    assert first.report.conclusion == "success"
    assert "Files: 23 added, 0 changed, 0 removed." in first.report.title
    on_branch = files_at(bare, "main")
    for path, data in expected_tree(release).items():
        assert on_branch[path] == data, path  # byte-identical to openmcp-bootstrapper
    log = pygit2.Repository(str(bare))[pygit2.Oid(hex=first.head)].peel(pygit2.Commit)
    assert log.message == "Re-render manifests" and log.author.name == "bootstrap-bot[bot]"

    again = await rerender_branch(
        Git(cache, token), branch="main", open_reader=open_reader, may_commit=True
    )
    assert (again.committed, again.head, again.report.title) == (False, first.head, "Up to date")


async def test_a_fork_is_never_pushed_to(release, open_reader, git_server, tmp_path):
    config = config_text(f"{release}//{ROOT_COMPONENT}:v0.0.1")
    bare, cache = landscape_branch(git_server, tmp_path, landscape_tree(config))
    before = files_at(bare, "main")
    token = as_installation(git_server)
    result = await rerender_branch(
        Git(cache, token), branch="main", open_reader=open_reader, may_commit=False
    )
    assert not result.committed and result.report.conclusion == "failure"
    assert "fork" in result.report.summary
    assert files_at(bare, "main") == before


async def test_a_config_error_is_located_and_nothing_is_committed(
    release, open_reader, git_server, tmp_path
):
    config = config_text(f"{release}//{ROOT_COMPONENT}:v0.0.1").replace(
        "environment:", "enviroment:"
    )
    bare, cache = landscape_branch(git_server, tmp_path, landscape_tree(config))
    before = files_at(bare, "main")
    token = as_installation(git_server)
    result = await rerender_branch(
        Git(cache, token), branch="main", open_reader=open_reader, may_commit=True
    )
    assert not result.committed and result.report.conclusion == "failure"
    assert result.report.title == "The bootstrap config is invalid"
    assert any(
        f.path == ".bootstrap/config.yaml" and f.line > 0 and f.level == "failure"
        for f in result.report.findings
    )
    assert files_at(bare, "main") == before


async def test_a_repository_cannot_make_the_bot_read_its_disk(open_reader, git_server, tmp_path):
    config = config_text(f"{tmp_path}/ctf//{ROOT_COMPONENT}:v0.0.1")
    _, cache = landscape_branch(git_server, tmp_path, landscape_tree(config))
    token = as_installation(git_server)
    result = await rerender_branch(
        Git(cache, token), branch="main", open_reader=open_reader, may_commit=True
    )
    assert result.report.title == "The openMCP release could not be read"
    assert "OCI registries only" in result.report.summary


def test_the_context_keeps_one_cache_repository_per_github_repository(tmp_path):
    from bot.services.context import BotContext

    context = BotContext(Settings(cache_dir=tmp_path), github=None)  # type: ignore[arg-type]
    first = context.git("Org/Landscape", "https://github.com/org/landscape.git")
    assert context.git("org/landscape", "https://github.com/org/landscape.git") is first
    moved = context.git("org/landscape", "https://github.com/org/renamed.git")
    assert moved is not first and moved.path == first.path
