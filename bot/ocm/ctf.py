"""Common Transport Format archives: OCM's file-based repository (a directory, tar or tgz).

Layout: `artifact-index.json` (`{"schemaVersion": 1, "artifacts": [{repository, tag, digest}]}`)
and `blobs/sha256.<hex>` for every manifest, config and layer.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

from bot.ocm.layout import INDEX, MANIFEST, digest_of, is_digest
from bot.ocm.store import MAX_BLOB_BYTES, MAX_MANIFEST_BYTES, NotFound, StoreError

INDEX_FILE = "artifact-index.json"
BLOBS = "blobs"
#: entries of an archive looked at (an openMCP release has a few hundred blobs)
MAX_ENTRIES = 100_000
#: blobs of a tar kept in memory as the archive is opened: each up to SMALL_BLOB, together up
#: to SMALL_TOTAL (the rest are read when asked for)
SMALL_BLOB = 64 * 1024
SMALL_TOTAL = 16 * 1024 * 1024


def _blob_name(digest: str) -> str:
    return digest.replace(":", ".", 1)


class CTFStore:
    """A CTF read from a directory or a tar/tgz file; writable when it is a directory."""

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path).expanduser()
        self.description = str(path)
        #: a tar's entries by name; only what is asked for is ever read
        self._files: dict[str, tarfile.TarInfo] | None = None
        self._kept: dict[str, bytes] = {}
        if create:
            (self.path / BLOBS).mkdir(parents=True, exist_ok=True)
            if not (self.path / INDEX_FILE).exists():
                self._write_index([])
        elif not self.path.exists():
            raise NotFound(f"CTF archive {self.description} does not exist")
        elif self.path.is_file():
            self._files = self._read_archive()

    # --- reading -----------------------------------------------------------------------------

    def _read_archive(self) -> dict[str, tarfile.TarInfo]:
        """The archive's index and blob entries (headers, at most MAX_ENTRIES). The index and
        small blobs (manifests, descriptors) are kept as they pass, up to SMALL_TOTAL: reading
        one later would unpack a compressed archive from its start again."""
        files: dict[str, tarfile.TarInfo] = {}
        kept = 0
        try:
            with tarfile.open(self.path, mode="r:*") as archive:
                for count, member in enumerate(archive, 1):
                    if count > MAX_ENTRIES:
                        raise StoreError(
                            f"CTF archive {self.description} has more than {MAX_ENTRIES} entries"
                        )
                    name = member.name.lstrip("./")
                    if member.isfile() and (name == INDEX_FILE or name.startswith(BLOBS + "/")):
                        files[name] = member
                        small = member.size <= (
                            MAX_MANIFEST_BYTES if name == INDEX_FILE else SMALL_BLOB
                        )
                        if small and kept + member.size <= SMALL_TOTAL:
                            handle = archive.extractfile(member)
                            self._kept[name] = handle.read() if handle is not None else b""
                            kept += member.size
        except (tarfile.TarError, OSError) as err:
            raise StoreError(f"CTF archive {self.description} cannot be read: {err}") from None
        return files

    def _read(self, name: str) -> bytes:
        limit = MAX_BLOB_BYTES if name != INDEX_FILE else MAX_MANIFEST_BYTES
        if self._files is not None:
            member = self._files.get(name)
            if member is None:
                raise NotFound(f"{name} not in CTF archive {self.description}")
            self._check_size(name, member.size, limit)
            if name in self._kept:
                return self._kept[name]
            try:
                with tarfile.open(self.path, mode="r:*") as archive:
                    handle = archive.extractfile(member)
                    return handle.read() if handle is not None else b""
            except (tarfile.TarError, OSError) as err:
                raise StoreError(f"CTF archive {self.description} cannot be read: {err}") from None
        try:
            self._check_size(name, (self.path / name).stat().st_size, limit)
            return (self.path / name).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"{name} not in CTF archive {self.description}") from None

    def _check_size(self, name: str, size: int, limit: int) -> None:
        if size > limit:
            raise StoreError(
                f"{name} in CTF archive {self.description} is {size:,} bytes; at most {limit:,}"
            )

    def _artifacts(self) -> list[dict[str, Any]]:
        try:
            index = json.loads(self._read(INDEX_FILE))
        except ValueError:
            raise StoreError(f"{INDEX_FILE} in {self.description} is not JSON") from None
        artifacts = index.get("artifacts") or []
        return [a for a in artifacts if isinstance(a, dict)]

    def list_repositories(self) -> list[str]:
        """Every repository the archive holds an artifact of, sorted."""
        return sorted({str(a["repository"]) for a in self._artifacts() if a.get("repository")})

    def list_tags(self, repository: str) -> list[str]:
        tags = [a["tag"] for a in self._artifacts() if a.get("repository") == repository]
        if not tags and not any(a.get("repository") == repository for a in self._artifacts()):
            raise NotFound(f"repository {repository} not in CTF archive {self.description}")
        return [t for t in tags if t]

    def get_manifest(self, repository: str, reference: str) -> tuple[bytes, str]:
        digest = reference
        if not reference.startswith("sha256:"):
            matches = [
                a["digest"]
                for a in self._artifacts()
                if a.get("repository") == repository and a.get("tag") == reference
            ]
            if not matches:
                raise NotFound(f"{repository}:{reference} not in CTF archive {self.description}")
            digest = matches[0]
        data = self.get_blob(repository, digest)
        try:
            media_type = json.loads(data).get("mediaType") or MANIFEST
        except (ValueError, AttributeError):
            raise StoreError(f"manifest {digest} in {self.description} is not JSON") from None
        return data, media_type

    def get_blob(self, repository: str, digest: str) -> bytes:
        if not is_digest(digest):  # it names a file: no path may hide in it
            raise StoreError(f"{digest!r} in {self.description} is not a digest")
        return self._read(f"{BLOBS}/{_blob_name(digest)}")

    # --- writing (directories only) ------------------------------------------------------------

    def _require_directory(self) -> None:
        if self._files is not None:
            raise StoreError(f"CTF archive {self.description} is a file; write to a directory")

    def _write_index(self, artifacts: list[dict[str, Any]]) -> None:
        index = {"schemaVersion": 1, "artifacts": artifacts}
        (self.path / INDEX_FILE).write_text(json.dumps(index, indent=2) + "\n")

    def put_blob(self, repository: str, data: bytes, media_type: str) -> str:
        self._require_directory()
        digest = digest_of(data)
        target = self.path / BLOBS / _blob_name(digest)
        if not target.exists():
            target.write_bytes(data)
        return digest

    def put_manifest(self, repository: str, tag: str, data: bytes, media_type: str) -> str:
        if media_type not in (MANIFEST, INDEX):
            raise StoreError(f"unsupported manifest media type {media_type}")
        digest = self.put_blob(repository, data, media_type)
        artifacts = [
            a for a in self._artifacts()
            if not (a.get("repository") == repository and a.get("tag") == tag)
        ]  # fmt: skip
        artifacts.append({"repository": repository, "tag": tag, "digest": digest})
        self._write_index(artifacts)
        return digest
