"""End to end: a merged landscape change applied to its cluster (the fake API server, with the
Flux simulator standing in for Flux's controllers) and reported on GitHub."""

from __future__ import annotations

import base64
import logging

import pytest

from bot.core.names import DEPLOY_CHECK, DRY_RUN_CHECK
from bot.server.resync import Resync
from tests.integration.deployment import (
    BOOTSTRAP,
    GIT_SECRET,
    PASSWORD,
    SOURCE,
    Deployment,
    check_run,
    everything_told,
    merged,
)
from tests.integration.flows.test_flow_pull_request import propose
from tests.integration.landscape_bot import REPO, LandscapeBot, head_of
from tests.peers.github.state import CheckRun

pytestmark = pytest.mark.peers


def deploy_run(bot: LandscapeBot, sha: str) -> CheckRun:
    return check_run(bot, sha, DEPLOY_CHECK)


async def test_a_merged_change_is_applied_and_reported_once_flux_is_ready(
    deployment: Deployment, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    bot, kube, flux = deployment.bot, deployment.kube, deployment.flux
    pull, merge = await merged(bot)

    async with flux.running():
        await bot.deliver("pull_request", bot.pull_request_event(pull, "closed"))

    run = deploy_run(bot, merge)
    assert run.fields["status"] == "completed", run.fields
    assert run.fields["conclusion"] == "success", run.fields["output"]
    title = run.fields["output"]["title"]
    assert title.startswith("dev is at openmcp v0.0.1: ") and ", Ready in " in title
    applied = int(title.split(": ")[1].split(" objects")[0])
    objects = kube.store.objects
    source, bootstrap = objects[SOURCE], objects[BOOTSTRAP]
    assert source["status"]["artifact"]["revision"] == f"main@sha1:{merge}"
    assert bootstrap["status"]["lastAppliedRevision"] == f"main@sha1:{merge}"
    assert bootstrap["spec"]["path"] == "./envs/dev"
    managers = {e["manager"] for e in bootstrap["metadata"]["managedFields"]}
    assert managers == {"bootstrap-bot", "flux-simulator"}
    # Flux's install (38 objects, 13 of them CRDs), its GitRepository and Kustomization, the git
    # Secret, and the landscape's Kustomization default/bootstrap
    table = run.fields["output"]["text"].splitlines()
    assert applied == 38 + 2 + 1 + 1 == len(table) - 2
    secret = objects[GIT_SECRET]
    assert base64.b64decode(secret["data"]["password"]).decode() == PASSWORD
    assert base64.b64decode(secret["data"]["username"]).decode() == "flux"
    (comment,) = [c for c in bot.bot_comments(pull.number) if title in c.body]
    assert "Kustomization default/bootstrap: Ready at main@sha1:" in comment.body
    # /metrics counts the outcome and the time from the merge to Ready.
    metrics = await (await bot.client.get("/metrics")).text()
    assert 'bootstrap_bot_applies_total{cluster="dev",conclusion="success"} 1.0' in metrics
    assert 'bootstrap_bot_merge_to_ready_seconds_count{cluster="dev"} 1.0' in metrics
    completed = 'bootstrap_bot_check_runs_completed_total{check="bootstrap-bot/deploy",'
    assert completed + 'conclusion="success"} 1.0' in metrics

    # Applied again (a redelivery, or /bootstrap apply): nothing changes in the cluster.
    versions = {key: obj["metadata"]["resourceVersion"] for key, obj in objects.items()}
    writes = len(kube.store.writes)
    async with flux.running():
        await bot.deliver("pull_request", bot.pull_request_event(pull, "closed"))
    assert {key: obj["metadata"]["resourceVersion"] for key, obj in objects.items()} == versions
    assert len(kube.store.writes) == writes
    assert "42 unchanged" in deploy_run(bot, merge).fields["output"]["summary"]
    metrics = await (await bot.client.get("/metrics")).text()
    assert 'bootstrap_bot_applies_total{cluster="dev",conclusion="success"} 2.0' in metrics
    # the same merge reaching Ready again is no new sample
    assert 'bootstrap_bot_merge_to_ready_seconds_count{cluster="dev"} 1.0' in metrics
    assert len([c for c in bot.bot_comments(pull.number) if "dev is at" in c.body]) == 1

    # /bootstrap status shows what the cluster runs.
    bot.repository.roles["walt"] = "write"
    asked = bot.fake.add_comment(REPO, pull.number, "/bootstrap status", user="walt")
    await bot.deliver("issue_comment", bot.comment_event(asked, on_pull=True))
    (reply,) = [c.body for c in bot.bot_comments(pull.number) if "/bootstrap status" in c.body]
    assert f"| cluster | `dev`: Flux has main@sha1:{merge} |" in reply
    assert "| openMCP release deployed | `v0.0.1` (in git: `v0.0.1`) |" in reply
    assert f"Kustomization default/bootstrap: Ready at main@sha1:{merge}" in reply
    # the merge commit carries no render check run: the branch is rendered to say so
    assert "| rendered manifests | ✅ up to date with the bootstrap config |" in reply
    assert f"| last apply | ✅ {deploy_run(bot, merge).fields['output']['title']} |" in reply

    # /bootstrap apply in the pull request says what it applied: the branch, not the PR
    asked = bot.fake.add_comment(REPO, pull.number, "/bootstrap apply", user="walt")
    async with flux.running():
        await bot.deliver("issue_comment", bot.comment_event(asked, on_pull=True))
    (reply,) = [c.body for c in bot.bot_comments(pull.number) if "> /bootstrap apply" in c.body]
    assert f"Applied `main` at {merge[:12]}: the landscape branch as it is, not this pull " in reply
    assert f"(#{pull.number}); merging it applies its changes" in reply
    assert "✅ **dev is at openmcp v0.0.1" in reply

    # The secret's value went to the cluster only.
    assert PASSWORD not in everything_told(bot)
    assert PASSWORD not in caplog.text
    assert base64.b64encode(PASSWORD.encode()).decode() not in everything_told(bot) + caplog.text


async def test_a_failing_kustomization_is_reported_with_flux_s_message(deployment: Deployment):
    bot, flux = deployment.bot, deployment.flux
    flux.failing["bootstrap"] = (
        'kustomize build failed: accumulating resources: "openmcp" does not exist'
    )
    pull, merge = await merged(bot)
    async with flux.running():
        await bot.deliver("pull_request", bot.pull_request_event(pull, "closed"))
    run = deploy_run(bot, merge)
    assert run.fields["conclusion"] == "failure"
    expected = (
        f"dev is not at {merge[:12]}: Kustomization default/bootstrap: kustomize build failed: "
        'accumulating resources: "openmcp" does not exist'
    )
    assert run.fields["output"]["title"] == expected
    assert any(expected in c.body for c in bot.bot_comments(pull.number))


async def test_a_suspended_kustomization_fails_at_once(deployment: Deployment):
    bot, kube, flux = deployment.bot, deployment.kube, deployment.flux
    pull, merge = await merged(bot)

    def suspend() -> None:
        bootstrap = kube.store.objects.get(BOOTSTRAP)
        if bootstrap is not None:
            bootstrap["spec"]["suspend"] = True

    kube.store.on_write.append(suspend)
    async with flux.running():
        await bot.deliver("pull_request", bot.pull_request_event(pull, "closed"))
    title = deploy_run(bot, merge).fields["output"]["title"]
    assert title.endswith(
        "Kustomization default/bootstrap is suspended: Flux will not reconcile it"
    )


@pytest.mark.bound_to(["example-org/other-landscape"], ["main"])
async def test_a_cluster_not_bound_to_the_landscape_is_refused(deployment: Deployment):
    bot, kube = deployment.bot, deployment.kube
    pull, merge = await merged(bot)
    await bot.deliver("pull_request", bot.pull_request_event(pull, "closed"))
    run = deploy_run(bot, merge)
    assert run.fields["conclusion"] == "failure"
    refusal = f"cluster `dev` is not configured for {REPO} branch `main`"
    assert refusal in run.fields["output"]["title"]
    # told before the merge already, by the PR's dry run
    head = str(head_of(bot.repository.bare, pull.head).id)
    dry_run = check_run(bot, head, DRY_RUN_CHECK).fields
    assert dry_run["conclusion"] == "failure" and refusal in dry_run["output"]["title"]
    assert any(refusal in c.body for c in bot.bot_comments(pull.number))

    bot.repository.roles["walt"] = "write"
    asked = bot.fake.add_comment(REPO, pull.number, "/bootstrap apply", user="walt")
    await bot.deliver("issue_comment", bot.comment_event(asked, on_pull=True))
    assert any(
        refusal in c.body and "/bootstrap apply" in c.body for c in bot.bot_comments(pull.number)
    )
    assert kube.store.writes == []
    assert not [r for r in kube.requests if r[0] != "GET"]


async def test_credentials_that_do_not_fit_the_git_repository_change_nothing(
    deployment: Deployment,
):
    bot, kube = deployment.bot, deployment.kube
    # Flux's GitHub App authentication reads keys basic auth does not give.
    config = bot.config.replace("  pullBranch: main\n", "  pullBranch: main\n  provider: github\n")
    pull, _ = propose(bot, "github-provider", config, title="Use the GitHub provider")
    await bot.deliver("pull_request", bot.pull_request_event(pull, "opened"))
    merge = bot.fake.merge_pull_request(pull)
    await bot.deliver("pull_request", bot.pull_request_event(pull, "closed"))
    title = deploy_run(bot, merge).fields["output"]["title"]
    assert (
        "needs githubAppID, githubAppInstallationID, githubAppPrivateKey for `provider: github`"
        in title
    )
    assert kube.store.writes == []


async def test_a_push_of_rendered_files_is_applied_once(deployment: Deployment):
    bot, flux = deployment.bot, deployment.flux
    _, merge = await merged(bot)
    before = str(head_of(bot.repository.bare, "main").parents[0].id)
    async with flux.running():
        await bot.deliver("push", bot.push_event("main", before, merge))
        assert deploy_run(bot, merge).fields["conclusion"] == "success"
        runs = len(bot.fake.state.check_runs)
        await bot.deliver("push", bot.push_event("main", before, merge))
    assert len(bot.fake.state.check_runs) == runs  # that commit was applied already


async def test_the_resync_applies_a_merge_whose_event_was_lost(deployment: Deployment):
    bot, kube, flux = deployment.bot, deployment.kube, deployment.flux
    pull, merge = await merged(bot)  # neither `closed` nor `push` arrives
    async with flux.running():
        await Resync(bot.context).run_once()
    assert deploy_run(bot, merge).fields["conclusion"] == "success"
    # the merged pull request is told, as its `closed` delivery would have done
    told = [c for c in bot.bot_comments(pull.number) if "bootstrap-bot:deploy-" in c.body]
    assert len(told) == 1 and "dev is at openmcp v0.0.1" in told[0].body
    assert kube.store.objects[BOOTSTRAP]["status"]["lastAppliedRevision"] == f"main@sha1:{merge}"

    # The next round finds that apply finished: nothing is sent to the cluster.
    runs, requests = len(bot.fake.state.check_runs), len(kube.requests)
    await Resync(bot.context).run_once()
    assert len(bot.fake.state.check_runs) == runs and len(kube.requests) == requests
