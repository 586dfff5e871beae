"""A set of repository files: POSIX path -> bytes. Pure.

Everything the renderer reads (template resources, extra manifests) and everything it produces
is a FileSet, so the same value can come from a directory, a git tree or a component archive and
go back to any of them. Iteration is in bytewise path order, so results are deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from bot.core.failures import Failure


class PathError(Failure, ValueError):
    """A path that is absolute, empty or leaves its root (`..`)."""


#: the most a branch may hold for the bot to read or write it: files, bytes in one file, bytes
#: in all (a landscape is a few hundred files and megabytes; CRDs are the largest)
MAX_FILES = 10_000
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_TOTAL_BYTES = 128 * 1024 * 1024


class SizeTally:
    """Files counted one at a time against the limits, so a reader can stop at the first one
    past them without reading the rest."""

    def __init__(self) -> None:
        self.count = 0
        self.total = 0

    def add(self, path: str, size: int) -> str | None:
        """What this file puts past a limit, or None."""
        self.count += 1
        self.total += size
        if size > MAX_FILE_BYTES:
            return f"{path} is {size:,} bytes; files of at most {_size(MAX_FILE_BYTES)} are read"
        if self.count > MAX_FILES:
            return f"more than {MAX_FILES:,} files; at most that many are read"
        if self.total > MAX_TOTAL_BYTES:
            return f"more than {_size(MAX_TOTAL_BYTES)} in all; at most that much is read"
        return None


def _size(limit: int) -> str:
    return f"{limit // 2**20} MiB" if limit % 2**20 == 0 else f"{limit:,} bytes"


def beyond_limits(files: Mapping[str, bytes]) -> str | None:
    """What makes these files too many or too large to write (and read back); None when
    they are within the limits."""
    tally = SizeTally()
    return next((p for p in (tally.add(k, len(v)) for k, v in files.items()) if p), None)


def normalize(path: str) -> str:
    """A clean relative POSIX path, refusing anything that could leave the repository."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if path.startswith("/") or not parts or ".." in parts:
        raise PathError(f"not a relative path inside the repository: {path!r}")
    return "/".join(parts)


class FileSet(Mapping[str, bytes]):
    """An immutable mapping of relative POSIX paths to file contents."""

    __slots__ = ("_files",)

    def __init__(self, files: Mapping[str, bytes] | Iterable[tuple[str, bytes]] = ()) -> None:
        items = files.items() if isinstance(files, Mapping) else files
        self._files = {normalize(path): bytes(data) for path, data in items}

    def __getitem__(self, path: str) -> bytes:
        return self._files[path]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._files, key=str.encode))

    def __len__(self) -> int:
        return len(self._files)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FileSet):
            return self._files == other._files
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._files.items()))

    def __repr__(self) -> str:
        return f"FileSet({len(self)} files)"

    def under(self, directory: str) -> FileSet:
        """The files below `directory`, with paths relative to it."""
        prefix = normalize(directory) + "/"
        return FileSet(
            (p[len(prefix) :], d) for p, d in self._files.items() if p.startswith(prefix)
        )

    def has_directory(self, directory: str) -> bool:
        prefix = normalize(directory) + "/"
        return any(p.startswith(prefix) for p in self._files)

    def moved_to(self, directory: str) -> FileSet:
        """The same files with `directory/` in front of every path."""
        prefix = normalize(directory)
        return FileSet((f"{prefix}/{p}", d) for p, d in self._files.items())

    def without(self, directories: Iterable[str]) -> FileSet:
        """The files outside every given directory."""
        prefixes = tuple(normalize(d) + "/" for d in directories)
        return FileSet((p, d) for p, d in self._files.items() if not p.startswith(prefixes))

    def top_level_files(self) -> list[str]:
        """Names of the files directly in the root, sorted as Go's os.ReadDir sorts them."""
        return sorted((p for p in self._files if "/" not in p), key=str.encode)

    def __or__(self, other: Mapping[str, bytes]) -> FileSet:
        """Both sets; where a path is in both, `other` wins (a later copy overwrites)."""
        merged = dict(self._files)
        merged.update((normalize(p), bytes(d)) for p, d in other.items())
        return FileSet(merged)
