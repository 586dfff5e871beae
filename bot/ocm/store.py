"""Where OCI artifacts are read from and written to: the interface both stores implement.

Everything is addressed as in an OCI registry: a repository path, tags, and content digests.
Stores are synchronous (oras-py is); async callers run them in a thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from bot.core.failures import Failure, Temporary

#: the largest manifest and blob a store reads into memory (manifests and descriptors are
#: kilobytes; directory resources such as the GitOps templates, gzipped, hundreds of kilobytes)
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # containerd refuses larger manifests too
MAX_BLOB_BYTES = 16 * 1024 * 1024
#: a blob moved as a file, never held in memory: an OCM artifact set (a whole image, every
#: platform's layers in one archive)
MAX_ARTIFACT_BYTES = 16 * 1024**3


class NotFound(Failure, LookupError):
    """No such repository, tag or blob."""


class StoreError(Failure, RuntimeError):
    """The store refused, or served something unusable (permissions, a malformed archive)."""


class StoreUnavailable(Temporary):
    """The store could not be reached, or failed on its side (network, timeout, 5xx, 429)."""


class Store(Protocol):
    description: str

    def list_tags(self, repository: str) -> list[str]: ...

    def list_repositories(self) -> list[str]:
        """Every repository of the store (a registry's catalog, a CTF archive's index)."""
        ...

    def get_manifest(self, repository: str, reference: str) -> tuple[bytes, str]:
        """The raw manifest bytes and their media type, by tag or digest."""
        ...

    def get_blob(self, repository: str, digest: str) -> bytes: ...

    def save_blob(self, repository: str, digest: str, destination: Path) -> int:
        """A blob written to the file `destination` as it comes, verified, at most
        MAX_ARTIFACT_BYTES; returns its size."""
        ...


class WritableStore(Store, Protocol):
    def put_blob(self, repository: str, data: bytes, media_type: str) -> str:
        """Store a blob; returns its digest."""
        ...

    def put_blob_file(self, repository: str, source: Path, media_type: str) -> str:
        """Store the file `source` as a blob, read in pieces; returns its digest."""
        ...

    def put_manifest(self, repository: str, tag: str, data: bytes, media_type: str) -> str:
        """Store a manifest under a tag; returns its digest."""
        ...

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        """The digest of the manifest a tag names (None when there is none), asked without
        reading it: a registry's HEAD, a CTF's index."""
        ...
