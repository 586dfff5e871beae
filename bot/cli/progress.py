"""Progress on stderr while a registry is slow: one line, rewritten in place, naming what is
being read and how much has been, shown only on a terminal, only without `-q`, and only once
the command has run longer than a moment (a local render never shows it). The line is cleared
whenever no read is under way, so it never mixes with what the command prints."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TextIO

from bot.ocm.store import Store

#: how long a command runs before progress is shown, and how often the line is redrawn
DELAY_SECONDS = 1.0
TICK_SECONDS = 0.25
WIDTH = 100
_CLEAR = "\r\033[K"


class Progress:
    """What the reads of one command have done; drawn by a ticker thread while entered."""

    def __init__(
        self, stream: TextIO, *, enabled: bool, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stream, self.enabled, self.clock = stream, enabled, clock
        self.started = clock()
        self.reads, self.bytes = 0, 0
        self._current: str | None = None
        self._verb = "reading"
        self._drawn = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    @classmethod
    def on(cls, stream: TextIO, *, quiet: bool) -> Progress:
        """Progress for `stream`: drawn only when it is a terminal that can rewrite a line."""
        terminal = stream.isatty() and os.environ.get("TERM", "") != "dumb"
        return cls(stream, enabled=terminal and not quiet)

    # --- the reads -------------------------------------------------------------------------

    def reading(self, what: str, *, verb: str = "reading") -> None:
        with self._lock:
            self._current, self._verb = what, verb
            self._draw()

    def idle(self) -> None:
        """Nothing is under way (a copy ended): the line is cleared."""
        with self._lock:
            self._current = None
            self._clear()

    def read(self, size: int) -> None:
        with self._lock:
            self.reads += 1
            self.bytes += size
            self._current = None
            self._clear()

    # --- drawing ---------------------------------------------------------------------------

    def draw(self) -> None:
        """Redraw the line (the ticker's step)."""
        with self._lock:
            self._draw()

    def _draw(self) -> None:
        elapsed = self.clock() - self.started
        if not self.enabled or self._current is None or elapsed < DELAY_SECONDS:
            return
        counts = f" ({self.reads} read, {_size(self.bytes)}, {elapsed:.0f}s)"
        room = WIDTH - len(self._verb) - 1 - len(counts)
        what = self._current if len(self._current) <= room else self._current[: room - 1] + "…"
        self.stream.write(f"{_CLEAR}{self._verb} {what}{counts}")
        self.stream.flush()
        self._drawn = True

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write(_CLEAR)
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> Progress:
        if self.enabled:
            self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
            self._ticker.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            self._current = None
            self._clear()

    def _tick(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            self.draw()


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    if count < 1024**2:
        return f"{count / 1024:.1f} KiB"
    return f"{count / 1024**2:.1f} MiB"


class ObservedStore:
    """A store whose every read is told to a Progress (it wraps the store that does the
    I/O, below any cache, so only real reads count)."""

    def __init__(self, inner: Store, progress: Progress) -> None:
        self.inner, self.progress = inner, progress
        self.description = inner.description

    @contextmanager
    def _reading(self, what: str) -> Iterator[list[int]]:
        """Tells the read of `what` begun, then done with the size put in the list."""
        size = [0]
        self.progress.reading(what)
        try:
            yield size
        finally:
            self.progress.read(size[0])

    def list_tags(self, repository: str) -> list[str]:
        with self._reading(f"{repository} (versions)"):
            return self.inner.list_tags(repository)

    def list_repositories(self) -> list[str]:
        with self._reading(f"{self.description} (components)"):
            return self.inner.list_repositories()

    def get_manifest(self, repository: str, reference: str) -> tuple[bytes, str]:
        with self._reading(f"{repository}:{_short(reference)}") as size:
            data, media_type = self.inner.get_manifest(repository, reference)
            size[0] = len(data)
        return data, media_type

    def get_blob(self, repository: str, digest: str) -> bytes:
        with self._reading(f"{repository} {_short(digest)}") as size:
            data = self.inner.get_blob(repository, digest)
            size[0] = len(data)
        return data

    def save_blob(self, repository: str, digest: str, destination: Path) -> int:
        with self._reading(f"{repository} {_short(digest)}") as size:
            size[0] = self.inner.save_blob(repository, digest, destination)
        return size[0]


def _short(reference: str) -> str:
    algorithm, _, value = reference.partition(":")
    return f"{algorithm}:{value[:12]}" if algorithm == "sha256" else reference
