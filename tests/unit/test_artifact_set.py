"""OCM artifact sets: packed as ocm stores an OCI artifact in a CTF archive, unpacked (from an
archive anyone may have made) only into blobs that are what their names say."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from bot.ocm import artifact_set
from bot.ocm.artifact_set import ArtifactSetError, is_artifact_set, pack, unpack

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _blob(layout: Path, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def exported(layout: Path) -> str:
    """An OCI image layout as skopeo writes one: a two-platform index; the index's digest."""
    children = []
    for arch in ("amd64", "arm64"):
        config = _blob(layout, json.dumps({"architecture": arch}).encode())
        layer = _blob(layout, f"layer {arch}".encode())
        manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST,
                               "config": config, "layers": [layer]}).encode()  # fmt: skip
        children.append({"mediaType": MANIFEST, **_blob(layout, manifest),
                         "platform": {"architecture": arch, "os": "linux"}})  # fmt: skip
    index = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": children}).encode()
    main = {"mediaType": INDEX, **_blob(layout, index)}
    (layout / "index.json").write_text(json.dumps({
        "schemaVersion": 2,
        "manifests": [{**main, "annotations": {"org.opencontainers.image.ref.name": "main"}}],
    }))  # fmt: skip
    return str(main["digest"])


def test_a_packed_set_is_what_ocm_writes_and_unpacks_to_the_same_artifact(tmp_path):
    main = exported(tmp_path / "layout")
    media_type, digest = pack(tmp_path / "layout", "v1", tmp_path / "set")
    assert (media_type, digest) == ("application/vnd.oci.image.index.v1+tar+gzip", main)
    with tarfile.open(tmp_path / "set", "r:gz") as archive:
        names = archive.getnames()
        index = json.loads(archive.extractfile("index.json").read())  # type: ignore[union-attr]
    assert names[:2] == ["index.json", "oci-layout"]
    assert all(n.startswith("blobs/sha256.") for n in names[2:]) and len(names) == 2 + 7
    assert index["annotations"] == {"software.ocm/main": main}
    *children, last = index["manifests"]
    assert len(children) == 2 and "platform" not in children[0]  # ocm adds them bare
    assert last["digest"] == main
    assert last["annotations"] == {"software.ocm/tags": "v1",
                                   "org.opencontainers.image.ref.name": "v1"}  # fmt: skip

    pack(tmp_path / "layout", "v1", tmp_path / "again")
    assert (tmp_path / "again").read_bytes() == (tmp_path / "set").read_bytes()

    assert unpack(tmp_path / "set", tmp_path / "out") == (main, "v1")
    layout_index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert layout_index["manifests"][0]["digest"] == main
    assert layout_index["manifests"][0]["annotations"] == {
        "org.opencontainers.image.ref.name": artifact_set.LAYOUT_REFERENCE
    }
    assert sorted(p.name for p in (tmp_path / "out" / "blobs" / "sha256").iterdir()) == sorted(
        p.name for p in (tmp_path / "layout" / "blobs" / "sha256").iterdir()
    )


def _archive(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _good_index(data: bytes) -> bytes:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    return json.dumps({"manifests": [{"mediaType": MANIFEST, "digest": digest,
                                      "size": len(data)}]}).encode()  # fmt: skip


def _two_mains() -> bytes:
    return json.dumps({"manifests": [{"digest": "sha256:1"}, {"digest": "sha256:2"}]}).encode()


@pytest.mark.parametrize(
    ("members", "said"),
    [
        ([_file("../../etc/passwd", b"x")], "which is not a blob"),
        ([_file("blobs/sha256." + "0" * 64, b"not that")], "is not the blob its name says"),
        ([_file("blobs/sha256." + hashlib.sha256(b"m").hexdigest(), b"m")], "no index.json"),
        ([_file("index.json", _good_index(b"m"))], "lacks its main manifest"),
        ([_file("index.json", b"[1, 2")], "is not JSON"),
        ([_file("index.json", _two_mains())], "which artifact is its main one"),
    ],
)
def test_a_hostile_set_is_refused(tmp_path, members, said):
    with pytest.raises(ArtifactSetError, match=said):
        unpack(_archive(tmp_path / "set", members), tmp_path / "out")
    assert not (tmp_path / "etc").exists()


def test_a_link_in_a_set_is_refused(tmp_path):
    link = tarfile.TarInfo("blobs/sha256." + "1" * 64)
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(ArtifactSetError, match="not a file"):
        unpack(_archive(tmp_path / "set", [(link, b"")]), tmp_path / "out")


def test_a_set_is_bounded_in_entries_and_in_what_it_unpacks_to(tmp_path, monkeypatch):
    blobs = [_file("blobs/sha256." + hashlib.sha256(bytes([i])).hexdigest(), bytes([i]))
             for i in range(5)]  # fmt: skip
    monkeypatch.setattr(artifact_set, "MAX_MEMBERS", 3)
    with pytest.raises(ArtifactSetError, match="more than 3 entries"):
        unpack(_archive(tmp_path / "set", blobs), tmp_path / "out")
    monkeypatch.setattr(artifact_set, "MAX_MEMBERS", 100)
    monkeypatch.setattr(artifact_set, "MAX_ARTIFACT_BYTES", 4)
    with pytest.raises(ArtifactSetError, match="unpacks to more than 4 bytes"):
        unpack(_archive(tmp_path / "set2", blobs), tmp_path / "out2")


def test_which_local_blobs_are_artifact_sets():
    assert is_artifact_set("application/vnd.oci.image.manifest.v1+tar+gzip")
    assert is_artifact_set("application/vnd.oci.image.index.v1+tar")
    assert is_artifact_set("application/vnd.docker.distribution.manifest.v2+tar+gzip")
    assert not is_artifact_set("application/x-tar")
    assert not is_artifact_set("application/vnd.oci.image.manifest.v1+json")
    assert not is_artifact_set("application/vnd.acme.thing+tar+gzip")
