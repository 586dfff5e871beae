"""The OCM reader against real registries and CTF archives, with content built here and by hand."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from bot.cli.main import main
from bot.golang import sigsyaml
from bot.ocm import layout, open_reader, open_store
from bot.ocm.builder import build
from bot.ocm.ctf import CTFStore
from bot.ocm.layout import IntegrityError
from bot.ocm.location import parse_location, parse_repository
from bot.ocm.reader import ComponentError, UnsafeArchive
from bot.ocm.store import WritableStore

pytestmark = pytest.mark.peers

CASE = Path(__file__).parents[2] / "fixtures" / "bootstrapper" / "manage-deployment-repo-01"
ROOT = "github.com/openmcp-project/openmcp"


def registry_repository(registry, prefix: str = "ocm") -> str:
    return f"http://{registry.host}/{prefix}"


def descriptor(name: str, version: str, **component: Any) -> dict[str, Any]:
    return {
        "meta": {"schemaVersion": "v2"},
        "component": {
            "name": name,
            "version": version,
            "provider": "acme",
            "repositoryContexts": [],
            "sources": [],
            **component,
        },
    }


def push(
    store: WritableStore,
    prefix: str,
    name: str,
    tag: str,
    document: bytes,
    *,
    layer_type: str = layout.DESCRIPTOR_TAR,
    extra_layers: list[tuple[bytes, str]] = (),  # type: ignore[assignment]
    descriptor_first: bool = True,
) -> str:
    """Push one component version by hand, in the OCM layout (as other tools would)."""
    repository = "/".join(p for p in (prefix, "component-descriptors", name) if p)
    payload = (
        layout.tar_one_file("component-descriptor.yaml", document)
        if layer_type.endswith("+tar")
        else document
    )
    layer = {
        "mediaType": layer_type,
        "digest": store.put_blob(repository, payload, layer_type),
        "size": len(payload),
    }
    others = [
        {"mediaType": mt, "digest": store.put_blob(repository, data, mt), "size": len(data)}
        for data, mt in extra_layers
    ]
    config = json.dumps({"componentDescriptorLayer": layer}).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": layout.MANIFEST,
        "config": {
            "mediaType": layout.CONFIG,
            "digest": store.put_blob(repository, config, layout.CONFIG),
            "size": len(config),
        },
        "layers": [layer, *others] if descriptor_first else [*others, layer],
    }
    return store.put_manifest(repository, tag, json.dumps(manifest).encode(), layout.MANIFEST)


def push_plain(store: WritableStore, name: str, version: str, tag: str = "") -> str:
    """A component version with no references or resources, at the root of the store."""
    document = sigsyaml.marshal(descriptor(name, version)).encode()
    return push(store, "", name, tag or version, document)


@pytest.fixture(params=["registry", "registry-basic-auth", "registry-token-auth", "ctf-dir"])
def target(request, tmp_path):
    """A repository to build into: the real registry (plain, htpasswd) or a CTF directory."""
    if request.param == "ctf-dir":
        return str(tmp_path / "ctf"), None
    registry = request.getfixturevalue(
        {
            "registry": "oci_registry",
            "registry-basic-auth": "oci_registry_basic_auth",
            "registry-token-auth": "oci_registry_token_auth",
        }[request.param]
    )
    prefix = f"ocm-{hashlib.sha256(str(tmp_path).encode()).hexdigest()[:8]}"
    docker = None
    if registry.username:
        docker = tmp_path / "docker-config.json"
        auth = f"{registry.username}:{registry.password}".encode()
        import base64

        docker.write_text(
            json.dumps({"auths": {registry.host: {"auth": base64.b64encode(auth).decode()}}})
        )
    return registry_repository(registry, prefix), docker


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_build_and_read_back_the_bootstrapper_test_graph(target, capsys, tmp_path):
    repository, docker = target
    auth = ["--docker-config", str(docker)] if docker else []
    code, out, err = cli(
        capsys, "ocm", "build", str(CASE / "component-constructor.yaml"), "--to", repository, *auth
    )
    assert code == 0, err
    assert len(out.splitlines()) == 9

    code, out, _ = cli(capsys, "ocm", "versions", f"{repository}//{ROOT}", *auth)
    assert (code, out) == (0, "v0.0.1\n")

    location = f"{repository}//{ROOT}:v0.0.1"
    code, out, _ = cli(capsys, "ocm", "get", location, "--recursive", "-o", "json", *auth)
    names = sorted((d["component"]["name"], d["component"]["version"]) for d in json.loads(out))
    assert (f"{ROOT}/releasechannel/crossplane", "v0.0.1") in names
    assert (f"{ROOT}/releasechannel/crossplane", "v0.0.2") in names and len(names) == 9

    code, out, err = cli(
        capsys,
        "ocm",
        "download",
        location,
        "gitops-templates/fluxcd",
        str(tmp_path / "fluxcd"),
        *auth,
    )
    assert code == 0, err
    source = CASE / "templates" / "fluxcd"
    for path in source.rglob("*"):
        if path.is_file():
            assert (
                tmp_path / "fluxcd" / path.relative_to(source)
            ).read_bytes() == path.read_bytes()

    # The graph holds both same-named crossplane references, found through releasechannel.
    repo = parse_location(location)
    from bot.ocm.credentials import CredentialStore

    creds = CredentialStore.from_texts(docker.read_text() if docker else None, None)
    graph = open_reader(repo.repository, credentials=creds).resolve(ROOT, "v0.0.1")
    assert [cv.version for cv in graph.by_reference("crossplane")] == ["v0.0.1", "v0.0.2"]
    assert graph.for_resource("fluxcd-source-controller") == [graph.root]


def test_wrong_registry_credentials_are_refused_without_showing_them(
    oci_registry_basic_auth, capsys, tmp_path
):
    docker = tmp_path / "docker.json"
    docker.write_text(
        json.dumps(
            {
                "auths": {
                    oci_registry_basic_auth.host: {
                        "username": "bot",
                        "password": "wrong-secret-value",
                    }
                }
            }
        )
    )
    location = f"{registry_repository(oci_registry_basic_auth, 'nothing')}//acme.io/x"
    code, _, err = cli(capsys, "ocm", "versions", location, "--docker-config", str(docker))
    assert code == 1 and "wrong-secret-value" not in err


@pytest.fixture
def ctf(tmp_path) -> tuple[CTFStore, str]:
    path = tmp_path / "ctf"
    return CTFStore(path, create=True), str(path)


def test_versions_sort_semver_and_skip_tags_that_are_not_versions(ctf):
    store, path = ctf

    def doc(version: str) -> bytes:
        return sigsyaml.marshal(descriptor("acme.io/app", version)).encode()

    for version in ("v1.10.0", "v1.2.0", "v1.10.0-rc.1", "v1.2.0+build.7", "v2.0.0"):
        push(store, "", "acme.io/app", layout.version_to_tag(version), doc(version))
    for alias in ("latest", "sha256-" + "a" * 64, "v2.0.0.sig", "not-a-version"):
        push(store, "", "acme.io/app", alias, doc("v2.0.0"))
    reader = open_reader(parse_repository(path))
    assert reader.list_versions("acme.io/app") == [
        "v1.2.0",
        "v1.2.0+build.7",
        "v1.10.0-rc.1",
        "v1.10.0",
        "v2.0.0",
    ]
    assert reader.get("acme.io/app", "v1.2.0+build.7").version == "v1.2.0+build.7"


def test_json_descriptor_layer_that_is_not_first(ctf):
    store, path = ctf
    document = json.dumps(descriptor("acme.io/json", "1.0.0")).encode()
    push(
        store,
        "",
        "acme.io/json",
        "1.0.0",
        document,
        layer_type="application/vnd.ocm.software.component-descriptor.v2+json",
        extra_layers=[(b"other", "application/octet-stream")],
        descriptor_first=False,
    )
    cv = open_reader(parse_repository(path)).get("acme.io/json", "1.0.0")
    assert (cv.name, cv.version, cv.provider) == ("acme.io/json", "1.0.0", "acme")


def test_v3alpha1_descriptor(ctf):
    store, path = ctf
    document = yaml.safe_dump(
        {
            "apiVersion": "ocm.software/v3alpha1",
            "kind": "ComponentVersion",
            "metadata": {"name": "acme.io/v3", "version": "0.1.0", "provider": {"name": "acme"}},
            "spec": {
                "references": [{"name": "dep", "componentName": "acme.io/dep", "version": "1.0.0"}],
                "resources": [
                    {
                        "name": "img",
                        "type": "ociImage",
                        "version": "0.1.0",
                        "access": {"type": "ociArtifact", "imageReference": "r/img:0.1.0"},
                    }
                ],
            },
        }
    ).encode()
    push(store, "", "acme.io/v3", "0.1.0", document)
    cv = open_reader(parse_repository(path)).get("acme.io/v3", "0.1.0")
    assert cv.schema == "ocm.software/v3alpha1" and cv.provider == "acme"
    assert cv.references[0].component_name == "acme.io/dep"
    assert cv.as_map()["component"]["resources"][0]["access"]["imageReference"] == "r/img:0.1.0"


def test_reference_found_two_levels_deep_and_gzip_directory(tmp_path):
    (tmp_path / "dir" / "sub").mkdir(parents=True)
    (tmp_path / "dir" / "sub" / "file.yaml").write_text("a: 1\n")
    constructor = tmp_path / "constructor.yaml"
    constructor.write_text(
        yaml.safe_dump(
            {
                "components": [
                    {
                        "name": "acme.io/root",
                        "version": "1.0.0",
                        "provider": {"name": "acme"},
                        "componentReferences": [
                            {
                                "name": "middle",
                                "componentName": "acme.io/middle",
                                "version": "1.0.0",
                            }
                        ],
                    },
                    {
                        "name": "acme.io/middle",
                        "version": "1.0.0",
                        "provider": {"name": "acme"},
                        "componentReferences": [
                            {"name": "leafref", "componentName": "acme.io/leaf", "version": "2.0.0"}
                        ],
                    },
                    {
                        "name": "acme.io/leaf",
                        "version": "2.0.0",
                        "provider": {"name": "acme"},
                        "resources": [
                            {
                                "name": "files",
                                "type": "fileSystem",
                                "input": {"type": "dir", "path": "dir", "compress": True},
                            }
                        ],
                    },
                ]
            }
        )
    )
    store = CTFStore(tmp_path / "ctf", create=True)
    build(constructor, store)
    graph = open_reader(parse_repository(str(tmp_path / "ctf"))).resolve("acme.io/root", "1.0.0")
    leaf = graph.by_reference("leafref")[0]
    assert leaf.key == ("acme.io/leaf", "2.0.0")
    files = leaf.resource("files")
    assert files is not None and files.access["mediaType"] == "application/x-tgz"
    reader = open_reader(parse_repository(str(tmp_path / "ctf")))
    assert reader.download_directory(leaf, "files", tmp_path / "out") == ["sub/file.yaml"]
    assert (tmp_path / "out" / "sub" / "file.yaml").read_text() == "a: 1\n"


@pytest.mark.parametrize("form", ["tar", "tgz"])
def test_ctf_archives_as_tar_and_tgz(tmp_path, form):
    store = CTFStore(tmp_path / "ctf", create=True)
    build(CASE / "component-constructor.yaml", store)
    archive = shutil.make_archive(
        str(tmp_path / "ctf-archive"), "gztar" if form == "tgz" else "tar", tmp_path / "ctf"
    )
    graph = open_reader(parse_location(f"{archive}//{ROOT}:v0.0.1").repository).resolve(
        ROOT, "v0.0.1"
    )
    assert len(graph.versions) == 9


def test_corrupted_blob_and_manifest_are_rejected(ctf):
    store, path = ctf
    push_plain(store, "acme.io/app", "1.0.0")
    blobs = sorted((Path(path) / "blobs").iterdir(), key=lambda p: p.stat().st_size)
    config = next(b for b in blobs if b"componentDescriptorLayer" in b.read_bytes())
    config.write_bytes(config.read_bytes() + b" ")  # same JSON, different bytes
    with pytest.raises(IntegrityError, match="digest mismatch"):
        open_reader(parse_repository(path)).get("acme.io/app", "1.0.0")


def test_index_child_manifest_is_verified(ctf):
    store, path = ctf
    repository = "component-descriptors/acme.io/idx"
    push(
        store,
        "",
        "acme.io/idx",
        "inner",
        sigsyaml.marshal(descriptor("acme.io/idx", "1.0.0")).encode(),
    )
    inner_digest = json.loads((Path(path) / "artifact-index.json").read_text())["artifacts"][0][
        "digest"
    ]
    index = {
        "schemaVersion": 2,
        "mediaType": layout.INDEX,
        "manifests": [
            {
                "mediaType": layout.MANIFEST,
                "digest": inner_digest,
                "size": 1,
                "annotations": {"software.ocm.descriptor": "true"},
            }
        ],
    }
    store.put_manifest(repository, "1.0.0", json.dumps(index).encode(), layout.INDEX)
    assert open_reader(parse_repository(path)).get("acme.io/idx", "1.0.0").version == "1.0.0"
    blob = Path(path) / "blobs" / inner_digest.replace(":", ".")
    blob.write_bytes(blob.read_bytes() + b"\n")
    with pytest.raises(IntegrityError):
        open_reader(parse_repository(path)).get("acme.io/idx", "1.0.0")


def _tar(entries: list[tuple[str, bytes | None, str | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data, link in entries:
            info = tarfile.TarInfo(name)
            if link is not None:
                info.type, info.linkname = tarfile.SYMTYPE, link
                archive.addfile(info)
            else:
                info.size = len(data or b"")
                archive.addfile(info, io.BytesIO(data or b""))
    return buffer.getvalue()


@pytest.mark.parametrize(
    "entries",
    [
        [("../escape.txt", b"x", None)],
        [("/etc/absolute", b"x", None)],
        [("ok/../../escape", b"x", None)],
        [("link", None, "../../outside")],
        [("link", None, "/etc/passwd")],
    ],
)
def test_directory_resources_that_would_escape_are_rejected(ctf, tmp_path, entries):
    store, path = ctf
    data = _tar(entries)
    repository = "component-descriptors/acme.io/evil"
    digest = store.put_blob(repository, data, "application/x-tar")
    document = descriptor(
        "acme.io/evil",
        "1.0.0",
        resources=[
            {
                "name": "files",
                "type": "fileSystem",
                "version": "1.0.0",
                "relation": "local",
                "access": {
                    "type": "localBlob",
                    "localReference": digest,
                    "mediaType": "application/x-tar",
                },
            }
        ],
    )
    push(
        store,
        "",
        "acme.io/evil",
        "1.0.0",
        sigsyaml.marshal(document).encode(),
        extra_layers=[(data, "application/x-tar")],
    )
    reader = open_reader(parse_repository(path))
    with pytest.raises(UnsafeArchive):
        reader.download_directory(reader.get("acme.io/evil", "1.0.0"), "files", tmp_path / "t")
    assert not (tmp_path / "escape.txt").exists()


def test_missing_things_are_named(ctf):
    _, path = ctf
    reader = open_reader(parse_repository(path))
    with pytest.raises(ComponentError, match=r"component acme\.io/none not found in"):
        reader.list_versions("acme.io/none")


def test_content_pushed_by_other_code_reads_through_the_cli(oci_registry, capsys, tmp_path):
    """Content in the OCM layout pushed with oras directly (as test_registry_peer does)."""
    from tests.integration.peers.test_registry_peer import DESCRIPTOR, push_component_version

    push_component_version(oci_registry, tmp_path)
    location = f"http://{oci_registry.host}/ocm//github.com/openmcp-project/openmcp"
    code, out, err = cli(capsys, "ocm", "versions", location)
    assert (code, out) == (0, "v0.0.1+build.7\n"), err
    code, out, _ = cli(capsys, "ocm", "get", location + ":v0.0.1+build.7")
    assert yaml.safe_load(out) == yaml.safe_load(DESCRIPTOR)


def test_disk_cache_serves_a_warm_resolve_and_polls_still_see_new_versions(oci_registry, tmp_path):
    repository = registry_repository(oci_registry, "cache-test")
    store = open_store(parse_repository(repository))
    build(CASE / "component-constructor.yaml", store, prefix="cache-test")
    repo = parse_repository(repository)
    cold = open_reader(repo, cache_dir=tmp_path / "cache")
    cold.resolve(ROOT, "v0.0.1")

    warm = open_reader(repo, cache_dir=tmp_path / "cache")
    inner = warm.store.inner  # type: ignore[attr-defined]
    inner._backend = "token"  # the /v2/ probe is once per process, not per resolve
    graph = warm.resolve(ROOT, "v0.0.1")
    assert len(graph.versions) == 9 and inner.requests == 0
    assert warm.list_versions(ROOT) == ["v0.0.1"] and inner.requests == 1

    # A new release shows up in the next poll, through the same cache.
    root = descriptor(ROOT, "v0.0.2")
    push(store, "cache-test", ROOT, "v0.0.2", sigsyaml.marshal(root).encode())
    assert warm.list_versions(ROOT) == ["v0.0.1", "v0.0.2"]


def test_damaged_cache_entries_are_fetched_again(ctf, tmp_path):
    store, path = ctf
    push_plain(store, "acme.io/app", "1.0.0")
    cache = tmp_path / "cache"
    open_reader(parse_repository(path), cache_dir=cache).get("acme.io/app", "1.0.0")
    for entry in (cache / "blobs").rglob("*"):
        if entry.is_file():
            entry.write_bytes(b"garbage")
    cv = open_reader(parse_repository(path), cache_dir=cache).get("acme.io/app", "1.0.0")
    assert cv.version == "1.0.0"


def test_versions_follow_link_pagination(oci_registry, tmp_path):
    """GHCR pages tag lists; the Debian registry does not, so a proxy in front does."""
    from tests.peers.registry_proxy import run_registry_proxy

    store = open_store(parse_repository(registry_repository(oci_registry, "paged")))
    versions = [f"1.{minor}.0" for minor in range(12)]
    for version in versions:
        document = sigsyaml.marshal(descriptor("acme.io/paged", version)).encode()
        push(store, "paged", "acme.io/paged", version, document)
    with run_registry_proxy(oci_registry.host, page=5) as proxy:
        first = requests.get(
            f"http://{proxy.host}/v2/paged/component-descriptors/acme.io/paged/tags/list",
            timeout=10,
        )
        assert len(first.json()["tags"]) == 5 and 'rel="next"' in first.headers["Link"]
        reader = open_reader(parse_repository(f"http://{proxy.host}/paged"))
        assert reader.list_versions("acme.io/paged") == versions
        assert reader.get("acme.io/paged", "1.11.0").version == "1.11.0"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_slow_registry_shows_progress_on_a_terminal_and_nothing_elsewhere(
    oci_registry, tmp_path, monkeypatch
):
    from bot.cli import progress
    from tests.peers.registry_proxy import run_registry_proxy

    store = open_store(parse_repository(registry_repository(oci_registry, "slow")))
    document = sigsyaml.marshal(descriptor("acme.io/slow", "1.0.0")).encode()
    push(store, "slow", "acme.io/slow", "1.0.0", document)
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)  # shown at once, not after a moment
    monkeypatch.setenv("TERM", "xterm")
    with run_registry_proxy(oci_registry.host) as proxy:
        proxy.delay = 0.05
        location = f"http://{proxy.host}/slow//acme.io/slow"
        for stream, shown in [(Terminal(), True), (io.StringIO(), False)]:
            out = io.StringIO()
            monkeypatch.setattr(sys, "stdout", out)
            monkeypatch.setattr(sys, "stderr", stream)
            assert main(["ocm", "get", location]) == 0
            assert "\033" not in out.getvalue() and "acme.io/slow" in out.getvalue()
            told = stream.getvalue()
            if not shown:
                assert told == ""
                continue
            assert (
                "\r\033[Kreading slow/component-descriptors/acme.io/slow (versions) (0 read" in told
            )
            assert "\r\033[Kreading slow/component-descriptors/acme.io/slow:1.0.0 (1 read" in told
            assert told.endswith("\r\033[K")  # the line is gone when the command prints
        # a terminal that cannot rewrite a line shows nothing
        monkeypatch.setenv("TERM", "dumb")
        monkeypatch.setattr(sys, "stderr", quiet := Terminal())
        assert main(["ocm", "get", location]) == 0
        assert quiet.getvalue() == ""
