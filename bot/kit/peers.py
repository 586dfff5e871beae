"""Whether the peers the bot depends on answer: GitHub, the registries, git, the clusters.

Each adapter tells `PEERS` how its last request went (`answered`, `failed`); the state shows as
the gauge `bootstrap_bot_peer_up{peer}` (1 answered, 0 failed; a peer not asked yet is absent)
and in the log as one line when a peer stops answering, with the cause, and one when it is
back, never a traceback. Peers are named by kind (`github`, `registry`, `git`, `cluster`): the
registries a config names are the config author's, so they are never metric labels.

Readiness (`/readyz`) does not follow this: a replica taken out of the Service while GitHub is
out of reach would only lose the deliveries GitHub sends when it is back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Literal

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)
Peer = Literal["github", "registry", "git", "cluster"]


class PeerStatus:
    def __init__(self) -> None:
        self._up: dict[str, bool] = {}
        self._lock = threading.Lock()  # adapters run in worker threads too

    def answered(self, peer: Peer) -> None:
        with self._lock:
            was = self._up.get(peer)
            self._up[peer] = True
        if was is False:
            log.info("%s answers again", peer)

    def failed(self, peer: Peer, cause: str) -> None:
        with self._lock:
            was = self._up.get(peer)
            self._up[peer] = False
        if was is not False:
            log.warning("%s is unavailable: %s", peer, cause[:300])

    def up(self, peer: Peer) -> bool | None:
        return self._up.get(peer)

    def forget(self) -> None:
        with self._lock:
            self._up.clear()


class _PeerCollector(Collector):
    def __init__(self, status: PeerStatus) -> None:
        self._status = status

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "bootstrap_bot_peer_up",
            "Whether the peer answered the last request (1) or failed (0)",
            labels=["peer"],
        )
        for peer, up in sorted(self._status._up.items()):
            gauge.add_metric([peer], 1.0 if up else 0.0)
        yield gauge


#: the process's one view of its peers
PEERS = PeerStatus()


def register_peer_metrics(registry: CollectorRegistry) -> None:
    """Show `PEERS` in `registry` (the one `/metrics` serves)."""
    registry.register(_PeerCollector(PEERS))
