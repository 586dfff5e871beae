"""The fake Kubernetes API server peer (server.py, store.py) and the Flux simulator (flux.py)."""

from tests.peers.kubernetes.server import FakeKubernetes, run_fake_kubernetes

__all__ = ["FakeKubernetes", "run_fake_kubernetes"]
