"""The pure renderer over the reference test case's graph, held in memory."""

from __future__ import annotations

import textwrap
from dataclasses import replace

import pytest
import yaml

from bot import gotemplate
from bot.core.config import BootstrapConfig, load_bootstrap_config
from bot.core.fileset import FileSet
from bot.core.provider_templates import PROVIDER_KINDS, provider_template
from bot.core.render import (
    NeedsVersionLists,
    RenderError,
    directories_needed,
    landscape_sources,
    render_landscape,
)
from bot.gotemplate import TemplateError
from bot.gotemplate.executor import Budget, Limits
from tests.reference_case import (
    CASE,
    ROOT_COMPONENT,
    config_text,
    constructor_graph,
    expected_tree,
    landscape_tree,
)

REPOSITORY = "/srv/ocm/openmcp-ctf"
LOCATION = f"{REPOSITORY}//{ROOT_COMPONENT}:v0.0.1"
PROVIDER_TEMPLATES = CASE.parent / "provider-templates"


def load(text: str) -> BootstrapConfig:
    return load_bootstrap_config(text).config


@pytest.fixture(scope="module")
def graph_and_directories():
    return constructor_graph(REPOSITORY)


def render(config: BootstrapConfig, graph_and_directories, tree: FileSet | None = None, **kw):
    graph, directories = graph_and_directories
    sources = landscape_sources(tree if tree is not None else landscape_tree(""))
    return render_landscape(
        config, graph, directories, sources.extra_manifests, sources.patches, **kw
    )


def test_reference_case_renders_exactly_the_go_tools_repository(graph_and_directories):
    rendering = render(load(config_text(LOCATION)), graph_and_directories)
    expected = expected_tree(REPOSITORY)
    del expected["dummy.txt"]  # was in the origin already; the render owns only its directories
    assert sorted(rendering.files) == sorted(expected)
    for path, data in expected.items():
        assert rendering.files[path] == data, path
    assert rendering.owned == ("envs/dev", "resources")


def test_rendering_is_deterministic(graph_and_directories):
    config = load(config_text(LOCATION))
    assert render(config, graph_and_directories) == render(config, graph_and_directories)


def test_the_directories_needed_are_the_templates_and_crds(graph_and_directories):
    graph, _ = graph_and_directories
    needed = directories_needed(load(config_text(LOCATION)), graph)
    assert [(d.resource, d.required) for d in needed] == [
        ("fluxcd", True),
        ("openmcp", True),
        ("openmcp-operator-crds", True),
        ("cluster-provider-test-crds", False),
        ("service-provider-test-crds", False),
        ("platform-service-test-crds", False),
    ]


def test_the_embedded_provider_templates_are_the_go_tools(graph_and_directories):
    for kind in PROVIDER_KINDS.values():
        name = kind[0].lower() + kind[1:]
        assert provider_template(kind) == (PROVIDER_TEMPLATES / f"{name}.yaml").read_text()


def test_removing_a_provider_removes_its_file_and_its_kustomization_entry(graph_and_directories):
    config = load(config_text(LOCATION))
    without = replace(config, providers=replace(config.providers, service_providers=()))
    files = render(without, graph_and_directories).files
    assert "resources/openmcp/service-providers/test.yaml" not in files
    resources = yaml.safe_load(files["resources/openmcp/kustomization.yaml"])["resources"]
    assert "service-providers/test.yaml" not in resources
    assert "cluster-providers/test.yaml" in resources


def test_without_image_pull_secrets_no_patch_and_no_secrets(graph_and_directories):
    text = config_text(LOCATION).replace("imagePullSecrets:\n  - imgpull-a\n  - imgpull-b\n", "")
    files = render(load(text), graph_and_directories).files
    kustomization = yaml.safe_load(files["resources/openmcp/kustomization.yaml"])
    assert "patches" not in kustomization
    assert b"imagePullSecrets" not in files["resources/openmcp/cluster-providers/test.yaml"]
    assert b"imagePullSecrets" not in files["resources/fluxcd/kustomization.yaml"]


