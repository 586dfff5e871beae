"""A root component version and everything it references, searched like the Go tool. Pure.

The bootstrapper's ComponentGetter finds components by reference name: all direct references
with that name first (several may share it), otherwise depth-first through the references in
order, returning the first hit. Resources are found the same way. The graph is resolved up
front by the reader, so these searches need no I/O and can run inside the renderer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.core.failures import Failure
from bot.ocm.model import ComponentVersion, Resource


class GraphError(Failure, LookupError):
    """A reference or resource the graph does not have; the message is the Go tool's."""


@dataclass(frozen=True)
class ComponentGraph:
    root: ComponentVersion
    versions: Mapping[tuple[str, str], ComponentVersion]

    def get(self, component: str, version: str) -> ComponentVersion:
        try:
            return self.versions[(component, version)]
        except KeyError:
            raise GraphError(f"component version {component}:{version} is not resolved") from None

    def referenced(self, parent: ComponentVersion) -> list[ComponentVersion]:
        return [self.get(r.component_name, r.version) for r in parent.references]

    def by_reference(
        self, reference: str, parent: ComponentVersion | None = None
    ) -> list[ComponentVersion]:
        """GetReferencedComponentVersionsRecursive."""
        start = parent or self.root

        def direct(cv: ComponentVersion) -> list[ComponentVersion]:
            return [self.get(r.component_name, r.version) for r in cv.references_named(reference)]

        found = self._depth_first(start, direct)
        if not found:
            raise GraphError(
                f"component reference {reference} not found in component version "
                f"{start.name} or its references"
            )
        return found

    def for_resource(
        self, resource: str, parent: ComponentVersion | None = None
    ) -> list[ComponentVersion]:
        """GetComponentVersionsForResourceRecursive."""
        start = parent or self.root

        def holds(cv: ComponentVersion) -> list[ComponentVersion]:
            return [cv] if cv.resource(resource) is not None else []

        found = self._depth_first(start, holds)
        if not found:
            raise GraphError(
                f"resource {resource} not found in component version {start.name} or its references"
            )
        return found

    def _depth_first(
        self, start: ComponentVersion, hits: Callable[[ComponentVersion], list[ComponentVersion]]
    ) -> list[ComponentVersion]:
        """The Go tool's search: the start's own hits, else the first child's, depth-first.

        Iterative, so a deep chain needs no recursion. A component version whose references
        were searched in vain is not searched again (shared references would otherwise be
        searched once per path to them), and one on the current path is skipped: a cycle, where
        the Go tool would search for ever.
        """
        found = hits(start)
        if found:
            return found
        searched: set[tuple[str, str]] = set()
        on_path = {start.key}
        stack = [(start, iter(self.referenced(start)))]
        while stack:
            parent, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                on_path.discard(parent.key)
                searched.add(parent.key)
            elif child.key not in on_path and child.key not in searched:
                found = hits(child)
                if found:
                    return found
                on_path.add(child.key)
                stack.append((child, iter(self.referenced(child))))
        return []

    def resource_at(self, path: str) -> tuple[ComponentVersion, Resource]:
        """`ref1/…/refN/resource` from the root, each reference taken as its first match."""
        *references, name = path.strip().split("/")
        current = self.root
        for reference in references:
            current = self.by_reference(reference, current)[0]
        resource = current.resource(name)
        if resource is None:
            raise GraphError(
                f"resource {name} not found in component version {current.name}:{current.version}"
            )
        return current, resource
