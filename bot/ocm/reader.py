"""Reading component versions from an OCM repository (OCI registry or CTF), verified.

Every manifest fetched by digest and every blob is checked against its digest. Component
versions are cached by (name, version) for the life of the reader, and a whole graph can be
resolved up front for the pure renderer.
"""

from __future__ import annotations

import io
import json
import tarfile
import zlib
from collections import deque
from pathlib import Path
from typing import Any

from bot.core.failures import Failure
from bot.ocm import layout
from bot.ocm.graph import ComponentGraph
from bot.ocm.location import Repository
from bot.ocm.model import ComponentVersion, DescriptorError, Resource, parse_descriptor
from bot.ocm.store import NotFound, Store

#: a directory resource (templates, CRDs) unpacked: it is held in memory, and becomes files of
#: a branch (the real ones: one to a few megabytes)
MAX_DIRECTORY_BYTES = 32 * 1024 * 1024
MAX_ARCHIVE_MEMBERS = 100_000
#: an openMCP release references a few dozen component versions, two or three levels deep
MAX_COMPONENT_VERSIONS = 1000
MAX_REFERENCE_DEPTH = 32


class ComponentError(Failure, LookupError):
    """A component, version or resource that cannot be read; says which and where."""


class UnsafeArchive(Failure, ValueError):
    """A directory resource whose tar would write outside its target or is too large."""


