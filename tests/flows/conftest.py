"""Flows on the in-memory GitHub: no server of any kind.

GitHub is `MemoryGitHub`; git is real, over bare repositories on disk that the bot's cache
fetches from and pushes to by path; the openMCP releases are CTF archives built from the Go
tool's reference constructor (what `bootstrap-bot ocm build` writes). The flows run exactly as
the webhook handlers call them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygit2
import pytest

from bot.core.discovery import Landscape
from bot.core.fileset import FileSet
from bot.flows.scope import LandscapeScope, repository_scope
from bot.ocm import open_reader, open_store
from bot.ocm.builder import build
from bot.ocm.ctf import CTFStore
from bot.ocm.location import Repository as OcmRepository
from bot.ocm.reader import ComponentReader
from bot.services.context import BotContext
from bot.services.releases import ReleaseWatch
from bot.settings import Settings
from tests.peers.github.memory import MemoryGitHub
from tests.peers.gitserver import commit_directly
from tests.reference_case import ROOT_COMPONENT, config_text, landscape_tree, release_constructor

REPO = "example-org/landscape"


@pytest.fixture(scope="session")
def releases_ctf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CTF archive holding the reference release as v0.0.1 and v0.0.2 of the root."""
    folder = tmp_path_factory.mktemp("releases")
    ctf = folder / "ctf"
    store = CTFStore(ctf, create=True)
    for version in ("v0.0.1", "v0.0.2"):
        constructor = release_constructor(folder / f"{version}.yaml", root_version=version)
        build(constructor, store)
    return ctf


class LocalApp:
    """What the context asks of the App: a token for git (a local path needs none)."""

    async def installation_token(self, installation_id: int) -> str:
        return "no-token-needed"


class LocalContext(BotContext):
    """The bot's context, reading releases from local CTF archives instead of registries
    (which `open_landscape_reader` refuses for repositories: a CTF path is the bot's disk)."""

    def open_reader(self, repository: OcmRepository) -> ComponentReader:
        return open_reader(repository, cache_dir=self.settings.cache_dir / "ocm")


@dataclass
class Landscapes:
    """One repository with one landscape (`main`), as the flows see it."""

    context: BotContext
    gh: MemoryGitHub
    bare: Path
    ctf: Path

    def push(self, branch: str, files: dict[str, bytes] | FileSet, message: str = "edit") -> str:
        """Someone's commit of `files` onto `branch` (a new branch starts at `main`)."""
        repo = pygit2.Repository(str(self.bare))
        main = repo.references.get("refs/heads/main")
        if f"refs/heads/{branch}" not in repo.references and main is not None:
            repo.references.create(f"refs/heads/{branch}", main.target)
        return commit_directly(self.bare, branch, dict(files), message=message)

    def config(self, version: str = "v0.0.1", **edits: str) -> str:
        text = config_text(f"{self.ctf}//{ROOT_COMPONENT}:{version}")
        for old, new in edits.items():
            text = text.replace(old, new)
        return text

    async def scope(self) -> LandscapeScope:
        repository = await repository_scope(self.context, self.gh, REPO)
        landscape = repository.discovery.on("main")
        assert isinstance(landscape, Landscape)
        return repository.on(landscape)

    def files(self, branch: str) -> dict[str, bytes]:
        repo = pygit2.Repository(str(self.bare))
        commit = repo.revparse_single(f"refs/heads/{branch}").peel(pygit2.Commit)
        found: dict[str, bytes] = {}

        def walk(tree: Any, prefix: str) -> None:
            for entry in tree:
                obj = repo[entry.id]
                if isinstance(obj, pygit2.Tree):
                    walk(obj, f"{prefix}{entry.name}/")
                elif isinstance(obj, pygit2.Blob):
                    found[f"{prefix}{entry.name}"] = bytes(obj.data)

        walk(commit.tree, "")
        return found


@pytest.fixture
def landscapes(tmp_path: Path, releases_ctf: Path) -> Iterator[Landscapes]:
    gh = MemoryGitHub()
    bare = tmp_path / "remote" / "landscape.git"
    bare.parent.mkdir()
    gh.add_repository(REPO, bare)
    settings = Settings(cache_dir=tmp_path / "cache")
    context = LocalContext(settings, LocalApp())  # type: ignore[arg-type]
    context.releases = ReleaseWatch(
        lambda repository, on_request: open_store(repository, on_request=on_request),
        context.release_metrics,
    )
    kept = Landscapes(context, gh, bare, releases_ctf)
    kept.push("main", landscape_tree(kept.config()), message="bootstrap config")
    yield kept
