"""The seeded chaos test (`tests.integration.chaos`): a few seeds here; `make chaos` runs many
(`CHAOS_SEEDS=1-40`) and prints the figures."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.integration.chaos import Run, Stage, differences, play
from tests.peers.chaos import Chaos
from tests.peers.github.app_key import AppKey
from tests.peers.gitserver import GitServer
from tests.peers.registry import Registry
from tests.peers.registry_proxy import run_registry_proxy

pytestmark = pytest.mark.peers


def seeds() -> list[int]:
    """`CHAOS_SEEDS`: `1,5,9` or `1-40` (default: two seeds)."""
    text = os.environ.get("CHAOS_SEEDS", "1,2")
    if "-" in text:
        first, last = (int(n) for n in text.split("-"))
        return list(range(first, last + 1))
    return [int(n) for n in text.split(",")]


RATE = float(os.environ.get("CHAOS_RATE", "0.05"))


async def test_faults_in_every_peer_lose_and_duplicate_nothing(
    git_server: GitServer,
    oci_registry: Registry,
    app_key: AppKey,
    aiohttp_client: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
):
    with run_registry_proxy(oci_registry.host) as proxy:
        stage = Stage(git_server, oci_registry, proxy, app_key, aiohttp_client, tmp_path)
        calm = await play(stage, None)
        assert calm.state["unfinished check runs"] == []
        runs: list[tuple[Chaos, Run]] = []
        for seed in seeds():
            chaos = Chaos(seed, rate=RATE)
            run = await play(stage, chaos)
            runs.append((chaos, run))
            differ = differences(calm.state, run.state)
            assert not differ, f"seed {seed} ended elsewhere:\n{chaos.figures()}\n{differ}"
    with capsys.disabled():
        print(figures(calm, runs))


def figures(calm: Run, runs: list[tuple[Chaos, Run]]) -> str:
    injected: dict[tuple[str, str], int] = {}
    for chaos, _ in runs:
        for key, count in chaos.injected.items():
            injected[key] = injected.get(key, 0) + count
    kinds = ", ".join(f"{peer} {kind} {n}" for (peer, kind), n in sorted(injected.items()))
    compared = len(calm.state)
    return (
        f"\nchaos: {len(runs)} seeds at rate {RATE}, {sum(injected.values())} faults injected "
        f"({kinds}); {compared} parts of the final state compared per seed; lost 0, "
        f"duplicated 0\n"
    )
