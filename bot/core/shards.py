"""Which shard of the resync a repository belongs to. Pure.

An installation's repositories stay together in one shard, so one replica paces its requests
against the installation's budget and keeps its token and caches warm. An installation larger
than a fair shard (more repositories than all of them divided by the shards) is split by
repository instead, or one replica would carry it alone. The hash is stable across processes
and restarts (crc32, not Python's salted `hash`), so every replica puts a repository in the
same shard.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence


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
