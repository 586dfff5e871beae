"""The fake API server against the real kubectl (conformance) and the bot's cluster adapter."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_asyncio import client, config

from bot.adapters.cluster import Cluster, ClusterError, ClusterUnavailable, ObjectRef
from bot.adapters.kustomize import kubectl
from tests.peers.kubernetes import FakeKubernetes, run_fake_kubernetes
from tests.peers.kubernetes.rbac import Authorizer, Rule
from tests.peers.net import LOOPBACK
from tests.reference_case import CASE

pytestmark = pytest.mark.peers
FLUX_INSTALL = CASE / "templates" / "fluxcd" / "templates" / "resources" / "components.yaml"
KUSTOMIZATION_API = "kustomize.toolkit.fluxcd.io/v1"
KUSTOMIZATIONS = "kustomizations.kustomize.toolkit.fluxcd.io"
#: the request option that makes kubernetes_asyncio's patch a server-side apply
APPLY_PATCH: dict[str, Any] = {"_content_type": "application/apply-patch+yaml"}


def flux_objects() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(FLUX_INSTALL.read_text()) if d]


def kustomization(name: str = "apps", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": KUSTOMIZATION_API,
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {
            "interval": "10m",
            "path": "./apps",
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": "environments"},
            **spec,
        },
    }


async def run_kubectl(kube: FakeKubernetes, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "KUBECONFIG": str(kube.kubeconfig(tmp_path / "kubeconfig"))}
    process = await asyncio.create_subprocess_exec(
        kubectl(), *args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_real_kubectl_applies_flux_server_side_and_reads_it_back(tmp_path: Path):
    manifest = tmp_path / "flux.yaml"
    objects = [*flux_objects(), kustomization()]
    manifest.write_text(yaml.safe_dump_all(objects))
    async with run_fake_kubernetes() as kube:
        apply = ("apply", "--server-side", "--validate=false", "-f", str(manifest))
        # As against kube-apiserver: the Kustomization's kind is unknown until its CRD exists.
        code, out, err = await run_kubectl(kube, tmp_path, *apply)
        assert code == 1
        assert (
            'no matches for kind "Kustomization" in version "kustomize.toolkit.fluxcd.io/v1"' in err
        )
        crd = "customresourcedefinition.apiextensions.k8s.io/" + KUSTOMIZATIONS
        assert f"{crd} serverside-applied" in out
        await asyncio.sleep(0.2)  # established
        code, out, err = await run_kubectl(kube, tmp_path, *apply)
        assert code == 0, err
        assert "kustomization.kustomize.toolkit.fluxcd.io/apps serverside-applied" in out

        code, out, err = await run_kubectl(
            kube, tmp_path, "get", "kustomizations", "-A", "-o", "json"
        )
        assert code == 0, err
        (item,) = json.loads(out)["items"]
        assert item["metadata"]["generation"] == 1
        revision = item["metadata"]["resourceVersion"]
        key = ("kustomize.toolkit.fluxcd.io", "kustomizations", "flux-system", "apps")
        managed = kube.store.objects[key]["metadata"]["managedFields"]
        assert [(e["manager"], e["operation"]) for e in managed] == [("kubectl", "Apply")]

        # Unchanged: no new resourceVersion. A spec change: a new generation.
        code, _, err = await run_kubectl(kube, tmp_path, *apply)
        assert code == 0, err
        stored = kube.store.objects[
            ("kustomize.toolkit.fluxcd.io", "kustomizations", "flux-system", "apps")
        ]
        assert stored["metadata"]["resourceVersion"] == revision
        changed = tmp_path / "changed.yaml"
        changed.write_text(yaml.safe_dump(kustomization(path="./other")))
        code, _, err = await run_kubectl(
            kube, tmp_path, "apply", "--server-side", "-f", str(changed), "--validate=false"
        )
        assert code == 0, err
        assert (
            stored
            is not kube.store.objects[
                ("kustomize.toolkit.fluxcd.io", "kustomizations", "flux-system", "apps")
            ]
        )
        code, out, _ = await run_kubectl(
            kube,
            tmp_path,
            "get",
            "kustomization",
            "apps",
            "-n",
            "flux-system",
            "-o",
            "jsonpath={.metadata.generation} {.spec.path}",
        )
        assert out == "2 ./other"

        # Another manager changing a field kubectl owns conflicts, until it forces.
        other = ("apply", "--server-side", "--validate=false", "--field-manager=someone", "-f")
        theirs = tmp_path / "theirs.yaml"
        theirs.write_text(yaml.safe_dump(kustomization(path="./theirs")))
        code, _, err = await run_kubectl(kube, tmp_path, *other, str(theirs))
        assert code == 1 and 'conflict with "kubectl"' in err and ".spec.path" in err
        code, _, err = await run_kubectl(kube, tmp_path, *other, str(theirs), "--force-conflicts")
        assert code == 0, err

        # An invalid object is refused with the schema's reasons.
        invalid = tmp_path / "invalid.yaml"
        broken = kustomization("broken")
        del broken["spec"]["interval"]
        broken["spec"]["sourceRef"]["kind"] = "Nothing"
        invalid.write_text(yaml.safe_dump(broken))
        code, _, err = await run_kubectl(
            kube, tmp_path, "apply", "--server-side", "--validate=false", "-f", str(invalid)
        )
        assert code == 1
        assert 'The Kustomization "broken" is invalid' in err
        assert "spec.interval: Required value" in err
        assert 'spec.sourceRef.kind: Unsupported value: "Nothing"' in err


async def test_the_adapter_reads_201_and_200_answers_of_server_side_apply(tmp_path: Path):
    async with (
        run_fake_kubernetes() as kube,
        Cluster.connect(kube.kubeconfig(tmp_path / "k")) as api,
    ):
        namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}}
        created = await api.apply(namespace)
        assert created.outcome == "created" and created.obj["metadata"]["uid"]
        assert (await api.apply(namespace)).outcome == "unchanged"
        labelled = {**namespace, "metadata": {"name": "flux-system", "labels": {"a": "b"}}}
        assert (await api.apply(labelled)).outcome == "configured"
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "git", "namespace": "flux-system"},
            "stringData": {"password": "pw"},
        }
        assert (await api.apply(secret, dry_run=True)).outcome == "created"
        assert await api.get(ObjectRef.of(secret)) is None  # a dry run stores nothing
        applied = await api.apply(secret)
        assert applied.obj["data"] == {"password": "cHc="}

        with pytest.raises(ClusterError, match='no matches for kind "Kustomization"'):
            await api.apply(kustomization())
        crd = next(o for o in flux_objects() if o["metadata"]["name"].startswith("kustomizations."))
        await api.apply(crd)
        await asyncio.sleep(0.2)  # established

        # kubernetes_asyncio's typed client reads the 201 of a creating apply as None.
        configuration = client.Configuration()
        await config.load_kube_config(str(tmp_path / "k"), client_configuration=configuration)
        async with client.ApiClient(configuration) as typed:
            custom = client.CustomObjectsApi(typed)
            answers = [
                await custom.patch_namespaced_custom_object(
                    "kustomize.toolkit.fluxcd.io",
                    "v1",
                    "flux-system",
                    "kustomizations",
                    "apps",
                    kustomization(),
                    field_manager="test",
                    **APPLY_PATCH,
                )
                for _ in range(2)
            ]
        assert answers[0] is None and answers[1]["metadata"]["name"] == "apps"
        # The adapter reads both.
        assert (await api.apply(kustomization("other"))).obj["metadata"]["uid"]
        missing_ns = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "x", "namespace": "nope"},
        }
        with pytest.raises(
            ClusterError, match='applying ConfigMap nope/x: namespaces "nope" not found'
        ):
            await api.apply(missing_ns)


async def test_the_fake_keeps_the_api_server_s_contract(tmp_path: Path):
    async with run_fake_kubernetes(establish_delay=0) as kube:
        store = kube.store
        crd = next(o for o in flux_objects() if o["metadata"]["name"].startswith("kustomizations."))
        from tests.peers.kubernetes.resources import CRD, NAMESPACES
        from tests.peers.kubernetes.store import ApiError

        store.apply(CRD, "", crd["metadata"]["name"], crd, "test")
        await asyncio.sleep(0.01)
        kind = store.types[("kustomize.toolkit.fluxcd.io", "kustomizations")]
        store.apply(
            NAMESPACES,
            "",
            "flux-system",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}},
            "test",
        )
        written = store.apply(kind, "flux-system", "apps", kustomization(), "bot").obj
        # status goes through the subresource only
        with_status = {**kustomization(), "status": {"observedGeneration": 7}}
        assert "status" not in store.apply(kind, "flux-system", "apps", with_status, "bot").obj
        status = store.write_status(kind, "flux-system", "apps", {"observedGeneration": 1}).obj
        assert status["metadata"]["generation"] == 1
        assert int(status["metadata"]["resourceVersion"]) > int(
            written["metadata"]["resourceVersion"]
        )
        # a stale resourceVersion conflicts
        stale = {
            **kustomization(),
            "metadata": {
                **kustomization()["metadata"],
                "resourceVersion": written["metadata"]["resourceVersion"],
            },
        }
        with pytest.raises(ApiError) as conflict:
            store.replace(kind, "flux-system", "apps", stale, "bot")
        assert (
            conflict.value.code == 409 and "the object has been modified" in conflict.value.message
        )
        # unknown fields: pruned with a warning, refused when strict
        extra = kustomization(typo=True)
        assert store.apply(kind, "flux-system", "apps", extra, "bot").warnings == [
            'unknown field "spec.typo"'
        ]
        with pytest.raises(ApiError) as strict:
            store.apply(kind, "flux-system", "apps", extra, "bot", strict=True)
        assert strict.value.code == 400
        store.delete(kind, "flux-system", "apps")
        with pytest.raises(ApiError) as gone:
            store.get(kind, "flux-system", "apps")
        assert gone.value.status()["reason"] == "NotFound" and gone.value.code == 404


async def test_an_api_server_that_never_answers_is_out_of_reach_not_a_hang(
    tmp_path: Path, monkeypatch
):
    monkeypatch.setattr("bot.adapters.cluster.REQUEST_TIMEOUT", 0.3)

    connections: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)  # takes the request in, says nothing

    server = await asyncio.start_server(silent, LOOPBACK, 0)
    port = server.sockets[0].getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: dev\n"
        f"clusters: [{{name: dev, cluster: {{server: 'http://{LOOPBACK}:{port}'}}}}]\n"
        "users: [{name: dev, user: {token: t}}]\n"
        "contexts: [{name: dev, context: {cluster: dev, user: dev}}]\n"
    )
    try:
        async with Cluster.connect(kubeconfig) as api:
            with pytest.raises(ClusterUnavailable, match="cannot reach the API server"):
                await api.get(ObjectRef("v1", "Namespace", "", "flux-system"))
    finally:
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_rbac_refuses_as_kube_apiserver_does_and_kubectl_shows_it(tmp_path: Path):
    user = "system:serviceaccount:ops:deployer"
    rules = [
        Rule(("",), ("namespaces",), ("get", "create", "patch")),
        Rule(("rbac.authorization.k8s.io",), ("clusterroles",), ("get", "create", "patch")),
        # what kubectl reads besides (the real server's system:discovery role)
        Rule(non_resource_urls=("/api*", "/openapi/*", "/version"), verbs=("get",)),
    ]
    namespace = tmp_path / "namespace.yaml"
    namespace.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n")
    wide = tmp_path / "role.yaml"
    wide.write_text(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: wide\n"
        "rules:\n- apiGroups: ['']\n  resources: [secrets]\n  verbs: [get]\n"
    )
    async with run_fake_kubernetes() as kube:
        kube.authorizer = authorizer = Authorizer(user, rules)
        applied = await run_kubectl(kube, tmp_path, "apply", "--server-side", "-f", str(namespace))
        assert applied[0] == 0, applied
        code, _, err = await run_kubectl(kube, tmp_path, "get", "secret", "git", "-n", "team")
        assert code == 1
        assert err.strip() == (
            f'Error from server (Forbidden): secrets "git" is forbidden: User "{user}" cannot '
            'get resource "secrets" in API group "" in the namespace "team"'
        )
        # a role granting what the identity does not hold needs `escalate`
        code, _, err = await run_kubectl(kube, tmp_path, "apply", "--server-side", "-f", str(wide))
        assert code == 1 and "is attempting to grant RBAC permissions not currently held:" in err
        assert '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}' in err
        authorizer.rules.append(
            Rule(("rbac.authorization.k8s.io",), ("clusterroles",), ("escalate",))
        )
        code, _, err = await run_kubectl(kube, tmp_path, "apply", "--server-side", "-f", str(wide))
        assert code == 0, err
        # creating through an apply needs `create` besides `patch`
        authorizer.rules[0] = Rule(("",), ("namespaces",), ("get", "patch"))
        other = tmp_path / "other.yaml"
        other.write_text(namespace.read_text().replace("team", "other"))
        code, _, err = await run_kubectl(kube, tmp_path, "apply", "--server-side", "-f", str(other))
        assert code == 1 and 'cannot create resource "namespaces"' in err
        assert ("", "namespaces", "", "other") not in kube.store.objects
