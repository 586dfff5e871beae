"""OCM artifact sets: one OCI artifact (an image with its index, a Helm chart) packed as one
blob, as `ocm transfer --copy-resources` stores an artifact in a CTF archive.

The format is ocm's `artifactset` in its default (OCI) form: a gzipped tar of `index.json` (an
OCI image index listing every manifest of the artifact, the main one last, tagged by the
`software.ocm/tags` and `org.opencontainers.image.ref.name` annotations and named by the
index's `software.ocm/main` annotation), `oci-layout`, and `blobs/sha256.<hex>` for every
manifest, config and layer. The other way, a set is unpacked into an OCI image layout
(`blobs/sha256/<hex>`) whose `index.json` names the main artifact as `LAYOUT_REFERENCE`, which
skopeo copies on to a registry. Both ways read and write files, never a whole image in memory.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import shutil
import tarfile
from pathlib import Path
from typing import IO, Any

from bot.ocm.layout import (
    DOCKER_LIST,
    INDEX,
    MANIFEST,
    IntegrityError,
    file_digest,
    is_digest,
    parse_json,
)
from bot.ocm.model import DescriptorError
from bot.ocm.store import MAX_ARTIFACT_BYTES

MAIN = "software.ocm/main"
TAGS = "software.ocm/tags"
REF_NAME = "org.opencontainers.image.ref.name"
LAYOUT_FILE = "oci-layout"
LAYOUT = b'{\n    "imageLayoutVersion": "1.0.0"\n}\n'
#: the name the main artifact has in an unpacked layout (`oci:DIR:LAYOUT_REFERENCE`)
LAYOUT_REFERENCE = "main"
#: what a set may hold: an openMCP image has a few dozen blobs per platform
MAX_MEMBERS = 10_000
MAX_INDEX_BYTES = 4 * 1024 * 1024
_SUFFIXES = ("+tar+gzip", "+tar")
_BLOB = re.compile(r"^blobs/sha256[./]([0-9a-f]{64})$")


class ArtifactSetError(IntegrityError):
    """An artifact set that is not one, or holds what it must not."""


def media_type(manifest_media_type: str) -> str:
    """The media type of the set of an artifact whose manifest has `manifest_media_type`
    (ocm: the content type, `+tar+gzip`)."""
    return manifest_media_type.removesuffix("+json") + "+tar+gzip"


def is_artifact_set(blob_media_type: str) -> bool:
    """Whether a local blob of this media type is an artifact set (an OCI media type packed
    as a tar), as ocm's OCI blob handler decides it."""
    kind = blob_media_type.split(";")[0].strip()
    oci = kind.startswith(("application/vnd.oci.", "application/vnd.docker."))
    return oci and kind.endswith(_SUFFIXES)


