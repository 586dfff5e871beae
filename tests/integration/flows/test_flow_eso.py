"""End to end: a landscape that wants the External Secrets Operator gets it from its release
after Flux is Ready, and the deploy waits for its HelmRelease (the fake API server with Flux's
CRDs, the Flux simulator standing in for source- and helm-controller)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml

from bot.adapters.cluster import Cluster
from bot.core.eso import CHART_SOURCE as CHART
from bot.core.eso import RELEASE, eso_objects
from bot.core.names import DEPLOY_CHECK, DRY_RUN_CHECK
from tests.integration.deployment import Deployment, check_run, merged
from tests.integration.landscape_bot import REPO, head_of
from tests.integration.peers.test_kubernetes_peer import flux_objects, run_kubectl
from tests.peers.kubernetes import run_fake_kubernetes
from tests.unit.test_eso import config, graph, release

pytestmark = pytest.mark.peers
OCI = ("source.toolkit.fluxcd.io", "ocirepositories", "flux-system", "external-secrets-chart")
HELM = ("helm.toolkit.fluxcd.io", "helmreleases", "flux-system", "external-secrets-operator")
DIGEST = "sha256:" + "abcdef1234567890" * 4


async def test_eso_is_installed_after_flux_and_waited_for(eso_deployment: Deployment):
    bot, kube, flux = eso_deployment.bot, eso_deployment.kube, eso_deployment.flux
    pull, merge = await merged(bot)
    # the pull request's dry run has ESO's objects too, checked once Flux's CRDs exist
    head = str(head_of(bot.repository.bare, pull.head).id)
    dry_run = check_run(bot, head, DRY_RUN_CHECK).fields["output"]["text"]
    assert (
        "| HelmRelease flux-system/external-secrets-operator | checked at apply time | checked "
        "once CustomResourceDefinition helmreleases.helm.toolkit.fluxcd.io exists |"
    ) in dry_run
    async with flux.running():
        await bot.deliver("pull_request", bot.pull_request_event(pull, "closed"))
    run = check_run(bot, merge, DEPLOY_CHECK).fields
    assert run["conclusion"] == "success", run["output"]
    # Flux's 42 objects, then ESO's two
    assert run["output"]["title"].startswith("dev is at openmcp v0.0.1: 44 objects applied")
    table = run["output"]["text"]
    assert "| OCIRepository flux-system/external-secrets-chart | created |" in table
    assert "| HelmRelease flux-system/external-secrets-operator | created |" in table
    summary = run["output"]["summary"]
    assert (
        "HelmRelease flux-system/external-secrets-operator: Ready at chart "
        "external-secrets-v1.0.0 (sha256:abcdef123456)" in summary
    )
    chart = "OCIRepository flux-system/external-secrets-chart"
    assert f"{chart}: Ready at external-secrets-v1.0.0@{DIGEST}" in summary

    source, release = kube.store.objects[OCI], kube.store.objects[HELM]
    assert source["spec"]["ref"] == {"tag": "external-secrets-v1.0.0", "digest": DIGEST}
    assert source["spec"]["secretRef"] == {"name": "ghcr-pull"}
    assert release["spec"]["releaseName"] == "eso"
    assert release["spec"]["values"]["webhook"]["imagePullSecrets"] == [{"name": "pull-a"}]
    managers = {e["manager"] for e in release["metadata"]["managedFields"]}
    assert managers == {"bootstrap-bot", "flux-simulator"}
    (comment,) = [c for c in bot.bot_comments(pull.number) if "dev is at" in c.body]
    assert "HelmRelease flux-system/external-secrets-operator: Ready" in comment.body

    # /bootstrap status shows the HelmRelease's health
    bot.repository.roles["walt"] = "write"
    asked = bot.fake.add_comment(REPO, pull.number, "/bootstrap status", user="walt")
    await bot.deliver("issue_comment", bot.comment_event(asked, on_pull=True))
    (reply,) = [c.body for c in bot.bot_comments(pull.number) if "/bootstrap status" in c.body]
    assert (
        "| External Secrets Operator | OCIRepository flux-system/external-secrets-chart: Ready at "
        f"external-secrets-v1.0.0@{DIGEST}<br>HelmRelease flux-system/external-secrets-operator: "
        "Ready at chart external-secrets-v1.0.0 (sha256:abcdef123456) |"
    ) in reply

    # Applied again: a label and a finalizer someone else set stay (no full replace).
    others = {"metadata": {"labels": {"team": "platform"}, "finalizers": ["finalizers.fluxcd.io"]}}
    kube.store.patch(kube.store.types[HELM[:2]], "flux-system", HELM[3], others, "someone")
    versions = source["metadata"]["resourceVersion"]
    async with flux.running():
        await bot.deliver("pull_request", bot.pull_request_event(pull, "closed"))
    assert check_run(bot, merge, DEPLOY_CHECK).fields["conclusion"] == "success"
    release = kube.store.objects[HELM]
    assert release["metadata"]["labels"]["team"] == "platform"
    assert release["metadata"]["finalizers"] == ["finalizers.fluxcd.io"]
    assert kube.store.objects[OCI]["metadata"]["resourceVersion"] == versions


async def test_a_release_with_a_new_eso_upgrades_it(eso_deployment: Deployment):
    bot, kube, flux = eso_deployment.bot, eso_deployment.kube, eso_deployment.flux
    pull, merge = await merged(bot)
    async with flux.running():
        await bot.deliver("pull_request", bot.pull_request_event(pull, "closed"))
    assert check_run(bot, merge, DEPLOY_CHECK).fields["conclusion"] == "success"

    # the next openMCP release carries ESO v2.0.0
    newer = bot.config.replace(":v0.0.1", ":v0.0.2")
    assert newer != bot.config
    pull, merge = await merged(bot, newer, branch="upgrade")
    async with flux.running():
        await bot.deliver("pull_request", bot.pull_request_event(pull, "closed"))
    run = check_run(bot, merge, DEPLOY_CHECK).fields
    assert run["conclusion"] == "success", run["output"]
    assert (
        "| HelmRelease flux-system/external-secrets-operator | configured |"
        in (run["output"]["text"])
    )
    assert "Ready at chart external-secrets-v2.0.0" in run["output"]["summary"]
    release = kube.store.objects[HELM]
    assert [h["chartVersion"] for h in release["status"]["history"]] == [
        "external-secrets-v2.0.0",
        "external-secrets-v1.0.0",
    ]
    assert release["status"]["conditions"][0]["reason"] == "UpgradeSucceeded"


async def test_a_failed_helm_release_fails_the_deploy_with_flux_s_message(
    eso_deployment: Deployment,
):
    bot, flux = eso_deployment.bot, eso_deployment.flux
    flux.failing["external-secrets-operator"] = "context deadline exceeded"
    pull, merge = await merged(bot)
    async with flux.running():
        await bot.deliver("pull_request", bot.pull_request_event(pull, "closed"))
    run = check_run(bot, merge, DEPLOY_CHECK).fields
    assert run["conclusion"] == "failure"
    assert run["output"]["title"] == (
        f"dev is not at {merge[:12]}: HelmRelease flux-system/external-secrets-operator: Helm "
        "install failed for release external-secrets/eso: context deadline exceeded"
    )
    assert "Kustomization default/bootstrap: Ready at" in run["output"]["summary"]


async def test_the_go_tool_s_case_applied_by_kubectl_creates_at_v1_and_updates_at_v2(
    tmp_path: Path,
):
    """The Go tool's deploy-eso test, against the fake API server with Flux's CRDs, applied
    by the real `kubectl apply --server-side` as the bot's field manager; the bot's own apply
    of the same objects then changes nothing."""
    crds = [o for o in flux_objects() if o["kind"] == "CustomResourceDefinition"]
    setup = tmp_path / "flux.yaml"
    setup.write_text(yaml.safe_dump_all([*crds, {"apiVersion": "v1", "kind": "Namespace",
                                                "metadata": {"name": "flux-system"}}]))  # fmt: skip
    async with run_fake_kubernetes() as kube:
        code, _, err = await run_kubectl(kube, tmp_path, "apply", "--server-side", "-f", str(setup))
        assert code == 0, err
        await asyncio.sleep(0.2)  # established
        for number in (1, 2):
            objects = eso_objects(config(), graph(release(number)))
            manifest = tmp_path / f"eso-{number}.yaml"
            manifest.write_text(yaml.safe_dump_all(objects))
            applied = ("apply", "--server-side", "--field-manager=bootstrap-bot", "-f")
            code, _, err = await run_kubectl(kube, tmp_path, *applied, str(manifest))
            assert code == 0, err
            # what the Go test asserts
            got = "get", "-n", "flux-system", "-o", "json"
            _, chart, _ = await run_kubectl(kube, tmp_path, *got, "ocirepository", CHART)
            _, helm, _ = await run_kubectl(kube, tmp_path, *got, "helmrelease", RELEASE)
            tag = f"external-secrets-v{number}.0.0"
            assert json.loads(chart)["spec"]["ref"]["tag"] == tag
            assert json.loads(helm)["spec"]["chartRef"]["name"] == CHART
            assert json.loads(helm)["spec"]["releaseName"] == "eso"
            assert json.loads(helm)["spec"]["values"]["image"]["tag"].startswith(tag + "@")
            if number == 1:  # someone labels it between the two runs
                code, _, err = await run_kubectl(
                    kube, tmp_path, "label", "-n", "flux-system", "helmrelease", RELEASE, "team=x"
                )
                assert code == 0, err
        assert json.loads(helm)["metadata"]["labels"] == {"team": "x"}
        async with Cluster.connect(kube.kubeconfig(tmp_path / "kubeconfig")) as api:
            outcomes = [(await api.apply(obj)).outcome for obj in objects]
        assert outcomes == ["unchanged", "unchanged"]
