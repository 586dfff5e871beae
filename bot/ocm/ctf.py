"""Common Transport Format archives: OCM's file-based repository (a directory, tar or tgz).

Layout: `artifact-index.json` (`{"schemaVersion": 1, "artifacts": [{repository, tag, digest}]}`)
and `blobs/sha256.<hex>` for every manifest, config and layer.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.ocm.layout import INDEX, MANIFEST, digest_of, file_digest, is_digest
from bot.ocm.store import (
    MAX_ARTIFACT_BYTES,
    MAX_BLOB_BYTES,
    MAX_MANIFEST_BYTES,
    NotFound,
    StoreError,
)

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

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        if reference.startswith("sha256:"):
            return reference
        for artifact in self._artifacts():
            if artifact.get("repository") == repository and artifact.get("tag") == reference:
                return str(artifact.get("digest"))
        return None

    def get_manifest(self, repository: str, reference: str) -> tuple[bytes, str]:
        digest = self.manifest_digest(repository, reference)
        if digest is None:
            raise NotFound(f"{repository}:{reference} not in CTF archive {self.description}")
        data = self.get_blob(repository, digest)
        try:
            media_type = json.loads(data).get("mediaType") or MANIFEST
        except (ValueError, AttributeError):
            raise StoreError(f"manifest {digest} in {self.description} is not JSON") from None
        return data, media_type

    def get_blob(self, repository: str, digest: str) -> bytes:
        return self._read(self._blob_member(digest))

    def _blob_member(self, digest: str) -> str:
        if not is_digest(digest):  # it names a file: no path may hide in it
            raise StoreError(f"{digest!r} in {self.description} is not a digest")
        return f"{BLOBS}/{_blob_name(digest)}"

    def save_blob(self, repository: str, digest: str, destination: Path) -> int:
        name = self._blob_member(digest)
        try:
            if self._files is None:
                self._check_size(name, (self.path / name).stat().st_size, MAX_ARTIFACT_BYTES)
                shutil.copyfile(self.path / name, destination)
            else:
                member = self._files.get(name)
                if member is None:
                    raise NotFound(f"{name} not in CTF archive {self.description}")
                self._check_size(name, member.size, MAX_ARTIFACT_BYTES)
                if name in self._kept:  # read as the archive was opened
                    destination.write_bytes(self._kept[name])
                    return self._verified_size(name, digest, destination)
                with tarfile.open(self.path, mode="r:*") as archive, destination.open("wb") as out:
                    handle = archive.extractfile(member)
                    if handle is not None:
                        shutil.copyfileobj(handle, out, 1024 * 1024)
        except FileNotFoundError:
            raise NotFound(f"{name} not in CTF archive {self.description}") from None
        except (tarfile.TarError, OSError) as err:
            raise StoreError(f"CTF archive {self.description} cannot be read: {err}") from None
        return self._verified_size(name, digest, destination)

    def _verified_size(self, name: str, digest: str, destination: Path) -> int:
        actual, size = file_digest(destination)
        if actual != digest:
            raise StoreError(f"{name} in CTF archive {self.description} is not {digest}")
        return size

    def unpack_into(self, directory: Path) -> None:
        """The archive's index and every blob written to a new directory, each verified."""
        if self._files is None:
            raise StoreError(f"CTF archive {self.description} is a directory already")
        (directory / BLOBS).mkdir(parents=True)
        (directory / INDEX_FILE).write_bytes(self._read(INDEX_FILE))
        for name in self._files:
            digest = name.removeprefix(BLOBS + "/").replace(".", ":", 1)
            if name.startswith(BLOBS + "/") and is_digest(digest):
                self.save_blob("", digest, directory / name)

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

    def put_blob_file(self, repository: str, source: Path, media_type: str) -> str:
        self._require_directory()
        digest, _ = file_digest(source)
        target = self.path / BLOBS / _blob_name(digest)
        if not target.exists():
            partial = target.with_name(target.name + ".partial")
            shutil.copyfile(source, partial)
            partial.replace(target)  # a blob is there whole, or not at all
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


#: names of a CTF file that are an archive (`ocm` makes a directory of any other new name)
ARCHIVE_SUFFIXES = (".tar", ".tgz", ".tar.gz")


def is_archive_file(path: Path) -> bool:
    """Whether a CTF at `path` is (or, new, becomes) a tar or tgz file, not a directory."""
    return path.is_file() or (not path.exists() and path.name.endswith(ARCHIVE_SUFFIXES))


@contextmanager
def writable_archive(path: Path) -> Iterator[CTFStore]:
    """A CTF in a tar or tgz file, written through a directory: unpacked first (only its index
    and blobs), packed again in the same format when the block ends without an error, and put
    in place in one rename, so the archive is the old one or the new one whole."""
    gzipped = path.name.endswith((".tgz", ".gz"))
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bootstrap-bot-ctf-", dir=path.parent) as work:
        directory = Path(work) / "ctf"
        if path.exists():
            with path.open("rb") as file:
                gzipped = file.read(2) == b"\x1f\x8b"
            CTFStore(path).unpack_into(directory)
        yield CTFStore(directory, create=True)
        packed = Path(work) / "packed"
        with tarfile.open(packed, "w:gz" if gzipped else "w") as archive:
            for item in [directory / INDEX_FILE, *sorted((directory / BLOBS).iterdir())]:
                archive.add(item, item.relative_to(directory).as_posix(), recursive=False)
        packed.replace(path)
