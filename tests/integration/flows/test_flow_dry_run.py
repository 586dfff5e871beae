"""End to end: a landscape pull request dry-run against its cluster (the fake API server)
before anything is merged: a check run on the PR head, and `/bootstrap plan`'s reply."""

from __future__ import annotations

import pygit2
import pytest

from bot.core.names import DRY_RUN_CHECK, RENDER_CHECK
from tests.integration.deployment import Deployment, check_run, merged
from tests.integration.flows.test_flow_commands import reactions
from tests.integration.flows.test_flow_pull_request import fork_commit, open_fork_pull
from tests.integration.landscape_bot import REPO, LandscapeBot, head_of
from tests.peers.github.state import CheckRun, PullRequest
from tests.peers.gitserver import commit_directly

pytestmark = pytest.mark.peers
EXTRA = ".bootstrap/extra-manifests/extra-sync.yaml"
#: a Flux Kustomization among the extra manifests, lacking `spec.prune`, which v1 requires
EXTRA_SYNC = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: extra-sync
  namespace: default
spec:
  interval: 10m
  path: ./envs/dev
  sourceRef:
    kind: GitRepository
    name: environments
    namespace: flux-system
"""


def pull_head(bot: LandscapeBot, pull: PullRequest) -> str:
    return str(head_of(bot.repository.bare, pull.head).id)


def dry_run(bot: LandscapeBot, pull: PullRequest) -> CheckRun:
    return check_run(bot, pull_head(bot, pull), DRY_RUN_CHECK)


def push_extra(bot: LandscapeBot, branch: str, text: str) -> str:
    return commit_directly(bot.repository.bare, branch, {EXTRA: text.encode()})


async def test_a_pull_request_is_dry_run_against_its_cluster_before_merge(deployment: Deployment):
    bot, kube, flux = deployment.bot, deployment.kube, deployment.flux
    objects = dict(kube.store.objects)

    # 1. A cluster without Flux: everything Flux's CRDs define is checked once they exist.
    pull, _ = await merged(bot)
    run = dry_run(bot, pull).fields
    assert run["conclusion"] == "success", run["output"]
    # Flux's 13 CRDs, its namespace and 5 cluster-wide RBAC objects can be checked; the 22
    # objects in flux-system or of Flux's kinds (default/bootstrap) cannot yet.
    assert run["output"]["title"] == (
        f"`dev` accepts dev at {pull_head(bot, pull)[:12]}: 19 to create, 22 checked at apply time"
        " (they need CRDs or Namespaces this change creates)"
    )
    assert "22 objects wait for a kind or namespace this change creates" in run["output"]["summary"]
    table = run["output"]["text"]
    assert "| Namespace flux-system | to create |" in table
    assert (
        "| Kustomization default/bootstrap | checked at apply time | checked once "
        "CustomResourceDefinition kustomizations.kustomize.toolkit.fluxcd.io exists |"
    ) in table
    assert (
        "| Deployment flux-system/source-controller | checked at apply time | checked once "
        "Namespace flux-system exists |"
    ) in table
    assert "have what Flux needs for" in run["output"]["summary"]
    assert kube.store.objects == objects and kube.store.writes == []  # nothing stored

    async with flux.running():
        await bot.deliver("pull_request", bot.pull_request_event(pull, "closed"))
    applied = dict(kube.store.objects)
    writes = len(kube.store.writes)

    # 2. An extra manifest that the API server would refuse fails the PR's dry run.
    git = pygit2.Repository(str(bot.repository.bare))
    git.references.create("refs/heads/extra-sync", head_of(bot.repository.bare, "main").id)
    push_extra(bot, "extra-sync", EXTRA_SYNC)
    broken = bot.fake.open_pull_request(
        REPO, head="extra-sync", base="main", title="Sync extra", user="alice"
    )
    await bot.deliver("pull_request", bot.pull_request_event(broken, "opened"))
    run = dry_run(bot, broken).fields
    assert run["conclusion"] == "failure"
    title = run["output"]["title"]
    assert title.startswith("`dev` refuses 1 of ") and "Kustomization default/extra-sync: " in title
    assert "spec.prune: Required value" in title
    assert "| Kustomization default/bootstrap | unchanged |" in run["output"]["text"]
    assert kube.store.objects == applied and len(kube.store.writes) == writes

    # /bootstrap plan says the same, and is not a success.
    bot.repository.roles["walt"] = "write"
    asked = bot.fake.add_comment(REPO, broken.number, "/bootstrap plan", user="walt")
    await bot.deliver("issue_comment", bot.comment_event(asked, on_pull=True))
    (reply,) = [c.body for c in bot.bot_comments(broken.number) if "/bootstrap plan" in c.body]
    assert "would change `main`" in reply and "spec.prune: Required value" in reply
    assert reactions(bot, asked.id) == ["eyes", "confused"]

    # 3. Fixed on the branch: the new head's dry run passes, with the one object to create.
    push_extra(bot, "extra-sync", EXTRA_SYNC.replace("  interval:", "  prune: true\n  interval:"))
    await bot.deliver("pull_request", bot.pull_request_event(broken, "synchronize"))
    run = dry_run(bot, broken).fields
    assert run["conclusion"] == "success", run["output"]
    assert "| Kustomization default/extra-sync | to create |" in run["output"]["text"]
    assert "1 to create" in run["output"]["title"]
    assert kube.store.objects == applied and len(kube.store.writes) == writes


async def test_a_fork_pull_request_never_reaches_the_cluster(deployment: Deployment):
    bot, kube = deployment.bot, deployment.kube
    fork = fork_commit(bot, {EXTRA: EXTRA_SYNC.encode()})
    pull = open_fork_pull(bot, fork, title="Sync extra")
    await bot.deliver("pull_request", bot.pull_request_event(pull, "opened"))
    names = [r.name for r in bot.fake.state.check_runs.values() if r.head_sha == fork]
    assert names == ["bootstrap-bot/render"]

    # /bootstrap plan on it: what merging changes, without asking the cluster
    bot.repository.roles["walt"] = "write"
    asked = bot.fake.add_comment(REPO, pull.number, "/bootstrap plan", user="walt")
    await bot.deliver("issue_comment", bot.comment_event(asked, on_pull=True))
    (reply,) = [c.body for c in bot.bot_comments(pull.number) if "/bootstrap plan" in c.body]
    assert "would change `main`" in reply and DRY_RUN_CHECK not in reply
    assert kube.requests == []


async def test_a_hand_edited_generated_file_fails_its_check_there_and_is_dry_run(
    deployment: Deployment,
):
    bot = deployment.bot
    await merged(bot)  # main holds the rendered manifests now
    path = "envs/dev/root-kustomization.yaml"
    text = head_of(bot.repository.bare, "main").tree[path].peel(pygit2.Blob).data.decode()
    edited = text + "  suspend: true\n"
    git = pygit2.Repository(str(bot.repository.bare))
    git.references.create("refs/heads/by-hand", head_of(bot.repository.bare, "main").id)
    edit = commit_directly(bot.repository.bare, "by-hand", {path: edited.encode()})
    pull = bot.fake.open_pull_request(
        REPO, head="by-hand", base="main", title="Suspend it", user="alice"
    )
    await bot.deliver("pull_request", bot.pull_request_event(pull, "opened"))

    assert pull_head(bot, pull) == edit  # the bot commits nothing over the edit
    render = check_run(bot, edit, RENDER_CHECK).fields
    assert render["conclusion"] == "failure"
    assert render["output"]["title"] == "1 generated file edited by hand"
    (note,) = check_run(bot, edit, RENDER_CHECK).annotations
    assert (note["path"], note["start_line"]) == (path, len(text.splitlines()) + 1)
    assert "the next render reverts this edit" in note["message"]
    assert dry_run(bot, pull).fields["status"] == "completed"  # dry-run like any other
    (comment,) = [c for c in bot.bot_comments(pull.number)]
    assert "edited by hand" in comment.body and f"`{path}`" in comment.body
