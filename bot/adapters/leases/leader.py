"""Which replica runs the background loops: the holder of a `coordination.k8s.io/v1` Lease
(with `leader_election.shards` above 1, the replicas share the resync instead:
`bot.adapters.leases.shards`).

Webhook work needs no leader (every write is an ensure); the resync and release poll do, or
every replica would poll the registries. The protocol is client-go's leader election:

1. a candidate reads the Lease; when nobody holds it, or the holder has not renewed it for
   `leaseDurationSeconds` by this process's own clock (it notes when it last saw the record
   change, so clocks of different machines never need to agree), it writes itself as holder;
2. every write carries the resourceVersion it read, so of several candidates only one wins;
3. the holder renews every `renew_every` seconds, and counts as leading only while its last
   renewal is younger than the lease duration (less a margin), so a stalled holder stops
   before another may start;
4. on shutdown the holder clears `holderIdentity`, and another replica takes over at its next
   try instead of after the lease duration.

Outside a cluster there is nobody to coordinate with: `SoleProcess` leads.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from bot.adapters.cluster import Cluster, ClusterError, ClusterUnavailable, ObjectRef
from bot.adapters.leases import (
    LEASE_API,
    MARGIN,
    identity,
    lease_record,
    micro_time,
    released,
)
from bot.adapters.leases.shards import ShardedLeases
from bot.core.failures import Failure
from bot.settings import LeaderElection

log = logging.getLogger(__name__)
#: where Kubernetes tells a pod its namespace
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


class Leadership(Protocol):
    """Which of the resync's `count` shards this process runs now (`bot.core.shards`)."""

    @property
    def count(self) -> int: ...

    async def held(self) -> frozenset[int]:
        """The shards this process resyncs now (none: another replica does it all)."""
        ...

    def weigh(self, weights: Sequence[int]) -> None:
        """The work in each shard, as the last round found it (`bot.core.shards`), which the
        replicas share the shards out by."""
        ...


ALL_OF_ONE = frozenset({0})


class SoleProcess:
    """Leadership when this is the only process: it always leads."""

    count = 1

    async def held(self) -> frozenset[int]:
        return ALL_OF_ONE

    def weigh(self, weights: Sequence[int]) -> None:
        """One shard: nothing to share out."""


class LeaderElectionError(Failure):
    """The Lease cannot be used as configured."""


@asynccontextmanager
async def leadership(settings: LeaderElection) -> AsyncIterator[Leadership]:
    """The leadership `settings` ask for; a Lease is taken and renewed meanwhile, and
    released at the end."""
    in_cluster = bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
    if settings.mode == "off" or (settings.mode == "auto" and not in_cluster):
        yield SoleProcess()
        return
    namespace = settings.namespace or os.environ.get("POD_NAMESPACE") or _own_namespace()
    duration = settings.duration.total_seconds()
    async with Cluster.connect(settings.kubeconfig) as api:
        lease: LeaseLeadership | ShardedLeases
        if settings.shards == 1:
            lease = LeaseLeadership(
                api, namespace, settings.name, duration=duration, renew_every=duration / 3
            )
        else:
            lease = ShardedLeases(
                api,
                namespace,
                settings.name,
                shards=settings.shards,
                duration=duration,
                renew_every=duration * MARGIN,
            )
        renewing = asyncio.create_task(lease.run(), name="lease")
        try:
            yield lease
        finally:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)


def _own_namespace() -> str:
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
    except OSError:
        raise LeaderElectionError(
            "leader_election: no namespace for the Lease: set leader_election.namespace or "
            "POD_NAMESPACE"
        ) from None


