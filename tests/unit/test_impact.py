"""What an upgrade changes: components, images, CRDs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.core.impact import (
    Change,
    Impact,
    impact_markdown,
    release_notes,
    root_change,
    upgrade_impact,
)
from bot.ocm.graph import ComponentGraph
from tests.reference_case import ROOT_COMPONENT, constructor_graph, release_constructor

PROVIDER = "github.com/openmcp-project/service-provider-test"


def crd(name: str, *served: str) -> dict[str, Any]:
    versions = [{"name": v, "served": True} for v in served] + [{"name": "v0", "served": False}]
    return {
        "kind": "CustomResourceDefinition",
        "metadata": {"name": name},
        "spec": {"versions": versions},
    }


def test_the_impact_lists_exactly_what_changed(tmp_path: Path):
    before, _ = constructor_graph("registry.test/openmcp")
    newer = release_constructor(
        tmp_path / "v0.0.2.yaml",
        root_version="v0.0.2",
        bump={PROVIDER: "v0.3.0"},
        images={
            (ROOT_COMPONENT, "fluxcd-source-controller"): "ghcr.io/fluxcd/source-controller:v1.7.0"
        },
    )
    after, _ = constructor_graph("registry.test/openmcp", newer)
    old_objects = [
        crd("gitrepositories.source.toolkit.fluxcd.io", "v1"),
        crd("gone.example.io", "v1"),
    ]
    new_objects: list[dict[str, Any]] = [
        crd("gitrepositories.source.toolkit.fluxcd.io", "v1", "v2"),
        crd("added.example.io", "v1alpha1"),
        {"kind": "Namespace", "metadata": {"name": "flux-system"}},
    ]
    impact = upgrade_impact(before, after, old_objects, new_objects)

    assert impact.root == Change(ROOT_COMPONENT, "v0.0.1", "v0.0.2")
    assert impact.components == (Change(PROVIDER, "v0.2.0", "v0.3.0"),)
    assert impact.images == (
        Change(
            "fluxcd-source-controller",
            "ghcr.io/fluxcd/source-controller:v1.6.2",
            "ghcr.io/fluxcd/source-controller:v1.7.0",
            ROOT_COMPONENT,
        ),
    )
    assert impact.crds == (
        Change("added.example.io", None, "v1alpha1"),
        Change("gitrepositories.source.toolkit.fluxcd.io", "v1", "v1, v2"),
        Change("gone.example.io", "v1", None),
    )
    text = impact_markdown(impact)
    notes = "https://github.com/openmcp-project"
    assert root_change(impact) == f"`v0.0.1` → [`v0.0.2`]({notes}/openmcp/releases/tag/v0.0.2)"
    provider_notes = f"{notes}/service-provider-test/releases/tag/v0.3.0"
    assert f"| `{PROVIDER}` | `v0.2.0` | [`v0.3.0`]({provider_notes}) |" in text
    assert "| `added.example.io` | — (added) | v1alpha1 |" in text
    assert "| `gone.example.io` | v1 | — (removed) |" in text


def test_an_unchanged_release_and_a_downgrade():
    graph, _ = constructor_graph("registry.test/openmcp")
    same = upgrade_impact(graph, graph, [], [])
    assert (same.components, same.images, same.crds) == ((), (), ())
    assert "No referenced component changes version." in impact_markdown(same)


def test_release_notes_link_only_github_paths_with_plain_names():
    assert (
        release_notes("github.com/o/r/sub", "v1.2.3")
        == "https://github.com/o/r/releases/tag/v1.2.3"
    )
    assert release_notes("example.com/o/r", "v1") is None
    assert release_notes("github.com/o", "v1") is None
    assert release_notes("github.com/o/r", None) is None
    assert release_notes("github.com/o/r)[x](y", "v1") is None
    assert release_notes("github.com/o/r", "v1) <b>") is None


def test_an_image_row_names_the_image_once_and_shows_the_tag_change():
    graph, _ = constructor_graph("registry.test/openmcp")
    moved = Change("img", "ghcr.io/a/op:v1", "ghcr.io/a/op:v2", "github.com/a/op")
    changed = same_release(graph, images=(moved,))
    text = impact_markdown(changed)
    assert "| `github.com/a/op` | `img` | `ghcr.io/a/op` | `v1` | `v2` |" in text
    digest = Change("img", "ghcr.io/a/op:v1", "ghcr.io/a/op@sha256:" + "ab" * 32, "c")
    assert "| `ghcr.io/a/op` | `v1` | `abababababab` |" in impact_markdown(
        same_release(graph, images=(digest,))
    )
    elsewhere = Change("img", "ghcr.io/a/op:v1", "quay.io/a/op:v1", "c")
    assert "| `(moved)` | `ghcr.io/a/op:v1` | `quay.io/a/op:v1` |" in impact_markdown(
        same_release(graph, images=(elsewhere,))
    )


def same_release(graph: ComponentGraph, images: tuple[Change, ...]) -> Impact:
    return Impact(Change(ROOT_COMPONENT, "v0.0.1", "v0.0.2"), (), images, ())


def test_the_external_secrets_operator_s_chart_and_image_changes_are_rows():
    from tests.unit.test_eso import graph, release

    impact = upgrade_impact(graph(release(1)), graph(release(2)), [], [])
    text = impact_markdown(impact)
    digest = "abcdef123456"
    for resource, name in [
        ("external-secrets-operator-chart", "ghcr.io/charts/external-secrets-operator"),
        ("external-secrets-operator-image", "ghcr.io/images/external-secrets-operator"),
    ]:
        assert (
            f"| `github.com/openmcp-project/openmcp` | `{resource}` | `{name}` | "
            f"`external-secrets-v1.0.0@{digest}` | `external-secrets-v2.0.0@{digest}` |"
        ) in text
