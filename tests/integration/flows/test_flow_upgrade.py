"""End to end: new openMCP releases pushed into the real registry with `bootstrap-bot ocm build`
become one upgrade pull request per landscape, through the resync loop, the webhook server and
the fake GitHub."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pygit2
import pytest

from bot.adapters.github.client import InstallationClient
from bot.cli.main import main
from bot.cli.render import read_tree
from bot.core.upgrade_pr import read_record
from bot.server.resync import Resync
from tests.integration.flows.test_flow_commands import reply_to
from tests.integration.landscape_bot import REPO, LandscapeBot, head_of, serve_landscape
from tests.peers.github import FakeGitHub
from tests.peers.github.app_key import AppKey
from tests.peers.github.state import PullRequest
from tests.peers.gitserver import commit_directly, files_at
from tests.peers.registry import Registry
from tests.peers.registry_proxy import run_registry_proxy
from tests.reference_case import (
    CASE,
    ROOT_COMPONENT,
    config_text,
    release_constructor,
)

pytestmark = pytest.mark.peers
UPGRADE = "bootstrap-bot/upgrade/main"
CLUSTER_PROVIDER = "github.com/openmcp-project/cluster-provider-test"
NEW_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: testclusters.clusters.openmcp.cloud
  labels:
    openmcp.cloud/cluster: platform
spec:
  group: clusters.openmcp.cloud
  names: {kind: TestCluster, plural: testclusters}
  scope: Cluster
  versions:
    - name: v1alpha1
      served: true
      storage: true
"""


def commented_config(release: str) -> str:
    """The reference config with comments, a quoted location and an upgrade constraint."""
    location = f"{release}//{ROOT_COMPONENT}:v0.0.1"
    text = config_text(location)
    plain = f"  location: {location}\n"
    assert plain in text
    text = text.replace(
        plain,
        f"  # the openMCP release this landscape runs\n  location: '{location}'   # keep quoted\n",
    )
    return text + '\n# bootstrap-bot only\nbot:\n  upgrade:\n    constraint: "<0.1"  # 0.0.x\n'


class Releases:
    """Releases of the root, built into a repository of their own in the real registry."""

    def __init__(self, registry: Registry, folder: Path) -> None:
        self.repository = f"{registry.host}/upgrades-{secrets.token_hex(4)}"
        self.folder = folder

    def build(self, version: str, **changes: Any) -> None:
        constructor = release_constructor(
            self.folder / f"{version}.yaml", root_version=version, **changes
        )
        argv = ["ocm", "build", str(constructor), "--to", self.repository, "--plain-http-loopback"]
        assert main(argv) == 0


@pytest.fixture
def releases(oci_registry: Registry, tmp_path: Path) -> Releases:
    built = Releases(oci_registry, tmp_path / "releases")
    built.folder.mkdir()
    built.build("v0.0.1")
    return built


@pytest.fixture
async def upgrade_bot(
    fake_github: FakeGitHub,
    app_key: AppKey,
    aiohttp_client: Any,
    tmp_path: Path,
    releases: Releases,
) -> AsyncIterator[LandscapeBot]:
    config = commented_config(releases.repository)
    async with serve_landscape(
        fake_github, app_key, aiohttp_client, tmp_path, config=config, on_main=config
    ) as bot:
        yield bot


def v0_0_2(releases: Releases, tmp_path: Path) -> None:
    """One provider bumped (with one CRD more), one Flux controller image changed."""
    crds = tmp_path / "crds-v0.2.0"
    crds.mkdir()
    for source in (CASE / "crds" / "cluster-provider-test").iterdir():
        (crds / source.name).write_bytes(source.read_bytes())
    (crds / "cluster-provider-test.testclusters.yaml").write_text(NEW_CRD)
    releases.build(
        "v0.0.2",
        bump={CLUSTER_PROVIDER: "v0.2.0"},
        images={
            (ROOT_COMPONENT, "fluxcd-source-controller"): "ghcr.io/fluxcd/source-controller:v1.7.0"
        },
        directories={(CLUSTER_PROVIDER, "cluster-provider-test-crds"): crds},
    )


def upgrade_pulls(bot: LandscapeBot) -> list[PullRequest]:
    return [p for p in bot.fake.pull_requests(REPO) if p.head == UPGRADE]


def writes(bot: LandscapeBot) -> list[str]:
    return [f"{r.method} {r.path}" for r in bot.fake.requests if r.method != "GET"]


