"""Field sets and merging for the fake API server's server-side apply.

A field set is a set of leaf paths (tuples of map keys). Maps are followed key by key; lists and
scalars are leaves, so every list is owned atomically (kube-apiserver keys associative lists by
their merge keys; the fake does not, which only makes it stricter about list conflicts).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

Path = tuple[str, ...]
_MISSING: Any = object()
#: metadata the server owns; never part of anyone's field set
_SERVER_METADATA = {
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "managedFields",
    "selfLink",
}


def tracked(obj: Mapping[str, Any], *, with_status: bool = True) -> dict[str, Any]:
    """The part of an object whose fields have owners."""
    out = {k: copy.deepcopy(v) for k, v in obj.items() if k not in ("apiVersion", "kind")}
    if not with_status:
        out.pop("status", None)
    metadata = {k: v for k, v in (out.get("metadata") or {}).items() if k not in _SERVER_METADATA}
    if metadata:
        out["metadata"] = metadata
    else:
        out.pop("metadata", None)
    return out


def leaf_paths(obj: Mapping[str, Any], prefix: Path = ()) -> set[Path]:
    paths: set[Path] = set()
    for key, value in obj.items():
        path = (*prefix, key)
        if isinstance(value, dict) and value:
            paths |= leaf_paths(value, path)
        else:
            paths.add(path)
    return paths


def value_at(obj: Mapping[str, Any], path: Path) -> Any:
    node: Any = obj
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return _MISSING
        node = node[key]
    return node


def remove(obj: dict[str, Any], path: Path) -> None:
    """Delete the field at `path`, and the maps it leaves empty."""
    trail: list[tuple[dict[str, Any], str]] = []
    node: Any = obj
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return
        trail.append((node, key))
        node = node[key]
    for parent, key in reversed(trail):
        if parent[key] is node or parent[key] == {}:
            del parent[key]
            node = parent
        else:
            break


def merge(live: dict[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """`config` over `live`: maps merged key by key, everything else replaced."""
    out = copy.deepcopy(live)
    for key, value in config.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and value:
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def to_fields_v1(paths: Iterable[Path]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for key in path:
            node = node.setdefault(f"f:{key}", {})
    return root


def from_fields_v1(fields: Mapping[str, Any], prefix: Path = ()) -> set[Path]:
    paths: set[Path] = set()
    for key, child in fields.items():
        if not key.startswith("f:"):
            continue  # ".", "k:…", "v:…": entries the fake never writes
        path = (*prefix, key[2:])
        below = from_fields_v1(child, path) if isinstance(child, dict) else set()
        paths |= below or {path}
    return paths


def dotted(path: Path) -> str:
    return "." + ".".join(path)