def test_no_value_in_an_extra_manifest_names_the_users_file_and_line(graph_and_directories):
    tree = landscape_tree("") | {
        ".bootstrap/extra-manifests/broken.yaml": b"a: 1\nb: {{ .Values.user.nothing }}\n"
    }
    with pytest.raises(RenderError) as caught:
        render(load(config_text(LOCATION)), graph_and_directories, tree)
    (problem,) = caught.value.problems
    assert problem.file == ".bootstrap/extra-manifests/broken.yaml"
    assert (problem.line, problem.column) == (2, 7)  # the expression, in the template
    assert problem.message == (
        "`{{.Values.user.nothing}}` gives no value: `templateInput.nothing` is not set in the "
        "bootstrap config"
    )
    assert 'contains fields with "no value"' in problem.detail  # Go's words, once, folded
    assert str(problem).startswith(".bootstrap/extra-manifests/broken.yaml:2:7: error: ")


def test_no_value_of_an_operator_config_key_names_it_and_counts_the_rest(graph_and_directories):
    tree = landscape_tree("") | {
        ".bootstrap/extra-manifests/x.yaml": b"a: {{ .Values.openmcpOperator.config.level }}\n"
        b"b: {{ .Values.nothing }}\n"
    }
    with pytest.raises(RenderError) as caught:
        render(load(config_text(LOCATION)), graph_and_directories, tree)
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (1, 7)
    assert "`openmcpOperator.config.level` is not set in the bootstrap config" in problem.message
    assert "(and 1 more actions in this file)" in problem.message


def test_every_template_error_is_reported_at_once(graph_and_directories):
    tree = landscape_tree("") | {
        ".bootstrap/extra-manifests/a.yaml": b"x: {{ .Values.nope.deeper }}\n",
        ".bootstrap/extra-manifests/b.yaml": b"\n\ny: {{ if }}\n",
    }
    with pytest.raises(RenderError) as caught:
        render(load(config_text(LOCATION)), graph_and_directories, tree)
    located = [(p.file, p.line) for p in caught.value.problems]
    assert located == [
        (".bootstrap/extra-manifests/a.yaml", 1),
        (".bootstrap/extra-manifests/b.yaml", 3),
    ]
    assert "nil pointer evaluating interface {}.deeper" in caught.value.problems[0].message
    assert "missing value for if" in caught.value.problems[1].message


def test_patches_file_without_patches_is_refused(graph_and_directories):
    tree = landscape_tree("") | {".bootstrap/kustomization-patches.yaml": b"patchez: []\n"}
    with pytest.raises(RenderError, match="no patches found in user patches file"):
        render(load(config_text(LOCATION)), graph_and_directories, tree)


def test_an_unknown_provider_names_the_missing_reference(graph_and_directories):
    text = config_text(LOCATION).replace(
        "serviceProviders:\n    - name: test", "serviceProviders:\n    - name: nope"
    )
    with pytest.raises(RenderError) as caught:
        render(load(text), graph_and_directories)
    line = text.splitlines().index("    - name: nope") + 1
    assert str(caught.value) == (
        f".bootstrap/config.yaml:{line}:13: error: service provider `nope` is not in release "
        f"{ROOT_COMPONENT}:v0.0.1; available: `test`"
    )


def test_fluxcd_templates_need_exactly_one_component_per_reference(graph_and_directories):
    text = config_text(LOCATION).replace(
        "component:\n", "component:\n  fluxcdTemplateResourcePath: releasechannel/crossplane/x\n"
    )
    with pytest.raises(
        RenderError, match="expected exactly one component version for reference crossplane, got 2"
    ):
        render(load(text), graph_and_directories)


def test_an_environment_that_leaves_envs_is_refused(graph_and_directories):
    config = replace(load(config_text(LOCATION)), environment="../escape")
    with pytest.raises(RenderError, match="cannot be a directory name under envs/"):
        render(config, graph_and_directories)


def test_only_platform_crds_are_kept_and_a_crd_without_kind_fails(graph_and_directories):
    graph, directories = graph_and_directories
    key = ("github.com/openmcp-project/openmcp-operator", "v0.2.1", "openmcp-operator-crds")
    extra = {
        "zz.platform.yaml": b"kind: CustomResourceDefinition\nmetadata:\n  labels:\n"
        b"    openmcp.cloud/cluster: platform\n",
        "notes.txt": b"kept on disk, never listed",
        "sub/nested.yaml": b"kind: X\n",
    }
    changed = {**directories, key: directories[key] | extra}
    files = render(load(config_text(LOCATION)), (graph, changed)).files
    crds = sorted(p for p in files if p.startswith("resources/openmcp/crds/"))
    assert crds == [
        "resources/openmcp/crds/cluster-provider-test.platform.yaml",
        "resources/openmcp/crds/notes.txt",
        "resources/openmcp/crds/openmcp-operator.platform.yaml",
        "resources/openmcp/crds/sub/nested.yaml",
        "resources/openmcp/crds/zz.platform.yaml",
    ]
    resources = yaml.safe_load(files["resources/openmcp/kustomization.yaml"])["resources"]
    assert [r for r in resources if r.startswith("crds/")] == [
        "crds/cluster-provider-test.platform.yaml",
        "crds/openmcp-operator.platform.yaml",
        "crds/zz.platform.yaml",
    ]
    broken = {**directories, key: directories[key] | {"a.yaml": b"metadata: {}\n"}}
    with pytest.raises(RenderError, match=r"resources/openmcp/crds/a\.yaml: error: Object 'Kind'"):
        render(load(config_text(LOCATION)), (graph, broken))


