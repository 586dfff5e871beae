"""The README's operator guide, run as written: its `bootstrap-bot` and `kubectl` commands in
order against the fake API server, with the files the earlier steps give an operator. Then the
pod the Deployment describes is started from what the commands left in the cluster (its
environment, its ConfigMap and Secret volumes) and answers a delivery signed as GitHub signs
it. Blocks that talk to GitHub or Docker are checked to hold only those tools."""

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

from bot.adapters.kustomize import kubectl
from tests.conftest import AppKey
from tests.integration.serve_process import serve
from tests.peers.github.payloads import delivery_headers, example
from tests.peers.kubernetes import FakeKubernetes, run_fake_kubernetes

ROOT = Path(__file__).parents[3]
GUIDE_HEADING = "## Running bootstrap-bot: the operator guide"
WEBHOOK_SECRET = "whsec-from-the-manifest-flow"
GIT_PASSWORD = "pw-for-flux-only"
NAMESPACE = "bootstrap-bot"
#: which tools a block the tests cannot run may use
EXTERNAL = {"on GitHub": {"curl", "jq"}, "with Docker": {"docker"}}


def guide_blocks() -> list[tuple[str, list[list[str]]]]:
    """(marker, commands) of every shell block of the guide, in order."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index(GUIDE_HEADING)
    end = readme.index("\n## ", start + len(GUIDE_HEADING))
    section = readme[start:end]
    blocks = []
    for found in re.finditer(r"(?:<!-- guide: ([^>]+) -->\n)?```sh\n(.*?)```", section, re.S):
        assert found[1], f"a shell block of the guide without a marker:\n{found[2]}"
        text = found[2].replace("\\\n", " ")
        commands = [shlex.split(line, comments=True) for line in text.splitlines()]
        blocks.append((found[1].strip(), [c for c in commands if c]))
    return blocks


def test_every_block_is_run_or_uses_only_tools_the_tests_cannot_reach():
    blocks = guide_blocks()
    assert [m for m, _ in blocks] == ["run", "on GitHub", "with Docker", "run", "run"]
    for marker, commands in blocks:
        if marker != "run":
            assert {c[0] for c in commands} <= EXTERNAL[marker], commands


def operator_files(directory: Path, app_key: AppKey) -> None:
    """What the operator has in hand at step 3: the App's key and webhook secret from the
    manifest flow (written by `jq -r`, so with a newline), registry credentials, a kubeconfig
    for the cluster `dev` and its git password."""
    (directory / "private-key.pem").write_text(app_key.private_pem)
    (directory / "webhook-secret").write_text(WEBHOOK_SECRET + "\n")
    auth = base64.b64encode(b"robot:registry-password").decode()
    (directory / "docker-config.json").write_text(
        json.dumps({"auths": {"registry.example.com": {"auth": auth}}})
    )
    (directory / "kubeconfig-dev").write_text("apiVersion: v1\nkind: Config\n")
    (directory / "git-password-dev").write_text(GIT_PASSWORD + "\n")
    (directory / "deploy").symlink_to(ROOT / "deploy")


async def run_command(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    """One guide command: a pipeline of `bootstrap-bot` and `kubectl`, its output perhaps
    redirected to a file (`> FILE`), as the shell would run it."""
    output = None
    if ">" in argv:
        at = argv.index(">")
        argv, output = argv[:at], argv[at + 1]
    stages, data = [], b""
    while "|" in argv:
        at = argv.index("|")
        stages.append(argv[:at])
        argv = argv[at + 1 :]
    stages.append(argv)
    for stage in stages:
        tools = {"kubectl": kubectl(), "bootstrap-bot": str(Path(sys.executable).parent / stage[0])}
        process = await asyncio.create_subprocess_exec(
            tools[stage[0]],
            *stage[1:],
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        data, err = await process.communicate(data)
        assert process.returncode == 0, f"{shlex.join(stage)}:\n{err.decode()}"
    if output is not None:
        (cwd / output).write_bytes(data)
    return data.decode()


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


@pytest.mark.peers
async def test_the_guide_deploys_a_bot_that_takes_github_s_deliveries(
    tmp_path: Path, app_key: AppKey
):
    work = tmp_path / "operator"
    work.mkdir()
    operator_files(work, app_key)
    async with run_fake_kubernetes() as kube:
        env = {**os.environ, "KUBECONFIG": str(kube.kubeconfig(tmp_path / "kubeconfig"))}
        printed = []
        for marker, commands in guide_blocks():
            if marker == "run":
                for argv in commands:
                    printed.append(await run_command(argv, work, env))

        # step 1: the manifest GitHub gets
        manifest = json.loads((work / "manifest.json").read_text())
        assert manifest["hook_attributes"]["url"] == "https://bootstrap-bot.example.com/webhook"
        assert manifest["redirect_url"] == "https://bootstrap-bot.example.com/"
        # step 4: what `kubectl kustomize` showed is what was applied
        assert "kind: Deployment" in printed[-2] and "deployment.apps/bootstrap-bot" in printed[-1]
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
        pod = pod_environment(kube, tmp_path / "pod")

    # The pod, started from what the guide left in the cluster, takes a signed delivery.
    with serve(pod, tmp_path / "serve.log") as process:
        deadline = time.monotonic() + 60
        while not process.healthy():
            assert time.monotonic() < deadline, process.log.read_text()
            await asyncio.sleep(0.1)
        body = json.dumps(example("ping")).encode()
        async with httpx.AsyncClient() as http:
            signed = delivery_headers("ping", body, WEBHOOK_SECRET)
            answer = await http.post(f"{process.base}/webhook", content=body, headers=signed)
            assert answer.status_code < 300, answer.text
            forged = delivery_headers("ping", body, "another-secret")
            refused = await http.post(f"{process.base}/webhook", content=body, headers=forged)
            assert refused.status_code == 401
    log = process.log.read_text()
    assert WEBHOOK_SECRET not in log
    assert GIT_PASSWORD not in log
