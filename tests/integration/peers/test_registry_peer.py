"""The registry peer is a real OCI registry: push an OCM component version and read it back."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import oras.defaults
import oras.provider
import pytest
import requests

from tests.peers.registry import Registry

pytestmark = pytest.mark.peers

CONFIG_MEDIA_TYPE = "application/vnd.ocm.software.component.config.v1+json"
DESCRIPTOR_MEDIA_TYPE = "application/vnd.ocm.software.component-descriptor.v2+yaml+tar"
DESCRIPTOR = b"""meta:
  schemaVersion: v2
component:
  name: github.com/openmcp-project/openmcp
  version: v0.0.1+build.7
  provider: openmcp-project
  repositoryContexts: []
  resources: []
  sources: []
  componentReferences: []
"""


def _descriptor(media_type: str, data: bytes) -> dict[str, object]:
    return {
        "mediaType": media_type,
        "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }


def _tar(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _client(registry: Registry) -> oras.provider.Registry:
    if not (registry.username and registry.password):
        return oras.provider.Registry(hostname=registry.host, insecure=True)
    # An htpasswd registry answers with a Basic challenge; oras' default token backend would
    # take its realm for a token service URL.
    client = oras.provider.Registry(hostname=registry.host, insecure=True, auth_backend="basic")
    client.auth.set_basic_auth(registry.username, registry.password)
    return client


def push_component_version(registry: Registry, tmp_path: Path) -> tuple[str, dict[str, object]]:
    client = _client(registry)
    # OCM maps "+" in versions to ".build-" in tags.
    ref = f"{registry.host}/ocm/component-descriptors/github.com/openmcp-project/openmcp"
    container = client.get_container(f"{ref}:v0.0.1.build-build.7")
    layer = _tar("component-descriptor.yaml", DESCRIPTOR)
    layer_desc = _descriptor(DESCRIPTOR_MEDIA_TYPE, layer)
    config = json.dumps({"componentDescriptorLayer": layer_desc}).encode()
    config_desc = _descriptor(CONFIG_MEDIA_TYPE, config)
    for desc, data in ((layer_desc, layer), (config_desc, config)):
        blob = tmp_path / str(desc["digest"]).removeprefix("sha256:")
        blob.write_bytes(data)
        assert client.upload_blob(str(blob), container, desc).status_code in (200, 201, 202)
    manifest = {
        "schemaVersion": 2,
        "mediaType": oras.defaults.default_manifest_media_type,
        "config": config_desc,
        "layers": [layer_desc],
    }
    response = client.upload_manifest(manifest, container)
    assert response.status_code == 201
    return ref, manifest


@pytest.mark.parametrize("which", ["oci_registry", "oci_registry_basic_auth"])
def test_push_and_read_back_a_component_version(which, request, tmp_path):
    registry: Registry = request.getfixturevalue(which)
    ref, manifest = push_component_version(registry, tmp_path)

    client = _client(registry)
    container = client.get_container(f"{ref}:v0.0.1.build-build.7")
    assert "v0.0.1.build-build.7" in client.get_tags(client.get_container(ref))
    read = client.get_manifest(container)
    assert read["config"] == manifest["config"]
    layer = client.get_blob(container, read["layers"][0]["digest"]).content
    assert hashlib.sha256(layer).hexdigest() == read["layers"][0]["digest"].removeprefix("sha256:")
    with tarfile.open(fileobj=io.BytesIO(layer)) as archive:
        member = archive.extractfile("component-descriptor.yaml")
        assert member is not None and member.read() == DESCRIPTOR


def test_registry_with_basic_auth_refuses_anonymous_and_wrong_credentials(
    oci_registry_basic_auth,
):
    url = f"{oci_registry_basic_auth.url}/v2/"
    assert requests.get(url, timeout=5).status_code == 401
    wrong = requests.get(url, auth=(oci_registry_basic_auth.username, "wrong"), timeout=5)
    assert wrong.status_code == 401
    right = requests.get(
        url, auth=(oci_registry_basic_auth.username, oci_registry_basic_auth.password), timeout=5
    )
    assert right.status_code == 200


def test_registry_listens_on_loopback_only(oci_registry):
    assert oci_registry.host.startswith("127.0.0.1:")