def registry_requests(bot: LandscapeBot) -> float:
    metrics = bot.context.metrics
    return sum(
        sample.value
        for metric in metrics.collect()
        if metric.name == "bootstrap_bot_registry_requests"
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


def tree_of(bot: LandscapeBot, branch: str) -> dict[str, bytes]:
    return files_at(head_of(bot.repository.bare, branch))


def direct_render(bot: LandscapeBot, tmp_path: Path, version: str, capsys: Any) -> dict[str, bytes]:
    """`bootstrap-bot render` of main's files with the config naming `version` (by hand)."""
    checkout = tmp_path / f"direct-{version}"
    for path, data in tree_of(bot, "main").items():
        (checkout / path).parent.mkdir(parents=True, exist_ok=True)
        (checkout / path).write_bytes(data)
    config = checkout / ".bootstrap" / "config.yaml"
    config.write_text(config.read_text().replace(":v0.0.1'", f":{version}'"))
    assert main(["render", "--repo", str(checkout), "--plain-http-loopback"]) == 0
    capsys.readouterr()
    return dict(read_tree(checkout))


async def test_new_releases_become_one_upgrade_pull_request(
    upgrade_bot: LandscapeBot, releases: Releases, tmp_path: Path, capsys: Any
):
    bot = upgrade_bot
    resync = Resync(bot.context)
    main_head = str(head_of(bot.repository.bare, "main").id)
    await resync.run_once()
    assert upgrade_pulls(bot) == []  # v0.0.1 is the newest

    # v0.0.2 and a release outside the constraint are pushed: one PR, for v0.0.2.
    v0_0_2(releases, tmp_path)
    releases.build("v0.1.0")
    await resync.run_once()
    (pull,) = upgrade_pulls(bot)
    assert (pull.title, pull.base, pull.state) == ("Upgrade openMCP dev to v0.0.2", "main", "open")
    body = pull.body or ""
    notes = f"https://{CLUSTER_PROVIDER}/releases/tag/v0.2.0"  # its name is a github.com path
    impact = body.split("### What the release changes")[1].split("### What merging")[0]
    rows = [line for line in impact.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows == [
        "| component | from | to |",
        f"| `{CLUSTER_PROVIDER}` | `v0.1.0` | [`v0.2.0`]({notes}) |",
        "| component | resource | image or chart | from | to |",
        f"| `{ROOT_COMPONENT}` | `fluxcd-source-controller` | `ghcr.io/fluxcd/source-controller`"
        " | `v1.6.2` | `v1.7.0` |",
        "| CRD | served before | served after |",
        "| `testclusters.clusters.openmcp.cloud` | — (added) | v1alpha1 |",
    ]
    assert body.startswith("**Upgrades `main`: `v0.0.1` → [`v0.0.2`](")
    record = read_record(body)
    assert record is not None
    assert (record.landscape, record.before, record.after) == ("main", "v0.0.1", "v0.0.2")

    # One commit on main: the config's one line, and the manifests a direct render gives.
    commit = head_of(bot.repository.bare, UPGRADE)
    assert [str(p) for p in commit.parent_ids] == [main_head]
    assert commit.message == "Upgrade openMCP dev to v0.0.2"
    proposed = tree_of(bot, UPGRADE)
    assert proposed == direct_render(bot, tmp_path, "v0.0.2", capsys)
    before = tree_of(bot, "main")[".bootstrap/config.yaml"].decode().splitlines()
    after = proposed[".bootstrap/config.yaml"].decode().splitlines()
    changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert changed == [
        (
            f"  location: '{releases.repository}//{ROOT_COMPONENT}:v0.0.1'   # keep quoted",
            f"  location: '{releases.repository}//{ROOT_COMPONENT}:v0.0.2'   # keep quoted",
        )
    ]
    assert b"newTag: v1.7.0" in proposed["resources/fluxcd/kustomization.yaml"]

    # An idle poll: one tag list, no write to GitHub.
    requests, written = registry_requests(bot), len(writes(bot))
    await resync.run_once()
    assert registry_requests(bot) - requests == 1
    assert writes(bot)[written:] == []

    # v0.0.3: the same pull request, rebuilt on main.
    releases.build(
        "v0.0.3",
        bump={CLUSTER_PROVIDER: "v0.2.0"},
        directories={(CLUSTER_PROVIDER, "cluster-provider-test-crds"): tmp_path / "crds-v0.2.0"},
    )
    await resync.run_once()
    (updated,) = upgrade_pulls(bot)
    assert (updated.number, updated.title) == (pull.number, "Upgrade openMCP dev to v0.0.3")
    rebuilt = head_of(bot.repository.bare, UPGRADE)
    assert [str(p) for p in rebuilt.parent_ids] == [main_head]
    assert tree_of(bot, UPGRADE) == direct_render(bot, tmp_path, "v0.0.3", capsys)
    assert (updated.body or "").startswith("**Upgrades `main`: `v0.0.1` → [`v0.0.3`](")

    # Closed unmerged: v0.0.3 is declined, the PR says so, its branch is gone.
    updated.state = "closed"
    await bot.deliver("pull_request", bot.pull_request_event(updated, "closed"))
    record = read_record(updated.body or "")
    assert record is not None and record.declined == ("v0.0.3",)
    (note,) = bot.bot_comments(updated.number)
    assert "`v0.0.3` is declined" in note.body
    assert f"refs/heads/{UPGRADE}" not in pygit2.Repository(str(bot.repository.bare)).references

    # Nothing is proposed again: not v0.0.3, not the older v0.0.2, not v0.1.0.
    written = len(writes(bot))
    await resync.run_once()
    await resync.run_once()
    assert [p.number for p in upgrade_pulls(bot)] == [pull.number]
    assert writes(bot)[written:] == []

    # A newer release than the declined one: a new pull request, which remembers the decline.
    releases.build("v0.0.4")
    await resync.run_once()
    newest = max(upgrade_pulls(bot), key=lambda p: p.number)
    assert (newest.state, newest.title) == ("open", "Upgrade openMCP dev to v0.0.4")
    record = read_record(newest.body or "")
    assert record is not None and record.declined == ("v0.0.3",)
    assert all("v0.1.0" not in (p.title or "") for p in upgrade_pulls(bot))

    # Merged: the branch goes, main is up to date and nothing more is proposed.
    before_merge = str(head_of(bot.repository.bare, "main").id)
    merged = bot.fake.merge_pull_request(newest)
    await bot.deliver("pull_request", bot.pull_request_event(newest, "closed"))
    await bot.deliver("push", bot.push_event("main", before_merge, merged))
    assert f"refs/heads/{UPGRADE}" not in pygit2.Repository(str(bot.repository.bare)).references
    run = [r for r in bot.fake.state.check_runs.values() if r.head_sha == merged]
    assert [r.fields["conclusion"] for r in run] == ["success"]
    await resync.run_once()
    assert len(upgrade_pulls(bot)) == 2


async def test_a_round_asks_no_upgrade_history_of_a_current_landscape_without_a_proposal(
    upgrade_bot: LandscapeBot, releases: Releases, tmp_path: Path, monkeypatch: Any
):
    bot = upgrade_bot
    histories: list[str] = []
    listing = InstallationClient.pull_requests_from

    async def counted(self: Any, full_name: str, *, head: str, **query: Any) -> Any:
        histories.append(head)
        return await listing(self, full_name, head=head, **query)

    monkeypatch.setattr(InstallationClient, "pull_requests_from", counted)
    resync = Resync(bot.context)
    await resync.run_once()  # v0.0.1 is the newest, and nothing is proposed
    assert UPGRADE not in histories
    v0_0_2(releases, tmp_path)
    await resync.run_once()  # a newer release: the history tells what was declined
    assert UPGRADE in histories
    (pull,) = upgrade_pulls(bot)
    asked = histories.count(UPGRADE)
    # the proposal open, the release gone: the open pull request is found, and withdrawn
    versions = _without(bot.context.releases.versions, ["v0.0.2"])
    monkeypatch.setattr(bot.context.releases, "versions", versions)
    await resync.run_once()
    assert histories.count(UPGRADE) > asked
    assert pull.state == "closed"


def _without(versions: Any, gone: list[str]) -> Any:
    async def listed(*args: Any, **kwargs: Any) -> list[str]:
        return [v for v in await versions(*args, **kwargs) if v not in gone]

    return listed


async def command(bot: LandscapeBot, number: int, text: str, *, on_pull: bool) -> str:
    asked = bot.fake.add_comment(REPO, number, text, user="walt")
    await bot.deliver("issue_comment", bot.comment_event(asked, on_pull=on_pull))
    return reply_to(bot, number, asked.id)


async def test_upgrade_and_ignore_commands(
    upgrade_bot: LandscapeBot, releases: Releases, tmp_path: Path
):
    bot = upgrade_bot
    bot.repository.roles["walt"] = "write"
    issue = bot.fake.state.next_issue_number(REPO)
    v0_0_2(releases, tmp_path)
    releases.build("v0.0.0")

    # `/bootstrap upgrade` in an issue: the newest allowed release, proposed at once.
    reply = await command(bot, issue, "/bootstrap upgrade", on_pull=False)
    (pull,) = upgrade_pulls(bot)
    assert f"Proposed `v0.0.2` for `main` in {pull_url(pull)}" in reply
    assert pull.title == "Upgrade openMCP dev to v0.0.2"

    # `/bootstrap ignore` on it: declined, closed, and `status` says so.
    reply = await command(bot, pull.number, "/bootstrap ignore", on_pull=True)
    assert "`v0.0.2` is declined for `main`" in reply and "so it is closed" in reply
    assert pull.state == "closed"
    await bot.deliver("pull_request", bot.pull_request_event(pull, "closed"))
    status = await command(bot, issue, "/bootstrap status", on_pull=False)
    assert "| declined releases | `v0.0.2` and older (declined: `v0.0.2`) |" in status
    assert "| open upgrade proposal | none |" in status
    await Resync(bot.context).run_once()
    assert [p.state for p in upgrade_pulls(bot)] == ["closed"]

    # `/bootstrap upgrade v0.0.2` undoes it: a new PR, pinned to that version.
    reply = await command(bot, issue, "/bootstrap upgrade v0.0.2", on_pull=False)
    newer = max(upgrade_pulls(bot), key=lambda p: p.number)
    assert newer.state == "open" and f"Proposed `v0.0.2` for `main` in {pull_url(newer)}" in reply
    record = read_record(newer.body or "")
    assert record is not None and record.pinned and record.declined == ()

    # A downgrade only when asked for, and shown as one.
    reply = await command(bot, issue, "/bootstrap upgrade v0.0.0", on_pull=False)
    assert f"Updated the proposal of `v0.0.0` for `main` in {pull_url(newer)}" in reply
    assert newer.title == "Downgrade openMCP dev to v0.0.0"
    assert "a downgrade" in (newer.body or "")
    assert (newer.body or "").startswith("**Downgrades `main`: `v0.0.1` → [`v0.0.0`](")
    await Resync(bot.context).run_once()  # the poll keeps what was asked for
    assert newer.title == "Downgrade openMCP dev to v0.0.0"

    # Versions that do not exist, or the one running, are answered without a change.
    reply = await command(bot, issue, "/bootstrap upgrade v9.9.9", on_pull=False)
    assert "v9.9.9 is not a version of the root component in the registry" in reply
    reply = await command(bot, issue, "/bootstrap upgrade v0.0.1", on_pull=False)
    assert "`main` is at `v0.0.1` already" in reply
    assert newer.title == "Downgrade openMCP dev to v0.0.0"


def pull_url(pull: PullRequest) -> str:
    return f"https://github.com/{REPO}/pull/{pull.number}"


async def test_a_registry_outage_backs_off_and_leaves_the_pull_request_alone(
    fake_github: FakeGitHub,
    app_key: AppKey,
    aiohttp_client: Any,
    tmp_path: Path,
    releases: Releases,
    oci_registry: Registry,
):
    with run_registry_proxy(oci_registry.host) as proxy:
        config = commented_config(releases.repository.replace(oci_registry.host, proxy.host))
        async with serve_landscape(
            fake_github, app_key, aiohttp_client, tmp_path, config=config, on_main=config
        ) as bot:
            now = [1000.0]
            bot.context.releases.clock = lambda: now[0]
            resync = Resync(bot.context)
            v0_0_2(releases, tmp_path)
            await resync.run_once()
            (pull,) = upgrade_pulls(bot)
            body, written = pull.body, len(writes(bot))

            # The registry answers 503: tried once, then left alone; the PR stays as it is.
            proxy.failing = True
            seen = len(proxy.requests)
            await resync.run_once()
            assert proxy.requests[seen:], "the poll asked the registry"
            seen = len(proxy.requests)
            now[0] += 30
            await resync.run_once()
            assert proxy.requests[seen:] == []  # backing off: not even asked
            assert (pull.state, pull.body, writes(bot)[written:]) == ("open", body, [])

            # Back after the wait: one tag list, and still nothing to change.
            proxy.failing = False
            now[0] += 60
            await resync.run_once()
            assert [path for _, path in proxy.requests[seen:]] == [
                f"/v2/{releases.repository.split('/', 1)[1]}/component-descriptors/"
                f"{ROOT_COMPONENT}/tags/list"
            ]
            assert (pull.body, writes(bot)[written:]) == (body, [])


async def test_an_upgrade_branch_someone_pushed_to_is_left_alone(
    upgrade_bot: LandscapeBot, releases: Releases, tmp_path: Path
):
    bot = upgrade_bot
    resync = Resync(bot.context)
    v0_0_2(releases, tmp_path)
    await resync.run_once()
    (pull,) = upgrade_pulls(bot)
    theirs = commit_directly(bot.repository.bare, UPGRADE, {"NOTES.md": b"tested on staging\n"})

    releases.build("v0.0.3")
    await resync.run_once()
    assert str(head_of(bot.repository.bare, UPGRADE).id) == theirs
    assert pull.title == "Upgrade openMCP dev to v0.0.2"
    (comment,) = [c for c in bot.bot_comments(pull.number) if "upgrade-taken-over" in c.body]
    assert f"Someone else pushed to `{UPGRADE}` ({theirs[:12]})" in comment.body
    # Said once: the next round edits nothing.
    written = len(writes(bot))
    await resync.run_once()
    assert writes(bot)[written:] == []
