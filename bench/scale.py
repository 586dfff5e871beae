"""Many landscapes: what an idle resync round costs in GitHub's budget, and how long it takes.

Real peers on 127.0.0.1: the git server, the OCI registry with the reference release, and the
fake GitHub, which keeps GitHub's rate limits (token-tied ETags included) and answers each
request after a latency. The world is N landscapes the bot already serves: repositories of
`BRANCHES` landscape branches each, listed in their discovery file, every head rendered and its
render check run finished. Rounds run back to back on a clock that moves one poll interval
(600 s) a round, so installation tokens are renewed as on GitHub (every hour).

Printed: charged requests per idle landscape per round over a token renewal (target <= 0.05),
the landscapes one installation can serve at a 600 s poll under 5,000 requests an hour (target
>= 2,000), and the round's time per landscape at each N.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pygit2

from bot.adapters.github import pacing
from bot.adapters.github.app import http_client
from bot.adapters.gitrepo import Git, GitRepository
from bot.cli.main import main as cli
from bot.core.discovery import DISCOVERY_PATH
from bot.core.names import RENDER_CHECK
from bot.server.resync import Resync
from bot.services.context import BotContext
from bot.services.registries import open_landscape_reader
from bot.services.rerender import rerender_branch
from bot.settings import RegistrySettings, Settings
from tests.peers.github import FakeGitHub, run_fake_github
from tests.peers.github.app_key import new_app_key
from tests.peers.github.state import CheckRun, Installation
from tests.peers.gitserver import commit_directly, files_at, run_git_server
from tests.peers.registry import run_registry
from tests.reference_case import CASE, ROOT_COMPONENT, config_text, landscape_tree

POLL_SECONDS = 600.0
HOURLY_BUDGET = 5000
#: landscape branches per repository (a repository of many environments)
BRANCHES = int(os.environ.get("SCALE_BRANCHES", "10"))
#: GitHub's answer time, per request
LATENCY = 0.01
SIZES = tuple(int(n) for n in os.environ.get("SCALE_LANDSCAPES", "100,1000,5000").split(","))
#: idle rounds measured (a token lives 6 of them: one renewal falls inside)
ROUNDS = 8
TARGETS = {"charged": 0.05, "served": 2000}


@dataclass
class Clock:
    """The fake's and the App's clock: real time, moved on one poll interval a round."""

    offset: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@contextlib.contextmanager
def reference_release(name: str) -> Iterator[tuple[Path, str]]:
    """A scratch folder, and the reference release built into an OCI registry on 127.0.0.1:
    its root component's location."""
    with tempfile.TemporaryDirectory() as tmp, run_registry(Path(tmp) / "registry") as registry:
        repository = f"{registry.host}/{name}-{secrets.token_hex(4)}"
        constructor = CASE / "component-constructor.yaml"
        with contextlib.redirect_stdout(io.StringIO()):
            argv = ["ocm", "build", str(constructor), "--to", repository, "--plain-http-loopback"]
            assert cli(argv) == 0
        yield Path(tmp), f"{repository}//{ROOT_COMPONENT}:v0.0.1"


def discovery_file(branches: list[str]) -> bytes:
    return ("landscapes:\n" + "".join(f"  - branch: {b}\n" for b in branches)).encode()


def rendered_files(folder: Path, fake: FakeGitHub, location: str) -> dict[str, bytes]:
    """A landscape branch as the bot renders it (rendered once, by the bot's own code)."""
    installation = fake.add_installation("template")
    template = fake.add_repository(installation, "landscape")
    commit_directly(template.bare, "main", dict(landscape_tree(config_text(location))))

    async def token() -> str:
        return str(fake.git.token)

    cache = GitRepository.in_cache(folder / "setup", "template/landscape", template.clone_url)
    reader = partial(open_landscape_reader, settings(folder / "setup-cache"))
    asyncio.run(
        rerender_branch(Git(cache, token), branch="main", open_reader=reader, may_commit=True)
    )
    repo = pygit2.Repository(str(template.bare))
    return files_at(repo.references["refs/heads/main"].peel(pygit2.Commit))


