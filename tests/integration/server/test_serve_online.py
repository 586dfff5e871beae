"""`bootstrap-bot serve --check --online`: the App credentials, each cluster and each registry
are tried, every problem said at once, in one line each."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
import yaml

from tests.peers.github import FakeGitHub
from tests.peers.github.app_key import AppKey
from tests.peers.kubernetes import run_fake_kubernetes
from tests.peers.net import LOOPBACK, free_port
from tests.peers.registry import Registry

pytestmark = pytest.mark.peers


async def check_online(tmp_path: Path, settings: dict[str, object], app_id: int, key: str):
    (tmp_path / "app.pem").write_text(key)
    (tmp_path / "settings.yaml").write_text(yaml.safe_dump(settings))
    env = {
        **os.environ,
        "BOOTSTRAP_BOT_SETTINGS_FILE": str(tmp_path / "settings.yaml"),
        "BOOTSTRAP_BOT_APP_ID": str(app_id),
        "BOOTSTRAP_BOT_PRIVATE_KEY_FILE": str(tmp_path / "app.pem"),
        "BOOTSTRAP_BOT_WEBHOOK_SECRET": "s3cret-for-the-check",
        "BOOTSTRAP_BOT_CACHE_DIR": str(tmp_path / "cache"),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", "--check", "--online",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()


def settings_for(
    github_url: str, kubeconfig: Path, registry: str, tmp_path: Path
) -> dict[str, object]:
    password = tmp_path / "git-password"
    password.write_text("pw\n")
    return {
        "github_api_url": github_url,
        "registry": {"allowed": [registry, "*.example.com"], "plain_http_loopback": True},
        "clusters": {
            "dev": {
                "kubeconfig": str(kubeconfig),
                "repositories": ["example-org/landscape"],
                "branches": ["main"],
                "git": {"type": "basic", "username": "flux", "password_file": str(password)},
            }
        },
    }


async def test_every_peer_answers(
    fake_github: FakeGitHub, app_key: AppKey, oci_registry: Registry, tmp_path: Path
):
    async with run_fake_kubernetes() as kube:
        kubeconfig = kube.kubeconfig(tmp_path / "kubeconfig")
        settings = settings_for(fake_github.url, kubeconfig, oci_registry.host, tmp_path)
        code, out, err = await check_online(tmp_path, settings, app_key.app_id, app_key.private_pem)
    assert code == 0 and "FAIL" not in err, err
    assert "ok   github: the App bootstrap-bot\n" in out
    assert "ok   clusters.dev: Kubernetes v1.32.0-fake\n" in out
    assert f"ok   registry {oci_registry.host}: answers (token authentication)\n" in out
    assert [r.operation_id for r in fake_github.requests] == ["apps/get-authenticated"]


async def test_every_problem_is_said_at_once(
    fake_github: FakeGitHub, app_key: AppKey, tmp_path: Path
):
    async with run_fake_kubernetes() as kube:
        kubeconfig = kube.kubeconfig(tmp_path / "kubeconfig")
    # the API server and the registry are gone; the App id is not this App's
    dead_registry = f"{LOOPBACK}:{free_port()}"
    settings = settings_for(fake_github.url, kubeconfig, dead_registry, tmp_path)
    code, _, err = await check_online(tmp_path, settings, 99, app_key.private_pem)
    assert code == 1
    failed = [line for line in err.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 3, err
    assert failed[0].startswith("FAIL github: the App credentials were refused")
    assert failed[1].startswith("FAIL clusters.dev: cannot reach the API server")
    assert failed[2].startswith(f"FAIL registry {dead_registry}: ")
    assert "Traceback" not in err
