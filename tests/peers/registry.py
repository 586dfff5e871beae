"""A real OCI registry: Debian's `docker-registry` (CNCF distribution 2.8), own config per run.

It lists tags unsorted and without pagination; code that must follow `Link` headers needs a
slicing proxy in front (see the OCM client's tests).
"""

from __future__ import annotations

import http.client
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from tests.peers.net import LOOPBACK, free_port, stop, wait_until

BINARY = "docker-registry"


@dataclass(frozen=True)
class Registry:
    host: str  # "127.0.0.1:PORT", as OCI references name it
    username: str | None = None
    password: str | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}"


def _config(root: Path, port: int, htpasswd: Path | None) -> str:
    auth = (
        f"auth:\n  htpasswd:\n    realm: test-registry\n    path: {htpasswd}\n" if htpasswd else ""
    )
    return (
        "version: 0.1\n"
        "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
        "storage:\n"
        f"  filesystem:\n    rootdirectory: {root / 'data'}\n"
        "  delete:\n    enabled: true\n"
        "  maintenance:\n    uploadpurging:\n      enabled: false\n"
        f"http:\n  addr: {LOOPBACK}:{port}\n  secret: test-only\n" + auth
    )


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=1)
    try:
        conn.request("GET", "/v2/")
        return conn.getresponse().status in (200, 401)
    except OSError:
        return False
    finally:
        conn.close()


@contextmanager
def run_registry(root: Path, *, basic_auth: tuple[str, str] | None = None) -> Iterator[Registry]:
    """Start a registry storing under `root`; with `basic_auth`, it requires those credentials."""
    binary = shutil.which(BINARY)
    if binary is None:
        raise RuntimeError(f"{BINARY} is not installed; `make test` installs it (Debian package)")
    htpasswd = None
    if basic_auth:
        import bcrypt

        user, password = basic_auth
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()
        htpasswd = root / "htpasswd"
        htpasswd.write_text(f"{user}:{hashed}\n")
    for _attempt in range(3):  # the free port may be taken between probing and binding
        port = free_port()
        config = root / "config.yml"
        config.write_text(_config(root, port, htpasswd))
        process = subprocess.Popen(
            [binary, "serve", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            wait_until(partial(_answers, port), what=BINARY, process=process)
        except RuntimeError:
            stop(process)
            continue
        try:
            yield Registry(f"{LOOPBACK}:{port}", *(basic_auth or (None, None)))
        finally:
            stop(process)
        return
    raise RuntimeError(f"{BINARY} could not start on a free port")
