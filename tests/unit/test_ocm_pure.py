"""The pure parts of the OCM client: locations, descriptors, tags, credentials, the graph."""

from __future__ import annotations

import base64
import io
import json
import tarfile

import pytest

from bot.ocm import layout
from bot.ocm.credentials import Credentials, CredentialStore
from bot.ocm.graph import ComponentGraph, GraphError
from bot.ocm.location import LocationError, parse_location
from bot.ocm.model import ComponentVersion, DescriptorError, parse_descriptor
from bot.ocm.reader import UnsafeArchive, read_tar


@pytest.mark.parametrize(
    ("text", "kind", "host", "prefix", "plain", "path", "component", "version"),
    [
        (
            "ghcr.io/openmcp-project/components//github.com/openmcp-project/openmcp:v1.0.17",
            "oci",
            "ghcr.io",
            "openmcp-project/components",
            False,
            "",
            "github.com/openmcp-project/openmcp",
            "v1.0.17",
        ),
        (
            "oci::http://localhost:5000/ocm//github.com/acme/x:1.0.0",
            "oci",
            "localhost:5000",
            "ocm",
            True,
            "",
            "github.com/acme/x",
            "1.0.0",
        ),
        ("https://ghcr.io//acme.io/x", "oci", "ghcr.io", "", False, "", "acme.io/x", None),
        (
            "/tmp/ctf//github.com/openmcp-project/openmcp:v0.0.1",
            "ctf",
            "",
            "",
            False,
            "/tmp/ctf",
            "github.com/openmcp-project/openmcp",
            "v0.0.1",
        ),
        ("../../ctf//acme.io/x", "ctf", "", "", False, "../../ctf", "acme.io/x", None),
        ("archive.tgz//acme.io/x:1", "ctf", "", "", False, "archive.tgz", "acme.io/x", "1"),
        (
            "ctf::registry.example//acme.io/x",
            "ctf",
            "",
            "",
            False,
            "registry.example",
            "acme.io/x",
            None,
        ),
        (
            "127.0.0.1:5000//acme.io/x:1.0.0+build.1",
            "oci",
            "127.0.0.1:5000",
            "",
            False,
            "",
            "acme.io/x",
            "1.0.0+build.1",
        ),
    ],
)
def test_locations(text, kind, host, prefix, plain, path, component, version):
    location = parse_location(text)
    repo = location.repository
    assert (repo.kind, repo.host, repo.prefix, repo.plain_http, repo.path) == (
        kind,
        host,
        prefix,
        plain,
        path,
    )
    assert (location.component, location.version) == (component, version)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ghcr.io/acme/acme.io/x", "invalid component location format"),
        ("ghcr.io//", "no component name"),
        ("bogus::ghcr.io//x", "unknown repository type"),
        ("//acme.io/x", "repository part is empty"),
    ],
)
def test_bad_locations(text, message):
    with pytest.raises(LocationError, match=message):
        parse_location(text)


def test_component_paths_and_loopback():
    repo = parse_location("http://127.0.0.1:5000/p/q//acme.io/x").repository
    assert repo.component_path("acme.io/x") == "p/q/component-descriptors/acme.io/x"
    assert repo.is_loopback and not parse_location("ghcr.io//a.io/x").repository.is_loopback


def test_tags_and_versions():
    assert layout.version_to_tag("1.2.3+ci.42") == "1.2.3.build-ci.42"
    assert layout.tag_to_version("1.2.3.build-a.build-b") == "1.2.3.build-a+b"
    tags = ["v1.0.0", "latest", "v0.9", "sha256-" + "f" * 64, "v1.0.0.sig", "v1.0.0-rc.1", "x"]
    assert layout.versions_from_tags(tags) == ["v0.9", "v1.0.0-rc.1", "v1.0.0"]


