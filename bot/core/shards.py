"""Which shard of the resync a repository belongs to. Pure.

An installation's repositories stay together in one shard, so one replica paces its requests
against the installation's budget and keeps its token and caches warm. An installation larger
than a fair shard (more repositories than all of them divided by the shards) is split by
repository instead, or one replica would carry it alone. The hash is stable across processes
and restarts (crc32, not Python's salted `hash`), so every replica puts a repository in the
same shard.

`assign_shards` is how the replicas share the shards out: by the work in each (its
repositories), not by their number, since with a few repositories a shard the hash fills some
shards with three and leaves others empty. Every replica works it out from the same listing
of the shard Leases and the same weights, so they agree without talking.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence


def shard_of(installation_id: int, full_name: str, *, split: bool, shards: int) -> int:
    key = f"{installation_id}/{full_name.lower()}" if split else str(installation_id)
    return zlib.crc32(key.encode()) % shards


def split_installations(installations: Iterable[int], shards: int) -> frozenset[int]:
    """The installations (one entry per repository they hold) too large for one shard."""
    counted = Counter(installations)
    fair = math.ceil(sum(counted.values()) / max(1, shards))
    return frozenset(i for i, repositories in counted.items() if shards > 1 and repositories > fair)


def shards_of(work: Sequence[tuple[int, str]], shards: int) -> list[int]:
    """The shard of each (installation id, repository) of a round."""
    split = split_installations((installation for installation, _ in work), shards)
    return [
        shard_of(installation, name, split=installation in split, shards=shards)
        for installation, name in work
    ]


def shard_weights(shards: Iterable[int], count: int) -> list[int]:
    """The repositories of a round in each of the `count` shards (`shards_of`'s answer)."""
    weights = [0] * count
    for shard in shards:
        weights[shard] += 1
    return weights


def assign_shards(
    weights: Sequence[int], holders: Mapping[int, str], members: Iterable[str]
) -> dict[int, str]:
    """Who should hold each shard: `holders` (shard -> live member) kept where it can be, the
    free shards given out heaviest first, each to the member with the least work, and then,
    while the most loaded members hold a shard whose move to the least loaded one does not
    make that one the heavier, the largest such shard moved.

    So a shard moves only for a real gain: the sum of the squared loads falls with every
    move, it ends when no member holds a shard small enough for half its gap to the least
    loaded one, and an assignment that balanced stays as it is. Ties go by the number of
    shards held and then by name, so shards without work (weight 0) spread too, and every
    replica breaks them the same way.
    """
    names = sorted(set(members))
    target = {shard: holder for shard, holder in holders.items() if holder in names}
    load = dict.fromkeys(names, 0)
    held = dict.fromkeys(names, 0)
    for shard, holder in target.items():
        load[holder] += weights[shard]
        held[holder] += 1

    def lightest() -> str:
        return min(names, key=lambda name: (load[name], held[name], name))

    def move(shard: int, to: str) -> None:
        if shard in target:
            load[target[shard]] -= weights[shard]
            held[target[shard]] -= 1
        target[shard] = to
        load[to] += weights[shard]
        held[to] += 1

    # 1. free shards, heaviest first, to whoever has the least work then
    free = sorted(
        (s for s in range(len(weights)) if s not in target), key=lambda s: (-weights[s], s)
    )
    for shard in free:
        move(shard, lightest())
    # 2. from the most loaded down, the largest shard that fits in half the gap to the
    #    lightest; every move lowers the sum of the squared loads, so this ends (the bound
    #    is a guard only)
    for _ in range(len(weights) * len(names)):
        low, best = lightest(), None
        for name in sorted(names, key=lambda name: (load[name], held[name], name), reverse=True):
            gap = load[name] - load[low]
            fitting = [
                (weights[s], s)
                for s, holder in target.items()
                if holder == name and 0 < 2 * weights[s] <= gap
            ]
            if fitting:
                best = max(fitting)[1]
                break
        if best is None:
            break
        move(best, low)
    return target
