"""The README's operator guide, run as written: its shell blocks in order, by bash, against the
fake API server (the bot's cluster and a target cluster at once), with the files the earlier
steps give an operator. Then the pod the Deployment describes is started from what the blocks
left in the cluster (its environment, its ConfigMap and Secret volumes), and the smoke test of
step 8 is run in that environment: `serve --check --online` reaches GitHub (the fake), the
target cluster with the ServiceAccount token of step 3 and the registry, and the started pod
answers `/bootstrap help` delivered as GitHub signs it. Blocks that talk to GitHub or Docker are
checked to hold only those tools."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bot.adapters.kustomize import kubectl
from tests.integration.serve_process import serve
from tests.peers.github import FakeGitHub
from tests.peers.github.app_key import AppKey
from tests.peers.github.payloads import delivery_headers, example
from tests.peers.github.state import Comment, Repository
from tests.peers.kubernetes import FakeKubernetes, run_fake_kubernetes
from tests.peers.registry import Registry

ROOT = Path(__file__).parents[3]
GUIDE_HEADING = "## Installing and running bootstrap-bot: the operator guide"
WEBHOOK_SECRET = "whsec-from-the-manifest-flow"
GIT_PASSWORD = "pw-for-flux-only"
NAMESPACE = "bootstrap-bot"
#: which tools a block the tests cannot run may use
EXTERNAL = {"on GitHub": {"curl", "jq"}, "with Docker": {"docker"}}
#: how a block marked "in the pod" reaches the bot's pod
IN_THE_POD = ["kubectl", "-n", NAMESPACE, "exec", "deploy/bootstrap-bot", "--"]


def guide_blocks() -> list[tuple[str, str, list[list[str]]]]:
    """(marker, text, commands) of every shell block of the guide, in order."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index(GUIDE_HEADING)
    end = readme.index("\n## ", start + len(GUIDE_HEADING))
    section = readme[start:end]
    blocks = []
    for found in re.finditer(r"(?:<!-- guide: ([^>]+) -->\n)?```sh\n(.*?)```", section, re.S):
        assert found[1], f"a shell block of the guide without a marker:\n{found[2]}"
        text = found[2].replace("\\\n", " ")
        commands = [shlex.split(line, comments=True) for line in text.splitlines()]
        blocks.append((found[1].strip(), found[2], [c for c in commands if c]))
    return blocks


def test_every_block_is_run_or_uses_only_tools_the_tests_cannot_reach():
    blocks = guide_blocks()
    markers = [m for m, _, _ in blocks]
    assert markers == ["run", "on GitHub", "with Docker", "run", "run", "run", "in the pod"]
    for marker, _, commands in blocks:
        if marker == "run":
            assert {c[0] for c in commands} <= {"kubectl", "bootstrap-bot"}, commands
        elif marker == "in the pod":
            assert all(c[: len(IN_THE_POD)] == IN_THE_POD for c in commands), commands
        else:
            assert {c[0] for c in commands} <= EXTERNAL[marker], commands


def operator_files(directory: Path, app_key: AppKey) -> None:
    """What the operator has in hand besides the guide's own output: the App's key and webhook
    secret from the manifest flow (written by `jq -r`, so with a newline), registry
    credentials and the git password for the cluster `dev`."""
    (directory / "private-key.pem").write_text(app_key.private_pem)
    (directory / "webhook-secret").write_text(WEBHOOK_SECRET + "\n")
    auth = base64.b64encode(b"robot:registry-password").decode()
    (directory / "docker-config.json").write_text(
        json.dumps({"auths": {"registry.example.com": {"auth": auth}}})
    )
    (directory / "git-password-dev").write_text(GIT_PASSWORD + "\n")
    (directory / "deploy").symlink_to(ROOT / "deploy")


