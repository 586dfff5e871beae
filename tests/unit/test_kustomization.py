"""The resources/openmcp/kustomization.yaml round trip, as the Go tool does it (§4.9)."""

from __future__ import annotations

import textwrap

import pytest

from bot.core.kustomization import KustomizationError, rewrite_resources


def rewrite(text: str, *resources: str) -> tuple[str, list[str]]:
    out, warnings = rewrite_resources(textwrap.dedent(text), list(resources), file="k.yaml")
    return out, [str(w) for w in warnings]


def test_comments_leading_dashes_and_indentation_go_keys_are_sorted():
    out, warnings = rewrite(
        """\
        ---
        # the openmcp resources
        resources:
          - rbac.yaml   # first
          - namespace.yaml
        kind: Kustomization
        apiVersion: kustomize.config.k8s.io/v1beta1
        """,
        "crds/a.yaml",
    )
    assert out == textwrap.dedent("""\
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
        - rbac.yaml
        - namespace.yaml
        - crds/a.yaml
        """)
    assert warnings == []


def test_empty_fields_are_omitted_but_a_present_target_and_replica_count_stay():
    out, _ = rewrite("""\
        namePrefix: ""
        patches:
          - path: p.yaml
            target: {}
            options: {allowNameChange: false}
        replicas:
          - name: web
            count: 0
        images: []
        generatorOptions: {disableNameSuffixHash: false}
        """)
    assert out == textwrap.dedent("""\
        generatorOptions: {}
        patches:
        - options:
            allowNameChange: false
          path: p.yaml
          target: {}
        replicas:
        - count: 0
          name: web
        """)


def test_field_names_match_without_case_and_unknown_keys_vanish_with_a_warning():
    out, warnings = rewrite("""\
        Resources: [a.yaml]
        namesuffix: -x
        helmz: 1
        """)
    assert out == "nameSuffix: -x\nresources:\n- a.yaml\n"
    assert any("k.yaml:3:1: warning: helmz: unknown field" in w for w in warnings)
    assert any("namesuffix" in w and "matches field names" in w for w in warnings)


def test_scalars_become_strings_and_multiline_patches_become_blocks():
    out, _ = rewrite("""\
        commonLabels: {enabled: yes, replicas: 3}
        patches:
          - patch: "line one\\nline two\\n"
        """)
    assert out == textwrap.dedent("""\
        commonLabels:
          enabled: "true"
          replicas: "3"
        patches:
        - patch: |
            line one
            line two
        """)


def test_a_wrong_shape_is_a_located_error():
    with pytest.raises(KustomizationError) as caught:
        rewrite("resources:\n  - a\npatches: nope\n")
    assert str(caught.value).startswith(
        "k.yaml:3:10: error: patches: expected a list of maps with "
    )
    assert str(caught.value).endswith(", got a string")


def test_invalid_yaml_is_a_located_error():
    with pytest.raises(KustomizationError, match=r"k.yaml:\d+:\d+: error: error converting YAML"):
        rewrite("resources:\n  - [a\n")
