"""Fixtures for the end-to-end flows: a landscape repository and the bot serving it, and a
cluster it applies to."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.deployment import Deployment, run_deployment
from tests.integration.landscape_bot import REPO, SERVICE_PROVIDER, serve_landscape
from tests.peers.github import FakeGitHub
from tests.peers.github.app_key import AppKey
from tests.peers.registry import Registry
from tests.reference_case import ROOT_COMPONENT, config_text, eso_resources, release_constructor


@pytest.fixture
async def landscape_bot(
    fake_github: FakeGitHub, app_key: AppKey, aiohttp_client: Any, tmp_path: Path, reference_release
):
    """main is rendered from a config without the service provider."""
    config = config_text(f"{reference_release}//{ROOT_COMPONENT}:v0.0.1")
    without_provider = config.replace(SERVICE_PROVIDER, "")
    assert without_provider != config
    async with serve_landscape(
        fake_github, app_key, aiohttp_client, tmp_path, config=config, on_main=without_provider
    ) as bot:
        yield bot


@pytest.fixture(scope="session")
def eso_release(oci_registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The reference release with the External Secrets Operator's chart and image on the root,
    as the Go tool's deploy-eso test has them: v0.0.1 with ESO v1.0.0, v0.0.2 with v2.0.0."""
    from bot.cli.main import main

    repository = f"{oci_registry.host}/eso-{secrets.token_hex(4)}"
    work = tmp_path_factory.mktemp("eso-release")
    for root, eso in (("v0.0.1", "v1.0.0"), ("v0.0.2", "v2.0.0")):
        constructor = release_constructor(
            work / f"{root}.yaml", root_version=root, root_resources=eso_resources(eso)
        )
        built = main(
            ["ocm", "build", str(constructor), "--to", repository, "--plain-http-loopback"]
        )
        assert built == 0
    return repository


@pytest.fixture
async def deployment(
    fake_github: FakeGitHub,
    app_key: AppKey,
    aiohttp_client: Any,
    tmp_path: Path,
    reference_release: str,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Deployment]:
    """main is rendered (without the service provider) and names cluster `dev`, which the
    operator bound to the repository's main with basic-auth git credentials; a test marked
    `bound_to` binds it elsewhere."""
    marker = request.node.get_closest_marker("bound_to")
    repositories, branches = marker.args if marker else ([REPO], ["main"])
    async with run_deployment(
        fake_github,
        app_key,
        aiohttp_client,
        tmp_path,
        reference_release,
        repositories=repositories,
        branches=branches,
    ) as deployment:
        yield deployment


EXTERNAL_SECRETS = """\
externalSecrets:
  repositorySecretRef:
    name: ghcr-pull
  imagePullSecrets:
    - name: pull-a
"""


@pytest.fixture
async def eso_deployment(
    fake_github: FakeGitHub,
    app_key: AppKey,
    aiohttp_client: Any,
    tmp_path: Path,
    eso_release: str,
) -> AsyncIterator[Deployment]:
    """As `deployment`, over the release with ESO, for a config with `externalSecrets`."""
    async with run_deployment(
        fake_github,
        app_key,
        aiohttp_client,
        tmp_path,
        eso_release,
        repositories=[REPO],
        branches=["main"],
        extra_config=EXTERNAL_SECRETS,
    ) as deployment:
        yield deployment