class ComponentReader:
    def __init__(self, store: Store, repository: Repository) -> None:
        self.store = store
        self.repository = repository
        self._cache: dict[tuple[str, str], ComponentVersion] = {}
        self._layers: dict[tuple[str, str], dict[str, int]] = {}

    @property
    def location(self) -> str:
        return str(self.repository)

    def _path(self, component: str) -> str:
        return self.repository.component_path(component)

    # --- versions --------------------------------------------------------------------------------

    def list_components(self) -> list[str]:
        """The components the repository holds (under its prefix), sorted."""
        inside = self.repository.component_path("") + "/"
        listed = self.store.list_repositories()
        return sorted(
            r.removeprefix(inside) for r in listed if r.startswith(inside) and r != inside
        )

    def list_versions(self, component: str) -> list[str]:
        """The component's versions, oldest first."""
        try:
            tags = self.store.list_tags(self._path(component))
        except NotFound:
            raise ComponentError(f"component {component} not found in {self.location}") from None
        return layout.versions_from_tags(tags)

    # --- component versions ----------------------------------------------------------------------

    def get(self, component: str, version: str) -> ComponentVersion:
        key = (component, version)
        if key not in self._cache:
            self._cache[key] = self._read(component, version)
        return self._cache[key]

    def _read(self, component: str, version: str) -> ComponentVersion:
        path = self._path(component)
        where = f"{self.location}//{component}:{version}"
        try:
            data, media_type = self.store.get_manifest(path, layout.version_to_tag(version))
        except NotFound:
            raise ComponentError(f"component version {where} not found") from None
        manifest = layout.parse_json(data, f"manifest of {where}")
        if manifest.get("mediaType", media_type) in (layout.INDEX, layout.DOCKER_LIST):
            manifest = self._descriptor_manifest(path, manifest, where)
        config_desc = manifest.get("config") or {}
        if config_desc.get("mediaType") not in layout.CONFIG_TYPES:
            raise ComponentError(f"{where} is not a component version (config media type "
                                 f"{config_desc.get('mediaType')!r})")  # fmt: skip
        config = layout.parse_json(self._blob(path, config_desc["digest"], where), "config")
        sizes = {
            str(d.get("digest")): d["size"]
            for d in manifest.get("layers") or []
            if isinstance(d, dict) and isinstance(d.get("size"), int)
        }
        layer = layout.descriptor_layer(config, manifest)
        descriptor = layout.descriptor_bytes(
            str(layer.get("mediaType", "")), self._blob(path, str(layer["digest"]), where)
        )
        try:
            cv = parse_descriptor(descriptor, repository=self.location)
        except DescriptorError as err:
            raise ComponentError(f"{where}: {err}") from None
        if cv.name != component or cv.version not in (version, layout.tag_to_version(version)):
            raise ComponentError(f"{where} holds {cv.name}:{cv.version} instead")
        self._layers[(cv.name, cv.version)] = sizes
        return cv

    def _descriptor_manifest(self, path: str, index: dict[str, Any], where: str) -> dict[str, Any]:
        manifests = index.get("manifests") or []
        marked = [
            m for m in manifests
            if (m.get("annotations") or {}).get("software.ocm.descriptor") == "true"
        ]  # fmt: skip
        if len(marked) > 1:
            raise ComponentError(f"{where}: index marks several descriptor manifests")
        chosen = marked[0] if marked else (manifests[0] if manifests else None)
        if chosen is None:
            raise ComponentError(f"{where}: empty index")
        data, _ = self.store.get_manifest(path, chosen["digest"])
        layout.verify(data, chosen["digest"], f"manifest of {where}")
        return layout.parse_json(data, f"manifest of {where}")

    def blob(self, cv: ComponentVersion, digest: str) -> bytes:
        """A blob of `cv`'s OCI repository by digest (a local blob), verified."""
        return self._blob(self._path(cv.name), digest, f"{self.location}//{cv.name}:{cv.version}")

    def save_blob(self, cv: ComponentVersion, digest: str, destination: Path) -> int:
        """A blob of `cv`'s OCI repository written to a file (an artifact set: a whole image),
        verified; its size."""
        try:
            return self.store.save_blob(self._path(cv.name), digest, destination)
        except NotFound:
            where = f"{self.location}//{cv.name}:{cv.version}"
            raise ComponentError(f"{where}: blob {digest} not found") from None

    def layer_sizes(self, cv: ComponentVersion) -> dict[str, int]:
        """The sizes of `cv`'s local blobs by digest, as its manifest gives them."""
        self.get(cv.name, cv.version)
        return dict(self._layers.get((cv.name, cv.version), {}))

    def _blob(self, path: str, digest: str, where: str) -> bytes:
        try:
            data = self.store.get_blob(path, digest)
        except NotFound:
            raise ComponentError(f"{where}: blob {digest} not found") from None
        return layout.verify(data, digest, f"{where}: blob")

    # --- resources --------------------------------------------------------------------------------

    def local_blob(self, cv: ComponentVersion, resource: Resource) -> bytes:
        """The bytes of a localBlob resource (a comma-separated reference is concatenated)."""
        if not resource.is_local_blob:
            raise ComponentError(
                f"resource {resource.name} of {cv.name}:{cv.version} has access type "
                f"{resource.access_type!r}, not localBlob"
            )
        reference = str(resource.access.get("localReference", ""))
        where = f"{self.location}//{cv.name}:{cv.version} resource {resource.name}"
        parts = [self._blob(self._path(cv.name), d.strip(), where) for d in reference.split(",")]
        return b"".join(parts)

    def download_directory(self, cv: ComponentVersion, name: str, target: Path) -> list[str]:
        """Extract a directory (tar or tgz) resource into `target`; returns the files written."""
        return extract_tar(self._directory_tar(cv, name), target)

    def read_directory(self, cv: ComponentVersion, name: str) -> dict[str, bytes]:
        """A directory (tar or tgz) resource's regular files, in memory, by relative path."""
        return read_tar(self._directory_blob(cv, name))

    def _directory_tar(self, cv: ComponentVersion, name: str) -> bytes:
        blob = self._directory_blob(cv, name)
        return layout.maybe_gunzip(blob, limit=MAX_DIRECTORY_BYTES)

    def _directory_blob(self, cv: ComponentVersion, name: str) -> bytes:
        """A directory resource's blob as stored (a tar, maybe gzipped)."""
        resource = cv.resource(name)
        if resource is None:
            raise ComponentError(
                f"resource {name} not found in component version {cv.name}:{cv.version}"
            )
        media_type = str(resource.access.get("mediaType", "application/x-tar"))
        if media_type not in layout.TAR_TYPES:
            raise ComponentError(f"resource {name} has media type {media_type}, not a directory")
        return self.local_blob(cv, resource)

    # --- graphs -----------------------------------------------------------------------------------

    def resolve(self, component: str, version: str) -> ComponentGraph:
        """The root and every component version it references, transitively: at most
        MAX_COMPONENT_VERSIONS, none further than MAX_REFERENCE_DEPTH references from the root."""
        root = self.get(component, version)
        versions = {root.key: root}
        queue = deque([(root, 0)])
        while queue:
            parent, depth = queue.popleft()
            for reference in parent.references:
                key = (reference.component_name, reference.version)
                if key in versions:
                    continue
                where = f"{self.location}//{component}:{version}"
                if depth + 1 > MAX_REFERENCE_DEPTH:
                    raise ComponentError(
                        f"{where}: references go deeper than {MAX_REFERENCE_DEPTH} levels "
                        f"({parent.name}:{parent.version} references {key[0]}:{key[1]})"
                    )
                if len(versions) >= MAX_COMPONENT_VERSIONS:
                    raise ComponentError(
                        f"{where}: references more than {MAX_COMPONENT_VERSIONS} component versions"
                    )
                versions[key] = self.get(*key)
                queue.append((versions[key], depth + 1))
        return ComponentGraph(root, versions)


