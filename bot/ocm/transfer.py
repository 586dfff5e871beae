"""Copying component versions into another repository, as `ocm transfer componentversion
--recursive --copy-resources` does (openmcp-bootstrapper's `ocm-transfer`).

1. the versions asked for: one, every version of a component, or every version a repository
   holds; with `recursive`, each after the versions it references, each once per run;
2. a version the target holds already: with the same signature-relevant content it is left
   alone ("already present -> skip transport"); with other content that version fails (ocm's
   "already present, but differs") and the others go on;
3. else its local blobs are copied (verified on arrival), and with `copy_resources` every OCI
   artifact it names is copied by value by the `copier` to the target, under the path the
   reference hint gives (the artifact's path, less the source repository's prefix), and its
   access rewritten to the copy. A registry target is appended to `repositoryContexts`;
   signatures and digests are kept as they are (an access is not signed);
4. the descriptor is written last, so a version is in the target only once all it needs is.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot.core.failures import Failure
from bot.ocm import artifact_set, layout
from bot.ocm.artifact_set import is_artifact_set
from bot.ocm.builder import component_version_objects, put_component_version
from bot.ocm.location import Repository, image_parts
from bot.ocm.model import ComponentVersion, Resource
from bot.ocm.reader import ComponentError, ComponentReader
from bot.ocm.store import NotFound, WritableStore

OCI_ARTIFACT = "ociArtifact"
LOCAL_BLOB = "localBlob"


class TransferError(Failure, RuntimeError):
    """A version could not be transferred; the message is ocm's where it has one."""


class ArtifactCopier(Protocol):
    """The OCI copies a transfer makes (`bot.ocm.skopeo.SkopeoCopier`); each returns the
    digest of what it copied."""

    def copy(self, source: str, target: str) -> str:
        """An image reference copied to `target` (no digest), every manifest of an index."""
        ...

    def export(self, source: str, layout: Path) -> str:
        """An image reference copied into an OCI image layout directory."""
        ...

    def push(self, layout: Path, target: str) -> str:
        """An OCI image layout's artifact copied to `target`."""
        ...

    def digest(self, source: str) -> str:
        """The digest of the manifest an image reference names."""
        ...


@dataclass
class TransferReport:
    #: what was done, in ocm's words, one line each
    lines: list[str] = field(default_factory=list)
    transferred: int = 0
    skipped: int = 0
    blobs: int = 0
    bytes: int = 0
    artifacts: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.errors:
            return f"transfer finished with {len(self.errors)} error(s)"
        return f"{self.transferred} versions transferred"


def transfer(
    source: ComponentReader,
    versions: list[tuple[str, str]],
    target: WritableStore,
    target_repository: Repository,
    *,
    recursive: bool = True,
    copy_resources: bool = True,
    copier: ArtifactCopier | None = None,
    dry_run: bool = False,
    say: Callable[[str], None] = lambda _: None,
) -> TransferReport:
    """Transfer `versions` (and, with `recursive`, what they reference) from `source`."""
    report = TransferReport()
    done: set[tuple[str, str]] = set()
    present = ComponentReader(target, target_repository)

    def told(line: str) -> None:
        report.lines.append(line)
        say(line)

    def visit(name: str, version: str) -> None:
        if (name, version) in done:
            return
        done.add((name, version))
        try:
            cv = source.get(name, version)
        except (ComponentError, NotFound) as err:
            report.errors.append(str(err))
            told(f"error: {err}")
            return
        if recursive:
            for reference in cv.references:
                visit(reference.component_name, reference.version)
        move = _Move(cv, source, present, target, target_repository, report, told,
                     copy_resources=copy_resources, copier=copier, dry_run=dry_run)  # fmt: skip
        try:
            move.run()
        except Failure as err:  # this version fails, the others go on (an outage stops all)
            report.errors.append(str(err))
            told(f"error: {err}")

    for name, version in versions:
        visit(name, version)
    told(report.summary())
    return report


