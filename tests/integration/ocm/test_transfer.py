"""`bootstrap-bot ocm transfer`: component versions and what they reference copied into another
repository, as `ocm transfer componentversion --recursive --copy-resources` does. Against real
registries (Debian's, one with htpasswd auth) and CTF targets; OCI artifacts copied by skopeo."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli.main import main
from bot.ocm import artifact_set, layout, open_reader, open_store
from bot.ocm.location import parse_repository
from bot.ocm.reader import ComponentError
from bot.ocm.skopeo import CopyFailed, SkopeoCopier
from bot.ocm.store import WritableStore
from bot.ocm.transfer import reference_hint, transfer
from tests.peers.registry import Registry
from tests.peers.registry_proxy import run_registry_proxy
from tests.reference_case import CASE, ROOT_COMPONENT, config_text, expected_tree, landscape_tree

pytestmark = pytest.mark.peers
INDEX = "application/vnd.oci.image.index.v1+json"
IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def image(
    store: WritableStore, repository: str, tag: str, *arches: str, attested: bool = False
) -> str:
    """A small multi-arch image: an index over one manifest per architecture (and, `attested`,
    a provenance attestation as `docker buildx` adds one); its digest."""
    manifests: list[dict[str, Any]] = []
    for arch in arches:
        layer = store.put_blob(repository, f"layer of {arch}".encode(), LAYER)
        config = json.dumps({"architecture": arch, "os": "linux"}).encode()
        config_digest = store.put_blob(repository, config, IMAGE_CONFIG)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": layout.MANIFEST,
            "config": {"mediaType": IMAGE_CONFIG, "digest": config_digest,
                       "size": len(config)},
            "layers": [{"mediaType": LAYER, "digest": layer, "size": 12 + len(arch)}],
        }).encode()  # fmt: skip
        digest = store.put_manifest(repository, f"{tag}-{arch}", manifest, layout.MANIFEST)
        manifests.append({"mediaType": layout.MANIFEST, "digest": digest, "size": len(manifest),
                          "platform": {"architecture": arch, "os": "linux"}})  # fmt: skip
    if attested:
        manifests.append(_attestation(store, repository, manifests[0]["digest"]))
    index = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests}).encode()
    return store.put_manifest(repository, tag, index, INDEX)


def _attestation(store: WritableStore, repository: str, subject: str) -> dict[str, Any]:
    """An in-toto attestation manifest for `subject`, as an index entry (buildx's layout)."""
    statement = json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "https://slsa.dev/provenance/v0.2",
        }
    ).encode()
    layer = store.put_blob(repository, statement, "application/vnd.in-toto+json")
    config = b"{}"
    config_digest = store.put_blob(repository, config, IMAGE_CONFIG)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": layout.MANIFEST,
        "config": {"mediaType": IMAGE_CONFIG, "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": layer,
                    "size": len(statement),
                    "annotations": {"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}}],
    }).encode()  # fmt: skip
    digest = store.put_manifest(repository, subject.replace(":", "-") + ".att", manifest,
                                layout.MANIFEST)  # fmt: skip
    return {"mediaType": layout.MANIFEST, "digest": digest, "size": len(manifest),
            "platform": {"architecture": "unknown", "os": "unknown"},
            "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                            "vnd.docker.reference.digest": subject}}  # fmt: skip


def chart(store: WritableStore, repository: str, tag: str) -> str:
    """A Helm chart as an OCI artifact, as `helm push` stores one; its digest."""
    content = b"\x1f\x8b chart bytes"
    layer = store.put_blob(repository, content, HELM_CHART)
    config = json.dumps({"name": "eso", "version": tag}).encode()
    config_digest = store.put_blob(repository, config, HELM_CONFIG)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": layout.MANIFEST,
        "config": {"mediaType": HELM_CONFIG, "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": HELM_CHART, "digest": layer, "size": len(content)}],
    }).encode()  # fmt: skip
    return store.put_manifest(repository, tag, manifest, layout.MANIFEST)


def constructor(path: Path, resources: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"components": [{
        "name": "acme.io/app", "version": "v1.0.0", "provider": {"name": "acme"},
        "resources": resources,
    }]}))  # fmt: skip
    return path


def app_artifacts(repository: str, image_digest: str = "") -> list[dict[str, Any]]:
    """The resources naming the image (`image`) and the chart (`chart`) of acme.io/app pushed
    under `repository`; the image pinned when its digest is given."""
    pinned = f"@{image_digest}" if image_digest else ""
    return [
        {"name": "app-image", "version": "v1", "type": "ociImage",
         "access": {"type": "ociArtifact",
                    "imageReference": f"{repository}/images/app:v1{pinned}"}},
        {"name": "app-chart", "version": "1.0.0", "type": "helmChart",
         "access": {"type": "ociArtifact",
                    "imageReference": f"{repository}/charts/app:1.0.0"}},
    ]  # fmt: skip


