"""The openMCP releases in the registries, as the upgrade poll sees them.

- One long-lived store per OCM repository: the auth probe and registry tokens are kept between
  polls, so an idle poll of a landscape is one tag-list request.
- Within one resync round a root component's tags are listed once, however many landscapes
  name it; commands and pushes always list afresh.
- A registry that fails is left alone for a growing while (per registry host) and every
  landscape on it is skipped meanwhile: no request, and no pull request changes because of it.
- When a version was first seen, so the time until its pull request can be measured.
- What a job listed (`watching`): a resync remembers it, and asks the same lists next round
  to tell whether a release moved.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

from bot.core.failures import Failure, Temporary
from bot.kit.jobs import in_thread
from bot.ocm import layout
from bot.ocm.location import Repository
from bot.ocm.store import NotFound, Store, StoreError, StoreUnavailable

log = logging.getLogger(__name__)
OpenStore = Callable[[Repository, Callable[[], None]], Store]


class RegistryUnavailable(Temporary):
    """The registry failed now or recently; the message says until when it is left alone."""


class UnknownComponent(Failure, LookupError):
    """The registry answers, but has no such component."""


class ReleaseMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.polls = Counter(
            "bootstrap_bot_release_polls",
            "Version lists of root components, by outcome (listed, failed, backing_off)",
            ["outcome"],
            registry=registry,
        )
        self.registry_requests = Counter(
            "bootstrap_bot_registry_requests",
            "HTTP requests to OCI registries (polls and renders), by registry",
            ["registry"],
            registry=registry,
        )
        self.release_to_pull_request = Histogram(
            "bootstrap_bot_release_to_pull_request_seconds",
            "From a release first seen in the registry to its upgrade pull request",
            buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, float("inf")),
            registry=registry,
        )

    def counter_for(self, repository: Repository) -> Callable[[], None]:
        return self.registry_requests.labels(repository.host or "ctf").inc


@dataclass(frozen=True)
class Listed:
    """A component's versions in a repository, as one listing saw them (empty: no such
    component; None: not listed, the registry failed or is backed off from)."""

    repository: Repository
    component: str
    versions: tuple[str, ...] | None


#: the listings the current job made, by (repository, component)
_WATCHING: ContextVar[dict[tuple[str, str], Listed] | None] = ContextVar("watching", default=None)


@contextmanager
def watching() -> Iterator[dict[tuple[str, str], Listed]]:
    """Collect every listing made inside the block (in this task and the ones it starts)."""
    listed: dict[tuple[str, str], Listed] = {}
    token = _WATCHING.set(listed)
    try:
        yield listed
    finally:
        _WATCHING.reset(token)


def _note(repository: Repository, component: str, versions: list[str] | None) -> None:
    listed = _WATCHING.get()
    if listed is not None:
        seen = None if versions is None else tuple(versions)
        listed[(str(repository), component)] = Listed(repository, component, seen)


@dataclass
class _Backoff:
    failures: int
    until: float


class ReleaseWatch:
    def __init__(
        self,
        open_store: OpenStore,
        metrics: ReleaseMetrics,
        *,
        clock: Callable[[], float] = time.monotonic,
        first_delay: float = 60.0,
        max_delay: float = 3600.0,
    ) -> None:
        self._open_store = open_store
        self.metrics = metrics
        self.clock = clock
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._stores: dict[str, tuple[Store, asyncio.Lock]] = {}
        self._backoff: dict[str, _Backoff] = {}
        self._round: dict[tuple[str, str], list[str]] = {}
        self._seen: dict[tuple[str, str, str], float] = {}

    def begin_round(self) -> None:
        """A new resync round: tag lists are asked for again."""
        self._round.clear()

    async def versions(
        self, repository: Repository, component: str, *, in_round: bool = False
    ) -> list[str]:
        """The component's versions, oldest first. `in_round`: reuse this round's list."""
        try:
            versions = await self._versions(repository, component, in_round)
        except RegistryUnavailable:
            _note(repository, component, None)
            raise
        except UnknownComponent:
            _note(repository, component, [])
            raise
        _note(repository, component, versions)
        return versions

    async def _versions(self, repository: Repository, component: str, in_round: bool) -> list[str]:
        key = (str(repository), component)
        if in_round and key in self._round:
            return self._round[key]
        host = repository.host or str(repository)
        backoff = self._backoff.get(host)
        now = self.clock()
        if backoff is not None and now < backoff.until:
            self.metrics.polls.labels("backing_off").inc()
            raise RegistryUnavailable(
                f"{host} failed {backoff.failures} time(s) in a row; next try in "
                f"{backoff.until - now:.0f} s"
            )
        store, lock = self._store(repository)
        try:
            async with lock:  # one client per store: not shared between threads
                tags = await in_thread(store.list_tags, repository.component_path(component))
        except NotFound:
            self._backoff.pop(host, None)
            self.metrics.polls.labels("listed").inc()
            raise UnknownComponent(f"component {component} not found in {repository}") from None
        except (StoreError, StoreUnavailable) as err:  # a refusal is backed off from too
            failures = backoff.failures + 1 if backoff is not None else 1
            delay = min(self._first_delay * 2 ** (failures - 1), self._max_delay)
            self._backoff[host] = _Backoff(failures, now + delay)
            self.metrics.polls.labels("failed").inc()
            log.warning(
                "listing %s in %s failed (%s); next try in %.0f s", component, host, err, delay
            )
            raise RegistryUnavailable(f"{host}: {err}") from None
        self._backoff.pop(host, None)
        self.metrics.polls.labels("listed").inc()
        versions = layout.versions_from_tags(tags)
        for version in versions:
            self._seen.setdefault((*key, version), now)
        self._round[key] = versions
        return versions

    def _store(self, repository: Repository) -> tuple[Store, asyncio.Lock]:
        key = str(repository)
        if key not in self._stores:
            store = self._open_store(repository, self.metrics.counter_for(repository))
            self._stores[key] = (store, asyncio.Lock())
        return self._stores[key]

    def proposed(self, repository: Repository, component: str, version: str) -> None:
        """A pull request now proposes `version`: how long since it was first seen."""
        seen = self._seen.pop((str(repository), component, version), None)
        if seen is not None:
            self.metrics.release_to_pull_request.observe(self.clock() - seen)
