"""`deploy/`: the Kustomize base and the example overlay build with the real kustomize, every
object validates against the Kubernetes schema, and the pieces fit together and fit the bot."""

from __future__ import annotations

import fnmatch
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from bot.settings import ENV_PREFIX, Settings, load_settings
from tests.integration.kube_models import built, object_problems, one

ROOT = Path(__file__).parents[3]
BASE, EXAMPLE = "deploy/base", "deploy/overlays/example"
TARGET = "deploy/target-cluster"  # what the bot is allowed on a cluster it deploys to


@pytest.fixture(scope="module")
def example() -> list[dict[str, Any]]:
    return built(EXAMPLE)


@pytest.mark.parametrize("directory", [BASE, EXAMPLE])
def test_every_object_validates_against_the_kubernetes_schema(directory: str):
    objects = built(directory)
    assert [p for o in objects for p in object_problems(o)] == []
    kinds = {o["kind"] for o in objects}
    assert {
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "NetworkPolicy",
    } <= kinds


def test_the_target_cluster_manifests_validate_and_bind_the_role_to_the_token_s_account():
    objects = built(TARGET)
    assert [p for o in objects for p in object_problems(o)] == []
    account = one(objects, "ServiceAccount")["metadata"]
    binding = one(objects, "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == one(objects, "ClusterRole")["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}
    ]
    token = one(objects, "Secret")
    assert token["type"] == "kubernetes.io/service-account-token"
    assert token["metadata"]["annotations"]["kubernetes.io/service-account.name"] == account["name"]


def test_the_schema_check_finds_mistakes():
    deployment = one(built(BASE), "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    deployment["spec"]["replicas"] = "2"
    del container["name"]
    assert sorted(object_problems(deployment)) == [
        "Deployment/bootstrap-bot: spec.replicas: expected int, got str",
        "Deployment/bootstrap-bot: spec.template.spec.containers[0].readinesProbe: "
        "unknown field of V1Container",
        "Deployment/bootstrap-bot: spec.template.spec.containers[0]: "
        "Invalid value for `name`, must not be `None`",
    ]


def test_two_replicas_with_probes_resources_and_a_locked_down_pod(example):
    deployment = one(example, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == "registry.example.com/platform/bootstrap-bot:0.1.0"
    assert container["args"] == ["serve"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    port = Settings().listen.rpartition(":")[2]  # the port `serve` listens on by default
    assert container["ports"] == [{"name": "http", "containerPort": int(port), "protocol": "TCP"}]
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    # the server drains for 30 s after SIGTERM; Kubernetes must wait longer before killing it
    assert pod["terminationGracePeriodSeconds"] > 30


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container["env"]}


def test_the_pod_names_its_namespace_for_the_leases_and_may_use_only_leases(example):
    deployment, role, binding = (one(example, k) for k in ("Deployment", "Role", "RoleBinding"))
    pod = deployment["spec"]["template"]["spec"]
    env = env_of(pod["containers"][0])
    assert env["POD_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    grants = {
        (verb, name)
        for rule in role["rules"]
        if rule["apiGroups"] == ["coordination.k8s.io"] and rule["resources"] == ["leases"]
        for verb in rule["verbs"]
        for name in rule.get("resourceNames", ["*"])
    }
    # bot.adapters.leases.leader and .shards list, read, create and replace the Leases of their own
    # namespace (a Role: no other namespace), nothing else, and never delete one
    assert role["kind"] == "Role"
    assert grants == {(verb, "*") for verb in ("create", "list", "get", "update")}
    assert len(role["rules"]) == 1
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": pod["serviceAccountName"],
            "namespace": deployment["metadata"]["namespace"],
        }
    ]


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def test_service_budget_policy_and_ingress_select_the_bot_s_pods(example):
    deployment = one(example, "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    service, budget, policy, ingress = (
        one(example, k) for k in ("Service", "PodDisruptionBudget", "NetworkPolicy", "Ingress")
    )
    assert matches(service["spec"]["selector"], labels)
    assert matches(budget["spec"]["selector"]["matchLabels"], labels)
    assert budget["spec"]["minAvailable"] == 1 < deployment["spec"]["replicas"]
    assert matches(policy["spec"]["podSelector"]["matchLabels"], labels)
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    (ingress_path,) = [p for r in ingress["spec"]["rules"] for p in r["http"]["paths"]]
    assert (ingress_path["path"], ingress_path["pathType"]) == ("/webhook", "Exact")
    assert ingress_path["backend"]["service"] == {
        "name": service["metadata"]["name"],
        "port": {"name": "http"},
    }