def test_descriptor_v2_with_yaml_11_surprises_and_null_lists():
    cv = parse_descriptor(
        "meta: {schemaVersion: v2}\n"
        "component:\n  name: acme.io/x\n  version: 1.10\n"
        '  provider: \'{"name": "acme", "labels": []}\'\n'
        "  componentReferences: ~\n"
        "  resources:\n  - {name: data, type: blob, relation: local, access: {type: localBlob}}\n"
    )
    assert (cv.version, cv.provider, cv.references) == ("1.1", "acme", ())
    assert cv.resources[0].version == "1.1" and cv.resources[0].is_local_blob
    assert cv.as_map()["component"]["componentReferences"] is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: Other", "not a component descriptor"),
        (
            "meta: {schemaVersion: v3}\ncomponent: {name: a, version: b}",
            "unsupported schemaVersion",
        ),
        ("meta: {schemaVersion: v2}\napiVersion: ocm.software/v3alpha1", "both"),
        ("meta: {schemaVersion: v2}\ncomponent: {name: a}", "without a name or version"),
        (
            "meta: {schemaVersion: v2}\ncomponent: {name: a, version: 1, resources: x}",
            "must be a list",
        ),
        ("a: [", "not valid YAML"),
    ],
)
def test_bad_descriptors(text, message):
    with pytest.raises(DescriptorError, match=message):
        parse_descriptor(text)


def _cv(
    name: str,
    version: str,
    refs: tuple[tuple[str, str, str], ...] = (),
    resources: tuple[str, ...] = (),
) -> ComponentVersion:
    refs_yaml = [{"name": r, "componentName": c, "version": v} for r, c, v in refs]
    res_yaml = [
        {"name": n, "type": "blob", "version": version, "access": {"type": "none"}}
        for n in resources
    ]
    doc = {
        "meta": {"schemaVersion": "v2"},
        "component": {
            "name": name,
            "version": version,
            "provider": "p",
            "componentReferences": refs_yaml,
            "resources": res_yaml,
        },
    }
    return parse_descriptor(json.dumps(doc))


def test_graph_search_order_cycles_and_go_messages():
    root = _cv("a.io/root", "1", (("x", "a.io/x", "1"), ("y", "a.io/y", "1")))
    x = _cv("a.io/x", "1", (("loop", "a.io/root", "1"),))
    y = _cv("a.io/y", "1", (("dup", "a.io/d", "1"), ("dup", "a.io/d", "2")), ("res",))
    d1, d2 = _cv("a.io/d", "1"), _cv("a.io/d", "2", resources=("res",))
    graph = ComponentGraph(root, {cv.key: cv for cv in (root, x, y, d1, d2)})
    assert [cv.version for cv in graph.by_reference("dup")] == ["1", "2"]
    assert graph.for_resource("res") == [y]  # depth-first: y itself before its children
    with pytest.raises(
        GraphError, match=r"component reference nope not found in component version a\.io/root or"
    ):
        graph.by_reference("nope")
    with pytest.raises(
        GraphError, match=r"resource nope not found in component version a\.io/root"
    ):
        graph.for_resource("nope")
    assert graph.resource_at("y/res") == (y, y.resources[0])
    # Like the Go tool, a path takes the first component of each reference: d 1, without res.
    with pytest.raises(GraphError, match=r"resource res not found in component version a\.io/d:1"):
        graph.resource_at("y/dup/res")


def _found(credentials: Credentials | None) -> Credentials:
    assert credentials is not None
    return credentials