def pack(layout: Path, tag: str, out: Path) -> tuple[str, str]:
    """The OCI image layout `layout` (skopeo's `oci:` output, one artifact) written to `out` as
    an artifact set, its main artifact tagged `tag` (none when empty). Returns the set's media
    type and the main artifact's digest."""
    index = _read_json(layout / "index.json", "index.json of the exported artifact")
    manifests = index.get("manifests") or []
    if len(manifests) != 1:
        raise ArtifactSetError(f"the exported artifact has {len(manifests)} manifests, not one")
    main = {k: v for k, v in dict(manifests[0]).items() if k != "annotations"}
    entries = []
    if main.get("mediaType") in (INDEX, DOCKER_LIST):
        nested = _read_json(_layout_blob(layout, str(main["digest"])), "the exported index")
        entries = [{k: v for k, v in dict(m).items() if k in ("mediaType", "digest", "size")}
                   for m in nested.get("manifests") or []]  # fmt: skip
    if tag:
        main["annotations"] = {TAGS: tag, REF_NAME: tag}
    description = {
        "schemaVersion": 2,
        "mediaType": INDEX,
        "manifests": [*entries, main],
        "annotations": {MAIN: main["digest"]},
    }
    blobs = sorted((layout / "blobs" / "sha256").iterdir())
    with (
        out.open("wb") as file,
        gzip.GzipFile("", "wb", 1, file, mtime=0) as zipped,  # no name: reproducible
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        _add(archive, "index.json", json.dumps(description, indent=2).encode())
        _add(archive, LAYOUT_FILE, LAYOUT)
        for blob in blobs:
            info = tarfile.TarInfo(f"blobs/sha256.{blob.name}")
            info.size, info.mode, info.mtime = blob.stat().st_size, 0o644, 0
            with blob.open("rb") as data:
                archive.addfile(info, data)
    return media_type(str(main.get("mediaType") or MANIFEST)), str(main["digest"])


def unpack(archive_path: Path, layout: Path) -> tuple[str, str]:
    """The artifact set at `archive_path` unpacked into the OCI image layout `layout`, every
    blob checked against its digest. Returns the main artifact's digest and its tag (empty
    when the set names none)."""
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    index: dict[str, Any] | None = None
    unpacked = 0
    try:
        with tarfile.open(archive_path, mode="r:*") as archive:
            for count, member in enumerate(archive, 1):
                if count > MAX_MEMBERS:
                    raise ArtifactSetError(f"the artifact set has more than {MAX_MEMBERS} entries")
                name = member.name.removeprefix("./")
                if member.isdir() and name.rstrip("/") in ("blobs", "blobs/sha256", ""):
                    continue
                if not member.isfile():
                    raise ArtifactSetError(f"the artifact set holds {name!r}, not a file")
                unpacked += member.size
                if unpacked > MAX_ARTIFACT_BYTES:  # layers are gzipped: a set hardly shrinks
                    raise ArtifactSetError(
                        f"the artifact set unpacks to more than {MAX_ARTIFACT_BYTES:,} bytes"
                    )
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                if name in ("index.json", "artifact-descriptor.json"):
                    index = _index(handle, member.size)
                elif name != LAYOUT_FILE:
                    _unpack_blob(handle, name, layout)
    except (tarfile.TarError, OSError, EOFError) as err:
        raise ArtifactSetError(f"the artifact set cannot be read: {err}") from None
    if index is None:
        raise ArtifactSetError("the artifact set has no index.json")
    main = _main(index)
    if not (layout / "blobs" / "sha256" / main["digest"].removeprefix("sha256:")).exists():
        raise ArtifactSetError(f"the artifact set lacks its main manifest {main['digest']}")
    tags = str((main.get("annotations") or {}).get(TAGS) or "")
    entry: dict[str, Any] = {k: main[k] for k in ("mediaType", "digest", "size") if k in main}
    entry["annotations"] = {REF_NAME: LAYOUT_REFERENCE}
    layout_index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": [entry]}
    (layout / "index.json").write_text(json.dumps(layout_index))
    (layout / LAYOUT_FILE).write_bytes(LAYOUT)
    return str(main["digest"]), tags.split(",")[0]


def _main(index: dict[str, Any]) -> dict[str, Any]:
    """The main artifact's entry: the one the `software.ocm/main` annotation names (by digest
    or tag), else the only one."""
    manifests = [dict(m) for m in index.get("manifests") or [] if isinstance(m, dict)]
    named = str((index.get("annotations") or {}).get(MAIN) or "")
    for entry in manifests:
        tags = str((entry.get("annotations") or {}).get(TAGS) or "").split(",")
        if named and (entry.get("digest") == named or named in tags):
            return _checked_entry(entry)
    if not named and len(manifests) == 1:
        return _checked_entry(manifests[0])
    raise ArtifactSetError("the artifact set does not say which artifact is its main one")


def _checked_entry(entry: dict[str, Any]) -> dict[str, Any]:
    if not is_digest(str(entry.get("digest", ""))):
        raise ArtifactSetError(f"the artifact set names {entry.get('digest')!r}, not a digest")
    return entry


def _index(handle: IO[bytes], size: int) -> dict[str, Any]:
    if size > MAX_INDEX_BYTES:
        raise ArtifactSetError(f"the artifact set's index has {size:,} bytes")
    return _parsed(handle.read(MAX_INDEX_BYTES + 1), "the artifact set's index")


def _unpack_blob(handle: IO[bytes], name: str, layout: Path) -> None:
    match = _BLOB.match(name)
    if match is None:
        raise ArtifactSetError(f"the artifact set holds {name!r}, which is not a blob")
    target = layout / "blobs" / "sha256" / match.group(1)
    with target.open("wb") as out:
        shutil.copyfileobj(handle, out, 1024 * 1024)
    if file_digest(target)[0] != f"sha256:{match.group(1)}":
        raise ArtifactSetError(f"the artifact set's {name} is not the blob its name says")


def _layout_blob(layout: Path, digest: str) -> Path:
    if not is_digest(digest):
        raise ArtifactSetError(f"the exported artifact names {digest!r}, not a digest")
    return layout / "blobs" / "sha256" / digest.removeprefix("sha256:")


def _read_json(path: Path, what: str) -> dict[str, Any]:
    if path.stat().st_size > MAX_INDEX_BYTES:
        raise ArtifactSetError(f"{what} is larger than {MAX_INDEX_BYTES:,} bytes")
    return _parsed(path.read_bytes(), what)


def _parsed(data: bytes, what: str) -> dict[str, Any]:
    try:
        return parse_json(data, what)
    except DescriptorError as err:
        raise ArtifactSetError(str(err)) from None


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    archive.addfile(info, io.BytesIO(data))
