"""A CTF archive is read as needed: its entries' headers when opened, then only the blobs a
reader asks for, each within the size limit."""

from __future__ import annotations

import io
import tarfile
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from bot.ocm import ctf
from bot.ocm.ctf import CTFStore
from bot.ocm.location import Repository
from bot.ocm.reader import ComponentReader
from bot.ocm.store import StoreError
from tests.reference_case import ROOT_COMPONENT, ROOT_VERSION

EXAMPLE = Path(__file__).parents[3] / "examples" / "openmcp.ctf.tgz"
UNUSED = "blobs/sha256." + "f" * 64
BIG = 32 * 1024 * 1024


def with_unused_blob(target: Path) -> Path:
    """The example archive, as a plain tar, with a 32 MiB blob nothing refers to."""
    with tarfile.open(EXAMPLE) as source, tarfile.open(target, "w") as out:
        for member in source:
            out.addfile(member, source.extractfile(member) if member.isfile() else None)
        info = tarfile.TarInfo(UNUSED)
        info.size = BIG
        out.addfile(info, io.BytesIO(bytes(BIG)))
    return target


def test_a_release_is_read_without_touching_blobs_it_does_not_use(tmp_path):
    archive = with_unused_blob(tmp_path / "release.ctf.tar")
    tracemalloc.start()
    try:
        store = CTFStore(archive)
        reader = ComponentReader(store, Repository("ctf", path=str(archive)))
        graph = reader.resolve(ROOT_COMPONENT, ROOT_VERSION)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(graph.versions) > 1
    assert peak < BIG // 4  # the unused blob was never read


def test_a_blob_past_the_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    archive = with_unused_blob(tmp_path / "release.ctf.tar")
    monkeypatch.setattr(ctf, "MAX_BLOB_BYTES", BIG - 1)
    with pytest.raises(StoreError, match=f"{UNUSED} in CTF archive .* is {BIG:,} bytes"):
        CTFStore(archive).get_blob("any", "sha256:" + "f" * 64)


def test_an_archive_with_entries_without_end_is_refused(tmp_path, monkeypatch):
    archive = with_unused_blob(tmp_path / "release.ctf.tar")
    monkeypatch.setattr(ctf, "MAX_ENTRIES", 3)
    with pytest.raises(StoreError, match="has more than 3 entries"):
        CTFStore(archive)


@pytest.mark.parametrize("digest", ["sha256:../../../etc/passwd", "sha256:a/b", "nothing"])
def test_a_digest_with_a_path_in_it_is_refused(tmp_path, digest):
    store = CTFStore(tmp_path / "ctf", create=True)
    with pytest.raises(StoreError, match="is not a digest"):
        store.get_blob("any", digest)


def test_the_index_and_descriptors_are_read_in_the_one_pass_that_opens_the_archive(monkeypatch):
    opened: list[object] = []
    real_open = tarfile.open

    def counting(*args: Any, **kwargs: Any) -> tarfile.TarFile:
        if args and args[0] == EXAMPLE:  # not the descriptors' own tars, read from memory
            opened.append(args)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(tarfile, "open", counting)
    store = CTFStore(EXAMPLE)
    reader = ComponentReader(store, Repository("ctf", path=str(EXAMPLE)))
    graph = reader.resolve(ROOT_COMPONENT, ROOT_VERSION)
    assert store.list_tags(reader.repository.component_path(graph.root.name))
    assert len(opened) == 1  # the gzipped archive was unpacked once