def docker_config(path: Path, registry: Registry) -> Path:
    auth = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
    path.write_text(json.dumps({"auths": {registry.host: {"auth": auth}}}))
    return path


def test_the_reference_hint_drops_the_source_prefix_and_keeps_the_tag():
    source = parse_repository("ghcr.io/openmcp-project/components")
    hint = reference_hint("ghcr.io/openmcp-project/components/images/x:v1@sha256:ab", source)
    assert hint == "images/x:v1"
    assert reference_hint("ghcr.io/fluxcd/source-controller:v1.9.4", source) == (
        "fluxcd/source-controller:v1.9.4"
    )
    assert reference_hint("mirror:5000/eso/controller", source) == "eso/controller"
    assert reference_hint("nginx:1.27", source) == "nginx:1.27"


def test_images_with_an_index_and_a_chart_are_copied_by_value_into_a_registry_with_auth(
    capsys, tmp_path, oci_registry, oci_registry_basic_auth
):
    """Source: the plain registry; target: the one with htpasswd auth."""
    run = secrets.token_hex(4)
    upstream = open_store(parse_repository(f"http://{oci_registry.host}/up-{run}"))
    index = image(upstream, f"up-{run}/images/app", "v1", "amd64", "arm64", attested=True)
    chart_digest = chart(upstream, f"up-{run}/charts/app", "1.0.0")
    build = constructor(tmp_path / "c.yaml", [
        *app_artifacts(f"{oci_registry.host}/up-{run}", index),
        {"name": "manifests", "type": "directoryTree",
         "input": {"type": "dir", "path": "manifests"}},
    ])  # fmt: skip
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "deploy.yaml").write_text("kind: ConfigMap\n")
    source = f"{oci_registry.host}/up-{run}"
    assert cli(capsys, "ocm", "build", str(build), "--to", source, "--plain-http-loopback")[0] == 0

    target = f"{oci_registry_basic_auth.host}/mirror-{run}"
    auth = ["--docker-config", str(docker_config(tmp_path / "auth.json", oci_registry_basic_auth))]
    code, out, err = cli(
        capsys, "ocm", "transfer", f"{source}//acme.io/app:v1.0.0", target,
        "--plain-http-loopback", *auth,
    )  # fmt: skip
    assert code == 0, err + out
    assert 'transferring version "acme.io/app:v1.0.0"...' in out
    assert "...resource 0 app-image[ociImage]" in out and "(copy)" in out
    assert out.splitlines()[-2] == "1 versions transferred"

    # the descriptor in the target points at the copies, which have the source's digests
    reader = open_reader(parse_repository(target), **_creds(tmp_path))
    cv = reader.get("acme.io/app", "v1.0.0")
    moved = {r.name: str(r.access.get("imageReference")) for r in cv.resources if r.access}
    assert moved["app-image"] == f"{target}/images/app:v1@{index}"
    assert moved["app-chart"] == f"{target}/charts/app:1.0.0@{chart_digest}"
    store = reader.store
    data, media_type = store.get_manifest(f"mirror-{run}/images/app", "v1")
    assert media_type == INDEX and layout.digest_of(data) == index
    children = json.loads(data)["manifests"]
    assert len(children) == 3  # every architecture came along, and the attestation
    for child in children:
        store.get_manifest(f"mirror-{run}/images/app", child["digest"])
    data, _ = store.get_manifest(f"mirror-{run}/charts/app", "1.0.0")
    assert json.loads(data)["config"]["mediaType"] == HELM_CONFIG
    context = cv.raw["component"]["repositoryContexts"][-1]
    assert context == {"baseUrl": oci_registry_basic_auth.host, "componentNameMapping": "urlPath",
                       "type": "OCIRegistry", "subPath": f"mirror-{run}"}  # fmt: skip
    assert reader.read_directory(cv, "manifests") == {"deploy.yaml": b"kind: ConfigMap\n"}

    # a re-run copies nothing
    code, out, _ = cli(
        capsys, "ocm", "transfer", f"{source}//acme.io/app:v1.0.0", target,
        "--plain-http-loopback", *auth,
    )  # fmt: skip
    assert code == 0
    assert 'version "acme.io/app:v1.0.0" already present -> skip transport' in out
    assert "0 blobs (0 bytes) and 0 OCI artifacts copied; 1 versions present" in out