@dataclass
class LeaseLeadership:
    api: Cluster
    namespace: str
    name: str
    identity: str = field(default_factory=identity)
    duration: float = 15.0
    renew_every: float = 5.0
    #: seconds on a monotonic clock (default: the event loop's)
    clock: Callable[[], float] | None = None
    #: (the record last seen, this process's loop time when it was first seen)
    _seen: tuple[Any, float] | None = None
    #: loop time until which this process may act as leader
    _valid_until: float = 0.0
    #: one attempt at a time: the renewal loop and `leading()` must not race each other
    _attempting: asyncio.Lock = field(default_factory=asyncio.Lock)

    count = 1

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(LEASE_API, "Lease", self.namespace, self.name)

    async def held(self) -> frozenset[int]:
        return ALL_OF_ONE if await self.leading() else frozenset()

    def weigh(self, weights: Sequence[int]) -> None:
        """One shard: nothing to share out."""

    async def leading(self) -> bool:
        """Whether this process holds the Lease now (trying to take or renew it first, when
        the renewal loop is not running)."""
        if self._now() >= self._valid_until:
            await self.try_acquire()
        return self._now() < self._valid_until

    def _now(self) -> float:
        return self.clock() if self.clock else asyncio.get_running_loop().time()

    async def try_acquire(self) -> bool:
        """One attempt to take or renew the Lease; whether this process holds it."""
        async with self._attempting:
            started = self._now()
            try:
                held = await self._attempt(started)
            except (ClusterError, ClusterUnavailable) as err:
                # Another candidate won the race (409), or the API server is away: not leading.
                log.debug("lease %s/%s: %s", self.namespace, self.name, err)
                held = False
            if held:
                self._valid_until = started + self.duration * (1 - MARGIN)
            else:
                if self._valid_until > started:
                    log.warning("lost the lease %s/%s", self.namespace, self.name)
                self._valid_until = 0.0
            return held

    async def _attempt(self, now: float) -> bool:
        live = await self.api.get(self.ref)
        moment = micro_time(datetime.now(UTC))
        if live is None:
            await self.api.create(self._lease({}, moment, transitions=0))
            log.info("took the lease %s/%s as %s", self.namespace, self.name, self.identity)
            return True
        spec = live.get("spec") or {}
        if self._seen is None or self._seen[0] != lease_record(spec):
            self._seen = (lease_record(spec), now)
        holder = spec.get("holderIdentity")
        duration = float(spec.get("leaseDurationSeconds") or self.duration)
        expired = now - self._seen[1] >= duration
        if holder and holder != self.identity and not expired:
            return False
        taking_over = holder != self.identity
        transitions = int(spec.get("leaseTransitions") or 0) + (1 if taking_over else 0)
        lease = self._lease(live, moment, transitions, acquired=None if taking_over else spec)
        written = await self.api.replace(lease)
        self._seen = (lease_record(written.get("spec") or {}), now)
        if taking_over:
            log.info(
                "took the lease %s/%s as %s (from %s)",
                self.namespace,
                self.name,
                self.identity,
                holder or "nobody",
            )
        return True

    def _lease(
        self,
        live: dict[str, Any],
        moment: str,
        transitions: int,
        acquired: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        metadata: dict[str, Any] = {"name": self.name, "namespace": self.namespace}
        version = (live.get("metadata") or {}).get("resourceVersion")
        if version:
            metadata["resourceVersion"] = version  # compare-and-swap
        return {
            "apiVersion": LEASE_API,
            "kind": "Lease",
            "metadata": metadata,
            "spec": {
                "holderIdentity": self.identity,
                "leaseDurationSeconds": max(1, round(self.duration)),
                "acquireTime": (acquired or {}).get("acquireTime") or moment,
                "renewTime": moment,
                "leaseTransitions": transitions,
            },
        }

    async def run(self) -> None:
        """Take and renew the Lease until cancelled; then give it up if held."""
        try:
            while True:
                await self.try_acquire()
                await asyncio.sleep(self.renew_every)
        finally:
            await asyncio.shield(self.release())

    async def release(self) -> None:
        """Give the Lease up, if held, so another replica need not wait for it to expire."""
        async with self._attempting:
            if self._valid_until <= self._now():
                return
            self._valid_until = 0.0
            try:
                live = await self.api.get(self.ref)
                spec = (live or {}).get("spec") or {}
                if live is None or spec.get("holderIdentity") != self.identity:
                    return
                await self.api.replace(released(live))
                log.info("released the lease %s/%s", self.namespace, self.name)
            except (ClusterError, ClusterUnavailable) as err:
                log.warning("could not release the lease %s/%s: %s", self.namespace, self.name, err)
