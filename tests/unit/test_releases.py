"""The release watch: round memo, backoff per registry, first-seen times."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry

from bot.ocm.location import Repository, parse_repository
from bot.ocm.store import NotFound, Store, StoreError
from bot.services.releases import (
    RegistryUnavailable,
    ReleaseMetrics,
    ReleaseWatch,
    UnknownComponent,
)


class TagStore:
    """A registry's tag lists, answering or failing as the test says."""

    def __init__(self, tags: list[str], on_request: Callable[[], None]) -> None:
        self.tags = tags
        self.failing = False
        self.on_request = on_request

    def list_tags(self, repository: str) -> list[str]:
        self.on_request()
        if self.failing:
            raise StoreError("HTTP 503")
        if "missing" in repository:
            raise NotFound(repository)
        return list(self.tags)


@pytest.fixture
def watch() -> tuple[ReleaseWatch, dict[str, TagStore], list[float]]:
    stores: dict[str, TagStore] = {}
    now = [0.0]

    def open_store(repository: Repository, on_request: Callable[[], None]) -> Store:
        stores[str(repository)] = TagStore(["v0.0.1", "latest", "v0.0.2"], on_request)
        return stores[str(repository)]  # type: ignore[return-value]

    metrics = ReleaseMetrics(CollectorRegistry())
    return ReleaseWatch(open_store, metrics, clock=lambda: now[0]), stores, now


def requests(watch: ReleaseWatch, host: str) -> float:
    return float(watch.metrics.registry_requests.labels(host)._value.get())


async def test_one_list_per_round_and_fresh_lists_outside_rounds(watch):
    releases, _, _ = watch
    repo = parse_repository("registry.test/ocm")
    assert await releases.versions(repo, "acme.io/root", in_round=True) == ["v0.0.1", "v0.0.2"]
    await releases.versions(repo, "acme.io/root", in_round=True)
    assert requests(releases, "registry.test") == 1
    await releases.versions(repo, "acme.io/root")
    releases.begin_round()
    await releases.versions(repo, "acme.io/root", in_round=True)
    assert requests(releases, "registry.test") == 3
    with pytest.raises(UnknownComponent):
        await releases.versions(repo, "missing.io/root")


async def test_a_failing_registry_is_left_alone_longer_each_time(watch):
    releases, stores, now = watch
    repo = parse_repository("registry.test/ocm")
    other = parse_repository("other.test/ocm")
    await releases.versions(repo, "acme.io/root")
    stores[str(repo)].failing = True
    waits = []
    with pytest.raises(RegistryUnavailable):
        await releases.versions(repo, "acme.io/root")
    for _ in range(8):
        asked = requests(releases, "registry.test")
        start = now[0]
        while True:  # step until the registry is asked again (and fails again)
            now[0] += 1
            with pytest.raises(RegistryUnavailable):
                await releases.versions(repo, "acme.io/root")
            if requests(releases, "registry.test") > asked:
                break
        waits.append(now[0] - start)
    assert waits[:4] == [60, 120, 240, 480] and max(waits) == 3600
    # Another registry is not held back by it.
    assert await releases.versions(other, "acme.io/root") == ["v0.0.1", "v0.0.2"]
    # Recovered: listed again, and the next failure starts from the first delay.
    stores[str(repo)].failing = False
    now[0] += 3600
    assert await releases.versions(repo, "acme.io/root") == ["v0.0.1", "v0.0.2"]


async def test_release_to_pull_request_time_counts_from_first_sight(watch):
    releases, stores, now = watch
    repo = parse_repository("registry.test/ocm")
    await releases.versions(repo, "acme.io/root")
    stores[str(repo)].tags.append("v0.0.3")
    now[0] = 100
    await releases.versions(repo, "acme.io/root")
    now[0] = 112
    await releases.versions(repo, "acme.io/root")
    now[0] = 130
    releases.proposed(repo, "acme.io/root", "v0.0.3")
    releases.proposed(repo, "acme.io/root", "v0.0.3")  # measured once
    histogram = releases.metrics.release_to_pull_request
    assert histogram._sum.get() == 30
