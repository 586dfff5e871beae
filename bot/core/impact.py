"""What an openMCP upgrade changes, from the two releases' OCM graphs and rendered objects. Pure.

The upgrade PR's impact table: every component in either release with its versions before and
after (added to or dropped from the release when one side has none), every image or Helm chart
resource whose reference changes (the External Secrets Operator's chart among them), and every
CustomResourceDefinition the rendered manifests add, remove or serve other versions of.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.changes import code
from bot.golang.semver import InvalidVersion, Version
from bot.gotemplate.bootstrapper import parse_image
from bot.ocm.graph import ComponentGraph

#: the resource types whose references the impact compares: images, and charts (ESO's)
IMAGE_TYPES = ("ociImage", "helmChart")


@dataclass(frozen=True)
class Change:
    """One row: `name` went from `before` to `after` (None: absent on that side)."""

    name: str
    before: str | None
    after: str | None
    #: for images, the component holding the resource
    component: str = ""


@dataclass(frozen=True)
class Impact:
    root: Change
    components: tuple[Change, ...]
    images: tuple[Change, ...]
    crds: tuple[Change, ...]


def _versions(graph: ComponentGraph) -> dict[str, str]:
    by_name: dict[str, list[str]] = {}
    for name, version in graph.versions:
        by_name.setdefault(name, []).append(version)
    return {name: ", ".join(sorted(versions)) for name, versions in by_name.items()}


def _images(graph: ComponentGraph) -> dict[tuple[str, str], str]:
    images = {}
    for cv in graph.versions.values():
        for resource in cv.resources:
            reference = resource.access.get("imageReference")
            if resource.type in IMAGE_TYPES and isinstance(reference, str):
                images[(cv.name, resource.name)] = reference
    return images


def _served_crds(objects: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    crds = {}
    for obj in objects:
        if obj.get("kind") != "CustomResourceDefinition":
            continue
        versions = (obj.get("spec") or {}).get("versions") or []
        served = [str(v.get("name")) for v in versions if isinstance(v, dict) and v.get("served")]
        crds[str((obj.get("metadata") or {}).get("name"))] = ", ".join(served) or "none served"
    return crds


def _changes(before: Mapping[Any, str], after: Mapping[Any, str]) -> list[tuple[Any, Change]]:
    return [
        (key, Change(str(key), before.get(key), after.get(key)))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]


def upgrade_impact(
    before: ComponentGraph,
    after: ComponentGraph,
    objects_before: Iterable[Mapping[str, Any]],
    objects_after: Iterable[Mapping[str, Any]],
) -> Impact:
    root = Change(after.root.name, before.root.version, after.root.version)
    components = [
        change
        for name, change in _changes(_versions(before), _versions(after))
        if name != root.name
    ]
    images = [
        Change(resource, change.before, change.after, component)
        for (component, resource), change in _changes(_images(before), _images(after))
    ]
    crds = [
        change for _, change in _changes(_served_crds(objects_before), _served_crds(objects_after))
    ]
    return Impact(root, tuple(components), tuple(images), tuple(crds))


_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_TAG = re.compile(r"[A-Za-z0-9_.+-]{1,128}")


def release_notes(component: str, version: str | None) -> str | None:
    """The GitHub release page of `version` for a component named by its github.com path
    (`github.com/OWNER/REPO[/…]`), or None."""
    parts = component.split("/")
    if len(parts) < 3 or parts[0] != "github.com" or version is None:
        return None
    owner, repo = parts[1], parts[2]
    if not (_NAME.fullmatch(owner) and _NAME.fullmatch(repo) and _TAG.fullmatch(version)):
        return None  # a name the registry made up does not become a link
    return f"https://github.com/{owner}/{repo}/releases/tag/{version}"


def _cell(value: str | None, absent: str) -> str:
    return code(value) if value is not None else absent


def _version_cell(component: str, value: str | None, absent: str) -> str:
    url = release_notes(component, value)
    return f"[{code(value or '')}]({url})" if url else _cell(value, absent)


def _split_image(reference: str | None) -> tuple[str, str]:
    """(name, tag and digest) of an image reference; the digest shortened to 12 digits."""
    if reference is None:
        return "", ""
    parsed = parse_image(reference)
    version = parsed.get("tag", "")
    digest = parsed.get("digest", "")
    if digest:
        version += ("@" if version else "") + digest.partition(":")[2][:12]
    return parsed.get("image", reference), version


def _image_row(change: Change) -> str:
    """One image: its name once and the tag change, or both references when it moved."""
    (name_before, before), (name_after, after) = map(_split_image, (change.before, change.after))
    if change.before is None or change.after is None or name_before == name_after:
        name = name_after or name_before
        cells = (
            _cell(before if change.before else None, "— (added)"),
            _cell(after if change.after else None, "— (removed)"),
        )
    else:
        name, cells = "(moved)", (code(change.before), code(change.after))
    where = f"{code(change.component)} | {code(change.name)}"
    return f"| {where} | {code(name)} | {cells[0]} | {cells[1]} |"


def root_change(impact: Impact) -> str:
    """`v0.0.1` → `v0.0.2`, with a link to the release notes when there are some."""
    root = impact.root
    after = _version_cell(root.name, root.after, "none")
    return f"{_cell(root.before, 'none')} → {after}"


def impact_markdown(impact: Impact) -> str:
    """The tables of what the release changes: components, images, CRDs."""
    parts = []
    if impact.components:
        rows = [
            f"| {code(c.name)} | {_cell(c.before, '— (added)')} | "
            f"{_version_cell(c.name, c.after, '— (dropped)')} |"
            for c in impact.components
        ]
        parts.append("| component | from | to |\n|---|---|---|\n" + "\n".join(rows))
    else:
        parts.append("No referenced component changes version.")
    if impact.images:
        rows = [_image_row(c) for c in impact.images]
        parts.append(
            "| component | resource | image or chart | from | to |\n|---|---|---|---|---|\n"
            + "\n".join(rows)
        )
    if impact.crds:
        rows = [
            f"| {code(c.name)} | {c.before if c.before is not None else '— (added)'} | "
            f"{c.after if c.after is not None else '— (removed)'} |"
            for c in impact.crds
        ]
        parts.append("| CRD | served before | served after |\n|---|---|---|\n" + "\n".join(rows))
    return "\n\n".join(parts) + "\n"


def _is_down(change: Change) -> bool:
    try:
        return Version.parse(change.after or "") < Version.parse(change.before or "")
    except InvalidVersion:
        return False
