"""Replicas share the resync through shard Leases on the fake API server: equal shares (of the
work, once a round has weighed the shards), few moves when a replica comes, a dead replica's
shards taken over once their lease duration has passed, and a round of each replica covering
its shards' repositories only. Lease time runs on a clock the test moves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.cluster import Cluster
from bot.adapters.leases import MARGIN
from bot.adapters.leases.shards import WEIGHTS, ShardedLeases, parse_weights
from bot.server.resync import Resync
from bot.services.context import BotContext
from tests.integration.adapters.test_leader_election import api, kube  # noqa: F401 (fixtures)
from tests.integration.landscape_bot import LandscapeBot, bot_settings
from tests.peers.gitserver import commit_directly
from tests.peers.kubernetes import FakeKubernetes

pytestmark = pytest.mark.peers
SHARDS, DURATION, RENEW = 16, 15.0, 3.0  # renewed every MARGIN of the duration


def replica(api: Cluster, name: str, clock: list[float]) -> ShardedLeases:  # noqa: F811
    return ShardedLeases(
        api,
        "bootstrap-bot",
        "bootstrap-bot",
        shards=SHARDS,
        identity=name,
        duration=DURATION,
        renew_every=RENEW,
        clock=lambda: clock[0],
    )


def holders(kube: FakeKubernetes) -> dict[int, str | None]:  # noqa: F811
    return {
        int(name.rsplit("-", 1)[1]): obj["spec"].get("holderIdentity")
        for (_, _, _, name), obj in kube.store.objects.items()
        if name.startswith("bootstrap-bot-shard-")
    }


async def ticks(replicas: list[ShardedLeases], clock: list[float], rounds: int = 3) -> None:
    """Every replica ticks, `rounds` times, one renewal period apart."""
    for _ in range(rounds):
        for each in replicas:
            await each.tick()
        clock[0] += RENEW


@dataclass
class Pair:
    """Two replicas that have settled their shares, on the test's clock."""

    api: Cluster
    clock: list[float]
    a: ShardedLeases
    b: ShardedLeases


@pytest.fixture
async def pair(api: Cluster) -> Pair:  # noqa: F811
    clock = [0.0]
    a, b = replica(api, "replica-a", clock), replica(api, "replica-b", clock)
    await ticks([a, b], clock)
    return Pair(api, clock, a, b)


async def test_replicas_take_equal_shares_and_a_newcomer_moves_only_the_difference(
    pair: Pair,
    kube: FakeKubernetes,  # noqa: F811
):
    clock, a, b = pair.clock, pair.a, pair.b
    held_a, held_b = await a.held(), await b.held()
    assert len(held_a) == len(held_b) == SHARDS // 2 and not held_a & held_b
    assert holders(kube) == {s: "replica-a" if s in held_a else "replica-b" for s in range(16)}

    before = holders(kube)
    c = replica(pair.api, "replica-c", clock)
    await ticks([a, b, c], clock)
    after = holders(kube)
    shares = sorted([len(await r.held()) for r in (a, b, c)])
    assert shares == [5, 5, 6]
    moved = [s for s in range(SHARDS) if before[s] != after[s]]
    assert len(moved) == len(await c.held())  # only what the newcomer took
    assert set(after.values()) == {"replica-a", "replica-b", "replica-c"}


async def test_a_tick_of_a_settled_replica_costs_one_list_and_one_write(
    pair: Pair,
    kube: FakeKubernetes,  # noqa: F811
):
    clock, a, b = pair.clock, pair.a, pair.b
    kube.requests.clear()
    await ticks([a, b], clock, rounds=4)
    leases = [(m, p) for m, p in kube.requests if "/leases" in p]
    assert sorted({m for m, _ in leases}) == ["GET", "PUT"]
    assert len([m for m, _ in leases if m == "PUT"]) == 2 * 4  # each slot, never the shards
    assert len([m for m, _ in leases if m == "GET"]) == 2 * 4
    assert all("replica-" in p for m, p in leases if m == "PUT")


async def test_a_dead_replicas_shards_are_taken_over_once_their_lease_duration_passed(
    pair: Pair,
    kube: FakeKubernetes,  # noqa: F811
):
    clock, a, b = pair.clock, pair.a, pair.b
    orphaned = await b.held()
    died = clock[0]  # b stops renewing
    while set(holders(kube).values()) != {"replica-a"}:
        assert clock[0] - died <= DURATION, "not taken over within the lease duration"
        await a.tick()
        clock[0] += 1.0
        if clock[0] - died < DURATION * (1 - MARGIN):
            assert orphaned.isdisjoint(a._valid())  # b's leases stand until they expire
    took_over = clock[0] - died
    assert DURATION * (1 - MARGIN) <= took_over <= DURATION
    assert await a.held() == frozenset(range(SHARDS))
    # b, back from the dead, holds nothing it lost, and gets its share back from a
    assert await b.held() == frozenset()
    await ticks([a, b], clock)
    assert len(await a.held()) == len(await b.held()) == SHARDS // 2


