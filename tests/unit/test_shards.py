"""Which shard a repository's resync belongs to: the same on every replica, an installation
together unless it is larger than a fair shard."""

from __future__ import annotations

import random
import subprocess
import sys

from bot.core.shards import (
    assign_shards,
    shard_of,
    shard_weights,
    shards_of,
    split_installations,
)


def test_an_installations_repositories_share_a_shard_unless_it_is_too_large():
    small = [(1, f"org-1/repo-{n}") for n in range(3)] + [(2, f"org-2/repo-{n}") for n in range(3)]
    many = [(100 + n, f"org-{n}/only") for n in range(60)]
    assert len(set(shards_of(small + many, 16)[:3])) == 1
    # a round of three repositories in all: any installation is larger than a fair shard
    assert len(set(shards_of(small[:3], 16))) > 1
    large = [(7, f"big/repo-{n}") for n in range(200)] + small
    assert split_installations([i for i, _ in large], 16) == frozenset({7})
    spread = shards_of(large, 16)
    assert len(set(spread[:200])) == 16  # the large one over every shard
    assert set(spread[200:203]) == {shard_of(1, "x", split=False, shards=16)}


def test_one_shard_holds_everything():
    work = [(n % 3, f"org/repo-{n}") for n in range(50)]
    assert set(shards_of(work, 1)) == {0}
    assert split_installations([i for i, _ in work], 1) == frozenset()


def test_the_shard_is_the_same_in_every_process():
    code = (
        "from bot.core.shards import shard_of\n"
        "print(shard_of(42, 'Org/Repo', split=True, shards=16))"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": str(seed)},
        ).stdout
        for seed in (1, 2)
    }
    assert runs == {f"{shard_of(42, 'org/repo', split=True, shards=16)}\n"}


def test_free_shards_go_heaviest_first_to_whoever_has_the_least_work():
    weights = [5, 1, 4, 0, 2]
    assert assign_shards(weights, {}, ["b", "a"]) == {0: "a", 2: "b", 4: "b", 1: "a", 3: "a"}
    # what is held stays where it is when moving it would gain nothing
    held = {0: "b", 1: "a", 2: "a"}
    assert assign_shards(weights, held, ["a", "b"]) == {**held, 4: "b", 3: "a"}


def test_a_move_happens_only_when_the_shard_fits_in_half_the_gap():
    # a holds 6, b 3: a's 1 moves (5 and 4); its 2 would make b the heavier, its 3 swap them
    moved = assign_shards([3, 2, 1, 3], {0: "a", 1: "a", 2: "a", 3: "b"}, ["a", "b"])
    assert moved == {0: "a", 1: "a", 2: "b", 3: "b"}
    assert assign_shards([3, 3], {0: "a", 1: "b"}, ["a", "b"]) == {0: "a", 1: "b"}
    assert assign_shards([4, 3], {0: "a", 1: "b"}, ["a", "b"]) == {0: "a", 1: "b"}


def settle(weights: list[int], holders: dict[int, str], members: list[str], seed: int) -> int:
    """Ticks of replicas each acting on its own part of `assign_shards`, in a random order,
    until a tick changes nothing; the ticks it took (the holders are updated in place)."""
    order = random.Random(seed)
    for tick in range(1, 20):
        before = dict(holders)
        for member in order.sample(members, len(members)):
            target = assign_shards(weights, holders, members)
            for shard, holder in list(holders.items()):
                if holder == member and target[shard] != member:
                    del holders[shard]  # released
            for shard in range(len(weights)):
                if shard not in holders and target[shard] == member:
                    holders[shard] = member  # taken
        if holders == before:
            return tick
    raise AssertionError(f"never settled: {holders}")


def loads(weights: list[int], holders: dict[int, str]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for shard, holder in holders.items():
        counted[holder] = counted.get(holder, 0) + weights[shard]
    return counted


def test_replicas_share_the_work_evenly_however_the_hash_fills_the_shards():
    # 101 repositories of one installation each, in 64 shards: three in some, none in others
    weights = shard_weights(shards_of([(n, f"org-{n}/repo") for n in range(101)], 64), 64)
    assert max(weights) >= 3 and 0 in weights
    for members in (["a", "b"], ["a", "b", "c"], [f"r{n}" for n in range(5)]):
        for seed in range(20):
            start = random.Random(seed)
            # any start: some shards held at random, some free
            holders = {s: start.choice(members) for s in range(64) if start.random() < 0.7}
            assert settle(weights, holders, members, seed) <= 6
            assert sorted(holders) == list(range(64))
            spread = loads(weights, holders)
            fair = sum(weights) / len(members)
            assert max(spread.values()) <= fair + 2, (members, spread)
            # no shard worth moving is left where it is
            assert assign_shards(weights, holders, members) == holders


def test_shares_move_little_when_a_replica_comes_or_the_work_shifts():
    weights = shard_weights(shards_of([(n, f"org-{n}/repo") for n in range(400)], 64), 64)
    holders: dict[int, str] = {}
    settle(weights, holders, ["a", "b"], 1)
    before = dict(holders)
    settle(weights, holders, ["a", "b", "c"], 2)
    moved = [s for s in range(64) if before[s] != holders[s]]
    taken = [s for s in moved if holders[s] == "c"]
    # about a third of the work moves, almost all of it to the newcomer
    assert sum(weights[s] for s in taken) >= sum(weights[s] for s in moved) - 2 * max(weights)
    assert abs(sum(weights[s] for s in taken) - 400 / 3) <= 2 * max(weights)
    # one more repository moves a shard at most
    before = dict(holders)
    weights[0] += 1
    settle(weights, holders, ["a", "b", "c"], 3)
    assert sum(before[s] != holders[s] for s in range(64)) <= 1


def test_without_weights_the_shards_are_shared_by_number():
    holders: dict[int, str] = {}
    settle([1] * 16, holders, ["a", "b", "c"], 4)
    assert sorted(loads([1] * 16, holders).values()) == [5, 5, 6]
