"""The fake GitHub REST API peer (see server.py) and its OpenAPI contract (contract.py)."""

from tests.peers.github.server import FakeGitHub, run_fake_github

__all__ = ["FakeGitHub", "run_fake_github"]
