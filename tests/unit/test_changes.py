"""The change summary between two renders: files, objects, destructive deletions."""

from __future__ import annotations

from bot.core.changes import (
    ChangeSummary,
    ObjectKey,
    changed_fields,
    summarize_changes,
    summary_markdown,
    summary_text,
    unified_diff,
)


def obj(
    kind: str, name: str, namespace: str = "", api: str = "v1", **spec: object
) -> dict[str, object]:
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": api, "kind": kind, "metadata": metadata, "spec": spec}


OLD_FILES = {"a.yaml": b"a: 1\n", "b.yaml": b"b: 1\n", "gone.yaml": b"x\n"}
NEW_FILES = {"a.yaml": b"a: 1\n", "b.yaml": b"b: 2\n", "new.yaml": b"y\n"}
OLD_OBJECTS = [
    obj("Deployment", "op", "openmcp-system", "apps/v1", image="op:v1", replicas=1),
    obj("CustomResourceDefinition", "things.openmcp.cloud", api="apiextensions.k8s.io/v1"),
    obj("Namespace", "old-team"),
    obj("ConfigMap", "same", "default"),
]
NEW_OBJECTS = [
    obj("Deployment", "op", "openmcp-system", "apps/v1", image="op:v2", replicas=1),
    obj("ConfigMap", "same", "default"),
    obj("ClusterProvider", "gardener", api="openmcp.cloud/v1alpha1"),
]


def summary() -> ChangeSummary:
    return summarize_changes(OLD_FILES, NEW_FILES, OLD_OBJECTS, NEW_OBJECTS)


def test_files_and_objects_are_classified():
    s = summary()
    assert (s.files_added, s.files_changed, s.files_removed) == (
        ("new.yaml",),
        ("b.yaml",),
        ("gone.yaml",),
    )
    assert [str(c.key) for c in s.objects_added] == [
        "ClusterProvider gardener (openmcp.cloud/v1alpha1)"
    ]
    assert [(str(c.key), c.fields) for c in s.objects_changed] == [
        ("Deployment openmcp-system/op (apps/v1)", ("spec.image",))
    ]
    assert [c.key.kind for c in s.objects_removed] == ["CustomResourceDefinition", "Namespace"]
    assert s.destructive == (
        ObjectKey(
            "CustomResourceDefinition",
            "",
            "things.openmcp.cloud",
            "apiextensions.k8s.io/v1",
        ),
        ObjectKey("Namespace", "", "old-team", "v1"),
    )
    assert s.headline() == (
        "Files: 1 added, 1 changed, 1 removed. Objects: 1 added, 1 changed, 2 removed."
    )


def test_same_content_is_up_to_date():
    s = summarize_changes(OLD_FILES, dict(OLD_FILES), OLD_OBJECTS, list(OLD_OBJECTS))
    assert not s.files_differ and s.destructive == ()
    assert summary_text(s) == "The rendered manifests are up to date.\n"
    assert summary_markdown(s) == "**The rendered manifests are up to date.**\n"


def test_text_form_marks_each_line_and_flags_destructive_removals():
    text = summary_text(summary())
    assert "  + new.yaml\n  ~ b.yaml\n  - gone.yaml\n" in text
    assert "  ~ Deployment openmcp-system/op (apps/v1): spec.image\n" in text
    assert "  - Namespace old-team (v1)  DESTRUCTIVE\n" in text
    crd = "CustomResourceDefinition things.openmcp.cloud (apiextensions.k8s.io/v1)"
    assert f"  - {crd}  DESTRUCTIVE" in text


def test_markdown_form_has_a_caution_a_table_and_the_files_folded():
    md = summary_markdown(summary())
    assert md.startswith("**Files: 1 added, 1 changed, 1 removed.")
    assert "> [!CAUTION]\n> Destructive: merging removes CustomResourceDefinition " in md
    assert "| changed | Deployment `openmcp-system/op` <sub>apps/v1</sub> | `spec.image` |" in md
    assert "| removed | Namespace `old-team` <sub>v1</sub> | **destructive** |" in md
    assert "<details><summary>3 files</summary>" in md and "| removed | `gone.yaml` |" in md


def test_markdown_escapes_pipes_and_backticks_in_names():
    s = summarize_changes({}, {"a|b`c.yaml": b"x"}, [], [])
    assert "| added | `` a\\|b`c.yaml `` |" in summary_markdown(s)


def test_unknown_old_objects_are_said_so_and_nothing_is_called_added():
    s = summarize_changes(OLD_FILES, NEW_FILES, None, NEW_OBJECTS, objects_unknown="it broke")
    assert s.objects_added == () and s.objects_removed == ()
    assert s.headline().endswith("Objects: the current tree does not build.")
    assert "unknown before the change (it broke)" in summary_text(s)


def test_changed_fields_go_as_deep_as_both_sides_are_mappings():
    old = {"spec": {"a": 1, "b": {"c": [1]}, "gone": 1}}
    new = {"spec": {"a": 2, "b": {"c": [2]}, "added": 1}}
    assert changed_fields(old, new) == ["spec.a", "spec.added", "spec.b.c", "spec.gone"]


def test_unified_diff_names_added_and_removed_files():
    diff = unified_diff(OLD_FILES, NEW_FILES)
    assert "--- a/b.yaml\n+++ b/b.yaml\n" in diff and "-b: 1\n+b: 2\n" in diff
    assert "--- /dev/null\n+++ b/new.yaml\n" in diff
    assert "--- a/gone.yaml\n+++ /dev/null\n" in diff
    assert "a/a.yaml" not in diff


def test_unified_diff_of_binary_and_unterminated_files():
    diff = unified_diff({"bin": b"\xff"}, {"bin": b"\xfe", "t": b"no newline"})
    assert "Binary file bin differs\n" in diff
    assert "+no newline\n\\ No newline at end of file\n" in diff