def test_the_air_gap_images_go_into_an_archive_as_artifact_sets_and_out_into_a_registry(
    capsys, tmp_path, oci_registry, oci_registry_basic_auth
):
    """Registry → CTF (what is carried in) → the registry inside, with auth: each OCI artifact
    is a local blob in the archive, as ocm stores one, and the OCI artifact again in the end,
    with the digest it had upstream."""
    run = secrets.token_hex(4)
    upstream = open_store(parse_repository(f"http://{oci_registry.host}/up-{run}"))
    index = image(upstream, f"up-{run}/images/app", "v1", "amd64", "arm64", attested=True)
    chart_digest = chart(upstream, f"up-{run}/charts/app", "1.0.0")
    build = constructor(tmp_path / "c.yaml", [
        *app_artifacts(f"{oci_registry.host}/up-{run}", index),
    ])  # fmt: skip
    source = f"{oci_registry.host}/up-{run}"
    assert cli(capsys, "ocm", "build", str(build), "--to", source, "--plain-http-loopback")[0] == 0

    carried = tmp_path / "carried.tgz"  # an archive file, as one is carried in
    code, out, err = cli(capsys, "ocm", "transfer", f"{source}//acme.io/app:v1.0.0",
                         str(carried), "--plain-http-loopback")  # fmt: skip
    assert code == 0, err + out
    assert "...resource 0 app-image[ociImage](images/app:v1)(copy)..." in out
    reader = open_reader(parse_repository(str(carried)))
    cv = reader.get("acme.io/app", "v1.0.0")
    accesses = {r.name: dict(r.access) for r in cv.resources}
    assert accesses["app-image"]["type"] == "localBlob"
    assert accesses["app-image"]["mediaType"] == "application/vnd.oci.image.index.v1+tar+gzip"
    assert accesses["app-image"]["referenceName"] == "images/app:v1"
    assert accesses["app-chart"]["mediaType"] == "application/vnd.oci.image.manifest.v1+tar+gzip"
    assert not cv.raw["component"]["repositoryContexts"][1:]  # an archive is not appended
    for name, digest in (("app-image", index), ("app-chart", chart_digest)):
        saved = tmp_path / f"{name}.set"
        reader.save_blob(cv, accesses[name]["localReference"], saved)
        assert artifact_set.unpack(saved, tmp_path / f"{name}-layout")[0] == digest
    rerun = cli(capsys, "ocm", "transfer", f"{source}//acme.io/app:v1.0.0", str(carried),
                "--plain-http-loopback")  # fmt: skip
    assert "already present -> skip transport" in rerun[1]
    assert carried.read_bytes()[:2] == b"\x1f\x8b" and not list(tmp_path.glob("bootstrap-bot-*"))

    inside = f"{oci_registry_basic_auth.host}/inside-{run}"
    auth = ["--docker-config", str(docker_config(tmp_path / "auth.json", oci_registry_basic_auth))]
    code, out, err = cli(capsys, "ocm", "transfer", str(carried), inside,
                         "--plain-http-loopback", *auth)  # fmt: skip
    assert code == 0, err + out
    assert f"...resource 0 app-image[ociImage]({inside}/images/app:v1@{index})(copy)..." in out
    landed = open_reader(parse_repository(inside), **_creds(tmp_path))
    cv = landed.get("acme.io/app", "v1.0.0")
    moved = {r.name: dict(r.access) for r in cv.resources}
    assert moved["app-image"] == {
        "type": "ociArtifact",
        "imageReference": f"{inside}/images/app:v1@{index}",
    }
    assert moved["app-chart"] == {
        "type": "ociArtifact",
        "imageReference": f"{inside}/charts/app:1.0.0@{chart_digest}",
    }
    data, _ = landed.store.get_manifest(f"inside-{run}/images/app", "v1")
    assert layout.digest_of(data) == index
    children = json.loads(data)["manifests"]
    assert len(children) == 3  # both architectures and the attestation came through the set
    for child in children:
        landed.store.get_manifest(f"inside-{run}/images/app", child["digest"])
    assert len(landed.layer_sizes(cv)) == 1  # the descriptor's: no artifact is local any more
    again = cli(capsys, "ocm", "transfer", str(carried), inside, "--plain-http-loopback", *auth)
    assert "already present -> skip transport" in again[1]


