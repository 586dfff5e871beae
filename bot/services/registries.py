"""The registries a landscape names, opened with the operator's credentials and egress policy:
what the release watch, the renders and the mirrors share."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.ocm.egress import EgressPolicy
from bot.ocm.location import LocationError, Repository
from bot.ocm.store import Store
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.ocm.reader import ComponentReader


def registry_options(settings: Settings, repository: Repository) -> dict[str, Any]:
    """How to reach the registry a landscape names, with the operator's credentials.

    A repository may name registries only: a CTF location is a path on the bot's own disk.
    """
    from bot.ocm.credentials import CredentialStore

    if repository.kind == "ctf":
        raise LocationError(
            "component.location names a CTF archive on disk; bootstrap-bot reads component "
            "versions from OCI registries only"
        )
    registry = settings.registry
    docker = registry.docker_config.read_text() if registry.docker_config else None
    ocm = registry.ocm_config.read_text() if registry.ocm_config else None
    return {
        "credentials": CredentialStore.from_texts(docker, ocm),
        "plain_http_loopback": registry.plain_http_loopback,
        "egress": EgressPolicy(
            tuple(registry.allowed), tuple(registry.private), loopback=registry.plain_http_loopback
        ),
    }


def open_landscape_reader(
    settings: Settings, repository: Repository, on_request: Callable[[], None] | None = None
) -> ComponentReader:
    """A reader for the OCM repository a landscape names, content cached on disk."""
    from bot.ocm import open_reader

    options = registry_options(settings, repository)
    return open_reader(
        repository, cache_dir=settings.cache_dir / "ocm", on_request=on_request, **options
    )


def open_landscape_store(
    settings: Settings, repository: Repository, on_request: Callable[[], None] | None = None
) -> Store:
    """The registry a landscape names, for listing versions (nothing is cached)."""
    from bot.ocm import open_store

    return open_store(repository, on_request=on_request, **registry_options(settings, repository))