def mounted_files(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Mount path -> the volume mounted there."""
    volumes = {v["name"]: v for v in pod["volumes"]}
    (container,) = pod["containers"]
    return {m["mountPath"]: volumes[m["name"]] for m in container["volumeMounts"]}


def test_settings_come_from_the_settings_config_map_and_files_from_mounted_secrets(example):
    deployment, config_map = one(example, "Deployment"), one(example, "ConfigMap")
    pod = deployment["spec"]["template"]["spec"]
    env = env_of(pod["containers"][0])
    mounts = mounted_files(pod)
    # every BOOTSTRAP_BOT_ variable is a setting the bot knows
    for name in env:
        if name.startswith(ENV_PREFIX):
            field = name[len(ENV_PREFIX) :].lower().split("__")[0]
            assert field in Settings.model_fields or field == "settings_file", name
    settings_file = PurePosixPath(env["BOOTSTRAP_BOT_SETTINGS_FILE"]["value"])
    volume = mounts[str(settings_file.parent)]
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]
    text = config_map["data"][settings_file.name]

    # Every file the settings name lies in a mounted Secret (and so does the App key).
    named = [env["BOOTSTRAP_BOT_PRIVATE_KEY_FILE"]["value"]]
    settings = yaml.safe_load(text)
    named.append(settings["registry"]["docker_config"])
    for cluster in settings["clusters"].values():
        named += [cluster["kubeconfig"], cluster["git"]["password_file"]]
    for path in named:
        volume = mounts[str(PurePosixPath(path).parent)]
        assert "secret" in volume, path
    webhook = env["BOOTSTRAP_BOT_WEBHOOK_SECRET"]["valueFrom"]["secretKeyRef"]
    assert webhook["name"] == mounts["/etc/bootstrap-bot/github"]["secret"]["secretName"]


def test_the_only_writable_paths_are_volumes(example):
    deployment = one(example, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    env = env_of(pod["containers"][0])
    mounts = mounted_files(pod)
    writable = {path for path, volume in mounts.items() if "emptyDir" in volume}
    assert writable == {env["BOOTSTRAP_BOT_CACHE_DIR"]["value"], "/tmp"}
    # the read-only root filesystem holds nothing the bot writes: settings and secrets are
    # read-only mounts
    (container,) = pod["containers"]
    for mount in container["volumeMounts"]:
        assert mount.get("readOnly", False) == (mount["mountPath"] not in writable)


def test_the_example_overlay_settings_are_valid_settings(example, tmp_path, monkeypatch):
    """settings.yaml of the overlay, with the mounted files present, is what `serve` accepts."""
    text = one(example, "ConfigMap")["data"]["settings.yaml"]
    root = tmp_path / "etc"
    for path in ("registry/config.json", "clusters/kubeconfig-dev", "clusters/git-password-dev"):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("x")
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(text.replace("/etc/bootstrap-bot/", f"{root}/"))
    monkeypatch.setenv(f"{ENV_PREFIX}SETTINGS_FILE", str(settings_file))
    settings = load_settings()
    assert settings.app_id == 123456
    # the example settings bind the example landscape: its repository and its pushBranch
    landscape = yaml.safe_load((ROOT / "examples/landscape/.bootstrap/config.yaml").read_text())
    dev = settings.clusters["dev"]
    assert fnmatch.fnmatchcase(landscape["repository"]["pushBranch"], dev.branches[0])
    assert landscape["repository"]["url"].endswith(f"/{dev.repositories[0]}.git")
    assert settings.registry.allowed == ["ghcr.io"]