async def test_a_replica_back_from_a_stall_is_never_one_of_two_holders(
    pair: Pair,
    kube: FakeKubernetes,  # noqa: F811
):
    clock, a, b = pair.clock, pair.a, pair.b
    clock[0] += DURATION  # a stalls: to b it is gone, and a no longer counts itself holder
    assert a._valid() == frozenset()
    stale = await b._leases(clock[0])  # b lists the Leases …
    await a.tick()  # … a comes back and renews …
    assert len(a._valid()) == SHARDS // 2

    async def listed_before(now: float) -> dict[str, Any]:
        return stale

    b._leases = listed_before  # type: ignore[method-assign]
    await b.tick()  # … and b acts on its listing from before a's renewal
    assert not a._valid() & b._valid()
    named = holders(kube)
    assert all(named[s] == "replica-a" for s in a._valid())


async def test_a_replica_shutting_down_hands_its_shards_over_at_once(
    pair: Pair,
    kube: FakeKubernetes,  # noqa: F811
):
    clock, a, b = pair.clock, pair.a, pair.b
    await b.release_all()
    await ticks([a], clock, rounds=2)  # a counts itself alone at once: b's slot is free
    assert await a.held() == frozenset(range(SHARDS))
    assert set(holders(kube).values()) == {"replica-a"}


async def test_two_replicas_resync_each_repository_once_between_them(
    landscape_bot: LandscapeBot, pair: Pair, tmp_path: Path
):
    bot = landscape_bot
    for n in range(24):
        other = bot.fake.add_repository(bot.installation, f"other-{n}")
        commit_directly(other.bare, "main", {"README.md": b"no landscape here\n"})
    other_context = BotContext(bot_settings(tmp_path / "replica-b"), bot.context.github)
    first, second = Resync(bot.context, pair.a), Resync(other_context, pair.b)
    bot.fake.requests.clear()
    done = await first.run_once(), await second.run_once()
    # 25 repositories of one installation, larger than a fair shard: split by repository
    assert sum(done) == 25 and all(done)
    # each repository's discovery file was read by one of them only
    read = [r.path for r in bot.fake.requests if r.operation_id == "repos/get-content"]
    assert len(read) == len(set(read)) >= 25
    # the round told the leases how many repositories each shard holds, and they share them
    # out by that: as evenly as the shards allow
    weights = pair.a._weights[1] if pair.a._weights else ()
    assert sum(weights) == 25
    await ticks([pair.a, pair.b], pair.clock)
    again = await first.run_once(), await second.run_once()
    assert sum(again) == 25 and max(again) - min(again) < 2 * max(weights)


async def test_the_shards_are_shared_out_by_the_work_a_round_found_in_them(
    pair: Pair,
    kube: FakeKubernetes,  # noqa: F811
):
    clock, a, b = pair.clock, pair.a, pair.b
    weights = [0] * SHARDS
    heavy = sorted(await a.held())[:3] + sorted(await b.held())[:1]
    for shard in heavy:
        weights[shard] = 10  # all the work in four shards, three of them a's
    a.weigh(weights)  # only a has had a round: b goes by what a published
    await ticks([a, b], clock)
    work = [sum(weights[s] for s in await r.held()) for r in (a, b)]
    assert work == [20, 20]
    assert not (await a.held()) & (await b.held())
    assert set(holders(kube).values()) == {"replica-a", "replica-b"}
    assert len(holders(kube)) == SHARDS and None not in holders(kube).values()
    # settled: the ticks write the slots only, the weights riding along
    kube.requests.clear()
    await ticks([a, b], clock, rounds=2)
    assert [p for m, p in kube.requests if m == "PUT" and "-shard-" in p] == []
    slots = [
        obj
        for (_, _, _, name), obj in kube.store.objects.items()
        if name.startswith("bootstrap-bot-replica-")
    ]
    published = [parse_weights(slot, SHARDS) for slot in slots]
    assert [w for _, w in filter(None, published)] == [tuple(weights)]


def test_weights_a_slot_lease_publishes_are_believed_only_when_well_formed():
    def slot(text: object) -> dict[str, Any]:
        return {"metadata": {"annotations": {WEIGHTS: text}}}

    assert parse_weights(slot("12.5 1,0,3"), 3) == (12.5, (1, 0, 3))
    for wrong in [
        "12.5 1,0",  # another shard count
        "12.5 1,-1,3",
        "12.5 1,٣,3",  # a digit, but not ASCII
        "nan 1,0,3",
        "inf 1,0,3",
        f"1 1,0,{10**12}",
        "1 " + "1" * 500 + ",0,0",
        "12.5",
        "",
        7,
    ]:
        assert parse_weights(slot(wrong), 3) is None, wrong
    assert parse_weights({"metadata": {"annotations": ["x"]}}, 3) is None
    assert parse_weights({}, 3) is None
