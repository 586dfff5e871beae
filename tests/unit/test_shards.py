"""Which shard a repository's resync belongs to: the same on every replica, an installation
together unless it is larger than a fair shard."""

from __future__ import annotations

import subprocess
import sys

from bot.core.shards import shard_of, shards_of, split_installations


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
