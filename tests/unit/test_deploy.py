"""The pure side of applying a landscape: order, credentials keys, Flux readiness, reports."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.deploy import (
    DeployReport,
    Readiness,
    apply_plan,
    created_with,
    duration,
    flux_readiness,
    missing_secret_keys,
    revision_commit,
)
from bot.core.dry_run import Checked, DryRunReport

COMMIT = "0123456789abcdef0123456789abcdef01234567"
OTHER = "fedcba9876543210fedcba9876543210fedcba98"


def obj(kind: str, name: str, namespace: str = "", api: str = "v1", **rest: Any) -> dict[str, Any]:
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": api, "kind": kind, "metadata": metadata, **rest}


CRD = obj(
    "CustomResourceDefinition",
    "kustomizations.kustomize.toolkit.fluxcd.io",
    api="apiextensions.k8s.io/v1",
    spec={"group": "kustomize.toolkit.fluxcd.io", "names": {"kind": "Kustomization"}},
)
SOURCE = obj(
    "GitRepository",
    "environments",
    "flux-system",
    api="source.toolkit.fluxcd.io/v1",
    spec={"url": "https://git.example/org/landscape.git"},
)
BOOTSTRAP = obj("Kustomization", "bootstrap", "default", api="kustomize.toolkit.fluxcd.io/v1")
DEPLOYMENT = obj("Deployment", "source-controller", "flux-system", api="apps/v1")


def test_the_plan_puts_crds_and_namespaces_first_and_the_flux_kustomizations_last():
    config_map = obj("ConfigMap", "settings", "default")
    build_kustomization = obj("Kustomization", "k", api="kustomize.config.k8s.io/v1beta1")
    plan = apply_plan([DEPLOYMENT, CRD, SOURCE], [config_map, BOOTSTRAP, build_kustomization])
    # flux-system is made sure of even when the install does not list it
    assert [o["kind"] for o in plan.first] == ["Namespace", "CustomResourceDefinition"]
    assert plan.rest == [DEPLOYMENT, SOURCE]
    assert plan.kustomizations == [BOOTSTRAP]  # only Flux's kind, as the Go tool applies
    assert plan.source == SOURCE
    assert plan.crds == ["kustomizations.kustomize.toolkit.fluxcd.io"]
    assert plan.objects == [*plan.first, DEPLOYMENT, SOURCE, BOOTSTRAP]


def test_a_listed_flux_system_namespace_is_not_added_twice():
    namespace = obj("Namespace", "flux-system")
    assert apply_plan([namespace, DEPLOYMENT], []).first == [namespace]
    assert apply_plan([DEPLOYMENT], []).source is None


def test_what_a_dry_run_has_to_wait_for_is_named():
    objects = [obj("Namespace", "flux-system"), CRD]
    assert created_with(BOOTSTRAP, objects) == (
        "CustomResourceDefinition kustomizations.kustomize.toolkit.fluxcd.io"
    )
    assert created_with(DEPLOYMENT, objects) == "Namespace flux-system"
    # the same kind in another group, or a namespace the set does not create: a real refusal
    assert created_with({**BOOTSTRAP, "apiVersion": "other.example/v1"}, objects) is None
    assert created_with(obj("ConfigMap", "x", "elsewhere"), objects) is None


@pytest.mark.parametrize(
    ("spec", "keys", "missing", "why"),
    [
        ({"url": "ssh://git@github.com/o/r"}, {"identity"}, ["known_hosts"], "over SSH"),
        ({"url": "ssh://git@github.com/o/r"}, {"identity", "known_hosts"}, [], "over SSH"),
        (
            {"url": "https://github.com/o/r", "provider": "github"},
            {"username", "password"},
            ["githubAppID", "githubAppInstallationID", "githubAppPrivateKey"],
            "provider: github",
        ),
        ({"url": "https://h/o/r"}, {"bearerToken"}, [], ""),
        ({"url": "https://h/o/r"}, {"username"}, ["password"], "over HTTPS"),
        # the key the Go tool writes for a token, which Flux does not read
        ({"url": "https://h/o/r"}, {"token"}, ["username", "password"], "over HTTPS"),
    ],
)
def test_the_secret_needs_the_keys_flux_reads_for_the_source(
    spec: dict[str, str], keys: set[str], missing: list[str], why: str
):
    found, reason = missing_secret_keys({"spec": spec}, keys)
    assert found == missing
    assert why in reason


def test_flux_revisions_name_their_commit():
    assert revision_commit(f"main@sha1:{COMMIT}") == COMMIT
    assert revision_commit(f"main/{COMMIT}") == COMMIT


def ready(
    o: dict[str, Any], revision: str, status: str = "True", message: str = "", **more: Any
) -> dict[str, Any]:
    """`o` as Flux leaves it after reconciling `revision` at its generation."""
    key = "artifact" if o["kind"] == "GitRepository" else "lastAppliedRevision"
    value: Any = {"revision": revision} if key == "artifact" else revision
    condition = {"type": "Ready", "status": status, "message": message, "observedGeneration": 1}
    return {
        **o,
        "metadata": {**o["metadata"], "generation": 1},
        "status": {key: value, "conditions": [condition], **more},
    }


def test_flux_is_ready_when_the_source_and_every_kustomization_are_at_the_commit():
    at = f"main@sha1:{COMMIT}"
    result = flux_readiness(ready(SOURCE, at), [ready(BOOTSTRAP, at)], COMMIT)
    assert result == Readiness(
        "ready",
        (
            f"GitRepository flux-system/environments: Ready at {at}",
            f"Kustomization default/bootstrap: Ready at {at}",
        ),
    )


def test_flux_is_waited_for_while_it_is_at_an_older_commit_or_has_no_source():
    old, new = f"main@sha1:{OTHER}", f"main@sha1:{COMMIT}"
    assert flux_readiness(None, [], COMMIT).state == "waiting"
    waiting = flux_readiness(ready(SOURCE, new), [ready(BOOTSTRAP, old)], COMMIT)
    assert waiting.state == "waiting"
    # an old failure (at another commit) is not this commit's failure
    failed_before = ready(BOOTSTRAP, old, "False", "old trouble", lastAttemptedRevision=old)
    assert flux_readiness(ready(SOURCE, new), [failed_before], COMMIT).state == "waiting"


def test_a_kustomization_failing_at_the_commit_fails_with_flux_s_message():
    at = f"main@sha1:{COMMIT}"
    failing = ready(
        BOOTSTRAP,
        f"main@sha1:{OTHER}",
        "False",
        "kustomize build failed",
        lastAttemptedRevision=at,
    )
    result = flux_readiness(ready(SOURCE, at), [failing], COMMIT)
    assert result.state == "failed"
    assert result.message == "Kustomization default/bootstrap: kustomize build failed"


def test_a_suspended_kustomization_fails_at_once():
    suspended = {**BOOTSTRAP, "spec": {"suspend": True}}
    result = flux_readiness(ready(SOURCE, f"main@sha1:{COMMIT}"), [suspended], COMMIT)
    assert result.state == "failed"
    assert "suspended" in result.message


def test_the_deploy_report_says_where_the_landscape_is():
    applied = (("Namespace flux-system", "created"), ("Secret flux-system/git", "unchanged"))
    done = DeployReport("dev", "dev", COMMIT, "v0.0.2", "success", applied, seconds=192)
    assert done.title == "dev is at openmcp v0.0.2: 2 objects applied, Ready in 3m12s"
    assert "1 created, 1 unchanged" in done.summary
    assert done.text.splitlines()[-1] == "| Secret flux-system/git | unchanged |"
    failed = DeployReport("dev", "dev", COMMIT, "v0.0.2", "failure", problem="no")
    assert failed.title == f"dev is not at {COMMIT[:12]}: no"
    assert duration(59.6) == "1m00s" and duration(3) == "3s"


def test_the_dry_run_report_fails_on_any_refusal_and_lists_what_waits():
    checked = (
        Checked("Namespace flux-system", "created"),
        Checked("Kustomization default/bootstrap", "deferred", "checked once CRD x exists"),
        Checked("Kustomization default/extra", "refused", "spec.prune: Required | value"),
    )
    report = DryRunReport("dev", "dev", COMMIT, checked)
    assert report.conclusion == "failure"
    assert report.title == (
        f"`dev` refuses 1 of 3 objects of dev at {COMMIT[:12]}: Kustomization default/extra: "
        "spec.prune: Required | value"
    )
    assert "1 to create, 1 checked at apply time, 1 refused" in report.summary
    assert (
        "1 object waits for a kind or namespace this change creates, so the API server cannot "
        "check it before the apply. That is expected on a first install" in report.summary
    )
    assert report.text.splitlines()[-1] == (
        "| Kustomization default/extra | refused | spec.prune: Required \\| value |"
    )
    accepted = DryRunReport("dev", "dev", COMMIT, checked[:2])
    assert accepted.conclusion == "success"
    assert accepted.title.endswith(
        ": 1 to create, 1 checked at apply time (they need CRDs or Namespaces this change creates)"
    )
    unchecked = DryRunReport("dev", "dev", COMMIT, problem="cannot reach the API server")
    assert unchecked.conclusion == "failure" and unchecked.text == ""
    assert unchecked.title.endswith("was not checked on `dev`: cannot reach the API server")