class _Tally:
    """An archive's entries, checked one at a time as they are read: where each lands, what
    it is, and how many there are and how large, in all."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.entries = 0
        self.total = 0

    def check(self, member: tarfile.TarInfo) -> None:
        name = member.name
        self.entries += 1
        if self.entries > MAX_ARCHIVE_MEMBERS:
            raise UnsafeArchive(f"archive has more than {MAX_ARCHIVE_MEMBERS} entries")
        if name.startswith("/") or ".." in Path(name).parts:
            raise UnsafeArchive(f"archive entry {name!r} points outside the target")
        if member.issym() or member.islnk():
            link = (self.root / Path(name).parent / member.linkname).resolve()
            if member.linkname.startswith("/") or not link.is_relative_to(self.root):
                raise UnsafeArchive(f"archive link {name!r} points outside the target")
        elif not (member.isfile() or member.isdir()):
            raise UnsafeArchive(f"archive entry {name!r} is not a file or directory")
        self.total += member.size
        if self.total > MAX_DIRECTORY_BYTES:
            raise UnsafeArchive(f"archive expands beyond {MAX_DIRECTORY_BYTES} bytes")


def _checked_members(archive: tarfile.TarFile, root: Path) -> list[tarfile.TarInfo]:
    """The archive's entries, refusing any that would land outside `root` or are too many or
    too large in total."""
    tally = _Tally(root)
    members = []
    for member in archive:
        tally.check(member)
        members.append(member)
    return members


def read_tar(data: bytes) -> dict[str, bytes]:
    """A tar's (or tgz's) regular files by normalised relative path; links are refused (a file
    set has none). Read as a stream, each entry checked on its header before its content is
    read: a bomb is refused at the entry that passes the limits, never unpacked whole."""
    files: dict[str, bytes] = {}
    tally = _Tally(Path("/nonexistent-root"))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r|*") as archive:
            for member in archive:
                tally.check(member)
                if member.issym() or member.islnk():
                    raise UnsafeArchive(f"archive entry {member.name!r} is a link")
                if member.isfile():
                    extracted = archive.extractfile(member)
                    assert extracted is not None
                    path = "/".join(p for p in member.name.split("/") if p not in ("", "."))
                    files[path] = extracted.read()
    except (tarfile.TarError, EOFError, zlib.error) as err:
        raise UnsafeArchive(f"not a tar archive: {err}") from None
    return files


def extract_tar(data: bytes, target: Path) -> list[str]:
    """Extract a tar into `target`, refusing anything that would land outside it."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            members = _checked_members(archive, target.resolve())
            archive.extractall(target, filter="data")
    except tarfile.TarError as err:
        raise UnsafeArchive(f"not a tar archive: {err}") from None
    return sorted(m.name.lstrip("./") for m in members if m.isfile())


def describe(cv: ComponentVersion) -> dict[str, Any]:
    """The descriptor as stored, for `ocm get`."""
    plain: dict[str, Any] = json.loads(json.dumps(cv.raw, default=str))
    return plain
