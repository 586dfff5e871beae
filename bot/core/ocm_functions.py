"""The bootstrapper's OCM template functions over a resolved component graph. Pure.

Templates see component versions as the Go tool's structs (`.Component.Name` works on
`getRootComponentVersion`) and, through `componentVersionAsMap`, as their JSON form. Lookups
that fail return nil, as in Go, and the failure is kept as a note instead of only being logged.
`listComponentVersions` needs the registry: the versions are passed in, and a component whose
versions were not passed is recorded in `missing_version_lists` so the caller can fetch them and
render again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from bot.gotemplate import GoStruct
from bot.gotemplate.values import StringList
from bot.ocm.graph import ComponentGraph, GraphError
from bot.ocm.model import ComponentVersion, Reference, Resource


class AccessStruct(GoStruct):
    go_type = "ocm.Access"
    pointer = False
    go_fields: ClassVar[dict[str, str]] = {
        "Type": "type",
        "ImageReference": "image_reference",
        "LocalReference": "local_reference",
        "MediaType": "media_type",
    }

    def __init__(self, access: Mapping[str, Any]) -> None:
        self.type = str(access.get("type", ""))
        self.image_reference = access.get("imageReference")
        self.local_reference = access.get("localReference")
        self.media_type = access.get("mediaType")

    def go_json(self) -> Any:
        return {
            "type": self.type,
            "imageReference": self.image_reference,
            "localReference": self.local_reference,
            "mediaType": self.media_type,
        }


class ResourceStruct(GoStruct):
    go_type = "ocm.Resource"
    pointer = False
    go_fields: ClassVar[dict[str, str]] = {
        "Name": "name",
        "Version": "version",
        "Type": "type",
        "Access": "access",
    }

    def __init__(self, resource: Resource) -> None:
        self.name = resource.name
        self.version = resource.version
        self.type = resource.type
        self.access = AccessStruct(resource.access)

    def go_json(self) -> Any:
        return {
            "name": self.name,
            "version": self.version,
            "type": self.type,
            "access": self.access.go_json(),
        }


class ReferenceStruct(GoStruct):
    go_type = "ocm.ComponentReference"
    pointer = False
    go_fields: ClassVar[dict[str, str]] = {
        "Name": "name",
        "Version": "version",
        "ComponentName": "component_name",
    }

    def __init__(self, reference: Reference) -> None:
        self.name = reference.name
        self.version = reference.version
        self.component_name = reference.component_name

    def go_json(self) -> Any:
        return {"name": self.name, "version": self.version, "componentName": self.component_name}


class ComponentStruct(GoStruct):
    go_type = "ocm.Component"
    pointer = False
    go_fields: ClassVar[dict[str, str]] = {
        "Name": "name",
        "Version": "version",
        "ComponentReferences": "references",
        "Resources": "resources",
    }

    def __init__(self, cv: ComponentVersion) -> None:
        self.name = cv.name
        self.version = cv.version
        self.references = [ReferenceStruct(r) for r in cv.references] or None
        self.resources = [ResourceStruct(r) for r in cv.resources] or None

    def go_json(self) -> Any:
        def each(items: list[Any] | None) -> Any:
            return [i.go_json() for i in items] if items is not None else None

        return {
            "name": self.name,
            "version": self.version,
            "componentReferences": each(self.references),
            "resources": each(self.resources),
        }


class ComponentVersionStruct(GoStruct):
    """`*ocm.ComponentVersion`, as `getRootComponentVersion` and the searches return it."""

    go_type = "ocm.ComponentVersion"
    go_fields: ClassVar[dict[str, str]] = {"Component": "component", "Repository": "repository"}

    def __init__(self, cv: ComponentVersion, repository: str) -> None:
        self.cv = cv
        self.component = ComponentStruct(cv)
        self.repository = repository

    def go_json(self) -> Any:
        return {"component": self.component.go_json(), "repository": self.repository}


class OcmFunctions:
    """The seven OCM functions for one render, over `graph`.

    `repository` is the text before `//` in `component.location`, verbatim: the Go tool hands
    templates that string, not a normalised one.
    """

    def __init__(
        self,
        graph: ComponentGraph,
        repository: str,
        version_lists: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.graph = graph
        self.repository = repository
        self.version_lists = version_lists or {}
        self.notes: list[str] = []
        self.missing_version_lists: set[str] = set()
        self._structs: dict[tuple[str, str], ComponentVersionStruct] = {}

    def struct(self, cv: ComponentVersion) -> ComponentVersionStruct:
        if cv.key not in self._structs:
            self._structs[cv.key] = ComponentVersionStruct(cv, self.repository)
        return self._structs[cv.key]

    def table(self) -> dict[str, Callable[..., Any]]:
        return {
            "getOCMRepository": lambda: self.repository,
            "getRootComponentVersion": lambda: self.struct(self.graph.root),
            "getComponentVersionsByReference": self._searcher(
                "getComponentVersionsByReference", self.graph.by_reference
            ),
            "getComponentVersionsForResource": self._searcher(
                "getComponentVersionsForResource", self.graph.for_resource
            ),
            "componentVersionAsMap": self.as_map,
            "getResourceFromComponentVersion": self.resource,
            "listComponentVersions": self.list_versions,
        }

    def _searcher(
        self,
        function: str,
        search: Callable[[str, ComponentVersion | None], list[ComponentVersion]],
    ) -> Callable[..., Any]:
        def run(*args: Any) -> Any:
            if len(args) == 1 and isinstance(args[0], str):
                parent, name = None, args[0]
            elif (
                len(args) == 2
                and isinstance(args[0], ComponentVersionStruct)
                and isinstance(args[1], str)
            ):
                parent, name = args[0].cv, args[1]
            else:
                self.notes.append(
                    f"{function}: expects [componentVersion] name; got {len(args)} "
                    "arguments, returned nil"
                )
                return None
            try:
                return [self.struct(cv) for cv in search(name, parent)]
            except GraphError as err:
                self.notes.append(f"{function}: {err}; returned nil")
                return None

        return run

    def as_map(self, cv: Any) -> Any:
        if not isinstance(cv, ComponentVersionStruct):
            self.notes.append("componentVersionAsMap: argument is not a component version")
            return None
        return cv.go_json()

    def resource(self, cv: Any, name: Any) -> Any:
        if not isinstance(cv, ComponentVersionStruct):
            self.notes.append(
                "getResourceFromComponentVersion: argument is not a component version"
            )
            return None
        found = cv.cv.resource(str(name))
        return ResourceStruct(found).go_json() if found is not None else None

    def list_versions(self, cv: Any) -> Any:
        if not isinstance(cv, ComponentVersionStruct):
            self.notes.append("listComponentVersions: argument is not a component version")
            return None
        name = cv.cv.name
        if name not in self.version_lists:
            self.missing_version_lists.add(name)
            return None
        return StringList(self.version_lists[name])
