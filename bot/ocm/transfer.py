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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.core.failures import Failure
from bot.ocm.builder import put_component_version
from bot.ocm.location import Repository, image_parts
from bot.ocm.model import ComponentVersion, Resource
from bot.ocm.reader import ComponentError, ComponentReader
from bot.ocm.store import NotFound, WritableStore

OCI_ARTIFACT = "ociArtifact"


class TransferError(Failure, RuntimeError):
    """A version could not be transferred; the message is ocm's where it has one."""


#: copies the OCI artifact `source` (an image reference) to `target` (one without a digest),
#: with every manifest an index names, and returns the copy's digest (`bot.ocm.skopeo`)
ArtifactCopier = Callable[[str, str], str]


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
        try:
            _transfer_version(cv, source, present, target, target_repository, report, told,
                              copy_resources=copy_resources, copier=copier,
                              dry_run=dry_run)  # fmt: skip
        except TransferError as err:
            report.errors.append(str(err))
            told(f"error: {err}")

    for name, version in versions:
        visit(name, version)
    told(report.summary())
    return report


def _transfer_version(
    cv: ComponentVersion,
    source: ComponentReader,
    present: ComponentReader,
    target: WritableStore,
    target_repository: Repository,
    report: TransferReport,
    told: Callable[[str], None],
    *,
    copy_resources: bool,
    copier: ArtifactCopier | None,
    dry_run: bool,
) -> None:
    key = f'"{cv.name}:{cv.version}"'
    existing = _existing(present, cv)
    if existing is not None:
        if _signed_part(existing.raw) != _signed_part(cv.raw):
            raise TransferError(
                f"version {key} already present, but differs -> transport aborted (use option "
                f"overwrite option to enforce transport)"
            )
        told(f"version {key} already present -> skip transport")
        report.skipped += 1
        return
    told(f"transferring version {key}...")
    descriptor = copy.deepcopy(dict(cv.raw))
    resources = descriptor["component"].get("resources") or []
    path = target_repository.component_path(cv.name)
    layers: list[dict[str, Any]] = []
    for index, resource in enumerate(cv.resources):
        shown = f"...resource {index} {resource.name}[{resource.type}]"
        if resource.is_local_blob:
            layers += _copy_local_blobs(source, cv, resource, target, path, report, dry_run)
            told(f"{shown}(copy)...")
        elif copy_resources and resource.access_type == OCI_ARTIFACT:
            moved = _copy_artifact(resource, source.repository, target_repository, copier, dry_run)
            resources[index]["access"] = {"type": OCI_ARTIFACT, "imageReference": moved}
            report.artifacts += 1
            told(f"{shown}({moved})(copy)...")
        else:
            told(f"{shown}...")
    if target_repository.kind != "ctf":
        contexts = descriptor["component"].setdefault("repositoryContexts", []) or []
        contexts.append(_context(target_repository))
        descriptor["component"]["repositoryContexts"] = contexts
    told("...adding component version...")
    if not dry_run:
        put_component_version(target, path, descriptor, layers)
    report.transferred += 1


def _existing(present: ComponentReader, cv: ComponentVersion) -> ComponentVersion | None:
    try:
        return present.get(cv.name, cv.version)
    except (ComponentError, NotFound):
        return None


def _copy_local_blobs(
    source: ComponentReader,
    cv: ComponentVersion,
    resource: Resource,
    target: WritableStore,
    path: str,
    report: TransferReport,
    dry_run: bool,
) -> list[dict[str, Any]]:
    media_type = str(resource.access.get("mediaType") or "application/octet-stream")
    layers = []
    for digest in str(resource.access.get("localReference", "")).split(","):
        digest = digest.strip()
        data = source.blob(cv, digest)
        if not dry_run and target.put_blob(path, data, media_type) != digest:
            raise TransferError(f"resource {resource.name}: the target stored {digest} otherwise")
        layers.append({"mediaType": media_type, "digest": digest, "size": len(data)})
        report.blobs += 1
        report.bytes += len(data)
    return layers


def reference_hint(image: str, source: Repository) -> str:
    """The path an artifact gets under the target: its repository path with the source
    repository's prefix taken off (when it lives there), and its tag."""
    registry, path, tag = image_parts(image)
    if registry == source.host and source.prefix and path.startswith(source.prefix + "/"):
        path = path[len(source.prefix) + 1 :]
    return f"{path}:{tag}" if tag else path


def _copy_artifact(
    resource: Resource,
    source: Repository,
    target: Repository,
    copier: ArtifactCopier | None,
    dry_run: bool,
) -> str:
    image = str(resource.access.get("imageReference") or "")
    if not image:
        raise TransferError(f"resource {resource.name} has an ociArtifact access without image")
    if target.kind == "ctf":
        raise TransferError(
            f"resource {resource.name}: copying an OCI artifact into a CTF archive is not "
            f"supported yet; transfer into a registry, or without copying resources by value"
        )
    hint = reference_hint(image, source)
    destination = "/".join(p for p in (target.host, target.prefix, hint) if p)
    if dry_run:
        return destination
    if copier is None:
        raise TransferError(f"resource {resource.name}: no OCI copier to copy {image}")
    digest = copier(image, destination)
    return f"{destination}@{digest}"


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
