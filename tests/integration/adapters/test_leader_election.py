"""Several replicas: only the holder of the Lease resyncs (the fake API server holds it), and
another takes over when the holder dies or leaves. Lease time runs on a clock the test moves,
so nothing here waits for real seconds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.cluster import Cluster, wait_for
from bot.adapters.leases.leader import LeaseLeadership, SoleProcess, leadership
from bot.server.resync import Resync
from bot.services.context import BotContext
from bot.settings import LeaderElection
from tests.integration.landscape_bot import LandscapeBot, bot_settings
from tests.peers.kubernetes import FakeKubernetes, run_fake_kubernetes

pytestmark = pytest.mark.peers
LEASE = ("coordination.k8s.io", "leases", "bootstrap-bot", "bootstrap-bot")


@pytest.fixture
async def kube() -> AsyncIterator[FakeKubernetes]:
    async with run_fake_kubernetes() as fake:
        fake.store.create(
            fake.store.resource("", "v1", "namespaces"),
            "",
            {"metadata": {"name": "bootstrap-bot"}},
            "kubectl",
        )
        yield fake


@pytest.fixture
async def api(kube: FakeKubernetes, tmp_path: Path) -> AsyncIterator[Cluster]:
    async with Cluster.connect(kube.kubeconfig(tmp_path / "kubeconfig")) as cluster:
        yield cluster


def candidate(api: Cluster, name: str, clock: list[float]) -> LeaseLeadership:
    return LeaseLeadership(
        api, "bootstrap-bot", "bootstrap-bot", identity=name, duration=15, clock=lambda: clock[0]
    )


async def test_one_replica_resyncs_and_another_takes_over_when_it_dies(
    landscape_bot: LandscapeBot, api: Cluster, kube: FakeKubernetes, tmp_path: Path
):
    bot, clock = landscape_bot, [0.0]
    # two replicas: their own caches, the same App, the same cluster
    other = BotContext(bot_settings(tmp_path / "replica-b"), bot.context.github)
    lease_a, lease_b = candidate(api, "replica-a", clock), candidate(api, "replica-b", clock)
    a, b = Resync(bot.context, lease_a), Resync(other, lease_b)

    assert await a.run_once() == 1
    assert await b.run_once() == 0
    assert (a.rounds, b.rounds) == (1, 0)
    assert kube.store.objects[LEASE]["spec"]["holderIdentity"] == "replica-a"

    # a renews while it lives (its renewal loop); b keeps waiting
    clock[0] = 10.0
    assert await lease_a.try_acquire() is True
    assert await a.run_once() == 1 and await b.run_once() == 0
    # a dies after its renewal at 10 s: until 15 s later its lease stands …
    clock[0] = 24.0
    assert await b.run_once() == 0
    # … then b takes it over and polls.
    clock[0] = 25.5
    assert await b.run_once() == 1
    lease = kube.store.objects[LEASE]["spec"]
    assert lease["holderIdentity"] == "replica-b" and lease["leaseTransitions"] == 1
    # a, back from the dead, finds b the holder: never two pollers
    assert await a.run_once() == 0
    assert (a.rounds, b.rounds) == (2, 1)


async def test_of_two_candidates_racing_for_a_new_lease_one_wins(api: Cluster):
    clock = [0.0]
    a, b = candidate(api, "replica-a", clock), candidate(api, "replica-b", clock)
    results = await asyncio.gather(a.try_acquire(), b.try_acquire())
    assert sorted(results) == [False, True]
    assert await a.leading() != await b.leading()


async def test_a_replica_shutting_down_hands_the_lease_over_at_once(
    api: Cluster, kube: FakeKubernetes
):
    a = LeaseLeadership(api, "bootstrap-bot", "bootstrap-bot", identity="replica-a")
    a.renew_every = 0.05
    running = asyncio.create_task(a.run())
    assert await wait_for(lambda: _true_or_none(a.leading()), timeout=30) is True
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert kube.store.objects[LEASE]["spec"].get("holderIdentity") is None
    # b need not wait out the lease duration
    b = LeaseLeadership(api, "bootstrap-bot", "bootstrap-bot", identity="replica-b")
    assert await b.try_acquire() is True


async def _true_or_none(answer: asyncio.Future[bool] | object) -> bool | None:
    assert asyncio.iscoroutine(answer)
    return True if await answer else None


async def test_the_configured_leadership(
    kube: FakeKubernetes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # outside a cluster, `auto` is this process alone
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    async with leadership(LeaderElection()) as alone:
        assert isinstance(alone, SoleProcess)
    # `lease` with one shard: the one Lease, taken while serving, released at the end
    settings = LeaderElection(
        mode="lease",
        namespace="bootstrap-bot",
        kubeconfig=kube.kubeconfig(tmp_path / "kc"),
        shards=1,
    )
    async with leadership(settings) as leader:
        assert isinstance(leader, LeaseLeadership)
        assert await leader.leading() is True
        assert kube.store.objects[LEASE]["spec"]["holderIdentity"] == leader.identity
    assert kube.store.objects[LEASE]["spec"].get("holderIdentity") is None
