"""Random faults for the peers, drawn from one seed.

Every peer that takes part asks `draw` once per request it serves, naming the kinds of fault it
can play (a 5xx, a rate limit, a reset connection, an answer lost after the work was done, a
stall, a truncated body, …). `injected` counts what was played, per peer and kind, for the chaos
figures. `calm()` ends the faults: the peers have recovered.
"""

from __future__ import annotations

import http.server
import random
import socket
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Chaos:
    seed: int
    #: the share of requests that meet a fault
    rate: float = 0.08
    enabled: bool = True
    injected: Counter[tuple[str, str]] = field(default_factory=Counter)
    _random: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def draw(self, peer: str, kinds: Sequence[str]) -> str | None:
        """The fault this request of `peer` meets, or None (peers run in threads too)."""
        with self._lock:
            if not self.enabled or self._random.random() >= self.rate:
                return None
            kind = self._random.choice(list(kinds))
            self.injected[(peer, kind)] += 1
            return kind

    def calm(self) -> None:
        self.enabled = False

    @property
    def total(self) -> int:
        return sum(self.injected.values())

    def figures(self) -> str:
        """What was injected, one `peer kind count` per line."""
        return "\n".join(f"{p} {k} {n}" for (p, k), n in sorted(self.injected.items()))


def refuse(handler: http.server.BaseHTTPRequestHandler, status: int) -> None:
    """Answer `status` with no body (a threaded peer's fault)."""
    handler.send_response(status)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def drop(handler: http.server.BaseHTTPRequestHandler) -> None:
    """Close the connection unanswered (a threaded peer's fault)."""
    handler.close_connection = True
    handler.connection.shutdown(socket.SHUT_RDWR)
