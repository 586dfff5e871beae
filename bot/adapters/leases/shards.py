"""The resync split among the replicas: `shards` Leases, each held by one replica at a time,
taken in roughly equal shares.

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
replicas, and works out its fair share (`shards` / replicas, the first replicas by identity
taking one more when it does not divide). Holding more, it releases its highest shards;
holding fewer, it takes shards that are free, released, or named after a replica no longer
alive. So a shard moves only when a replica comes or goes, and then only the shards that make
up the difference. A replica counts itself holder for the lease duration less a margin after
each renewal, and the others count it gone that long after they saw its last renewal, so it
has stopped before its shards move; ticking every margin's worth of the duration, its shards
move within the lease duration of its death.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Callable
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

log = logging.getLogger(__name__)
#: membership slots: more replicas than this share the work of this many
SLOTS = 32


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
        replica holds its share. An unreachable API server changes nothing (the slot's
        validity runs out on its own)."""
        async with self._ticking:
            try:
                await self._tick(self._now())
            except (ClusterError, ClusterUnavailable) as err:
                log.warning("shard leases in %s: %s", self.namespace, err)

    async def _tick(self, now: float) -> None:
        leases = await self._leases(now)
        # a replica that could not renew in time may count as gone elsewhere already, and its
        # shards be taken from a listing older than this renewal: it holds them again only
        # through a write of its own, which such a taking then cannot overwrite
        lapsed = now >= self._valid_until
        # 1. membership: this replica's slot, renewed
        if not await self._keep_slot(leases, now):
            self._held.clear()
            return
        # 2. the fair share, among the replicas alive
        alive = self._members(leases, now)
        members = sorted(alive)
        base, extra = divmod(self.shards, len(members))
        share = base + (1 if members.index(self.identity) < extra else 0)
        # 3. the shards held: kept up to the share, the rest released, those another replica
        #    took dropped
        kept = 0
        for shard in sorted(self._held):
            live = leases.get(self.shard_lease(shard))
            mine = _holder(live) == self.identity
            if mine and kept >= share:
                await self._release(live, shard)
            elif mine and (not lapsed or await self._write(live, now)):
                kept += 1
            else:
                self._held.discard(shard)
                log.warning("lost shard %d", shard)
        # 4. shards nobody alive holds, up to the share
        free = [
            shard
            for shard in self._order()
            if shard not in self._held and _holder(leases.get(self.shard_lease(shard))) not in alive
        ]
        for shard in free[: max(0, share - len(self._held))]:
            await self._take(leases.get(self.shard_lease(shard)), shard, now)

    def _order(self) -> list[int]:
        """The shards in this replica's own order, so replicas starting together reach for
        different free shards first."""
        start = zlib.crc32(self.identity.encode()) % self.shards
        return [(start + n) % self.shards for n in range(self.shards)]

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
            if _holder(live) == self.identity and await self._write(live, now):
                self._valid_until = now + self.duration * (1 - MARGIN)
                return True
            log.warning("lost the replica slot %s", self.slot_lease(self._slot))
            self._slot, self._valid_until = None, 0.0
        for slot in range(self.slots):
            name = self.slot_lease(slot)
            live = leases.get(name)
            if (live is None or not self._renewed(live, now)) and await self._write(
                live, now, name=name
            ):
                self._slot, self._valid_until = slot, now + self.duration * (1 - MARGIN)
                return True
        log.warning("all %d replica slots are taken: this replica resyncs nothing", self.slots)
        return False

    async def _take(self, live: dict[str, Any] | None, shard: int, now: float) -> None:
        if await self._write(live, now, name=self.shard_lease(shard)):
            self._held.add(shard)
            log.info(
                "took shard %d as %s (from %s)", shard, self.identity, _holder(live) or "nobody"
            )

    async def _write(self, live: dict[str, Any] | None, now: float, *, name: str = "") -> bool:
        """Write this replica into a Lease (new, taken over or renewed); whether it holds it.
        A write another replica got in first (409) holds nothing."""
        lease_name = live["metadata"]["name"] if live is not None else name
        spec = (live or {}).get("spec") or {}
        taking_over = _holder(live) != self.identity
        moment = micro_time(datetime.now(UTC))
        metadata: dict[str, Any] = {"name": lease_name, "namespace": self.namespace}
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
                return False
            raise
        self._seen[lease_name] = (lease_record(written.get("spec") or {}), now)
        return True

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