async def run_block(text: str, cwd: Path, env: dict[str, str]) -> str:
    """One block of the guide, as an operator's shell runs it (stopping at the first failure),
    with this suite's `kubectl` and `bootstrap-bot` first on the PATH."""
    tools = [str(Path(kubectl()).parent), str(Path(sys.executable).parent)]
    path = os.pathsep.join([*tools, env.get("PATH", "")])
    process = await asyncio.create_subprocess_exec(
        "bash", "-euo", "pipefail", "-c", text,
        cwd=cwd, env={**env, "PATH": path},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, f"{text}\n{err.decode()}"
    return out.decode()


def stored(kube: FakeKubernetes, group: str, plural: str, name: str) -> dict[str, Any]:
    (found,) = [
        obj
        for (g, p, ns, n), obj in kube.store.objects.items()
        if (g, p, ns) == (group, plural, NAMESPACE) and re.fullmatch(rf"{name}(-[a-z0-9]+)?", n)
    ]
    return found


def pod_environment(kube: FakeKubernetes, root: Path) -> dict[str, str]:
    """The bot container of the stored Deployment as a process would see it: its variables
    and its volumes as files, container paths moved under `root`."""
    deployment = stored(kube, "apps", "deployments", "bootstrap-bot")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = sorted((m["mountPath"] for m in container["volumeMounts"]), key=len, reverse=True)

    # in one pass: a path moved under `root` must not be moved again (`root` is under /tmp)
    mounted = re.compile(r"(?<![\w./-])(" + "|".join(map(re.escape, mounts)) + r")(?=/|\b|$)")

    def moved(text: str) -> str:
        return mounted.sub(lambda m: f"{root}{m[1]}", text)

    for mount in container["volumeMounts"]:
        target = Path(f"{root}{mount['mountPath']}")
        target.mkdir(parents=True)
        volume = volumes[mount["name"]]
        if "configMap" in volume:
            data = stored(kube, "", "configmaps", volume["configMap"]["name"])["data"]
            for key, value in data.items():
                (target / key).write_text(moved(value))
        elif "secret" in volume:
            secret = stored(kube, "", "secrets", volume["secret"]["secretName"])
            for key, value in secret["data"].items():
                (target / key).write_bytes(base64.b64decode(value))

    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOTSTRAP_BOT_")}
    env.pop("KUBERNETES_SERVICE_HOST", None)  # one process here, no Lease
    for variable in container["env"]:
        if "value" in variable:
            env[variable["name"]] = moved(variable["value"])
            continue
        source = variable["valueFrom"]
        if "fieldRef" in source:
            assert source["fieldRef"]["fieldPath"] == "metadata.namespace"
            env[variable["name"]] = deployment["metadata"]["namespace"]
        else:
            ref = source["secretKeyRef"]
            secret = stored(kube, "", "secrets", ref["name"])
            env[variable["name"]] = base64.b64decode(secret["data"][ref["key"]]).decode()
    env["BOOTSTRAP_BOT_RESYNC"] = "false"  # no GitHub to resync with here
    return env


def issue_comment(repository: Repository, installation: int, comment: Comment) -> dict[str, Any]:
    """GitHub's `issue_comment` delivery of a comment on an issue of `repository`."""
    payload = example("issue_comment", "created")
    payload["comment"].update(id=comment.id, body=comment.body)
    payload["comment"]["user"].update(login=comment.user, type="User")
    payload["issue"]["number"] = comment.issue_number
    payload["repository"].update(
        full_name=repository.full_name, name=repository.name, clone_url=repository.clone_url
    )
    payload["repository"]["owner"]["login"] = repository.owner
    payload["installation"] = {"id": installation, "node_id": "I_1"}
    return payload


@pytest.mark.peers
async def test_the_guide_deploys_a_bot_that_passes_its_smoke_test(
    tmp_path: Path, app_key: AppKey, fake_github: FakeGitHub, oci_registry: Registry
):
    work = tmp_path / "operator"
    work.mkdir()
    operator_files(work, app_key)
    async with run_fake_kubernetes() as kube:
        env = {**os.environ, "KUBECONFIG": str(kube.kubeconfig(tmp_path / "kubeconfig"))}
        printed = {}
        for marker, text, _ in guide_blocks():
            if marker == "run":
                printed[text] = await run_block(text, work, env)

        # step 1: the manifest GitHub gets
        manifest = json.loads((work / "manifest.json").read_text())
        assert manifest["hook_attributes"]["url"] == "https://bootstrap-bot.example.com/webhook"
        assert manifest["redirect_url"] == "https://bootstrap-bot.example.com/"
        # step 3: the target cluster's kubeconfig holds the ServiceAccount's token, not ours
        target = yaml.safe_load((work / "kubeconfig-dev").read_text())
        (user,) = target["users"]
        assert user["user"]["token"] in kube.service_account_tokens
        assert kube.token not in (work / "kubeconfig-dev").read_text()
        # step 5: what `kubectl kustomize` showed is what was applied
        (deployed,) = [out for text, out in printed.items() if "kubectl kustomize" in text]
        assert "kind: Deployment" in deployed and "deployment.apps/bootstrap-bot" in deployed
        deployment = stored(kube, "apps", "deployments", "bootstrap-bot")
        assert deployment["spec"]["replicas"] == 2
        for plural, group in [
            ("services", ""),
            ("poddisruptionbudgets", "policy"),
            ("networkpolicies", "networking.k8s.io"),
            ("ingresses", "networking.k8s.io"),
            ("serviceaccounts", ""),
        ]:
            assert stored(kube, group, plural, "bootstrap-bot")

        # The pod, as the guide left it in the cluster; GitHub is the fake here, and the
        # registry the tests run.
        pod = pod_environment(kube, tmp_path / "pod")
        pod["BOOTSTRAP_BOT_GITHUB_API_URL"] = fake_github.url
        pod["BOOTSTRAP_BOT_APP_ID"] = str(app_key.app_id)
        pod["BOOTSTRAP_BOT_REGISTRY__ALLOWED"] = json.dumps([oci_registry.host])
        pod["BOOTSTRAP_BOT_REGISTRY__PLAIN_HTTP_LOOPBACK"] = "true"

        # step 8: the smoke test, in the pod's environment
        for marker, _, commands in guide_blocks():
            if marker == "in the pod":
                for command in commands:
                    smoke = await run_block(shlex.join(command[len(IN_THE_POD) :]), work, pod)
        assert "ok   github: the App bootstrap-bot\n" in smoke
        assert "ok   clusters.dev: Kubernetes v1.32.0-fake\n" in smoke
        assert f"ok   registry {oci_registry.host}: answers" in smoke

        # ... and /bootstrap help on an issue, answered by the running pod
        installation = fake_github.add_installation("example-org")
        repository = fake_github.add_repository(installation, "landscape-dev")
        number = fake_github.state.next_issue_number(repository.full_name.lower())
        asked = fake_github.add_comment(repository.full_name, number, "/bootstrap help", user="ann")
        with serve(pod, tmp_path / "serve.log") as process:
            deadline = time.monotonic() + 60
            while not process.healthy():
                assert time.monotonic() < deadline, process.log.read_text()
                await asyncio.sleep(0.1)
            async with httpx.AsyncClient() as http:
                body = json.dumps(issue_comment(repository, installation.id, asked)).encode()
                signed = delivery_headers("issue_comment", body, WEBHOOK_SECRET)
                answer = await http.post(f"{process.base}/webhook", content=body, headers=signed)
                assert answer.status_code < 300, answer.text
                forged = delivery_headers("issue_comment", body, "another-secret")
                refused = await http.post(f"{process.base}/webhook", content=body, headers=forged)
                assert refused.status_code == 401
            while not [c for c in fake_github.state.comments.values() if c.user_type == "Bot"]:
                assert time.monotonic() < deadline, process.log.read_text()
                await asyncio.sleep(0.1)
    (reply,) = [c for c in fake_github.state.comments.values() if c.user_type == "Bot"]
    assert reply.issue_number == number and "/bootstrap help" in reply.body
    assert "`/bootstrap status`" in reply.body
    log = process.log.read_text()
    assert WEBHOOK_SECRET not in log
    assert GIT_PASSWORD not in log
