"""Peer health: one log line when a peer stops answering and one when it is back; a gauge."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from bot.kit import peers
from bot.kit.peers import PeerStatus


def test_transitions_are_logged_once_each_and_shown_as_a_gauge(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
):
    status = PeerStatus()
    monkeypatch.setattr(peers, "PEERS", status)
    registry = CollectorRegistry()
    peers.register_peer_metrics(registry)
    caplog.set_level(logging.INFO, logger="bot.kit.peers")

    status.answered("github")
    for _ in range(3):
        status.failed("github", "GET /app: [Errno -2] Name or service not known")
    status.failed("registry", "HTTP 503")
    status.answered("github")
    status.answered("github")

    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "github is unavailable: GET /app: [Errno -2] Name or service not known",
        "registry is unavailable: HTTP 503",
        "github answers again",
    ]
    assert all(r.exc_info is None for r in caplog.records)
    shown = generate_latest(registry).decode()
    assert 'bootstrap_bot_peer_up{peer="github"} 1.0' in shown
    assert 'bootstrap_bot_peer_up{peer="registry"} 0.0' in shown
    assert 'peer="git"' not in shown  # not asked yet
