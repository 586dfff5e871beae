"""`bootstrap-bot serve` as a real process, configured the way operators configure it: by
environment variables."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.peers.net import free_port


@dataclass
class ServeProcess:
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def healthy(self) -> bool:
        """True once /healthz answers; fails with the log if the process died."""
        assert self.process.poll() is None, self.log.read_text()
        try:
            return httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False


def serve_environment(
    tmp_path: Path, *, app_id: int, private_pem: str, secret: str, github_url: str, **settings: str
) -> dict[str, str]:
    """The settings of a serve process; `settings` adds `BOOTSTRAP_BOT_<NAME>` variables."""
    key_file = tmp_path / "app.pem"
    key_file.write_text(private_pem)
    env = {
        **os.environ,
        "BOOTSTRAP_BOT_APP_ID": str(app_id),
        "BOOTSTRAP_BOT_PRIVATE_KEY_FILE": str(key_file),
        "BOOTSTRAP_BOT_WEBHOOK_SECRET": secret,
        "BOOTSTRAP_BOT_CACHE_DIR": str(tmp_path / "cache"),
        "BOOTSTRAP_BOT_GITHUB_API_URL": github_url,
        **{f"BOOTSTRAP_BOT_{name.upper()}": value for name, value in settings.items()},
    }
    env.pop("BOOTSTRAP_BOT_SETTINGS_FILE", None)
    # one process outside any cluster, even when the suite itself runs in a pod
    env.pop("KUBERNETES_SERVICE_HOST", None)
    return env


@contextmanager
def serve(
    env: dict[str, str], log: Path, command: Sequence[str] = (sys.executable, "-m", "bot")
) -> Iterator[ServeProcess]:
    """Start `bootstrap-bot serve` (`command` is the `bootstrap-bot` to run) on a free 127.0.0.1
    port; killed at the end if still alive."""
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "serve"],
            env={**env, "BOOTSTRAP_BOT_LISTEN": f"127.0.0.1:{port}"},
            stdout=output,
            stderr=output,
        )
    try:
        yield ServeProcess(process, f"http://127.0.0.1:{port}", log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
