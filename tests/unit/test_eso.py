"""The External Secrets Operator's objects: the Go tool's deploy-eso test case (v1.0.0, then the
update to v2.0.0) with its field values, and each deliberate fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.config import BootstrapConfig, ConfigError, load_bootstrap_config
from bot.core.eso import EsoError, chart_revision, eso_objects, wants_eso
from bot.ocm.graph import ComponentGraph
from bot.ocm.model import ComponentVersion, Reference, parse_descriptor

CASE = Path(__file__).parents[1] / "fixtures" / "bootstrapper" / "deploy-eso-01"
DIGEST = "sha256:abcdef1234567890abcdef1234567890abcdef1234567890abcdef1234567890"
BASE = """\
component:
  location: ghcr.io/openmcp-project/components//github.com/openmcp-project/openmcp:v1.0.0
environment: dev
repository:
  url: https://github.com/example-org/landscape-dev.git
  pushBranch: main
openmcpOperator:
  config: {}
"""
SECRETS = """\
externalSecrets:
  repositorySecretRef:
    name: ghcr-pull
  imagePullSecrets:
    - name: pull-a
    - name: pull-b
"""


def config(text: str = BASE + SECRETS) -> BootstrapConfig:
    return load_bootstrap_config(text).config


def release(number: int) -> ComponentVersion:
    """The Go tool's test component version (its files lack the descriptor's `meta`)."""
    text = (CASE / f"component_{number}.yaml").read_text()
    return parse_descriptor("meta:\n  schemaVersion: v2\n" + text)


def graph(*versions: ComponentVersion) -> ComponentGraph:
    return ComponentGraph(versions[0], {v.key: v for v in versions})


@pytest.mark.parametrize("number", [1, 2])
def test_the_go_tool_s_case_with_its_field_values(number: int):
    tag = f"external-secrets-v{number}.0.0"
    source, helm = eso_objects(config(), graph(release(number)))
    assert source == {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "OCIRepository",
        "metadata": {"name": "external-secrets-chart", "namespace": "flux-system"},
        "spec": {
            "url": "oci://ghcr.io/charts/external-secrets-operator",
            "ref": {"tag": tag, "digest": DIGEST},
            "interval": "0s",
            "timeout": "1m0s",
            "secretRef": {"name": "ghcr-pull"},
        },
    }
    pinned = {"repository": "ghcr.io/images/external-secrets-operator", "tag": f"{tag}@{DIGEST}"}
    pulls = [{"name": "pull-a"}, {"name": "pull-b"}]
    assert helm == {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "external-secrets-operator", "namespace": "flux-system"},
        "spec": {
            "chartRef": {
                "kind": "OCIRepository",
                "name": "external-secrets-chart",
                "namespace": "flux-system",
            },
            "interval": "0s",
            "releaseName": "eso",
            "targetNamespace": "external-secrets",
            "install": {"createNamespace": True},
            "values": {
                "image": pinned,
                "imagePullSecrets": pulls,
                "webhook": {"image": pinned, "imagePullSecrets": pulls},
                "certController": {"image": pinned, "imagePullSecrets": pulls},
            },
        },
    }
    assert chart_revision([source, helm]) == f"{tag}@{DIGEST}"


def test_without_secrets_there_is_no_secret_ref_and_no_pull_secrets():
    source, helm = eso_objects(config(BASE + "externalSecrets: {}\n"), graph(release(1)))
    assert "secretRef" not in source["spec"]
    values = helm["spec"]["values"]
    assert "imagePullSecrets" not in values and "imagePullSecrets" not in values["webhook"]


def test_who_wants_eso():
    assert wants_eso(config())
    assert wants_eso(config(BASE + "externalSecrets: {}\n"))
    assert not wants_eso(config(BASE))
    assert wants_eso(config(BASE + "bot:\n  eso: true\n"))
    assert not wants_eso(config(BASE + SECRETS + "bot:\n  eso: false\n"))


def test_bot_eso_must_be_a_boolean():
    with pytest.raises(ConfigError) as err:
        load_bootstrap_config(BASE + "bot:\n  eso: yes please\n")
    (problem,) = err.value.errors
    assert 'bot.eso: must be true or false, not the string "yes please"' in str(problem)
    assert (problem.line, problem.column) == (10, 8)


def test_a_registry_port_is_not_a_tag_and_an_untagged_image_is_latest():
    root = release(1)
    resources = tuple(
        r if r.name != "external-secrets-operator-image"
        else type(r)(r.name, r.version, r.type, r.relation, {
            "type": "ociArtifact", "imageReference": "mirror.example:5000/eso/controller",
        })
        for r in root.resources
    )  # fmt: skip
    _, helm = eso_objects(config(), graph(type(root)(root.name, root.version, "p", (), resources)))
    image = helm["spec"]["values"]["image"]
    assert image == {"repository": "mirror.example:5000/eso/controller", "tag": "latest"}


def test_a_local_blob_is_a_failure_naming_the_resource():
    root = release(1)
    resources = tuple(
        type(r)(r.name, r.version, r.type, r.relation, {"type": "localBlob", "localReference": "x"})
        for r in root.resources
    )
    with pytest.raises(EsoError) as err:
        eso_objects(config(), graph(type(root)(root.name, root.version, "p", (), resources)))
    assert str(err.value).startswith(
        "resource external-secrets-operator-chart of github.com/openmcp-project/openmcp:v1.0.0 "
        "has access type localBlob and no image reference"
    )


def test_the_resources_are_found_in_a_reference_and_missing_ones_are_told_as_the_go_tool_does():
    holder = release(1)
    holder = type(holder)("github.com/openmcp-project/eso", "v1.0.0", "p", (), holder.resources)
    root = ComponentVersion(
        "github.com/openmcp-project/openmcp",
        "v9.0.0",
        "p",
        (Reference("eso", "github.com/openmcp-project/eso", "v1.0.0"),),
    )
    source, _ = eso_objects(config(), graph(root, holder))
    assert source["spec"]["ref"]["tag"] == "external-secrets-v1.0.0"

    bare = ComponentVersion(root.name, root.version, "p")
    with pytest.raises(EsoError) as err:
        eso_objects(config(), graph(bare))
    assert str(err.value) == (
        "failed to get external-secrets-operator-image component: resource "
        "external-secrets-operator-image not found in component version "
        "github.com/openmcp-project/openmcp or its references"
    )
    image_only = tuple(r for r in holder.resources if r.name.endswith("-image"))
    lone = type(holder)(holder.name, holder.version, "p", (), image_only)
    with pytest.raises(EsoError) as err:
        eso_objects(config(), graph(lone))
    assert str(err.value) == (
        "failed to get external-secrets-operator-chart resource: resource "
        "external-secrets-operator-chart not found in component version "
        "github.com/openmcp-project/eso"
    )
