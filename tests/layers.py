"""The architecture's import table (DESIGN.md "Architecture") and a checker for it.

The checker reads every module of a source tree with `ast` (imports inside functions and under
TYPE_CHECKING count too: they are still a dependency a reader has to follow) and reports:

- an import of a bot package the importing layer may not use (wrong direction, or a skipped rule);
- a cycle between packages, or between the modules of one package;
- an outside library imported outside the one place that owns it;
- a module that belongs to no layer.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

#: The layers from the bottom up, and the bot packages each may import (its own always).
LAYERS: dict[str, frozenset[str]] = {
    "bot.golang": frozenset(),
    "bot.kit": frozenset(),
    "bot.gotemplate": frozenset({"bot.golang"}),
    "bot.ocm": frozenset({"bot.golang"}),
    "bot.core": frozenset({"bot.golang", "bot.gotemplate", "bot.ocm"}),
    "bot.settings": frozenset(),
    "bot.adapters": frozenset({"bot.golang", "bot.core", "bot.settings", "bot.kit"}),
    "bot.services": frozenset(
        {"bot.golang", "bot.gotemplate", "bot.ocm", "bot.core", "bot.settings", "bot.kit"}
        | {"bot.adapters"}
    ),
    "bot.flows": frozenset(
        {"bot.golang", "bot.ocm", "bot.core", "bot.settings", "bot.kit", "bot.adapters"}
        | {"bot.services"}
    ),
    "handlers": frozenset({"bot.flows", "bot.services", "bot.core", "bot.kit"}),
    "bot.server": frozenset(
        {"bot.golang", "bot.ocm", "bot.core", "bot.settings", "bot.kit", "bot.adapters"}
        | {"bot.services", "bot.flows", "handlers"}
    ),
    "bot.cli": frozenset(
        {"bot.golang", "bot.ocm", "bot.core", "bot.settings", "bot.kit", "bot.adapters"}
        | {"bot.services", "bot.server"}
    ),
}
#: The failure hierarchy: a leaf of core that every layer derives its errors from.
FAILURES = "bot.core.failures"
#: Modules outside the layers: the package itself (its version) and `python -m bot`.
TOP = {"bot": frozenset(), "bot.__main__": frozenset({"bot.cli"})}

#: The OCM modules core may use: the model of components, and nothing that reads storage.
PURE_OCM = frozenset({"bot.ocm.model", "bot.ocm.graph", "bot.ocm.location", "bot.ocm.credentials"})

#: Libraries any layer at or above the given ones may use: plain data and metrics, no I/O.
KIT_LIBRARIES: dict[str, frozenset[str]] = {
    "yaml": frozenset(LAYERS),
    "prometheus_client": frozenset(
        {"bot.kit", "bot.adapters", "bot.services", "bot.server", "bot.cli"}
    ),
}
#: Every other outside library, and the modules (or packages) that own it.
OWNERS: dict[str, frozenset[str]] = {
    "httpx": frozenset({"bot.adapters.github"}),
    "gidgethub": frozenset({"bot.adapters.github"}),
    "pygit2": frozenset({"bot.adapters.gitrepo"}),
    "kubernetes_asyncio": frozenset({"bot.adapters.cluster"}),
    "cryptography": frozenset({"bot.adapters.keys", "bot.settings"}),
    "oras": frozenset({"bot.ocm.registry"}),
    "requests": frozenset({"bot.ocm.registry"}),
    "aiohttp": frozenset({"bot.server.http"}),
    "pydantic": frozenset({"bot.settings"}),
    "pydantic_settings": frozenset({"bot.settings"}),
    # pure (no I/O): RE2, the regex engine Go's templates mean
    "re2": frozenset({"bot.gotemplate.sprig"}),
    "urllib3": frozenset({"bot.ocm.registry"}),
    # GitHub's own Markdown library: the HTML of what the bot posts (`bootstrap-bot preview`)
    "cmarkgfm": frozenset({"bot.adapters.markdown"}),
}
#: gidgethub's sans-I/O halves (event parsing, routing): what bedevere-style handlers are made of.
SANS_IO = {"gidgethub.sansio": frozenset({"handlers", "bot.server"}),
           "gidgethub.routing": frozenset({"handlers", "bot.server"})}  # fmt: skip
#: Adapters do not import each other, with this one exception (the Leases live in a cluster).
ADAPTER_EXCEPTIONS = frozenset({("bot.adapters.leases", "bot.adapters.cluster")})


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it imports, as a dotted name
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def read_imports(root: Path, packages: Iterable[str] = ("bot", "handlers")) -> list[Import]:
    """Every import statement of the tree's modules, relative ones resolved."""
    found: list[Import] = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            name = module_name(root, path)
            is_package = path.name == "__init__.py"
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    found += [Import(name, alias.name, node.lineno) for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    base = node.module or ""
                    if node.level:
                        parts = name.split(".") if is_package else name.split(".")[:-1]
                        parts = parts[: len(parts) - node.level + 1]
                        base = ".".join([*parts, base] if base else parts)
                    for alias in node.names:
                        # `from bot.ocm import graph` depends on bot.ocm.graph when it exists
                        candidate = f"{base}.{alias.name}"
                        found.append(Import(name, candidate, node.lineno))
    return found


def _modules(root: Path, packages: Iterable[str]) -> set[str]:
    return {module_name(root, p) for pkg in packages for p in (root / pkg).rglob("*.py")}


def _resolve(target: str, modules: set[str]) -> str | None:
    """The tree's module a dotted import name means (the longest existing prefix)."""
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def layer_of(module: str) -> str | None:
    for layer in sorted([*LAYERS, *TOP], key=len, reverse=True):
        if module == layer or (module.startswith(layer + ".") and layer not in TOP):
            return layer
    return None


def _within(module: str, scope: str) -> bool:
    return module == scope or module.startswith(scope + ".")


def _adapter(module: str) -> str:
    """The adapter a module of bot.adapters belongs to (a subpackage is one adapter)."""
    return ".".join(module.split(".")[:3])


def violations(root: Path, packages: Iterable[str] = ("bot", "handlers")) -> list[str]:
    """What the tree at `root` does against the table, one sentence each (empty: it obeys)."""
    packages = tuple(packages)
    modules = _modules(root, packages)
    problems: list[str] = []
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for imp in read_imports(root, packages):
        where = f"{imp.module}:{imp.line}"
        layer = layer_of(imp.module)
        if layer is None:
            problems.append(f"{imp.module} belongs to no layer")
            continue
        internal = _resolve(imp.target, modules)
        if internal is not None and imp.module == FAILURES and internal != "bot":
            problems.append(f"{where}: {FAILURES} is a leaf and imports nothing of bot")
        if internal is not None:
            edges[imp.module].add(internal)
            problems += _internal_problem(where, imp.module, layer, internal)
        else:
            problems += _outside_problem(where, imp.module, layer, imp.target)
    problems += [f"cycle between packages: {' -> '.join(c)}" for c in _cycles(_packages(edges))]
    problems += [f"cycle between modules: {' -> '.join(c)}" for c in _cycles(_siblings(edges))]
    return sorted(set(problems))


def _internal_problem(where: str, module: str, layer: str, target: str) -> list[str]:
    target_layer = layer_of(target)
    allowed = (LAYERS | TOP)[layer]
    if target == "bot" or target == FAILURES:
        return []  # the version, which every layer may print; the failure hierarchy
    if target_layer == layer:
        pair = (_adapter(module), _adapter(target))
        if layer == "bot.adapters" and pair[0] != pair[1] and pair not in ADAPTER_EXCEPTIONS:
            return [f"{where}: adapter {pair[0]} imports adapter {pair[1]}"]
        return []
    if target_layer is None or target_layer not in allowed:
        return [f"{where}: {layer} may not import {target} (layer {target_layer})"]
    if layer == "bot.core" and target_layer == "bot.ocm" and target not in PURE_OCM:
        return [f"{where}: bot.core may use the pure OCM modules only, not {target}"]
    return []


def _outside_problem(where: str, module: str, layer: str, target: str) -> list[str]:
    top = target.split(".")[0]
    if top in {"bot", "handlers", "__future__"} or top in sys.stdlib_module_names:
        return [] if top not in {"bot", "handlers"} else [f"{where}: {target} does not exist"]
    for prefix, scopes in SANS_IO.items():
        if _within(target, prefix) and any(_within(module, s) for s in scopes):
            return []
    if top in KIT_LIBRARIES:
        return [] if layer in KIT_LIBRARIES[top] else [f"{where}: {layer} may not use {top}"]
    owners = OWNERS.get(top)
    if owners is None:
        return [f"{where}: {top} is an outside library no module owns (add it to OWNERS)"]
    if not any(_within(module, owner) for owner in owners):
        return [f"{where}: {top} belongs to {', '.join(sorted(owners))}, not {module}"]
    return []


def _package(module: str) -> str:
    return module if module == FAILURES else layer_of(module) or module


def _packages(edges: Mapping[str, set[str]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for source, targets in edges.items():
        node = graph.setdefault(_package(source), set())
        node.update(_package(t) for t in targets if _package(t) != _package(source))
    return graph


def _siblings(edges: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """Imports between modules of one package; a package's __init__ re-exporting its modules
    is left out (that is how a package presents itself, not a dependency between modules)."""
    parents = {m for m in edges if any(o.startswith(m + ".") for o in edges)}
    return {
        source: {
            t
            for t in targets
            if t != source and t not in parents and t.rsplit(".", 1)[0] == source.rsplit(".", 1)[0]
        }
        for source, targets in edges.items()
        if source not in parents
    }


def _cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append([*sorted(component), sorted(component)[0]])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found