@dataclass
class _Move:
    """One component version's transfer. Every resource goes through `_resource` twice: first
    planned (`work` None: nothing read but sizes and digests, nothing written), which gives the
    manifest the target would hold, so a version already there costs one HEAD; then for real."""

    cv: ComponentVersion
    source: ComponentReader
    present: ComponentReader
    target: WritableStore
    target_repository: Repository
    report: TransferReport
    told: Callable[[str], None]
    copy_resources: bool
    copier: ArtifactCopier | None
    dry_run: bool

    @property
    def key(self) -> str:
        return f'"{self.cv.name}:{self.cv.version}"'

    @property
    def path(self) -> str:
        return self.target_repository.component_path(self.cv.name)

    @property
    def into_archive(self) -> bool:
        return self.target_repository.kind == "ctf"

    def run(self) -> None:
        planned = self._planned_digest()
        tag = layout.version_to_tag(self.cv.version)
        if planned is not None and self.target.manifest_digest(self.path, tag) == planned:
            self._skip()
            return
        existing = _existing(self.present, self.cv)
        if existing is not None:
            if _signed_part(existing.raw) != _signed_part(self.cv.raw):
                raise TransferError(
                    f"version {self.key} already present, but differs -> transport aborted "
                    f"(use option overwrite option to enforce transport)"
                )
            self._skip()
            return
        self.told(f"transferring version {self.key}...")
        with tempfile.TemporaryDirectory(prefix="bootstrap-bot-transfer-") as work:
            descriptor, layers = self._descriptor(Path(work))
        self.told("...adding component version...")
        if not self.dry_run:
            put_component_version(self.target, self.path, descriptor, layers)
        self.report.transferred += 1

    def _skip(self) -> None:
        self.told(f"version {self.key} already present -> skip transport")
        self.report.skipped += 1

    def _planned_digest(self) -> str | None:
        try:
            descriptor, layers = self._descriptor(None)
        except _Unplanned:
            return None
        return layout.digest_of(component_version_objects(descriptor, layers).manifest)

    def _descriptor(self, work: Path | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The descriptor and local blobs the target gets; with `work` None only planned."""
        descriptor = copy.deepcopy(dict(self.cv.raw))
        resources = descriptor["component"].get("resources") or []
        layers: list[dict[str, Any]] = []
        for index, resource in enumerate(self.cv.resources):
            access, blobs = self._resource(index, resource, work)
            if access is not None:
                resources[index]["access"] = access
            layers += blobs
        if not self.into_archive:
            contexts = descriptor["component"].setdefault("repositoryContexts", []) or []
            contexts.append(_context(self.target_repository))
            descriptor["component"]["repositoryContexts"] = contexts
        return descriptor, layers

    def _resource(
        self, index: int, resource: Resource, work: Path | None
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """A resource's new access (None: kept) and the local blobs it brings."""
        shown = f"...resource {index} {resource.name}[{resource.type}]"
        say = self.told if work is not None else (lambda _line: None)
        media_type = str(resource.access.get("mediaType") or "")
        if resource.is_local_blob and is_artifact_set(media_type) and not self.into_archive:
            access = self._set_out(resource, work)
            say(f"{shown}({access['imageReference']})(copy)...")
            return access, []
        if resource.is_local_blob:
            blobs = self._local_blobs(resource, work)
            say(f"{shown}(copy)...")
            return None, blobs
        if self.copy_resources and resource.access_type == OCI_ARTIFACT:
            image = str(resource.access.get("imageReference") or "")
            if not image:
                raise TransferError(f"resource {resource.name} has an ociArtifact access without "
                                    f"image")  # fmt: skip
            hint = reference_hint(image, self.source.repository)
            if self.into_archive:
                access, blobs = self._set_in(resource, image, hint, work)
                say(f"{shown}({hint})(copy)...")
                return access, blobs
            moved = self._artifact(resource, image, hint, work)
            say(f"{shown}({moved})(copy)...")
            return {"type": OCI_ARTIFACT, "imageReference": moved}, []
        say(f"{shown}...")
        return None, []

    # --- the kinds of resources ---------------------------------------------------------------

    def _local_blobs(self, resource: Resource, work: Path | None) -> list[dict[str, Any]]:
        """A local blob copied as it is, through a file (an artifact set can be a whole image),
        verified as it is read and on arrival."""
        media_type = str(resource.access.get("mediaType") or "application/octet-stream")
        sizes = self.source.layer_sizes(self.cv)
        layers = []
        for digest in str(resource.access.get("localReference", "")).split(","):
            digest = digest.strip()
            if work is None:
                if digest not in sizes:
                    raise _Unplanned
                layers.append({"mediaType": media_type, "digest": digest, "size": sizes[digest]})
                continue
            if self.dry_run:
                size = sizes[digest] if digest in sizes else len(self.source.blob(self.cv, digest))
            else:
                size = self.source.save_blob(self.cv, digest, work / "blob")
                stored = self.target.put_blob_file(self.path, work / "blob", media_type)
                (work / "blob").unlink()
                if stored != digest:
                    raise TransferError(
                        f"resource {resource.name}: the target stored {digest} otherwise"
                    )
            layers.append({"mediaType": media_type, "digest": digest, "size": size})
            self.report.blobs += 1
            self.report.bytes += size
        return layers

    def _artifact(self, resource: Resource, image: str, hint: str, work: Path | None) -> str:
        """An OCI artifact copied by value to the target registry, under its reference hint."""
        destination = self._destination(hint)
        copier = self._copier(resource, image)
        if work is None:
            return f"{destination}@{copier.digest(image)}"
        self.report.artifacts += 1
        if self.dry_run:
            return destination
        return f"{destination}@{copier.copy(image, destination)}"

    def _set_in(
        self, resource: Resource, image: str, hint: str, work: Path | None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """An OCI artifact into an archive: packed as an artifact set, a local blob."""
        if work is None:
            raise _Unplanned  # the set's digest is known once it is packed
        self.report.artifacts += 1
        if self.dry_run:
            return {"type": LOCAL_BLOB, "referenceName": hint}, []
        copier = self._copier(resource, image)
        copier.export(image, work / "layout")
        set_type, _ = artifact_set.pack(work / "layout", image_parts(hint)[2], work / "set")
        digest = self.target.put_blob_file(self.path, work / "set", set_type)
        size = (work / "set").stat().st_size
        shutil.rmtree(work / "layout")
        (work / "set").unlink()
        self.report.bytes += size
        access = {"type": LOCAL_BLOB, "localReference": digest, "mediaType": set_type,
                  "referenceName": hint}  # fmt: skip
        return access, [{"mediaType": set_type, "digest": digest, "size": size}]

    def _set_out(self, resource: Resource, work: Path | None) -> dict[str, Any]:
        """An artifact set (from an archive) into a registry: unpacked and pushed as the OCI
        artifact it holds, under its reference name, as ocm's OCI blob handler does."""
        if work is None:
            raise _Unplanned  # the artifact's digest is inside the set
        digest = str(resource.access.get("localReference") or "").strip()
        if "," in digest:
            raise TransferError(f"resource {resource.name}: an artifact set split into several "
                                f"blobs is not supported")  # fmt: skip
        hint = str(resource.access.get("referenceName") or "")
        name, _, pinned = hint.partition("@")
        registry_path, tag = name, ""
        if ":" in name.rpartition("/")[2]:
            registry_path, _, tag = name.rpartition(":")
        destination = self._destination(registry_path or self.path)
        self.report.artifacts += 1
        if self.dry_run:
            return {"type": OCI_ARTIFACT, "imageReference": destination}
        size = self.source.save_blob(self.cv, digest, work / "set")
        main, set_tag = artifact_set.unpack(work / "set", work / "layout")
        if pinned and pinned != main:
            raise TransferError(f"resource {resource.name}: corrupted digest: hint requests "
                                f"{pinned!r}, but found {main!r}")  # fmt: skip
        tag = tag or set_tag or resource.version or "latest"
        copied = self._copier(resource, destination).push(work / "layout", f"{destination}:{tag}")
        shutil.rmtree(work / "layout")
        (work / "set").unlink()
        self.report.bytes += size
        return {"type": OCI_ARTIFACT, "imageReference": f"{destination}:{tag}@{copied}"}

    def _destination(self, hint: str) -> str:
        target = self.target_repository
        return "/".join(p for p in (target.host, target.prefix, hint) if p)

    def _copier(self, resource: Resource, image: str) -> ArtifactCopier:
        if self.copier is None:
            raise TransferError(f"resource {resource.name}: no OCI copier to copy {image}")
        return self.copier


class _Unplanned(Exception):
    """What the target would hold cannot be known before copying (an artifact set's digest)."""


def _existing(present: ComponentReader, cv: ComponentVersion) -> ComponentVersion | None:
    try:
        return present.get(cv.name, cv.version)
    except (ComponentError, NotFound):
        return None


def reference_hint(image: str, source: Repository) -> str:
    """The path an artifact gets under the target: its repository path with the source
    repository's prefix taken off (when it lives there), and its tag."""
    registry, path, tag = image_parts(image)
    if registry == source.host and source.prefix and path.startswith(source.prefix + "/"):
        path = path[len(source.prefix) + 1 :]
    return f"{path}:{tag}" if tag else path


def _context(repository: Repository) -> dict[str, Any]:
    context = {
        "baseUrl": repository.host,
        "componentNameMapping": "urlPath",
        "type": "OCIRegistry",
    }
    if repository.prefix:
        context["subPath"] = repository.prefix
    return context


def _signed_part(descriptor: Any) -> Any:
    """What a signature covers: the descriptor without accesses, repository contexts and
    labels marked unsigned (what ocm may update in place, or changes on transfer)."""
    component = dict((descriptor or {}).get("component") or {})
    component.pop("repositoryContexts", None)
    for key in ("resources", "sources", "componentReferences"):
        component[key] = [
            {**{k: v for k, v in dict(item).items() if k != "access"},
             "labels": _signed_labels(dict(item))}
            for item in component.get(key) or []
        ]  # fmt: skip
    component["labels"] = _signed_labels(component)
    return component


def _signed_labels(item: dict[str, Any]) -> list[Any]:
    return [label for label in item.get("labels") or [] if dict(label).get("signing")]
