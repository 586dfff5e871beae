"""The chaos scenario: the bot's whole loop, once with peers that never fail and once under
random faults in every peer, and the final states compared.

The scenario: a pull request enabling a service provider (rendered, the bot's commit coming
back as a `synchronize`), `/bootstrap plan` and `/bootstrap status` on it, its merge and the
apply to the cluster, a new openMCP release proposed as an upgrade pull request by the resync,
and `/bootstrap render` on that. Under chaos, every peer (the fake GitHub, the registry proxy,
the git server, the fake API server) meets a fault on a share of its requests; then the peers
recover and resync rounds run until a round writes nothing. What the bot left on GitHub, in git
and in the cluster must be what the fault-free run left: the same pull requests, branches,
comments, check-run conclusions and reactions, none twice, none missing.

Commit ids differ between runs (the bot's commits carry the time), so commits are compared by
their files and messages, and texts with ids, durations and times blanked; so is the created /
unchanged split of an apply (one redone after a fault finds what its first try created), while
the objects applied and the cluster's objects are compared as they are.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pygit2

from bot.server.http import TIMERS
from bot.server.resync import Resync
from tests.integration.deployment import Deployment, run_deployment
from tests.integration.flows.test_flow_pull_request import propose
from tests.integration.flows.test_flow_upgrade import Releases, v0_0_2
from tests.integration.landscape_bot import REPO, LandscapeBot
from tests.peers.chaos import Chaos
from tests.peers.github.app_key import AppKey
from tests.peers.github.server import run_fake_github
from tests.peers.gitserver import GitServer
from tests.peers.registry import Registry
from tests.peers.registry_proxy import RegistryProxy

#: rounds after the peers recover before the bot must be quiet
SETTLE_ROUNDS = 6
_WRITES = ("POST", "PATCH", "PUT", "DELETE")
_BLANKS = [
    (re.compile(r"\b[0-9a-f]{7,64}\b"), "<id>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ?"), "<time>"),
    (re.compile(r"\b\d+(\.\d+)?\s?(ms|s|m)\b"), "<duration>"),
    (re.compile(r"#issuecomment-\d+"), "#issuecomment-<n>"),
    (re.compile(r"reply-to-\d+"), "reply-to-<n>"),
    # an apply redone after a fault finds what the first try created unchanged
    (re.compile(r"by server-side apply: [^\n]*"), "by server-side apply: <tally>"),
    (re.compile(r"/check-runs/\d+"), "/check-runs/<n>"),
    (re.compile(r"upgrades-[0-9a-f]{8}"), "upgrades-<r>"),
]


def blank(text: str) -> str:
    for pattern, replacement in _BLANKS:
        text = pattern.sub(replacement, text)
    return text


@dataclass
class Run:
    """One play of the scenario: its final state, what was injected, what was written."""

    state: dict[str, Any]
    injected: int
    github_requests: int


@dataclass
class Stage:
    """The peers one play runs against (the registry and git server outlive it)."""

    git: GitServer
    registry: Registry
    proxy: RegistryProxy
    app_key: AppKey
    aiohttp_client: Any
    tmp_path: Path


@asynccontextmanager
async def deployed_landscape(stage: Stage, name: str) -> AsyncIterator[tuple[Deployment, Releases]]:
    """A fresh fake GitHub, landscape repository, release repository and cluster."""
    folder = stage.tmp_path / name
    folder.mkdir()
    releases = Releases(stage.registry, folder / "releases")
    releases.folder.mkdir()
    releases.build("v0.0.1")
    through_proxy = releases.repository.replace(stage.registry.host, stage.proxy.host)
    async with (
        run_fake_github(
            stage.git, app_id=stage.app_key.app_id, public_key_pem=stage.app_key.public_pem
        ) as fake,
        run_deployment(
            fake,
            stage.app_key,
            stage.aiohttp_client,
            folder,
            through_proxy,
            repositories=[REPO],
            branches=["main"],
        ) as deployment,
    ):
        yield deployment, releases


async def play(stage: Stage, chaos: Chaos | None) -> Run:
    name = "calm" if chaos is None else f"seed-{chaos.seed}-{secrets.token_hex(2)}"
    async with deployed_landscape(stage, name) as (deployment, releases):
        bot, kube = deployment.bot, deployment.kube
        bot.repository.roles["alice"] = "write"
        peers = (bot.fake, stage.proxy, kube)
        for peer in peers:
            peer.chaos = chaos
        stage.git.play(chaos)
        try:
            async with deployment.flux.running():
                await scenario(bot, releases, stage.tmp_path / name)
                if chaos is not None:
                    chaos.calm()
                await settle(bot, kube)
        finally:
            for peer in peers:
                peer.chaos = None
            stage.git.play(None)
        return Run(final_state(bot, kube), chaos.total if chaos else 0, len(bot.fake.requests))


async def scenario(bot: LandscapeBot, releases: Releases, folder: Path) -> None:
    # 1. a pull request enabling the service provider; the bot's commit comes back
    pull, _ = propose(bot, "enable-provider", bot.config, title="Enable the provider")
    await bot.deliver("pull_request", bot.pull_request_event(pull, "opened"))
    await bot.deliver("pull_request", bot.pull_request_event(pull, "synchronize"))
    # 2. commands on it
    await command(bot, pull.number, "/bootstrap plan")
    await command(bot, pull.number, "/bootstrap status")
    # 3. merged, and applied to the cluster
    bot.fake.merge_pull_request(pull)
    await bot.deliver("pull_request", bot.pull_request_event(pull, "closed"))
    # 4. a new openMCP release: the resync proposes the upgrade
    v0_0_2(releases, folder)
    await Resync(bot.context).run_once()
    # 5. a command on the upgrade pull request
    upgrades = [p for p in bot.fake.pull_requests(REPO) if p.head.startswith("bootstrap-bot/")]
    for upgrade in upgrades:
        await command(bot, upgrade.number, "/bootstrap render")


async def command(bot: LandscapeBot, number: int, text: str) -> None:
    comment = bot.fake.add_comment(REPO, number, text, user="alice")
    await bot.deliver("issue_comment", bot.comment_event(comment, on_pull=True))


async def settle(bot: LandscapeBot, kube: Any) -> int:
    """Resync rounds until one writes nothing; the rounds it took. The rounds are as far
    apart as the longest wait of the bot's (an hour: a registry left alone after failing is
    asked again), and a run left in progress is redone as if its job's budget had passed (its
    job is gone: the scenario waited for it)."""
    bot.app[TIMERS].cancel_all()  # the rounds do what the timers would
    assert bot.context.schedule is not None
    bot.context.schedule = replace(bot.context.schedule, job_budget=timedelta(0))
    releases, hours = bot.context.releases, [0]
    started = releases.clock
    releases.clock = lambda: started() + 3600 * hours[0]
    for rounds in range(1, SETTLE_ROUNDS + 1):
        hours[0] += 1
        before = _writes(bot, kube)
        await Resync(bot.context).run_once()
        if _writes(bot, kube) == before:
            return rounds
    raise AssertionError(f"the bot still writes after {SETTLE_ROUNDS} resync rounds")


def _writes(bot: LandscapeBot, kube: Any) -> tuple[int, int, int]:
    github = sum(1 for r in bot.fake.requests if r.method in _WRITES and r.status < 400)
    pushes = sum(1 for m, p, _ in bot.fake.git.requests if m == "POST" and "receive-pack" in p)
    cluster = len(kube.store.writes)
    return github, pushes, cluster


def final_state(bot: LandscapeBot, kube: Any) -> dict[str, Any]:
    """What the bot left, comparable across runs (see the module docstring)."""
    fake = bot.fake
    git = pygit2.Repository(str(bot.repository.bare))
    commits = {}
    for ref in git.references:
        if not ref.startswith("refs/heads/"):
            continue
        commit = git.references[ref].peel(pygit2.Commit)
        commits[ref] = _history(git, commit)
    key_of = {str(c.id): _commit_key(c) for c in _all_commits(git)}
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in sorted(fake.state.check_runs.values(), key=lambda r: r.id):
        runs.setdefault((key_of.get(run.head_sha, run.head_sha), run.name), []).append(run.fields)
    pulls = sorted(
        (p.number, p.title, blank(p.body or ""), p.state, p.head, p.base, p.merged)
        for p in fake.pull_requests(REPO)
    )
    comments = Counter(
        (c.issue_number, c.user, blank(c.body)) for c in fake.state.comments.values()
    )
    by_comment = {
        c.id: (c.issue_number, c.user, blank(c.body)) for c in fake.state.comments.values()
    }
    reactions = Counter((by_comment.get(r.comment_id), r.content) for r in fake.state.reactions)
    cluster = {
        "/".join(key): blank(repr(obj.get("spec")))
        for key, obj in sorted(kube.store.objects.items())
    }
    return {
        "pull requests": pulls,
        "branches": commits,
        "comments": sorted(comments.items()),
        "check runs": {
            f"{commit} {name}": _latest(fields) for (commit, name), fields in sorted(runs.items())
        },
        "unfinished check runs": sorted(
            f"{commit} {name}"
            for (commit, name), fields in runs.items()
            if fields[-1].get("status") != "completed" and fields[-1].get("conclusion") is None
        ),
        "reactions": sorted(reactions.items(), key=repr),
        "cluster": cluster,
    }


def _latest(fields: list[dict[str, Any]]) -> tuple[str | None, str]:
    last = fields[-1]
    return last.get("conclusion"), blank((last.get("output") or {}).get("title") or "")


def _commit_key(commit: pygit2.Commit) -> str:
    """A commit by its files (blanked, as texts) and message."""
    files = sorted(_files(commit.tree, ""))
    digest = hashlib.sha256(repr(files).encode()).hexdigest()[:16]
    return f"{digest} {commit.message.strip()!r}"


def _files(tree: pygit2.Tree, prefix: str) -> list[tuple[str, str]]:
    found = []
    for entry in tree:
        path = prefix + (entry.name or "")
        if entry.type_str == "tree":
            found += _files(entry.peel(pygit2.Tree), path + "/")
        else:
            found.append((path, blank(entry.peel(pygit2.Blob).data.decode(errors="replace"))))
    return found


def _history(git: pygit2.Repository, head: pygit2.Commit) -> list[str]:
    walker = git.walk(head.id, pygit2.enums.SortMode.TOPOLOGICAL)
    return [_commit_key(c) for c in walker]


def _all_commits(git: pygit2.Repository) -> list[pygit2.Commit]:
    seen: dict[str, pygit2.Commit] = {}
    for ref in git.references:
        for commit in git.walk(git.references[ref].peel(pygit2.Commit).id):
            seen[str(commit.id)] = commit
    return list(seen.values())


def differences(expected: dict[str, Any], found: dict[str, Any]) -> str:
    """What differs between two final states, part by part: what is missing, what is extra."""
    said = []
    for part, want in expected.items():
        got = found[part]
        if want == got:
            continue
        missing: object
        extra: object
        if isinstance(want, dict):
            missing = {k: v for k, v in want.items() if got.get(k) != v}
            extra = {k: v for k, v in got.items() if want.get(k) != v}
        else:
            missing = [x for x in want if x not in got]
            extra = [x for x in got if x not in want]
        said.append(f"{part}:\n  missing {str(missing)[:3000]}\n  extra {str(extra)[:3000]}")
    return "\n".join(said)
