"""The CLI's progress line: only on a terminal, only without -q, only after a moment, and
cleared whenever no read is under way."""

from __future__ import annotations

import io

from bot.cli.progress import DELAY_SECONDS, ObservedStore, Progress
from bot.ocm.ctf import CTFStore

CLEAR = "\r\033[K"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_line_shows_after_a_moment_and_is_cleared_when_the_read_ends():
    stream, clock = Terminal(), Clock()
    progress = Progress(stream, enabled=True, clock=clock)
    progress.reading("acme/app:1.0.0")
    progress.draw()
    assert stream.getvalue() == ""  # a fast command shows nothing
    clock.now += DELAY_SECONDS + 2
    progress.draw()
    assert stream.getvalue() == f"{CLEAR}reading acme/app:1.0.0 (0 read, 0 B, 3s)"
    progress.read(3 * 1024 * 1024 // 2)
    assert stream.getvalue().endswith(CLEAR)
    before = stream.getvalue()
    progress.draw()  # nothing under way: nothing drawn
    assert stream.getvalue() == before
    progress.reading("acme/app sha256:" + "a" * 64)
    assert stream.getvalue().endswith("(1 read, 1.5 MiB, 3s)")


def test_a_copy_shows_what_skopeo_is_at_and_is_cleared_when_it_ends():
    stream, clock = Terminal(), Clock()
    progress = Progress(stream, enabled=True, clock=clock)
    clock.now += DELAY_SECONDS
    progress.reading("mirror/images/app:v1: Copying blob sha256:ab12", verb="copying")
    assert stream.getvalue() == (
        f"{CLEAR}copying mirror/images/app:v1: Copying blob sha256:ab12 (0 read, 0 B, 1s)"
    )
    progress.idle()
    assert stream.getvalue().endswith(CLEAR) and progress.reads == 0


def test_a_long_name_is_cut_to_the_width():
    stream, clock = Terminal(), Clock()
    progress = Progress(stream, enabled=True, clock=clock)
    clock.now += DELAY_SECONDS
    progress.reading("x" * 300)
    line = stream.getvalue().removeprefix(CLEAR)
    assert len(line) == 100 and line.endswith("x… (0 read, 0 B, 1s)")


def test_nothing_is_shown_off_a_terminal_or_with_quiet(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    assert Progress.on(Terminal(), quiet=False).enabled
    assert not Progress.on(Terminal(), quiet=True).enabled
    assert not Progress.on(io.StringIO(), quiet=False).enabled
    monkeypatch.setenv("TERM", "dumb")
    assert not Progress.on(Terminal(), quiet=False).enabled
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, enabled=False, clock=clock)
    clock.now += 60
    with progress:
        progress.reading("acme/app:1.0.0")
        progress.draw()
    assert stream.getvalue() == ""


def test_the_observed_store_tells_every_read_and_its_size(tmp_path):
    store = CTFStore(tmp_path / "ctf", create=True)
    digest = store.put_blob("acme/app", b"x" * 10, "application/octet-stream")
    stream, clock = Terminal(), Clock()
    progress = Progress(stream, enabled=True, clock=clock)
    observed = ObservedStore(store, progress)
    assert observed.get_blob("acme/app", digest) == b"x" * 10
    assert observed.list_repositories() == store.list_repositories()
    assert (progress.reads, progress.bytes) == (2, 10)
    assert observed.description == store.description
