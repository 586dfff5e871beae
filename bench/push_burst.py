"""A burst of pushes: 200 pushes to the landscape branches of 50 repositories, delivered
through the real webhook server.

The peers are real on 127.0.0.1 (the git server, the OCI registry with the reference release,
the fake GitHub); the bot renders with its own pipeline. The baseline is the same burst, in
the same run, with the two things that spare renders turned off: pushes queued behind a job
for their branch joining it (`bot.server.coalesce`), and a head a push job rendered already
not being rendered again (`RenderedHeads`).

Two shapes of burst: all pushes land before their deliveries arrive (a script, a merge train
faster than the webhooks), and each delivery arrives right after its push. Printed: renders
against the pushes and the branches, whether any head was rendered twice (target: none), and
the burst's time, against the baseline.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from unittest import mock

import pygit2
from aiohttp.test_utils import TestClient, TestServer
from gidgethub.sansio import Event
from prometheus_client import CollectorRegistry

from bench.scale import reference_release, rendered_files, settings
from bot.adapters.github.app import http_client
from bot.core.names import RENDER_CHECK
from bot.server import coalesce
from bot.server.http import QUEUE, bot_application
from bot.services.context import BotContext
from tests.integration.landscape_bot import SECRET, LandscapeBot
from tests.peers.github import FakeGitHub, run_fake_github
from tests.peers.github.app_key import new_app_key
from tests.peers.gitserver import commit_directly, run_git_server

REPOSITORIES = 50
PUSHES = 200
APP_ID = 4545
SEED = 27


@dataclass(frozen=True)
class Burst:
    renders: int
    heads_rendered: int  # distinct heads with a render check run
    seconds: float


class NeverJoined(coalesce.QueuedPushes):
    def absorb(self, event: Event) -> bool:
        return False


@contextlib.contextmanager
def baseline(context: BotContext) -> Iterator[None]:
    """The bot without coalescing and without the memory of rendered heads."""
    context.rendered_heads.capacity = 0
    with mock.patch("bot.server.http.QueuedPushes", NeverJoined):
        yield


async def burst(
    folder: Path,
    fake: FakeGitHub,
    private: str,
    files: dict[str, bytes],
    *,
    spare: bool,
    interleaved: bool,
) -> Burst:
    """The burst against a bot of its own: each delivery right after its push
    (`interleaved`), or all pushes first and then their deliveries, in order."""
    label = f"burst-{'bot' if spare else 'baseline'}-{'interleaved' if interleaved else 'after'}"
    installation = fake.add_installation(label)
    repositories = [
        fake.add_repository(installation, f"landscape-{n}") for n in range(REPOSITORIES)
    ]
    for repository in repositories:
        commit_directly(repository.bare, "main", files)
    async with http_client() as http:
        metrics = CollectorRegistry()
        github = fake.app_client(private, http, registry=metrics)
        context = BotContext(settings(folder / label), github, metrics=metrics)
        with contextlib.ExitStack() as stack:
            if not spare:
                stack.enter_context(baseline(context))
            app = bot_application(context, SECRET)
        client = TestClient(TestServer(app))
        await client.start_server()
        try:
            bots = [
                LandscapeBot(fake, installation, repository, "", context, app, client)
                for repository in repositories
            ]
            order = [bots[n % REPOSITORIES] for n in range(PUSHES)]
            random.Random(SEED).shuffle(order)
            started = time.perf_counter()
            deliveries = []
            for number, bot in enumerate(order):
                before = str(_head(bot))
                after = commit_directly(
                    bot.repository.bare, "main", {f"notes/{number}.md": f"{number}\n".encode()}
                )
                event = bot.push_event("main", before, after)
                if interleaved:  # GitHub's delivery of it right after
                    await bot.post("push", event)
                else:
                    deliveries.append((bot, event))
            for bot, event in deliveries:
                await bot.post("push", event)
            await asyncio.wait_for(app[QUEUE].settle(), 1800)
            seconds = time.perf_counter() - started
        finally:
            await client.close()
    renders = sum(
        sample.value
        for metric in metrics.collect()
        if metric.name == "bootstrap_bot_branch_renders"
        for sample in metric.samples
        if sample.name.endswith("_total")
    )
    names = {r.full_name.lower() for r in repositories}
    heads = {
        (run.repository, run.head_sha)
        for run in fake.state.check_runs.values()
        if run.name == RENDER_CHECK and run.repository in names
    }
    return Burst(int(renders), len(heads), seconds)


def _head(bot: LandscapeBot) -> str:
    git = pygit2.Repository(str(bot.repository.bare))
    return str(git.references["refs/heads/main"].target)


def main() -> int:
    key = new_app_key(APP_ID)

    async def go(folder: Path, location: str) -> tuple[Burst, Burst, Burst]:
        with run_git_server(folder / "git", token=secrets.token_hex(16)) as git:
            async with run_fake_github(git, app_id=APP_ID, public_key_pem=key.public_pem) as fake:
                files = await asyncio.to_thread(rendered_files, folder, fake, location)
                run = partial(burst, folder, fake, key.private_pem, files)
                off = await run(spare=False, interleaved=False)
                on = await run(spare=True, interleaved=False)
                interleaved = await run(spare=True, interleaved=True)
        return off, on, interleaved

    with reference_release("burst") as (folder, location):
        off, on, interleaved = asyncio.run(go(folder, location))
    print(f"{PUSHES} pushes to the landscape branches of {REPOSITORIES} repositories:")
    print(
        "  delivered after the burst, baseline (no coalescing, no memory of rendered heads): "
        f"{off.renders} renders ({off.renders - off.heads_rendered} of a head rendered before), "
        f"{off.seconds:.1f} s"
    )
    print(
        f"  delivered after the burst, bot: {on.renders} renders ({on.renders / off.renders:.2f}x "
        f"the baseline, {on.renders / REPOSITORIES:.2f} a branch), {on.seconds:.1f} s "
        f"({on.seconds / off.seconds:.2f}x)"
    )
    print(
        f"  each delivered right after its push, bot: {interleaved.renders} renders "
        f"({interleaved.renders / PUSHES:.2f} a push), {interleaved.seconds:.1f} s"
    )
    twice = max(on.renders - on.heads_rendered, interleaved.renders - interleaved.heads_rendered)
    print(f"  heads the bot rendered twice: {twice} (target 0) {'ok' if twice <= 0 else 'OVER'}")
    sys.stdout.flush()
    return int(twice > 0)


if __name__ == "__main__":
    sys.exit(main())
