"""Opening a repository: the store behind a location, and a reader over it (with a cache)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from bot.ocm.cache import CachingStore
from bot.ocm.credentials import CredentialStore
from bot.ocm.ctf import CTFStore
from bot.ocm.egress import EgressPolicy
from bot.ocm.location import Repository
from bot.ocm.reader import ComponentReader
from bot.ocm.registry import RegistryStore
from bot.ocm.store import Store, WritableStore


def open_store(
    repository: Repository,
    *,
    credentials: CredentialStore | None = None,
    plain_http_loopback: bool = False,
    create: bool = False,
    on_request: Callable[[], None] | None = None,
    egress: EgressPolicy | None = None,
) -> WritableStore:
    """The store behind a repository; plain HTTP only if the location said so (or, with the
    setting, for loopback registries). `on_request` counts a registry's HTTP requests."""
    if repository.kind == "ctf":
        return CTFStore(Path(repository.path), create=create)
    plain = repository.plain_http or (plain_http_loopback and repository.is_loopback)
    scheme = "http" if plain else "https"
    lookup = None
    if credentials is not None:
        lookup = partial(credentials.lookup, repository.host, scheme=scheme)
    return RegistryStore(
        repository.host,
        plain_http=plain,
        credentials=lookup,
        on_request=on_request,
        egress=egress,
    )


def open_reader(
    repository: Repository,
    *,
    credentials: CredentialStore | None = None,
    plain_http_loopback: bool = False,
    cache_dir: Path | None = None,
    on_request: Callable[[], None] | None = None,
    egress: EgressPolicy | None = None,
    observed: Callable[[Store], Store] | None = None,
) -> ComponentReader:
    """A reader for a repository; with `cache_dir`, content is kept on disk by digest.
    `observed` wraps the store that does the reading, below the cache (the CLI's progress)."""
    store: Store = open_store(
        repository,
        credentials=credentials,
        plain_http_loopback=plain_http_loopback,
        on_request=on_request,
        egress=egress,
    )
    if observed is not None:
        store = observed(store)
    if cache_dir is not None:
        store = CachingStore(store, cache_dir, namespace=str(repository))
    return ComponentReader(store, repository)
