"""Shared fixtures: real peers (registry, git server), started here and stopped here."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.peers.github import FakeGitHub, run_fake_github
from tests.peers.github.app_key import AppKey, new_app_key
from tests.peers.gitserver import GitServer, run_git_server
from tests.peers.registry import Registry, run_registry

pytest_plugins = ["tests.plugins.asyncio_guard", "pytester"]


@pytest.fixture(scope="session")
def oci_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A real OCI registry without authentication."""
    with run_registry(tmp_path_factory.mktemp("registry")) as registry:
        yield registry


@pytest.fixture(scope="session")
def oci_registry_basic_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A real OCI registry that requires HTTP Basic credentials (htpasswd, bcrypt)."""
    credentials = ("bot", secrets.token_urlsafe(12))
    with run_registry(tmp_path_factory.mktemp("registry-auth"), basic_auth=credentials) as reg:
        yield reg


@pytest.fixture(scope="session")
def oci_registry_token_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A real OCI registry behind the Docker token flow (a token server signing JWTs)."""
    credentials = ("bot", secrets.token_urlsafe(12))
    with run_registry(tmp_path_factory.mktemp("registry-token"), token_auth=credentials) as reg:
        yield reg


@pytest.fixture(scope="session")
def git_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    """A real git server (smart HTTP with a token, and git://) over fresh bare repositories."""
    with run_git_server(tmp_path_factory.mktemp("git"), token=secrets.token_hex(16)) as server:
        yield server


@pytest.fixture(scope="session")
def reference_release(oci_registry: Registry) -> str:
    """The reference openMCP release (the Go tool's test graph), built into the real registry
    with `bootstrap-bot ocm build`; the repository a config names it by."""
    from bot.cli.main import main
    from tests.reference_case import CASE

    repository = f"{oci_registry.host}/reference-{secrets.token_hex(4)}"
    constructor = str(CASE / "component-constructor.yaml")
    assert main(["ocm", "build", constructor, "--to", repository, "--plain-http-loopback"]) == 0
    return repository


@pytest.fixture(scope="session")
def app_key() -> AppKey:
    """A GitHub App id and RSA key pair, as GitHub hands them out at registration."""
    return new_app_key()


@pytest.fixture
async def fake_github(git_server: GitServer, app_key: AppKey) -> AsyncIterator[FakeGitHub]:
    """A fresh stateful fake GitHub whose repositories live on the real git server."""
    async with run_fake_github(
        git_server, app_id=app_key.app_id, public_key_pem=app_key.public_pem
    ) as fake:
        yield fake
