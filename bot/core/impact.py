"""What an openMCP upgrade changes, from the two releases' OCM graphs and rendered objects. Pure.

The upgrade PR's impact table: every component in either release with its versions before and
after (added to or dropped from the release when one side has none), every image resource whose
reference changes, and every CustomResourceDefinition the rendered manifests add, remove or
serve other versions of.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.golang.semver import InvalidVersion, Version
from bot.ocm.graph import ComponentGraph

IMAGE_TYPES = ("ociImage",)


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


def _cell(value: str | None, absent: str) -> str:
    return f"`{value}`" if value is not None else absent


def impact_markdown(impact: Impact) -> str:
    root = impact.root
    direction = "downgrade" if root.before and root.after and _is_down(root) else "upgrade"
    parts = [f"**{root.name}** `{root.before}` → `{root.after}` ({direction})"]
    if impact.components:
        rows = [
            f"| {c.name} | {_cell(c.before, '— (added)')} | {_cell(c.after, '— (dropped)')} |"
            for c in impact.components
        ]
        parts.append("| component | from | to |\n|---|---|---|\n" + "\n".join(rows))
    else:
        parts.append("No referenced component changes version.")
    if impact.images:
        rows = [
            f"| {c.component} | {c.name} | {_cell(c.before, '— (added)')} | "
            f"{_cell(c.after, '— (removed)')} |"
            for c in impact.images
        ]
        parts.append("| component | image | from | to |\n|---|---|---|---|\n" + "\n".join(rows))
    if impact.crds:
        rows = [
            f"| {c.name} | {c.before if c.before is not None else '— (added)'} | "
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
