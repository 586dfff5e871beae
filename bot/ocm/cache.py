"""A content-addressed disk cache in front of a store.

- Blobs and manifests are kept by digest and verified again when read, so a corrupted cache
  entry is refetched rather than trusted.
- A version tag is remembered as the digest it pointed to: OCM treats component versions as
  immutable, so a re-render reads nothing from the registry. Tags that are not versions
  (`latest`) are always asked for.
- Tag lists are never cached: a poll must see new versions.

Writes are atomic (write to a temporary file, then rename), so replicas can share the directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from bot.golang.semver import InvalidVersion, Version
from bot.ocm.layout import IntegrityError, tag_to_version, verify
from bot.ocm.store import Store


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _is_version(tag: str) -> bool:
    try:
        Version.parse(tag_to_version(tag))
    except InvalidVersion:
        return False
    return True


class CachingStore:
    def __init__(self, inner: Store, root: Path, *, namespace: str) -> None:
        """`namespace` names the store (registry host or CTF path) for its tag entries."""
        self.inner = inner
        self.root = root
        self.namespace = namespace
        self.description = inner.description

    # --- content by digest -----------------------------------------------------------------------

    def _blob_path(self, digest: str) -> Path:
        algorithm, _, hexdigest = digest.partition(":")
        return self.root / "blobs" / algorithm / hexdigest[:2] / hexdigest

    def _cached(self, digest: str) -> bytes | None:
        path = self._blob_path(digest)
        try:
            return verify(path.read_bytes(), digest, "cache")
        except FileNotFoundError:
            return None
        except IntegrityError:
            path.unlink(missing_ok=True)  # damaged: fetch it again
            return None

    def get_blob(self, repository: str, digest: str) -> bytes:
        data = self._cached(digest)
        if data is None:
            data = verify(self.inner.get_blob(repository, digest), digest, "blob")
            _write_atomically(self._blob_path(digest), data)
        return data

    def save_blob(self, repository: str, digest: str, destination: Path) -> int:
        # an artifact set is moved once, not kept: it would fill the cache with whole images
        return self.inner.save_blob(repository, digest, destination)

    # --- manifests --------------------------------------------------------------------------------

    def _tag_path(self, repository: str, tag: str) -> Path:
        key = hashlib.sha256(f"{self.namespace}\0{repository}\0{tag}".encode()).hexdigest()
        return self.root / "tags" / key[:2] / key

    def get_manifest(self, repository: str, reference: str) -> tuple[bytes, str]:
        if reference.startswith("sha256:"):
            return self._manifest_by_digest(repository, reference)
        tag_path = self._tag_path(repository, reference)
        if _is_version(reference) and tag_path.exists():
            entry = json.loads(tag_path.read_text())
            data = self._cached(entry["digest"])
            if data is not None:
                return data, str(entry["mediaType"])
        data, media_type = self.inner.get_manifest(repository, reference)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        _write_atomically(self._blob_path(digest), data)
        if _is_version(reference):
            entry_text = json.dumps({"digest": digest, "mediaType": media_type})
            _write_atomically(tag_path, entry_text.encode())
        return data, media_type

    def _manifest_by_digest(self, repository: str, digest: str) -> tuple[bytes, str]:
        data = self._cached(digest)
        if data is None:
            data, _ = self.inner.get_manifest(repository, digest)
            _write_atomically(self._blob_path(digest), verify(data, digest, "manifest"))
        media_type = str(json.loads(data).get("mediaType", ""))
        return data, media_type

    def list_tags(self, repository: str) -> list[str]:
        return self.inner.list_tags(repository)

    def list_repositories(self) -> list[str]:
        return self.inner.list_repositories()
