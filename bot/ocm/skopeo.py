"""OCI artifacts copied between registries by skopeo (Debian's `skopeo`), for `ocm transfer`.

skopeo is kept by the containers project for exactly this: it copies an image or any OCI
artifact (a Helm chart too) registry to registry, every manifest of an index with `--all`,
digests preserved, blobs the target holds already not sent again (so a re-run or an interrupted
copy sends only what is missing), each blob verified on arrival. oras-py has no registry-to-
registry copy, and a copy of our own would repeat all of that. It also reads and writes OCI
image layouts (`oci:`), which is how an artifact goes into a CTF archive as an artifact set
(`bot.ocm.artifact_set`) and comes out of one into a registry. Credentials are handed over in
a temporary auth file (mode 0600, removed afterwards), never on the command line.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from base64 import b64encode
from collections.abc import Callable
from pathlib import Path

from bot.core.failures import Failure, Temporary
from bot.ocm.artifact_set import LAYOUT_REFERENCE
from bot.ocm.credentials import CredentialStore
from bot.ocm.location import image_parts

TIMEOUT_SECONDS = 1800
#: the longest line of skopeo's told (a registry's error body can be anything)
MAX_SAID = 500
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


class SkopeoCopier:
    """The OCI copies of `bot.ocm.transfer` (its `ArtifactCopier`), each one skopeo run.
    `plain_http(host)` says which registries are spoken to without TLS (loopback ones, when the
    operator allows it); `on_line` is told each line skopeo prints while it copies (the CLI's
    progress)."""

    def __init__(
        self,
        credentials: CredentialStore | None = None,
        *,
        plain_http: Callable[[str], bool] = lambda _host: False,
        on_line: Callable[[str], None] | None = None,
    ) -> None:
        self.credentials = credentials
        self.plain_http = plain_http
        self.on_line = on_line

    def copy(self, source: str, target: str) -> str:
        """`source` (an image reference) copied to `target` (one without a digest) with every
        manifest an index names; the copy's digest."""
        return self._copy(f"docker://{_pinned(source)}", f"docker://{target}", [source, target])

    def export(self, source: str, layout: Path) -> str:
        """`source` copied into the OCI image layout `layout` (created), named
        `artifact_set.LAYOUT_REFERENCE` there; its digest."""
        where = f"oci:{layout}:{LAYOUT_REFERENCE}"
        return self._copy(f"docker://{_pinned(source)}", where, [source])

    def push(self, layout: Path, target: str) -> str:
        """The artifact an OCI image layout names `artifact_set.LAYOUT_REFERENCE` copied to
        `target`; the copy's digest."""
        return self._copy(f"oci:{layout}:{LAYOUT_REFERENCE}", f"docker://{target}", [target])

    def digest(self, source: str) -> str:
        """The digest of the manifest `source` names, as the registry serves it (one GET)."""
        if "@" in source:
            return source.rpartition("@")[2]
        with tempfile.TemporaryDirectory(prefix="bootstrap-bot-copy-") as work:
            auth = Path(work) / "auth.json"
            _write_auth(auth, self.credentials, [source])
            raw = self._run(
                ["inspect", "--raw", "--authfile", str(auth),
                 f"--tls-verify={_tls(source, self.plain_http)}", f"docker://{source}"],
                f"reading {source}",
            )  # fmt: skip
        return "sha256:" + hashlib.sha256(raw).hexdigest()

    def _copy(self, source: str, target: str, references: list[str]) -> str:
        with tempfile.TemporaryDirectory(prefix="bootstrap-bot-copy-") as work:
            auth, digest_file = Path(work) / "auth.json", Path(work) / "digest"
            _write_auth(auth, self.credentials, references)
            tls = [
                f"--{side}-tls-verify={_tls(where.removeprefix('docker://'), self.plain_http)}"
                for side, where in (("src", source), ("dest", target))
                if where.startswith("docker://")
            ]
            self._run(
                ["copy", "--all", "--preserve-digests", "--retry-times", _ATTEMPTS,
                 "--authfile", str(auth), "--digestfile", str(digest_file), *tls, source, target],
                f"copying {_shown(source)} to {_shown(target)}",
                shown=_shown(source if source.startswith("docker://") else target),
            )  # fmt: skip
            return digest_file.read_text().strip()

    def _run(self, arguments: list[str], what: str, *, shown: str = "") -> bytes:
        """skopeo's output for `arguments`; with `shown` (what is copied), each line it prints
        as it goes ("Copying blob sha256:…") is told to `on_line` as `shown: line`."""
        tool = shutil.which("skopeo")
        if tool is None:
            raise CopyUnavailable("skopeo is not installed (Debian package `skopeo`)")
        expired = threading.Event()
        with subprocess.Popen(
            [tool, *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        ) as process:

            def stop() -> None:
                expired.set()
                process.kill()

            watchdog = threading.Timer(TIMEOUT_SECONDS, stop)
            watchdog.start()
            try:
                if shown and self.on_line is not None:
                    on_line = self.on_line
                    out, err = _told_lines(process, lambda line: on_line(f"{shown}: {line}"))
                else:
                    out, err = process.communicate()
            finally:
                watchdog.cancel()
        if expired.is_set():
            raise CopyUnavailable(f"{what}: no end in {TIMEOUT_SECONDS} s")
        if process.returncode != 0:
            lines = err.decode(errors="replace").strip().splitlines()
            said = (lines or ["(no output)"])[-1][:MAX_SAID]
            kind = CopyUnavailable if _unreachable(said) else CopyFailed
            raise kind(f"{what}: {said}")
        return out


def _told_lines(
    process: subprocess.Popen[bytes], on_line: Callable[[str], None]
) -> tuple[bytes, bytes]:
    """A running skopeo's stdout told line by line while its stderr is kept aside."""
    assert process.stdout is not None and process.stderr is not None
    errors: list[bytes] = []
    stderr = process.stderr
    reader = threading.Thread(target=lambda: errors.append(stderr.read()), daemon=True)
    reader.start()
    for line in process.stdout:
        on_line(line.decode(errors="replace").strip()[:MAX_SAID])
    reader.join()
    process.wait()
    return b"", errors[0] if errors else b""


def _shown(where: str) -> str:
    """A skopeo location as the user named it: an image reference, or "a local archive"."""
    return where.removeprefix("docker://") if where.startswith("docker://") else "a local copy"


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
