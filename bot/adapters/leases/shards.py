"""The resync split among the replicas: `shards` Leases, each held by one replica at a time,
taken in roughly equal shares.

The Leases live in the bot's namespace, as the single leader Lease does (`.leader`, whose
protocol each one follows: compare-and-swap writes, expiry by this process's own clock):

- `<name>-shard-<i>`: whoever holds it resyncs the repositories of shard i
  (`bot.core.shards.shard_of`);
- `<name>-replica-<j>`: one of `slots` membership Leases; a replica holds one while it lives,
  so the others know how many share the work, and a slot left by a dead replica is taken over
  like any expired Lease.

Every `renew_every` seconds a replica lists the Leases (one request), renews its slot, counts
the live replicas, and works out its fair share (`shards` / replicas, the first replicas by
identity taking one more when it does not divide). Holding more, it releases its highest
shards and renews the rest; holding fewer, it takes free or expired ones. So a shard moves
only when a replica comes or goes, and then only the shards that make up the difference; a
dead replica's shards, no longer renewed, are taken over once their lease duration has
passed.
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
from bot.adapters.leases import LEASE_API, MARGIN, identity, lease_record, micro_time

log = logging.getLogger(__name__)
#: membership slots: more replicas than this share the work of this many
SLOTS = 32


@dataclass
class ShardedLeases:
    api: Cluster
    namespace: str
    name: str
    shards: int = 16
    identity: str = field(default_factory=identity)
    duration: float = 15.0
    renew_every: float = 5.0
    slots: int = SLOTS
    #: seconds on a monotonic clock (default: the event loop's)
    clock: Callable[[], float] | None = None
    #: per Lease name: (the record last seen, when this process first saw it)
    _seen: dict[str, tuple[tuple[Any, ...], float]] = field(default_factory=dict)
    #: per shard held: loop time until which this process may act on it
    _held: dict[int, float] = field(default_factory=dict)
    _slot: int | None = None
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
        """The shards this process resyncs now (after one tick, when the renewal loop is not
        running and nothing is held)."""
        if not self._valid():
            await self.tick()
        return self._valid()

    async def leading(self) -> bool:
        return bool(await self.held())

    def _valid(self) -> frozenset[int]:
        now = self._now()
        return frozenset(shard for shard, until in self._held.items() if now < until)

    async def tick(self) -> None:
        """One look at the Leases: renew what is held, then release or take shards until this
        replica holds its share. An unreachable API server holds nothing new."""
        async with self._ticking:
            try:
                await self._tick(self._now())
            except (ClusterError, ClusterUnavailable) as err:
                log.warning("shard leases in %s: %s", self.namespace, err)

    async def _tick(self, now: float) -> None:
        leases = await self._leases(now)
        # 1. membership: this replica's slot
        await self._keep_slot(leases, now)
        if self._slot is None:
            return
        # 2. the fair share, among the replicas alive
        members = sorted(
            {str(_holder(lease)) for lease in self._slots(leases) if self._alive(lease, now)}
            | {self.identity}
        )
        base, extra = divmod(self.shards, len(members))
        share = base + (1 if members.index(self.identity) < extra else 0)
        # 3. the shards held: renewed up to the share, the rest released, those another
        #    replica took dropped
        kept = 0
        for shard in sorted(self._held):
            live = leases.get(self.shard_lease(shard))
            if live is None or _holder(live) != self.identity:
                self._lose(shard)
            elif kept >= share:
                await self._release(live, shard)
            elif await self._write(live, now, shard=shard):
                kept += 1
            else:
                self._lose(shard)
        # 4. free shards (never held, released, or left by a dead replica) up to the share
        free = [
            shard
            for shard in self._order()
            if shard not in self._held and not self._alive(leases.get(self.shard_lease(shard)), now)
        ]
        for shard in free[: max(0, share - len(self._held))]:
            await self._take(leases.get(self.shard_lease(shard)), shard, now)

    def _order(self) -> list[int]:
        """The shards in this replica's own order, so replicas starting together reach for
        different free shards first."""
        start = zlib.crc32(self.identity.encode()) % self.shards
        return [(start + n) % self.shards for n in range(self.shards)]

    async def _leases(self, now: float) -> dict[str, dict[str, Any]]:
        ref = ObjectRef(LEASE_API, "Lease", self.namespace, "")
        ours = {self.shard_lease(s) for s in range(self.shards)}
        ours |= {self.slot_lease(s) for s in range(self.slots)}
        found = {
            lease["metadata"]["name"]: lease
            for lease in await self.api.list(ref, limit=4 * (self.shards + self.slots))
            if lease.get("metadata", {}).get("name") in ours
        }
        for lease_name, lease in found.items():
            record = lease_record(lease.get("spec") or {})
            seen = self._seen.get(lease_name)
            if seen is None or seen[0] != record:
                self._seen[lease_name] = (record, now)
        return found

    def _slots(self, leases: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        return [leases[n] for s in range(self.slots) if (n := self.slot_lease(s)) in leases]

    def _alive(self, lease: dict[str, Any] | None, now: float) -> bool:
        """Whether a Lease has a holder who renewed it within its duration (as seen here)."""
        if lease is None or not _holder(lease):
            return False
        spec = lease.get("spec") or {}
        duration = float(spec.get("leaseDurationSeconds") or self.duration)
        seen = self._seen.get(lease["metadata"]["name"])
        return seen is None or now - seen[1] < duration

    async def _keep_slot(self, leases: dict[str, dict[str, Any]], now: float) -> None:
        if self._slot is not None:
            live = leases.get(self.slot_lease(self._slot))
            mine = live is not None and _holder(live) == self.identity
            if mine and await self._write(live, now):
                return
            log.warning("lost the replica slot %s", self.slot_lease(self._slot))
            self._slot = None
        for slot in range(self.slots):
            live = leases.get(self.slot_lease(slot))
            if (live is None or not self._alive(live, now)) and await self._write(
                live, now, name=self.slot_lease(slot)
            ):
                self._slot = slot
                return
        log.warning("all %d replica slots are taken: this replica resyncs nothing", self.slots)

    async def _take(self, live: dict[str, Any] | None, shard: int, now: float) -> None:
        if await self._write(live, now, shard=shard):
            previous = _holder(live) if live is not None else None
            log.info("took shard %d as %s (from %s)", shard, self.identity, previous or "nobody")

    def _lose(self, shard: int) -> None:
        if self._held.pop(shard, None) is not None:
            log.warning("lost shard %d", shard)

    async def _write(
        self,
        live: dict[str, Any] | None,
        now: float,
        *,
        shard: int | None = None,
        name: str | None = None,
    ) -> bool:
        """Write this replica into a Lease (new, taken over or renewed); whether it held.
        A write another replica got in first (409) holds nothing."""
        lease_name = name or (self.shard_lease(shard) if shard is not None else "")
        if live is not None:
            lease_name = live["metadata"]["name"]
        spec = (live or {}).get("spec") or {}
        taking_over = _holder(live) != self.identity if live is not None else True
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
        if shard is not None:
            self._held[shard] = now + self.duration * (1 - MARGIN)
        return True

    async def _release(self, live: dict[str, Any] | None, shard: int) -> None:
        """Give a shard up (it is over this replica's share, or the process ends), so another
        replica takes it at its next tick instead of after the lease duration."""
        self._held.pop(shard, None)
        if live is None or _holder(live) != self.identity:
            return
        released = {**live, "spec": {**live["spec"], "holderIdentity": None}}
        try:
            await self.api.replace(released)
            log.info("released shard %d", shard)
        except (ClusterError, ClusterUnavailable) as err:
            log.warning("could not release shard %d: %s", shard, err)

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
                live = leases.get(self.slot_lease(self._slot))
                self._slot = None
                if live is not None and _holder(live) == self.identity:
                    released = {**live, "spec": {**live["spec"], "holderIdentity": None}}
                    try:
                        await self.api.replace(released)
                    except (ClusterError, ClusterUnavailable) as err:
                        log.warning("could not release the replica slot: %s", err)


def _holder(lease: dict[str, Any] | None) -> str | None:
    return ((lease or {}).get("spec") or {}).get("holderIdentity") or None