def test_skopeo_tells_each_step_of_a_copy_as_it_goes(oci_registry):
    """What the CLI's progress line shows while an artifact is copied."""
    run = secrets.token_hex(4)
    store = open_store(parse_repository(f"http://{oci_registry.host}/p-{run}"))
    image(store, f"p-{run}/images/app", "v1", "amd64", "arm64")
    lines: list[str] = []
    copier = SkopeoCopier(plain_http=lambda _host: True, on_line=lines.append)
    source = f"{oci_registry.host}/p-{run}/images/app:v1"
    digest = copier.copy(source, f"{oci_registry.host}/q-{run}/images/app:v1")
    assert digest == copier.digest(source)
    assert lines and all(line.startswith(f"{source}: ") for line in lines)
    assert any("Copying blob" in line for line in lines)
    assert any("Writing manifest" in line for line in lines)


def test_an_interrupted_transfer_run_again_copies_only_what_is_missing(tmp_path, oci_registry):
    """The target behind a proxy that lists what reaches it: after a run cut off at the chart,
    the run again uploads the chart and the descriptor, and no blob of the image again."""
    run = secrets.token_hex(4)
    upstream = open_store(parse_repository(f"http://{oci_registry.host}/up-{run}"))
    image(upstream, f"up-{run}/images/app", "v1", "amd64", "arm64")
    chart(upstream, f"up-{run}/charts/app", "1.0.0")
    (tmp_path / "blob.bin").write_bytes(b"local blob")
    build = constructor(tmp_path / "c.yaml", [
        {"name": "data", "type": "blob", "input": {"type": "file", "path": "blob.bin"}},
        *app_artifacts(f"{oci_registry.host}/up-{run}"),
    ])  # fmt: skip
    source = parse_repository(f"http://{oci_registry.host}/up-{run}")
    argv = ["ocm", "build", str(build), "--to", f"{oci_registry.host}/up-{run}"]
    assert main([*argv, "--plain-http-loopback"]) == 0

    class BrokenOff(SkopeoCopier):
        def copy(self, source: str, target: str) -> str:
            if "/charts/" in source:
                raise CopyFailed(f"copying {source}: the connection was cut")
            return super().copy(source, target)

    with run_registry_proxy(oci_registry.host) as proxy:
        target = parse_repository(f"http://{proxy.host}/mirror-{run}")
        wanted = [("acme.io/app", "v1.0.0")]
        broken = BrokenOff(plain_http=lambda _host: True)
        first = transfer(open_reader(source), wanted, open_store(target), target, copier=broken)
        assert first.errors == [
            f"copying {oci_registry.host}/up-{run}/charts/app:1.0.0: the connection was cut"
        ]
        with pytest.raises(ComponentError):  # the descriptor comes last: the version is absent
            open_reader(target).get("acme.io/app", "v1.0.0")

        proxy.requests.clear()
        copier = SkopeoCopier(plain_http=lambda _host: True)
        again = transfer(open_reader(source), wanted, open_store(target), target, copier=copier)
        assert again.errors == [] and again.transferred == 1
        uploads = [path for method, path in proxy.requests if method == "POST"]
        assert [p for p in uploads if "/charts/app/" in p]  # what was missing is sent
        assert not [p for p in uploads if "/images/app/" in p]  # what was there is not
        descriptors = [p for p in uploads if "/component-descriptors/acme.io/app/" in p]
        assert len(descriptors) == 2  # the descriptor's tar and config; the local blob was there
        assert open_reader(target).get("acme.io/app", "v1.0.0").name == "acme.io/app"


def _creds(tmp_path: Path) -> dict[str, Any]:
    from bot.ocm.credentials import CredentialStore

    text = (tmp_path / "auth.json").read_text()
    return {"credentials": CredentialStore.from_texts(text, None), "plain_http_loopback": True}


def test_the_reference_release_transferred_renders_as_the_original_but_for_its_location(
    capsys, tmp_path, oci_registry
):
    """The Go tool's test graph, from the bundled archive into a registry and a CTF, without
    copying its OCI artifacts (they name registries the tests may not reach)."""
    archive = str(CASE.parents[2].parent / "examples" / "openmcp.ctf.tgz")
    run = secrets.token_hex(4)
    for target in (f"{oci_registry.host}/mirror-{run}", str(tmp_path / "mirror-ctf")):
        code, out, err = cli(
            capsys, "ocm", "transfer", f"{archive}//{ROOT_COMPONENT}:v0.0.1", target,
            "--no-copy-resources", "--plain-http-loopback",
        )  # fmt: skip
        assert code == 0, err + out
        assert out.count("transferring version") == 9
        assert "9 versions transferred" in out
        location = f"{target}//{ROOT_COMPONENT}:v0.0.1"
        landscape = tmp_path / f"landscape-{len(target)}"
        for path, data in landscape_tree(config_text(location)).items():
            (landscape / path).parent.mkdir(parents=True, exist_ok=True)
            (landscape / path).write_bytes(data)
        code, _, err = cli(capsys, "render", "--repo", str(landscape), "--plain-http-loopback")
        assert code == 0, err
        rendered = {
            p.relative_to(landscape).as_posix(): p.read_bytes()
            for p in landscape.rglob("*")
            if p.is_file() and not p.relative_to(landscape).as_posix().startswith(".bootstrap")
        }
        assert rendered == expected_tree(target)


