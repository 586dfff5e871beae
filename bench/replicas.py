"""Two replicas against one: the time a full resync round of N landscapes takes when the
replicas share it through shard Leases, and how soon a killed replica's shards move.

The peers run in this process (the git server, the OCI registry with the reference release,
the fake GitHub answering after 100 ms, about what api.github.com takes, and the fake
Kubernetes API holding the Leases); each bot replica is a process of its own, as a
Deployment's pods are, with its own caches, its own GitHub App client and its own
`ShardedLeases`. All of them share this machine's cores, so each one's CPU seconds are printed
too. Every round refreshes every repository in full
(`full_resync_every` 1), after two rounds that warm the replica's caches (the first one
weighs the shards, and the replicas share them out by that before the second). GitHub's limits are
lifted on both sides: two full rounds of 1,000 landscapes cost about 8,000 requests, most of an
installation's hourly budget, and the bot would spread them over the hour; GitHub's pace is not
what is measured here.

The lone replica and the pair run side by side, each holding its own set of shard Leases, and
their rounds alternate (one, two, one, two, ...): this machine's speed drifts with other work
on it, and a drift then slows both alike instead of whichever ran second.

Printed: the median of the measured rounds with one replica and with two, their ratio
(target <= 0.6), each replica's CPU and memory, the peers' CPU, and the time from killing one
replica to the other holding every shard, against the lease duration.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import multiprocessing
import os
import resource
import secrets
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path

from bench.scale import (
    BRANCHES,
    build_world,
    reference_release,
    rendered_files,
    resident_bytes,
)
from bot.adapters.cluster import Cluster
from bot.adapters.github import pacing
from bot.adapters.github.app import GitHubApp, http_client
from bot.adapters.leases import MARGIN
from bot.adapters.leases.shards import ShardedLeases, parse_weights
from bot.core.shards import assign_shards
from bot.server.resync import Resync
from bot.services.context import BotContext
from bot.settings import RegistrySettings, Settings
from tests.peers.github import FakeGitHub, run_fake_github
from tests.peers.github.app_key import new_app_key
from tests.peers.gitserver import run_git_server
from tests.peers.kubernetes import FakeKubernetes, run_fake_kubernetes

LANDSCAPES = int(os.environ.get("REPLICAS_LANDSCAPES", "1000"))
#: GitHub's answer time, per request: about what api.github.com takes
LATENCY = float(os.environ.get("REPLICAS_LATENCY", "0.1"))
SHARDS = 64
LEASE_SECONDS = 15.0
NAMESPACE = "bootstrap-bot"
TARGET = 0.6
#: measured rounds per configuration, after the warm-up; the median counts
ROUNDS = int(os.environ.get("REPLICAS_ROUNDS", "5"))
APP_ID = 4343


@dataclass(frozen=True)
class ReplicaSpec:
    identity: str
    leases: str  # the name of its Deployment's shard Leases
    github_url: str
    private_pem: str
    kubeconfig: Path
    cache: Path


@dataclass(frozen=True)
class RoundDone:
    repositories: int
    seconds: float
    cpu: float  # CPU seconds the replica spent on the round (all its threads)
    children: float  # CPU seconds of the programs it ran (kubectl kustomize)
    memory: int  # resident bytes of the replica after the round


def replica_process(spec: ReplicaSpec, conn: Connection) -> None:
    """One bot replica: rounds when asked, its shard Leases renewed meanwhile."""
    faulthandler.enable()  # a crash in a native library still says where
    pacing.POINTS_PER_MINUTE = pacing.BURST_POINTS = 10**9
    asyncio.run(_replica(spec, conn))


async def _replica(spec: ReplicaSpec, conn: Connection) -> None:
    settings = Settings(
        cache_dir=spec.cache,
        registry=RegistrySettings(plain_http_loopback=True),
        full_resync_every=1,
        job_timeout=timedelta(hours=1),
    )
    async with (
        http_client() as http,
        Cluster.connect(spec.kubeconfig) as api,
    ):
        github = GitHubApp(
            app_id=APP_ID, private_key=spec.private_pem, client=http, base_url=spec.github_url
        )
        leases = ShardedLeases(
            api,
            NAMESPACE,
            spec.leases,
            shards=SHARDS,
            identity=spec.identity,
            duration=LEASE_SECONDS,
            renew_every=LEASE_SECONDS * MARGIN,
        )
        renewing = asyncio.create_task(leases.run())
        resync = Resync(BotContext(settings, github), leases)
        try:
            while (await asyncio.to_thread(conn.recv)) == "round":
                started, cpu, children = time.perf_counter(), time.process_time(), child_cpu()
                count = await resync.run_once()
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
                done = RoundDone(count, seconds, cpu, child_cpu() - children, resident_bytes())
                conn.send(done)
        finally:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)


class Replica:
    def __init__(self, spec: ReplicaSpec) -> None:
        self.spec = spec
        self.conn, child = multiprocessing.get_context("spawn").Pipe()
        self.process = multiprocessing.get_context("spawn").Process(
            target=replica_process, args=(spec, child), name=spec.identity
        )
        self.process.start()

    async def round(self) -> RoundDone:
        self.conn.send("round")
        while not await asyncio.to_thread(self.conn.poll, 1.0):
            if not self.process.is_alive():
                raise RuntimeError(f"{self.spec.identity} ended with {self.process.exitcode}")
        done: RoundDone = self.conn.recv()
        return done

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send("stop")
        self.process.join(30)
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
            self.process.join(10)


def holders(kube: FakeKubernetes, leases: str) -> dict[str, int]:
    """Shards of the Leases `leases` held by each replica, per the API server."""
    counted: dict[str, int] = {}
    for holder in shard_holders(kube, leases).values():
        counted[holder] = counted.get(holder, 0) + 1
    return counted


def shard_holders(kube: FakeKubernetes, leases: str) -> dict[int, str]:
    held = {}
    for (_, _, _, name), lease in kube.store.objects.items():
        holder = (lease.get("spec") or {}).get("holderIdentity")
        if name.startswith(f"{leases}-shard-") and holder:
            held[int(name.rsplit("-", 1)[1])] = holder
    return held


def published_weights(kube: FakeKubernetes, replicas: list[Replica]) -> list[int] | None:
    """The weights every replica of the group has published, the newest; None until each
    one has."""
    leases, members = replicas[0].spec.leases, {r.spec.identity for r in replicas}
    found: dict[str, tuple[float, tuple[int, ...]]] = {}
    for (_, _, _, name), lease in kube.store.objects.items():
        holder = (lease.get("spec") or {}).get("holderIdentity")
        weights = parse_weights(lease, SHARDS)
        if name.startswith(f"{leases}-replica-") and holder in members and weights:
            found[holder] = weights
    return list(max(found.values())[1]) if set(found) == members else None


async def settled(kube: FakeKubernetes, replicas: list[Replica], *, weighed: bool) -> None:
    """Until the replicas hold every shard, shared out as they would share them: by number,
    or (`weighed`) by the repositories each replica's last round found in them."""
    leases, members = replicas[0].spec.leases, [r.spec.identity for r in replicas]
    deadline = time.monotonic() + 6 * LEASE_SECONDS
    while True:
        weights = published_weights(kube, replicas) if weighed else [1] * SHARDS
        held = shard_holders(kube, leases)
        if weights and len(held) == SHARDS and assign_shards(weights, held, members) == held:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"shards never settled: {holders(kube, leases)}")
        await asyncio.sleep(0.2)