def test_list_component_versions_asks_for_the_lists_then_uses_them(graph_and_directories):
    tree = landscape_tree("") | {
        ".bootstrap/extra-manifests/versions.yaml": textwrap.dedent("""\
            versions: {{ listComponentVersions (getRootComponentVersion) | join "," }}
        """).encode()
    }
    config = load(config_text(LOCATION))
    with pytest.raises(NeedsVersionLists) as caught:
        render(config, graph_and_directories, tree)
    assert caught.value.components == [ROOT_COMPONENT]
    files = render(
        config, graph_and_directories, tree, version_lists={ROOT_COMPONENT: ["v0.0.1", "v0.0.2"]}
    ).files
    assert files["resources/openmcp/extra/versions.yaml"] == b"versions: v0.0.1,v0.0.2\n"


def test_missing_template_directory_is_reported(graph_and_directories):
    graph, directories = graph_and_directories
    key = ("github.com/openmcp-project/gitops-templates", "v0.1.1", "fluxcd")
    broken = {**directories, key: directories[key].under("templates/resources").moved_to("x")}
    with pytest.raises(RenderError, match=r"resource fluxcd of .* has no directory templates/"):
        render(load(config_text(LOCATION)), (graph, broken))


def test_ocm_lookups_that_fail_return_nil_and_leave_a_note(graph_and_directories):
    tree = landscape_tree("") | {
        ".bootstrap/extra-manifests/lookup.yaml": (
            b'found: {{ if getComponentVersionsByReference "nope" }}yes{{ else }}no{{ end }}\n'
        )
    }
    rendering = render(load(config_text(LOCATION)), graph_and_directories, tree)
    assert rendering.files["resources/openmcp/extra/lookup.yaml"] == b"found: no\n"
    assert any("component reference nope not found" in note for note in rendering.notes)


def test_non_utf8_bytes_pass_through_templating(graph_and_directories):
    tree = landscape_tree("") | {".bootstrap/extra-manifests/blob.bin": b"\xff\xfe{{ 1 }}\x00"}
    files = render(load(config_text(LOCATION)), graph_and_directories, tree).files
    assert files["resources/openmcp/extra/blob.bin"] == b"\xff\xfe1\x00"
    resources = yaml.safe_load(files["resources/openmcp/kustomization.yaml"])["resources"]
    assert "extra/blob.bin" not in resources  # only top-level YAML files are listed


def test_the_templates_of_one_render_spend_one_budget_of_steps(graph_and_directories, monkeypatch):
    small = classmethod(lambda cls: cls(max_steps=5000, budget=Budget()))
    monkeypatch.setattr(Limits, "shared", small)
    loop = b"{{ range until 1500 }}{{ end }}x: 1\n"  # about 1,500 steps; the real files 760
    tree = landscape_tree("") | {".bootstrap/extra-manifests/a.yaml": loop}
    render(load(config_text(LOCATION)), graph_and_directories, tree)  # within the budget
    tree |= {f".bootstrap/extra-manifests/{name}.yaml": loop for name in ("b", "c", "d")}
    with pytest.raises(RenderError) as caught:
        render(load(config_text(LOCATION)), graph_and_directories, tree)
    assert {p.file for p in caught.value.problems} >= {".bootstrap/extra-manifests/d.yaml"}
    assert all("exceeded 5000 steps" in p.message for p in caught.value.problems)


def test_a_budget_is_spent_across_executions():
    limits = Limits(max_steps=100, budget=Budget())
    gotemplate.render("{{ range until 30 }}{{ end }}", {}, limits=limits)
    with pytest.raises(TemplateError, match="exceeded 100 steps"):
        gotemplate.render("{{ range until 80 }}{{ end }}", {}, limits=limits)
    assert gotemplate.render("{{ range until 80 }}{{ end }}", {}) == ""  # its own budget