def test_a_version_that_differs_in_the_target_is_not_overwritten(capsys, tmp_path):
    one = constructor(tmp_path / "one.yaml", [])
    other = tmp_path / "other.yaml"
    other.write_text(one.read_text().replace("name: acme\n", "name: someone-else\n"))
    assert other.read_text() != one.read_text()
    source, target = str(tmp_path / "source"), str(tmp_path / "target")
    assert cli(capsys, "ocm", "build", str(one), "--to", source)[0] == 0
    assert cli(capsys, "ocm", "build", str(other), "--to", target)[0] == 0
    code, out, _ = cli(capsys, "ocm", "transfer", source, target)
    assert code == 1
    assert (
        'error: version "acme.io/app:v1.0.0" already present, but differs -> transport aborted '
        "(use option overwrite option to enforce transport)"
    ) in out
    assert out.splitlines()[-1] == "transfer finished with 1 error(s)"


def test_a_dry_run_writes_nothing(capsys, tmp_path):
    source, target = str(tmp_path / "source"), tmp_path / "target"
    (tmp_path / "x.txt").write_text("x")
    build = constructor(tmp_path / "c.yaml", [
        {"name": "x", "type": "blob", "input": {"type": "file", "path": "x.txt"}},
    ])  # fmt: skip
    assert cli(capsys, "ocm", "build", str(build), "--to", source)[0] == 0
    code, out, _ = cli(capsys, "ocm", "transfer", source, str(target), "--dry-run")
    assert code == 0 and "1 blobs (" in out and "would be copied" in out
    assert not target.exists()


def test_a_local_blob_larger_than_what_is_read_into_memory_moves_as_a_file(
    capsys, tmp_path, monkeypatch
):
    """An artifact set is a whole image: a transfer never holds a local blob in memory."""
    from bot.ocm import ctf

    (tmp_path / "big.bin").write_bytes(secrets.token_bytes(3 * 1024 * 1024))
    build = constructor(tmp_path / "c.yaml", [
        {"name": "big", "type": "blob", "input": {"type": "file", "path": "big.bin"}},
    ])  # fmt: skip
    assert cli(capsys, "ocm", "build", str(build), "--to", str(tmp_path / "source.tgz"))[0] == 0
    monkeypatch.setattr(ctf, "MAX_BLOB_BYTES", 1024 * 1024)
    code, out, err = cli(capsys, "ocm", "transfer", str(tmp_path / "source.tgz"),
                         str(tmp_path / "target"))  # fmt: skip
    assert code == 0, err + out
    assert "1 blobs (3,145,728 bytes)" in out
    reader = open_reader(parse_repository(str(tmp_path / "target")))
    cv = reader.get("acme.io/app", "v1.0.0")
    saved = tmp_path / "saved"
    reader.save_blob(cv, str(cv.resources[0].access["localReference"]), saved)
    assert saved.read_bytes() == (tmp_path / "big.bin").read_bytes()


def test_what_counts_as_the_same_version_is_what_a_signature_covers():
    from bot.ocm.transfer import _signed_part

    def descriptor(**resource: Any) -> dict[str, Any]:
        base = {"name": "x", "version": "v1", "type": "blob",
                "access": {"type": "localBlob", "localReference": "sha256:1"},
                "digest": {"value": "1"}, "labels": []}  # fmt: skip
        return {"component": {"name": "c", "version": "v1", "repositoryContexts": [],
                              "resources": [{**base, **resource}]}}  # fmt: skip

    same = _signed_part(descriptor())
    assert _signed_part(descriptor(access={"type": "ociArtifact", "imageReference": "y"})) == same
    assert _signed_part(descriptor(labels=[{"name": "note", "value": "a"}])) == same
    assert _signed_part(descriptor(labels=[{"name": "n", "value": "a", "signing": True}])) != same
    assert _signed_part(descriptor(digest={"value": "2"})) != same
