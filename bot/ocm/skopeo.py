"""OCI artifacts copied between registries by skopeo (Debian's `skopeo`), for `ocm transfer`.

skopeo is kept by the containers project for exactly this: it copies an image or any OCI
artifact (a Helm chart too) registry to registry, every manifest of an index with `--all`,
digests preserved, blobs the target holds already not sent again (so a re-run or an interrupted
copy sends only what is missing), each blob verified on arrival. oras-py has no registry-to-
registry copy, and a copy of our own would repeat all of that. Credentials are handed over in
a temporary auth file (mode 0600, removed afterwards), never on the command line.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from base64 import b64encode
from collections.abc import Callable
from pathlib import Path

from bot.core.failures import Failure, Temporary
from bot.ocm.credentials import CredentialStore
from bot.ocm.location import image_parts

TIMEOUT_SECONDS = 1800
_ATTEMPTS = "3"
#: words of a registry that is out, not refusing (bounded, so a digest's digits never match)
_OUTAGE = re.compile(
    r"connection (refused|reset)|no such host|timeout|\beof\b|too many requests"
    r"|\b(429|500|502|503|504)\b",
    re.IGNORECASE,
)


class CopyFailed(Failure, RuntimeError):
    """The registry refused the copy (not found, denied, invalid)."""


class CopyUnavailable(Temporary):
    """A registry could not be reached, or skopeo is not there."""


def skopeo_copier(
    credentials: CredentialStore | None = None,
    *,
    plain_http: Callable[[str], bool] = lambda _host: False,
) -> Callable[[str, str], str]:
    """A copier for `bot.ocm.transfer`: `copy(source, target)` returns the copy's digest.
    `plain_http(host)` says which registries are spoken to without TLS (loopback ones, when
    the operator allows it)."""

    def copy(source: str, target: str) -> str:
        tool = shutil.which("skopeo")
        if tool is None:
            raise CopyUnavailable("skopeo is not installed (Debian package `skopeo`)")
        with tempfile.TemporaryDirectory(prefix="bootstrap-bot-copy-") as work:
            auth, digest_file = Path(work) / "auth.json", Path(work) / "digest"
            _write_auth(auth, credentials, [source, target])
            command = [
                tool, "copy", "--all", "--preserve-digests", "--retry-times", _ATTEMPTS,
                "--authfile", str(auth), "--digestfile", str(digest_file),
                f"--src-tls-verify={_tls(source, plain_http)}",
                f"--dest-tls-verify={_tls(target, plain_http)}",
                f"docker://{_pinned(source)}", f"docker://{target}",
            ]  # fmt: skip
            try:
                done = subprocess.run(
                    command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
                )
            except subprocess.TimeoutExpired:
                raise CopyUnavailable(f"copying {source}: no end in {TIMEOUT_SECONDS} s") from None
            if done.returncode != 0:
                said = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
                kind = CopyUnavailable if _unreachable(said) else CopyFailed
                raise kind(f"copying {source} to {target}: {said}")
            return digest_file.read_text().strip()

    return copy


def _pinned(reference: str) -> str:
    """`name:tag@digest` as `name@digest` (the digest is what is copied; skopeo takes one)."""
    if "@" not in reference:
        return reference
    name, _, digest = reference.rpartition("@")
    if ":" in name.rpartition("/")[2]:
        name = name.rpartition(":")[0]
    return f"{name}@{digest}"


def _tls(reference: str, plain_http: Callable[[str], bool]) -> str:
    return "false" if plain_http(image_parts(reference)[0]) else "true"


def _unreachable(said: str) -> bool:
    """Whether skopeo's last line is a peer's outage (retried) rather than a refusal."""
    return _OUTAGE.search(said) is not None


def _write_auth(path: Path, credentials: CredentialStore | None, references: list[str]) -> None:
    auths = {}
    for reference in references:
        host, repository, _ = image_parts(reference)
        found = credentials.lookup(host, repository) if credentials else None
        if found is not None:
            secret = b64encode(f"{found.username}:{found.password}".encode()).decode()
            auths[host] = {"auth": secret}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump({"auths": auths}, file)
