"""Shared fixtures: real peers (registry, git server), started here and stopped here."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

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
