"""The engine renders openmcp-bootstrapper's test case 01 exactly as the Go tool did.

Every file of `expected-repo` that is a rendered template is compared byte for byte: the fluxcd
and openmcp template resources, the extra manifest (which uses the OCM functions), the user
kustomization patches and the three provider templates. The template input is the one
bootstrapper.md §4.4 describes, as the renderer builds it from the test case's config and
component graph (tests/unit/test_render.py checks the renderer's whole result).
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.config import load_bootstrap_config
from bot.core.ocm_functions import OcmFunctions
from bot.core.render import template_values
from bot.gotemplate import render, render_bootstrapper_file
from tests.reference_case import CASE, EXPECTED, config_text, constructor_graph

PROVIDER_TEMPLATES = CASE.parent / "provider-templates"


# --- the template input of bootstrapper.md §4.4 -------------------------------------------------

# The Go test replaces the archive path with this placeholder before comparing.
REPOSITORY = "{{OCM_REPO_URL}}"


@pytest.fixture(scope="module")
def ocm() -> OcmFunctions:
    graph, _ = constructor_graph(REPOSITORY)
    return OcmFunctions(graph, REPOSITORY)


@pytest.fixture(scope="module")
def values(ocm: OcmFunctions) -> dict[str, Any]:
    config = load_bootstrap_config(config_text("r//c:v1", '"{{GIT_REPO_URL}}"')).config
    patches = (CASE / "patches" / "patches.yaml").read_text()
    return template_values(config, ocm.graph, patches, ocm)


# --- the files ------------------------------------------------------------------------------------

TEMPLATED = {  # template resource path -> path in the expected repository
    "fluxcd/templates/overlays/flux-kustomization.yaml": "envs/dev/fluxcd/flux-kustomization.yaml",
    "fluxcd/templates/overlays/gitrepo.yaml": "envs/dev/fluxcd/gitrepo.yaml",
    "fluxcd/templates/overlays/kustomization.yaml": "envs/dev/fluxcd/kustomization.yaml",
    "fluxcd/templates/resources/components.yaml": "resources/fluxcd/components.yaml",
    "fluxcd/templates/resources/flux-kustomization.yaml": (
        "resources/fluxcd/flux-kustomization.yaml"
    ),
    "fluxcd/templates/resources/gitrepo.yaml": "resources/fluxcd/gitrepo.yaml",
    "fluxcd/templates/resources/kustomization.yaml": "resources/fluxcd/kustomization.yaml",
    "openmcp/templates/overlays/kustomization.yaml": "envs/dev/openmcp/kustomization.yaml",
    "openmcp/templates/overlays/config/openmcp-operator-config.yaml": (
        "envs/dev/openmcp/config/openmcp-operator-config.yaml"
    ),
    "openmcp/templates/resources/deployment.yaml": "resources/openmcp/deployment.yaml",
    "openmcp/templates/resources/namespace.yaml": "resources/openmcp/namespace.yaml",
    "openmcp/templates/resources/rbac.yaml": "resources/openmcp/rbac.yaml",
}


@pytest.mark.parametrize(("template", "expected"), sorted(TEMPLATED.items()))
def test_gitops_template_renders_as_the_go_tool_did(template, expected, values, ocm):
    source = (CASE / "templates" / template).read_text()
    output = render_bootstrapper_file(source, {"Values": values}, name=template, funcs=ocm.table())
    assert output == (EXPECTED / expected).read_text()


def test_extra_manifest_with_ocm_functions_renders_as_the_go_tool_did(values, ocm):
    source = (CASE / "extra-manifests" / "test-configmap.yaml").read_text()
    output = render_bootstrapper_file(
        source, {"Values": values}, name="extra/test-configmap.yaml", funcs=ocm.table()
    )
    assert output == (EXPECTED / "resources/openmcp/extra/test-configmap.yaml").read_text()


@pytest.mark.parametrize(
    ("kind", "folder", "reference"),
    [
        ("clusterProvider", "cluster-providers", "cluster-provider-test"),
        ("serviceProvider", "service-providers", "service-provider-test"),
        ("platformService", "platform-services", "platform-service-test"),
    ],
)
def test_provider_template_renders_as_the_go_tool_did(kind, folder, reference, ocm):
    config = load_bootstrap_config(config_text("r//c:v1")).config
    providers = {
        "clusterProvider": config.providers.cluster_providers,
        "serviceProvider": config.providers.service_providers,
        "platformService": config.providers.platform_services,
    }[kind]
    cv = ocm.graph.by_reference(reference)[0]
    image_resource = cv.resources_of_type("ociImage")[0]
    data = {
        "values": {
            "name": providers[0].name,
            "image": {
                "location": image_resource.access["imageReference"],
                "imagePullSecrets": list(config.image_pull_secrets),
            },
            "config": providers[0].config,
        }
    }
    source = (PROVIDER_TEMPLATES / f"{kind}.yaml").read_text()
    output = render(source, data, name=kind, missingkey="error")
    assert output == (EXPECTED / f"resources/openmcp/{folder}/test.yaml").read_text()
