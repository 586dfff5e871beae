"""What the leader Lease and the shard Leases share: the API, the identity of a replica, and
how a Lease records who holds it."""

from __future__ import annotations

import socket
import uuid
from datetime import datetime
from typing import Any

LEASE_API = "coordination.k8s.io/v1"
#: a holder stops counting itself holder this much before its lease could be taken over
MARGIN = 0.2


def identity() -> str:
    """This process among the replicas: the pod's name (its host name), made unique."""
    return f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"


def lease_record(spec: dict[str, Any]) -> tuple[Any, ...]:
    """What changes in a Lease when its holder renews it or another takes it."""
    return spec.get("holderIdentity"), spec.get("renewTime"), spec.get("acquireTime")


def micro_time(moment: datetime) -> str:
    """A Kubernetes MicroTime."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def released(lease: dict[str, Any]) -> dict[str, Any]:
    """`lease` given up: no holder, so the next candidate takes it at once, not after the
    lease duration (written with the resourceVersion read: a compare-and-swap)."""
    return {**lease, "spec": {**lease["spec"], "holderIdentity": None, "leaseDurationSeconds": 1}}
