"""The resync split among the replicas: `shards` Leases, each held by one replica at a time,
shared out so that each replica carries about as much work as the next.

The Leases live in the bot's namespace, next to the single leader Lease (`.leader`), and are
written the same way (compare-and-swap on the resourceVersion read; expiry judged by this
process's own clock, from when it saw a Lease last change):

- `<name>-replica-<j>`: one of `slots` membership Leases. A replica holds one while it lives
  and renews it every `renew_every` seconds; it is the replica's heartbeat. A slot nobody
  renewed for its lease duration is free again.
- `<name>-shard-<i>`: whoever it names resyncs the repositories of shard i
  (`bot.core.shards.shard_of`). It is written only when the shard moves; it stands as long
  as the replica it names is alive, so a round of renewals costs one write, however many
  shards there are.

Every tick a replica lists the Leases (one request), renews its slot, counts the live
replicas, and works out who should hold each shard (`bot.core.shards.assign_shards`): by the
work in each shard, the repositories the last resync round found there (`weigh`), or by their
number until a round has run. The weights travel in the slot Leases' annotation
`bootstrap-bot/shard-weights`, written with the renewal anyway, and every replica uses the
newest ones published, so all of them work out the same assignment from the same listing.
Each replica then releases what goes to another and takes the free shards that come to it
(shards nobody alive holds: free, released, or named after a replica no longer alive). A
shard moves only when a replica comes or goes or the work in the shards shifts enough to
make the move worth it. A shard left free for a lease duration, which only replicas that
disagree for that long would do, goes to whoever takes it first.

A replica counts itself holder for the lease duration less a margin after
each renewal, and the others count it gone that long after they saw its last renewal, so it
has stopped before its shards move; ticking every margin's worth of the duration, its shards
move within the lease duration of its death.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.adapters.cluster import Cluster, ClusterError, ClusterUnavailable, ObjectRef
from bot.adapters.leases import (
    LEASE_API,
    MARGIN,
    identity,
    lease_record,
    micro_time,
    released,
)
from bot.core.shards import assign_shards

log = logging.getLogger(__name__)
#: membership slots: more replicas than this share the work of this many
SLOTS = 32
#: on a replica's slot Lease: "<when weighed, seconds since the epoch> <weight>,<weight>,..."
WEIGHTS = "bootstrap-bot/shard-weights"
#: a shard's weight is its repositories in a round; more than this is not believed
MOST_WEIGHT = 10**7


@dataclass
class ShardedLeases:
    api: Cluster
    namespace: str
    name: str
    shards: int = 64
    identity: str = field(default_factory=identity)
    duration: float = 15.0
    #: `MARGIN` of the duration: a dead replica's shards move within the lease duration
    renew_every: float = 3.0
    slots: int = SLOTS
    #: seconds on a monotonic clock (default: the event loop's)
    clock: Callable[[], float] | None = None
    #: per Lease name: (the record last seen, when this process first saw it)
    _seen: dict[str, tuple[tuple[Any, ...], float]] = field(default_factory=dict)
    _held: set[int] = field(default_factory=set)
    _slot: int | None = None
    #: loop time until which this process may act on the shards it holds
    _valid_until: float = 0.0
    #: (when weighed, the repositories in each shard), as the last resync round found them
    _weights: tuple[float, tuple[int, ...]] | None = None
    #: loop time since when a shard nobody alive holds has been seen so
    _free_since: dict[int, float] = field(default_factory=dict)
    _ticking: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def count(self) -> int:
        return self.shards

    def shard_lease(self, shard: int) -> str:
        return f"{self.name}-shard-{shard}"

    def slot_lease(self, slot: int) -> str:
        return f"{self.name}-replica-{slot}"

    def _now(self) -> float:
        return self.clock() if self.clock else asyncio.get_running_loop().time()

    async def held(self) -> frozenset[int]:
        """The shards this process resyncs now (after a tick first, when the renewal loop has
        not kept its slot valid)."""
        if self._now() >= self._valid_until:
            await self.tick()
        return self._valid()

    def _valid(self) -> frozenset[int]:
        return frozenset(self._held) if self._now() < self._valid_until else frozenset()

    async def tick(self) -> None:
        """One look at the Leases: renew the slot, then release or take shards until this
        replica holds its part of the work. An unreachable API server changes nothing (the
        slot's validity runs out on its own)."""
        async with self._ticking:
            try:
                await self._tick(self._now())
            except (ClusterError, ClusterUnavailable) as err:
                log.warning("shard leases in %s: %s", self.namespace, err)

    def weigh(self, weights: Sequence[int]) -> None:
        """The repositories in each shard, as a resync round just found them: published with
        the next renewal, and shared out by from then on."""
        if len(weights) == self.shards:
            self._weights = (time.time(), tuple(weights))

    async def _tick(self, now: float) -> None:
        leases = await self._leases(now)
        # a replica that could not renew in time may count as gone elsewhere already, and its
        # shards be taken from a listing older than this renewal: it holds them again only
        # through a write of its own, which such a taking then cannot overwrite
        lapsed = now >= self._valid_until
        # 1. membership: this replica's slot, renewed (its weights published with it)
        if not await self._keep_slot(leases, now):
            self._held.clear()
            return
        alive = self._members(leases, now)
        # 2. the shards held: kept (written again after a lapse), or dropped when another
        #    replica took them
        for shard in sorted(self._held):
            name = self.shard_lease(shard)
            live = leases.get(name)
            if lapsed and _holder(live) == self.identity:
                live = await self._write(live, now)
            if live is not None and _holder(live) == self.identity:
                leases[name] = live
            else:
                self._held.discard(shard)
                log.warning("lost shard %d", shard)
        # 3. who should hold each shard, by the work in it (a Lease naming this replica that
        #    it does not count as held, a write whose answer was lost, is its own as well)
        holders: dict[int, str] = {}
        for shard in range(self.shards):
            holder = _holder(leases.get(self.shard_lease(shard)))
            if holder in alive:
                holders[shard] = str(holder)
        target = assign_shards(self._shared_weights(leases, alive), holders, alive)
        # 4. this replica's part: give up what goes to another, take what comes to it
        for shard, holder in sorted(holders.items()):
            if holder == self.identity and target[shard] != self.identity:
                await self._release(leases.get(self.shard_lease(shard)), shard)
        for shard in range(self.shards):
            holder = holders.get(shard)
            if holder is not None:
                self._free_since.pop(shard, None)
            # a shard left free that long: the replicas disagree, and whoever is first takes it
            left_free = holder is None and now - self._free_since.setdefault(shard, now) >= (
                self.duration
            )
            comes_here = target[shard] == self.identity and holder in (None, self.identity)
            if (comes_here and shard not in self._held) or left_free:
                await self._take(leases.get(self.shard_lease(shard)), shard, now)

    def _shared_weights(self, leases: dict[str, dict[str, Any]], alive: set[str]) -> list[int]:
        """The newest weights a live replica published (this one's own included), or one for
        every shard while no round has weighed them."""
        newest = self._weights
        for slot in range(self.slots):
            lease = leases.get(self.slot_lease(slot))
            if lease is None or _holder(lease) not in alive:
                continue
            published = parse_weights(lease, self.shards)
            if published is not None and (newest is None or published[0] > newest[0]):
                newest = published
        return list(newest[1]) if newest is not None else [1] * self.shards

    async def _leases(self, now: float) -> dict[str, dict[str, Any]]:
        """The Leases of these shards and slots, by name; notes when each one last changed."""
        ref = ObjectRef(LEASE_API, "Lease", self.namespace, "")
        ours = {self.shard_lease(s) for s in range(self.shards)}
        ours |= {self.slot_lease(s) for s in range(self.slots)}
        found = {
            lease["metadata"]["name"]: lease
            for lease in await self.api.list(ref, limit=4 * (self.shards + self.slots))
            if (lease.get("metadata") or {}).get("name") in ours
        }
        for lease_name, lease in found.items():
            record = lease_record(lease.get("spec") or {})
            seen = self._seen.get(lease_name)
            if seen is None or seen[0] != record:
                self._seen[lease_name] = (record, now)
        return found

    def _members(self, leases: dict[str, dict[str, Any]], now: float) -> set[str]:
        """The replicas alive: holders of a slot renewed within its duration, this one too."""
        alive = {self.identity}
        for slot in range(self.slots):
            lease = leases.get(self.slot_lease(slot))
            if lease is not None and self._renewed(lease, now):
                alive.add(str(_holder(lease)))
        return alive

    def _renewed(self, lease: dict[str, Any], now: float) -> bool:
        """Whether a Lease has a holder who renewed it lately, as seen here: within the part
        of its duration that holder counts itself valid for (its renewal was written after
        that holder's clock started, and seen here after it was written, so the holder has
        stopped by the time it counts as gone here). Ticking every `MARGIN` of the duration,
        a dead replica is gone within the lease duration of its death."""
        if not _holder(lease):
            return False
        spec = lease.get("spec") or {}
        duration = float(spec.get("leaseDurationSeconds") or self.duration)
        seen = self._seen.get(lease["metadata"]["name"])
        return seen is None or now - seen[1] < duration * (1 - MARGIN)

    async def _keep_slot(self, leases: dict[str, dict[str, Any]], now: float) -> bool:
        """Renew this replica's slot, or take a free one; whether it holds one."""
        if self._slot is not None:
            live = leases.get(self.slot_lease(self._slot))
            mine = _holder(live) == self.identity
            if mine and await self._write(live, now, annotations=self._published()) is not None:
                self._valid_until = now + self.duration * (1 - MARGIN)
                return True
            log.warning("lost the replica slot %s", self.slot_lease(self._slot))
            self._slot, self._valid_until = None, 0.0
        for slot in range(self.slots):
            name = self.slot_lease(slot)
            live = leases.get(name)
            if (live is None or not self._renewed(live, now)) and await self._write(
                live, now, name=name, annotations=self._published()
            ) is not None:
                self._slot, self._valid_until = slot, now + self.duration * (1 - MARGIN)
                return True
        log.warning("all %d replica slots are taken: this replica resyncs nothing", self.slots)
        return False

    def _published(self) -> dict[str, str] | None:
        """The annotation that tells the others this replica's weights."""
        if self._weights is None:
            return None
        weighed, weights = self._weights
        return {WEIGHTS: f"{weighed:.3f} {','.join(map(str, weights))}"}

    async def _take(self, live: dict[str, Any] | None, shard: int, now: float) -> None:
        if await self._write(live, now, name=self.shard_lease(shard)) is not None:
            self._held.add(shard)
            log.info(
                "took shard %d as %s (from %s)", shard, self.identity, _holder(live) or "nobody"
            )

    async def _write(
        self,
        live: dict[str, Any] | None,
        now: float,
        *,
        name: str = "",
        annotations: dict[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """Write this replica into a Lease (new, taken over or renewed): the Lease written,
        or None when another replica got in first (409) and this one holds nothing."""
        lease_name = live["metadata"]["name"] if live is not None else name
        spec = (live or {}).get("spec") or {}
        taking_over = _holder(live) != self.identity
        moment = micro_time(datetime.now(UTC))
        metadata: dict[str, Any] = {"name": lease_name, "namespace": self.namespace}
        if annotations:
            metadata["annotations"] = annotations
        version = ((live or {}).get("metadata") or {}).get("resourceVersion")
        if version:
            metadata["resourceVersion"] = version  # compare-and-swap
        transitions = int(spec.get("leaseTransitions") or 0) + (1 if live and taking_over else 0)
        lease = {
            "apiVersion": LEASE_API,
            "kind": "Lease",
            "metadata": metadata,
            "spec": {
                "holderIdentity": self.identity,
                "leaseDurationSeconds": max(1, round(self.duration)),
                "acquireTime": (None if taking_over else spec.get("acquireTime")) or moment,
                "renewTime": moment,
                "leaseTransitions": transitions,
            },
        }
        try:
            written = await (self.api.create(lease) if live is None else self.api.replace(lease))
        except ClusterError as err:
            if err.code == 409:
                return None
            raise
        self._seen[lease_name] = (lease_record(written.get("spec") or {}), now)
        return written

    async def _release(self, live: dict[str, Any] | None, shard: int | None = None) -> None:
        """Give a Lease up (a shard over this replica's share, or all at shutdown), so another
        replica takes it at its next tick instead of after the lease duration."""
        if shard is not None:
            self._held.discard(shard)
        if live is None or _holder(live) != self.identity:
            return
        try:
            await self.api.replace(released(live))
            log.info("released %s", live["metadata"]["name"])
        except (ClusterError, ClusterUnavailable) as err:
            log.warning("could not release %s: %s", live["metadata"]["name"], err)

    async def run(self) -> None:
        """Tick until cancelled; then give every Lease held up."""
        try:
            while True:
                await self.tick()
                await asyncio.sleep(self.renew_every)
        finally:
            await asyncio.shield(self.release_all())

    async def release_all(self) -> None:
        async with self._ticking:
            try:
                leases = await self._leases(self._now())
            except (ClusterError, ClusterUnavailable) as err:
                log.warning("could not release the shard leases: %s", err)
                return
            for shard in sorted(self._held):
                await self._release(leases.get(self.shard_lease(shard)), shard)
            if self._slot is not None:
                await self._release(leases.get(self.slot_lease(self._slot)))
            self._slot, self._valid_until = None, 0.0


def _holder(lease: dict[str, Any] | None) -> str | None:
    return ((lease or {}).get("spec") or {}).get("holderIdentity") or None


def parse_weights(lease: dict[str, Any], shards: int) -> tuple[float, tuple[int, ...]] | None:
    """The weights a slot Lease publishes (`WEIGHTS`), or None: none, or not for `shards`
    shards, or not believable (a replica configured differently, or a hand edit)."""
    annotations = (lease.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(WEIGHTS) if isinstance(annotations, dict) else None
    if not isinstance(text, str) or len(text) > 32 + 9 * shards:
        return None
    weighed, _, listed = text.partition(" ")
    parts = listed.split(",")
    if len(parts) != shards or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    try:
        stamp = float(weighed)
    except ValueError:
        return None
    weights = tuple(int(p) for p in parts)
    if not math.isfinite(stamp) or max(weights) > MOST_WEIGHT:
        return None
    return stamp, weights
