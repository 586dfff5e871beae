"""What a re-render changes: files, and the Kubernetes objects kustomize builds from them. Pure.

Objects are keyed by apiVersion, kind, namespace and name. Removing a CustomResourceDefinition
(which deletes every object of that type) or a Namespace (which deletes everything in it) is
flagged as destructive. The summary reads as Markdown (PR bodies, check runs) or as short text
(the terminal).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DESTRUCTIVE_KINDS = frozenset({"CustomResourceDefinition", "Namespace"})
MAX_FIELDS_SHOWN = 5


@dataclass(frozen=True, order=True)
class ObjectKey:
    kind: str
    namespace: str
    name: str
    api_version: str

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ObjectKey:
        metadata = obj.get("metadata") or {}
        return cls(
            kind=str(obj.get("kind", "")),
            namespace=str(metadata.get("namespace") or ""),
            name=str(metadata.get("name") or ""),
            api_version=str(obj.get("apiVersion", "")),
        )

    @property
    def destructive_if_removed(self) -> bool:
        return self.kind in DESTRUCTIVE_KINDS

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where} ({self.api_version})"


@dataclass(frozen=True)
class ObjectChange:
    key: ObjectKey
    #: dotted paths of the fields that differ (for changed objects), first few only
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeSummary:
    files_added: tuple[str, ...]
    files_changed: tuple[str, ...]
    files_removed: tuple[str, ...]
    objects_added: tuple[ObjectChange, ...]
    objects_changed: tuple[ObjectChange, ...]
    objects_removed: tuple[ObjectChange, ...]
    #: why the objects before the change are unknown (the old tree does not build), or ""
    objects_unknown: str = ""

    @property
    def files_differ(self) -> bool:
        return bool(self.files_added or self.files_changed or self.files_removed)

    @property
    def destructive(self) -> tuple[ObjectKey, ...]:
        return tuple(c.key for c in self.objects_removed if c.key.destructive_if_removed)

    def headline(self) -> str:
        if not self.files_differ:
            return "The rendered manifests are up to date."
        files = _counts(self.files_added, self.files_changed, self.files_removed)
        if self.objects_unknown:
            return f"Files: {files}. Objects: the current tree does not build."
        objects = _counts(self.objects_added, self.objects_changed, self.objects_removed)
        return f"Files: {files}. Objects: {objects}."


def _counts(added: Sequence[object], changed: Sequence[object], removed: Sequence[object]) -> str:
    return f"{len(added)} added, {len(changed)} changed, {len(removed)} removed"


def _index(objects: Iterable[Mapping[str, Any]]) -> dict[ObjectKey, Mapping[str, Any]]:
    return {ObjectKey.of(obj): obj for obj in objects}


def changed_fields(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted paths where two objects differ, to the deepest mapping level both share."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        paths = []
        for key in sorted(set(old) | set(new), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in old or key not in new:
                paths.append(path)
            elif old[key] != new[key]:
                paths.extend(changed_fields(old[key], new[key], path))
        return paths
    return [prefix or "(whole object)"] if old != new else []


def outermost(paths: Sequence[str]) -> list[str]:
    """`paths` without those inside another one listed (`spec` covers `spec.replicas`)."""
    kept = set(paths)
    return [p for p in paths if not any(p.startswith(f"{q}.") for q in kept if q != p)]


def summarize_changes(
    old_files: Mapping[str, bytes],
    new_files: Mapping[str, bytes],
    old_objects: Iterable[Mapping[str, Any]] | None,
    new_objects: Iterable[Mapping[str, Any]],
    *,
    objects_unknown: str = "",
) -> ChangeSummary:
    """The difference between two file sets and between the objects built from each.

    `old_objects` is None when the old tree could not be built; `objects_unknown` says why.
    """
    old_names, new_names = set(old_files), set(new_files)

    def ordered(paths: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(paths, key=str.encode))

    before = _index(old_objects or [])
    after = _index(new_objects)
    changed = []
    for key in sorted(set(before) & set(after)):
        if before[key] != after[key]:
            fields = changed_fields(before[key], after[key])
            changed.append(ObjectChange(key, tuple(fields)))
    known = old_objects is not None
    return ChangeSummary(
        files_added=ordered(new_names - old_names),
        files_changed=ordered(p for p in old_names & new_names if old_files[p] != new_files[p]),
        files_removed=ordered(old_names - new_names),
        objects_added=tuple(ObjectChange(k) for k in sorted(set(after) - set(before)))
        if known
        else (),
        objects_changed=tuple(changed) if known else (),
        objects_removed=tuple(ObjectChange(k) for k in sorted(set(before) - set(after))),
        objects_unknown="" if known else (objects_unknown or "the current tree does not build"),
    )


# --- text ---------------------------------------------------------------------------------------


def _fields_text(change: ObjectChange, each: Callable[[str], str] = str) -> str:
    """The first few changed fields (none inside another one shown), and how many more."""
    fields = outermost(change.fields)
    shown = ", ".join(each(f) for f in fields[:MAX_FIELDS_SHOWN])
    more = len(fields) - MAX_FIELDS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def summary_text(summary: ChangeSummary) -> str:
    """A short form for the terminal."""
    lines = [summary.headline()]
    if not summary.files_differ:
        return lines[0] + "\n"
    for mark, paths in (
        ("+", summary.files_added),
        ("~", summary.files_changed),
        ("-", summary.files_removed),
    ):
        lines.extend(f"  {mark} {p}" for p in paths)
    if summary.objects_unknown:
        lines.append(f"objects: unknown before the change ({summary.objects_unknown})")
    else:
        lines.append("objects:")
    for change in summary.objects_added:
        lines.append(f"  + {change.key}")
    for change in summary.objects_changed:
        lines.append(f"  ~ {change.key}: {_fields_text(change)}")
    for change in summary.objects_removed:
        flag = "  DESTRUCTIVE" if change.key.destructive_if_removed else ""
        lines.append(f"  - {change.key}{flag}")
    return "\n".join(lines) + "\n"


def code(text: str) -> str:
    """Inline code that survives backticks and table pipes in the text."""
    text = text.replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if fence == "`" else f"{fence} {text} {fence}"


def destructive_caution(summary: ChangeSummary) -> str:
    """The alert that leads a text when the change removes a CRD or a Namespace, or ""."""
    if not summary.destructive:
        return ""
    names = ", ".join(f"{k.kind} {code(k.name)}" for k in summary.destructive)
    return (
        f"> [!CAUTION]\n> Destructive: merging removes {names}, and with it every object it "
        "holds or defines."
    )


def summary_markdown(summary: ChangeSummary, *, caution: bool = True) -> str:
    """The form for PR bodies, comments and check runs; `caution=False` when the text leads
    with `destructive_caution` already."""
    parts = [f"**{summary.headline()}**"]
    if not summary.files_differ:
        return parts[0] + "\n"
    if caution and summary.destructive:
        parts.append(destructive_caution(summary))
    rows = []
    for change in summary.objects_removed:  # destructive changes first
        flag = "**destructive**" if change.key.destructive_if_removed else ""
        rows.append((not flag, f"| removed | {_object_cell(change.key)} | {flag} |"))
    for change in summary.objects_added:
        rows.append((True, f"| added | {_object_cell(change.key)} | |"))
    for change in summary.objects_changed:
        fields = _fields_text(change, code)
        rows.append((True, f"| changed | {_object_cell(change.key)} | {fields} |"))
    rows.sort(key=lambda row: row[0])  # stable: the destructive removals lead
    if summary.objects_unknown:
        parts.append(f"The objects before this change are unknown: {code(summary.objects_unknown)}")
    if rows:
        table = "\n".join(row for _, row in rows)
        parts.append(f"| change | object | fields |\n|---|---|---|\n{table}")
    file_rows = [
        f"| {state} | {code(p)} |"
        for state, paths in (
            ("added", summary.files_added),
            ("changed", summary.files_changed),
            ("removed", summary.files_removed),
        )
        for p in paths
    ]
    count = len(file_rows)
    parts.append(
        f"<details><summary>{count} file{'s' if count != 1 else ''}</summary>\n\n"
        "| change | file |\n|---|---|\n" + "\n".join(file_rows) + "\n\n</details>"
    )
    return "\n\n".join(parts) + "\n"


def _object_cell(key: ObjectKey) -> str:
    where = f"{key.namespace}/{key.name}" if key.namespace else key.name
    return f"{key.kind} {code(where)} <sub>{key.api_version}</sub>"


def unified_diff(old_files: Mapping[str, bytes], new_files: Mapping[str, bytes]) -> str:
    """`git diff`-like text of two file sets (binary files are only named)."""
    out = []
    for path in sorted(set(old_files) | set(new_files), key=str.encode):
        old, new = old_files.get(path), new_files.get(path)
        if old == new:
            continue
        try:
            old_text = (old or b"").decode("utf-8").splitlines(keepends=True)
            new_text = (new or b"").decode("utf-8").splitlines(keepends=True)
        except UnicodeDecodeError:
            out.append(f"Binary file {path} differs\n")
            continue
        lines = difflib.unified_diff(
            old_text,
            new_text,
            "/dev/null" if old is None else f"a/{path}",
            "/dev/null" if new is None else f"b/{path}",
        )
        for line in lines:
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
