"""File sets: normalised relative paths, deterministic order, directory views."""

from __future__ import annotations

import pytest

from bot.core.fileset import FileSet, PathError


@pytest.mark.parametrize("path", ["/etc/passwd", "a/../../b", "..", "", "./"])
def test_paths_that_could_leave_the_repository_are_refused(path):
    with pytest.raises(PathError):
        FileSet({path: b""})


def test_paths_are_normalised_and_iterate_in_bytewise_order():
    files = FileSet({"./b//x.yaml": b"1", "B.yaml": b"2", "a\\c.yaml": b"3"})
    assert list(files) == ["B.yaml", "a/c.yaml", "b/x.yaml"]


def test_directory_views_and_merging():
    files = FileSet({"r/a.yaml": b"a", "r/s/b.yaml": b"b", "top.yaml": b"t"})
    assert dict(files.under("r")) == {"a.yaml": b"a", "s/b.yaml": b"b"}
    assert files.has_directory("r/s") and not files.has_directory("r/a.yaml")
    assert files.under("r").top_level_files() == ["a.yaml"]
    assert list(files.under("r").moved_to("x")) == ["x/a.yaml", "x/s/b.yaml"]
    assert list(files.without(["r"])) == ["top.yaml"]
    merged = files | {"top.yaml": b"new", "n.yaml": b"n"}
    assert merged["top.yaml"] == b"new" and len(merged) == 4
    assert merged != files and FileSet(dict(files)) == files
