"""The landscape branches of one repository, caught up side by side: a full resync of one
repository of 50 landscapes, GitHub answering each request after 100 ms.

Real peers on 127.0.0.1 (the git server, the OCI registry with the reference release, the fake
GitHub). Every head is rendered and checked already, so the refresh asks GitHub what is open
and finished for each landscape, as a verification round does. The baseline is the same
refresh one landscape at a time (`PARALLEL_LANDSCAPES` 1), in the same run.

Printed: both refreshes' time, and their ratio. Side by side, the requests meet the bot's
pacing under GitHub's secondary limits (720 of its 900 points a minute), which is what bounds
the ratio.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import time
from pathlib import Path
from unittest import mock

from bench.scale import build_world, reference_release, rendered_files, settings
from bot.adapters.github.app import http_client
from bot.flows import repository as repository_flow
from bot.flows.repository import refresh_repository
from bot.services.context import BotContext
from tests.peers.github import FakeGitHub, run_fake_github
from tests.peers.github.app_key import new_app_key
from tests.peers.gitserver import run_git_server

LANDSCAPES = 50
LATENCY = 0.1
APP_ID = 4646


async def refresh(folder: Path, fake: FakeGitHub, private: str, files: dict[str, bytes]) -> float:
    installation = fake.add_installation(f"org-{secrets.token_hex(3)}")
    build_world(fake, installation, files, LANDSCAPES, per_repository=LANDSCAPES)
    full_name = f"{installation.account}/landscapes-0"
    async with http_client() as http:
        context = BotContext(
            settings(folder / installation.account), fake.app_client(private, http)
        )
        gh = context.github.installation(installation.id)
        started = time.perf_counter()
        refreshed = await refresh_repository(context, gh, full_name, resync=True)
        seconds = time.perf_counter() - started
    assert len(refreshed.landscapes) == LANDSCAPES
    return seconds


def main() -> int:
    key = new_app_key(APP_ID)

    async def go(folder: Path, location: str) -> tuple[float, float]:
        with run_git_server(folder / "git", token=secrets.token_hex(16)) as git:
            async with run_fake_github(git, app_id=APP_ID, public_key_pem=key.public_pem) as fake:
                files = await asyncio.to_thread(rendered_files, folder, fake, location)
                fake.latency = LATENCY
                with mock.patch.object(repository_flow, "PARALLEL_LANDSCAPES", 1):
                    one_at_a_time = await refresh(folder, fake, key.private_pem, files)
                side_by_side = await refresh(folder, fake, key.private_pem, files)
        return one_at_a_time, side_by_side

    with reference_release("branches") as (folder, location):
        one_at_a_time, side_by_side = asyncio.run(go(folder, location))
    print(
        f"a full resync of one repository of {LANDSCAPES} landscapes, "
        f"{LATENCY * 1000:g} ms a GitHub request:"
    )
    print(
        f"  one landscape at a time: {one_at_a_time:.1f} s; "
        f"{repository_flow.PARALLEL_LANDSCAPES} at once: {side_by_side:.1f} s "
        f"({side_by_side / one_at_a_time:.2f}x)"
    )
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
