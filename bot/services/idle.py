"""What the resync remembers of each repository between rounds, so that a repository where
nothing moved costs no GitHub request: the heads and the release lists that a refresh which
found nothing to do was made from.

It is this process's memory only. A restart, or a repository whose shard moves to this replica,
is refreshed in full once. Every `verify_every`-th round a repository is refreshed in full
anyway, whatever its heads say: the level-triggered safety net for what no head shows (a pull
request closed unmerged whose webhook was lost, a check run rerun). Repositories take their
verification rounds in turn, spread evenly over the rounds, never all in one.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from dataclasses import dataclass

from bot.services.releases import Listed


@dataclass(frozen=True)
class Settled:
    """A refresh that found nothing to do, and what it was made from."""

    default_branch: str
    landscapes: tuple[str, ...]
    fingerprint: str  # `Heads.fingerprint` of the default branch and the landscapes
    listed: tuple[Listed, ...]


class IdleMemory:
    def __init__(self, verify_every: int) -> None:
        self.verify_every = max(1, verify_every)
        self._settled: dict[str, Settled] = {}

    def settled(self, full_name: str) -> Settled | None:
        return self._settled.get(full_name.lower())

    def remember(self, full_name: str, settled: Settled) -> None:
        self._settled[full_name.lower()] = settled

    def forget(self, full_name: str) -> None:
        """Something happened there (a delivery, a refresh under way): refresh it next round."""
        self._settled.pop(full_name.lower(), None)

    def verification_due(self, full_name: str, round: int) -> bool:
        """Whether this round refreshes the repository in full, heads or not."""
        turn = zlib.crc32(full_name.lower().encode()) % self.verify_every
        return (round + turn) % self.verify_every == 0


class RenderedHeads:
    """The landscape heads this process brought up to date lately (rendered, checked, an
    upgrade looked at), so a push job arriving at a head an earlier job already rendered (it
    read the branch after the push) does not render it again. The newest `capacity` only."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[tuple[str, str, str, str], None] = OrderedDict()

    def rendered(self, full_name: str, branch: str, config_path: str, commit: str) -> bool:
        return (full_name.lower(), branch, config_path, commit) in self._seen

    def remember(self, full_name: str, branch: str, config_path: str, commit: str) -> None:
        key = (full_name.lower(), branch, config_path, commit)
        self._seen[key] = None
        self._seen.move_to_end(key)
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