def build_world(
    fake: FakeGitHub,
    installation: Installation,
    files: dict[str, bytes],
    landscapes: int,
    per_repository: int = BRANCHES,
) -> None:
    """Repositories of `per_repository` landscapes each, every head rendered and checked."""
    for number in range((landscapes + per_repository - 1) // per_repository):
        repository = fake.add_repository(installation, f"landscapes-{number}")
        count = min(per_repository, landscapes - number * per_repository)
        branches = [f"env-{b}" for b in range(count)]
        commit_directly(repository.bare, "main", {DISCOVERY_PATH: discovery_file(branches)})
        for branch in branches:
            head = commit_directly(repository.bare, branch, files)
            run = CheckRun(
                fake.state.next_id(),
                repository.full_name.lower(),
                head,
                RENDER_CHECK,
                fake.app_id,
                {"status": "completed", "conclusion": "success", "started_at": _now_iso()},
            )
            fake.state.add_check_run(run)


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def settings(cache: Path) -> Settings:
    return Settings(cache_dir=cache, registry=RegistrySettings(plain_http_loopback=True))


@dataclass(frozen=True)
class Measured:
    landscapes: int
    charged: float  # per landscape per round
    requests: float  # all installation requests per landscape per round
    round_seconds: float  # median idle round
    refused: dict[str, int]  # requests GitHub's limits refused, by limit
    by_operation: dict[str, int]  # charged requests in the measured rounds, by operation
    memory: int  # bytes the process grew by from before the first round to after the last
    restart: float  # charged requests per landscape in the round after a restart


async def measure(
    folder: Path, fake: FakeGitHub, private_pem: str, clock: Clock, files: dict[str, bytes], n: int
) -> Measured:
    installation = fake.add_installation(f"org-{n}")
    started = time.perf_counter()
    build_world(fake, installation, files, n)
    progress(f"{n} landscapes: world built in {time.perf_counter() - started:.0f} s")
    fake.latency = LATENCY
    async with http_client() as http:
        app = fake.app_client(private_pem, http, clock=clock)
        context = BotContext(settings(folder / f"bot-{n}"), app)
        resync = Resync(context)
        before = resident_bytes()
        started = time.perf_counter()
        with unpaced(fake):
            await resync.run_once()  # the round after a restart: caches warm up
        restart = sum(1 for r in fake.requests if r.auth == f"token:{installation.id}")
        restart_charged = sum(
            1 for r in fake.requests if r.auth == f"token:{installation.id}" and r.status != 304
        )
        progress(
            f"{n} landscapes: the round after a restart took {time.perf_counter() - started:.0f} s"
            f" unpaced, {restart} requests ({restart_charged} charged)"
        )
        fake.requests.clear()  # the fake's log is not the bot's memory
        clock.offset += POLL_SECONDS
        auth = f"token:{installation.id}"
        charged = total = 0
        times = []
        by_operation: dict[str, int] = {}
        for _ in range(ROUNDS):
            started = time.perf_counter()
            await resync.run_once()
            times.append(time.perf_counter() - started)
            mine = [r for r in fake.requests if r.auth == auth]
            total += len(mine)
            for request in mine:
                if request.status != 304:
                    charged += 1
                    name = str(request.operation_id)
                    by_operation[name] = by_operation.get(name, 0) + 1
            fake.requests.clear()
            clock.offset += POLL_SECONDS
        grown = resident_bytes() - before
    times.sort()
    return Measured(
        n,
        charged / (n * ROUNDS),
        total / (n * ROUNDS),
        times[len(times) // 2],
        dict(fake.limits.refused),
        by_operation,
        grown,
        restart_charged / n,
    )


@contextlib.contextmanager
def unpaced(fake: FakeGitHub) -> Iterator[None]:
    """The round after a restart refreshes every repository in full: under GitHub's 900
    points a minute, 5,000 landscapes take about half an hour, and their requests exceed an
    installation's hourly budget (so the bot spreads them over more than an hour). That is
    GitHub's pace and not what the idle rounds measure: it runs with GitHub's limits lifted,
    on both sides, and its cost is printed on its own."""
    paced = pacing.POINTS_PER_MINUTE, pacing.BURST_POINTS
    pacing.POINTS_PER_MINUTE = pacing.BURST_POINTS = 10**9
    fake.limits.enforce_secondary = fake.limits.enforce_primary = False
    try:
        yield
    finally:
        pacing.POINTS_PER_MINUTE, pacing.BURST_POINTS = paced
        fake.limits.enforce_secondary = fake.limits.enforce_primary = True


def progress(line: str) -> None:
    print(f"  ({line})", file=sys.stderr, flush=True)


def resident_bytes() -> int:
    """The process's resident memory now (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def main() -> int:
    key = new_app_key(4242)
    private, public = key.private_pem, key.public_pem

    async def go(folder: Path, location: str) -> list[Measured]:
        clock = Clock()
        results = []
        with run_git_server(folder / "git", token=secrets.token_hex(16)) as git:
            async with run_fake_github(git, app_id=4242, public_key_pem=public) as fake:
                files = await asyncio.to_thread(rendered_files, folder, fake, location)
            for n in SIZES:
                async with run_fake_github(
                    git, app_id=4242, public_key_pem=public, clock=clock
                ) as fake:
                    measured = await measure(folder, fake, private, clock, files, n)
                print_measured(measured)  # as it comes: the largest N takes long
                results.append(measured)
        return results

    with reference_release("scale") as (folder, location):
        print(
            f"idle resync rounds, {BRANCHES} landscapes a repository, {LATENCY * 1000:g} ms a "
            f"GitHub request, {ROUNDS} rounds {POLL_SECONDS:g} s apart (one token renewal):"
        )
        results = asyncio.run(go(folder, location))
    return report(results)


def report(results: list[Measured]) -> int:
    """1 if a figure missed its target."""
    return int(not all(_verdicts(m) == (True, True) for m in results))


def _served(m: Measured) -> float:
    return HOURLY_BUDGET / (m.charged * 3600 / POLL_SECONDS) if m.charged else float("inf")


def _verdicts(m: Measured) -> tuple[bool, bool]:
    return m.charged <= TARGETS["charged"], _served(m) >= TARGETS["served"]


def print_measured(m: Measured) -> None:
    served, verdicts = _served(m), _verdicts(m)
    print(
        f"  {m.landscapes:5} landscapes: {m.charged:.3f} charged requests per landscape "
        f"per round (target <= {TARGETS['charged']:g}) "
        f"{'ok' if verdicts[0] else 'OVER TARGET'}; {m.requests:.2f} requests in all; "
        f"one installation serves {served:,.0f} (target >= {TARGETS['served']:,}) "
        f"{'ok' if verdicts[1] else 'UNDER TARGET'}; round {m.round_seconds:.2f} s, "
        f"{m.round_seconds / m.landscapes * 1000:.2f} ms a landscape; memory "
        f"+{m.memory / 2**20:.1f} MiB over the rounds, {m.memory / m.landscapes / 1024:.1f} "
        "KiB a landscape"
    )
    print(
        f"         the round after a restart: {m.restart:.1f} charged requests per landscape; "
        f"refused by GitHub's limits: {m.refused or 'none'}; charged: {m.by_operation}"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