@dataclass(frozen=True)
class Measured:
    """The median of the measured rounds (by its slowest replica), and the spread of all."""

    done: list[RoundDone]
    peers: float  # CPU seconds the peers spent on it
    spread: tuple[float, float]  # fastest and slowest round, seconds


async def measured_rounds(kube: FakeKubernetes, groups: list[list[Replica]]) -> list[Measured]:
    """Two warm-up rounds of each group (after the first, the replicas share the shards out
    by the repositories it found in them), then ROUNDS measured ones of each, the groups taking
    turns, all replicas of a group at once; the median round of each group. This machine's
    cores are shared (with the peers, and with other machines' work): one round alone can be
    a quarter slower than the next for the same work."""
    for replicas in groups:
        await settled(kube, replicas, weighed=False)
    for replicas in groups:
        await asyncio.gather(*(r.round() for r in replicas))
    for replicas in groups:  # shared out again by the work the warm-up found in each shard,
        await settled(kube, replicas, weighed=True)
        # and a round more, for the caches of the repositories that moved
        await asyncio.gather(*(r.round() for r in replicas))
    rounds: list[list[tuple[float, list[RoundDone], float]]] = [[] for _ in groups]
    for _ in range(ROUNDS):
        for replicas, measured in zip(groups, rounds, strict=True):
            cpu = time.process_time() + child_cpu()
            done = list(await asyncio.gather(*(r.round() for r in replicas)))
            peers = time.process_time() + child_cpu() - cpu
            measured.append((max(d.seconds for d in done), done, peers))
    medians = []
    for measured in rounds:
        measured.sort(key=lambda one: one[0])
        _, done, peers = measured[len(measured) // 2]
        medians.append(Measured(done, peers, (measured[0][0], measured[-1][0])))
    return medians


def child_cpu() -> float:
    """CPU seconds of the programs this process ran and waited for (kubectl, git)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def compare(folder: Path, fake: FakeGitHub, kube: FakeKubernetes, private: str) -> int:
    kubeconfig = kube.kubeconfig(folder / "kubeconfig")

    def spec(name: str, leases: str) -> ReplicaSpec:
        return ReplicaSpec(name, leases, fake.url, private, kubeconfig, folder / name)

    one = [Replica(spec("alone", "bootstrap-bot-one"))]
    two = [Replica(spec(f"replica-{n}", "bootstrap-bot-two")) for n in "ab"]
    try:
        alone, pair = await measured_rounds(kube, [one, two])
        one[0].stop()
        # one replica dies: how soon the other holds every shard
        two[1].kill()
        killed = time.monotonic()
        while holders(kube, "bootstrap-bot-two").get("replica-a") != SHARDS:
            await asyncio.sleep(0.1)
        takeover = time.monotonic() - killed
    finally:
        for replica in [*one, *two]:
            replica.stop()
    return report(alone, pair, takeover)


def report(alone: Measured, pair: Measured, takeover: float) -> int:
    one = alone.done[0]
    ratio = max(done.seconds for done in pair.done) / one.seconds
    print(
        f"  one replica: {one.repositories} repositories in {one.seconds:.1f} s "
        f"({one.cpu:.1f} CPU s, {one.children:.1f} in kubectl, memory "
        f"{one.memory / 2**20:.0f} MiB); the peers {alone.peers:.1f} CPU s; "
        f"{_spread(alone)}"
    )
    print(
        "  two replicas: "
        + ", ".join(
            f"{d.repositories} repositories in {d.seconds:.1f} s "
            f"({d.cpu:.1f} CPU s, {d.children:.1f} in kubectl, memory "
            f"{d.memory / 2**20:.0f} MiB)"
            for d in pair.done
        )
        + f"; the peers {pair.peers:.1f} CPU s; {_spread(pair)} "
        f"({os.cpu_count()} cores for all of them)"
    )
    print(
        f"  two replicas take {ratio:.2f}x the time of one (target <= {TARGET:g}) "
        f"{'ok' if ratio <= TARGET else 'OVER TARGET'}"
    )
    within = takeover <= LEASE_SECONDS
    print(
        f"  a killed replica's shards held by the other after {takeover:.1f} s (lease "
        f"{LEASE_SECONDS:g} s, renewed every {LEASE_SECONDS * MARGIN:g} s) "
        f"{'ok' if within else 'TOO SLOW'}"
    )
    sys.stdout.flush()
    return int(ratio > TARGET or not within)


def _spread(measured: Measured) -> str:
    fastest, slowest = measured.spread
    return f"median of {ROUNDS} rounds ({fastest:.1f} to {slowest:.1f} s)"


def main() -> int:
    key = new_app_key(APP_ID)

    async def go(folder: Path, location: str) -> int:
        with run_git_server(folder / "git", token=secrets.token_hex(16)) as git:
            async with run_fake_github(git, app_id=APP_ID, public_key_pem=key.public_pem) as fake:
                files = await asyncio.to_thread(rendered_files, folder, fake, location)
                build_world(fake, fake.add_installation("org"), files, LANDSCAPES)
                fake.latency = LATENCY
                fake.limits.enforce_secondary = fake.limits.enforce_primary = False
                async with run_fake_kubernetes() as kube:
                    kube.store.create(
                        kube.store.resource("", "v1", "namespaces"),
                        "",
                        {"metadata": {"name": NAMESPACE}},
                        "kubectl",
                    )
                    return await compare(folder, fake, kube, key.private_pem)

    with reference_release("replicas") as (folder, location):
        print(
            f"full resync rounds of {LANDSCAPES} landscapes ({BRANCHES} a repository, "
            f"{LATENCY * 1000:g} ms a GitHub request), {SHARDS} shard Leases:"
        )
        return asyncio.run(go(folder, location))


if __name__ == "__main__":
    sys.exit(main())