def test_credentials_docker_config_and_ocm_consumers():
    docker = json.dumps(
        {
            "auths": {
                "https://ghcr.io": {"auth": base64.b64encode(b"user:s3cr3t-value").decode()},
                "registry.example:5000": {"identitytoken": "tok"},
            }
        }
    )
    ocm = """
type: generic.config.ocm.software/v1
configurations:
  - type: credentials.config.ocm.software
    consumers:
      - identity: {type: OCIRegistry, hostname: ghcr.io}
        credentials: [{type: Credentials, properties: {username: any, password: a}}]
      - identity: {type: OCIRegistry, hostname: ghcr.io, pathprefix: openmcp-project}
        credentials: [{type: Credentials, properties: {username: org, password: b}}]
      - identity: {type: OCIRegistry, hostname: ghcr.io, pathprefix: openmcp-project/components}
        credentials: [{type: Credentials, properties: {username: comp, password: c}}]
      - identity: {type: OCIRegistry, hostname: other.io, port: "443"}
        credentials: [{type: Credentials, properties: {username: o, password: d}}]
"""
    store = CredentialStore.from_texts(docker, ocm)
    path = "openmcp-project/components/component-descriptors/x"
    assert _found(store.lookup("ghcr.io", path)).username == "comp"
    assert _found(store.lookup("ghcr.io", "openmcp-project/images/y")).username == "org"
    assert _found(store.lookup("ghcr.io", "openmcp-projectX/y")).username == "any"
    assert _found(store.lookup("other.io:443", "p")).username == "o"
    assert store.lookup("other.io:8443", "p") is None
    only_docker = CredentialStore.from_texts(docker, None)
    assert only_docker.lookup("ghcr.io", path) == Credentials("user", "s3cr3t-value")
    assert _found(only_docker.lookup("registry.example:5000")).identity_token == "tok"
    assert "s3cr3t-value" not in repr(only_docker.lookup("ghcr.io"))


def tar_of(*members: tuple[str, bytes | None, str]) -> bytes:
    """A tar with (name, content or None for a link, link target) members."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data, target in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.linkname = tarfile.SYMTYPE, target
                archive.addfile(info)
            else:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_read_tar_gives_the_files_by_clean_path():
    data = tar_of(("./templates/a.yaml", b"a", ""), ("b.yaml", b"b", ""))
    assert read_tar(data) == {"templates/a.yaml": b"a", "b.yaml": b"b"}


@pytest.mark.parametrize(
    "member",
    [("../escape.yaml", b"x", ""), ("/abs.yaml", b"x", ""), ("link", None, "a.yaml")],
)
def test_read_tar_refuses_escapes_and_links(member):
    with pytest.raises(UnsafeArchive):
        read_tar(tar_of(member))


def test_a_reference_chain_deeper_than_the_recursion_limit_is_searched_without_recursion():
    chain = [_cv(f"a.io/c{i}", "1", ((f"r{i + 1}", f"a.io/c{i + 1}", "1"),)) for i in range(1200)]
    last = _cv("a.io/c1200", "1", resources=("deep",))
    graph = ComponentGraph(chain[0], {cv.key: cv for cv in [*chain, last]})
    assert graph.for_resource("deep") == [last]
    assert graph.by_reference("r1200") == [last]
    with pytest.raises(GraphError, match="resource nope not found"):
        graph.for_resource("nope")


def test_shared_references_are_searched_once_not_once_per_path():
    # 60 levels of two references each to the next level: 2**60 paths, 61 component versions
    levels = [
        _cv(f"a.io/l{i}", "1", ((f"x{i}", f"a.io/l{i + 1}", "1"), (f"y{i}", f"a.io/l{i + 1}", "1")))
        for i in range(60)
    ]
    graph = ComponentGraph(levels[0], {cv.key: cv for cv in [*levels, _cv("a.io/l60", "1")]})
    with pytest.raises(GraphError, match="component reference nope not found"):
        graph.by_reference("nope")
    assert [cv.name for cv in graph.by_reference("y59")] == ["a.io/l60"]


def test_the_go_tool_s_ocm_configs_one_read_and_one_refused_as_it_refuses_it():
    from pathlib import Path

    from bot.ocm.credentials import CredentialsError, CredentialStore

    case = Path(__file__).parents[1] / "fixtures" / "bootstrapper" / "ocm-config-01"
    store = CredentialStore.from_texts(None, (case / "ocm-config.yaml").read_text())
    found = store.lookup("ghcr.io", "openmcp-project/components")
    assert found is not None and found.username == "some-user"
    assert store.lookup("ghcr.io", "other/path") is None
    with pytest.raises(CredentialsError) as err:
        CredentialStore.from_texts(None, (case / "unsupported-ocm-config.yaml").read_text())
    assert str(err.value).startswith(
        "invalid OCM configuration: unsupported repository type: DockerConfig/v1; "
    )
